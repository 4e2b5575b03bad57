"""Stock rules: receive, move, adjust, count, and the ledger check.

Every change of stock, here and in the other domains (a PO receipt, a pick, a put-back, a
hand-over and its undo, a check-in, the opening-stock import), is booked through one primitive:
`book` for one movement, `book_many` for many (a count, an import). It holds every refusal (see
"The booking primitive" below); the rules add what is theirs (a reason required, a line's rest).

Each rule writes its ledger rows and updates the stock-level cache in one transaction, and
never leaves a stock level below zero: quantities are taken out of a bin with a conditional
UPDATE ... WHERE quantity >= :qty whose row count says whether the stock was there, so two
people taking the last units at the same moment cannot both succeed, on SQLite or PostgreSQL.

Locks follow the global order of inventory/database.py: the items first (lock_items, by id),
then the stock-level rows by (item, bin): a move writes its two rows in that order whichever
way it goes, and a count locks its rows in that order before reading them. Each rule is a
database.unit_of_work, run again if PostgreSQL still finds a deadlock.
"""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, insert, inspect, literal, select, tuple_, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from ..bins.models import DISPATCH_CODE, Bin
from ..catalog.models import Item, Product
from ..database import unit_of_work
from ..errors import InsufficientStock, InvalidInput
from ..forecast.changes import items_changed
from ..holds.availability import reserved_now
from ..holds.backorders import fill_backorders, shrink_overbooked
from ..holds.locks import lock_items
from ..limits import MAX_QUANTITY, check_line_count
from ..limits import positive_quantity as _positive_quantity
from ..requests.models import OPEN, Request, RequestLine
from ..text import is_whole_number, limited
from ..timeutil import utcnow
from .models import Movement, StockLevel

MAX_REFERENCE_LENGTH = 80  # Movement.reference is VARCHAR(80); PostgreSQL refuses longer text
MAX_REASON_LENGTH = 500  # Movement.reason is TEXT: a cap, or a 7 MB reason is booked
CENT = Decimal("0.01")
_LOCK_CHUNK = 500  # stock-level rows per locking statement


def _counted_quantity(quantity):
    if not is_whole_number(quantity):
        raise InvalidInput("A counted quantity must be a whole number.")
    if quantity < 0:
        raise InvalidInput("A counted quantity cannot be negative.")
    if quantity > MAX_QUANTITY:
        raise InvalidInput(f"A counted quantity must be at most {MAX_QUANTITY:,}.")
    return quantity


def _add(session, item_id, bin_id, quantity):
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(StockLevel).values(item_id=item_id, bin_id=bin_id, quantity=quantity)
    statement = statement.on_conflict_do_update(
        index_elements=["item_id", "bin_id"],
        set_={"quantity": StockLevel.__table__.c.quantity + statement.excluded.quantity},
    )
    items_changed(session, [item_id])
    session.execute(statement)


