"""Reviewing a request: a manager approves, rejects or changes its quantities; the rep (or a
manager) cancels it. What a rejection or a cancellation releases goes to the backorders first.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.models import User
from ..budgets import approvals
from ..database import unit_of_work
from ..errors import Conflict, InvalidInput, NotFound, ShortStock
from ..holds.availability import free_quantities
from ..holds.availability import request_window as _window  # the days a request's returnables hold their units now
from ..holds.backorders import fill_backorders
from ..limits import MAX_QUANTITY
from ..text import is_whole_number, limited
from . import emails
from .common import _load_for_update, _step
from .lifecycle import Action, Status, require
from .models import Request, RequestLine
from .submission import Shortage

MAX_REJECTION_REASON = 300  # as the reject form allows


class RequestChanged(Conflict):
    """The request's lines are not those the page showed when its button was pressed."""

    def __init__(self, request: Request) -> None:
        super().__init__(f"{request.number} changed since you opened it (another manager, or the rep). "
                         "Check it as it is now, then try again.")


def _check_seen(request: Request, seen: dict[int, int] | None) -> None:
    """`seen` ({line_id: asked quantity} as the page showed them; None: not checked) must still be
    the request's lines: a manager approves, or changes, what they saw, never what someone else
    made of it meanwhile."""
    if seen is not None and seen != {line.id: line.quantity for line in request.lines}:
        raise RequestChanged(request)


@unit_of_work
def approve(session: Session, request_id: int, manager: User, note: str = "",
            quantities: dict[int, int] | None = None, seen: dict[int, int] | None = None) -> Request:
    """Approve a submitted request at the levels this manager may fill (budgets/approvals.py):
    when none is left, it is approved and goes on the stockroom's pick list; else it waits for
    the next approver, who is e-mailed. Forbidden, in words, when this manager may not approve
    it now (another team's approver, a second approval from the first approver, over budget
    without the right); InvalidInput about the note when it goes over budget without a reason.

    With `quantities` ({line_id: quantity}, as `change_quantities` takes them) the lines are
    changed first, in the same transaction: the request is approved with exactly those
    quantities and the hold follows, or, when a change cannot be made (not enough free, a bad
    number), nothing is changed and nothing is approved. With `seen`, refuses (RequestChanged)
    when the lines are no longer those the manager saw."""
    request = _load_for_update(session, request_id)
    require(request, Action.APPROVE, manager)
    _check_seen(request, seen)
    if quantities:
        _apply_quantities(session, request, quantities, manager)
    note = (note or "").strip()
    decision = approvals.record_approval(session, request, manager, note)
    if decision.approves:
        request.status = Status.APPROVED
        _step(session, request, manager, "approved", note)
        emails.approved(session, request)
        return request
    waiting = decision.waiting[len(decision.fills):]
    said = " and ".join(level.filled_as for level in decision.fills)
    _step(session, request, manager, "approval",
          f"Approved as {said}; waiting for {' and '.join(level.waiting_for for level in waiting)}."
          + (f" {note}" if note else ""))
    emails.approval_needed(session, request, waiting[0], decision.need)
    return request


def _end(session: Session, request: Request, user: User, status: Status, note: str) -> None:
    """Reject or cancel: release everything held, drop backorders, then serve the queue."""
    items = set()
    for line in request.lines:
        line.reserved = line.picked  # what is not picked yet goes back
        line.backordered = 0
        items.add(line.item)
    request.status = status
    _step(session, request, user, status, note)
    session.flush()
    for item in items:
        fill_backorders(session, item)


@unit_of_work
def reject(session: Session, request_id: int, manager: User, reason: str) -> Request:
    """Reject with a reason; the stock held is released at once."""
    reason = limited(reason, "The reason", MAX_REJECTION_REASON, about=(None, "reason"))
    if not reason:
        raise InvalidInput("Say why the request is rejected; the rep will see it.")
    request = _load_for_update(session, request_id)
    require(request, Action.REJECT, manager)
    if request.status == Status.SUBMITTED:
        approvals.record_rejection(request, manager, reason)
    request.rejection_reason = reason
    _end(session, request, manager, Status.REJECTED, reason)
    emails.rejected(session, request)
    return request


