"""Bytes in the database.

`stored_file` is the bytes of one upload (a collateral file, its preview, a product photo),
split into `stored_file_chunk` rows of CHUNK_BYTES each, with the SHA-256 of the whole (its
ETag): in the database (PostgreSQL `bytea`, SQLite `BLOB`), so that any number of app hosts on
one PostgreSQL serve the same file, and no file lives on one host's disk. A stored file never
changes once written.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ..timeutil import utcnow

CHUNK_BYTES = 1024 * 1024


class StoredFile(Model):
    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    content_type: Mapped[str] = mapped_column(String(100))
    chunks: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredFileChunk(Model):
    __tablename__ = "stored_file_chunk"

    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id", ondelete="CASCADE"), primary_key=True)
    n: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
