"""Collateral file rules: upload a version, share it with a client, revoke a link, open one.

An upload is read from a temporary file (the form parser spools it to disk), checked by its
content (kinds.py), stored in the database in chunks (blobs/), given its preview (previews.py)
and made the item's current file of its kind, in one unit of work: a refused upload leaves
nothing behind. Managers upload; everyone signed in reads an item's current files and shares
them; older versions are for managers. A share link opens one version for anyone who has it,
until it expires or is revoked, and counts each open.
"""
from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from ..auth.models import User
from ..auth.roles import MANAGERS
from ..blobs import storage
from ..blobs.models import StoredFile
from ..catalog import search
from ..catalog.models import Item
from ..database import unit_of_work
from ..errors import Forbidden, Gone, InvalidInput, NotFound
from ..text import clean
from ..timeutil import utcnow
from .kinds import TYPES, FileType, sniff
from .models import FILE_KINDS, SHAREABLE, FileShare, FileShareOpen, ItemFile
from .previews import preview

MAX_TITLE, MAX_NOTE, MAX_FILENAME = 120, 2000, 200
MAX_ID = 2**31 - 1


def _text(value: object, what: str, limit: int, about: str) -> str:
    text = clean(str(value or ""))
    if len(text) > limit:
        raise InvalidInput(f"{what} is too long: at most {limit:,} characters.", about=(None, about))
    return text