@unit_of_work
def cancel(session: Session, request_id: int, user: User, note: str = "") -> Request:
    """The rep (or a manager) cancels before picking starts; the stock held is released."""
    request = _load_for_update(session, request_id)
    require(request, Action.CANCEL, user)
    _end(session, request, user, Status.CANCELLED, (note or "").strip())
    return request


def change_quantity(session: Session, line_id: int, quantity: int, manager: User) -> Request:
    """Change one line before approval; see `change_quantities`."""
    request_id = session.scalar(select(RequestLine.request_id).where(RequestLine.id == line_id))
    if request_id is None:
        raise NotFound(f"No request line #{line_id}.")
    return change_quantities(session, request_id, {line_id: quantity}, manager)


@unit_of_work
def change_quantities(session: Session, request_id: int, quantities: dict[int, int], manager: User,
                      seen: dict[int, int] | None = None) -> Request:
    """Change lines before approval, {line_id: quantity} (0 removes a line), all or none; the
    reservation follows (more needs free stock, less is released and serves the backorders).

    Refusals name the line at fault: ShortStock's shortages carry their `line_id`, and an
    InvalidInput about one line has its `about` set to the line's id."""
    request = _load_for_update(session, request_id)
    require(request, Action.CHANGE_QUANTITIES, manager)
    _check_seen(request, seen)
    _apply_quantities(session, request, quantities, manager)
    return request


def _apply_quantities(session: Session, request: Request, quantities: dict[int, int], manager: User) -> None:
    """The body of `change_quantities`, inside the caller's write transaction, on a request
    loaded with `_load_for_update` (its items locked) and checked to be changeable. Raises
    before anything is written when a quantity is bad or more than is free; every short line is
    reported at once."""
    lines = {line.id: line for line in request.lines}
    unknown = set(quantities) - set(lines)
    if unknown:
        raise NotFound(f"No line #{min(unknown)} on request {request.number}.", about=min(unknown))
    for line_id, quantity in quantities.items():
        sku = lines[line_id].item.sku
        if not is_whole_number(quantity) or quantity < 0:
            raise InvalidInput(f"{sku}: a quantity must be a whole number, 0 or more.", about=line_id)
        if quantity > MAX_QUANTITY:
            raise InvalidInput(f"{sku}: a quantity must be at most {MAX_QUANTITY:,}.", about=line_id)
    if all(quantities.get(line_id, line.quantity) == 0 for line_id, line in lines.items()):
        raise InvalidInput("A request needs at least one line; reject or cancel it instead.")
    growing = {line_id: quantity for line_id, quantity in quantities.items() if quantity > lines[line_id].quantity}
    free_now = free_quantities(session, [lines[line_id].item_id for line_id in growing], _window(request))
    shortages = []
    for line_id, quantity in growing.items():
        line = lines[line_id]
        free = max(0, free_now.get(line.item_id, 0))
        if free < quantity - line.quantity:
            shortages.append(Shortage(line.item.sku, line.item.name, quantity, line.reserved + free, line_id))
    if shortages:
        raise ShortStock(shortages)
    notes, items = [], []
    for line_id, quantity in quantities.items():
        line = lines[line_id]
        item, old = line.item, line.quantity
        if quantity == old:
            continue
        if quantity == 0:
            request.lines.remove(line)
            session.delete(line)
            notes.append(f"{item.sku}: removed (was {old})")
        elif quantity > old:
            line.quantity, line.reserved = quantity, line.reserved + (quantity - old)
            notes.append(f"{item.sku}: {old} → {quantity}")
        else:
            less = old - quantity
            from_backorder = min(less, line.backordered)
            line.backordered -= from_backorder
            line.reserved -= less - from_backorder
            line.quantity = quantity
            notes.append(f"{item.sku}: {old} → {quantity}")
        items.append(item)
        session.flush()
    if notes:
        _step(session, request, manager, "changed", "; ".join(notes))
        for item in items:
            fill_backorders(session, item)


def more_free(session: Session, request: Request) -> dict[int, int]:
    """{line id: how many more units that line could hold now}, for the manager's page: what
    `change_quantities` would let a line grow by (for returnables, within the request's dates)."""
    free = free_quantities(session, [line.item_id for line in request.lines], _window(request))
    return {line.id: max(0, free.get(line.item_id, 0)) for line in request.lines}
