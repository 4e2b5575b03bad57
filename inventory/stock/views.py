"""Stock pages: put away, receive, move, adjust, count. Each parses the form, calls one rule, and
lands back on the bin page (or the item page it started from) with a confirmation that gives the
new quantities.

Every code box takes a typed code, a code filled in by scanning a label (static/scan.js), or a
label URL pasted whole; a URL that is not one of our labels is refused as such."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.roles import STAFF, roles_required
from ..bins.services import get_bin
from ..bins.services import suggest_bins as matching_bins
from ..catalog.services import get_item
from ..catalog.queries import suggest_items as matching_items
from ..errors import DomainError, InvalidInput, NotFound
from ..extensions import db
from ..forms import ButtonForm
from ..labels.services import label_bases, read_label
from ..requests import loans as loan_rules
from ..text import whole_number
from . import queries, services
from .forms import AdjustForm, MoveForm, PutAwayForm, ReceiveForm

bp = Blueprint("stock", __name__, url_prefix="/stock")


def _code(value, kind):
    """The bin code or SKU in a code box: typed as is, or taken from a pasted label URL."""
    value = (value or "").strip()
    if "://" not in value:
        return value
    ref = read_label(value, label_bases(current_app.config, request.url_root))
    if ref.kind != kind:
        raise InvalidInput(f"That is the label of {ref.kind} {ref.code}; give a{'n' if kind == 'item' else ''} {kind}.")
    return ref.code


def _lookup(form, sku_field=None, bin_fields=()):
    """Resolve SKU and bin codes typed in a form; put a message on the field when unknown."""
    found, ok = {}, True
    fields = ([(sku_field, "item", get_item)] if sku_field is not None else []) + [(f, "bin", get_bin) for f in bin_fields]
    for field, kind, get in fields:
        try:
            found["item" if kind == "item" else field.name] = get(db.session, _code(field.data, kind))
        except DomainError as error:
            field.errors.append(error.message)
            ok = False
    return found if ok else None


def _done(message, bin, item=None, back=None):
    """The confirmation: back where the action started, with the new quantities said in words."""
    flash(message, "success")
    if back == "item" and item is not None:
        return redirect(url_for("catalog.item", sku=item.sku))
    return redirect(url_for("bins.show", code=bin.code))


def _box(error, otherwise, already_in=None, **boxes):
    """Put a refusal's message next to the box it is about: the bin box for a refusal about the
    bin (archived, DISPATCH: error.about), else `otherwise` (put-away: `already_in` when the item
    is in that bin already)."""
    box = boxes.get(error.about) if isinstance(error.about, str) else None
    if box is None and already_in is not None and "already in" in error.message:
        box = already_in
    (box or otherwise).errors.append(error.message)


def _back_arg():
    return "item" if request.args.get("back") == "item" else ""


def _held(sku, code):
    """How many of `sku` bin `code` holds, for the form's hint (None when either is unknown)."""
    if not (sku and code):
        return None
    try:
        return queries.level(db.session, get_item(db.session, _code(sku, "item")), get_bin(db.session, _code(code, "bin")))
    except DomainError:
        return None


# A returnable arriving while units of it are out on loan: is it one of them coming back? -------

NEW_STOCK = "new"


def _loans_to_ask_about(item):
    """The loans of `item` to ask about before booking it as arriving stock: none for a
    consumable, none once the person has answered "No, this is new stock"."""
    if not item.returnable or request.form.get("loan_answer") == NEW_STOCK:
        return []
    return loan_rules.loans_of_item(db.session, item)


def _coming_back(loans, item, bin, quantity):
    """The person answered "Yes, check it in" for one of `loans`: that request's check-in, with
    the item, quantity and bin carried over; None when no (known) loan was chosen."""
    answer = request.form.get("loan_answer", "")
    chosen = next((loan for loan in loans if answer == f"returning-{loan.request_id}"), None)
    if chosen is None:
        return None
    return redirect(url_for("requests.check_in", request_id=chosen.request_id, item=item.sku, qty=quantity,
                            bin=bin.code))


