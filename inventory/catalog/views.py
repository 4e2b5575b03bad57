"""Catalog pages: the list reps browse, product and item pages, manager's edit pages."""
import re
from datetime import date
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..blobs.serving import send_stored
from ..auth.roles import EVERYONE, MANAGERS, STAFF, can, roles_required
from ..core.templating import last_segment_url
from ..database import transaction
from ..errors import DomainError, NotFound
from ..extensions import db
from ..files import services as file_rules
from ..forms import ButtonForm, put_next_to_its_box
from ..pagination import page_arg
from ..requests import drafts, successors
from ..requests import loans as loan_rules
from ..stock import queries as stock_queries
from ..stock import services as stock
from ..timeutil import add_days
from . import queries, services
from .forms import AddSizeForm, ItemForm, NewProductForm, ProductForm
from .models import CATEGORIES, CATEGORY_LABELS
from .photos import prepare_photo

bp = Blueprint("catalog", __name__)


@bp.route("/catalog")
@roles_required(EVERYONE)
def index():
    q = request.args.get("q", "").strip()
    category = request.args.get("category") or None
    if category not in CATEGORIES:
        category = None
    page, on_hand, held_ids = queries.catalog_page(db.session, q=q, category=category, page=page_arg(),
                                                   per_page=current_app.config["PAGE_SIZE"])
    levels = stock.with_reservations(db.session, on_hand, held_ids)
    # Nothing found: what to try next (a close search, the categories that have it or any).
    suggestion, elsewhere, everything = (queries.empty_search_help(db.session, q, category)
                                         if not page.rows and page.page == 1 else (None, {}, {}))
    with_files = file_rules.products_with_files(db.session, [product.id for product in page.rows])
    return render_template("catalog/index.html", page=page, q=q, category=category, levels=levels, with_files=with_files,
                           categories=CATEGORIES, category_labels=CATEGORY_LABELS, suggestion=suggestion,
                           elsewhere=elsewhere, everything=everything)


# SKUs are letters, digits, dots, dashes and underscores: characters a URL path keeps as they are.
_PLAIN_SKU = re.compile(r"[A-Za-z0-9._-]+\Z")


@bp.app_template_global()
def item_url(sku):
    """url_for("catalog.item", sku=sku), the same URL at a fraction of the cost: list pages link
    hundreds of items (one per size), and url_for is the most expensive part of drawing them."""
    if not _PLAIN_SKU.match(sku):
        return url_for("catalog.item", sku=sku)
    return last_segment_url("catalog.item", "sku", sku, "x")


@bp.route("/catalog/p/<int:product_id>")
@roles_required(EVERYONE)
def product(product_id):
    try:
        product = services.get_product(db.session, product_id)
    except NotFound:
        return render_template("errors/404.html", message=f"No product #{product_id}."), 404
    if not product.has_sizes and len(product.items) == 1:
        return redirect(url_for("catalog.item", sku=product.items[0].sku))
    items = product.items if can(current_user, MANAGERS) else product.active_items
    levels = stock.availability(db.session, [item.id for item in items])
    totals = stock.Availability(sum(levels[i.id].on_hand for i in items), sum(levels[i.id].reserved for i in items))
    # A returnable's sizes out on loan: which, on which request, until when (one query).
    loans = loan_rules.loans_of_items(db.session, [item.id for item in items if item.returnable])
    return render_template("catalog/product.html", product=product, items=items, levels=levels, totals=totals,
                           loans=loans, in_request=drafts.get(db.session, current_user).lines,
                           add_size_form=AddSizeForm(), button_form=ButtonForm())


@bp.route("/i/<sku>")
@roles_required(EVERYONE)
def item(sku):
    """The item's label URL: what it is, where it is (units out on loan too), what happened to it.
    Staff who scan the label of a returned unit (none in a bin, out on one request) land on that
    request's check-in; ?page=1 opens the item page all the same."""
    try:
        item = services.get_item(db.session, sku)
    except NotFound:
        return render_template("catalog/unknown_item.html", sku=sku), 404
    if item.sku != sku:
        return redirect(url_for("catalog.item", sku=item.sku, page=request.args.get("page")))
    bins = stock_queries.levels_of_item(db.session, item)
    loans = loan_rules.loans_of_item(db.session, item)
    units = loan_rules.Units.of(bins, loans) if item.returnable else None
    returning = loan_rules.loan_for_check_in(loans)
    if (returning is not None and not units.in_bins and can(current_user, STAFF)
            and request.args.get("page") != "1" and _opened_from_a_label()):
        return redirect(url_for("requests.check_in", request_id=returning.request_id, item=item.sku))
    siblings = item.product.active_items if item.product.has_sizes else []
    levels = stock.availability(db.session, {item.id, *[s.id for s in siblings]})
    # Managers get a button to the swap page when the successor has something to take over.
    holders = (successors.holders(db.session, item) if item.replaced_by_id is not None and can(current_user, MANAGERS)
               else (0, 0))
    return render_template(
        "catalog/item.html", item=item, siblings=siblings, levels=levels,
        files=file_rules.current(db.session, item),
        bins=bins, loans=loans, units=units, history=stock_queries.history(db.session, item=item),
        in_request=drafts.get(db.session, current_user).lines, button_form=ButtonForm(),
        expires_soon=expires_soon(item), holders=holders,
    )


# Where a label's URL is opened from: a camera app or a link from outside (no referrer, or another
# site's), the app's own scanner and code box, or the login a camera-opened label asked for first.
# A link followed inside the app (a request's line, a bin's row) opens the item page as it is.
_LABEL_OPENERS = ("/scan", "/find", "/login")


