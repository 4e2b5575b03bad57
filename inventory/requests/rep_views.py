"""The rep's pages: the request being put together (one form: lines and details, saved as the rep
types, then sent), adding to it from the catalog, what is free for a returnable's dates, My
requests, and cancelling a request. On the requests blueprint (views.py)."""
from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms import Field

from .. import timeutil
from ..auth.roles import EVERYONE, roles_required
from ..budgets import approvals, standing
from ..budgets.models import Team
from ..catalog.models import Item
from ..catalog.services import get_item
from ..core.security import is_local_path
from ..errors import DomainError, NotFound, ShortStock
from ..events import services as event_services
from ..extensions import db
from ..forms import ButtonForm
from ..holds.availability import Window, free_quantity
from ..pagination import page_arg
from ..stock import services as stock
from ..text import to_int
from ..timeutil import date_arg, parse_date
from . import drafts, queries, review, submission
from .forms import RequestDetailsForm
from .views import REQUEST_URL, _act, _int, _whole, bp


def _posted_quantities(form: MultiDict, skus: set[str] | None = None) -> tuple[dict[str, int], dict[str, str]]:
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
def add() -> ResponseReturnValue:
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


def _added_message(items: dict[str, Item], wanted: dict[str, int], before: drafts.Draft) -> str:
    taken = [f"{quantity} × {items[sku].name}" for sku, quantity in wanted.items() if quantity]
    dropped = [items[sku].name for sku, quantity in wanted.items() if not quantity and sku in before.lines]
    parts = []
    if taken:
        parts.append("Your request now has " + ", ".join(taken) + ".")
    if dropped:
        parts.append("Taken off: " + ", ".join(dropped) + ".")
    return " ".join(parts)


def _short_now(items: dict[str, Item], wanted: dict[str, int]) -> str:
    """Say at once when more is asked than is free today (the request page then offers what to do)."""
    levels = stock.availability(db.session, [items[sku].id for sku in wanted])
    short = [f"{max(0, levels[items[sku].id].available)} of {items[sku].name} free now, {quantity} asked"
             for sku, quantity in wanted.items() if quantity > levels[items[sku].id].available
             and not items[sku].returnable]
    if not short:
        return ""
    return "Only " + "; ".join(short) + ". Your request offers what to do before you send it."


def _parse_date(text: str | None) -> date | None:
    return parse_date(text)


def _details_from(form_data: MultiDict, draft: drafts.Draft) -> dict[str, str]:
    """The details posted, over the draft's: a box left out of the post keeps what was typed
    before; the backorder switch is off when not ticked (a checkbox sends nothing then)."""
    details = {key: draft.details.get(key, "") for key in drafts.DETAILS}
    details.update({key: form_data[key] for key in drafts.DETAILS if key in form_data})
    details["allow_partial"] = form_data.get("allow_partial", "")
    return details


def _typed_date(field: Field) -> date | None:
    return _parse_date(field.raw_data[0]) if field.raw_data else field.data


def _draft_context(draft: drafts.Draft, form: RequestDetailsForm, errors: dict[str, str] | None = None,
                   shortages: dict | None = None) -> dict:
    """What the request page shows for `draft`: its lines with what is free for the dates typed."""
    needed_by, return_by = _typed_date(form.needed_by), _typed_date(form.return_by)
    lines = drafts.page_lines(db.session, draft, drafts.window_of(needed_by, return_by))
    has_returnables = any(line.item.returnable for line in lines)
    return dict(form=form, lines=lines, draft=draft, errors=errors or {}, shortages=shortages or {},
                needed_by=needed_by, return_by=return_by if has_returnables else None,
                has_returnables=has_returnables, partial=bool(form.allow_partial.data),
                short=[line for line in lines if line.short], button_form=ButtonForm(),
                **_draft_budget(lines, needed_by))


def _draft_budget(lines: list[drafts.PageLine], needed_by: date | None) -> dict:
    """Each line's value and the total; for a rep in a team with a budget, what is left in the
    period of the needed-by date (today's when none is typed) and what this request would leave."""
    values = standing.draft_values((line.item.sku, line.item, line.quantity) for line in lines)
    today = timeutil.today()
    team = standing.team_standing(db.session, current_user.team_id, standing.budget_day(needed_by, today),
                                  current_app.config.get("BUDGET_PERIOD", "quarter"), today)
    after = team.after(values.total) if team else None
    # Who will approve it (budgets/approvals.py); the team was loaded with its standing.
    found = db.session.get(Team, current_user.team_id) if current_user.team_id is not None else None
    route = approvals.route(found, values.total, after) if lines else None
    return dict(values=values, standing=team, after=after, route=route)


def _draft_page(draft: drafts.Draft, form: RequestDetailsForm, *, errors: dict[str, str] | None = None,
                shortages: dict | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("requests/new.html", **_draft_context(draft, form, errors, shortages)), status


def _details_form(draft: drafts.Draft | None = None) -> RequestDetailsForm:
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
def new() -> ResponseReturnValue:
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


def _save_posted(action: str) -> tuple[drafts.Draft, dict[str, str]]:
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


def _sibling(sku: str, other: str) -> Item | None:
    """The item `other` when it is another size of `sku`'s product that can be requested."""
    item, sibling = _known_item(sku), _known_item(other)
    return sibling if item is not None and sibling is not None and drafts.can_switch(item, sibling) else None


def _free_for(sku: str, details: dict[str, str]) -> int:
    """Units of `sku` free for the dates in `details`, for *Take what is free*."""
    window = drafts.window_of(_parse_date(details.get("needed_by")), _parse_date(details.get("return_by")))
    item = get_item(db.session, sku)
    return max(0, free_quantity(db.session, item, window))


@bp.route("/request/draft", methods=["POST"])
@roles_required(EVERYONE)
def autosave() -> ResponseReturnValue:
    """Save the request page as the rep types (htmx on every change, a beacon when the page is
    left) and answer what is free for each line now, as out-of-band swaps."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    form = _details_form()
    try:
        draft, errors = _save_posted("save")
    except DomainError as error:  # sent already (StaleDraft), or more lines than a request holds
        return render_template("requests/_draft_sent.html", message=error.message)
    context = _draft_context(draft, form, errors)
    # A box set to 0 takes its line off the draft; the line stays on the page until it is drawn
    # again, so its value says what it commits now: nothing.
    posted = {key[4:].upper() for key in request.form if key.startswith("qty-")}
    gone = sorted(posted - {line.item.sku for line in context["lines"]} - set(errors))
    return render_template("requests/_draft_statuses.html", gone=gone, **context)


@bp.route("/requests/mine")
@roles_required(EVERYONE)
def mine() -> ResponseReturnValue:
    page = queries.requests_of_page(db.session, current_user, page=page_arg())
    return render_template("requests/mine.html", page=page, today=date.today())


@bp.route(REQUEST_URL + "/cancel", methods=["POST"])
@roles_required(EVERYONE)
def cancel(request_id: int) -> ResponseReturnValue:
    return _act(review.cancel, request_id, current_user, success="Request cancelled; its stock is released.")


@bp.route("/request/availability/<sku>")
@roles_required(EVERYONE)
def window_availability(sku: str) -> ResponseReturnValue:
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
def _adopt_session_cart() -> None:
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


def _known_item(sku: str) -> Item | None:
    try:
        return get_item(db.session, sku)
    except NotFound:
        return None