@bp.route("/put-away", methods=["GET", "POST"])
@roles_required(STAFF)
def put_away():
    """Put stock into a bin: scan or choose the item, give the quantity, done. Taken from another
    bin (a receiving area) it is booked as a put-away; otherwise it is stock arriving (received)."""
    form = PutAwayForm(sku=request.args.get("sku", ""), bin=request.args.get("bin", ""), back=_back_arg())
    if form.validate_on_submit():
        found = _lookup(form, form.sku, [form.bin] + ([form.from_bin] if (form.from_bin.data or "").strip() else []))
        if found:
            item, bin, source = found["item"], found["bin"], found.get("from_bin")
            quantity = form.quantity.data
            # Stock arriving (no source bin) might be a loaned unit back: ask before booking it.
            loans = _loans_to_ask_about(item) if source is None else []
            if loans:
                return _coming_back(loans, item, bin, quantity) or render_template(
                    "stock/put_away.html", form=form, fixed_bin=request.args.get("bin", "").upper(),
                    fixed_sku=request.args.get("sku", "").upper(), loans=loans, loan_item=item)
            try:
                if source is None:
                    services.receive(db.session, item, bin, quantity, current_user, reference=form.reference.data)
                else:
                    services.put_away(db.session, item, source, bin, quantity, current_user,
                                      reason=form.reference.data)
            except DomainError as error:
                _box(error, form.quantity, bin=form.bin, from_bin=form.from_bin if source is not None else None,
                     already_in=form.from_bin if source is not None else None)
            else:
                now = queries.level(db.session, item, bin)
                if source is None:
                    message = f"Put away {quantity} × {item.sku} into {bin.code}; it now holds {now}."
                else:
                    message = (f"Put away {quantity} × {item.sku} from {source.code} into {bin.code}. "
                               f"{bin.code} now holds {now}, {source.code} holds {queries.level(db.session, item, source)}.")
                return _done(message, bin, item, form.back.data)
    status = 400 if request.method == "POST" else 200
    return render_template("stock/put_away.html", form=form, fixed_bin=request.args.get("bin", "").upper(),
                           fixed_sku=request.args.get("sku", "").upper()), status


@bp.route("/receive", methods=["GET", "POST"])
@roles_required(STAFF)
def receive():
    form = ReceiveForm(sku=request.args.get("sku", ""), bin=request.args.get("bin", ""), back=_back_arg())
    if form.validate_on_submit():
        found = _lookup(form, form.sku, [form.bin])
        if found:
            item, bin = found["item"], found["bin"]
            loans = _loans_to_ask_about(item)
            if loans:
                return _coming_back(loans, item, bin, form.quantity.data) or render_template(
                    "stock/receive.html", form=form, loans=loans, loan_item=item)
            try:
                services.receive(db.session, item, bin, form.quantity.data, current_user,
                                 reference=form.reference.data)
            except DomainError as error:
                _box(error, form.quantity, bin=form.bin)
            else:
                return _done(f"Received {form.quantity.data} × {item.sku} into {bin.code}; "
                             f"it now holds {queries.level(db.session, item, bin)}.", bin, item, form.back.data)
    status = 400 if request.method == "POST" else 200
    return render_template("stock/receive.html", form=form), status


@bp.route("/move", methods=["GET", "POST"])
@roles_required(STAFF)
def move():
    """Move stock out of a bin to another, chosen by scanning its label (or typing its code)."""
    form = MoveForm(sku=request.args.get("sku", ""), from_bin=request.args.get("from", ""), back=_back_arg())
    if form.validate_on_submit():
        found = _lookup(form, form.sku, [form.from_bin, form.to_bin])
        if found:
            item, source, target = found["item"], found["from_bin"], found["to_bin"]
            try:
                services.move(db.session, item, source, target, form.quantity.data, current_user,
                              reason=form.reason.data)
            except DomainError as error:
                _box(error, form.to_bin if isinstance(error, InvalidInput) and "bin" in error.message else form.quantity,
                     bin=form.to_bin, from_bin=form.from_bin)
            else:
                return _done(
                    f"Moved {form.quantity.data} × {item.sku} from {source.code} to {target.code}. "
                    f"{source.code} now holds {queries.level(db.session, item, source)}, "
                    f"{target.code} holds {queries.level(db.session, item, target)}.", source, item, form.back.data)
    status = 400 if request.method == "POST" else 200
    return render_template("stock/move.html", form=form, held=_held(form.sku.data, form.from_bin.data)), status


@bp.route("/adjust", methods=["GET", "POST"])
@roles_required(STAFF)
def adjust():
    form = AdjustForm(sku=request.args.get("sku", ""), bin=request.args.get("bin", ""), back=_back_arg())
    if form.validate_on_submit():
        found = _lookup(form, form.sku, [form.bin])
        if found:
            item, bin = found["item"], found["bin"]
            try:
                services.adjust(db.session, item, bin, form.change.data, current_user, form.reason.data)
            except DomainError as error:
                _box(error, form.change, bin=form.bin)
            else:
                return _done(f"Adjusted {item.sku} in {bin.code} by {form.change.data:+d}; "
                             f"it now holds {queries.level(db.session, item, bin)}.", bin, item, form.back.data)
    status = 400 if request.method == "POST" else 200
    return render_template("stock/adjust.html", form=form), status