def _opened_from_a_label():
    referrer = request.referrer
    if not referrer:
        return True
    parts = urlsplit(referrer)
    if parts.netloc != request.host:
        return True
    path = parts.path.removeprefix(request.script_root) or "/"
    return path.startswith(_LABEL_OPENERS)


def expires_soon(item, today=None):
    """True when a dated piece's last day of use is today or within FORECAST_WARNING_DAYS: time
    to reprint it or retire it (after that day it can no longer be reserved)."""
    today = today or date.today()
    last_day = item.do_not_use_after
    return last_day is not None and today <= last_day <= add_days(today, current_app.config["FORECAST_WARNING_DAYS"])


@bp.route("/catalog/new", methods=["GET", "POST"])
@roles_required(MANAGERS)
def new():
    form = NewProductForm()
    if form.validate_on_submit():
        try:
            photo = prepare_photo(form.photo.data)
            product = services.create_product(
                db.session, name=form.name.data, category=form.category.data, sku=form.sku.data,
                sizes=services.parse_sizes(form.sizes.data), description=form.description.data, keywords=form.keywords.data or "",
                photo=photo, **form.item_values(),
            )
        except DomainError as error:
            if not put_next_to_its_box(form, error, []):
                flash(error.message, "error")
        else:
            flash(f"{product.name} added to the catalog.", "success")
            return redirect(url_for("catalog.product", product_id=product.id))
    status = 400 if request.method == "POST" else 200
    return render_template("catalog/new.html", form=form), status


@bp.route("/catalog/p/<int:product_id>/edit", methods=["GET", "POST"])
@roles_required(MANAGERS)
def edit_product(product_id):
    try:
        product = services.get_product(db.session, product_id)
    except NotFound:
        return render_template("errors/404.html", message=f"No product #{product_id}."), 404
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        try:
            photo = prepare_photo(form.photo.data)
            services.update_product(db.session, product, name=form.name.data, category=form.category.data,
                                    description=form.description.data, keywords=form.keywords.data or "",
                                    photo=photo)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(f"{form.name.data} saved.", "success")
            return redirect(url_for("catalog.product", product_id=product_id))
    status = 400 if request.method == "POST" else 200
    return render_template("catalog/edit_product.html", form=form, product=product), status


@bp.route("/i/<sku>/edit", methods=["GET", "POST"])
@roles_required(MANAGERS)
def edit_item(sku):
    try:
        item = services.get_item(db.session, sku)
    except NotFound:
        return render_template("catalog/unknown_item.html", sku=sku), 404
    form = ItemForm(obj=item)
    if form.validate_on_submit():
        try:
            with transaction(db.session):  # the item and its sizes are saved together, or not at all
                services.update_item(db.session, item, replaced_by=form.replaced_by.data, **form.item_values())
                if form.apply_to_all.data and item.product.has_sizes:
                    shared = {k: v for k, v in form.item_values().items()
                              if k in ("unit", "supplier", "unit_cost", "lead_time_days", "reorder_quantity",
                                       "returnable")}
                    services.apply_to_all_sizes(db.session, item.product, **shared)
        except DomainError as error:
            if not put_next_to_its_box(form, error, []):
                flash(error.message, "error")
        else:
            flash(f"{item.sku} saved.", "success")
            return redirect(url_for("catalog.item", sku=item.sku))
    status = 400 if request.method == "POST" else 200
    return render_template("catalog/edit_item.html", form=form, item=item), status


@bp.route("/catalog/p/<int:product_id>/sizes", methods=["POST"])
@roles_required(MANAGERS)
def add_size(product_id):
    try:
        product = services.get_product(db.session, product_id)
    except NotFound:
        abort(404)
    form = AddSizeForm()
    if form.validate_on_submit():
        try:
            item = services.add_size(db.session, product, form.size.data, sku=form.sku.data or None)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(f"Size {item.size} added as {item.sku}.", "success")
    else:
        flash("Give the new size, like XL.", "error")
    return redirect(url_for("catalog.product", product_id=product_id))


@bp.route("/catalog/p/<int:product_id>/archive", methods=["POST"])
@roles_required(MANAGERS)
def archive_product(product_id):
    try:
        product = services.get_product(db.session, product_id)
    except NotFound:
        abort(404)
    restore = request.args.get("restore") == "1"
    if ButtonForm().validate_on_submit():
        services.set_archived(db.session, product=product, archived=not restore)
        flash(f"{product.name} {'restored' if restore else 'archived: it no longer shows in lists'}.", "success")
    return redirect(url_for("catalog.product", product_id=product_id) if product.has_sizes
                    else url_for("catalog.item", sku=product.items[0].sku))


@bp.route("/i/<sku>/archive", methods=["POST"])
@roles_required(MANAGERS)
def archive_item(sku):
    try:
        item = services.get_item(db.session, sku)
    except NotFound:
        abort(404)
    restore = request.args.get("restore") == "1"
    if ButtonForm().validate_on_submit():
        services.set_archived(db.session, item=item, archived=not restore)
        flash(f"{item.sku} {'restored' if restore else 'archived: it no longer shows in lists'}.", "success")
    return redirect(url_for("catalog.item", sku=item.sku))


@bp.route("/photos/<int(max=2147483647):file_id>")
@roles_required(EVERYONE)
def photo(file_id):
    """A product's photo, from the database: only a stored file some product has as its photo."""
    stored = services.product_photo(db.session, file_id)
    if stored is None:
        abort(404)
    return send_stored(stored, cache="private, max-age=86400")


@bp.route("/catalog/archived")
@roles_required(MANAGERS)
def archived():
    page = queries.search_products(db.session, q=request.args.get("q", ""), page=page_arg(),
                                   archived=True, per_page=current_app.config["PAGE_SIZE"])
    return render_template("catalog/archived.html", page=page)


from . import successor_views  # noqa: E402,F401  (the swap page, on this blueprint)
