"""Fulfilling a request in the stockroom: the pick list, picking into DISPATCH, putting a pick
back, releasing what could not be found, and checking returnables back in. Handing the picked
stock over (and undoing that) is handover.py.

Each movement is booked through the stock's booking primitive (stock/booking.py), after the
request's items are locked (common.py).
"""
from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from ..auth.models import User
from ..bins.models import DISPATCH_CODE, Bin
from ..database import unit_of_work
from ..errors import Conflict, DomainError, InvalidInput
from ..holds.availability import free_quantity
from ..holds.availability import request_window as _window  # the days a request's returnables hold their units now
from ..holds.backorders import fill_backorders, shrink_overbooked
from ..stock import booking
from ..stock.models import StockLevel
from ..text import is_whole_number
from . import emails
from .common import _load_for_update, _step
from .lifecycle import Action, Status, require
from .models import OUTCOMES, Request, RequestLine


def dispatch_bin(session: Session) -> Bin:
    """The bin picked stock waits in until it is handed over (created on first use)."""
    bin = session.scalar(select(Bin).where(Bin.code == DISPATCH_CODE))
    if bin is None:
        bin = Bin(code=DISPATCH_CODE, name="Picked, waiting for hand-over", zone="Dispatch")
        session.add(bin)
        session.flush()
    return bin


def pick_list(session: Session, request: Request) -> list[tuple[Bin, list[tuple[RequestLine, int]]]]:
    """[(bin, [(line, suggested quantity)])] ordered by bin code: where to pick each line from,
    taking from the bins in code order until the line is covered."""
    lines = [line for line in request.lines if line.to_pick > 0]
    if not lines:
        return []
    levels = session.scalars(
        select(StockLevel).join(StockLevel.bin)
        .where(StockLevel.item_id.in_([line.item_id for line in lines]), StockLevel.quantity > 0,
               Bin.code != DISPATCH_CODE)
        .options(contains_eager(StockLevel.bin))
        .order_by(Bin.code)
    ).all()
    by_bin: dict[int, tuple[Bin, list[tuple[RequestLine, int]]]] = {}
    for line in lines:
        needed = line.to_pick
        for level in levels:
            if level.item_id != line.item_id or needed <= 0:
                continue
            take = min(needed, level.quantity)
            by_bin.setdefault(level.bin_id, (level.bin, []))[1].append((line, take))
            needed -= take
    return sorted(by_bin.values(), key=lambda entry: entry[0].code)


@contextmanager
def _about(what: object) -> Iterator[None]:
    """Mark a refusal raised inside as being about `what` (a line id), unless it says already."""
    try:
        yield
    except DomainError as error:
        if error.about is None:
            error.about = what
        raise


@unit_of_work
def pick(session: Session, request_id: int, bin: Bin, picks: dict[int, int], user: User) -> Request:
    """Pick lines of an approved request from `bin`: {line_id: quantity}. Books pick movements
    from the bin into DISPATCH; the units stay held for the request. Zero means not picked
    here. The request is ready once every held unit is picked."""
    request = _load_for_update(session, request_id)
    require(request, Action.PICK, user)
    lines = {line.id: line for line in request.lines}
    dispatch = dispatch_bin(session)
    if bin.id == dispatch.id:
        raise InvalidInput("Pick from a stock bin, not from DISPATCH.")
    picked_any = []
    for line_id, quantity in picks.items():
        with _about(line_id):  # a refusal says which line, so a page can show it there
            line = lines.get(line_id)
            if line is None:
                raise InvalidInput(f"Line #{line_id} is not on request {request.number}.")
            if not is_whole_number(quantity) or quantity < 0:
                raise InvalidInput(f"{line.item.sku}: a picked quantity must be a whole number, 0 or more.")
            if quantity > line.to_pick:
                raise InvalidInput(f"{line.item.sku}: only {line.to_pick} left to pick, not {quantity}.")
            if quantity == 0:
                continue
            booking.book(session, "pick", line.item, from_bin=bin, to_bin=dispatch, quantity=quantity, user=user,
                         reason=f"Picked for {request.number}", reference=request.number)
        line.picked += quantity
        picked_any.append(f"{quantity} × {line.item.sku}")
    if not picked_any:
        raise InvalidInput("Enter how many you picked of at least one line.")
    request.status = Status.PICKING
    _refuse_clashing_bookings(session, request)
    _step(session, request, user, "picked", f"From {bin.code}: {', '.join(picked_any)}")
    _ready_if_done(session, request, user)
    return request


def _refuse_clashing_bookings(session: Session, request: Request) -> None:
    """Picked or handed over before its dates (or after them), a returnable leaves the shelf
    outside its booked window: refuse when another booking holds the units then."""
    session.flush()
    window = _window(request)
    for line in request.lines:
        if line.item.returnable and line.reserved and free_quantity(session, line.item, window) < 0:
            # return_by is set for returnables, unless the item became returnable after the request
            # was submitted without one.
            dates = (f"{request.needed_by.isoformat()} to {request.return_by.isoformat()}" if request.return_by
                     else f"from {request.needed_by.isoformat()}; it has no return date")
            raise Conflict(f"{line.item.sku} is booked for another request in the meantime: it can go out for "
                           f"{request.number} only within its dates ({dates}).")


