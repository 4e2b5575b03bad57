"""The stockroom's pages: what is to pick, the pick list of one request by bin (scan a bin, pick
from it, release what cannot be found), putting picked units back, the hand-over (who collected
it, or the carrier and tracking number) and the check-in of returnables. On the requests
blueprint (views.py)."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..auth.roles import STAFF, roles_required
from ..bins.services import get_bin
from ..errors import DomainError, NotFound
from ..extensions import db
from ..forms import SCAN_OR_TYPE_BIN, ButtonForm
from ..stock import queries as stock_queries
from ..text import whole_number
from . import carriers, fulfilment, handover, lifecycle, loans, queries
from .lifecycle import Action, Status
from .models import OUTCOMES, Request, RequestLine
from .views import REQUEST_URL, _int, _load, _whole, bp


@bp.route("/requests/picking")
@roles_required(STAFF)
def picking() -> ResponseReturnValue:
    rows = queries.to_pick(db.session)
    return render_template("requests/picking.html", rows=rows, today=date.today())


def _pick_page(shown: Request, code: str = "", errors: dict[str, str] | None = None,
               status: int = 200) -> tuple[str, int]:
    plan = fulfilment.pick_list(db.session, shown)
    return render_template("requests/pick.html", r=shown, plan=plan, code=code, errors=errors or {},
                           button_form=ButtonForm()), status


@bp.route(REQUEST_URL + "/pick", methods=["GET", "POST"])
@roles_required(STAFF)
def pick(request_id: int) -> ResponseReturnValue:
    """The pick list, by bin. Scan or type a bin code to pick from it; release what is short. One
    form: whichever button is pressed, the bin code typed is kept."""
    shown = _load(request_id)
    if request.method == "GET":
        return _pick_page(shown, code=(request.args.get("bin") or "")[:300])
    if not ButtonForm().validate_on_submit():
        abort(400)
    code = (request.form.get("bin") or "").strip()
    if not code:
        return _pick_page(shown, code, {"bin": SCAN_OR_TYPE_BIN}, 400)
    try:
        bin = get_bin(db.session, code)
    except NotFound as error:
        return _pick_page(shown, code, {"bin": error.message}, 400)
    return redirect(url_for("requests.pick_bin", request_id=request_id, code=bin.code))


@bp.route(REQUEST_URL + "/pick/<code>", methods=["GET", "POST"])
@roles_required(STAFF)
def pick_bin(request_id: int, code: str) -> ResponseReturnValue:
    shown = _load(request_id)
    try:
        bin = get_bin(db.session, code)
    except NotFound:
        return render_template("bins/unknown.html", code=code, can_create=True), 404
    in_bin = {level.item_id: level.quantity for level in stock_queries.levels_in_bin(db.session, bin)}
    lines = [line for line in shown.lines if line.to_pick > 0 and line.item_id in in_bin]
    # errors: {line id or None (the whole pick): message}; entered: what was typed, kept on a refusal
    errors, entered = {}, {}
    if request.method == "POST":
        if not ButtonForm().validate_on_submit():
            abort(400)
        picks = {}
        for line in lines:
            raw = entered[line.id] = request.form.get(f"pick-{line.id}", "")
            number, problem = _whole(raw, "Enter how many you picked: 0 if none.")
            if problem:
                errors[line.id] = problem
            else:
                picks[line.id] = number
        if not errors:
            try:
                fulfilment.pick(db.session, request_id, bin, picks, current_user)
            except DomainError as error:
                if error.status == 403:
                    abort(403)
                errors[error.about if error.about in entered else None] = error.message
            else:
                done = queries.get_request(db.session, request_id)
                flash(f"Picked from {bin.code}. " + ("Everything is picked: ready." if done.status == Status.READY else
                                                     "More to pick from other bins."), "success")
                return redirect(url_for("requests.pick", request_id=request_id))
    return render_template("requests/pick_bin.html", r=shown, bin=bin, lines=lines, in_bin=in_bin, errors=errors,
                           entered=entered, button_form=ButtonForm()), (400 if errors else 200)


@bp.route(REQUEST_URL + "/release", methods=["POST"])
@roles_required(STAFF)
def release(request_id: int) -> ResponseReturnValue:
    """Release what could not be found: the line of the button pressed, or every line ("all").
    Sent from the pick page's one form, so a bin code typed there comes back with the page."""
    shown = _load(request_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    wanted = request.form.getlist("line")
    if "all" in wanted:
        line_ids = {line.id for line in shown.lines if line.to_pick}
    else:
        line_ids = {number for number in (_int(v) for v in wanted) if number}
    code = (request.form.get("bin") or "").strip()[:300]
    try:
        fulfilment.release_unpicked(db.session, request_id, line_ids, current_user)
    except DomainError as error:
        if error.status == 403:
            abort(403)
        db.session.expire_all()
        return _pick_page(_load(request_id), code, {"release": error.message}, error.status)
    flash("The rest is released and recorded as short.", "success")
    return redirect(url_for("requests.pick", request_id=request_id, bin=code or None))


@bp.route(REQUEST_URL + "/put-back", methods=["POST"])
@roles_required(STAFF)
def put_back(request_id: int) -> ResponseReturnValue:
    line_id, quantity = _int(request.form.get("line")), _int(request.form.get("quantity"))
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        bin = get_bin(db.session, request.form.get("bin", ""))
        fulfilment.put_back(db.session, request_id, line_id, bin, quantity, current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"Put back into {bin.code}; it stays held for this request.", "success")
    return redirect(url_for("requests.show", request_id=request_id))


def _hand_over_page(shown: Request, entered: dict[str, str] | None = None, errors: dict | None = None,
                    status: int = 200) -> tuple[str, int]:
    entered = entered or {}
    if "collected_by" not in entered:
        entered["collected_by"] = shown.requester.display_name  # who usually collects it
    return render_template("requests/hand_over.html", r=shown, entered=entered, errors=errors or {},
                           carriers=list(carriers.CARRIERS), other=carriers.OTHER_CARRIER,
                           lines=[line for line in shown.lines if line.picked], button_form=ButtonForm()), status


HAND_OVER_BOXES = ("collected_by", "carrier", "carrier_other", "tracking", "note")


@bp.route(REQUEST_URL + "/hand-over", methods=["GET", "POST"])
@roles_required(STAFF)
def hand_over(request_id: int) -> ResponseReturnValue:
    """Confirm a hand-over: what goes out, and who collected it (pick-up) or the carrier and
    tracking number (shipping). A refusal shows the page again as typed, the message by its box."""
    shown = _load(request_id)
    if request.method == "GET":
        if not lifecycle.status_allows(shown, Action.HAND_OVER):
            flash(f"{shown.number} is {shown.status_label.lower()}: there is nothing to hand over.", "error")
            return redirect(url_for("requests.show", request_id=request_id))
        return _hand_over_page(shown)
    if not ButtonForm().validate_on_submit():
        abort(400)
    # What the page asks is required (a pick-up names who collected it, a shipment its carrier
    # and tracking number), from a script too: nothing leaves the stockroom unrecorded.
    entered = {box: request.form.get(box, "") for box in HAND_OVER_BOXES}
    carrier = entered["carrier"]
    if carrier == carriers.OTHER_CARRIER:
        carrier = entered["carrier_other"]
        if not carrier.strip():
            return _hand_over_page(shown, entered, {"carrier_other": "Type the carrier's name."}, 400)
    try:
        handover.hand_over(db.session, request_id, current_user, entered["note"], collected_by=entered["collected_by"],
                           carrier=carrier, tracking=entered["tracking"], require=True)
    except DomainError as error:
        if error.status == 403:
            abort(403)
        about = error.about
        if about == "carrier" and entered["carrier"] == carriers.OTHER_CARRIER:
            about = "carrier_other"
        return _hand_over_page(_load(request_id), entered,
                               {about if about in HAND_OVER_BOXES else None: error.message}, error.status)
    flash("Shipped." if shown.handoff == "ship" else "Handed over.", "success")
    return redirect(url_for("requests.show", request_id=request_id))


@bp.route(REQUEST_URL + "/check-in", methods=["GET", "POST"])
@roles_required(STAFF)
def check_in(request_id: int) -> ResponseReturnValue:
    """Check a request's returnables in. Opened for one item (?item=<sku>: its label was scanned,
    or a receive turned out to be this unit coming back, with &qty= and &bin=), the page says
    what is being checked in, with that line's count and the bin it usually lives in filled in."""
    shown = _load(request_id)
    lines = [line for line in shown.lines if line.item.returnable and line.issued]
    focus = _check_in_focus(shown, lines)
    # errors: {box name, line id, or None: message}; entered: {box name: what was typed}
    errors, entered = {}, {}
    if request.method == "GET" and focus is not None:
        entered = _check_in_prefill(focus, lines)
    if request.method == "POST":
        if not ButtonForm().validate_on_submit():
            abort(400)
        outcomes = {}
        for line in lines:
            outcome = {}
            for key in OUTCOMES:
                box = f"{key}-{line.id}"
                entered[box] = request.form.get(box, "")
                outcome[key], problem = _whole(entered[box], 0)  # an empty box: none
                if problem:
                    errors[box] = problem
            outcomes[line.id] = outcome
            if not any(f"{key}-{line.id}" in errors for key in OUTCOMES) and sum(outcome.values()) != line.issued:
                errors[line.id] = (f"{line.issued} went out, but these add up to {sum(outcome.values())}: "
                                   "say what happened to each one.")
        code = entered["bin"] = (request.form.get("bin") or "").strip()
        bin = None
        if not code:
            errors["bin"] = SCAN_OR_TYPE_BIN
        else:
            try:
                bin = get_bin(db.session, code)
            except NotFound as error:
                errors["bin"] = error.message
        if not errors:
            try:
                fulfilment.check_in(db.session, request_id, bin, outcomes, current_user)
            except DomainError as error:
                if error.status == 403:
                    abort(403)
                about = error.about
                if isinstance(about, tuple):
                    about = f"{about[1]}-{about[0]}"
                errors[about if about in entered or about in outcomes else None] = error.message
            else:
                flash("Checked in; the booking has ended.", "success")
                if focus is not None:
                    return redirect(url_for("catalog.item", sku=focus["line"].item.sku, page=1))
                return redirect(url_for("requests.show", request_id=request_id))
    return render_template("requests/check_in.html", r=shown, lines=lines, errors=errors, entered=entered,
                           outcomes=OUTCOMES, button_form=ButtonForm(), focus=focus,
                           today=date.today()), (400 if errors else 200)


def _check_in_focus(shown: Request, lines: list[RequestLine]) -> dict | None:
    """The line the page was opened for (?item=<sku>) with the quantity and bin carried from a
    receive (?qty=, ?bin=), or None: {"line", "qty" (None: all that went out), "bin" (code)}."""
    sku = (request.args.get("item") or "").strip().upper()
    if not sku or shown.status != Status.HANDED_OVER:  # nothing of it is out (any more)
        return None
    line = next((line for line in lines if line.item.sku == sku), None)
    if line is None:
        return None
    qty = whole_number((request.args.get("qty") or "").strip())
    return {"line": line, "qty": qty if qty is not None and 0 < qty <= line.issued else None,
            "bin": (request.args.get("bin") or "").strip()[:40]}


def _check_in_prefill(focus: dict, lines: list[RequestLine]) -> dict[str, str]:
    """The boxes as the page opens for one item: its line returns the units said (the rest of
    the line's units are left for the person to account for), the bin is the one carried over
    or the one the item was last in. The other lines keep the page's usual defaults."""
    line = focus["line"]
    entered = {}
    if focus["qty"] is not None:
        entered[f"returned-{line.id}"] = str(focus["qty"])
    entered["bin"] = focus["bin"] or getattr(loans.usual_bin(db.session, line.item), "code", "")
    return entered
