"""Request pages: the rep's request (cart), my requests, the request page, Marketing's queue,
picking, hand-over and check-in. Each view parses input, calls one rule, shows the result."""
from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..auth.roles import EVERYONE, MANAGERS, STAFF, can, roles_required
from ..bins.services import get_bin
from ..catalog.services import get_item
from ..core.security import is_local_path
from ..core.templating import last_segment_url
from ..errors import DomainError, NotFound, ShortStock
from ..events import services as event_services
from ..extensions import db
from ..forms import SCAN_OR_TYPE_BIN, ButtonForm
from ..pagination import page_arg
from ..stock import queries as stock_queries
from ..stock import services as stock
from ..text import is_digits, to_int, whole_number
from ..timeutil import date_arg, parse_date
from . import carriers, drafts, fulfilment, handover, lifecycle, loans, queries, review, submission
from ..holds.availability import Window, free_quantity
from .forms import RejectForm, RequestDetailsForm
from .lifecycle import Action, Status
from .models import OUTCOMES, STATUSES

bp = Blueprint("requests", __name__)
BACKORDERS_SHOWN = 50  # on the queue page, in the order they will be filled
# A request's URL; ids past what the id column holds answer 404 instead of failing in the database.
REQUEST_URL = "/requests/<int(max=2147483647):request_id>"


@bp.app_template_global()
def request_url(request_id):
    """url_for("requests.show", request_id=...), the same URL at a fraction of the cost: the queue
    links 75 requests (its page and the backorders), and url_for was a fifth of drawing them."""
    return last_segment_url("requests.show", "request_id", request_id, 0)


def _int(value, default=0):
    try:
        return to_int((value or "").strip() or default)
    except ValueError:
        return None


# The rep's request being put together -----------------------------------------------------

def _whole(raw, empty, bad="Enter a whole number, 0 or more."):
    """A box's whole number 0 or more, or (None, message in plain words). `empty` is what an
    empty box means: a number, or the message to give; `bad`, what to say for anything else."""
    raw = (raw or "").strip()
    if not raw:
        return (empty, None) if isinstance(empty, int) else (None, empty)
    number = whole_number(raw)
    if number is None:
        return None, bad
    if number > stock.MAX_QUANTITY:
        return None, f"Enter at most {stock.MAX_QUANTITY:,}."
    return number, None


def _posted_quantities(form, skus=None):
    """({sku: n}, {sku: message}) from the form's qty-<SKU> boxes (only `skus`, when given)."""
    quantities, errors = {}, {}
    for key, value in form.items():
        if not key.startswith("qty-"):
            continue
        sku = key[4:].upper()
        if skus is not None and sku not in skus:
            continue
        number, problem = _whole(value, "Enter how many, or 0 to take it off.")
        if problem:
            errors[sku] = problem
        else:
            quantities[sku] = number
    return quantities, errors


