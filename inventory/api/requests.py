"""JSON API for requests: reserve, read, list, cancel, the manager's approve/reject, the
stockroom's hand-over and the manager's undo of it."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import g, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ..auth.roles import EVERYONE, MANAGERS, STAFF
from ..budgets import standing
from ..budgets.models import Team
from ..catalog.services import get_item
from ..core.money import currency
from ..errors import InvalidInput, NotFound, ShortStock
from ..extensions import db
from ..limits import check_line_count
from ..pagination import MAX_PAGE
from ..requests import carriers, handover, queries, review, submission
from ..requests.models import STATUSES, Request, RequestApproval
from ..text import is_whole_number
from ..timeutil import parse_date
from .views import ApiError, _field, _int_arg, _paged, api_roles, bp

MAX_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL
# A larger request id answers 404 instead of failing in the database.
REQUEST_URL = f"/requests/<int(max={MAX_ID}):request_id>"


def request_json(r: Request) -> dict:
    """A request as the API answers it. Its lines' items and its team must be loaded (the
    queries load them with the lines), so that a list costs no statement per request."""
    values = standing.request_values(r)
    return {
        "id": r.id,
        "number": r.number,
        "status": r.status,
        "purpose": r.purpose,
        "needed_by": r.needed_by.isoformat(),
        "return_by": r.return_by.isoformat() if r.return_by else None,
        "handoff": r.handoff,
        "ship_to": r.ship_to,
        "note": r.note,
        "event_id": r.event_id,
        "requester": r.requester.email,
        "rejection_reason": r.rejection_reason or None,
        "created_at": r.created_at.isoformat() + "Z",
        # What the hand-over recorded ("" until handed over, and again after an undo).
        "handed_over_to": r.handed_over_to or "",
        "carrier": r.carrier or "",
        "tracking": r.tracking or "",
        "tracking_url": carriers.tracking_url(r.carrier, r.tracking),
        "handed_over_at": r.handed_over_at.isoformat() + "Z" if r.handed_over_at else None,
        # What it is worth (budgets/values.py: what it holds, waits for and handed over), and the
        # team whose budget it counts against (the requester's when it was submitted).
        "value": str(values.total),
        "currency": currency(),
        "team": {"id": r.team.id, "name": r.team.name} if r.team is not None else None,
        # Every approval decision (budgets/approvals.py): the level it filled (approver, second,
        # budget; auto when the team's rule approved it at submission), who (None for auto),
        # approved or rejected, when and why.
        "approvals": [
            {"level": a.level, "approver": a.user.email if a.user is not None else None, "decision": a.decision,
             "at": a.at.isoformat() + "Z", "note": a.note}
            for a in r.approvals
        ],
        "lines": [
            {"id": line.id, "sku": line.item.sku, "name": line.item.name, "qty": line.quantity,
             "reserved": line.reserved, "backordered": line.backordered, "picked": line.picked,
             "issued": line.issued, "returned": line.returned, "short": line.short,
             "value": str(values.lines[line.id])}
            for line in r.lines
        ],
        "url": url_for("requests.show", request_id=r.id, _external=True),
    }


def load_for_json(requests: Sequence[Request]) -> None:
    """Load what request_json reads beyond the lines for requests read without it: their teams
    (one statement, none when none has a team) and their approvals with who gave them (one
    statement), so that a list does not ask for each request's."""
    ids = {r.team_id for r in requests if r.team_id is not None}
    found = {team.id: team for team in db.session.scalars(select(Team).where(Team.id.in_(ids)))} if ids else {}
    for r in requests:
        if "team" not in inspect(r).dict:
            set_committed_value(r, "team", found.get(r.team_id) if r.team_id is not None else None)
    missing = [r for r in requests if "approvals" not in inspect(r).dict]
    if not missing:
        return
    by_request: dict[int, list[RequestApproval]] = {r.id: [] for r in missing}
    for approval in db.session.scalars(select(RequestApproval).where(RequestApproval.request_id.in_(list(by_request)))
                                       .options(joinedload(RequestApproval.user)).order_by(RequestApproval.id)):
        by_request[approval.request_id].append(approval)
    for r in missing:
        set_committed_value(r, "approvals", by_request[r.id])


def _date(data: dict, name: str, required: bool = True) -> date | None:
    value = _field(data, name, required=required)
    if value is None:
        return None
    day = parse_date(value)
    if day is None:
        raise InvalidInput(f"'{name}' must be a date like 2026-03-12 (YYYY-MM-DD).")
    return day


def _visible(r: Request) -> Request:
    if r.requester_id != g.api_user.id and g.api_user.role not in STAFF:
        raise ApiError("You can only see your own requests.", 403)
    return r


