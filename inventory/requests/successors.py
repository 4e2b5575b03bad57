"""Swapping the successor in: a manager moves whatever still holds an old print piece onto the
piece that replaces it (Item.replaced_by), all or nothing, in one write transaction.

- Open requests not yet picked (submitted, approved): each line of the old piece becomes a line
  of the successor. What it held is held of the successor instead (under the same item locks as
  every reservation, so available never goes below zero); what waited on backorder waits for the
  successor, and is served from what the successor has left, oldest request first, as any
  backorder is when stock comes free. A request that already has a line for the successor gets
  the old line merged in.
- Requests already picking, ready or handed over are under way (the old piece is in DISPATCH or
  with the rep): they keep it, and the summary names them.
- Kit templates that list the old piece list the successor instead (merged into its line when
  they list both).

When the successor has too few free units for everything held, the swap is refused whole,
unless the manager chose to swap anyway with the rest backordered (`backorder_short`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from ..auth.models import User
from ..auth.roles import MANAGERS
from ..catalog.models import Item
from ..database import SessionLike, unit_of_work
from ..errors import Conflict, Forbidden, InsufficientStock, InvalidInput
from ..events.models import KitLine, KitTemplate
from ..forecast.changes import items_changed
from ..holds.availability import (Window, booking_window, bookings_of, free_quantities, owned_returnable,
                                 peak_booked)
from ..holds.backorders import fill_backorders
from ..holds.locks import lock_items
from .lifecycle import Status
from .models import Request, RequestLine, RequestStep

# Requests whose lines a swap moves: nothing of them is off the shelf yet.
SWAPPABLE = (Status.SUBMITTED, Status.APPROVED)
# Requests physically under way: the old piece is picked, or out with the rep.
UNDERWAY = (Status.PICKING, Status.READY, Status.HANDED_OVER)


@dataclass
class RequestUse:
    """One open request's line of the old piece, and what the swap does with it."""
    request: Request
    line: RequestLine
    merge_into: RequestLine | None  # the request's own line of the successor, when it has one
    moved: int = 0                   # of what the line holds, what the successor holds instead

    @property
    def held(self) -> int:
        return self.line.reserved

    @property
    def backordered(self) -> int:
        return self.line.backordered

    @property
    def short(self) -> int:
        """Held units the successor cannot cover: backordered when the manager chose so."""
        return self.held - self.moved


@dataclass
class KitUse:
    """One kit template's line of the old piece."""
    kit: KitTemplate
    line: KitLine
    merge_into: KitLine | None  # the template's own line of the successor, when it has one

    @property
    def quantity(self) -> int:
        return self.line.quantity


@dataclass
class SwapPlan:
    """What swapping the successor in would do now: the swap page shows it, the rule does it."""
    item: Item
    successor: Item | None
    requests: list[RequestUse] = field(default_factory=list)  # needed-by date first
    kits: list[KitUse] = field(default_factory=list)  # by kit name
    underway: list[tuple[Request, RequestLine]] = field(default_factory=list)  # already picked, left as they are
    free: int = 0              # what the successor has free now (a returnable: today)
    problem: str | None = None  # why it cannot be swapped at all

    @property
    def held(self) -> int:
        return sum(use.held for use in self.requests)

    @property
    def moved(self) -> int:
        return sum(use.moved for use in self.requests)

    @property
    def short(self) -> int:
        return sum(use.short for use in self.requests)

    @property
    def backordered(self) -> int:
        return sum(use.backordered for use in self.requests)

    @property
    def left_free(self) -> int | None:
        """What the successor has free once the holds are moved: it serves the backorders first."""
        assert self.successor is not None, "asked only of a plan without a problem"
        return max(0, self.free - self.moved) if not self.successor.returnable else None

    @property
    def count(self) -> int:
        """Requests and kit templates the swap changes."""
        return len(self.requests) + len(self.kits)

    def shortage_message(self) -> str:
        successor = self.successor
        assert successor is not None, "asked only of a plan without a problem"
        free = f"{self.moved} free" + (" for those requests' dates" if successor.returnable else "")
        return (f"{successor.name} has {free}; the open requests hold {self.held} of the old one. "
                "Receive or count the new piece first, or swap with the rest backordered.")


class SuccessorShort(InsufficientStock):
    """The successor cannot hold everything the old piece holds: nothing was swapped."""

    def __init__(self, plan: SwapPlan) -> None:
        self.plan = plan
        super().__init__(plan.shortage_message())