@bp.route("/request/add", methods=["POST"])
@roles_required(EVERYONE)
def add():
    """Set quantities in the rep's request from a product (one box per size) or an item page:
    fields qty-<SKU>. The boxes show what the request holds, so what they say is what it holds
    (0 takes a size off)."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    back = request.form.get("back")
    if not is_local_path(back):
        back = url_for("catalog.index")
    quantities, bad = _posted_quantities(request.form)
    if bad:
        flash("Quantities must be whole numbers, 0 or more: " + ", ".join(bad) + ". Nothing was added.", "error")
        return redirect(back)
    # Only the boxes the rep changed on this page: each says what it was drawn with (was-<SKU>), so
    # a page left open while the request changed elsewhere (sent, or edited in another tab) cannot
    # put back quantities the rep did not touch here.
    drawn = {key[4:].upper(): _int(value) for key, value in request.form.items() if key.startswith("was-")}
    changed = {sku: quantity for sku, quantity in quantities.items() if drawn.get(sku, -1) != quantity}
    if not changed and any(quantities.values()):
        flash("Nothing changed: your request already holds these.", "info")
        return redirect(url_for("requests.new") if request.form.get("go") else back)
    quantities = changed
    items, wanted = {}, {}
    for sku, quantity in quantities.items():
        try:
            item = get_item(db.session, sku)
        except NotFound as error:
            flash(error.message, "error")
            return redirect(back)
        items[item.sku], wanted[item.sku] = item, quantity
    before = drafts.get(db.session, current_user)
    if not any(wanted.values()) and not set(wanted) & set(before.lines):
        flash("Choose how many you need first.", "error")
        return redirect(back)
    try:
        drafts.save(db.session, current_user, quantities=wanted)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(back)
    flash(_added_message(items, wanted, before), "success")
    short = _short_now(items, wanted)
    if short:
        flash(short, "info")
    return redirect(url_for("requests.new") if request.form.get("go") else back)


def _added_message(items, wanted, before):
    taken = [f"{quantity} × {items[sku].name}" for sku, quantity in wanted.items() if quantity]
    dropped = [items[sku].name for sku, quantity in wanted.items() if not quantity and sku in before.lines]
    parts = []
    if taken:
        parts.append("Your request now has " + ", ".join(taken) + ".")
    if dropped:
        parts.append("Taken off: " + ", ".join(dropped) + ".")
    return " ".join(parts)


def _short_now(items, wanted):
    """Say at once when more is asked than is free today (the request page then offers what to do)."""
    levels = stock.availability(db.session, [items[sku].id for sku in wanted])
    short = [f"{max(0, levels[items[sku].id].available)} of {items[sku].name} free now, {quantity} asked"
             for sku, quantity in wanted.items() if quantity > levels[items[sku].id].available
             and not items[sku].returnable]
    if not short:
        return ""
    return "Only " + "; ".join(short) + ". Your request offers what to do before you send it."


def _parse_date(text):
    return parse_date(text)


def _details_from(form_data, draft):
    """The details posted, over the draft's: a box left out of the post keeps what was typed
    before; the backorder switch is off when not ticked (a checkbox sends nothing then)."""
    details = {key: draft.details.get(key, "") for key in drafts.DETAILS}
    details.update({key: form_data[key] for key in drafts.DETAILS if key in form_data})
    details["allow_partial"] = form_data.get("allow_partial", "")
    return details


def _typed_date(field):
    return _parse_date(field.raw_data[0]) if field.raw_data else field.data


def _draft_context(draft, form, errors=None, shortages=None):
    """What the request page shows for `draft`: its lines with what is free for the dates typed."""
    needed_by, return_by = _typed_date(form.needed_by), _typed_date(form.return_by)
    lines = drafts.page_lines(db.session, draft, drafts.window_of(needed_by, return_by))
    has_returnables = any(line.item.returnable for line in lines)
    return dict(form=form, lines=lines, draft=draft, errors=errors or {}, shortages=shortages or {},
                needed_by=needed_by, return_by=return_by if has_returnables else None,
                has_returnables=has_returnables, partial=bool(form.allow_partial.data),
                short=[line for line in lines if line.short], button_form=ButtonForm())


def _draft_page(draft, form, *, errors=None, shortages=None, status=200):
    return render_template("requests/new.html", **_draft_context(draft, form, errors, shortages)), status


def _details_form(draft=None):
    """The details form: from the POST being answered, or (on GET) from the draft as typed."""
    if request.method == "POST" or draft is None:
        form = RequestDetailsForm()
    else:
        typed = {key: value for key, value in draft.details.items() if value}
        form = RequestDetailsForm(formdata=MultiDict(typed) if typed else None)
    upcoming = [e for e in event_services.upcoming(db.session, date.today()) if not e.cancelled]
    form.event_id.choices = [(0, "No event")] + [
        (e.id, f"{e.name} · ships {e.ship_by.strftime('%a %-d %b')}") for e in upcoming]
    form.upcoming_ids = {e.id for e in upcoming}
    return form


@bp.route("/request", methods=["GET", "POST"])
@roles_required(EVERYONE)
def new():
    """The rep's request: one form, lines and details together. Whatever button is pressed,
    every quantity and detail on the page is saved to the draft first, then the button acts:
    Submit sends it, Remove takes a line off, Take/Switch/Backorder answer a shortfall."""
    if request.method == "GET":
        wanted = request.args.get("event", type=to_int)
        draft = drafts.get(db.session, current_user)
        form = _details_form(draft)
        if wanted in form.upcoming_ids and str(wanted) != draft.details.get("event_id"):
            drafts.remember_event(db.session, current_user, wanted)
            form.event_id.data = wanted
        return _draft_page(draft, form)
    if not ButtonForm().validate_on_submit():
        abort(400)
    form = _details_form()
    action = request.form.get("action", "submit")
    try:
        draft, errors = _save_posted(action)
    except drafts.StaleDraft as error:
        flash(error.message, "error")
        return redirect(url_for("requests.mine"))
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("requests.new"))
    if action != "submit":
        if errors:
            return _draft_page(draft, form, errors=errors, status=400)
        return redirect(url_for("requests.new") + ("#send" if action == "backorder" else ""))
    if not draft.lines:
        flash("Your request is empty: add items from the catalog.", "error")
        return redirect(url_for("requests.new"))
    if not form.validate() or errors:
        return _draft_page(draft, form, errors=errors, status=400)
    lines = drafts.page_lines(db.session, draft, drafts.window_of(form.needed_by.data, form.return_by.data))
    gone = set(draft.lines) - {line.item.sku for line in lines}
    if gone:  # a SKU the catalog no longer has: say so rather than send the request without it
        drafts.save(db.session, current_user, quantities=dict.fromkeys(gone, 0))
        flash(f"No longer in the catalog, so taken off your request: {', '.join(sorted(gone))}. "
              "Check it, then send it again.", "error")
        return redirect(url_for("requests.new"))
    try:
        made = submission.submit(
            db.session, current_user, [(line.item, line.quantity) for line in lines],
            purpose=form.purpose.data, needed_by=form.needed_by.data, return_by=form.return_by.data,
            handoff=form.handoff.data, ship_to=form.ship_to.data, note=form.note.data,
            event_id=form.event_id.data or None, allow_partial=form.allow_partial.data,
            draft_generation=draft.generation,
        )
    except drafts.StaleDraft as error:
        flash(error.message, "error")
        return redirect(url_for("requests.mine"))
    except drafts.DraftChanged as error:
        flash(error.message, "error")
        return redirect(url_for("requests.new"))
    except ShortStock as error:
        flash("Nothing is held yet: not enough stock for every line. Choose for each short line below.", "error")
        return _draft_page(draft, form, shortages={s.sku: s for s in error.shortages}, status=409)
    except DomainError as error:
        flash(error.message, "error")
        return _draft_page(draft, form, status=error.status if error.status in (400, 404, 409) else 400)
    return redirect(url_for("requests.show", request_id=made.id, submitted=1))


def _save_posted(action):
    """Save every quantity and detail posted from the request page, with the change the pressed
    button asks for; returns (Draft, {sku: message} for boxes that could not be taken)."""
    current = drafts.get(db.session, current_user)
    quantities, errors = _posted_quantities(request.form, set(current.lines))
    details = _details_from(request.form, current)
    replace = {}
    verb, _, target = action.partition(":")
    target = target.upper()
    if verb == "remove" and target in current.lines:
        quantities[target] = 0
        errors.pop(target, None)
    elif verb == "take" and target in current.lines:
        quantities[target] = _free_for(target, details)
        errors.pop(target, None)
    elif verb == "switch":
        old, _, new = target.partition(">")
        if old in current.lines:
            sibling = _sibling(old, new)
            if sibling is None:
                errors[old] = f"{new} is not another size of this item that can be requested now."
            else:
                replace[old] = sibling.sku
    elif verb == "backorder":
        details["allow_partial"] = "y"
    draft = drafts.save(db.session, current_user, quantities=quantities, details=details, replace=replace,
                        generation=request.form.get("generation", type=to_int), only_known=True)
    return draft, errors


def _sibling(sku, other):
    """The item `other` when it is another size of `sku`'s product that can be requested."""
    item, sibling = _known_item(sku), _known_item(other)
    return sibling if item is not None and sibling is not None and drafts.can_switch(item, sibling) else None