def _take(session, item, bin, quantity):
    items_changed(session, [item.id])
    result = session.execute(
        update(StockLevel)
        .where(StockLevel.item_id == item.id, StockLevel.bin_id == bin.id, StockLevel.quantity >= quantity)
        .values(quantity=StockLevel.quantity - quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        held = level(session, item, bin)
        raise InsufficientStock(
            f"Bin {bin.code} holds {held} of {item.sku}; cannot take {quantity}."
        )


def _transfer(session, item, from_bin, to_bin, quantity):
    """Take `quantity` of `item` out of `from_bin` and put it into `to_bin` (either may be None),
    writing the two stock-level rows in (item, bin) order, whichever way the units go: a move
    A->B and a move B->A of one item lock A's row, then B's (inventory/database.py)."""
    steps = []
    if from_bin is not None:
        steps.append((from_bin.id, lambda: _take(session, item, from_bin, quantity)))
    if to_bin is not None:
        steps.append((to_bin.id, lambda: _add(session, item.id, to_bin.id, quantity)))
    for _bin_id, step in sorted(steps, key=lambda each: each[0]):
        step()


def lock_levels(session, pairs):
    """Row locks on the stock levels of these (item id, bin id) pairs, in (item, bin) order, on
    PostgreSQL: missing rows are inserted first (quantity 0; ON CONFLICT DO NOTHING, in the same
    order), then all are locked FOR UPDATE. Inside a write transaction, after lock_items of their
    items. On SQLite the write transaction serializes writers already: nothing is sent."""
    pairs = sorted(set(pairs))
    if not pairs or session.get_bind().dialect.name != "postgresql":
        return
    table = StockLevel.__table__
    session.execute(postgresql.insert(table).on_conflict_do_nothing(index_elements=["item_id", "bin_id"]),
                    [{"item_id": item_id, "bin_id": bin_id, "quantity": 0} for item_id, bin_id in pairs])
    for start in range(0, len(pairs), _LOCK_CHUNK):  # ascending across chunks too
        session.execute(select(table.c.id).where(tuple_(table.c.item_id, table.c.bin_id).in_(
            pairs[start:start + _LOCK_CHUNK])).order_by(table.c.item_id, table.c.bin_id).with_for_update()).all()


def level(session, item, bin):
    """Quantity of `item` in `bin` now (0 when the bin never held it)."""
    return session.scalar(
        select(StockLevel.quantity).where(StockLevel.item_id == item.id, StockLevel.bin_id == bin.id)
    ) or 0


def unit_cost_now(item):
    """What one unit of `item` costs at this moment, as a movement records it."""
    return item.unit_cost if item.unit_cost is not None else Decimal("0.00")


def _record(session, kind, item, user, quantity, from_bin=None, to_bin=None, reason="", reference="", counted=None,
            unit_cost=None):
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


@unit_of_work
def receive(session, item, bin, quantity, user, reason="", reference=""):
    """Book `quantity` of `item` arriving into `bin` (a delivery, or opening stock)."""
    _positive_quantity(quantity)
    if len((reference or "").strip()) > MAX_REFERENCE_LENGTH:
        raise InvalidInput(f"A reference can be at most {MAX_REFERENCE_LENGTH} characters.")

    lock_items(session, [item.id])
    movement = book(session, "receive", item, to_bin=bin, quantity=quantity, user=user, reason=reason,
                    reference=reference)
    session.flush()
    fill_backorders(session, item)  # waiting requests get new stock first, oldest first
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


def booking_refusal(kind, item, from_bin=None, to_bin=None, quantity=1, *, put_back=False, counted=None):
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


def _refuse(kind, item, from_bin=None, to_bin=None, quantity=1, **how):
    refusal = booking_refusal(kind, item, from_bin, to_bin, quantity, **how)
    if refusal is not None:
        raise refusal


def book(session, kind, item, *, from_bin=None, to_bin=None, quantity, user, reason="", reference="",
         unit_cost=None, put_back=False):
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
    item: object
    quantity: int
    from_bin: object = None
    to_bin: object = None
    reason: str = ""
    reference: str = ""
    counted: int | None = None
    unit_cost: object = None


def book_many(session, bookings, user, *, levels=None, now=None, objects=True):
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
    archived = set()
    for start in range(0, len(arriving), _LOCK_CHUNK):
        archived.update(session.scalars(select(Bin.id).where(Bin.id.in_(arriving[start:start + _LOCK_CHUNK]),
                                                             Bin.archived.is_(True))))
    changes = {}
    for booking in bookings:
        to_bin = booking.to_bin
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
    new = {}
    for item_id, bin_id in pairs:
        new[(item_id, bin_id)] = current.get((item_id, bin_id), 0) + changes[(item_id, bin_id)]
        if new[(item_id, bin_id)] < 0:
            booking = next(b for b in bookings if b.item.id == item_id and b.from_bin is not None
                           and b.from_bin.id == bin_id)
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
    session.execute(insert(Movement.__table__), rows)
    return None


@dataclass(frozen=True)
class _BinNow:
    """A bin as the database has it now (its archived flag read afresh), for booking_refusal."""

    id: int
    code: str
    archived: bool


_WRITE_CHUNK = 1000  # stock-level rows per executemany batch


def _set_levels(session):
    """INSERT ... ON CONFLICT DO UPDATE that sets a stock level to a quantity worked out under its lock."""
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(StockLevel)
    return statement.on_conflict_do_update(index_elements=["item_id", "bin_id"],
                                           set_={"quantity": statement.excluded.quantity})


def _locked_levels(session, pairs):
    """{(item id, bin id): quantity} for these pairs, read after lock_levels (PostgreSQL) locked them."""
    lock_levels(session, pairs)
    table, found = StockLevel.__table__, {}
    for start in range(0, len(pairs), _LOCK_CHUNK):
        found.update({(i, b): q for i, b, q in session.execute(
            select(table.c.item_id, table.c.bin_id, table.c.quantity)
            .where(tuple_(table.c.item_id, table.c.bin_id).in_(pairs[start:start + _LOCK_CHUNK])))})
    return found


@unit_of_work
def move(session, item, from_bin, to_bin, quantity, user, reason=""):
    """Move `quantity` of `item` between bins; refused if `from_bin` holds less."""
    _refuse("move", item, from_bin, to_bin, quantity)  # before the transaction, as it always was
    if from_bin.id == to_bin.id:
        raise InvalidInput("Choose a different bin to move to.")

    lock_items(session, [item.id])  # the item first, then its two rows in (item, bin) order
    movement = book(session, "move", item, from_bin=from_bin, to_bin=to_bin, quantity=quantity, user=user,
                    reason=reason)
    return movement


@unit_of_work
def put_away(session, item, from_bin, to_bin, quantity, user, reason=""):
    """Put `quantity` of `item` away into `to_bin` from where it landed (`from_bin`: a receiving
    area, a returns cart). Booked as its own kind so the ledger tells put-aways from moves
    between shelves; like a move, it is refused if `from_bin` holds less and changes no total.
    Stock that was not booked anywhere yet is received instead (see `receive`)."""
    _refuse("put_away", item, from_bin, to_bin, quantity)
    if from_bin.id == to_bin.id:
        raise InvalidInput(f"{item.sku} is already in {to_bin.code}: put it away from another bin.")

    lock_items(session, [item.id])  # the item first, then its two rows in (item, bin) order
    movement = book(session, "put_away", item, from_bin=from_bin, to_bin=to_bin, quantity=quantity, user=user,
                    reason=reason)
    return movement


@unit_of_work
def adjust(session, item, bin, change, user, reason):
    """Correct the quantity in a bin by `change` (positive or negative); a reason is required."""
    if not is_whole_number(change):
        raise InvalidInput("An adjustment must be a whole number.")
    if change == 0:
        raise InvalidInput("An adjustment of zero changes nothing.")
    if abs(change) > MAX_QUANTITY:
        raise InvalidInput(f"An adjustment must be at most {MAX_QUANTITY:,} either way.")
    if not (reason or "").strip():
        raise InvalidInput("Say why the stock is adjusted (damaged, found, given away, ...).")

    lock_items(session, [item.id])
    if change > 0:
        movement = book(session, "adjust", item, to_bin=bin, quantity=change, user=user, reason=reason)
        session.flush()
        fill_backorders(session, item)
    else:
        movement = book(session, "adjust", item, from_bin=bin, quantity=-change, user=user, reason=reason)
        session.flush()
        shrink_overbooked(session, item, user)
    return movement


@unit_of_work(expire=False)
def count(session, bin, counts, user, reason=""):
    """Book a stock count of `bin`: `counts` maps items to the quantity seen (zero included).

    Each difference from the stock level is booked as a count movement; an item counted as
    expected still gets a zero-quantity row so the history shows when it was last counted.
    All lines are booked in one transaction, or none. At most MAX_LINES lines, each item once
    (two lines of one item, say PEN-LOGO and pen-logo, are refused: which one would count?).
    The levels are read and written in a few statements whatever the number of lines, so that
    a count of 200 lines takes a fraction of a second.
    """
    counts = list(counts.items()) if isinstance(counts, dict) else list(counts)
    if not counts:
        raise InvalidInput("Nothing was counted.")
    check_line_count(counts, "A count")
    seen = set()
    for item, counted in counts:
        if item.id in seen:
            raise InvalidInput(f"{item.sku} is counted twice: give it one line.", about=item.id)
        seen.add(item.id)
        try:
            _counted_quantity(counted)
        except InvalidInput as error:
            error.about = item.id  # a page shows it next to that item's box
            raise

    item_ids = [item.id for item, _counted in counts]
    # Nothing loaded is expired by the commits (as a reservation does): the levels are read afresh
    # under their locks, and reloading 200 items and movements one by one cost more than the count.
    lock_items(session, item_ids)
    items_changed(session, item_ids)
    current = _lock_levels(session, bin, item_ids)
    bookings = []
    for item, counted in counts:
        difference = counted - current[item.id]
        bookings.append(Booking(
            "count", item, abs(difference),
            from_bin=bin if difference < 0 else None,
            to_bin=bin if difference >= 0 else None,
            reason=reason or f"counted {counted}, expected {current[item.id]}",
            counted=counted,
        ))
    movements = book_many(session, bookings, user,
                          levels={(item_id, bin.id): quantity for item_id, quantity in current.items()})
    # Only items that requests hold or wait for can need holds moved or backorders filled.
    live = _with_live_lines(session, item_ids)
    for item, _counted in counts:
        if item.id in live:
            shrink_overbooked(session, item, user)  # counted short: newest holds become backorders
            fill_backorders(session, item)  # counted more: waiting requests come first
    # The levels were set by one statement, past the ORM: any the session had loaded are stale.
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, StockLevel) and inspect(loaded).dict.get("bin_id") == bin.id:  # no load
            session.expire(loaded)
    return movements


def _lock_levels(session, bin, item_ids):
    """{item id: quantity in `bin`} for the items, their stock-level rows made (at 0) where
    missing and locked: one INSERT and one SELECT ... FOR UPDATE for all of them."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(StockLevel)
                    .values([dict(item_id=i, bin_id=bin.id, quantity=0) for i in sorted(item_ids)])  # in lock order
                    .on_conflict_do_nothing(index_elements=["item_id", "bin_id"]))
    rows = session.execute(
        select(StockLevel.item_id, StockLevel.quantity)
        .where(StockLevel.bin_id == bin.id, StockLevel.item_id.in_(item_ids))
        .order_by(StockLevel.item_id)
        .with_for_update()
    ).all()
    return dict(rows)


def _with_live_lines(session, item_ids):
    """The ids among `item_ids` that open requests hold or wait for, in one query."""
    return set(session.scalars(
        select(RequestLine.item_id).distinct().join(Request, RequestLine.request_id == Request.id)
        .where(RequestLine.item_id.in_(item_ids), Request.status.in_(OPEN),
               (RequestLine.reserved > 0) | (RequestLine.backordered > 0))))


def count_one(session, item, bin, counted, user, reason=""):
    """Count a single item in a bin (the item page's count)."""
    return count(session, bin, [(item, counted)], user, reason)[0]


@dataclass(frozen=True)
class Drift:
    sku: str
    bin_code: str
    ledger: int
    cached: int


def check_ledger(session):
    """Recompute every stock level from the ledger; return the differences (empty when sound)."""
    into = select(
        Movement.item_id.label("item_id"), Movement.to_bin_id.label("bin_id"), Movement.quantity.label("change")
    ).where(Movement.to_bin_id.is_not(None))
    out = select(
        Movement.item_id, Movement.from_bin_id, (literal(0) - Movement.quantity)
    ).where(Movement.from_bin_id.is_not(None))
    ledger_rows = union_all(into, out).subquery()
    ledger = {
        (row.item_id, row.bin_id): int(row.total)
        for row in session.execute(
            select(ledger_rows.c.item_id, ledger_rows.c.bin_id, func.sum(ledger_rows.c.change).label("total"))
            .group_by(ledger_rows.c.item_id, ledger_rows.c.bin_id)
        )
    }
    cached = {(row.item_id, row.bin_id): row.quantity for row in session.execute(
        select(StockLevel.item_id, StockLevel.bin_id, StockLevel.quantity)
    )}
    keys = {key for key in set(ledger) | set(cached) if ledger.get(key, 0) != cached.get(key, 0)}
    keys |= {key for key, quantity in cached.items() if quantity < 0}
    if not keys:
        return []
    skus = dict(session.execute(select(Item.id, Item.sku).where(Item.id.in_({k[0] for k in keys}))).all())
    codes = dict(session.execute(select(Bin.id, Bin.code).where(Bin.id.in_({k[1] for k in keys}))).all())
    return sorted(
        Drift(skus.get(i, f"item #{i}"), codes.get(b, f"bin #{b}"), ledger.get((i, b), 0), cached.get((i, b), 0))
        for i, b in keys
    )


# Queries the pages and the API share -------------------------------------------------------

def quantities_in_bin(session, bin, item_ids):
    """{item id: quantity in `bin`} for the items (0 where the bin never held one), in one query."""
    found = dict(session.execute(select(StockLevel.item_id, StockLevel.quantity)
                                 .where(StockLevel.bin_id == bin.id, StockLevel.item_id.in_(item_ids))).all())
    return {item_id: found.get(item_id, 0) for item_id in item_ids}


def levels_in_bin(session, bin):
    """What a bin holds now, with items and products loaded, in catalog order."""
    return session.scalars(
        select(StockLevel)
        .join(StockLevel.item).join(Item.product)
        .where(StockLevel.bin_id == bin.id, StockLevel.quantity > 0)
        .options(joinedload(StockLevel.item).joinedload(Item.product))
        .order_by(Product.name, Item.size_rank, Item.size, Item.sku)
    ).all()


def levels_of_item(session, item):
    """Every bin holding `item` now, by bin code."""
    return session.scalars(
        select(StockLevel)
        .join(StockLevel.bin)
        .where(StockLevel.item_id == item.id, StockLevel.quantity > 0)
        .options(joinedload(StockLevel.bin))
        .order_by(Bin.code)
    ).all()


def on_hand(session, item_ids):
    """Total on hand per item id, for many items in one query."""
    item_ids = list(item_ids)
    if not item_ids:
        return {}
    totals = dict(session.execute(
        select(StockLevel.item_id, func.sum(StockLevel.quantity))
        .where(StockLevel.item_id.in_(item_ids))
        .group_by(StockLevel.item_id)
    ).all())
    return {item_id: int(totals.get(item_id) or 0) for item_id in item_ids}


@dataclass(frozen=True)
class Availability:
    on_hand: int
    reserved: int

    @property
    def available(self):
        return self.on_hand - self.reserved


def availability(session, item_ids):
    """On hand, reserved (held by requests today) and available per item id, in three queries."""
    return with_reservations(session, on_hand(session, item_ids))


def with_reservations(session, totals, held_ids=None):
    """Availability per item id from its units on hand ({item id: on hand}, read already), in one
    query. `held_ids`, when given, are the only ids that request lines may hold units of (the
    others have nothing reserved): only those are looked up, and none at all when it is empty."""

    held = reserved_now(session, totals if held_ids is None else held_ids)
    return {item_id: Availability(quantity, held.get(item_id, 0)) for item_id, quantity in totals.items()}


def history(session, item=None, bin=None, limit=20):
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

