"""Request pages: the rep's request (cart), my requests, the request page, Marketing's queue,
picking, hand-over and check-in. Each view parses input, calls one rule, shows the result."""
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.roles import EVERYONE, MANAGERS, STAFF, can, roles_required
from ..bins.services import get_bin
from ..catalog.models import Item
from ..catalog.services import get_item
from ..core.security import is_local_path
from ..core.templating import last_segment_url
from ..errors import DomainError, NotFound, ShortStock
from ..events import services as event_services
from ..extensions import db
from ..forms import SCAN_OR_TYPE_BIN, ButtonForm
from ..pagination import page_arg
from ..stock import services as stock
from . import cart, queries, services
from .availability import Window, free_quantity
from .forms import RejectForm, RequestDetailsForm
from .models import STATUSES

bp = Blueprint("requests", __name__)
BACKORDERS_SHOWN = 50  # on the queue page, in the order they will be filled
# A request's URL; ids past what the id column holds answer 404 instead of failing in the database.
REQUEST_URL = "/requests/<int(max=2147483647):request_id>"
OUTCOMES = ("returned", "consumed", "lost", "damaged")  # of a returnable line at check-in


@bp.app_template_global()
def request_url(request_id):
    """url_for("requests.show", request_id=...), the same URL at a fraction of the cost: the queue
    links 75 requests (its page and the backorders), and url_for was a fifth of drawing them."""
    return last_segment_url("requests.show", "request_id", request_id, 0)


def _int(value, default=0):
    try:
        return int((value or "").strip() or default)
    except ValueError:
        return None


# The rep's request being put together -----------------------------------------------------