@bp.post("/requests")
@api_roles(EVERYONE)
def create_request() -> ResponseReturnValue:
    """Reserve: 201 with what is held; 409 with per-line availability when short (nothing held)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("Send a JSON object with Content-Type: application/json.", 400)
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        raise InvalidInput("'lines' must be a non-empty list of {\"sku\": ..., \"qty\": ...}.")
    check_line_count(lines, "A request")  # before any line is looked up
    parsed = []
    for line in lines:
        if not isinstance(line, dict):
            raise InvalidInput("Each line must be an object {\"sku\": ..., \"qty\": ...}.")
        parsed.append((get_item(db.session, _field(line, "sku")), _field(line, "qty", int)))
    event_id = data.get("event_id")
    if event_id is not None and not is_whole_number(event_id):
        raise InvalidInput("'event_id' must be a whole number.")
    if event_id is not None and not 0 < event_id <= MAX_ID:  # beyond what an id column holds
        raise NotFound(f"No event #{event_id}.")
    allow_partial = data.get("allow_partial", False)
    if not isinstance(allow_partial, bool):
        raise InvalidInput("'allow_partial' must be true or false.")
    try:
        made = submission.submit(
            db.session, g.api_user, parsed,
            purpose=_field(data, "purpose", required=False) or "other",
            needed_by=_date(data, "needed_by"), return_by=_date(data, "return_by", required=False),
            handoff=_field(data, "handoff", required=False) or "pickup",
            ship_to=_field(data, "ship_to", required=False) or "", note=_field(data, "note", required=False) or "",
            event_id=event_id, allow_partial=allow_partial,
        )
    except ShortStock as error:
        return jsonify(error=error.message, lines=[
            {"sku": s.sku, "requested": s.requested, "available": s.available} for s in error.shortages]), 409
    # The answer comes from the request as written, without a query: submit leaves it (and the
    # items and the requester, in the identity map) loaded after its commit.
    return jsonify(request_json(made)), 201


@bp.get("/requests")
@api_roles(EVERYONE)
def list_requests() -> ResponseReturnValue:
    status = request.args.get("status") or None
    if status and status not in STATUSES:
        raise ApiError(f"status must be one of: {', '.join(STATUSES)}.", 400)
    mine = request.args.get("mine") in ("1", "true")
    if not mine and g.api_user.role not in STAFF:
        mine = True  # a rep only ever lists their own
    page_number = _int_arg("page", 1, maximum=MAX_PAGE)
    per_page = _int_arg("per_page", 50, maximum=200)
    if mine:
        page = queries.requests_of(db.session, g.api_user, page=page_number, per_page=per_page, status=status)
        rows = page.rows
    else:  # the queue as its page lists it, then those requests whole for their JSON
        page = queries.queue(db.session, status=status, page=page_number, per_page=per_page)
        rows = queries.loaded(db.session, [r.id for r in page.rows])
    args = {k: v for k, v in {"status": status, "mine": "1" if mine else None}.items() if v}
    load_for_json(rows)
    return _paged(page, "requests", [request_json(r) for r in rows], "api.list_requests", **args)


def _get(request_id: int) -> Request:
    try:
        return _visible(queries.get_request(db.session, request_id))
    except NotFound:
        raise ApiError(f"No request #{request_id}.", 404) from None


@bp.get(REQUEST_URL)
@api_roles(EVERYONE)
def get_request(request_id: int) -> ResponseReturnValue:
    return jsonify(request_json(_get(request_id)))


@bp.post(REQUEST_URL + "/cancel")
@api_roles(EVERYONE)
def cancel_request(request_id: int) -> ResponseReturnValue:
    _get(request_id)
    review.cancel(db.session, request_id, g.api_user)
    return jsonify(request_json(queries.get_request(db.session, request_id)))


@bp.post(REQUEST_URL + "/approve")
@api_roles(MANAGERS)
def approve_request(request_id: int) -> ResponseReturnValue:
    _get(request_id)
    data = request.get_json(silent=True) or {}
    note = _field(data, "note", required=False) if isinstance(data, dict) else None
    review.approve(db.session, request_id, g.api_user, note=note or "")
    return jsonify(request_json(queries.get_request(db.session, request_id)))


@bp.post(REQUEST_URL + "/reject")
@api_roles(MANAGERS)
def reject_request(request_id: int) -> ResponseReturnValue:
    _get(request_id)
    data = request.get_json(silent=True) or {}
    review.reject(db.session, request_id, g.api_user, _field(data, "reason") if isinstance(data, dict) else "")
    return jsonify(request_json(queries.get_request(db.session, request_id)))


def _body() -> dict:
    data = request.get_json(silent=True)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ApiError("Send a JSON object with Content-Type: application/json.", 400)
    return data


@bp.post(REQUEST_URL + "/hand-over")
@api_roles(STAFF)
def hand_over_request(request_id: int) -> ResponseReturnValue:
    """Hand a ready request over: `collected_by` (a pick-up; the requester when left out) or, to
    ship, `carrier` and `tracking` (both required); `note` optional. 400 on bad input."""
    shown = _get(request_id)
    data = _body()
    handover.hand_over(db.session, request_id, g.api_user, _field(data, "note", required=False) or "",
                       collected_by=_field(data, "collected_by", required=False) or "",
                       carrier=_field(data, "carrier", required=False) or "",
                       tracking=_field(data, "tracking", required=False) or "",
                       require=shown.handoff == "ship")
    return jsonify(request_json(queries.get_request(db.session, request_id)))


@bp.post(REQUEST_URL + "/undo-hand-over")
@api_roles(MANAGERS)
def undo_hand_over_request(request_id: int) -> ResponseReturnValue:
    """A manager undoes today's hand-over: {"reason": "..."} required. 409 when it may not be
    undone (not on the day, checked in already), with the reason."""
    _get(request_id)
    handover.undo_hand_over(db.session, request_id, g.api_user, _field(_body(), "reason"))
    return jsonify(request_json(queries.get_request(db.session, request_id)))
