"""Stock value, slow movers and expiring print value what is on the shelf *today*: on hand x the
item's current unit cost (the usage reports' definitions are in reports/usage.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Subquery, case, func, select
from sqlalchemy.orm import Session, selectinload

from ..bins.models import Bin
from ..catalog.models import CATEGORIES, CATEGORY_LABELS, Item, Product
from ..pagination import Page
from ..stock import services as stock
from ..stock.models import Movement, StockLevel
from .common import ZERO, page_of

# Stock really going in or out. Moves between bins, adjustments and counts are bookkeeping, not use.
MOVING_KINDS = ("receive", "put_away", "pick", "issue", "return")


@dataclass
class CategoryValue:
    category: str
    items: int = 0
    units: int = 0
    value: Decimal = ZERO

    @property
    def label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)


@dataclass
class StockValue:
    rows: list[CategoryValue]
    total: CategoryValue


def stock_value(session: Session) -> StockValue:
    """Stock on hand now (every bin, DISPATCH included: picked stock is still ours) at current
    unit cost, per category, with a total. Categories without stock are listed at zero."""
    rows = session.execute(
        select(Product.category, Item.unit_cost, func.sum(StockLevel.quantity), func.count(func.distinct(Item.id)))
        .select_from(StockLevel)
        .join(Item, Item.id == StockLevel.item_id)
        .join(Product, Product.id == Item.product_id)
        .where(StockLevel.quantity > 0)
        .group_by(Product.category, Item.unit_cost)
    ).all()
    categories = {category: CategoryValue(category) for category in CATEGORIES}
    total = CategoryValue("total")
    for category, unit_cost, units, items in rows:
        value = int(units) * (unit_cost or ZERO)
        for entry in (categories.setdefault(category, CategoryValue(category)), total):
            entry.items += int(items)
            entry.units += int(units)
            entry.value += value
    return StockValue(list(categories.values()), total)


def _on_hand() -> Subquery:
    return (
        select(StockLevel.item_id.label("item_id"), func.sum(StockLevel.quantity).label("on_hand"))
        .group_by(StockLevel.item_id)
        .having(func.sum(StockLevel.quantity) > 0)
        .subquery()
    )


@dataclass
class Totals:
    items: int = 0
    units: int = 0
    value: Decimal = ZERO


def _totals(session: Session, query: Select[Any]) -> Totals:
    """Items, units and value of (unit_cost, on_hand) rows, summed per unit cost in the database."""
    totals = Totals()
    for unit_cost, units, items in session.execute(query).all():
        totals.items += int(items)
        totals.units += int(units or 0)
        totals.value += int(units or 0) * (unit_cost or ZERO)
    return totals


@dataclass
class SlowMover:
    item: Item
    on_hand: int
    last_moved: datetime | None   # None: never received, picked, issued or returned

    @property
    def value(self) -> Decimal:
        return self.on_hand * (self.item.unit_cost or ZERO)


def slow_movers(session: Session, days: int, today: date, page: int = 1,
                per_page: int | None = 50) -> tuple[Page, Totals]:
    """Items with stock on hand that nothing moved in or out of (received, put away, picked,
    issued, returned) for `days` days, longest still first. Moves between bins, adjustments and
    counts do not count as movement. An item younger than `days` is not slow yet.
    Returns (Page of SlowMover, Totals)."""
    cutoff = datetime.combine(today - timedelta(days=days), time.min)
    on_hand = _on_hand()
    # Each item's last movement, newest first on the index (item_id, created_at): it stops at the
    # first one of a moving kind. Grouping all 200,000 ledger rows by item cost five times more.
    last_at = (select(Movement.created_at)
               .where(Movement.item_id == Item.id, Movement.kind.in_(MOVING_KINDS))
               .order_by(Movement.created_at.desc()).limit(1)
               .correlate(Item).scalar_subquery())
    since = func.coalesce(last_at, Item.created_at)
    condition = since < cutoff

    def joined(query: Select[Any]) -> Select[Any]:
        return query.join(on_hand, on_hand.c.item_id == Item.id).where(condition)

    totals = _totals(session, joined(select(Item.unit_cost, func.sum(on_hand.c.on_hand), func.count(Item.id))
                                     .select_from(Item)).group_by(Item.unit_cost))
    rows = joined(select(Item, on_hand.c.on_hand, last_at).select_from(Item)).options(
        selectinload(Item.product)).order_by(since, Item.sku)
    result = page_of(session, rows, totals.items, page, per_page)
    result.rows = [SlowMover(item, int(quantity), last_at) for item, quantity, last_at in result.rows]
    return result, totals


@dataclass
class Expiring:
    item: Item
    on_hand: int
    held: int = 0
    bins: list[tuple[str, int]] = field(default_factory=list)   # [(bin code, quantity)]

    @property
    def value(self) -> Decimal:
        return self.on_hand * (self.item.unit_cost or ZERO)

    def days_left(self, today: date) -> int:
        """Days from today to its last day of use: 0 on that day, negative once it has passed."""
        assert self.item.do_not_use_after is not None  # expiring() lists only items with that date
        return (self.item.do_not_use_after - today).days


def expiring(session: Session, days: int, today: date, page: int = 1,
             per_page: int | None = 50) -> tuple[Page, Totals, Totals]:
    """Items (print pieces) with stock on hand whose "do not use after" date has passed or falls
    within `days` days, soonest first, with the bins they lie in and what requests still hold of
    them. Returns (Page of Expiring, expired Totals, soon Totals)."""
    on_hand = _on_hand()
    horizon = today + timedelta(days=days)
    conditions = (Item.do_not_use_after.is_not(None), Item.do_not_use_after <= horizon)
    expired_flag = case((Item.do_not_use_after < today, 1), else_=0)
    totals_rows = session.execute(
        select(expired_flag, Item.unit_cost, func.sum(on_hand.c.on_hand), func.count(Item.id))
        .select_from(Item).join(on_hand, on_hand.c.item_id == Item.id).where(*conditions)
        .group_by(expired_flag, Item.unit_cost)
    ).all()
    expired, soon = Totals(), Totals()
    for flag, unit_cost, units, items in totals_rows:
        target = expired if flag else soon
        target.items += int(items)
        target.units += int(units or 0)
        target.value += int(units or 0) * (unit_cost or ZERO)
    rows = (select(Item, on_hand.c.on_hand).select_from(Item).join(on_hand, on_hand.c.item_id == Item.id)
            .where(*conditions).options(selectinload(Item.product)).order_by(Item.do_not_use_after, Item.sku))
    result = page_of(session, rows, expired.items + soon.items, page, per_page)
    result.rows = [Expiring(item, int(quantity)) for item, quantity in result.rows]
    ids = [row.item.id for row in result.rows]
    if ids:
        by_id = {row.item.id: row for row in result.rows}
        for item_id, code, quantity in session.execute(
                select(StockLevel.item_id, Bin.code, StockLevel.quantity).join(Bin, Bin.id == StockLevel.bin_id)
                .where(StockLevel.item_id.in_(ids), StockLevel.quantity > 0).order_by(Bin.code)).all():
            by_id[item_id].bins.append((code, quantity))
        for item_id, availability in stock.availability(session, ids).items():
            by_id[item_id].held = availability.reserved
    return result, expired, soon
