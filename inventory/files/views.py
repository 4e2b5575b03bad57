"""Collateral file pages: an item's files and versions (upload for managers), download, preview,
share links (make, show, end) and the link a client opens without logging in (/s/<token>)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..auth.roles import EVERYONE, MANAGERS, can, public, roles_required
from ..blobs.serving import send_stored
from ..catalog import services as catalog
from ..catalog.models import Item
from ..core.inputs import large_upload
from ..database import transaction
from ..errors import DomainError, Gone, NotFound
from ..extensions import db
from ..forms import ButtonForm, put_next_to_its_box
from . import links, reprint, services
from .forms import ReprintForm, UploadForm
from .kinds import TYPES
from .models import MASTER, FileShare, ItemFile

bp = Blueprint("files", __name__)
FILE = "<int(max=2147483647):file_id>"
SHARE = "<int(max=2147483647):share_id>"


def _item_or_404(sku: str) -> Item | ResponseReturnValue:
    try:
        return catalog.get_item(db.session, sku)
    except NotFound:
        return render_template("catalog/unknown_item.html", sku=sku), 404


def _version_or_404(file_id: int) -> ItemFile:
    try:
        version = services.get_version(db.session, file_id)
    except NotFound as error:
        abort(404, description=error.message)
    if not services.may_read(db.session, current_user, version):
        abort(403)
    return version


def asks_if_print_still_good(item: Item, current: dict[str, ItemFile]) -> bool:
    """A print piece with a master already: a new master may retire what is on the shelf."""
    return item.product.category == "print" and MASTER in current and item.replaced_by_id is None


def share_url(row: FileShare) -> str:
    return links.share_url(row.id)


@bp.app_template_global()
def file_type_label(type_name: str) -> str:
    file_type = TYPES.get(type_name)
    return file_type.label if file_type else type_name


@bp.app_template_filter()
def filesize(size: int) -> str:
    """1.2 MB, 340 KB, 12 bytes."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


@bp.route("/i/<sku>/files", methods=["GET", "POST"])
@roles_required(EVERYONE)
@large_upload
def item_files(sku: str) -> ResponseReturnValue:
    """Every version of the item's files (others than managers: the current ones), the share
    links made of them, and for managers the upload form."""
    item = _item_or_404(sku)
    if not isinstance(item, Item):
        return item
    if item.sku != sku and request.method == "GET":
        return redirect(url_for("files.item_files", sku=item.sku))
    is_manager = can(current_user, MANAGERS)
    versions = services.versions(db.session, item)
    current = services.current_of(versions)
    form = UploadForm()
    asks = asks_if_print_still_good(item, current)
    if request.method == "POST":
        if not is_manager:
            abort(403)
        if form.validate_on_submit():
            done = _upload(item, form, asks)
            if done is not None:
                return done
        status = 400
    else:
        status = 200
        if form.last_day.data is None:
            form.last_day.data = date.today()
    shown = versions if is_manager else list(current.values())
    return render_template("files/item_files.html", item=item, versions=shown, current=current, form=form,
                           asks=asks, is_manager=is_manager, max_mb=current_app.config["MAX_FILE_MB"],
                           shares=services.shares_of(db.session, shown, current_user), share_url=share_url,
                           button_form=ButtonForm()), status


def _upload(item: Item, form: UploadForm, asks: bool) -> ResponseReturnValue | None:
    """Store the upload (and retire the old print when so answered), or put the refusal by its box."""
    retiring = asks and form.kind.data == MASTER and form.still_good.data == "no"
    if asks and form.kind.data == MASTER and form.still_good.data not in ("yes", "no"):
        form.still_good.errors = ["Say whether the printed stock is still good: a new master may retire it."]
        form.file.errors = ["Nothing was saved: choose the file again."]
        return None
    upload = form.file.data
    try:
        with transaction(db.session):  # the new version and the old print's last day, or neither
            version = services.upload(db.session, item, current_user, kind=form.kind.data, stream=upload.stream,
                                      filename=upload.filename, title=form.title.data, note=form.note.data,
                                      max_mb=current_app.config["MAX_FILE_MB"])
            if retiring:
                reprint.retire_print(db.session, item, form.last_day.data)
    except DomainError as error:
        if error.status == 403:
            abort(403)
        if not put_next_to_its_box(form, error, []):
            form.file.errors = [*form.file.errors, error.message]
        # A browser cannot put the chosen file back in its box: say so beside it, whatever was refused.
        form.file.errors = [*form.file.errors, "Nothing was saved: choose the file again."]
        return None
    flash(f"{version.title} is now version {version.version} of {item.sku}'s {version.kind_label.lower()}.",
          "success")
    if retiring:
        last = item.do_not_use_after.isoformat() if item.do_not_use_after else "today"
        flash(f"The printed stock of {item.sku} may be used until {last}.", "info")
        if form.reprint.data:
            return redirect(url_for("files.new_print_run", sku=item.sku))
    return redirect(url_for("files.item_files", sku=item.sku))


