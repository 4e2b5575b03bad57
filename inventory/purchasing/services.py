"""Purchase order rules: raise a draft, edit it, mark it ordered, reschedule, cancel, receive.

A purchase order goes draft → ordered → received, or is cancelled before anything arrives.
Receiving is the rule that touches stock: in one transaction it writes the ledger row, updates
the bin's stock level and the PO line, and hands the new units to backorders first (oldest
request first). A line is never received past what was ordered: a bigger delivery is refused
with the number still to come, so the PO keeps saying what the supplier owes. Receiving only
ever adds stock, so no stock level can go negative.

Every status change appends a dated line to the order's note saying who did it (and why, for a
cancellation or a new date); receipts are in the ledger under the PO's number.
"""
from __future__ import annotations

from collections.abc import Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.models import User
from ..auth.roles import MANAGERS
from ..bins.models import Bin
from ..catalog.models import Item
from ..catalog.services import get_item
from ..database import unit_of_work
from ..forecast.changes import items_changed
from ..errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from ..events.models import Event
from ..holds.locks import lock_items
from ..requests.models import OPEN, Request, RequestLine
from ..holds.backorders import fill_backorders
from ..stock import booking
from ..stock import queries as stock_queries
from ..stock.models import Movement
from ..limits import MAX_LINES, check_line_count, positive_quantity  # noqa: F401 (MAX_LINES: the pages read it here)
from ..limits import MAX_UNIT_COST
from ..text import is_whole_number
from ..timeutil import add_days, utcnow
from .models import PurchaseOrder, PurchaseOrderLine

MAX_SUPPLIER_LENGTH = 120  # PurchaseOrder.supplier is VARCHAR(120)
MAX_NOTE_LENGTH = 2000
MAX_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL: a bigger number names nothing


def is_id(value: object) -> bool:
    """True for a whole number that can be a row's id (so a lookup cannot overflow the column)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


@dataclass(frozen=True)
class FilledBackorder:
    request_id: int
    request_number: str
    quantity: int


@dataclass
class Receipt:
    """What one receipt did: the ledger row, the bin's new quantity, the backorders it filled."""

    order: PurchaseOrder
    line: PurchaseOrderLine
    bin: Bin
    quantity: int
    movement: Movement
    bin_quantity: int
    backorders_filled: list[FilledBackorder] = field(default_factory=list)


# Checking input ---------------------------------------------------------------------------------

def _text(value: str | None, what: str, limit: int) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise InvalidInput(f"{what} must not contain NUL characters.")
    if len(value) > limit:
        raise InvalidInput(f"{what} can be at most {limit:,} characters.")
    return value


