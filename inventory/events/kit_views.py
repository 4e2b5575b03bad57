"""Kit template pages: the list, a kit with its availability for a date window, and create, edit,
archive and delete for managers. On the events blueprint: kits are planned against events."""
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth.roles import EVERYONE, MANAGERS, roles_required
from ..catalog.models import Item
from ..errors import DomainError, NotFound
from ..extensions import db
from ..forms import ButtonForm, put_next_to_its_box
from ..holds.availability import Window
from ..text import to_int
from ..timeutil import add_days, date_arg, parse_date
from . import kits, services
from .forms import KitForm
from .views import bp

BLANK_ROWS = 3


def _load(kit_id):
    try:
        return kits.get_kit(db.session, kit_id)
    except NotFound:
        abort(404)


def _sku_options():
    """Every active SKU, for the SKU boxes' suggestions (one query)."""
    return db.session.execute(
        select(Item.sku).where(Item.archived.is_(False)).order_by(Item.sku)).scalars().all()


@bp.route("/kits")
@roles_required(EVERYONE)
def kits_index():
    archived = request.args.get("archived") == "1"
    return render_template("events/kits.html", kits=kits.list_kits(db.session, include_archived=archived),
                           archived=archived, kit_cost=kits.kit_cost)


def _window_from_args(today, upcoming):
    """The window to show availability for: ?event=<id>, else ?out=&back= dates, else the next
    event's window, else today."""
    chosen = request.args.get("event", type=to_int)
    event = next((e for e in upcoming if e.id == chosen), None)
    if event is None and not request.args.get("out"):
        event = next((e for e in upcoming if not e.cancelled and e.ship_by >= today), None)
    if event is not None:
        return kits.event_window(event), event
    # A date that is not one shows today's window, as before; one far off the calendar (0001-01-01,
    # 9999-12-31) is refused with 400: there is no day after it to end the window on.
    out = _window_date("out", today, default=today)
    back = _window_date("back", today, default=add_days(out, 1))
    return Window.of(out, back), None


def _window_date(name, today, default):
    raw = request.args.get(name, "")
    if parse_date(raw) is None:
        return default
    try:
        return date_arg(raw, f"The {name} date", today)
    except ValueError as error:
        abort(400, description=str(error))


@bp.route("/kits/<int:kit_id>")
@roles_required(EVERYONE)
def kit(kit_id):
    shown = _load(kit_id)
    today = date.today()
    upcoming = [e for e in services.upcoming(db.session, today) if not e.cancelled]
    window, event = _window_from_args(today, upcoming)
    return render_template("events/kit.html", kit=shown, cost=kits.kit_cost(shown), window=window, event=event,
                           upcoming=upcoming, available=kits.availability(db.session, shown, window),
                           today=today, button_form=ButtonForm(), groups=_by_product(shown.lines),
                           notes=_successor_notes(shown.lines, today))


def _successor_notes(lines, today):
    """{line id: (last day of use or None, successor or None)} for the lines to warn about: the
    item names a successor, or its do-not-use-after date is past or within FORECAST_WARNING_DAYS."""
    warn_until = add_days(today, current_app.config["FORECAST_WARNING_DAYS"])
    notes = {}
    for line in lines:
        last_day = line.item.do_not_use_after
        expiring = last_day if last_day is not None and last_day <= warn_until else None
        if expiring or line.item.replaced_by is not None:
            notes[line.id] = (expiring, line.item.replaced_by)
    return notes


def _by_product(lines):
    """Kit lines grouped by product: 'Navy polo: M 4, L 4, XL 2' reads as one line of 10 polos."""
    groups = []
    for line in lines:
        product = line.item.product
        if not groups or groups[-1][0].id != product.id:
            groups.append((product, []))
        groups[-1][1].append(line)
    return groups


def _lines(form):
    return [(entry.sku.data or "", entry.quantity.data) for entry in form.lines]


def _form_page(form, kit=None, problem=None, status=None):
    if status is None:
        status = 400 if request.method == "POST" else 200
    return render_template("events/kit_form.html", form=form, kit=kit, skus=_sku_options(),
                           problem=problem), status


def _pad(form, blanks=BLANK_ROWS):
    for _ in range(blanks):
        if len(form.lines) >= form.lines.max_entries:
            break
        form.lines.append_entry()


def _save(form, kit, rule):
    """Save through `rule`, or show the page again with every typed value and the message next
    to the box at fault. "More lines" saves nothing and adds empty rows, keeping what was typed."""
    if request.form.get("action") == "more":
        _pad(form, 5)
        return _form_page(form, kit, status=200)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _form_page(form, kit, problem="Nothing was saved: check the boxes marked below.")
    try:
        return rule()
    except DomainError as error:
        if error.status == 403:
            abort(403)
        placed = put_next_to_its_box(form, error, form.lines)
        return _form_page(form, kit, problem="Nothing was saved: check the boxes marked below." if placed
                          else error.message, status=error.status)


@bp.route("/kits/new", methods=["GET", "POST"])
@roles_required(MANAGERS)
def new_kit():
    form = KitForm()
    if request.method == "GET":
        _pad(form, 5)
        return _form_page(form)

    def create():
        made = kits.create_kit(db.session, current_user, name=form.name.data,
                               description=form.description.data, lines=_lines(form))
        flash(f"Kit {made.name} saved.", "success")
        return redirect(url_for("events.kit", kit_id=made.id))

    return _save(form, None, create)


@bp.route("/kits/<int:kit_id>/edit", methods=["GET", "POST"])
@roles_required(MANAGERS)
def edit_kit(kit_id):
    shown = _load(kit_id)
    if request.method == "GET":
        form = KitForm(data={"name": shown.name, "description": shown.description,
                             "lines": [{"sku": line.item.sku, "quantity": line.quantity} for line in shown.lines]})
        _pad(form)
        return _form_page(form, shown)
    form = KitForm()

    def update():
        kits.update_kit(db.session, shown.id, current_user, name=form.name.data,
                        description=form.description.data, lines=_lines(form))
        flash("Kit saved. Kits already reserved keep what they hold.", "success")
        return redirect(url_for("events.kit", kit_id=shown.id))

    return _save(form, shown, update)


def _act(rule, kit_id, success, to_list=False, **kwargs):
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        rule(db.session, kit_id, current_user, **kwargs)
    except DomainError as error:
        if error.status == 403:
            abort(403)
        flash(error.message, "error")
        return redirect(url_for("events.kit", kit_id=kit_id))
    flash(success, "success")
    return redirect(url_for("events.kits_index") if to_list else url_for("events.kit", kit_id=kit_id))


@bp.route("/kits/<int:kit_id>/archive", methods=["POST"])
@roles_required(MANAGERS)
def archive_kit(kit_id):
    return _act(kits.set_kit_archived, kit_id, "Kit archived: it leaves the list and cannot be reserved.",
                archived=True)


@bp.route("/kits/<int:kit_id>/restore", methods=["POST"])
@roles_required(MANAGERS)
def restore_kit(kit_id):
    return _act(kits.set_kit_archived, kit_id, "Kit restored.", archived=False)


@bp.route("/kits/<int:kit_id>/delete", methods=["POST"])
@roles_required(MANAGERS)
def delete_kit(kit_id):
    return _act(kits.delete_kit, kit_id, "Kit deleted.", to_list=True)