@dataclass(frozen=True)
class SwapResult:
    """What a swap did (plain values: the lines it moved are gone)."""
    old_sku: str
    successor_sku: str
    requests: tuple[str, ...]  # numbers of the requests swapped
    kits: tuple[str, ...]      # names of the kit templates swapped
    units_moved: int       # units held of the old piece, now held of the successor
    units_backordered: int  # units held of the old piece the successor could not cover: now backordered
    backorders_moved: int  # units that waited for the old piece, now backordered on the successor
    backorders_filled: int  # of those, held at once from what the successor had left
    left: tuple[str, ...]  # numbers of requests already picked (or handed over): not swapped

    def summary(self) -> str:
        """One sentence a manager reads."""
        counted = [f"{len(self.requests)} request{'s' if len(self.requests) != 1 else ''}",
                   f"{len(self.kits)} kit template{'s' if len(self.kits) != 1 else ''}"]
        text = f"Swapped {self.successor_sku} for {self.old_sku} in {' and '.join(counted)}: {self.units_moved} held"
        if self.units_backordered:
            text += f", {self.units_backordered} backordered ({self.successor_sku} was short)"
        if self.backorders_filled:
            text += f", {self.backorders_filled} that waited on backorder now held"
        if self.backorders_moved > self.backorders_filled:
            text += f", {self.backorders_moved - self.backorders_filled} still on backorder"
        text += "."
        if self.left:
            text += f" Not swapped, already picked: {', '.join(self.left)}."
        return text


def _check_successor(item: Item, successor: Item | None, today: date | None) -> str | None:
    """Why `successor` cannot take over from `item` in requests and kits, or None."""
    if successor is None:
        return f"{item.sku} names no successor: set “Replaced by” on its edit page first."
    if successor.archived:
        return f"{successor.sku} is archived: restore it, or name another successor for {item.sku}."
    if successor.expired(today):
        return (f"{successor.sku} must not be used after {successor.do_not_use_after:%-d %b %Y} either: "
                f"name a successor for {item.sku} that can still be handed out.")
    if successor.returnable != item.returnable:
        kinds = ("returnable", "consumable") if item.returnable else ("consumable", "returnable")
        return (f"{item.sku} is {kinds[0]} and {successor.sku} is {kinds[1]}: a swap keeps each request's "
                "holds as they are, so change those requests one by one.")
    return None


class _Free:
    """What the successor has free, handed out line by line as the swap moves holds onto it:
    a consumable's free units go down; a returnable gains a booking for each request's window."""

    def __init__(self, session: SessionLike, item: Item, today: date) -> None:
        self.item, self.today = item, today
        if item.returnable:
            self.owned = owned_returnable(session, item.id)
            self.bookings = bookings_of(session, item.id, today)
        else:
            self.left = free_quantities(session, [item.id])[item.id]

    def now(self, window: Window | None = None) -> int:
        if self.item.returnable:
            return self.owned - peak_booked(self.bookings, window or Window.of(self.today))
        return self.left

    def take(self, wanted: int, window: Window) -> int:
        taken = max(0, min(wanted, self.now(window)))
        if self.item.returnable:
            self.bookings.append((window, taken))
        else:
            self.left -= taken
        return taken


def _plan(session: SessionLike, item: Item, successor: Item | None, today: date, lock: bool = False) -> SwapPlan:
    plan = SwapPlan(item, successor)
    lines = session.scalars(
        select(RequestLine).join(RequestLine.request)
        .where(RequestLine.item_id == item.id,
               or_(Request.status.in_(SWAPPABLE + (Status.PICKING, Status.READY)),
                   (Request.status == Status.HANDED_OVER) & (RequestLine.reserved > 0)))  # returnables out
        .options(contains_eager(RequestLine.request).options(selectinload(Request.lines),
                                                             selectinload(Request.requester)))
        .order_by(Request.needed_by, Request.created_at, Request.id, RequestLine.id)
    ).all()
    for line in lines:
        request = line.request
        if request.status in SWAPPABLE and not line.picked:
            merge = next((other for other in request.lines if successor and other.item_id == successor.id), None)
            plan.requests.append(RequestUse(request, line, merge))
        else:
            plan.underway.append((request, line))
    kit_lines = select(KitLine).join(KitLine.kit).where(KitLine.item_id == item.id)
    if lock:  # a template edited at the same instant waits for the swap (or the swap for it)
        kit_lines = kit_lines.with_for_update(of=KitLine)
    for kit_line in session.scalars(
            kit_lines.options(contains_eager(KitLine.kit).selectinload(KitTemplate.lines))
            .order_by(KitTemplate.name, KitTemplate.id)).all():
        kit_merge = next((other for other in kit_line.kit.lines if successor and other.item_id == successor.id), None)
        plan.kits.append(KitUse(kit_line.kit, kit_line, kit_merge))
    plan.problem = _check_successor(item, successor, today)
    if plan.problem is None and not plan.count:
        plan.problem = (f"Nothing holds {item.sku} that can be swapped: no open request before picking, "
                        "no kit template." + (" The requests already picked keep it." if plan.underway else ""))
    if successor is not None and plan.problem is None:
        free = _Free(session, successor, today)
        plan.free = free.now()
        for use in plan.requests:
            request = use.request
            use.moved = free.take(use.held, booking_window(request.status, request.needed_by, request.return_by, today))
    return plan