def _free_for(sku, details):
    """Units of `sku` free for the dates in `details`, for *Take what is free*."""
    window = drafts.window_of(_parse_date(details.get("needed_by")), _parse_date(details.get("return_by")))
    item = get_item(db.session, sku)
    return max(0, free_quantity(db.session, item, window))


@bp.route("/request/draft", methods=["POST"])
@roles_required(EVERYONE)
def autosave():
    """Save the request page as the rep types (htmx on every change, a beacon when the page is
    left) and answer what is free for each line now, as out-of-band swaps."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    form = _details_form()
    try:
        draft, errors = _save_posted("save")
    except DomainError as error:  # sent already (StaleDraft), or more lines than a request holds
        return render_template("requests/_draft_sent.html", message=error.message)
    return render_template("requests/_draft_statuses.html", **_draft_context(draft, form, errors))


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
    # The one-tap Approve on each submitted request comes back to this page of the queue.
    approve_query = "?" + urlencode({"from": "queue", **({"status": status} if status else {}),
                                     **({"page": page.page} if page.page > 1 else {})})
    return render_template("requests/queue.html", page=page, status=status, statuses=STATUSES,
                           backorders=backorders, more_backorders=more, today=date.today(),
                           approve_form=ButtonForm(), approve_query=approve_query)


@bp.route("/requests/picking")
@roles_required(STAFF)
def picking():
    rows = queries.to_pick(db.session)
    return render_template("requests/picking.html", rows=rows, today=date.today())


# One request --------------------------------------------------------------------------------

def _load(request_id):
    try:
        loaded = queries.get_request(db.session, request_id)
    except NotFound:
        abort(404)
    if loaded.requester_id != current_user.id and not can(current_user, STAFF):
        abort(403)
    return loaded


@bp.route(REQUEST_URL)
@roles_required(EVERYONE)
def show(request_id):
    return _request_page(_load(request_id), just_submitted=request.args.get("submitted") == "1")


def _request_page(shown, status=200, *, typed=None, line_errors=None, page_error=None, reject_form=None,
                  just_submitted=False, undo_reason="", undo_error=None):
    """The request page; after a refusal, with the manager's typed quantities (`typed`, {line id:
    text}), a message per line at fault and the reject form with its errors (or the undo reason
    as typed and what is wrong with it)."""
    actions = lifecycle.allowed_actions(shown, current_user)  # the buttons the page shows
    editable = Action.CHANGE_QUANTITIES in actions
    return render_template("requests/show.html", r=shown, actions=actions, Action=Action, Status=Status,
                           editable=editable,
                           free=review.more_free(db.session, shown) if editable else {},
                           typed=typed or {}, line_errors=line_errors or {}, page_error=page_error,
                           button_form=ButtonForm(), reject_form=reject_form or RejectForm(), today=date.today(),
                           just_submitted=just_submitted, hand_over=_hand_over_shown(shown),
                           undo_reason=undo_reason, undo_error=undo_error), status


def _hand_over_shown(shown):
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
def seen_of(lines):
    """What a page showed of a request's lines, for its buttons to send back: "id:asked,..."."""
    return ",".join(f"{line.id}:{line.quantity}" for line in lines)


