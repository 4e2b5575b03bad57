"""Label images, label sheets (HTML and PDF) and the Scan page.

Label images (/b/<code>/qr.svg and friends) are public on purpose: docs/design.md promises that other
documents can embed them, and an <img> on another site, in a mail or in a PDF tool is fetched
without our session cookie (it is SameSite=Lax). They reveal nothing: an image is computed from
the code in its own URL and BASE_URL alone, without looking in the database, so it cannot be
used to find out which bins or SKUs exist; a label's URL still needs a login to show anything.
"""
from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from ..auth.roles import EVERYONE, STAFF, public, roles_required
from ..bins.models import Bin
from ..bins.services import zones
from ..core.errors import json_errors
from ..catalog.models import Item, Product
from ..errors import DomainError, NotFound
from ..extensions import db
from ..text import to_int
from . import qr, services
from .forms import LabelsForm
from .sheets import SHEETS, code_tier, get_sheet, layout

bp = Blueprint("labels", __name__)


def _base():
    return services.label_base(current_app.config.get("BASE_URL"), request.url_root)


def _bases():
    return services.label_bases(current_app.config, request.url_root)


@bp.before_app_request
def _moved():
    """A page asked for on an address labels were printed with before BASE_URL moved (a phone's
    camera app opening an old label): the same page on BASE_URL, for good."""
    if request.method in ("GET", "HEAD") and current_app.config.get("PREVIOUS_BASE_URLS"):
        target = services.moved_to(current_app.config, request.url)
        if target is not None:
            return redirect(target, code=301)
    return None


# Label images -------------------------------------------------------------------------------

def _qr_response(kind, code, fmt):
    try:
        code = services.clean_label_code(kind, code)
    except NotFound:
        abort(404)
    url = services.label_url(_base(), kind, code)
    if fmt == "svg":
        response = Response(qr.svg(url), mimetype="image/svg+xml")
    else:
        scale = request.args.get("scale", type=to_int) or qr.PNG_SCALE
        response = Response(qr.png(url, max(1, min(scale, qr.MAX_PNG_SCALE))), mimetype="image/png")
    if current_app.config.get("BASE_URL"):
        response.headers["Cache-Control"] = "public, max-age=86400"
    else:  # the image depends on the address it was asked for
        response.headers["Cache-Control"] = "private, max-age=300"
    # Documents on other sites may embed the image (the app's pages still refuse framing).
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.route("/b/<code>/qr.svg")
@public
def bin_qr_svg(code):
    return _qr_response("bin", code, "svg")


@bp.route("/b/<code>/qr.png")
@public
def bin_qr_png(code):
    return _qr_response("bin", code, "png")


@bp.route("/i/<sku>/qr.svg")
@public
def item_qr_svg(sku):
    return _qr_response("item", sku, "svg")


@bp.route("/i/<sku>/qr.png")
@public
def item_qr_png(sku):
    return _qr_response("item", sku, "png")


# Label sheets -------------------------------------------------------------------------------

def _form():
    """The selection from the query string. Its checkbox choices (every bin and item) are
    loaded only for the labels page itself: the sheet needs just what was chosen."""
    return LabelsForm(request.args)


def _with_choices(form):
    form.zone.choices = [(z, z) for z in zones(db.session)]
    form.bin.choices = [(code, f"{code} {name}".strip()) for code, name in db.session.execute(
        select(Bin.code, Bin.name).where(Bin.archived.is_(False)).order_by(Bin.code))]
    form.item.choices = [(item.sku, f"{item.sku} {item.name}") for item in db.session.scalars(
        select(Item).join(Item.product).where(Item.archived.is_(False), Product.archived.is_(False))
        .options(contains_eager(Item.product)).order_by(Item.sku))]
    return form


def _warnings(base):
    configured = bool(current_app.config.get("BASE_URL"))
    warnings = []
    if services.is_local(base):
        warnings.append(
            f"These labels would point at {base}, this computer itself: phones cannot open them. "
            "Set BASE_URL to the address phones use (for example https://stock.example.com) "
            "or open this page at that address before printing.")
    elif not configured:
        warnings.append(
            f"BASE_URL is not set, so labels point at {base}, the address this page was opened on. "
            "Set BASE_URL so that every label carries the permanent address.")
    return warnings


