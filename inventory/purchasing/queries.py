"""Purchase orders for the pages and the API, with their lines, items and people loaded on purpose."""
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, case, false, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..bins.models import DISPATCH_CODE
from ..catalog.models import Item
from ..errors import NotFound
from ..pagination import Page
from ..stock.models import Movement, StockLevel
from ..stock.queries import levels_of_item
from .models import PO_STATUSES, PurchaseOrder, PurchaseOrderLine
from .services import is_id

OPEN = ("draft", "ordered")
MAX_PAGE = 100_000  # far past any real list; a bigger page number would overflow OFFSET
# Filters of the list: each status, plus "open" (draft and ordered) and "all".
FILTERS = {"open": "Open", **PO_STATUSES, "all": "All"}


def _with_lines(query: Select[tuple[PurchaseOrder]]) -> Select[tuple[PurchaseOrder]]:
    return query.options(
        selectinload(PurchaseOrder.lines).selectinload(PurchaseOrderLine.item).selectinload(Item.product),
        selectinload(PurchaseOrder.created_by),
    )


def get_order(session: Session, order_id: int) -> PurchaseOrder:
    order = session.scalar(_with_lines(select(PurchaseOrder).where(PurchaseOrder.id == order_id))) \
        if is_id(order_id) else None
    if order is None:
        raise NotFound(f"No purchase order #{order_id}.")
    return order


def orders(session: Session, status: str = "all", supplier: str | None = None, page: int = 1,
           per_page: int = 50) -> Page:
    """A page of purchase orders. Open ones come first, ordered ones by expected date (so the
    overdue lead), then drafts, then received and cancelled ones, newest first.
    `status` is one of PO_STATUSES, "open" or "all"; `supplier` matches whole, in any case."""
    page = min(max(1, page), MAX_PAGE)
    conditions: list[ColumnElement[bool]] = []
    if status == "open":
        conditions.append(PurchaseOrder.status.in_(OPEN))
    elif status in PO_STATUSES:
        conditions.append(PurchaseOrder.status == status)
    if supplier:  # PostgreSQL cannot compare text holding NUL: such a name matches nothing
        conditions.append(func.lower(PurchaseOrder.supplier) == supplier.strip().lower()
                          if "\x00" not in supplier else false())
    bucket = case((PurchaseOrder.status == "ordered", 0), (PurchaseOrder.status == "draft", 1), else_=2)
    # Only ordered POs sort by date (all of them have one); the others by id, newest first.
    expected = case((PurchaseOrder.status == "ordered", PurchaseOrder.expected_on), else_=None)
    total = session.execute(select(func.count(PurchaseOrder.id)).where(*conditions)).scalar_one()
    rows = session.scalars(
        _with_lines(select(PurchaseOrder).where(*conditions))
        .order_by(bucket, expected, PurchaseOrder.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(rows, page, per_page, total)


def receipts(session: Session, order: PurchaseOrder) -> Sequence[Movement]:
    """The ledger rows that received stock for this order, oldest first."""
    item_ids = [line.item_id for line in order.lines]
    if not item_ids:
        return []
    return session.scalars(
        select(Movement)
        .where(Movement.kind == "receive", Movement.reference == order.number, Movement.item_id.in_(item_ids))
        .options(joinedload(Movement.user), joinedload(Movement.to_bin),
                 joinedload(Movement.item).joinedload(Item.product))
        .order_by(Movement.created_at, Movement.id)
    ).all()


def receipt(session: Session, order: PurchaseOrder, movement_id: int) -> Movement:
    """One receipt of this order (404 for any other ledger row)."""
    movement = session.get(Movement, movement_id) if is_id(movement_id) else None
    if movement is None or movement.kind != "receive" or movement.reference != order.number:
        raise NotFound(f"{order.number} has no receipt #{movement_id}.")
    return movement


def usual_bins(session: Session, item: Item, limit: int = 4) -> list[StockLevel]:
    """Where the item is kept now, fullest bin first: the likely places to put a delivery."""
    levels = [level for level in levels_of_item(session, item)
              if level.bin.code != DISPATCH_CODE and not level.bin.archived]
    return sorted(levels, key=lambda level: (-level.quantity, level.bin.code))[:limit]


def suppliers(session: Session) -> list[str]:
    """Supplier names known from the catalog and from earlier orders, for the supplier box."""
    names = set(session.scalars(select(Item.supplier).where(Item.archived.is_(False), Item.supplier != "")))
    names |= set(session.scalars(select(PurchaseOrder.supplier).distinct()))
    return sorted(names, key=str.lower)
