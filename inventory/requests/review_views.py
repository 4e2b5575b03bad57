"""The manager's pages: Marketing's queue (open requests, soonest needed first, and the
backorders in the order they will be filled) and the review of one request: approve (from the
queue in one tap, or with the quantities on the request page), reject, change quantities, and
undo a hand-over on its day. On the requests blueprint (views.py)."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..auth.roles import MANAGERS, can, roles_required
from ..budgets import approvals, links
from ..errors import DomainError, ShortStock
from ..extensions import db
from ..forms import ButtonForm
from ..pagination import page_arg
from . import handover, queries, review
from .forms import RejectForm
from .lifecycle import Status
from .models import STATUSES, Request
from .views import REQUEST_URL, _act, _load, _request_page, _seen, _whole, bp

BACKORDERS_SHOWN = 50  # on the queue page, in the order they will be filled


@bp.route("/requests")
@roles_required(MANAGERS)
def queue() -> ResponseReturnValue:
    status = request.args.get("status") or None
    if status not in STATUSES:
        status = None
    page = queries.queue(db.session, status=status, page=page_arg(), per_page=current_app.config["PAGE_SIZE"])
    # The next ones to be filled; a big stockroom may have a thousand lines waiting.
    backorders, waiting = queries.backorders(db.session, limit=BACKORDERS_SHOWN)
    more = waiting - len(backorders)
    # The one-tap Approve on each submitted request comes back to this page of the queue.
    approve_query = "?" + urlencode({"from": "queue", **({"status": status} if status else {}),
                                     **({"page": page.page} if page.page > 1 else {})})
    return render_template("requests/queue.html", page=page, status=status, statuses=STATUSES,
                           backorders=backorders, more_backorders=more, today=date.today(),
                           approve_form=ButtonForm(), approve_query=approve_query)


EMPTY_BOX = "Enter how many, 0 to remove the line."
NOT_A_COUNT = "Enter a whole number, 0 or more (0 removes the line)."


def _typed_quantities(shown: Request) -> tuple[dict[int, int], dict[int, str], dict[int, str]]:
    """The request page's quantity boxes as sent: ({line id: number} for the lines whose number
    changed, {line id: text as typed}, {line id: what is wrong with the text})."""
    changed, typed, wrong = {}, {}, {}
    for line in shown.lines:
        raw = request.form.get(f"qty-{line.id}")
        if raw is None:  # not on the page (a page without boxes, or the queue's button)
            continue
        typed[line.id] = raw
        number, problem = _whole(raw, EMPTY_BOX, NOT_A_COUNT)
        if problem:
            wrong[line.id] = problem
        elif number != line.quantity:
            changed[line.id] = number
    return changed, typed, wrong


def _refused(request_id: int, error: DomainError, typed: dict[int, str]) -> tuple[str, int]:
    """A rule refused the manager's quantities: the page again, nothing changed, the typed
    values kept and the reason next to each line at fault (or at the top)."""
    shown = _load(request_id)
    if isinstance(error, ShortStock):
        line_errors = {s.line_id: f"Only {s.available} free: asked {s.requested}." for s in error.shortages}
        return _request_page(shown, error.status, typed=typed, line_errors=line_errors,
                             page_error="Not enough stock for what you typed: nothing was changed.")
    if error.about in {line.id for line in shown.lines}:
        return _request_page(shown, error.status, typed=typed, line_errors={error.about: error.message},
                             page_error="Nothing was changed: see the line below.")
    return _request_page(shown, error.status, typed=typed, page_error=error.message + " Nothing was changed.")


# The request page is one form: its quantity boxes, the reject reason and every button (each
# button posts to its own URL with formaction), so whichever button is pressed, the quantities
# on screen are the ones taken.

@bp.route(REQUEST_URL + "/approve", methods=["POST"])
@roles_required(MANAGERS)
def approve(request_id: int) -> ResponseReturnValue:
    """Approve with the quantities on screen: changed and approved in one transaction, or, if a
    change cannot be held, nothing approved and the page again with the reason by the line."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    if request.args.get("from") == "queue":
        return _approve_from_queue(request_id)
    shown = _load(request_id)
    quantities, typed, wrong = _typed_quantities(shown)
    note = request.form.get("approval_note", "")
    if wrong:
        return _request_page(shown, 400, typed=typed, line_errors=wrong, approval_note=note,
                             page_error="Nothing was approved: check the quantities below.")
    try:
        approved = review.approve(db.session, request_id, current_user, note=note, quantities=quantities,
                                  seen=_seen())
    except DomainError as error:
        if error.about == (None, "note"):  # over budget: the reason is missing or too long
            return _request_page(_load(request_id), error.status, typed=typed, approval_note=note,
                                 approval_error=error.message, page_error="Nothing was approved: see below.")
        if error.status == 403 and not can(current_user, MANAGERS):
            abort(403)
        if error.status == 403:  # not this manager's to approve (another team's, a second approval, ...)
            return _request_page(_load(request_id), 403, typed=typed, approval_note=note,
                                 page_error=error.message + " Nothing was approved.")
        if quantities or isinstance(error, review.RequestChanged):
            return _refused(request_id, error, typed)
        flash(error.message, "error")
    else:
        saved = "Quantities saved and approved" if quantities else "Approved"
        if approved.status == Status.SUBMITTED:
            flash(("Quantities saved; your approval" if quantities else "Your approval")
                  + " is recorded. It now waits for the next approver, who is e-mailed (see Approval).", "success")
        else:
            flash(saved + ": it is on the stockroom's pick list.", "success")
    return redirect(url_for("requests.show", request_id=request_id))