def _unit_cost(value: object, item: Item) -> Decimal:
    """The cost per unit: the item's own unit cost when none is given. Refuses fractions of a
    cent rather than round them away: the PO keeps costs to the cent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return item.unit_cost if item.unit_cost is not None else Decimal("0")
    if isinstance(value, bool):
        raise InvalidInput(f"Unit cost of {item.sku} must be a number, like 0.85.")
    try:
        cost = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"Unit cost of {item.sku} must be a number, like 0.85.") from None
    if not cost.is_finite():
        raise InvalidInput(f"Unit cost of {item.sku} must be a number, like 0.85.")
    if cost < 0:
        raise InvalidInput(f"Unit cost of {item.sku} cannot be negative.")
    if cost > MAX_UNIT_COST:
        raise InvalidInput(f"Unit cost of {item.sku} must be at most {MAX_UNIT_COST:,}.")
    if cost != cost.quantize(Decimal("0.01")):
        raise InvalidInput(f"Unit cost of {item.sku} can have at most 2 decimals (cents).")
    return cost.quantize(Decimal("0.01"))


def _clean_lines(session: Session, lines: Iterable[tuple[Any, ...]] | None) -> list[tuple[Item, int, Decimal]]:
    """[(sku, quantity, unit_cost or None)] -> [(Item, quantity, Decimal)], each SKU once, none
    archived. Unknown SKUs raise UnknownItem (404)."""
    lines = list(lines or [])
    if not lines:
        raise InvalidInput("Add at least one line: an item and how many to order.")
    check_line_count(lines, "A purchase order")
    cleaned: list[tuple[Item, int, Decimal]] = []
    seen: set[int] = set()
    for index, line in enumerate(lines):
        sku, quantity, *rest = line
        # A refusal says which line and box it is about ((index, "sku")), so a page shows it there.
        with _about(index, "sku"):
            item = get_item(session, sku)
            if item.id in seen:
                raise InvalidInput(f"{item.sku} is on the order twice; put the whole quantity on one line.")
            seen.add(item.id)
            if item.archived:
                raise InvalidInput(f"{item.sku} is archived and cannot be ordered; restore it first.")
        with _about(index, "quantity"):
            quantity = positive_quantity(quantity, f"Quantity of {item.sku}")
        with _about(index, "unit_cost"):
            cost = _unit_cost(rest[0] if rest else None, item)
        cleaned.append((item, quantity, cost))
    return cleaned


@contextmanager
def _about(index: int | None, name: str) -> Iterator[None]:
    try:
        yield
    except DomainError as error:
        if error.about is None:
            error.about = (index, name)
        raise


def supplier_of(items: Iterable[Item]) -> str:
    """The supplier the items share, or "" when they have none or several."""
    suppliers = {item.supplier.strip() for item in items if (item.supplier or "").strip()}
    return suppliers.pop() if len(suppliers) == 1 else ""


def _clean_supplier(supplier: str | None, items: Iterable[Item]) -> str:
    with _about(None, "supplier"):
        supplier = _text(supplier, "The supplier", MAX_SUPPLIER_LENGTH) or supplier_of(items)
    if not supplier:
        raise InvalidInput("Say which supplier the order goes to.", about=(None, "supplier"))
    return supplier


def _check_event(session: Session, event_id: int | None) -> int | None:
    if event_id is None:
        return None
    if not is_whole_number(event_id):
        raise InvalidInput("The event must be given by its number.")
    if not is_id(event_id) or session.get(Event, event_id) is None:
        raise NotFound(f"No event #{event_id}.")
    return event_id


def _check_expected(expected_on: object, today: date) -> date:
    if not isinstance(expected_on, date):
        raise InvalidInput("Say when the delivery is expected (the supplier's arrival date).")
    if expected_on < today:
        raise InvalidInput(f"The expected arrival date {expected_on.isoformat()} is in the past.")
    return expected_on


def _manager_only(user: User, action: str) -> None:
    if user.role not in MANAGERS:
        raise Forbidden(f"Only a marketing manager can {action} purchase orders.")


def _log(order: PurchaseOrder, user: User, text: str) -> None:
    """Append a dated line to the order's note: who changed it, and why."""
    entry = f"{utcnow():%Y-%m-%d} {user.display_name}: {text}"
    order.note = f"{order.note.rstrip()}\n{entry}" if (order.note or "").strip() else entry