def _labels(form):
    """The labels the form selects, in print order (raises a DomainError with a message)."""
    if not form.validate():
        raise DomainError(" ".join(e for errors in form.errors.values() for e in errors))
    base = _base()
    if form.what.data == "items":
        items = services.select_items(db.session, form.items_by.data, form.category.data, form.item_q.data,
                                      [*form.item.data, form.item_codes.data or ""])
        return services.item_labels(items, base)
    bins = services.select_bins(db.session, form.bins_by.data, form.zone.data, form.bin_q.data,
                                [*form.bin.data, form.bin_codes.data or ""])
    return services.bin_labels(bins, base)


def _sheet_context(form):
    labels = _labels(form)
    sheet = get_sheet(form.sheet.data)
    return {"sheet": sheet, "pages": layout(labels, sheet, form.start.data or 1), "count": len(labels),
            "warnings": _warnings(_base()), "qr_path": qr.svg_path, "code_tier": code_tier,
            "svg_path_attributes": qr.SVG_PATH_ATTRIBUTES}


def _refused(form, error):
    return render_template("labels/index.html", form=_with_choices(form), error=error.message, base=_base(),
                           warnings=_warnings(_base()), sheets=SHEETS), 400


@bp.route("/labels")
@roles_required(STAFF)
def index():
    form = _with_choices(_form())
    return render_template("labels/index.html", form=form, base=_base(), warnings=_warnings(_base()), sheets=SHEETS)


@bp.route("/labels/sheet")
@roles_required(STAFF)
def sheet():
    """The printable sheet: real sizes (in or mm), to print at 100 % / actual size."""
    form = _form()
    try:
        context = _sheet_context(form)
    except DomainError as error:
        return _refused(form, error)
    query = "?" + request.query_string.decode() if request.query_string else ""
    return render_template("labels/sheet.html", for_pdf=False, pdf_url=url_for("labels.sheet_pdf") + query,
                           form_url=url_for("labels.index") + query, **context)


@bp.route("/labels/sheet.pdf")
@roles_required(STAFF)
def sheet_pdf():
    """The same sheet as a PDF through WeasyPrint: exact scale, whatever the browser does."""
    form = _form()
    try:
        context = _sheet_context(form)
    except DomainError as error:
        return _refused(form, error)
    html = render_template("labels/sheet.html", for_pdf=True, **context)
    pdf = render_pdf(html, render_template("labels/sheet.css", sheets=SHEETS.values(), for_pdf=True))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="labels-{context["sheet"].key}.pdf"'
    return response


@bp.route("/labels/sheet.css")
@roles_required(STAFF)
def sheet_css():
    response = Response(render_template("labels/sheet.css", sheets=SHEETS.values(), for_pdf=False),
                        mimetype="text/css")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _no_fetching(url, *args, **kwargs):
    raise ValueError(f"label sheets load nothing from outside ({url})")


def render_pdf(html, css):
    """HTML + CSS to PDF bytes. Everything is inline, so WeasyPrint is not allowed to fetch."""
    from weasyprint import (  # imported here: it is large, and only this page needs it
        CSS,
        HTML,
    )

    return HTML(string=html, url_fetcher=_no_fetching).write_pdf(stylesheets=[CSS(string=css)])


# Scanning -----------------------------------------------------------------------------------

@bp.route("/scan")
@roles_required(EVERYONE)
def scan():
    """Scan a label with the camera, or type a code: goes straight to the bin or item."""
    return render_template("labels/scan.html", code=request.args.get("code", ""))


@bp.route("/scan/read")
@json_errors
@roles_required(EVERYONE)
def read():
    """What a scanned QR code names, as JSON for the scanner: {kind, code, url, found} or
    {error}. `expect=bin` (or item) refuses the other kind, for forms that scan a bin."""
    try:
        ref = services.read_label(request.args.get("text", ""), _bases())
    except DomainError as error:
        return jsonify(error=error.message), 400
    expect = request.args.get("expect")
    noun = {"bin": "bin", "item": "item"}
    if expect in noun and ref.kind != expect:
        return jsonify(error=f"That is the label of {noun[ref.kind]} {ref.code}; scan a {noun[expect]} label."), 400
    endpoint, arg = ("bins.show", "code") if ref.kind == "bin" else ("catalog.item", "sku")
    url = url_for(endpoint, **{arg: ref.code})
    model, column = (Bin, Bin.code) if ref.kind == "bin" else (Item, Item.sku)
    found = db.session.scalar(select(model).where(column == ref.code))
    if found is None:
        message = f"No bin {ref.code}." if ref.kind == "bin" else f"No item {ref.code}."
        return jsonify(error=message, kind=ref.kind, code=ref.code, url=url, found=False), 404
    name = found.name if ref.kind == "item" else (found.name or found.zone)
    return jsonify(kind=ref.kind, code=ref.code, name=name, url=url, found=True)