def _approve_from_queue(request_id: int) -> ResponseReturnValue:
    """The queue's one-tap Approve: as the request is, then back to the same page of the queue."""
    try:
        approved = review.approve(db.session, request_id, current_user, seen=_seen())
    except review.RequestChanged as error:
        flash(error.message + " Nothing was approved.", "error")
        return redirect(url_for("requests.show", request_id=request_id))
    except DomainError as error:
        if error.about == (None, "note"):  # over budget: the reason goes on the request page
            flash(error.message, "error")
            return redirect(url_for("requests.show", request_id=request_id) + "#approval")
        flash(error.message, "error")  # it names the request ("Request R-00012 is approved; ...")
    else:
        if approved.status == Status.SUBMITTED:
            flash(f"Your approval of {approved.number} is recorded; it now waits for the next approver.", "success")
        else:
            flash(f"Approved {approved.number}", "success")
    status, page = request.args.get("status"), page_arg()
    return redirect(url_for("requests.queue", status=status if status in STATUSES else None,
                            page=page if page > 1 else None))


@bp.route(REQUEST_URL + "/reject", methods=["POST"])
@roles_required(MANAGERS)
def reject(request_id: int) -> ResponseReturnValue:
    """Reject releases everything held, so the quantities on screen do not matter; without a
    reason the page comes back with the message by the reason box and the typed quantities."""
    form = RejectForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        shown = _load(request_id)
        _changed, typed, _wrong = _typed_quantities(shown)
        return _request_page(shown, 400, typed=typed, reject_form=form)
    return _act(review.reject, request_id, current_user, form.reason.data,
                success="Rejected; its stock is released.")


@bp.route(REQUEST_URL + "/quantities", methods=["POST"])
@roles_required(MANAGERS)
def change(request_id: int) -> ResponseReturnValue:
    """Save the manager's quantities for every line at once: all are saved, or none."""
    shown = _load(request_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    quantities, typed, wrong = _typed_quantities(shown)
    if wrong:
        return _request_page(shown, 400, typed=typed, line_errors=wrong,
                             page_error="Nothing was changed: check the quantities below.")
    if not quantities:
        flash("No quantity was changed.", "info")
        return redirect(url_for("requests.show", request_id=request_id))
    try:
        review.change_quantities(db.session, request_id, quantities, current_user, seen=_seen())
    except DomainError as error:
        if error.status == 403:
            abort(403)
        return _refused(request_id, error, typed)
    flash("Quantities saved; the reservation follows.", "success")
    return redirect(url_for("requests.show", request_id=request_id))


@bp.route(REQUEST_URL + "/undo-hand-over", methods=["POST"])
@roles_required(MANAGERS)
def undo_hand_over(request_id: int) -> ResponseReturnValue:
    if not ButtonForm().validate_on_submit():
        abort(400)
    reason = request.form.get("reason", "")
    try:
        handover.undo_hand_over(db.session, request_id, current_user, reason)
    except DomainError as error:
        if error.status == 403:
            abort(403)
        return _request_page(_load(request_id), error.status, undo_reason=reason,
                             undo_error=error.message if error.about == "reason" else None,
                             page_error=None if error.about == "reason" else error.message)
    flash("Hand-over undone: the units are back in DISPATCH and the request is ready again.", "success")
    return redirect(url_for("requests.show", request_id=request_id))


# The link in an approval e-mail ------------------------------------------------------------------

@bp.route("/approvals/<token>")
@roles_required(MANAGERS)
def approval_link(token: str) -> ResponseReturnValue:
    """An approval e-mail's signed link (budgets/links.py): with the approver it was sent to signed
    in, the request page while the request still waits for the level it asked of them; once
    that is decided, the page with what became of it."""
    found = links.read_token(token)
    if found is None:
        return render_template("errors/404.html", message="This approval link is not valid: it may have been cut "
                               "short in the e-mail. Open the request from Requests instead."), 404
    request_id, user_id, level = found
    if user_id != current_user.id:
        return render_template("errors/403.html", message="This approval link was sent to another approver: sign in "
                               "as them, or open the request from Requests."), 403
    try:
        shown = queries.get_request(db.session, request_id)
    except DomainError:
        return render_template("errors/404.html", message="The request of this approval link is gone."), 404
    waiting = approvals.pending(approvals.needs(db.session, shown), shown) if shown.status == Status.SUBMITTED else ()
    if level not in waiting:
        decided = (f"it is {shown.status_label.lower()}" if shown.status != Status.SUBMITTED
                   else "that approval was given")
        flash(f"This approval link has expired: {decided}.", "info")
    else:
        flash(f"{shown.number} waits for your approval ({approvals.Level(level).waiting_for}).", "info")
    return redirect(url_for("requests.show", request_id=request_id) + "#approval")