@bp.route("/request/add", methods=["POST"])
@roles_required(EVERYONE)
def add():
    """Add quantities from a product (one per size) or an item page: fields qty-<SKU>."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    quantities, bad = {}, []
    for key, value in request.form.items():
        if key.startswith("qty-"):
            number = _int(value)
            if number is None or number < 0:
                bad.append(key[4:])
            elif number:
                quantities[key[4:].upper()] = number
    back = request.form.get("back")
    if not is_local_path(back):
        back = url_for("catalog.index")
    if bad:
        flash(f"Quantities must be whole numbers, 0 or more ({', '.join(bad)}).", "error")
        return redirect(back)
    if not quantities:
        flash("Choose how many you need first.", "error")
        return redirect(back)
    for sku in quantities:
        try:
            get_item(db.session, sku)
        except NotFound as error:
            flash(error.message, "error")
            return redirect(back)
    if len(set(cart.lines()) | set(quantities)) > cart.MAX_LINES:
        flash(f"A request holds at most {cart.MAX_LINES} different items: send this one, then start another.",
              "error")
        return redirect(back)
    added = cart.add(quantities)
    flash(f"Added {added} to your request.", "success")
    return redirect(url_for("requests.new") if request.form.get("go") else back)


def _cart_lines():
    """[(item, quantity, free)] for the cart, loaded in one query."""
    wanted = cart.lines()
    if not wanted:
        return []
    items = {item.sku: item for item in db.session.scalars(
        select(Item).where(Item.sku.in_(list(wanted))).options(selectinload(Item.product)))}
    levels = stock.availability(db.session, [item.id for item in items.values()])
    return [(items[sku], quantity, levels[items[sku].id].available) for sku, quantity in wanted.items() if sku in items]


@bp.route("/request", methods=["GET", "POST"])
@roles_required(EVERYONE)
def new():
    form = RequestDetailsForm()
    upcoming = [e for e in event_services.upcoming(db.session, date.today()) if not e.cancelled]
    form.event_id.choices = [(0, "No event")] + [
        (e.id, f"{e.name} · ships {e.ship_by.strftime('%a %-d %b')}") for e in upcoming]
    if request.method == "GET":
        wanted = request.args.get("event", type=int) or cart.event()
        if wanted in {e.id for e in upcoming}:
            cart.remember_event(wanted)
            form.event_id.data = wanted
    shortages = None
    if request.method == "POST" and request.form.get("action") == "update":
        if not ButtonForm().validate_on_submit():
            abort(400)
        quantities = {}
        for key, value in request.form.items():
            if key.startswith("qty-"):
                number = _int(value)
                if number is None or number < 0:
                    flash(f"{key[4:]}: a quantity must be a whole number, 0 or more.", "error")
                    return redirect(url_for("requests.new"))
                quantities[key[4:]] = number
        cart.replace(quantities)
        return redirect(url_for("requests.new"))
    lines = _cart_lines()
    if request.method == "POST" and form.validate_on_submit():
        if not lines:
            flash("Your request is empty: add items from the catalog.", "error")
        else:
            try:
                made = services.submit(
                    db.session, current_user, [(item, quantity) for item, quantity, _free in lines],
                    purpose=form.purpose.data, needed_by=form.needed_by.data, return_by=form.return_by.data,
                    handoff=form.handoff.data, ship_to=form.ship_to.data, note=form.note.data,
                    event_id=form.event_id.data or None,
                    allow_partial=bool(request.form.get("partial")) or form.allow_partial.data,
                )
            except ShortStock as error:
                shortages = {s.sku: s for s in error.shortages}
                flash("Not enough stock for everything: nothing is held yet. See what is available below.", "error")
            except DomainError as error:
                flash(error.message, "error")
            else:
                cart.clear()
                return redirect(url_for("requests.show", request_id=made.id, submitted=1))
    status = 409 if shortages else (400 if request.method == "POST" else 200)
    has_returnables = any(item.returnable for item, _q, _f in lines)
    return render_template("requests/new.html", form=form, lines=lines, shortages=shortages,
                           has_returnables=has_returnables, button_form=ButtonForm()), status


# Lists --------------------------------------------------------------------------------------

@bp.route("/requests/mine")
@roles_required(EVERYONE)
def mine():
    page = queries.requests_of_page(db.session, current_user, page=page_arg())
    return render_template("requests/mine.html", page=page, today=date.today())


@bp.route("/requests")
@roles_required(MANAGERS)
def queue():
    status = request.args.get("status") or None
    if status not in STATUSES:
        status = None
    page = queries.queue_page(db.session, status=status, page=page_arg(), per_page=current_app.config["PAGE_SIZE"])
    # The next ones to be filled; a big stockroom may have a thousand lines waiting.
    backorders, waiting = queries.backorders(db.session, limit=BACKORDERS_SHOWN)
    more = waiting - len(backorders)
    return render_template("requests/queue.html", page=page, status=status, statuses=STATUSES,
                           backorders=backorders, more_backorders=more, today=date.today())


@bp.route("/requests/picking")
@roles_required(STAFF)
def picking():
    rows = queries.to_pick(db.session)
    return render_template("requests/picking.html", rows=rows, today=date.today())


# One request --------------------------------------------------------------------------------

def _load(request_id):
    try:
        loaded = services.get_request(db.session, request_id)
    except NotFound:
        abort(404)
    if loaded.requester_id != current_user.id and not can(current_user, STAFF):
        abort(403)
    return loaded


@bp.route(REQUEST_URL)
@roles_required(EVERYONE)
def show(request_id):
    shown = _load(request_id)
    levels = stock.availability(db.session, [line.item_id for line in shown.lines])
    return render_template("requests/show.html", r=shown, levels=levels, button_form=ButtonForm(),
                           reject_form=RejectForm(), today=date.today(),
                           just_submitted=request.args.get("submitted") == "1")


def _act(rule, request_id, *args, success):
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


@bp.route(REQUEST_URL + "/cancel", methods=["POST"])
@roles_required(EVERYONE)
def cancel(request_id):
    return _act(services.cancel, request_id, current_user, success="Request cancelled; its stock is released.")


@bp.route(REQUEST_URL + "/approve", methods=["POST"])
@roles_required(MANAGERS)
def approve(request_id):
    return _act(services.approve, request_id, current_user, success="Approved: it is on the stockroom's pick list.")


@bp.route(REQUEST_URL + "/reject", methods=["POST"])
@roles_required(MANAGERS)
def reject(request_id):
    form = RejectForm()
    if not form.validate_on_submit():
        flash("Say why the request is rejected; the rep will see it.", "error")
        return redirect(url_for("requests.show", request_id=request_id))
    return _act(services.reject, request_id, current_user, form.reason.data,
                success="Rejected; its stock is released.")


@bp.route(REQUEST_URL + "/quantities", methods=["POST"])
@roles_required(MANAGERS)
def change(request_id):
    """Save the manager's quantities for every line at once: all are saved, or none."""
    shown = _load(request_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    quantities = {}
    for line in shown.lines:
        raw = request.form.get(f"qty-{line.id}")
        if raw is None:
            continue
        number = _int(raw)
        if number is None:
            flash(f"{line.item.sku}: a quantity must be a whole number. Nothing was changed.", "error")
            return redirect(url_for("requests.show", request_id=request_id))
        if number != line.quantity:
            quantities[line.id] = number
    if not quantities:
        flash("No quantity was changed.", "info")
        return redirect(url_for("requests.show", request_id=request_id))
    try:
        services.change_quantities(db.session, request_id, quantities, current_user)
    except DomainError as error:
        flash(error.message + " Nothing was changed.", "error")
    else:
        flash("Quantities saved; the reservation follows.", "success")
    return redirect(url_for("requests.show", request_id=request_id))


def _whole(raw, empty):
    """A box's whole number 0 or more, or (None, message in plain words). `empty` is what an
    empty box means: a number, or the message to give."""
    raw = (raw or "").strip()
    if not raw:
        return (empty, None) if isinstance(empty, int) else (None, empty)
    if not (raw.isascii() and raw.isdigit()):
        return None, "Enter a whole number, 0 or more."
    return int(raw), None


def _pick_page(shown, code="", errors=None, status=200):
    plan = services.pick_list(db.session, shown)
    return render_template("requests/pick.html", r=shown, plan=plan, code=code, errors=errors or {},
                           button_form=ButtonForm()), status


@bp.route(REQUEST_URL + "/pick", methods=["GET", "POST"])
@roles_required(STAFF)
def pick(request_id):
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
def pick_bin(request_id, code):
    shown = _load(request_id)
    try:
        bin = get_bin(db.session, code)
    except NotFound:
        return render_template("bins/unknown.html", code=code, can_create=True), 404
    in_bin = {level.item_id: level.quantity for level in stock.levels_in_bin(db.session, bin)}
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
                services.pick(db.session, request_id, bin, picks, current_user)
            except DomainError as error:
                if error.status == 403:
                    abort(403)
                errors[error.about if error.about in entered else None] = error.message
            else:
                done = services.get_request(db.session, request_id)
                flash(f"Picked from {bin.code}. " + ("Everything is picked: ready." if done.status == "ready" else
                                                     "More to pick from other bins."), "success")
                return redirect(url_for("requests.pick", request_id=request_id))
    return render_template("requests/pick_bin.html", r=shown, bin=bin, lines=lines, in_bin=in_bin, errors=errors,
                           entered=entered, button_form=ButtonForm()), (400 if errors else 200)


@bp.route(REQUEST_URL + "/release", methods=["POST"])
@roles_required(STAFF)
def release(request_id):
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
        services.release_unpicked(db.session, request_id, line_ids, current_user)
    except DomainError as error:
        if error.status == 403:
            abort(403)
        db.session.expire_all()
        return _pick_page(_load(request_id), code, {"release": error.message}, error.status)
    flash("The rest is released and recorded as short.", "success")
    return redirect(url_for("requests.pick", request_id=request_id, bin=code or None))


@bp.route(REQUEST_URL + "/put-back", methods=["POST"])
@roles_required(STAFF)
def put_back(request_id):
    line_id, quantity = _int(request.form.get("line")), _int(request.form.get("quantity"))
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        bin = get_bin(db.session, request.form.get("bin", ""))
        services.put_back(db.session, request_id, line_id, bin, quantity, current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"Put back into {bin.code}; it stays held for this request.", "success")
    return redirect(url_for("requests.show", request_id=request_id))


@bp.route(REQUEST_URL + "/hand-over", methods=["POST"])
@roles_required(STAFF)
def hand_over(request_id):
    return _act(services.hand_over, request_id, current_user, success="Handed over.")


@bp.route(REQUEST_URL + "/check-in", methods=["GET", "POST"])
@roles_required(STAFF)
def check_in(request_id):
    shown = _load(request_id)
    lines = [line for line in shown.lines if line.item.returnable and line.issued]
    # errors: {box name, line id, or None: message}; entered: {box name: what was typed}
    errors, entered = {}, {}
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
                services.check_in(db.session, request_id, bin, outcomes, current_user)
            except DomainError as error:
                if error.status == 403:
                    abort(403)
                about = error.about
                if isinstance(about, tuple):
                    about = f"{about[1]}-{about[0]}"
                errors[about if about in entered or about in outcomes else None] = error.message
            else:
                flash("Checked in; the booking has ended.", "success")
                return redirect(url_for("requests.show", request_id=request_id))
    return render_template("requests/check_in.html", r=shown, lines=lines, errors=errors, entered=entered,
                           outcomes=OUTCOMES, button_form=ButtonForm()), (400 if errors else 200)


@bp.route("/request/availability/<sku>")
@roles_required(EVERYONE)
def window_availability(sku):
    """How many of a returnable are free for a window (?out=YYYY-MM-DD&back=...): for the form."""
    try:
        item = get_item(db.session, sku)
        out = date.fromisoformat(request.args.get("out", ""))
        back = date.fromisoformat(request.args["back"]) if request.args.get("back") else None
        window = Window.of(out, back)
    except (NotFound, ValueError, OverflowError):  # OverflowError: no day after 9999-12-31
        abort(404)
    free = free_quantity(db.session, item, window)
    return {"sku": item.sku, "free": max(0, free)}