def _lock_order(session: Session, order_id: int, also: Iterable[int] = ()) -> PurchaseOrder:
    """The order, locked against concurrent changes (a row lock on PostgreSQL; SQLite's write
    transaction already serializes writers), with its lines read after the lock."""
    if not is_id(order_id):
        raise NotFound(f"No purchase order #{order_id}.")
    order = session.get(PurchaseOrder, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise NotFound(f"No purchase order #{order_id}.")
    lines = session.scalars(select(PurchaseOrderLine).where(PurchaseOrderLine.order_id == order.id)
                            .execution_options(populate_existing=True)).all()
    # Its lines are what flags show of its items: lock them all now, in id order (the forecast
    # projects them again at commit), not one now and the others at commit.
    lock_items(session, [*(line.item_id for line in lines), *also])
    return order


def _need_status(order: PurchaseOrder, allowed: Container[str], action: str) -> None:
    if order.status not in allowed:
        raise Conflict(f"{order.number} is {order.status_label.lower()}; it cannot be {action}.")


# Rules --------------------------------------------------------------------------------------------

@unit_of_work
def create(session: Session, user: User, *, lines: Iterable[tuple], supplier: str = "", note: str = "",
           event_id: int | None = None) -> PurchaseOrder:
    """Raise a draft purchase order: lines of (SKU, quantity, unit cost or None for the item's
    own). The supplier defaults to the one the items share. Written whole or not at all."""
    _manager_only(user, "raise")
    note = _text(note, "The note", MAX_NOTE_LENGTH)
    cleaned = _clean_lines(session, lines)
    supplier = _clean_supplier(supplier, [item for item, _q, _c in cleaned])
    order = PurchaseOrder(supplier=supplier, status="draft", note=note, created_by_id=user.id,
                          event_id=_check_event(session, event_id))
    order.lines = [PurchaseOrderLine(item_id=item.id, quantity=quantity, unit_cost=cost, received=0)
                   for item, quantity, cost in cleaned]
    session.add(order)
    items_changed(session, [item.id for item, _q, _c in cleaned])  # a draft shows on its items' flags
    return order


@unit_of_work
def update_draft(session: Session, order_id: int, user: User, *, lines: Iterable[tuple], supplier: str = "",
                 note: str = "", event_id: int | None = None) -> PurchaseOrder:
    """Change a draft: supplier, event, note, and its lines (replaced by `lines`). Only a draft
    can change this way; once ordered, the supplier has the order."""
    _manager_only(user, "change")
    note = _text(note, "The note", MAX_NOTE_LENGTH)
    cleaned = _clean_lines(session, lines)
    # The new lines' items are locked with the old ones, in one id order.
    order = _lock_order(session, order_id, also=[item.id for item, _q, _c in cleaned])
    _need_status(order, ("draft",), "changed")
    order.supplier = _clean_supplier(supplier, [item for item, _q, _c in cleaned])
    order.event_id = _check_event(session, event_id)
    order.note = note
    existing = {line.item_id: line for line in order.lines}
    items_changed(session, [item.id for item, _q, _c in cleaned])
    kept: list[PurchaseOrderLine] = []
    for item, quantity, cost in cleaned:
        line = existing.pop(item.id, None) or PurchaseOrderLine(item_id=item.id, received=0)
        line.quantity, line.unit_cost = quantity, cost
        kept.append(line)
    order.lines = kept  # lines no longer listed are deleted (delete-orphan)
    return order


@unit_of_work
def mark_ordered(session: Session, order_id: int, user: User, expected_on: date,
                 today: date | None = None) -> PurchaseOrder:
    """The order went to the supplier: it is expected on `expected_on` (today or later) and
    from now on counts in the forecast as stock arriving that day."""
    _manager_only(user, "place")
    today = today or date.today()
    _check_expected(expected_on, today)
    order = _lock_order(session, order_id)
    _need_status(order, ("draft",), "marked ordered")
    order.status, order.expected_on, order.ordered_at = "ordered", expected_on, utcnow()
    _log(order, user, f"ordered, expected {expected_on.isoformat()}.")
    return order


@unit_of_work
def reschedule(session: Session, order_id: int, user: User, expected_on: date, reason: str = "",
               today: date | None = None) -> PurchaseOrder:
    """The supplier gave a new arrival date (today or later) for an ordered PO."""
    _manager_only(user, "reschedule")
    today = today or date.today()
    _check_expected(expected_on, today)
    reason = _text(reason, "The reason", 300)
    order = _lock_order(session, order_id)
    _need_status(order, ("ordered",), "rescheduled")
    if expected_on == order.expected_on:
        raise InvalidInput(f"{order.number} is already expected on {expected_on.isoformat()}.")
    old = order.expected_on
    order.expected_on = expected_on
    _log(order, user, f"expected date {old.isoformat() if old else 'none'} → {expected_on.isoformat()}"
                      + (f" ({reason})." if reason else "."))
    return order


@unit_of_work
def cancel(session: Session, order_id: int, user: User, reason: str = "") -> PurchaseOrder:
    """Cancel a draft or an ordered PO. Refused once anything was received: that stock is in
    the ledger under this PO's number."""
    _manager_only(user, "cancel")
    reason = _text(reason, "The reason", 300)
    order = _lock_order(session, order_id)
    _need_status(order, ("draft", "ordered"), "cancelled")
    received = [line for line in order.lines if line.received]
    if received:
        what = ", ".join(f"{line.received} × {line.item.sku}" for line in received)
        raise Conflict(f"{order.number} cannot be cancelled: {what} already received.")
    order.status = "cancelled"
    _log(order, user, "cancelled" + (f": {reason}" if reason else "."))
    return order


def find_line(order: PurchaseOrder, line_id: int | None = None, sku: str | None = None) -> PurchaseOrderLine:
    """The order's line by its id, or by its item's SKU (any case)."""
    for line in order.lines:
        if line_id is not None and line.id == line_id:
            return line
        if line_id is None and sku is not None and line.item.sku == (sku or "").strip().upper():
            return line
    which = f"line #{line_id}" if line_id is not None else (sku or "(no SKU)")
    raise NotFound(f"{order.number} has no {which}.")


@unit_of_work
def receive(session: Session, order_id: int, line_id: int, bin: Bin, quantity: int, user: User) -> Receipt:
    """Receive `quantity` of one line of an ordered PO into `bin`.

    In one transaction: a `receive` ledger row (reference: the PO number), the bin's stock
    level, the line's received count, the PO's status (received once every line is complete),
    and backorders filled from the new units, oldest request first. Refused, writing nothing:
    a PO that is not ordered, more than the line still expects, an archived item or bin, the
    DISPATCH bin. Two people receiving the same line at once are served one after the other,
    so the line is never received past its quantity.
    """
    order = _lock_order(session, order_id)
    if order.status == "draft":
        raise Conflict(f"{order.number} is a draft: mark it ordered before receiving it.")
    if order.status == "received":
        raise Conflict(f"{order.number} is fully received already.")
    _need_status(order, ("ordered",), "received")
    line = find_line(order, line_id=line_id)
    item = line.item
    positive_quantity(quantity, f"Quantity of {item.sku}")
    if line.outstanding == 0:
        raise InvalidInput(f"{item.sku} on {order.number} is fully received already.")
    if quantity > line.outstanding:
        raise InvalidInput(
            f"Only {line.outstanding} × {item.sku} still to come on {order.number} "
            f"({line.received} of {line.quantity} received); cannot receive {quantity}. "
            "Book any extra the supplier sent as an ordinary receipt.")
    lock_items(session, [item.id])
    # The same refusals, in the same words, as a plain receipt (archived, DISPATCH); the
    # receipt records what the PO line costs, not the catalog's price.
    movement = booking.book(session, "receive", item, to_bin=bin, quantity=quantity, user=user,
                            reason=f"Purchase order from {order.supplier}", reference=order.number,
                            unit_cost=line.unit_cost)
    line.received += quantity
    if all(each.outstanding == 0 for each in order.lines):
        order.status = "received"
    session.flush()
    waiting = _backordered(session, item)
    fill_backorders(session, item)  # waiting requests get the new stock first, oldest first
    filled = [FilledBackorder(line_.request_id, line_.request.number, before - line_.backordered)
              for line_, before in waiting if line_.backordered < before]
    bin_quantity = stock_queries.level(session, item, bin)
    return Receipt(order, line, bin, quantity, movement, bin_quantity, filled)


def _backordered(session: Session, item: Item) -> list[tuple[RequestLine, int]]:
    """[(request line, backordered now)] for `item`, to tell afterwards what a receipt filled."""
    lines = session.scalars(
        select(RequestLine).join(Request)
        .where(RequestLine.item_id == item.id, RequestLine.backordered > 0, Request.status.in_(OPEN))
        .order_by(Request.created_at, Request.id, RequestLine.id)  # the order they are filled in
    ).all()
    return [(line, line.backordered) for line in lines]


def total_cost(order: PurchaseOrder) -> Decimal:
    """What the order costs: quantity × unit cost over its lines."""
    return sum((line.quantity * (line.unit_cost or Decimal("0")) for line in order.lines), Decimal("0.00"))


def suggested_expected_on(order: PurchaseOrder, today: date | None = None) -> date:
    """A first guess at the arrival date: today plus the longest supplier lead time on the order."""
    today = today or date.today()
    return add_days(today, max((line.item.lead_time_days or 0 for line in order.lines), default=0))

