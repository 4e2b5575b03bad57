"""Purchase order pages: the list, raising and editing a draft, ordering, cancelling, and the
stockroom's phone flow (open the PO, pick a line, scan the bin it goes into, say how many,
confirm). Each view parses its input, calls one rule, and shows the result."""
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from ..auth.roles import MANAGERS, STAFF, can, roles_required
from ..bins.models import DISPATCH_CODE
from ..bins.services import get_bin
from ..catalog.models import Item, normalize_sku
from ..catalog.queries import suggest_items as matching_items
from ..core.money import money
from ..errors import Conflict, DomainError, InvalidInput, NotFound
from ..events.models import Event
from ..extensions import db
from ..forms import put_next_to_its_box
from ..labels.services import label_bases, read_label
from ..pagination import page_arg
from ..stock import queries as stock_queries
from ..stock import services as stock
from ..text import whole_number
from . import queries, services
from .forms import CancelForm, OrderForm, PurchaseOrderForm, ReceiveLineForm, RescheduleForm

bp = Blueprint("purchasing", __name__, url_prefix="/purchase-orders")
BLANK_ROWS = 3
# Ids in URLs stop at what an INTEGER column holds: a bigger one answers 404, not a database error.
ORDER = f"<int(max={services.MAX_ID}):order_id>"
LINE = f"<int(max={services.MAX_ID}):line_id>"
MOVEMENT = f"<int(max={services.MAX_ID}):movement_id>"


# The list -------------------------------------------------------------------------------------

@bp.route("")
@roles_required(STAFF)
def index():
    """Managers see open orders first (overdue ones lead); the stockroom sees what to receive."""
    manager = can(current_user, MANAGERS)
    default = "open" if manager else "ordered"
    status = request.args.get("status") or default
    if status not in queries.FILTERS:
        status = default
    supplier = (request.args.get("supplier") or "").strip() or None
    page = queries.orders(db.session, status=status, supplier=supplier, page=page_arg(), per_page=25)
    return render_template("purchasing/index.html", page=page, status=status, supplier=supplier,
                           filters=queries.FILTERS, today=date.today(), manager=manager)


# Raising and editing a draft -------------------------------------------------------------------

def _items_by_sku(skus):
    skus = {normalize_sku(sku) for sku in skus if sku and "\x00" not in sku}
    if not skus:
        return {}
    return {item.sku: item for item in db.session.scalars(
        select(Item).where(Item.sku.in_(skus)).options(selectinload(Item.product)))}


def _event_choices(form, current=None):
    events = db.session.scalars(
        select(Event).where(Event.cancelled.is_(False), Event.ends_on >= date.today())
        .order_by(Event.starts_on, Event.id).limit(100)
    ).all()
    if services.is_id(current) and current not in {event.id for event in events}:
        chosen = db.session.get(Event, current)
        if chosen is not None:
            events.insert(0, chosen)
    form.event_id.choices = [("", "No event")] + [
        (event.id, f"{event.name} · {event.starts_on.strftime('%-d %b %Y')}") for event in events]


def _prefill(form):
    """Fill a new PO from the query string, so another page (the reorder forecast) can raise one
    in a tap: ?supplier=...&line=SKU:QTY&line=...&event_id=3. Unknown SKUs stay on their row
    with a message, so nothing asked for silently disappears."""
    wanted = []
    for raw in request.args.getlist("line")[:services.MAX_LINES]:
        sku, _, quantity = raw.partition(":")
        if sku.strip():
            wanted.append((normalize_sku(sku), quantity.strip()))
    items = _items_by_sku(sku for sku, _ in wanted)
    problems = {}
    for index, (sku, quantity) in enumerate(wanted):
        item = items.get(sku)
        number = whole_number(quantity) or None  # ASCII digits only: "²" and "٣" are no quantity
        if item is not None and not quantity:
            number = item.reorder_quantity or None
        form.lines.append_entry({"sku": sku, "quantity": number,
                                 "unit_cost": str(item.unit_cost) if item is not None else ""})
        if item is None:
            problems[(index, "sku")] = f"No item has the SKU {sku}."
        elif item.archived:
            problems[(index, "sku")] = f"{sku} is archived and cannot be ordered."
        if quantity and number is None:
            problems[(index, "quantity")] = f"{quantity[:20]} is not a quantity: enter a whole number."
        elif number is not None and number > stock.MAX_QUANTITY:
            form.lines[index].quantity.data = None
            problems[(index, "quantity")] = f"Enter at most {stock.MAX_QUANTITY:,}."
    for (index, name), message in problems.items():
        form.lines[index][name].errors = [message]
    form.supplier.data = (request.args.get("supplier") or "").strip()[:services.MAX_SUPPLIER_LENGTH] or \
        services.supplier_of(items.values())
    event_id = request.args.get("event_id", "")
    event_id = whole_number(event_id)
    if event_id is not None and services.is_id(event_id) and db.session.get(Event, event_id) is not None:
        form.event_id.data = event_id