def swap_plan(session: SessionLike, item: Item, today: date | None = None) -> SwapPlan:
    """What swap_successor would do now, for the swap page (reads only)."""
    today = today or date.today()
    return _plan(session, item, item.replaced_by, today)


def holders(session: SessionLike, item: Item) -> tuple[int, int]:
    """(open requests not yet picked, kit templates) that list `item`: for the item page's
    button to the swap page. Two counts."""
    requests = session.execute(
        select(func.count(func.distinct(RequestLine.request_id))).join(RequestLine.request)
        .where(RequestLine.item_id == item.id, Request.status.in_(SWAPPABLE))).scalar_one()
    kits = session.execute(select(func.count(KitLine.id)).where(KitLine.item_id == item.id)).scalar_one()
    return requests, kits


@unit_of_work
def swap_successor(session: SessionLike, item: Item, user: User, today: date | None = None,
                   backorder_short: bool = False) -> SwapResult:
    """Swap `item`'s successor (item.replaced_by) into every open request not yet picked and
    every kit template that holds `item`, in one transaction; return a SwapResult.

    Guarantees: all or nothing (any refusal changes nothing); the successor never holds more
    than it has free, even with reservations made at the same instant (the items are locked as
    a reservation locks them, and what is free is read after the locks); what the successor
    cannot cover refuses the swap with SuccessorShort, unless `backorder_short`, when it is
    backordered on the successor instead. Each request swapped says so in its history. The old
    piece's released holds serve its other backorders; the forecast projects both items again.
    """
    if user.role not in MANAGERS:
        raise Forbidden("Only a marketing manager can swap a successor in.")
    today = today or date.today()
    old = session.get_one(Item, item.id, populate_existing=True)
    successor_id = old.replaced_by_id
    lock_items(session, [i for i in (old.id, successor_id) if i is not None])
    session.refresh(old)  # its successor may have changed while we waited for the locks
    if old.replaced_by_id != successor_id:
        raise Conflict(f"{old.sku}'s successor changed meanwhile: check the swap page again.")
    successor = session.get(Item, successor_id, populate_existing=True) if successor_id else None
    plan = _plan(session, old, successor, today, lock=True)
    if plan.problem:
        raise InvalidInput(plan.problem)
    assert successor is not None  # a missing successor is a problem (_check_successor)
    if plan.short and not backorder_short:
        raise SuccessorShort(plan)
    targets = [_move_line(session, use, successor, user) for use in plan.requests]
    for use in plan.kits:
        _move_kit_line(session, use, successor)
    session.flush()
    waiting = sum(line.backordered for line in set(targets))
    fill_backorders(session, successor)  # free units serve what waits for it, oldest request first
    filled = waiting - sum(line.backordered for line in set(targets))
    fill_backorders(session, old)  # what it held is free again: for requests under way that wait for it
    items_changed(session, [old.id, successor.id])
    result = SwapResult(
        old.sku, successor.sku, tuple(dict.fromkeys(use.request.number for use in plan.requests)),
        tuple(use.kit.name for use in plan.kits), plan.moved, plan.short, plan.backordered, filled,
        tuple(dict.fromkeys(request.number for request, _line in plan.underway)))
    return result


def _move_line(session: SessionLike, use: RequestUse, successor: Item, user: User) -> RequestLine:
    """The old line goes; its units join the request's line of the successor (a new line when it
    has none: a new line id, so a page opened before the swap cannot approve it unseen)."""
    line, request = use.line, use.request
    waiting = line.backordered + use.short
    target = use.merge_into
    if target is None:
        target = RequestLine(item_id=successor.id, quantity=0, reserved=0, backordered=0, picked=0, issued=0,
                             returned=0, consumed=0, lost=0, damaged=0, short=0)
        request.lines.append(target)
    target.quantity += line.quantity
    target.reserved += use.moved
    target.backordered += waiting
    target.short += line.short
    request.lines.remove(line)
    session.delete(line)
    parts = [f"{use.moved} held"]
    if use.short:
        parts.append(f"{use.short} backordered (not enough {successor.sku} free)")
    if line.backordered:
        parts.append(f"{line.backordered} on backorder")
    session.add(RequestStep(request=request, user_id=user.id, action="swapped",
                            note=f"Swapped {line.item.sku} for {successor.sku}: {', '.join(parts)}."))
    return target


def _move_kit_line(session: SessionLike, use: KitUse, successor: Item) -> None:
    if use.merge_into is None:
        use.line.item = successor
    else:
        use.merge_into.quantity += use.line.quantity
        use.kit.lines.remove(use.line)
        session.delete(use.line)
