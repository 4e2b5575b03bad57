"""Stock pages: receive, move, adjust, count. Each parses the form, calls one rule, and says
what changed with the new quantities."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from ..auth.roles import STAFF, roles_required
from ..bins.models import Bin
from ..bins.services import get_bin
from ..catalog.models import Item, Product
from ..catalog.services import get_item
from ..errors import DomainError, InvalidInput, NotFound
from ..extensions import db
from ..forms import ButtonForm
from . import services
from .forms import AdjustForm, MoveForm, ReceiveForm

bp = Blueprint("stock", __name__, url_prefix="/stock")


def _lookup(form, sku_field=None, bin_fields=()):
    """Resolve SKU and bin codes typed in a form; put a message on the field when unknown."""
    found, ok = {}, True
    if sku_field is not None:
        try:
            found["item"] = get_item(db.session, sku_field.data)
        except NotFound as error:
            sku_field.errors.append(error.message)
            ok = False
    for field in bin_fields:
        try:
            found[field.name] = get_bin(db.session, field.data)
        except NotFound as error:
            field.errors.append(error.message)
            ok = False
    return found if ok else None


def _done(message, bin):
    flash(message, "success")
    return redirect(url_for("bins.show", code=bin.code))


@bp.route("/receive", methods=["GET", "POST"])
@roles_required(STAFF)
def receive():
    form = ReceiveForm(sku=request.args.get("sku", ""), bin=request.args.get("bin", ""))
    if form.validate_on_submit():
        found = _lookup(form, form.sku, [form.bin])
        if found:
            item, bin = found["item"], found["bin"]
            try:
                services.receive(db.session, item, bin, form.quantity.data, current_user,
                                 reference=form.reference.data)
            except DomainError as error:
                form.quantity.errors.append(error.message)
            else:
                return _done(f"Received {form.quantity.data} × {item.sku} into {bin.code}; "
                             f"it now holds {services.level(db.session, item, bin)}.", bin)
    status = 400 if request.method == "POST" else 200
    return render_template("stock/receive.html", form=form), status


@bp.route("/move", methods=["GET", "POST"])
@roles_required(STAFF)
def move():
    form = MoveForm(sku=request.args.get("sku", ""), from_bin=request.args.get("from", ""))
    if form.validate_on_submit():
        found = _lookup(form, form.sku, [form.from_bin, form.to_bin])
        if found:
            item, source, target = found["item"], found["from_bin"], found["to_bin"]
            try:
                services.move(db.session, item, source, target, form.quantity.data, current_user,
                              reason=form.reason.data)
            except DomainError as error:
                (form.to_bin if isinstance(error, InvalidInput) and "bin" in error.message else form.quantity
                 ).errors.append(error.message)
            else:
                return _done(
                    f"Moved {form.quantity.data} × {item.sku} from {source.code} to {target.code}. "
                    f"{source.code} now holds {services.level(db.session, item, source)}, "
                    f"{target.code} holds {services.level(db.session, item, target)}.", source)
    held = None
    if form.sku.data and form.from_bin.data:
        try:
            held = services.level(db.session, get_item(db.session, form.sku.data), get_bin(db.session, form.from_bin.data))
        except NotFound:
            held = None
    status = 400 if request.method == "POST" else 200
    return render_template("stock/move.html", form=form, held=held), status


@bp.route("/adjust", methods=["GET", "POST"])
@roles_required(STAFF)
def adjust():
    form = AdjustForm(sku=request.args.get("sku", ""), bin=request.args.get("bin", ""))
    if form.validate_on_submit():
        found = _lookup(form, form.sku, [form.bin])
        if found:
            item, bin = found["item"], found["bin"]
            try:
                services.adjust(db.session, item, bin, form.change.data, current_user, form.reason.data)
            except DomainError as error:
                form.change.errors.append(error.message)
            else:
                return _done(f"Adjusted {item.sku} in {bin.code} by {form.change.data:+d}; "
                             f"it now holds {services.level(db.session, item, bin)}.", bin)
    status = 400 if request.method == "POST" else 200
    return render_template("stock/adjust.html", form=form), status


def _parse_count(value):
    value = (value or "").strip()
    if not value.isdigit():
        raise InvalidInput(f"{value or '(empty)'!r} is not a count: enter a whole number, 0 or more.")
    return int(value)


@bp.route("/count/<code>", methods=["GET", "POST"])
@roles_required(STAFF)
def count(code):
    """Count a bin: every expected item with its quantity, plus items found that were not expected."""
    try:
        bin = get_bin(db.session, code)
    except NotFound:
        return render_template("bins/unknown.html", code=code, can_create=True), 404
    levels = services.levels_in_bin(db.session, bin)
    form = ButtonForm()
    errors, entered = [], {}
    if form.validate_on_submit():
        counts = []
        for level in levels:
            raw = request.form.get(f"count-{level.item_id}", "")
            entered[level.item_id] = raw
            try:
                counts.append((level.item, _parse_count(raw)))
            except InvalidInput as error:
                errors.append(f"{level.item.sku}: {error.message}")
        extra_skus = request.form.getlist("extra_sku")
        extra_counts = request.form.getlist("extra_count")
        for sku, raw in zip(extra_skus, extra_counts):
            if not sku.strip() and not raw.strip():
                continue
            try:
                item = get_item(db.session, sku)
                if any(existing.id == item.id for existing, _ in counts):
                    raise InvalidInput(f"{item.sku} is already on the list above.")
                counts.append((item, _parse_count(raw)))
            except DomainError as error:
                errors.append(f"{sku.strip() or '(no SKU)'}: {error.message}")
        if not errors:
            try:
                movements = services.count(db.session, bin, counts, current_user)
            except DomainError as error:
                errors.append(error.message)
            else:
                changed = [m for m in movements if m.quantity]
                summary = ", ".join(f"{m.item.sku} {m.counted}" for m in movements)
                flash(f"Count of {bin.code} booked ({len(changed)} difference{'s' if len(changed) != 1 else ''}): "
                      f"{summary}.", "success")
                return redirect(url_for("bins.show", code=bin.code))
    status = 400 if errors or (request.method == "POST" and form.errors) else 200
    return render_template("stock/count.html", bin=bin, levels=levels, form=form, errors=errors,
                           entered=entered), status


@bp.route("/suggest/items")
@roles_required(STAFF)
def suggest_items():
    """<option>s for an SKU box's datalist, filled in by htmx as the user types."""
    q = (request.args.get("sku") or request.args.get("q") or "").strip().lower()
    rows = []
    if q:
        like = f"%{q}%"
        rows = db.session.execute(
            select(Item.sku, Product.name, Item.size).join(Item.product)
            .where(Item.archived.is_(False), or_(func.lower(Item.sku).like(like), func.lower(Product.name).like(like)))
            .order_by(Item.sku).limit(15)
        ).all()
    return render_template("stock/_options.html", options=[(r.sku, f"{r.name} {r.size or ''}".strip()) for r in rows])


@bp.route("/suggest/bins")
@roles_required(STAFF)
def suggest_bins():
    q = next((v for k, v in request.args.items() if k in ("bin", "from_bin", "to_bin", "q")), "").strip().lower()
    rows = []
    if q:
        like = f"%{q}%"
        rows = db.session.execute(
            select(Bin.code, Bin.name).where(Bin.archived.is_(False),
                                             or_(func.lower(Bin.code).like(like), func.lower(Bin.name).like(like)))
            .order_by(Bin.code).limit(15)
        ).all()
    return render_template("stock/_options.html", options=[(r.code, r.name) for r in rows])