def _add_blank_rows(form, count=BLANK_ROWS):
    for _ in range(count):
        if len(form.lines) >= form.lines.max_entries:
            break
        form.lines.append_entry()


def _render_form(form, order=None, errors=(), status=200):
    items = _items_by_sku(entry.sku.data for entry in form.lines)
    return render_template("purchasing/form.html", form=form, order=order, errors=errors, items=items,
                           suppliers=queries.suppliers(db.session)), status


def _edit_form(rule, order=None):
    """The shared body of the new and edit pages: more rows, or save through `rule`."""
    form = PurchaseOrderForm()
    _event_choices(form, form.event_id.data)
    if request.form.get("more"):  # "More lines": keep what was typed, add empty rows
        _add_blank_rows(form)
        return _render_form(form, order)
    errors = []
    if form.validate_on_submit():
        try:
            saved = rule(form)
        except DomainError as error:
            if error.status == 403:
                abort(403)
            filled = [entry for entry in form.lines if not entry.form.is_blank]  # as filled_lines() numbers them
            if not put_next_to_its_box(form, error, filled):
                errors.append(error.message)
            else:
                errors.append("Nothing was saved: check the lines marked below.")
        else:
            return redirect(url_for("purchasing.show", order_id=saved.id))
    elif "csrf_token" in form.errors:
        abort(400)
    elif "lines" in form.errors:
        errors.append("Check the lines marked below.")
    if not any(entry.form.is_blank for entry in form.lines):
        _add_blank_rows(form, 1)  # always room for one more line
    return _render_form(form, order, errors, 400)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(MANAGERS)
def new():
    """A new draft; ?supplier=&line=SKU:QTY&event_id= pre-fill it (the forecast's one tap)."""
    if request.method == "GET":
        form = PurchaseOrderForm(formdata=None)
        _prefill(form)
        _event_choices(form, form.event_id.data)
        _add_blank_rows(form, BLANK_ROWS if form.lines.entries else 5)
        return _render_form(form)

    def create(form):
        order = services.create(db.session, current_user, lines=form.filled_lines(), supplier=form.supplier.data,
                                note=form.note.data, event_id=form.event_id.data)
        flash(f"{order.number} saved as a draft. Check it, then mark it ordered when it goes to the supplier.",
              "success")
        return order

    return _edit_form(create)


def _get(order_id):
    try:
        return queries.get_order(db.session, order_id)
    except NotFound:
        abort(404)


@bp.route(f"/{ORDER}/edit", methods=["GET", "POST"])
@roles_required(MANAGERS)
def edit(order_id):
    order = _get(order_id)
    if order.status != "draft":
        flash(f"{order.number} is {order.status_label.lower()}; only a draft can be changed.", "error")
        return redirect(url_for("purchasing.show", order_id=order.id))
    if request.method == "GET":
        form = PurchaseOrderForm(formdata=None, supplier=order.supplier, note=order.note, event_id=order.event_id)
        for line in order.lines:
            form.lines.append_entry({"sku": line.item.sku, "quantity": line.quantity, "unit_cost": str(line.unit_cost)})
        _event_choices(form, order.event_id)
        _add_blank_rows(form)
        return _render_form(form, order)

    def update(form):
        saved = services.update_draft(db.session, order.id, current_user, lines=form.filled_lines(),
                                      supplier=form.supplier.data, note=form.note.data, event_id=form.event_id.data)
        flash(f"{saved.number} saved.", "success")
        return saved

    return _edit_form(update, order)


@bp.route("/suggest/items")
@roles_required(MANAGERS)
def suggest_items():
    """<option>s for a line's SKU box, filled in by htmx as the manager types."""
    q = next((v for k, v in request.args.items() if k.endswith("sku")), "")
    options = [(i.sku, " · ".join(part for part in (i.name, i.supplier, f"{money(i.unit_cost)} each") if part))
               for i in matching_items(db.session, q)]
    return render_template("purchasing/_options.html", options=options)


# One purchase order ----------------------------------------------------------------------------

def _event_link(order):
    if order.event_id is None:
        return None, None
    event = db.session.get(Event, order.event_id)
    try:
        url = url_for("events.show", event_id=order.event_id)
    except BuildError:  # the events pages are not part of this app (yet)
        url = None
    return event, url


@bp.route(f"/{ORDER}")
@roles_required(STAFF)
def show(order_id):
    order = _get(order_id)
    event, event_url = _event_link(order)
    suggested = services.suggested_expected_on(order)
    return render_template(
        "purchasing/show.html", order=order, receipts=queries.receipts(db.session, order), today=date.today(),
        total=services.total_cost(order), event=event, event_url=event_url,
        manager=can(current_user, MANAGERS), order_form=OrderForm(formdata=None, expected_on=suggested),
        reschedule_form=RescheduleForm(formdata=None, expected_on=order.expected_on), cancel_form=CancelForm(),
    )