def _seen():
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


EMPTY_BOX = "Enter how many, 0 to remove the line."
NOT_A_COUNT = "Enter a whole number, 0 or more (0 removes the line)."


def _typed_quantities(shown):
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


def _refused(request_id, error, typed):
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


# The request page is one form: its quantity boxes, the reject reason and every button (each
# button posts to its own URL with formaction), so whichever button is pressed, the quantities
# on screen are the ones taken.

@bp.route(REQUEST_URL + "/cancel", methods=["POST"])
@roles_required(EVERYONE)
def cancel(request_id):
    return _act(review.cancel, request_id, current_user, success="Request cancelled; its stock is released.")


@bp.route(REQUEST_URL + "/approve", methods=["POST"])
@roles_required(MANAGERS)
def approve(request_id):
    """Approve with the quantities on screen: changed and approved in one transaction, or, if a
    change cannot be held, nothing approved and the page again with the reason by the line."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    if request.args.get("from") == "queue":
        return _approve_from_queue(request_id)
    shown = _load(request_id)
    quantities, typed, wrong = _typed_quantities(shown)
    if wrong:
        return _request_page(shown, 400, typed=typed, line_errors=wrong,
                             page_error="Nothing was approved: check the quantities below.")
    try:
        review.approve(db.session, request_id, current_user, quantities=quantities, seen=_seen())
    except DomainError as error:
        if error.status == 403:
            abort(403)
        if quantities or isinstance(error, review.RequestChanged):
            return _refused(request_id, error, typed)
        flash(error.message, "error")
    else:
        flash(("Quantities saved and approved" if quantities else "Approved") + ": it is on the stockroom's pick list.",
              "success")
    return redirect(url_for("requests.show", request_id=request_id))


def _approve_from_queue(request_id):
    """The queue's one-tap Approve: as the request is, then back to the same page of the queue."""
    try:
        approved = review.approve(db.session, request_id, current_user, seen=_seen())
    except review.RequestChanged as error:
        flash(error.message + " Nothing was approved.", "error")
        return redirect(url_for("requests.show", request_id=request_id))
    except DomainError as error:
        if error.status == 403:
            abort(403)
        flash(error.message, "error")  # it names the request ("Request R-00012 is approved; ...")
    else:
        flash(f"Approved {approved.number}", "success")
    status, page = request.args.get("status"), page_arg()
    return redirect(url_for("requests.queue", status=status if status in STATUSES else None,
                            page=page if page > 1 else None))


