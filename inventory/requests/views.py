"""Request pages, on one blueprint, split by who uses them: the rep's request being put
together, My requests and cancel (rep_views.py); Marketing's queue and review: approve, reject,
change quantities, undo a hand-over (review_views.py); the stockroom's picking, put back,
hand-over and check-in (stockroom_views.py). Here: the blueprint, the request page everyone
opens, and the helpers the others share. Each view parses input, calls one rule, shows the
result."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import timeutil
from ..auth.roles import EVERYONE, MANAGERS, STAFF, can, roles_required
from ..budgets import approvals, standing
from ..core.templating import last_segment_url
from ..errors import DomainError, NotFound
from ..extensions import db
from ..forms import ButtonForm
from ..limits import MAX_QUANTITY
from ..text import is_digits, to_int, whole_number
from . import carriers, handover, lifecycle, queries, review
from .forms import RejectForm
from .lifecycle import Action, Status
from .models import Request

bp = Blueprint("requests", __name__)
# A request's URL; ids past what the id column holds answer 404 instead of failing in the database.
REQUEST_URL = "/requests/<int(max=2147483647):request_id>"


@bp.app_template_global()
def request_url(request_id: int) -> str:
    """url_for("requests.show", request_id=...), the same URL at a fraction of the cost: the queue
    links 75 requests (its page and the backorders), and url_for was a fifth of drawing them."""
    return last_segment_url("requests.show", "request_id", request_id, 0)


def _int(value: str | None, default: int = 0) -> int | None:
    try:
        return to_int((value or "").strip() or default)
    except ValueError:
        return None


def _whole(raw: str | None, empty: int | str,
           bad: str = "Enter a whole number, 0 or more.") -> tuple[int | None, str | None]:
    """A box's whole number 0 or more, or (None, message in plain words). `empty` is what an
    empty box means: a number, or the message to give; `bad`, what to say for anything else."""
    raw = (raw or "").strip()
    if not raw:
        return (empty, None) if isinstance(empty, int) else (None, empty)
    number = whole_number(raw)
    if number is None:
        return None, bad
    if number > MAX_QUANTITY:
        return None, f"Enter at most {MAX_QUANTITY:,}."
    return number, None


# One request --------------------------------------------------------------------------------

def _load(request_id: int) -> Request:
    try:
        loaded = queries.get_request(db.session, request_id)
    except NotFound:
        abort(404)
    if loaded.requester_id != current_user.id and not can(current_user, STAFF):
        abort(403)
    return loaded


@bp.route(REQUEST_URL)
@roles_required(EVERYONE)
def show(request_id: int) -> ResponseReturnValue:
    return _request_page(_load(request_id), just_submitted=request.args.get("submitted") == "1")


def _request_page(shown: Request, status: int = 200, *, typed: dict[int, str] | None = None,
                  line_errors: dict[int, str] | None = None, page_error: str | None = None,
                  reject_form: RejectForm | None = None, just_submitted: bool = False, undo_reason: str = "",
                  undo_error: str | None = None, approval_note: str = "",
                  approval_error: str | None = None) -> tuple[str, int]:
    """The request page; after a refusal, with the manager's typed quantities (`typed`, {line id:
    text}), a message per line at fault and the reject form with its errors (or the undo reason
    as typed and what is wrong with it)."""
    actions = lifecycle.allowed_actions(shown, current_user)  # the buttons the page shows
    editable = Action.CHANGE_QUANTITIES in actions
    team = _team_shown(shown)
    return render_template("requests/show.html", r=shown, actions=actions, Action=Action,
                           editable=editable, values=standing.request_values(shown), team=team,
                           approval=_approval_shown(shown, team), approval_note=approval_note,
                           approval_error=approval_error,
                           free=review.more_free(db.session, shown) if editable else {},
                           typed=typed or {}, line_errors=line_errors or {}, page_error=page_error,
                           button_form=ButtonForm(), reject_form=reject_form or RejectForm(), today=date.today(),
                           just_submitted=just_submitted, hand_over=_hand_over_shown(shown),
                           undo_reason=undo_reason, undo_error=undo_error), status


def _team_shown(shown: Request) -> standing.Standing | None:
    """The request's team and its budget in the request's period, for its rep and managers (the
    stockroom sees the values only); None when it was submitted by someone in no team."""
    if shown.requester_id != current_user.id and not can(current_user, MANAGERS):
        return None
    today = timeutil.today()
    return standing.team_standing(db.session, shown.team_id, shown.needed_by,
                                  current_app.config.get("BUDGET_PERIOD", "quarter"), today)


def _approval_shown(shown: Request, team: standing.Standing | None) -> approvals.Shown | None:
    """Who approves the request and who did, for its rep and managers: while it waits, and
    afterwards when approvals were recorded (requests approved before there were none)."""
    if shown.requester_id != current_user.id and not can(current_user, MANAGERS):
        return None
    if shown.status != Status.SUBMITTED and not shown.approvals:
        return None
    if not can(current_user, MANAGERS) and shown.team_id is None and not shown.approvals:
        return None  # the rep of no team: any manager approves, as before teams
    return approvals.shown(db.session, shown, current_user, timeutil.today(), standing=team)


def _hand_over_shown(shown: Request) -> dict | None:
    """What the page says of the hand-over: when (local time), by whom, the tracking link, and
    whether (or why not) the manager looking may undo it."""
    if shown.status not in (Status.HANDED_OVER, Status.RETURNED):
        return None
    step = next((step for step in reversed(shown.steps) if step.action == "handed_over"), None)
    return {"at": handover.local_time(shown.handed_over_at) if shown.handed_over_at else None,
            "by": step.user.display_name if step else None,
            "link": carriers.tracking_url(shown.carrier, shown.tracking),
            "undo_refusal": handover.undo_refusal(shown, current_user) if can(current_user, MANAGERS) else None}


@bp.app_template_global()
def seen_of(lines: list) -> str:
    """What a page showed of a request's lines, for its buttons to send back: "id:asked,..."."""
    return ",".join(f"{line.id}:{line.quantity}" for line in lines)


def _seen() -> dict[int, int] | None:
    """{line id: asked} that the page pressed showed (see seen_of), or None when it sent none."""
    raw = request.values.get("seen")
    if raw is None:
        return None
    seen = {}
    for part in raw.split(","):
        line_id, _, quantity = part.partition(":")
        if not (is_digits(line_id) and is_digits(quantity)):
            return {}  # garbled: matches no request, so the rule says it changed
        seen[whole_number(line_id)] = whole_number(quantity)
    return seen


def _act(rule: Callable[..., object], request_id: int, *args: object, success: str) -> ResponseReturnValue:
    """A one-button step on the request page: the rule, then back to the page with what happened."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        rule(db.session, request_id, *args)
    except DomainError as error:
        if error.status == 403:
            abort(403)
        flash(error.message, "error")
    else:
        flash(success, "success")
    return redirect(url_for("requests.show", request_id=request_id))


# The pages by who uses them, on this blueprint.
from . import rep_views, review_views, stockroom_views  # noqa: E402,F401