def _ready_if_done(session: Session, request: Request, user: User) -> None:
    if all(line.to_pick == 0 for line in request.lines) and any(line.picked for line in request.lines):
        request.status = Status.READY
        _step(session, request, user, "ready", "Ready for pick-up" if request.handoff == "pickup" else "Ready to ship")
        emails.ready(session, request)


@unit_of_work
def put_back(session: Session, request_id: int, line_id: int, bin: Bin, quantity: int, user: User) -> Request:
    """Undo a pick: `quantity` of a line goes from DISPATCH back into `bin` and stays held for
    the request (to be picked again, or released). A ready request is picking again."""
    request = _load_for_update(session, request_id)
    require(request, Action.PUT_BACK, user)
    line = next((line for line in request.lines if line.id == line_id), None)
    if line is None:
        raise InvalidInput(f"Line #{line_id} is not on request {request.number}.")
    if not is_whole_number(quantity) or quantity <= 0:
        raise InvalidInput("How many to put back must be a whole number, more than zero.")
    if quantity > line.picked:
        raise InvalidInput(f"Only {line.picked} of {line.item.sku} are picked.")
    if bin.code == DISPATCH_CODE or bin.archived:
        raise InvalidInput("Put picked stock back into a stock bin.")
    booking.book(session, "move", line.item, from_bin=dispatch_bin(session), to_bin=bin, quantity=quantity,
                 user=user, reason=f"Put back from {request.number}", reference=request.number, put_back=True)
    line.picked -= quantity
    request.status = Status.PICKING
    _step(session, request, user, "put_back", f"{quantity} × {line.item.sku} back into {bin.code}")
    return request


@unit_of_work
def release_unpicked(session: Session, request_id: int, line_ids: Collection[int], user: User) -> Request:
    """A short pick: the picker releases what could not be found; it is recorded as short."""
    request = _load_for_update(session, request_id)
    require(request, Action.RELEASE_UNPICKED, user)
    released = []
    for line in request.lines:
        if line.id in line_ids and line.to_pick > 0:
            quantity = line.to_pick
            line.reserved -= quantity
            line.short += quantity
            line.backordered = 0
            released.append(f"{quantity} × {line.item.sku}")
    if not released:
        raise InvalidInput("Nothing left to release.")
    _step(session, request, user, "short", f"Not found, released: {', '.join(released)}")
    session.flush()
    for line in request.lines:
        fill_backorders(session, line.item)
    if any(line.picked for line in request.lines):
        request.status = Status.PICKING
        _ready_if_done(session, request, user)
    return request


@unit_of_work
def check_in(session: Session, request_id: int, bin: Bin, outcomes: dict[int, dict[str, int]],
             user: User) -> Request:
    """Check returnables back in: {line_id: {"returned": n, "consumed": n, "lost": n, "damaged": n}}
    adding up to what went out. Returned units go back into `bin`; the booking ends."""
    request = _load_for_update(session, request_id)
    require(request, Action.CHECK_IN, user)  # and that it has returnables
    if bin.code == DISPATCH_CODE or bin.archived:
        raise InvalidInput(f"Put returned units into a stock bin, not {bin.code}"
                           + (" (archived)." if bin.archived else "."), about="bin")
    lines = {line.id: line for line in request.lines if line.item.returnable and line.issued}
    if set(outcomes) != set(lines):
        raise InvalidInput("Say for every returnable line what came back.")
    summary = []
    for line_id, outcome in outcomes.items():
        line = lines[line_id]
        counts = {}
        for key in OUTCOMES:
            value = outcome.get(key, 0)
            if not is_whole_number(value) or value < 0:
                raise InvalidInput(f"{line.item.sku}: {key} must be a whole number, 0 or more.",
                                   about=(line_id, key))
            counts[key] = value
        if sum(counts.values()) != line.issued:
            raise InvalidInput(f"{line.item.sku}: {line.issued} went out, but the outcomes add up to "
                               f"{sum(counts.values())}.", about=line_id)
        if counts["returned"]:
            booking.book(session, "return", line.item, to_bin=bin, quantity=counts["returned"], user=user,
                         reason=f"Returned from {request.number}", reference=request.number)
        line.returned, line.consumed, line.lost, line.damaged = (
            counts["returned"], counts["consumed"], counts["lost"], counts["damaged"])
        line.reserved = 0
        summary.append(f"{line.item.sku}: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v))
    request.status = Status.RETURNED
    _step(session, request, user, "returned", "; ".join(summary) + f" (into {bin.code})")
    session.flush()
    for line in lines.values():
        shrink_overbooked(session, line.item, user)  # lost, damaged or consumed: fewer to book
        fill_backorders(session, line.item)
    return request
