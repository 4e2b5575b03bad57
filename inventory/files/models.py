"""The files' tables.

The bytes of each version are a stored file (blobs/models.py), in the database.

`item_file` is one version of one of an item's files: its print-ready master or the shareable
version reps send to clients. Versions count up per item and kind; the newest is current.
`file_share` is a link to one version that a client opens without logging in, until it expires
or is revoked; each open is a `file_share_open` row.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..blobs.models import StoredFile
from ..catalog.models import Item
from ..extensions import Model
from ..timeutil import utcnow

MASTER, SHAREABLE = "master", "shareable"
FILE_KINDS = (SHAREABLE, MASTER)
KIND_LABELS = {MASTER: "Print master", SHAREABLE: "To send to clients"}


class ItemFile(Model):
    __tablename__ = "item_file"
    __table_args__ = (
        UniqueConstraint("item_id", "kind", "version", name="uq_item_file_item_id_kind_version"),
        CheckConstraint("kind IN ('master', 'shareable')", name="kind_known"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(120))
    # The name it was uploaded under, for people to read: never used as a path.
    filename: Mapped[str] = mapped_column(String(200))
    type_name: Mapped[str] = mapped_column(String(12))  # pdf, pptx, docx, png, jpeg, webp
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))
    preview_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship()
    stored: Mapped[StoredFile] = relationship(foreign_keys=[file_id])
    uploaded_by: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


class FileShare(Model):
    __tablename__ = "file_share"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_file_id: Mapped[int] = mapped_column(ForeignKey("item_file.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    opens: Mapped[int] = mapped_column(default=0)
    first_opened_at: Mapped[datetime | None]
    last_opened_at: Mapped[datetime | None]

    item_file: Mapped[ItemFile] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    def state(self, now: datetime | None = None) -> str:
        """"open", "expired" or "revoked"."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= (now or utcnow()) else "open"


class FileShareOpen(Model):
    __tablename__ = "file_share_open"
    __table_args__ = (Index("ix_file_share_open_share_id_at", "share_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("file_share.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
