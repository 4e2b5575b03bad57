"""The booking primitive: `book` for one movement, `book_many` for many (a count, an import).
Every change of stock, in the stock rules (stock/services.py) and in the other domains (a PO
receipt, a pick, a put-back, a hand-over and its undo, a check-in, the opening-stock import), is
booked through it, and it holds every refusal (see "The booking primitive" below).

A stock level never goes below zero: quantities are taken out of a bin with a conditional
UPDATE ... WHERE quantity >= :qty whose row count says whether the stock was there, so two
people taking the last units at the same moment cannot both succeed, on SQLite or PostgreSQL.
The stock-level rows are written or locked in (item, bin) order, the global order of
inventory/database.py, after the caller locked the items (lock_items, by id).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, cast, overload

from sqlalchemy import CursorResult, Table, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..auth.models import User
from ..bins.models import DISPATCH_CODE, Bin
from ..catalog.models import Item
from ..errors import InsufficientStock, InvalidInput
from ..forecast.changes import items_changed
from ..limits import MAX_QUANTITY
from ..limits import positive_quantity as _positive_quantity
from ..text import is_whole_number, limited
from ..timeutil import utcnow
from .models import Movement, StockLevel
from .queries import level

MAX_REFERENCE_LENGTH = 80  # Movement.reference is VARCHAR(80); PostgreSQL refuses longer text
MAX_REASON_LENGTH = 500  # Movement.reason is TEXT: a cap, or a 7 MB reason is booked
CENT = Decimal("0.01")
_LOCK_CHUNK = 500  # stock-level rows per locking statement


def _counted_quantity(quantity: int) -> int:
    if not is_whole_number(quantity):
        raise InvalidInput("A counted quantity must be a whole number.")
    if quantity < 0:
        raise InvalidInput("A counted quantity cannot be negative.")
    if quantity > MAX_QUANTITY:
        raise InvalidInput(f"A counted quantity must be at most {MAX_QUANTITY:,}.")
    return quantity


def _add(session: Session, item_id: int, bin_id: int, quantity: int) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(StockLevel).values(item_id=item_id, bin_id=bin_id, quantity=quantity)
    statement = statement.on_conflict_do_update(
        index_elements=["item_id", "bin_id"],
        set_={"quantity": StockLevel.__table__.c.quantity + statement.excluded.quantity},
    )
    items_changed(session, [item_id])
    session.execute(statement)


def _take(session: Session, item: Item, bin: Bin, quantity: int) -> None:
    items_changed(session, [item.id])
    result = cast(CursorResult[Any], session.execute(  # an UPDATE answers a CursorResult
        update(StockLevel)
        .where(StockLevel.item_id == item.id, StockLevel.bin_id == bin.id, StockLevel.quantity >= quantity)
        .values(quantity=StockLevel.quantity - quantity)
        .execution_options(synchronize_session=False)
    ))
    if result.rowcount != 1:
        held = level(session, item, bin)
        raise InsufficientStock(
            f"Bin {bin.code} holds {held} of {item.sku}; cannot take {quantity}."
        )


def _transfer(session: Session, item: Item, from_bin: Bin | None, to_bin: Bin | None, quantity: int) -> None:
    """Take `quantity` of `item` out of `from_bin` and put it into `to_bin` (either may be None),
    writing the two stock-level rows in (item, bin) order, whichever way the units go: a move
    A->B and a move B->A of one item lock A's row, then B's (inventory/database.py)."""
    steps: list[tuple[int, Callable[[], None]]] = []
    if from_bin is not None:
        steps.append((from_bin.id, lambda: _take(session, item, from_bin, quantity)))
    if to_bin is not None:
        steps.append((to_bin.id, lambda: _add(session, item.id, to_bin.id, quantity)))
    for _bin_id, step in sorted(steps, key=lambda each: each[0]):
        step()


def lock_levels(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """Row locks on the stock levels of these (item id, bin id) pairs, in (item, bin) order, on
    PostgreSQL: missing rows are inserted first (quantity 0; ON CONFLICT DO NOTHING, in the same
    order), then all are locked FOR UPDATE. Inside a write transaction, after lock_items of their
    items. On SQLite the write transaction serializes writers already: nothing is sent."""
    pairs = sorted(set(pairs))
    if not pairs or session.get_bind().dialect.name != "postgresql":
        return
    table = cast(Table, StockLevel.__table__)
    session.execute(postgresql.insert(table).on_conflict_do_nothing(index_elements=["item_id", "bin_id"]),
                    [{"item_id": item_id, "bin_id": bin_id, "quantity": 0} for item_id, bin_id in pairs])
    for start in range(0, len(pairs), _LOCK_CHUNK):  # ascending across chunks too
        session.execute(select(table.c.id).where(tuple_(table.c.item_id, table.c.bin_id).in_(
            pairs[start:start + _LOCK_CHUNK])).order_by(table.c.item_id, table.c.bin_id).with_for_update()).all()


def unit_cost_now(item: Item) -> Decimal:
    """What one unit of `item` costs at this moment, as a movement records it."""
    return item.unit_cost if item.unit_cost is not None else Decimal("0.00")


def _record(session: Session, kind: str, item: Item, user: User, quantity: int, from_bin: Bin | None = None,
            to_bin: Bin | None = None, reason: str = "", reference: str = "", counted: int | None = None,
            unit_cost: Decimal | None = None) -> Movement:
    """Write one ledger row. It records `unit_cost` (a PO receipt gives its line's) or else the
    item's unit cost now, so that what this movement cost never changes with a later price."""
    movement = Movement(
        kind=kind,
        item_id=item.id,
        from_bin_id=from_bin.id if from_bin else None,
        to_bin_id=to_bin.id if to_bin else None,
        quantity=quantity,
        counted=counted,
        reason=limited(reason, "The reason", MAX_REASON_LENGTH),
        reference=limited(reference, "A reference", MAX_REFERENCE_LENGTH),
        unit_cost=(unit_cost_now(item) if unit_cost is None else Decimal(unit_cost)).quantize(CENT),
        user_id=user.id,
    )
    session.add(movement)
    return movement


# The booking primitive ------------------------------------------------------------------------
#
# Every change of stock goes through `book` (one movement) or `book_many` (a count, an import):
# they hold every refusal in one place, in the words the pages show:
#
# - the quantity: a whole number, more than zero (a count's may be zero: "as expected"), at
#   most MAX_QUANTITY;
# - archived: an archived bin takes no stock; an archived item takes no new stock by a receipt,
#   a put-away or an adjustment (a move, a count, a pick, an issue or a return of what is there
#   still works, so that it can be cleared out);
# - DISPATCH holds picked stock for requests: stock goes in only by a pick (or back by undoing
#   an issue) and leaves by an issue, by putting a pick back, or as found missing (a count or an
#   adjustment down); nothing else puts stock into it or takes it out;
# - levels never below zero: a take is a conditional UPDATE whose row count says whether the
#   stock was there (book), or the new levels are computed from levels read under their locks
#   (book_many).
#
# Both run inside the caller's write transaction, after the caller locked the items
# (lock_items, by id): the stock-level rows are then written or locked in (item, bin) order.
# They write the ledger rows and tell the forecast which items changed; they neither lock the
# items nor fill backorders (the rule that calls them does).

INTO_DISPATCH = frozenset({"pick", "undo_issue"})  # kinds that may put stock into DISPATCH
OUT_OF_DISPATCH = frozenset({"issue", "count", "adjust"})  # ... and take it out (and a put-back)
NEW_STOCK = frozenset({"receive", "put_away", "adjust"})  # refused for an archived item
_DISPATCH_WORDS = "DISPATCH holds picked stock for requests: it goes in by picking and leaves by hand-over."
_INTO_DISPATCH_REFUSALS = {
    "receive": f"{DISPATCH_CODE} holds picked requests waiting for hand-over; receive into a stock bin.",
    "return": f"Put returned units into a stock bin, not {DISPATCH_CODE}.",
    "put_back": "Put picked stock back into a stock bin.",
    "adjust": f"{_DISPATCH_WORDS} Adjust the stock bin it is in.",
    "count": f"{_DISPATCH_WORDS} Count it up in the stock bin it is in.",
}
_OUT_OF_DISPATCH_REFUSALS = {"pick": "Pick from a stock bin, not from DISPATCH."}
_MOVE_REFUSAL = f"{_DISPATCH_WORDS} To put picked stock back on a shelf, use 'Put back' on the request."


def booking_refusal(kind: str, item: Item, from_bin: Bin | None = None, to_bin: Bin | _BinNow | None = None,
                    quantity: int = 1, *, put_back: bool = False, counted: int | None = None) -> InvalidInput | None:
    """Why this booking is refused, as an InvalidInput (about "bin" when it is about the bin the
    stock goes into), or None when it may be booked. Reads only the objects given (no query).
    `put_back`: a move of a request's picked stock out of DISPATCH back onto a shelf.
    `counted`: what a count saw; its `quantity` is the difference, which may be zero."""
    if counted is not None:
        try:
            _counted_quantity(counted)
        except InvalidInput as error:
            return error
        if not is_whole_number(quantity) or quantity < 0:
            return InvalidInput("A count books the difference it found: a whole number, 0 or more.")
    else:
        try:
            _positive_quantity(quantity)
        except InvalidInput as error:
            return error
    if from_bin is None and to_bin is None:
        return InvalidInput("A movement needs a bin to take from or to put into.")
    rule = "put_back" if put_back else kind
    if from_bin is not None and from_bin.code == DISPATCH_CODE and kind not in OUT_OF_DISPATCH and not put_back:
        return InvalidInput(_OUT_OF_DISPATCH_REFUSALS.get(kind, _MOVE_REFUSAL), about="from_bin")
    if to_bin is not None and quantity > 0:
        if to_bin.code == DISPATCH_CODE and kind not in INTO_DISPATCH:
            return InvalidInput(_INTO_DISPATCH_REFUSALS.get(rule, _MOVE_REFUSAL), about="bin")
        if item.archived and kind in NEW_STOCK:
            return InvalidInput(f"{item.sku} is archived; restore it before booking stock into it.")
        if to_bin.archived:
            return InvalidInput(f"Bin {to_bin.code} is archived; restore it before putting stock in it.",
                                about="bin")
    return None


def _refuse(kind: str, item: Item, from_bin: Bin | None = None, to_bin: Bin | _BinNow | None = None, quantity: int = 1,
            *, put_back: bool = False, counted: int | None = None) -> None:
    refusal = booking_refusal(kind, item, from_bin, to_bin, quantity, put_back=put_back, counted=counted)
    if refusal is not None:
        raise refusal


def book(session: Session, kind: str, item: Item, *, from_bin: Bin | None = None, to_bin: Bin | None = None,
         quantity: int, user: User, reason: str = "", reference: str = "", unit_cost: Decimal | None = None,
         put_back: bool = False) -> Movement:
    """Book one movement of `quantity` of `item` out of `from_bin` and/or into `to_bin`, inside
    the caller's write transaction, after it locked the item (lock_items). Refused (InvalidInput,
    nothing written) as booking_refusal says; InsufficientStock when `from_bin` holds less. Writes
    the two stock-level rows in (item, bin) order and the ledger row, with `unit_cost` (a PO
    receipt's line cost, an undone issue's) or else the item's unit cost now."""
    _refuse(kind, item, from_bin, to_bin, quantity, put_back=put_back)
    _transfer(session, item, from_bin, to_bin, quantity)
    return _record(session, kind, item, user, quantity, from_bin=from_bin, to_bin=to_bin, reason=reason,
                   reference=reference, unit_cost=unit_cost)


@dataclass
class Booking:
    """One row for book_many. `quantity` moves out of `from_bin` and/or into `to_bin`; a count
    also says what was `counted` (its quantity is the difference, and may be zero)."""

    kind: str
    item: Item
    quantity: int
    from_bin: Bin | None = None
    to_bin: Bin | None = None
    reason: str = ""
    reference: str = ""
    counted: int | None = None
    unit_cost: Decimal | None = None


@overload
def book_many(session: Session, bookings: Iterable[Booking], user: User, *,
              levels: dict[tuple[int, int], int] | None = None, now: datetime | None = None,
              objects: Literal[True] = True) -> list[Movement]: ...


@overload
def book_many(session: Session, bookings: Iterable[Booking], user: User, *,
              levels: dict[tuple[int, int], int] | None = None, now: datetime | None = None,
              objects: bool) -> list[Movement] | None: ...


def book_many(session: Session, bookings: Iterable[Booking], user: User, *,
              levels: dict[tuple[int, int], int] | None = None, now: datetime | None = None,
              objects: bool = True) -> list[Movement] | None:
    """Book many movements at once (a count, the opening-stock import) in a few statements
    whatever their number, inside the caller's write transaction, after it locked the items.

    Each booking is checked as `book` checks one; any refusal raises before anything is written.
    `levels` ({(item id, bin id): quantity}) are levels the caller read under their locks (a
    missing pair holds 0 and has no row yet); without them the levels are read here, their rows
    made (at 0) where missing and locked, in (item, bin) order. The new levels are written in
    one statement; a level that would go below zero raises InsufficientStock.

    Returns the Movement objects (`objects`), else writes the ledger rows in one INSERT and
    returns nothing (10,000 import rows)."""
    bookings = list(bookings)
    if not bookings:
        return []
    # The archived flags of the bins stock goes into, as they are now (the caller's objects may
    # have been loaded before another request archived one), in one query.
    arriving = sorted({b.to_bin.id for b in bookings if b.to_bin is not None and b.quantity > 0})
    archived: set[int] = set()
    for start in range(0, len(arriving), _LOCK_CHUNK):
        archived.update(session.scalars(select(Bin.id).where(Bin.id.in_(arriving[start:start + _LOCK_CHUNK]),
                                                             Bin.archived.is_(True))))
    changes: dict[tuple[int, int], int] = {}
    for booking in bookings:
        to_bin: Bin | _BinNow | None = booking.to_bin
        if to_bin is not None and booking.quantity > 0:
            to_bin = _BinNow(to_bin.id, to_bin.code, to_bin.id in archived)
        _refuse(booking.kind, booking.item, booking.from_bin, to_bin, booking.quantity, counted=booking.counted)
        if booking.from_bin is not None:
            key = (booking.item.id, booking.from_bin.id)
            changes[key] = changes.get(key, 0) - booking.quantity
        if booking.to_bin is not None:
            key = (booking.item.id, booking.to_bin.id)
            changes[key] = changes.get(key, 0) + booking.quantity
    pairs = sorted(changes)  # (item, bin) order
    current = dict(levels) if levels is not None else _locked_levels(session, pairs)
    new: dict[tuple[int, int], int] = {}
    for item_id, bin_id in pairs:
        new[(item_id, bin_id)] = current.get((item_id, bin_id), 0) + changes[(item_id, bin_id)]
        if new[(item_id, bin_id)] < 0:
            booking = next(b for b in bookings if b.item.id == item_id and b.from_bin is not None
                           and b.from_bin.id == bin_id)
            assert booking.from_bin is not None  # the one just found has it
            raise InsufficientStock(f"Bin {booking.from_bin.code} holds {current.get((item_id, bin_id), 0)} of "
                                    f"{booking.item.sku}; cannot take {-changes[(item_id, bin_id)]}.")
    items_changed(session, sorted({item_id for item_id, _bin_id in pairs}))
    written = [{"item_id": i, "bin_id": b, "quantity": new[(i, b)]} for i, b in pairs]
    for start in range(0, len(written), _WRITE_CHUNK):
        session.execute(_set_levels(session), written[start:start + _WRITE_CHUNK])
    if objects:
        movements = [_record(session, b.kind, b.item, user, b.quantity, from_bin=b.from_bin, to_bin=b.to_bin,
                             reason=b.reason, reference=b.reference, counted=b.counted, unit_cost=b.unit_cost)
                     for b in bookings]
        session.flush()
        return movements
    now = now or utcnow()
    rows = [{"kind": b.kind, "item_id": b.item.id, "user_id": user.id, "created_at": now,
             "from_bin_id": b.from_bin.id if b.from_bin is not None else None,
             "to_bin_id": b.to_bin.id if b.to_bin is not None else None,
             "quantity": b.quantity, "counted": b.counted,
             "reason": limited(b.reason, "The reason", MAX_REASON_LENGTH),
             "reference": limited(b.reference, "A reference", MAX_REFERENCE_LENGTH),
             "unit_cost": (unit_cost_now(b.item) if b.unit_cost is None else Decimal(b.unit_cost)).quantize(CENT)}
            for b in bookings]
    session.execute(insert(cast(Table, Movement.__table__)), rows)
    return None


@dataclass(frozen=True)
class _BinNow:
    """A bin as the database has it now (its archived flag read afresh), for booking_refusal."""

    id: int
    code: str
    archived: bool


_WRITE_CHUNK = 1000  # stock-level rows per executemany batch


def _set_levels(session: Session) -> postgresql.Insert | sqlite.Insert:
    """INSERT ... ON CONFLICT DO UPDATE that sets a stock level to a quantity worked out under its lock."""
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(StockLevel)
    return statement.on_conflict_do_update(index_elements=["item_id", "bin_id"],
                                           set_={"quantity": statement.excluded.quantity})


def _locked_levels(session: Session, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """{(item id, bin id): quantity} for these pairs, read after lock_levels (PostgreSQL) locked them."""
    lock_levels(session, pairs)
    table = StockLevel.__table__
    found: dict[tuple[int, int], int] = {}
    for start in range(0, len(pairs), _LOCK_CHUNK):
        found.update({(i, b): q for i, b, q in session.execute(
            select(table.c.item_id, table.c.bin_id, table.c.quantity)
            .where(tuple_(table.c.item_id, table.c.bin_id).in_(pairs[start:start + _LOCK_CHUNK])))})
    return found
