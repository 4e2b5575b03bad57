"""Submitting a request: its details and lines checked, and every line reserved in one
transaction (all or nothing, or what is free held and the rest backordered).

The items are locked before what is free is read (common.py), so the last units are never
promised twice.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ..auth.models import User
from ..budgets import approvals
from ..budgets.models import Team
from ..budgets.standing import team_standing
from ..budgets.values import cents, draft_value
from ..catalog.models import Item
from ..database import unit_of_work
from ..errors import InvalidInput, NotFound, ShortStock
from ..events.models import Event
from ..forecast.changes import items_changed
from ..holds.availability import Window, free_quantities
from ..holds.locks import lock_items
from ..limits import check_line_count, positive_quantity
from ..timeutil import plan_limit, utcnow
from . import drafts, emails
from .common import MAX_NOTE
from .lifecycle import Status
from .models import HANDOFFS, PURPOSES, Request, RequestApproval, RequestLine, RequestStep

MAX_SHIP_TO = 500  # as the request form allows


@dataclass(frozen=True)
class Shortage:
    sku: str
    name: str
    requested: int
    available: int
    line_id: int | None = None  # the request line that is short, when changing an existing request


def validate_details(*, purpose: str, needed_by: date, return_by: date | None = None, handoff: str = "pickup",
                     ship_to: str = "", note: str = "", has_returnables: bool = False,
                     today: date | None = None) -> None:
    today = today or date.today()
    if purpose not in PURPOSES:
        raise InvalidInput(f"Purpose must be one of: {', '.join(PURPOSES)}.")
    if not isinstance(needed_by, date):
        raise InvalidInput("Say when you need it (needed-by date).")
    if needed_by < today:
        raise InvalidInput(f"The needed-by date {needed_by.isoformat()} is in the past.")
    if handoff not in HANDOFFS:
        raise InvalidInput("Hand-off must be pick up or ship.")
    if handoff == "ship" and not (ship_to or "").strip():
        raise InvalidInput("Give the address to ship to.")
    if len(ship_to or "") > MAX_SHIP_TO:
        raise InvalidInput(f"The ship-to address is too long: at most {MAX_SHIP_TO} characters.")
    if len(note or "") > MAX_NOTE:
        raise InvalidInput(f"The note is too long: at most {MAX_NOTE} characters.")
    if return_by is not None and not isinstance(return_by, date):
        raise InvalidInput("The return date must be a date.")
    if has_returnables and return_by is None:
        raise InvalidInput("Returnable items need a return date: when will they be back?")
    if return_by is not None and return_by < needed_by:
        raise InvalidInput("The return date is before the needed-by date.")
    if (return_by or needed_by) > plan_limit(today):
        raise InvalidInput(f"{(return_by or needed_by).isoformat()} is too far ahead: plan at most five years out.")


def _clean_lines(lines: list[tuple[Item, int]], today: date) -> list[tuple[Item, int]]:
    """[(Item, qty)] -> the same, validated: positive whole quantities, each SKU once,
    nothing archived or past its do-not-use-after date."""
    if not lines:
        raise InvalidInput("Add at least one item to the request.")
    check_line_count(lines, "A request")
    seen = set()
    for item, quantity in lines:
        positive_quantity(quantity, f"Quantity of {item.sku}")
        if item.id in seen:
            raise InvalidInput(f"{item.sku} is on the request twice.")
        seen.add(item.id)
        if item.archived:
            raise InvalidInput(f"{item.sku} is archived and cannot be requested.")
        if item.expired(today):
            assert item.do_not_use_after is not None  # expired(): it has one
            raise InvalidInput(
                f"{item.sku} must not be used after {item.do_not_use_after.isoformat()}; it cannot be reserved.")
    return lines


@unit_of_work(expire=False)
def submit(session: Session, requester: User, lines: Iterable[tuple[Item, int]], *, purpose: str, needed_by: date,
           return_by: date | None = None, handoff: str = "pickup", ship_to: str = "", note: str = "",
           event_id: int | None = None, allow_partial: bool = False, kit_id: int | None = None, kit_count: int = 0,
           today: date | None = None, draft_generation: int | None = None) -> Request:
    """Create a request and reserve all its lines in one transaction.

    All or nothing by default: if any line is short, nothing is written and ShortStock says per
    line what is available. With `allow_partial`, what is available is held and the rest of
    each line is backordered (filled first, in request order, when stock arrives).

    Sent from the requester's draft (`draft_generation`, the generation the page was drawn
    for), the draft is emptied in the same transaction, and a draft sent already (a second tap,
    another tab) is refused with drafts.StaleDraft: a draft becomes one request, never two.
    """
    today = today or date.today()
    lines = _clean_lines(list(lines), today)
    has_returnables = any(item.returnable for item, _ in lines)
    validate_details(purpose=purpose, needed_by=needed_by, return_by=return_by, handoff=handoff, ship_to=ship_to,
                     note=note, has_returnables=has_returnables, today=today)
    window = Window.of(needed_by, return_by)
    # Nothing loaded is expired by the commits: the items and the requester stay as the caller
    # loaded them (in here only their ids count: whether an item is returnable and what is free
    # are read afresh under the locks), and the caller can answer from the request as written
    # without loading it again.
    if event_id is not None and session.get(Event, event_id) is None:
        raise NotFound(f"No event #{event_id}.")
    if draft_generation is not None:
        drafts.consume(session, requester, draft_generation, {item.sku: quantity for item, quantity in lines})
    lock_items(session, [item.id for item, _ in lines])
    free_now = free_quantities(session, [item.id for item, _ in lines], window)
    plan, shortages = [], []
    for item, quantity in lines:
        free = max(0, free_now.get(item.id, 0))
        held = min(free, quantity)
        if held < quantity:
            shortages.append(Shortage(item.sku, item.name, quantity, free))
        plan.append((item, quantity, held))
    if shortages and not allow_partial:
        raise ShortStock(shortages)
    team = session.get(Team, requester.team_id) if requester.team_id is not None else None
    auto = _auto_approval(session, team, plan, needed_by, today)
    now = utcnow()
    summary = ", ".join(f"{held} × {item.sku}" + (f" (+{q - held} backordered)" if q > held else "")
                        for item, q, held in plan)
    request = _insert_request(
        session,
        dict(requester_id=requester.id, purpose=purpose, needed_by=needed_by,
             return_by=return_by if has_returnables else None, handoff=handoff,
             ship_to=(ship_to or "").strip() if handoff == "ship" else "", note=(note or "").strip(),
             event_id=event_id, kit_id=kit_id, kit_count=kit_count, team_id=requester.team_id,
             status=Status.APPROVED if auto else Status.SUBMITTED, rejection_reason="",
             created_at=now, updated_at=now),
        [dict(item_id=item.id, quantity=quantity, reserved=held, backordered=quantity - held)
         for item, quantity, held in plan],
        dict(user_id=requester.id, action="submitted", note=f"Held {summary}.", at=now),
    )
    if auto:
        session.add(RequestStep(request_id=request.id, user_id=requester.id, action="approved", note=auto, at=now))
        request.approvals.append(RequestApproval(user_id=None, level=approvals.Level.AUTO,
                                                 decision=approvals.APPROVED, note=auto, at=now))
        return request
    emails.rush(session, request, requester, today)
    if team is not None and team.approver_id is not None:
        # Only the first level is asked for now (its e-mail says why the approver); the levels
        # after it, and the budget, are worked out when the approver has decided.
        emails.approval_needed(session, request, approvals.Level.APPROVER,
                               approvals.first_need(request, team))
    return request


def _auto_approval(session: Session, team: Team | None, plan: list[tuple[Item, int, int]], needed_by: date,
                   today: date) -> str | None:
    """The note of the approval the team's rule gives a request about to be written (`plan`:
    (item, asked, held)), or None when it waits for an approver (approvals.auto_approves)."""
    if team is None or team.approver_id is None or team.auto_approve_up_to <= 0:
        return None  # no rule to apply: no statement spent on the budget
    value = cents(draft_value((item, quantity) for item, quantity, _held in plan))
    if value > team.auto_approve_up_to:
        return None
    now = team_standing(session, team.id, needed_by, approvals.budget_kind(), today)
    return approvals.auto_approves(value, team, now.after(value) if now is not None else None)


_request = cast(Table, Request.__table__)
_line = cast(Table, RequestLine.__table__)
_step_table = cast(Table, RequestStep.__table__)
_INSERT_REQUEST = insert(_request).returning(_request.c.id)
_INSERT_LINES = insert(_line).returning(_line.c.id, sort_by_parameter_order=True)  # ids in the lines' order
_INSERT_STEP = insert(_step_table)
_NOTHING_YET = dict(picked=0, issued=0, returned=0, consumed=0, lost=0, damaged=0, short=0, issued_unit_cost=None)


def _insert_request(session: Session, fields: dict[str, Any], lines: list[dict[str, Any]],
                    step: dict[str, Any]) -> Request:
    """Write a new request, its lines and its first step: three INSERTs on the session's
    connection (every column given), and return the request as a flush would leave it:
    persistent, with its lines, every column loaded (its steps load when asked for).

    Reservations are the busiest write; the unit of work cost twice the CPU of these three
    statements for what is always the same three rows."""
    connection = session.connection()
    items_changed(session, [line["item_id"] for line in lines])  # what the forecast must project again
    request_id = connection.execute(_INSERT_REQUEST, fields).scalar_one()
    rows = [dict(_NOTHING_YET, request_id=request_id, **line) for line in lines]
    line_ids = connection.execute(_INSERT_LINES, rows).scalars().all()
    connection.execute(_INSERT_STEP, dict(step, request_id=request_id))
    request = Request(id=request_id, **fields)
    request.lines = [RequestLine(id=line_id, **row) for line_id, row in zip(line_ids, rows)]
    set_committed_value(request, "approvals", [])  # a new request has none: no statement to ask
    for written in (request, *request.lines):
        make_transient_to_detached(written)  # as loaded from the database: nothing left to flush
    session.add(request)
    return request
