"""Stock rules: receive, move, put away, adjust, count; what is available (on hand - held);
and the ledger check.

Every change of stock is booked through the booking primitive (stock/booking.py: `book` for one
movement, `book_many` for many), which holds every refusal; the rules add what is theirs (a
reason required, a line's rest).

Each rule writes its ledger rows and updates the stock-level cache in one transaction, and
never leaves a stock level below zero (booking.py says how).

Locks follow the global order of inventory/database.py: the items first (lock_items, by id),
then the stock-level rows by (item, bin): a move writes its two rows in that order whichever
way it goes, and a count locks its rows in that order before reading them. Each rule is a
database.unit_of_work, run again if PostgreSQL still finds a deadlock.

What the pages and the API read of the stock (levels, the ledger's history) is stock/queries.py.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, inspect, literal, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..auth.models import User
from ..bins.models import Bin
from ..catalog.models import Item
from ..database import unit_of_work
from ..errors import InvalidInput
from ..forecast.changes import items_changed
from ..holds.availability import reserved_now
from ..holds.backorders import fill_backorders, shrink_overbooked
from ..holds.locks import lock_items
from ..limits import MAX_QUANTITY, check_line_count
from ..limits import positive_quantity as _positive_quantity
from ..requests.models import OPEN, Request, RequestLine
from ..text import is_whole_number
from .booking import MAX_REFERENCE_LENGTH, Booking, _counted_quantity, _refuse, book, book_many
from .models import Movement, StockLevel


@unit_of_work
def receive(session: Session, item: Item, bin: Bin, quantity: int, user: User, reason: str = "",
            reference: str = "") -> Movement:
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


@unit_of_work
def move(session: Session, item: Item, from_bin: Bin, to_bin: Bin, quantity: int, user: User,
         reason: str = "") -> Movement:
    """Move `quantity` of `item` between bins; refused if `from_bin` holds less."""
    _refuse("move", item, from_bin, to_bin, quantity)  # before the transaction, as it always was
    if from_bin.id == to_bin.id:
        raise InvalidInput("Choose a different bin to move to.")

    lock_items(session, [item.id])  # the item first, then its two rows in (item, bin) order
    movement = book(session, "move", item, from_bin=from_bin, to_bin=to_bin, quantity=quantity, user=user,
                    reason=reason)
    return movement


@unit_of_work
def put_away(session: Session, item: Item, from_bin: Bin, to_bin: Bin, quantity: int, user: User,
             reason: str = "") -> Movement:
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
def adjust(session: Session, item: Item, bin: Bin, change: int, user: User, reason: str) -> Movement:
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
def count(session: Session, bin: Bin, counts: dict[Item, int] | Iterable[tuple[Item, int]], user: User,
          reason: str = "") -> list[Movement]:
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


def _lock_levels(session: Session, bin: Bin, item_ids: list[int]) -> dict[int, int]:
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
    ).tuples().all()
    return dict(rows)


def _with_live_lines(session: Session, item_ids: list[int]) -> set[int]:
    """The ids among `item_ids` that open requests hold or wait for, in one query."""
    return set(session.scalars(
        select(RequestLine.item_id).distinct().join(Request, RequestLine.request_id == Request.id)
        .where(RequestLine.item_id.in_(item_ids), Request.status.in_(OPEN),
               (RequestLine.reserved > 0) | (RequestLine.backordered > 0))))


def count_one(session: Session, item: Item, bin: Bin, counted: int, user: User, reason: str = "") -> Movement:
    """Count a single item in a bin (the item page's count)."""
    return count(session, bin, [(item, counted)], user, reason)[0]


@dataclass(frozen=True, order=True)  # check_ledger sorts them: by SKU, then bin code
class Drift:
    sku: str
    bin_code: str
    ledger: int
    cached: int


def check_ledger(session: Session) -> list[Drift]:
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
    skus = dict(session.execute(select(Item.id, Item.sku).where(Item.id.in_({k[0] for k in keys}))).tuples().all())
    codes = dict(session.execute(select(Bin.id, Bin.code).where(Bin.id.in_({k[1] for k in keys}))).tuples().all())
    return sorted(
        Drift(skus.get(i, f"item #{i}"), codes.get(b, f"bin #{b}"), ledger.get((i, b), 0), cached.get((i, b), 0))
        for i, b in keys
    )


def on_hand(session: Session, item_ids: Iterable[int]) -> dict[int, int]:
    """Total on hand per item id, for many items in one query."""
    item_ids = list(item_ids)
    if not item_ids:
        return {}
    totals = dict(session.execute(
        select(StockLevel.item_id, func.sum(StockLevel.quantity))
        .where(StockLevel.item_id.in_(item_ids))
        .group_by(StockLevel.item_id)
    ).tuples().all())
    return {item_id: int(totals.get(item_id) or 0) for item_id in item_ids}


@dataclass(frozen=True)
class Availability:
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def availability(session: Session, item_ids: Iterable[int]) -> dict[int, Availability]:
    """On hand, reserved (held by requests today) and available per item id, in three queries."""
    return with_reservations(session, on_hand(session, item_ids))


def with_reservations(session: Session, totals: dict[int, int],
                      held_ids: Iterable[int] | None = None) -> dict[int, Availability]:
    """Availability per item id from its units on hand ({item id: on hand}, read already), in one
    query. `held_ids`, when given, are the only ids that request lines may hold units of (the
    others have nothing reserved): only those are looked up, and none at all when it is empty."""

    held = reserved_now(session, totals if held_ids is None else held_ids)
    return {item_id: Availability(quantity, held.get(item_id, 0)) for item_id, quantity in totals.items()}
