"""What the pages and the API read of the stock: the level of an item in a bin, what a bin
holds, where an item is, and the ledger's recent rows."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..bins.models import Bin
from ..catalog.models import Item, Product
from .models import Movement, StockLevel


def level(session: Session, item: Item, bin: Bin) -> int:
    """Quantity of `item` in `bin` now (0 when the bin never held it)."""
    return session.scalar(
        select(StockLevel.quantity).where(StockLevel.item_id == item.id, StockLevel.bin_id == bin.id)
    ) or 0


def quantities_in_bin(session: Session, bin: Bin, item_ids: Iterable[int]) -> dict[int, int]:
    """{item id: quantity in `bin`} for the items (0 where the bin never held one), in one query."""
    found = dict(session.execute(select(StockLevel.item_id, StockLevel.quantity)
                                 .where(StockLevel.bin_id == bin.id, StockLevel.item_id.in_(item_ids))).tuples().all())
    return {item_id: found.get(item_id, 0) for item_id in item_ids}


def levels_in_bin(session: Session, bin: Bin) -> Sequence[StockLevel]:
    """What a bin holds now, with items and products loaded, in catalog order."""
    return session.scalars(
        select(StockLevel)
        .join(StockLevel.item).join(Item.product)
        .where(StockLevel.bin_id == bin.id, StockLevel.quantity > 0)
        .options(joinedload(StockLevel.item).joinedload(Item.product))
        .order_by(Product.name, Item.size_rank, Item.size, Item.sku)
    ).all()


def levels_of_item(session: Session, item: Item) -> Sequence[StockLevel]:
    """Every bin holding `item` now, by bin code."""
    return session.scalars(
        select(StockLevel)
        .join(StockLevel.bin)
        .where(StockLevel.item_id == item.id, StockLevel.quantity > 0)
        .options(joinedload(StockLevel.bin))
        .order_by(Bin.code)
    ).all()


def history(session: Session, item: Item | None = None, bin: Bin | None = None, limit: int = 20) -> Sequence[Movement]:
    """Recent ledger rows for an item or a bin, newest first, with who/where loaded."""
    query = select(Movement).options(
        joinedload(Movement.user), joinedload(Movement.from_bin), joinedload(Movement.to_bin),
        joinedload(Movement.item).joinedload(Item.product),
    )
    if item is not None:
        query = query.where(Movement.item_id == item.id)
    if bin is not None:
        query = query.where((Movement.from_bin_id == bin.id) | (Movement.to_bin_id == bin.id))
    return session.scalars(query.order_by(Movement.created_at.desc(), Movement.id.desc()).limit(limit)).all()
