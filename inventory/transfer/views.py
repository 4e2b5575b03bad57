"""Import and export pages: upload or paste a CSV, see the dry run, confirm; download CSVs."""
from datetime import date, timedelta

from flask import (Blueprint, Response, current_app, flash, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth.roles import MANAGERS, STAFF, can, roles_required
from ..errors import DomainError
from ..extensions import csrf, db
from . import exports, services
from .csvfile import MAX_IMPORT_BYTES, write_csv
from .forms import ConfirmForm, ImportForm, LedgerForm, StockImportForm
from .report import ImportRefused

bp = Blueprint("transfer", __name__)
FORMS = {"items": ImportForm, "stock": StockImportForm}
TITLES = {"items": "Import items", "stock": "Import stock per bin"}
LEDGER_YEARS = (1900, 9000)  # the ledger export's date range (as the reports' periods)
SHOWN = 200  # changes listed on the dry-run page; the summary counts them all
TEMPLATES = {
    "items": (("sku", "product", "size", "category", "unit", "supplier", "unit_cost", "lead_time_days",
               "reorder_point", "reorder_quantity", "returnable", "do_not_use_after", "notes", "description",
               "keywords", "replaced_by", "loss_rate"),
              [("POLO-NAVY-M", "Navy polo", "M", "apparel", "each", "Threadline Apparel", "8.50", "14", "10", "50",
                "no", "", "Embroidered logo", "Navy polo shirt with the logo on the chest", "shirt, tee", "", "0"),
               ("BRO-EXPO-2027", "Expo brochure 2027", "", "print", "each", "PrintWorks", "0.35", "21", "200",
                "1000", "no", "2027-12-31", "", "", "", "BRO-EXPO-2028", "0"),
               ("BRO-EXPO-2028", "Expo brochure 2028", "", "print", "each", "PrintWorks", "0.35", "21", "200",
                "1000", "no", "2028-12-31", "", "", "", "", "0")]),
    "stock": (("sku", "bin", "quantity", "bin_name", "zone"),
              [("POLO-NAVY-M", "A-03-2", "40", "Polos, top shelf", "Stockroom A")]),
}


def _csv_response(body, name):
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{date.today().isoformat()}.csv"'
    return response


def _index(status=200, **forms):
    forms.setdefault("items_form", ImportForm(prefix="items", formdata=None))
    forms.setdefault("stock_form", StockImportForm(prefix="stock", formdata=None))
    ledger = LedgerForm(formdata=None, first_day=date.today() - timedelta(days=30), last_day=date.today())
    return render_template("transfer/index.html", can_import=can(current_user, MANAGERS), ledger_form=ledger,
                           limit_mb=MAX_IMPORT_BYTES // (1024 * 1024), **forms), status


@bp.route("/transfer")
@roles_required(STAFF)
def index():
    return _index()


@bp.route("/transfer/template/<any(items, stock):kind>.csv")
@roles_required(MANAGERS)
def template(kind):
    header, rows = TEMPLATES[kind]
    return _csv_response(write_csv(header, rows), f"{kind}-template")


def _read_form():
    """Parse a form that may carry a whole file. Flask keeps form fields under 500 KB, which a
    pasted or carried file can pass, so these views raise that limit to the upload limit and then
    check the CSRF token themselves (they are exempt from the check that runs before the limit
    could be raised). False when the request is larger than the upload limit."""
    request.max_form_memory_size = current_app.config.get("MAX_CONTENT_LENGTH") or 8 * 1024 * 1024
    try:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        request.form  # noqa: B018  (parse now, inside the try)
    except RequestEntityTooLarge:
        return False
    return True


def _too_big():
    """A redirect, not a page: any form on a page (the log-out button) would read the oversized
    request again."""
    flash(f"The file is too big: {MAX_IMPORT_BYTES // (1024 * 1024)} MB at most. Split it into smaller files.",
          "error")
    return redirect(url_for("transfer.index"))


@csrf.exempt
@bp.route("/transfer/import/<any(items, stock):kind>", methods=["POST"])
@roles_required(MANAGERS)
def check(kind):
    """The dry run: what importing the file would create or change, and every bad row."""
    if not _read_form():
        return _too_big()
    form = FORMS[kind](prefix=kind)
    forms = {f"{kind}_form": form}
    if not form.validate_on_submit():
        flash("Choose a file or paste rows, then check again.", "error")
        return _index(400, **forms)
    upload = form.file.data
    try:
        if upload and upload.filename:
            text, filename = services.read_upload(upload.read(MAX_IMPORT_BYTES + 1)), upload.filename
        elif (form.text.data or "").strip():
            text, filename = form.text.data, "pasted rows"
        else:
            flash("Choose a file or paste rows, then check again.", "error")
            return _index(400, **forms)
        create_bins = bool(getattr(form, "create_bins", None) and form.create_bins.data)
        report = _run(kind, text, dry_run=True, create_bins=create_bins)
    except DomainError as error:
        flash(error.message, "error")
        return _index(400, **forms)
    confirm = ConfirmForm(formdata=None, content=services.pack(text), filename=filename,
                          create_bins="1" if create_bins else "")
    return render_template("transfer/preview.html", kind=kind, title=TITLES[kind], report=report,
                           filename=filename, confirm_form=confirm, shown=SHOWN, create_bins=create_bins)


def _run(kind, text, dry_run, create_bins=False):
    if kind == "items":
        return services.import_items(db.session, text, dry_run=dry_run)
    return services.import_stock(db.session, text, current_user, dry_run=dry_run, create_bins=create_bins)


@csrf.exempt
@bp.route("/transfer/import/<any(items, stock):kind>/confirm", methods=["POST"])
@roles_required(MANAGERS)
def confirm(kind):
    """Import for real: checked again against the database as it is now; all rows or none."""
    if not _read_form():
        return _too_big()
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("The form had expired; check the file again.", "error")
        return _index(400)
    create_bins = form.create_bins.data == "1"
    try:
        report = _run(kind, services.unpack(form.content.data), dry_run=False, create_bins=create_bins)
    except ImportRefused as refused:
        flash(refused.message, "error")
        return render_template("transfer/preview.html", kind=kind, title=TITLES[kind], report=refused.report,
                               filename=form.filename.data, confirm_form=None, shown=SHOWN,
                               create_bins=create_bins), 400
    except DomainError as error:
        flash(error.message, "error")
        return _index(error.status)
    flash(f"Imported {form.filename.data or 'the file'}: {report.summary()}.", "success")
    return redirect(url_for("transfer.index"))


# Exports ---------------------------------------------------------------------------------------

@bp.route("/transfer/export/items.csv")
@roles_required(STAFF)
def export_items():
    return _csv_response(exports.items_csv(db.session), "items")


@bp.route("/transfer/export/stock.csv")
@roles_required(STAFF)
def export_stock():
    return _csv_response(exports.stock_csv(db.session), "stock-per-bin")


@bp.route("/transfer/export/ledger.csv")
@roles_required(STAFF)
def export_ledger():
    form = LedgerForm(request.args)
    if not form.validate():
        flash("Give the dates as YYYY-MM-DD.", "error")
        return _index(400)
    given = [day for day in (form.first_day.data, form.last_day.data) if day is not None]
    if any(not LEDGER_YEARS[0] <= day.year <= LEDGER_YEARS[1] for day in given):
        # date.max + 1 day (the end of the last day) or date.min - 30 days would overflow: a 500
        flash(f"Give dates between the years {LEDGER_YEARS[0]} and {LEDGER_YEARS[1]}.", "error")
        return _index(400)
    last = form.last_day.data or date.today()
    first = form.first_day.data or last - timedelta(days=30)
    if first > last:
        flash("The first day must not be after the last day.", "error")
        return _index(400)
    response = _csv_response(stream_with_context(exports.ledger_csv(db.session, first, last)), "ledger")
    response.headers["Content-Disposition"] = f'attachment; filename="ledger-{first}-to-{last}.csv"'
    return response


@bp.route("/transfer/export/requests.csv")
@roles_required(MANAGERS)
def export_requests():
    return _csv_response(stream_with_context(exports.requests_csv(db.session)), "requests")


@bp.route("/transfer/export/purchase-orders.csv")
@roles_required(MANAGERS)
def export_purchase_orders():
    return _csv_response(stream_with_context(exports.purchase_orders_csv(db.session)), "purchase-orders")


from . import people_views  # noqa: E402,F401  (the teams and users import, on this blueprint)