@bp.route(REQUEST_URL + "/reject", methods=["POST"])
@roles_required(MANAGERS)
def reject(request_id):
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
def change(request_id):
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


def _pick_page(shown, code="", errors=None, status=200):
    plan = fulfilment.pick_list(db.session, shown)
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
def put_back(request_id):
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


def _hand_over_page(shown, entered=None, errors=None, status=200):
    entered = entered or {}
    if "collected_by" not in entered:
        entered["collected_by"] = shown.requester.display_name  # who usually collects it
    return render_template("requests/hand_over.html", r=shown, entered=entered, errors=errors or {},
                           carriers=list(carriers.CARRIERS), other=carriers.OTHER_CARRIER,
                           lines=[line for line in shown.lines if line.picked], button_form=ButtonForm()), status


HAND_OVER_BOXES = ("collected_by", "carrier", "carrier_other", "tracking", "note")


@bp.route(REQUEST_URL + "/hand-over", methods=["GET", "POST"])
@roles_required(STAFF)
def hand_over(request_id):
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


@bp.route(REQUEST_URL + "/undo-hand-over", methods=["POST"])
@roles_required(MANAGERS)
def undo_hand_over(request_id):
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


@bp.route(REQUEST_URL + "/check-in", methods=["GET", "POST"])
@roles_required(STAFF)
def check_in(request_id):
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


def _check_in_focus(shown, lines):
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


def _check_in_prefill(focus, lines):
    """The boxes as the page opens for one item: its line returns the units said (the rest of
    the line's units are left for the person to account for), the bin is the one carried over
    or the one the item was last in. The other lines keep the page's usual defaults."""
    line = focus["line"]
    entered = {}
    if focus["qty"] is not None:
        entered[f"returned-{line.id}"] = str(focus["qty"])
    entered["bin"] = focus["bin"] or getattr(loans.usual_bin(db.session, line.item), "code", "")
    return entered


@bp.route("/request/availability/<sku>")
@roles_required(EVERYONE)
def window_availability(sku):
    """How many of a returnable are free for a window (?out=YYYY-MM-DD&back=...): for the form."""
    try:
        item = get_item(db.session, sku)
        # A date off the calendar (0001-01-01, 9999-12-31) is no window: date_arg refuses it.
        out = date_arg(request.args.get("out", ""), "out")
        back = date_arg(request.args["back"], "back") if request.args.get("back") else None
        window = Window.of(out, back)
    except (NotFound, ValueError):
        abort(404)
    free = free_quantity(db.session, item, window)
    return {"sku": item.sku, "free": max(0, free)}


@bp.before_app_request
def _adopt_session_cart():
    """Requests put together before drafts were kept in the database lived in the session
    cookie: move such a cart into the user's draft once, so nobody loses it on the upgrade."""
    old = session.get("request_cart")
    if old is None or not current_user.is_authenticated:
        return
    session.pop("request_cart", None)
    session.pop("request_event", None)
    known = {item.sku for item in (_known_item(sku) for sku, _q in old) if item is not None}
    quantities = {sku: quantity for sku, quantity in old if sku in known and isinstance(quantity, int) and quantity > 0}
    if quantities:
        try:
            drafts.save(db.session, current_user, quantities=quantities)
        except DomainError:
            pass  # more lines than a request holds: the cookie's cart is dropped, as it would have been refused


def _known_item(sku):
    try:
        return get_item(db.session, sku)
    except NotFound:
        return None
