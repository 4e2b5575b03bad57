"""How much of an item is free to reserve: for consumables now, for returnables in a window.

available = on hand - held reservations. For a returnable, the units owned are those on hand
plus those out with a rep, and a booking holds units for its window [out, back): a window
that ends on the day another starts does not clash with it. Once its units are off the shelf
(picked or handed over), a booking holds them from today whatever its dates say, and a
returnable out past its return date (overdue) is held until it is checked in.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, bindparam, case, func, select

from ..catalog.models import Item
from ..database import SessionLike
from ..requests.lifecycle import Status
from ..requests.models import HOLDING, Request, RequestLine
from ..stock.models import StockLevel
from ..timeutil import add_days

# Statuses in which a request's units may be off the shelf: picked into DISPATCH or out with the rep.
OFF_SHELF = (Status.PICKING, Status.READY, Status.HANDED_OVER)


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # exclusive

    @classmethod
    def of(cls, out: date, back: date | None = None) -> Window:
        """The days a booking holds units: from `out` up to (not including) `back`, one day at least."""
        back = back or out
        return cls(out, max(back, add_days(out, 1)))  # on 9999-12-31: that day, held to the calendar's end

    def overlaps(self, other: Window) -> bool:
        return self.start < other.end and other.start < self.end


def booking_window(status: str, out: date, back: date | None, today: date | None = None) -> Window:
    """The days a returnable booking holds its units, given the request's status.

    Booked: [out, back). Picked or handed over early, the units are gone from the shelf now, so
    the booking starts today at the latest (and lasts until tomorrow at least); handed over and
    not back by the return date (overdue), it lasts until it is checked in.
    """
    today = today or date.today()
    booked = Window.of(out, back)
    if status not in OFF_SHELF:
        return booked
    end = date.max if status == Status.HANDED_OVER and booked.end <= today else max(booked.end, add_days(today, 1))
    return Window(min(booked.start, today), end)



def request_window(request: Request, today: date | None = None) -> Window:
    """The days a request's returnables hold their units now (booking_window of its status and dates)."""
    return booking_window(request.status, request.needed_by, request.return_by, today)

# The two statements every reservation sends, built once, on the tables (Core): run on the
# session's connection they skip the ORM's execution path, which costs more CPU than they do.
_item, _stock, _line, _request = Item.__table__, StockLevel.__table__, RequestLine.__table__, Request.__table__
def _on_hand(session: SessionLike, item_id: int) -> int:
    return session.execute(select(func.coalesce(func.sum(StockLevel.quantity), 0))
                           .where(StockLevel.item_id == item_id)).scalar_one()


def _holding_lines(session: SessionLike, item_id: int, exclude_line_id: int | None = None) -> Sequence[Row[Any]]:
    query = (select(RequestLine.id, RequestLine.reserved, RequestLine.issued, Request.status, Request.needed_by,
                    Request.return_by, Request.created_at, Request.id.label("request_id"))
             .join(Request, RequestLine.request_id == Request.id)
             .where(RequestLine.item_id == item_id, Request.status.in_(HOLDING), RequestLine.reserved > 0))
    if exclude_line_id is not None:
        query = query.where(RequestLine.id != exclude_line_id)
    return session.execute(query).all()


def owned_returnable(session: SessionLike, item_id: int) -> int:
    """Units of a returnable that exist: on the shelf plus out with reps."""
    out = session.execute(
        select(func.coalesce(func.sum(RequestLine.issued), 0))
        .join(Request, RequestLine.request_id == Request.id)
        .where(RequestLine.item_id == item_id, Request.status == Status.HANDED_OVER)
    ).scalar_one()
    return _on_hand(session, item_id) + out


def peak_booked(bookings: Iterable[tuple[Window, int]], window: Window) -> int:
    """Most units booked at any one moment within `window` by (Window, quantity) bookings."""
    points = []
    for booked_window, quantity in bookings:
        if booked_window.overlaps(window):
            points.append((max(booked_window.start, window.start), quantity))
            points.append((min(booked_window.end, window.end), -quantity))
    peak = current = 0
    for _moment, change in sorted(points, key=lambda p: (p[0], p[1])):  # ends before starts on a tie
        current += change
        peak = max(peak, current)
    return peak


def free_quantity(session: SessionLike, item: Item, window: Window | None = None,
                  exclude_line_id: int | None = None) -> int:
    """Units of `item` that a new reservation may take (for returnables: within `window`)."""
    lines = _holding_lines(session, item.id, exclude_line_id)
    if not item.returnable:
        return _on_hand(session, item.id) - sum(line.reserved for line in lines)
    return _free_returnable(session, item.id, lines, window)


def bookings_of(session: SessionLike, item_id: int, today: date | None = None) -> list[tuple[Window, int]]:
    """[(Window, units)]: every booking that holds units of a returnable, as free_quantity counts them."""
    today = today or date.today()
    return [(booking_window(line.status, line.needed_by, line.return_by, today), line.reserved)
            for line in _holding_lines(session, item_id)]