def _act(order_id, form, rule, success):
    """Run a manager's one-form action on the PO page; say what happened there."""
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(" ".join(message for messages in form.errors.values() for message in messages), "error")
    else:
        try:
            order = rule(form)
        except DomainError as error:
            if error.status == 404:
                abort(404)
            flash(error.message, "error")
        else:
            flash(success(order), "success")
    return redirect(url_for("purchasing.show", order_id=order_id))


@bp.route(f"/{ORDER}/order", methods=["POST"])
@roles_required(MANAGERS)
def order(order_id):
    return _act(order_id, OrderForm(),
                lambda form: services.mark_ordered(db.session, order_id, current_user, form.expected_on.data),
                lambda order: f"{order.number} is ordered, expected {order.expected_on.strftime('%a %-d %b %Y')}. "
                              "It now counts in the reorder forecast, and the stockroom can receive it.")


@bp.route(f"/{ORDER}/reschedule", methods=["POST"])
@roles_required(MANAGERS)
def reschedule(order_id):
    return _act(order_id, RescheduleForm(),
                lambda form: services.reschedule(db.session, order_id, current_user, form.expected_on.data,
                                                 form.reason.data),
                lambda order: f"{order.number} is now expected {order.expected_on.strftime('%a %-d %b %Y')}.")


@bp.route(f"/{ORDER}/cancel", methods=["POST"])
@roles_required(MANAGERS)
def cancel(order_id):
    return _act(order_id, CancelForm(),
                lambda form: services.cancel(db.session, order_id, current_user, form.reason.data),
                lambda order: f"{order.number} is cancelled.")


# Receiving, on a phone -------------------------------------------------------------------------

def _bin_code(value):
    """A typed bin code, or the code in a bin label's URL (scanned or pasted)."""
    value = (value or "").strip()
    if "://" not in value:
        return value
    ref = read_label(value, label_bases(current_app.config, request.url_root))
    if ref.kind != "bin":
        raise InvalidInput(f"That is the label of item {ref.code}; scan the label of the bin it goes into.")
    return ref.code


@bp.route(f"/{ORDER}/receive/{LINE}", methods=["GET", "POST"])
@roles_required(STAFF)
def receive_line(order_id, line_id):
    """One line of a delivery: scan the bin it goes into, say how many, confirm."""
    order = _get(order_id)
    try:
        line = services.find_line(order, line_id=line_id)
    except NotFound:
        abort(404)
    if order.status != "ordered" or line.outstanding == 0:
        flash(f"{line.item.sku} on {order.number} is fully received already." if line.outstanding == 0
              else f"{order.number} is {order.status_label.lower()}; there is nothing to receive.", "info")
        return redirect(url_for("purchasing.show", order_id=order.id))
    form = ReceiveLineForm(bin=request.args.get("bin", "")[:20])
    if form.validate_on_submit():
        bin = None
        try:
            bin = get_bin(db.session, _bin_code(form.bin.data))
            receipt = services.receive(db.session, order.id, line.id, bin, form.quantity.data, current_user)
        except Conflict as error:  # the PO changed meanwhile (cancelled, received by someone else)
            flash(error.message, "error")
            return redirect(url_for("purchasing.show", order_id=order.id))
        except DomainError as error:
            on_bin = bin is None or bin.archived or bin.code == DISPATCH_CODE
            (form.bin if on_bin else form.quantity).errors.append(error.message)
        else:
            for filled in receipt.backorders_filled:
                flash(f"{filled.quantity} × {line.item.sku} now held for {filled.request_number}, "
                      "which was waiting for it.", "info")
            return redirect(url_for("purchasing.received", order_id=order.id, movement_id=receipt.movement.id))
    order = _get(order_id)  # fresh numbers after a refused attempt
    line = services.find_line(order, line_id=line_id)
    return render_template("purchasing/receive_line.html", order=order, line=line, form=form,
                           usual=queries.usual_bins(db.session, line.item)), (400 if request.method == "POST" else 200)


@bp.route(f"/{ORDER}/receipts/{MOVEMENT}")
@roles_required(STAFF)
def received(order_id, movement_id):
    """The confirmation after a receipt: what went where, what the bin holds now, what is still
    to come on this order."""
    order = _get(order_id)
    try:
        movement = queries.receipt(db.session, order, movement_id)
    except NotFound:
        abort(404)
    line = next((each for each in order.lines if each.item_id == movement.item_id), None)
    bin_quantity = stock_queries.level(db.session, movement.item, movement.to_bin)
    outstanding = [each for each in order.lines if each.outstanding]
    return render_template("purchasing/received.html", order=order, movement=movement, line=line,
                           bin_quantity=bin_quantity, outstanding=outstanding)