def readable_name(filename: str | None) -> str:
    """The name it was uploaded under, for reading only: its last part (no folders), control
    characters out, at most MAX_FILENAME characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    return name[:MAX_FILENAME]


def title_from(filename: str) -> str:
    stem = os.path.splitext(filename)[0]
    return re.sub(r"[_\s]+", " ", stem).strip()[:MAX_TITLE]


def max_bytes(max_mb: int) -> int:
    return max_mb * 1024 * 1024


def _size_of(stream: IO[bytes]) -> int:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _manager_only(user: User, what: str) -> None:
    if user.role not in MANAGERS:
        raise Forbidden(f"Only managers and admins {what}.")


def _lock_item(session: Session, item: Item) -> None:
    """Versions count up per item: two uploads for one item take turns (a row lock on
    PostgreSQL; SQLite's write transaction already serializes writers)."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(select(Item.id).where(Item.id == item.id).with_for_update())


@dataclass(frozen=True)
class Checked:
    """An upload read and accepted, before anything is written."""
    file_type: FileType
    size: int
    preview: bytes | None


def check_upload(stream: IO[bytes], max_mb: int) -> Checked:
    """What the upload is, or InvalidInput about the "file" box: its size, its type by content,
    and (for a PDF) that it opens."""
    size = _size_of(stream)
    if size > max_bytes(max_mb):
        raise InvalidInput(f"That file is too big: {max_mb} MB at most.", about=(None, "file"))
    try:
        file_type = sniff(stream)
        return Checked(file_type, size, preview(stream, file_type))
    except InvalidInput as error:
        raise InvalidInput(error.message, about=(None, "file")) from None


def next_version(session: Session, item: Item, kind: str) -> int:
    latest = session.scalar(select(func.max(ItemFile.version)).where(ItemFile.item_id == item.id,
                                                                     ItemFile.kind == kind))
    return (latest or 0) + 1


@unit_of_work
def upload(session: Session, item: Item, user: User, *, kind: str, stream: IO[bytes], filename: str | None,
           title: str | None = "", note: str | None = "", max_mb: int = 50) -> ItemFile:
    """A new version of the item's `kind` file (master or shareable), current from now on.
    Refusals are InvalidInput about the box they concern ("file", "title", "note", "kind")."""
    _manager_only(user, "upload files")
    if kind not in FILE_KINDS:
        raise InvalidInput("Choose which file this is: the print master or the version to send to clients.",
                           about=(None, "kind"))
    if item.archived:
        raise InvalidInput(f"{item.sku} is archived: restore it before adding files.")
    name = readable_name(filename)
    title = _text(title, "The title", MAX_TITLE, "title") or title_from(name)
    note = _text(note, "The note", MAX_NOTE, "note")
    checked = check_upload(stream, max_mb)
    if not title:
        raise InvalidInput("Give the file a title, like “Expo brochure 2026”.", about=(None, "title"))
    _lock_item(session, item)
    stored = storage.store(session, stream, checked.file_type.content_type)
    preview_row = (storage.store_bytes(session, checked.preview, "image/jpeg")
                   if checked.preview is not None else None)
    version = ItemFile(item_id=item.id, kind=kind, version=next_version(session, item, kind), title=title,
                       filename=name or f"{title}{checked.file_type.extension}", type_name=checked.file_type.name,
                       file_id=stored.id, preview_id=preview_row.id if preview_row else None, note=note,
                       uploaded_by_id=user.id, uploaded_at=utcnow())
    session.add(version)
    search.refresh(session, [item.product_id])
    return version


@unit_of_work
def copy_to(session: Session, version: ItemFile, item: Item, user: User, note: str = "") -> ItemFile:
    """The same bytes as a new version of another item's file of that kind (a successor's first
    master): no second copy is stored."""
    _manager_only(user, "upload files")
    _lock_item(session, item)
    copy = ItemFile(item_id=item.id, kind=version.kind, version=next_version(session, item, version.kind),
                    title=version.title, filename=version.filename, type_name=version.type_name,
                    file_id=version.file_id, preview_id=version.preview_id, note=note or version.note,
                    uploaded_by_id=user.id, uploaded_at=utcnow())
    session.add(copy)
    search.refresh(session, [item.product_id])
    return copy


# --- reading ----------------------------------------------------------------------------------

def versions(session: Session, item: Item) -> list[ItemFile]:
    """Every version of the item's files, newest first within each kind (shareable first)."""
    rows = session.scalars(select(ItemFile).where(ItemFile.item_id == item.id)
                           .options(joinedload(ItemFile.stored), joinedload(ItemFile.uploaded_by))
                           .order_by(ItemFile.kind.desc(), ItemFile.version.desc())).all()
    return list(rows)


def current_of(rows: list[ItemFile]) -> dict[str, ItemFile]:
    """{kind: its newest version} of `versions(...)`."""
    found: dict[str, ItemFile] = {}
    for row in rows:
        if row.kind not in found or row.version > found[row.kind].version:
            found[row.kind] = row
    return found


def current(session: Session, item: Item) -> dict[str, ItemFile]:
    return current_of(versions(session, item))


def is_current(session: Session, version: ItemFile) -> bool:
    return next_version(session, version.item, version.kind) == version.version + 1


def get_version(session: Session, file_id: object) -> ItemFile:
    if not isinstance(file_id, int) or isinstance(file_id, bool) or not 0 < file_id <= MAX_ID:
        raise NotFound("No such file.")
    row = session.scalar(select(ItemFile).where(ItemFile.id == file_id)
                         .options(joinedload(ItemFile.stored), joinedload(ItemFile.item).joinedload(Item.product)))
    if row is None:
        raise NotFound(f"No file #{file_id}: it may have been a link to another stockroom.")
    return row


def may_read(session: Session, user: User, version: ItemFile) -> bool:
    """Everyone signed in reads an item's current files; older versions are for managers."""
    return user.role in MANAGERS or is_current(session, version)


def check_may_read(session: Session, user: User, version: ItemFile) -> None:
    if not may_read(session, user, version):
        raise Forbidden(f"Version {version.version} of this file has been replaced: only managers open "
                        "older versions. The item's page has the current one.")


def download_name(version: ItemFile) -> str:
    """SKU, title and version, in letters a file system keeps, with the type's extension."""
    file_type = TYPES.get(version.type_name)
    extension = file_type.extension if file_type else ""
    base = unicodedata.normalize("NFKD", f"{version.item.sku} {version.title} v{version.version}")
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", base.encode("ascii", "ignore").decode()).strip("-.")
    return (base or "file")[:150] + extension


def stored_file(session: Session, file_id: int) -> StoredFile:
    row = session.get(StoredFile, file_id)
    if row is None:
        raise NotFound("That file's contents are missing.")
    return row


def preview_bytes(session: Session, version: ItemFile) -> bytes | None:
    return storage.read_bytes(session, version.preview_id) if version.preview_id else None


def products_with_files(session: Session, product_ids: list[int]) -> set[int]:
    """The products among these with a file to send to clients on one of their items (one query),
    for the catalog list's "file to share"."""
    if not product_ids:
        return set()
    return set(session.scalars(select(Item.product_id).join(ItemFile, ItemFile.item_id == Item.id)
                               .where(Item.product_id.in_(product_ids), ItemFile.kind == SHAREABLE).distinct()))


# --- share links ------------------------------------------------------------------------------

@unit_of_work
def share(session: Session, version: ItemFile, user: User, days: int) -> FileShare:
    """A link to this version that opens without logging in for `days` days."""
    check_may_read(session, user, version)
    if not 1 <= days <= 365:
        raise InvalidInput("A share link lasts 1 to 365 days.", about=(None, "days"))
    now = utcnow()
    row = FileShare(item_file_id=version.id, created_by_id=user.id, created_at=now,
                    expires_at=now + timedelta(days=days), opens=0)
    session.add(row)
    session.flush()
    return row


def get_share(session: Session, share_id: object) -> FileShare:
    if not isinstance(share_id, int) or isinstance(share_id, bool) or not 0 < share_id <= MAX_ID:
        raise NotFound("No such share link.")
    row = session.scalar(select(FileShare).where(FileShare.id == share_id)
                         .options(joinedload(FileShare.item_file).joinedload(ItemFile.item)))
    if row is None:
        raise NotFound("No such share link.")
    return row


def may_revoke(user: User, row: FileShare) -> bool:
    return user.role in MANAGERS or row.created_by_id == user.id


@unit_of_work
def revoke(session: Session, row: FileShare, user: User) -> FileShare:
    """End a link now: it opens nothing from then on. Its maker or a manager may."""
    if not may_revoke(user, row):
        raise Forbidden("Only whoever made a share link, or a manager, can end it.")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by_id = utcnow(), user.id
    return row


def shares_of(session: Session, versions_: list[ItemFile], user: User) -> list[FileShare]:
    """The share links of these versions a person sees: managers all, others their own; newest first."""
    ids = [v.id for v in versions_]
    if not ids:
        return []
    statement = select(FileShare).where(FileShare.item_file_id.in_(ids)).options(
        joinedload(FileShare.created_by), joinedload(FileShare.item_file))
    if user.role not in MANAGERS:
        statement = statement.where(FileShare.created_by_id == user.id)
    return list(session.scalars(statement.order_by(FileShare.created_at.desc(), FileShare.id.desc()).limit(50)))


@unit_of_work(expire=False)
def open_share(session: Session, share_id: int | None, now: datetime | None = None) -> tuple[FileShare, ItemFile]:
    """The version a share link opens, its open counted; NotFound for a link that never was,
    Gone (410) for one that expired or was revoked."""
    if share_id is None:
        raise NotFound("That link is not one of ours: check it was copied whole.")
    row = get_share(session, share_id)
    now = now or utcnow()
    state = row.state(now)
    if state == "revoked":
        raise Gone("This link was withdrawn by whoever sent it. Ask them for the file again.")
    if state == "expired":
        raise Gone("This link has expired. Ask whoever sent it for a new one.")
    session.execute(update(FileShare).where(FileShare.id == row.id).values(
        opens=FileShare.opens + 1, last_opened_at=now,
        first_opened_at=func.coalesce(FileShare.first_opened_at, now)))
    session.add(FileShareOpen(share_id=row.id, at=now))
    return row, row.item_file


def recent_opens(session: Session, row: FileShare, limit: int = 20) -> list[datetime]:
    """When the link was opened, newest first."""
    return list(session.scalars(select(FileShareOpen.at).where(FileShareOpen.share_id == row.id)
                                .order_by(FileShareOpen.at.desc(), FileShareOpen.id.desc()).limit(limit)))