def _free_returnable(session: SessionLike, item_id: int, lines: Sequence[Row[Any]],
                     window: Window | None = None) -> int:
    today = date.today()
    window = window or Window.of(today)
    bookings = [(booking_window(line.status, line.needed_by, line.return_by, today), line.reserved) for line in lines]
    return owned_returnable(session, item_id) - peak_booked(bookings, window)


# Per item: whether it is returnable (read afresh, under the caller's lock) and, for a
# consumable, on hand - held, as free_quantity works it out, in one statement for many items.
_FREE_NOW = select(
    _item.c.id, _item.c.returnable,
    select(func.coalesce(func.sum(_stock.c.quantity), 0)).where(_stock.c.item_id == _item.c.id)
    .scalar_subquery().label("on_hand"),
    select(func.coalesce(func.sum(_line.c.reserved), 0)).join(_request, _line.c.request_id == _request.c.id)
    .where(_line.c.item_id == _item.c.id, _request.c.status.in_(HOLDING), _line.c.reserved > 0)
    .scalar_subquery().label("held"),
).where(_item.c.id.in_(bindparam("ids", expanding=True)))


def free_quantities(session: SessionLike, item_ids: Iterable[int], window: Window | None = None) -> dict[int, int]:
    """{item id: units a new reservation may take}, as free_quantity for each item (returnables
    within `window`), in at most three statements however many items: one for every item's on
    hand and (consumables) held, and for the returnables among them one for their bookings and
    one for their units out with reps."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    free, returnables = {}, {}
    session.flush()  # the session's own pending changes count (a no-op when there are none)
    for row in session.connection().execute(_FREE_NOW, {"ids": ids}).all():
        if row.returnable:
            returnables[row.id] = int(row.on_hand)
        else:
            free[row.id] = int(row.on_hand) - int(row.held)
    if returnables:
        free.update(_free_returnables(session, returnables, window))
    return free


_HOLDING_MANY = (
    select(_line.c.item_id, _line.c.reserved, _request.c.status, _request.c.needed_by, _request.c.return_by)
    .join(_request, _line.c.request_id == _request.c.id)
    .where(_line.c.item_id.in_(bindparam("ids", expanding=True)), _request.c.status.in_(HOLDING),
           _line.c.reserved > 0))
_OUT_MANY = (
    select(_line.c.item_id, func.sum(_line.c.issued))
    .join(_request, _line.c.request_id == _request.c.id)
    .where(_line.c.item_id.in_(bindparam("ids", expanding=True)), _request.c.status == Status.HANDED_OVER)
    .group_by(_line.c.item_id))


def _free_returnables(session: SessionLike, on_hand: dict[int, int], window: Window | None = None) -> dict[int, int]:
    """{item id: free within `window`} for returnables, given {item id: units on hand}: as
    _free_returnable for each, in two statements for all of them."""
    today = date.today()
    window = window or Window.of(today)
    ids = sorted(on_hand)
    connection = session.connection()
    bookings: dict[int, list[tuple[Window, int]]] = {item_id: [] for item_id in ids}
    for row in connection.execute(_HOLDING_MANY, {"ids": ids}):
        bookings[row.item_id].append((booking_window(row.status, row.needed_by, row.return_by, today), row.reserved))
    out = {item_id: int(issued or 0) for item_id, issued in connection.execute(_OUT_MANY, {"ids": ids})}
    return {item_id: on_hand[item_id] + out.get(item_id, 0) - peak_booked(bookings[item_id], window)
            for item_id in ids}


def reserved_now(session: SessionLike, item_ids: Iterable[int], today: date | None = None) -> dict[int, int]:
    """Units held per item id today, for many items in two queries (list pages, the API).

    Consumables: everything held by open requests. Returnables: units on the shelf that a
    booking covering today holds (booked today minus those already out with the rep).
    """
    item_ids = list(item_ids)
    if not item_ids:
        return {}
    today = today or date.today()
    # As booking_window: a booking's window [out, back) covers today, and so does every booking
    # whose units are off the shelf (picked, out, or overdue).
    covers_today = Request.status.in_(OFF_SHELF) | ((Request.needed_by <= today) & (
        (func.coalesce(Request.return_by, Request.needed_by) > today) | (Request.needed_by == today)))
    rows = session.execute(
        select(
            RequestLine.item_id,
            Item.returnable,
            func.sum(RequestLine.reserved).label("held"),
            func.sum(case((covers_today, RequestLine.reserved), else_=0)).label("held_today"),
            func.sum(case((Request.status == Status.HANDED_OVER, RequestLine.issued), else_=0)).label("out"),
        )
        .join(Request, RequestLine.request_id == Request.id)
        .join(Item, RequestLine.item_id == Item.id)
        # Only lines that hold something: a handed-over consumable holds nothing (reserved 0) and a
        # returnable out with a rep holds what it issued, so this skips years of finished lines.
        .where(RequestLine.item_id.in_(item_ids), RequestLine.reserved > 0, Request.status.in_(HOLDING))
        .group_by(RequestLine.item_id, Item.returnable)
    ).all()
    result = dict.fromkeys(item_ids, 0)
    for row in rows:
        if row.returnable:
            result[row.item_id] = max(0, int(row.held_today or 0) - int(row.out or 0))
        else:
            result[row.item_id] = int(row.held or 0)
    return result
