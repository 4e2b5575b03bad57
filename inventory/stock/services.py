"""Stock rules: receive, move, adjust, count, and the ledger check.

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

from sqlalchemy import bindparam, func, inspect, literal, select, tuple_, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from ..bins.models import DISPATCH_CODE, Bin
from ..catalog.models import Item, Product
from ..database import unit_of_work, write_transaction
from ..errors import InsufficientStock, InvalidInput
from ..forecast.changes import items_changed
from ..limits import MAX_QUANTITY, check_line_count
from ..limits import positive_quantity as _positive_quantity
from ..requests.models import OPEN, Request, RequestLine
from ..text import is_whole_number, limited
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


def _refuse_archived(item=None, bin=None):
    if item is not None and item.archived:
        raise InvalidInput(f"{item.sku} is archived; restore it before booking stock into it.")
    if bin is not None and bin.archived:
        raise InvalidInput(f"Bin {bin.code} is archived; restore it before putting stock in it.")


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
    from ..requests.services import fill_backorders, lock_items

    with write_transaction(session):
        _refuse_archived(item, bin)
        lock_items(session, [item.id])
        _add(session, item.id, bin.id, quantity)
        movement = _record(session, "receive", item, user, quantity, to_bin=bin, reason=reason, reference=reference)
        session.flush()
        fill_backorders(session, item)  # waiting requests get new stock first, oldest first
    return movement


def _refuse_dispatch(*bins):
    """Picked stock waits in DISPATCH for its request: it goes in by picking, out by hand-over
    (or back to a shelf by putting a pick back), never by a plain move."""
    if any(bin.code == DISPATCH_CODE for bin in bins):
        raise InvalidInput("DISPATCH holds picked stock for requests: it goes in by picking and leaves by "
                           "hand-over. To put picked stock back on a shelf, use 'Put back' on the request.")


@unit_of_work
def move(session, item, from_bin, to_bin, quantity, user, reason=""):
    """Move `quantity` of `item` between bins; refused if `from_bin` holds less."""
    _positive_quantity(quantity)
    _refuse_dispatch(from_bin, to_bin)
    if from_bin.id == to_bin.id:
        raise InvalidInput("Choose a different bin to move to.")
    from ..requests.services import lock_items

    with write_transaction(session):
        _refuse_archived(bin=to_bin)
        lock_items(session, [item.id])  # the item first, then its two rows in (item, bin) order
        _transfer(session, item, from_bin, to_bin, quantity)
        movement = _record(session, "move", item, user, quantity, from_bin=from_bin, to_bin=to_bin, reason=reason)
    return movement


@unit_of_work
def put_away(session, item, from_bin, to_bin, quantity, user, reason=""):
    """Put `quantity` of `item` away into `to_bin` from where it landed (`from_bin`: a receiving
    area, a returns cart). Booked as its own kind so the ledger tells put-aways from moves
    between shelves; like a move, it is refused if `from_bin` holds less and changes no total.
    Stock that was not booked anywhere yet is received instead (see `receive`)."""
    _positive_quantity(quantity)
    _refuse_dispatch(from_bin, to_bin)
    if from_bin.id == to_bin.id:
        raise InvalidInput(f"{item.sku} is already in {to_bin.code}: put it away from another bin.")
    from ..requests.services import lock_items

    with write_transaction(session):
        _refuse_archived(item, to_bin)
        lock_items(session, [item.id])  # the item first, then its two rows in (item, bin) order
        _transfer(session, item, from_bin, to_bin, quantity)
        movement = _record(session, "put_away", item, user, quantity, from_bin=from_bin, to_bin=to_bin,
                           reason=reason)
    return movement


@unit_of_work
def adjust(session, item, bin, change, user, reason):
    """Correct the quantity in a bin by `change` (positive or negative); a reason is required."""
    if isinstance(change, bool) or not isinstance(change, int):
        raise InvalidInput("An adjustment must be a whole number.")
    if change == 0:
        raise InvalidInput("An adjustment of zero changes nothing.")
    if abs(change) > MAX_QUANTITY:
        raise InvalidInput(f"An adjustment must be at most {MAX_QUANTITY:,} either way.")
    if not (reason or "").strip():
        raise InvalidInput("Say why the stock is adjusted (damaged, found, given away, ...).")
    from ..requests.services import fill_backorders, lock_items, shrink_overbooked

    with write_transaction(session):
        lock_items(session, [item.id])
        if change > 0:
            _refuse_archived(item, bin)
            _add(session, item.id, bin.id, change)
            movement = _record(session, "adjust", item, user, change, to_bin=bin, reason=reason)
            session.flush()
            fill_backorders(session, item)
        else:
            _take(session, item, bin, -change)
            movement = _record(session, "adjust", item, user, -change, from_bin=bin, reason=reason)
            session.flush()
            shrink_overbooked(session, item, user)
    return movement


@unit_of_work
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
    from ..requests.services import fill_backorders, lock_items, shrink_overbooked

    item_ids = [item.id for item, _counted in counts]
    movements = []
    # Nothing loaded is expired by the commits (as a reservation does): the levels are read afresh
    # under their locks, and reloading 200 items and movements one by one cost more than the count.
    with write_transaction(session, expire=False):
        lock_items(session, item_ids)
        items_changed(session, item_ids)
        current = _lock_levels(session, bin, item_ids)
        if any(counted > current[item.id] for item, counted in counts) and \
                session.scalar(select(Bin.archived).where(Bin.id == bin.id)):  # as it is now
            raise InvalidInput(f"Bin {bin.code} is archived; restore it before putting stock in it.")
        session.connection().execute(_SET_LEVEL, [
            {"item": item.id, "bin": bin.id, "counted": counted} for item, counted in counts])
        for item, counted in counts:
            difference = counted - current[item.id]
            movements.append(_record(
                session, "count", item, user, abs(difference),
                from_bin=bin if difference < 0 else None,
                to_bin=bin if difference >= 0 else None,
                reason=reason or f"counted {counted}, expected {current[item.id]}",
                counted=counted,
            ))
        session.flush()
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


_SET_LEVEL = (update(StockLevel.__table__)
              .where(StockLevel.__table__.c.item_id == bindparam("item"),
                     StockLevel.__table__.c.bin_id == bindparam("bin"))
              .values(quantity=bindparam("counted")))


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


def book_transfer(session, kind, item, from_bin, to_bin, quantity, user, reason="", reference="", unit_cost=None):
    """Book a pick, issue or return inside the caller's write transaction (the request rules), or
    a PO receipt: takes from `from_bin` (refused if it holds less), puts into `to_bin`, writes the
    ledger row with `unit_cost` (a PO receipt's line cost; by default the item's cost now)."""
    _positive_quantity(quantity)
    _transfer(session, item, from_bin, to_bin, quantity)
    return _record(session, kind, item, user, quantity, from_bin=from_bin, to_bin=to_bin, reason=reason,
                   reference=reference, unit_cost=unit_cost)


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
    from ..requests.availability import reserved_now

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

