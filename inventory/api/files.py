"""JSON API for an item's collateral files: list its versions, upload one (managers, multipart),
download one, and share one with a client by a link that expires; read and end such a link.

The rules are files/services.py's, as on the pages: everyone reads an item's current files and
shares them; older versions, and uploads, are for managers; a link is read or ended by whoever
made it, or a manager. An upload streams from the form parser's temporary file into the
database (up to MAX_FILE_MB, not MAX_CONTENT_LENGTH: the view is marked `large_upload`), and a
download streams back chunk by chunk with the file's SHA-256 as its ETag.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, g, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.roles import EVERYONE, MANAGERS
from ..blobs.serving import send_stored
from ..catalog.models import Item
from ..catalog.services import get_item
from ..core.inputs import large_upload
from ..errors import NotFound
from ..extensions import db
from ..files import links, services
from ..files.models import SHAREABLE, FileShare, ItemFile
from ..text import is_whole_number
from .views import ApiError, api_roles, bp

FILE_URL = f"/files/<int(max={services.MAX_ID}):file_id>"  # bigger ids answer 404
SHARE_URL = f"/shares/<int(max={services.MAX_ID}):share_id>"


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment else None


def file_json(version: ItemFile, current: bool, item: Item | None = None) -> dict[str, Any]:
    """One version of one of an item's files. `item` spares a query per row of a list."""
    item = item or version.item
    stored = version.stored
    return {
        "id": version.id,
        "sku": item.sku,
        "kind": version.kind,
        "version": version.version,
        "current": current,
        "title": version.title,
        "filename": version.filename,
        "type": version.type_name,
        "content_type": stored.content_type,
        "size": stored.size,
        "sha256": stored.sha256,
        "note": version.note,
        "uploaded_by": version.uploaded_by.email if version.uploaded_by else None,
        "uploaded_at": _when(version.uploaded_at),
        "download_url": url_for("api.download_file", file_id=version.id, _external=True),
        "preview_url": url_for("files.preview", file_id=version.id, _external=True) if version.preview_id else None,
        "page_url": url_for("files.item_files", sku=item.sku, _external=True),
    }


def share_json(row: FileShare) -> dict[str, Any]:
    version = row.item_file
    return {
        "id": row.id,
        "url": links.share_url(row.id),
        "state": row.state(),
        "opens": row.opens,
        "first_opened_at": _when(row.first_opened_at),
        "last_opened_at": _when(row.last_opened_at),
        "created_by": row.created_by.email if row.created_by else None,
        "created_at": _when(row.created_at),
        "expires_at": _when(row.expires_at),
        "revoked_at": _when(row.revoked_at),
        "page_url": url_for("files.show_share", share_id=row.id, _external=True),
        "file": file_json(version, services.is_current(db.session, version)),
    }


def _item(sku: str) -> Item:
    try:
        return get_item(db.session, sku)
    except NotFound as error:
        raise ApiError(f"{error.message} GET /api/v1/items?q=<words> searches the catalog.", 404) from None


def _version(file_id: int) -> ItemFile:
    """The version, if this caller may read it: NotFound (404), Forbidden (403) in words."""
    version = services.get_version(db.session, file_id)
    services.check_may_read(db.session, g.api_user, version)
    return version


def _share(share_id: int) -> FileShare:
    row = services.get_share(db.session, share_id)
    if not services.may_revoke(g.api_user, row):
        raise ApiError("Only whoever made a share link, or a manager, can read or end it.", 403)
    return row


def _optional_body() -> dict[str, Any]:
    """The JSON object sent, or {} when nothing was."""
    data = request.get_json(silent=True)
    if data is None and not request.get_data(cache=True).strip():
        return {}
    if not isinstance(data, dict):
        raise ApiError("Send a JSON object with Content-Type: application/json, or no body.", 400)
    return data


@bp.get("/items/<sku>/files")
@api_roles(EVERYONE)
def list_item_files(sku: str) -> ResponseReturnValue:
    """The item's files: for managers every version, newest first within each kind; for
    everyone else the current version of each kind."""
    item = _item(sku)
    versions = services.versions(db.session, item)
    current = services.current_of(versions)
    current_ids = {version.id for version in current.values()}
    shown = versions if g.api_user.role in MANAGERS else [v for v in versions if v.id in current_ids]
    return jsonify(sku=item.sku, files=[file_json(v, v.id in current_ids, item) for v in shown],
                   current={kind: version.id for kind, version in current.items()})


@bp.post("/items/<sku>/files")
@large_upload  # on the function Flask calls: room_for_files reads the mark from the URL map
@api_roles(MANAGERS)
def upload_item_file(sku: str) -> ResponseReturnValue:
    """A new version of the item's file, current from now on: multipart/form-data with `file`,
    and optionally `kind` (master or shareable, the default), `title` and `note`."""
    item = _item(sku)
    upload = request.files.get("file")
    if upload is None:
        if "file" in request.form:  # no file name, or one that is not UTF-8: a text field
            raise ApiError("'file' arrived as text, not as a file: send it with its file name "
                           "(curl -F file=@brochure.pdf).", 400)
        raise ApiError("Send the file as multipart/form-data in the field 'file' "
                       "(curl -F file=@brochure.pdf).", 400)
    version = services.upload(db.session, item, g.api_user, kind=request.form.get("kind") or SHAREABLE,
                              stream=upload.stream, filename=upload.filename, title=request.form.get("title"),
                              note=request.form.get("note"), max_mb=current_app.config["MAX_FILE_MB"])
    body = file_json(version, True, item)
    return jsonify(body), 201, {"Location": body["download_url"]}


@bp.get(FILE_URL)
@api_roles(EVERYONE)
def download_file(file_id: int) -> ResponseReturnValue:
    """The file itself, as an attachment named by its SKU, title and version; streamed, with
    its SHA-256 as the ETag (If-None-Match answers 304)."""
    version = _version(file_id)
    return send_stored(services.stored_file(db.session, version.file_id), download_name=services.download_name(version),
                       inline=False, cache="private, max-age=3600")


@bp.post(FILE_URL + "/share")
@api_roles(EVERYONE)
def share_file(file_id: int) -> ResponseReturnValue:
    """A link to this version that opens without logging in: {"days": n} optional
    (SHARE_LINK_DAYS unless said, 1 to 365)."""
    version = _version(file_id)
    days = _optional_body().get("days")
    if days is None:
        days = current_app.config["SHARE_LINK_DAYS"]
    elif not is_whole_number(days):
        raise ApiError("'days' must be a whole number of days, 1 to 365.", 400)
    row = services.share(db.session, version, g.api_user, days)
    body = share_json(services.get_share(db.session, row.id))
    return jsonify(body), 201, {"Location": url_for("api.get_share", share_id=row.id, _external=True)}


@bp.get(SHARE_URL)
@api_roles(EVERYONE)
def get_share(share_id: int) -> ResponseReturnValue:
    """A share link: its state (open, expired, revoked), how often and when it was opened."""
    row = _share(share_id)
    body = share_json(row)
    body["recent_opens"] = [_when(moment) for moment in services.recent_opens(db.session, row)]
    return jsonify(body)


@bp.post(SHARE_URL + "/revoke")
@api_roles(EVERYONE)
def revoke_share(share_id: int) -> ResponseReturnValue:
    """End a link now (its maker or a manager): it opens nothing from then on (410)."""
    row = services.revoke(db.session, _share(share_id), g.api_user)
    return jsonify(share_json(services.get_share(db.session, row.id)))
