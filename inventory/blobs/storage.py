"""Bytes in the database: written in chunks of CHUNK_BYTES as they are read from the upload (a
temporary file: the whole never sits in memory), read back one chunk per short query, each on
a connection taken from the pool and given back at once, so that a phone downloading slowly
holds no connection between chunks."""
from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select

from ..database import SessionLike
from .models import CHUNK_BYTES, StoredFile, StoredFileChunk

if TYPE_CHECKING:
    import psycopg


def store(session: SessionLike, stream: IO[bytes], content_type: str) -> StoredFile:
    """Write what `stream` holds (from its start) as a new stored file, in the caller's unit of work."""
    stream.seek(0)
    row = StoredFile(content_type=content_type, sha256="", size=0, chunks=0)
    session.add(row)
    session.flush()
    digest, size, n = hashlib.sha256(), 0, 0
    chunk_table = cast(Table, StoredFileChunk.__table__)  # a Table: insert() takes it
    while True:
        data = stream.read(CHUNK_BYTES)
        if not data:
            break
        digest.update(data)
        session.execute(insert(chunk_table).values(file_id=row.id, n=n, data=data))
        size += len(data)
        n += 1
    row.sha256, row.size, row.chunks = digest.hexdigest(), size, n
    session.flush()
    return row


def store_bytes(session: SessionLike, data: bytes, content_type: str) -> StoredFile:
    return store(session, io.BytesIO(data), content_type)


def read_bytes(session: SessionLike, file_id: int) -> bytes:
    """A small stored file whole (a preview, a photo)."""
    return b"".join(session.scalars(select(StoredFileChunk.data).where(StoredFileChunk.file_id == file_id)
                                    .order_by(StoredFileChunk.n)))


def stream_chunks(engine: Engine, file_id: int, chunks: int) -> Iterator[bytes]:
    """The file's chunks in order, one query each on a pooled connection held only for that query.
    On PostgreSQL the chunk comes back in binary (psycopg reads `bytea` as hex text otherwise:
    twice the bytes on the wire and a decoding step, about three times slower)."""
    statement = select(StoredFileChunk.data).where(StoredFileChunk.file_id == file_id,
                                                    StoredFileChunk.n == bindparam("n"))
    binary = engine.dialect.name == "postgresql"
    for n in range(chunks):
        with engine.connect() as connection:
            if binary:
                data = _binary_chunk(connection, file_id, n)
            else:
                data = connection.scalar(statement, {"n": n})
        if data is None:
            return
        yield bytes(data)


def _binary_chunk(connection: Connection, file_id: int, n: int) -> bytes | None:
    """One chunk through psycopg's own cursor asking for binary results."""
    driver = cast("psycopg.Connection[Any]", connection.connection.dbapi_connection)
    with driver.cursor(binary=True) as cursor:
        cursor.execute("SELECT data FROM stored_file_chunk WHERE file_id = %s AND n = %s", (file_id, n))
        row = cursor.fetchone()
    return None if row is None else row[0]