def _parse_count(value):
    """A count box's whole number; the message says in plain words what to enter instead."""
    value = (value or "").strip()
    if not value:
        raise InvalidInput("Enter what you see: 0 if the bin has none.")
    number = whole_number(value)
    if number is None:  # "-2", "3.5", "ten", "²"
        raise InvalidInput("Enter how many you see as a whole number, 0 or more.")
    return number  # the rule refuses more than it can count


def _count_rows(bin, only=None):
    """What the count form lists: the bin's items with their expected quantities, or one item
    (counted from the item page), expected quantity zero included."""
    if only is None:
        return [(level.item, level.quantity) for level in queries.levels_in_bin(db.session, bin)]
    return [(only, queries.level(db.session, only, bin))]


def _count_summary(bin, movements):
    """'Count of A-01 booked (2 differences): PEN-1 10 → 9, MUG-1 4 → 0, CAP-1 3 ✓.'"""
    changed = [m for m in movements if m.quantity]
    lines = []
    for m in movements:
        before = m.counted + m.quantity if m.from_bin_id else m.counted - m.quantity
        lines.append(f"{m.item.sku} {before} → {m.counted}" if m.quantity else f"{m.item.sku} {m.counted} ✓")
    return (f"Count of {bin.code} booked ({len(changed)} difference{'s' if len(changed) != 1 else ''}): "
            f"{', '.join(lines)}.")


@bp.route("/count/<code>", methods=["GET", "POST"])
@roles_required(STAFF)
def count(code):
    """Count a bin: every expected item with its quantity, plus items found that were not
    expected; one submit books every difference. `?sku=` counts one item in the bin."""
    try:
        bin = get_bin(db.session, code)
    except NotFound:
        return render_template("bins/unknown.html", code=code, can_create=True), 404
    only = None
    if request.args.get("sku"):
        try:
            only = get_item(db.session, request.args["sku"])
        except NotFound:
            return render_template("catalog/unknown_item.html", sku=request.args["sku"]), 404
    rows = _count_rows(bin, only)
    back = _back_arg()
    form = ButtonForm()
    # errors: {box id: message}, shown next to that box; entered: what was typed, kept on a refusal.
    errors, entered, extras, problem = {}, {}, [], None
    if form.validate_on_submit():
        counts, box_of = [], {}
        for item, _expected in rows:
            box = f"count-{item.id}"
            raw = entered[item.id] = request.form.get(box, "")
            try:
                counts.append((item, _parse_count(raw)))
                box_of[item.id] = box
            except InvalidInput as error:
                errors[box] = error.message
        for sku, raw in zip(request.form.getlist("extra_sku"), request.form.getlist("extra_count")):
            if not sku.strip() and not raw.strip():
                continue
            extras.append((sku, raw))
            number = len(extras)  # the row it is shown on again
            try:
                item = get_item(db.session, _code(sku, "item")) if sku.strip() else None
            except DomainError as error:
                errors[f"extra_sku-{number}"] = error.message
                item = None
            if not sku.strip():
                errors[f"extra_sku-{number}"] = "Scan or type the SKU of what you found."
            elif item is not None and any(existing.id == item.id for existing, _ in counts):
                errors[f"extra_sku-{number}"] = f"{item.sku} is already on the list above: count it there."
                item = None
            try:
                counted = _parse_count(raw)
            except InvalidInput as error:
                errors[f"extra_count-{number}"] = error.message
            else:
                if item is not None:
                    counts.append((item, counted))
                    box_of[item.id] = f"extra_count-{number}"
        if not errors:
            try:
                movements = services.count(db.session, bin, counts, current_user)
            except DomainError as error:
                if error.about in box_of:
                    errors[box_of[error.about]] = error.message
                else:
                    problem = error.message
            else:
                return _done(_count_summary(bin, movements), bin, only, back)
    refused = bool(errors or problem or (request.method == "POST" and form.errors))
    extras += [("", "")] * max(0, 2 - len(extras))
    return render_template("stock/count.html", bin=bin, rows=rows, only=only, form=form, errors=errors,
                           problem=problem, entered=entered, extras=extras, back=back), (400 if refused else 200)


@bp.route("/suggest/items")
@roles_required(STAFF)
def suggest_items():
    """<option>s for an SKU box's datalist, filled in by htmx as the user types."""
    q = next((v for k, v in request.args.items() if k in ("sku", "q", "extra_sku", "replaced_by")), "")
    options = [(item.sku, item.name) for item in matching_items(db.session, q)]
    return render_template("stock/_options.html", options=options)


@bp.route("/suggest/bins")
@roles_required(STAFF)
def suggest_bins():
    q = next((v for k, v in request.args.items() if k in ("bin", "from_bin", "to_bin", "q")), "")
    return render_template("stock/_options.html", options=[(b.code, b.name) for b in matching_bins(db.session, q)])