@bp.route("/i/<sku>/reprint", methods=["GET", "POST"])
@roles_required(MANAGERS)
def new_print_run(sku: str) -> ResponseReturnValue:
    """The successor of a print piece, with the current master and a draft PO for the run."""
    item = _item_or_404(sku)
    if not isinstance(item, Item):
        return item
    form = ReprintForm()
    if request.method == "GET":
        form.sku.data = reprint.suggested_sku(db.session, item)
        form.name.data = reprint.suggested_name(item, form.sku.data)
        form.quantity.data = item.reorder_quantity or None
    elif form.validate_on_submit():
        try:
            done = reprint.new_print_run(db.session, item, current_user, sku=form.sku.data, name=form.name.data,
                                         order=form.order.data, quantity=form.quantity.data)
        except DomainError as error:
            if error.status == 403:
                abort(403)
            if not put_next_to_its_box(form, error, []):
                flash(error.message, "error")
        else:
            flash(f"{done.successor.sku} replaces {item.sku}, with its master"
                  + (f" and a draft order of {form.quantity.data or item.reorder_quantity}." if done.order else "."),
                  "success")
            if done.order is not None:
                return redirect(url_for("purchasing.show", order_id=done.order.id))
            return redirect(url_for("catalog.item", sku=done.successor.sku))
    status = 400 if request.method == "POST" else 200
    return render_template("files/reprint.html", item=item, form=form), status


@bp.route(f"/files/{FILE}")
@roles_required(EVERYONE)
def download(file_id: int) -> ResponseReturnValue:
    """The file itself: ?inline=1 opens a PDF or an image in the browser, else it downloads."""
    version = _version_or_404(file_id)
    file_type = TYPES.get(version.type_name)
    inline = request.args.get("inline") == "1" and bool(file_type and file_type.inline)
    return send_stored(services.stored_file(db.session, version.file_id), download_name=services.download_name(version),
                       inline=inline, cache="private, max-age=3600")


@bp.route(f"/files/{FILE}/preview")
@roles_required(EVERYONE)
def preview(file_id: int) -> ResponseReturnValue:
    version = _version_or_404(file_id)
    if not version.preview_id:
        abort(404)
    return send_stored(services.stored_file(db.session, version.preview_id), cache="private, max-age=86400")


@bp.route(f"/files/{FILE}/share", methods=["POST"])
@roles_required(EVERYONE)
def share(file_id: int) -> ResponseReturnValue:
    """A new share link. Asked by the Share button's script (Accept: application/json): the
    link as JSON, for the phone's share sheet; by the form alone: the link's page."""
    version = _version_or_404(file_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    days = current_app.config["SHARE_LINK_DAYS"]
    row = services.share(db.session, version, current_user, days)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(url=share_url(row), title=version.title, expires_at=row.expires_at.isoformat() + "Z",
                       days=days, page=url_for("files.show_share", share_id=row.id))
    return redirect(url_for("files.show_share", share_id=row.id))


def _share_or_404(share_id: int) -> FileShare:
    try:
        row = services.get_share(db.session, share_id)
    except NotFound:
        abort(404, description="No such share link.")
    if not services.may_revoke(current_user, row):
        abort(403)
    return row


@bp.route(f"/shares/{SHARE}")
@roles_required(EVERYONE)
def show_share(share_id: int) -> ResponseReturnValue:
    row = _share_or_404(share_id)
    return render_template("files/share.html", share=row, url=share_url(row), button_form=ButtonForm(),
                           opens=services.recent_opens(db.session, row))


@bp.route(f"/shares/{SHARE}/revoke", methods=["POST"])
@roles_required(EVERYONE)
def revoke_share(share_id: int) -> ResponseReturnValue:
    row = _share_or_404(share_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    services.revoke(db.session, row, current_user)
    flash("That link is ended: it opens nothing any more.", "success")
    back = request.form.get("back")
    if back == "files":
        return redirect(url_for("files.item_files", sku=row.item_file.item.sku))
    return redirect(url_for("files.show_share", share_id=row.id))


@bp.route("/s/<token>")
@public
def open_share(token: str) -> ResponseReturnValue:
    """What a client opens: the file alone, no login, each open counted. A PDF or an image
    shows in the browser; an Office file downloads."""
    try:
        row, version = services.open_share(db.session, links.read_token(token))
    except Gone as error:
        return render_template("files/share_gone.html", message=error.message), 410
    except NotFound as error:
        return render_template("files/share_gone.html", message=error.message), 404
    file_type = TYPES.get(version.type_name)
    response = send_stored(services.stored_file(db.session, version.file_id),
                           download_name=services.download_name(version),
                           inline=bool(file_type and file_type.inline), cache="private, no-cache")
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
