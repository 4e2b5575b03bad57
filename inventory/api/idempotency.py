"""`Idempotency-Key` on the API's POSTs: a client that retries (its connection dropped, the
answer was a timeout) gets the first answer again and writes nothing new.

- A POST with the header is fingerprinted (method, path, query, body; for a multipart upload its
  fields and each file's SHA-256). The first time, it runs as usual, and the key is written **in
  the same transaction as the request's first write**: if the write commits, so does the key, and
  if two copies race, the second one's commit fails on the key's unique constraint and writes
  nothing (409).
- Once the view has answered, the answer (status and JSON body) is kept with the key.
- The same key again, within KEEP (24 h) and from the same API token: the kept answer, with
  `Idempotent-Replayed: true`. The same key with a different request: 422. A key whose write
  committed but whose answer never came back (the worker died): 409, saying so.
- A request that wrote nothing (refused with 4xx, or a read) keeps no key: retrying it runs it
  again, which changes nothing either.
"""
import hashlib
import re
from datetime import datetime, timedelta

from flask import g, has_request_context, request
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, event, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..database import quietly, unit_of_work
from ..extensions import db
from ..timeutil import utcnow

HEADER = "Idempotency-Key"
KEEP = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, no spaces: a UUID, a ULID, a hash


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotency_key_token_id_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)  # None: written, answer not kept (yet)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class KeyRefused(Exception):
    def __init__(self, message, status):
        super().__init__(message)
        self.message, self.status = message, status


FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def _fingerprint():
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    if request.mimetype in FORMS:
        _digest_form(digest)
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _digest_form(digest):
    """A form's fields and files, as parsed. Its raw body is gone by now (the form was parsed
    before the view, to check its text), and a file upload (MAX_FILE_MB) must not be read into
    memory whole: each file is hashed in chunks from its temporary file, then rewound."""
    def text(value):
        digest.update(value.encode("utf-8", "surrogatepass") + b"\0")

    for name, value in request.form.items(multi=True):
        text(name)
        text(value)
    for name, upload in request.files.items(multi=True):
        text(name)
        text(upload.filename or "")
        stream = upload.stream
        stream.seek(0)
        contents = hashlib.sha256()
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            contents.update(chunk)
        stream.seek(0)
        text(contents.hexdigest())


def begin(session, token_id):
    """Before a POST runs: None to go on (the key, if any, is noted for this request), or the
    kept answer as (body, status) to send instead. Raises KeyRefused."""
    if request.method != "POST" or HEADER not in request.headers:
        return None
    key = request.headers[HEADER].strip()
    if not _KEY.fullmatch(key):
        raise KeyRefused(f"{HEADER} must be 1 to 200 printable characters without spaces (a UUID, say).", 400)
    fingerprint = _fingerprint()
    row = session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.token_id == token_id, IdempotencyKey.key == key,
        IdempotencyKey.created_at >= utcnow() - KEEP))
    if row is not None:
        if row.fingerprint != fingerprint:
            raise KeyRefused(f"This {HEADER} was used for a different request; use a new key for a new request.", 422)
        if row.status is None:
            raise KeyRefused(f"A request with this {HEADER} was carried out, but its answer was lost; look up "
                             "what it made (GET) before you try again with a new key.", 409)
        return row.body, row.status
    g.idempotency = {"token_id": token_id, "key": key, "fingerprint": fingerprint, "written": False}
    return None


@event.listens_for(Session, "before_commit")
def _write_the_key_with_the_first_write(session):
    if not has_request_context():
        return
    noted = g.get("idempotency")
    if not noted or noted["written"]:
        return
    if not (g.get("pending_write") or session.new or session.dirty or session.deleted):
        return  # a read, or a quiet note: not the request's write
    noted["pending"] = True  # written once this transaction commits (a retried rule adds it again)
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.token_id == noted["token_id"],
                                                 IdempotencyKey.created_at < utcnow() - KEEP))
    session.add(IdempotencyKey(token_id=noted["token_id"], key=noted["key"], fingerprint=noted["fingerprint"]))


@event.listens_for(Session, "after_commit")
def _key_written(_session):
    noted = g.get("idempotency") if has_request_context() else None
    if noted and noted.pop("pending", False):
        noted["written"] = True


@event.listens_for(Session, "after_rollback")
def _key_not_written(_session):
    noted = g.get("idempotency") if has_request_context() else None
    if noted:
        noted.pop("pending", None)


def finish(session, response):
    """After the view answered: keep the answer with the key its write committed. Only a POST's
    JSON answer is kept: a streamed one (a file download) is never read here."""
    noted = g.get("idempotency")
    if not noted or not noted["written"] or not g.get("committed_a_write") or response.status_code >= 500:
        return response
    if request.method != "POST" or response.is_streamed or response.direct_passthrough:
        return response
    try:
        _keep_answer(session, noted["token_id"], noted["key"], response.status_code, response.get_data(as_text=True))
    except SQLAlchemyError:  # the answer goes out anyway; a retry is then told it was lost
        session.rollback()
    return response


@unit_of_work(expire=False)
def _keep_answer(session, token_id, key, status, body):
    quietly(session)
    session.execute(update(IdempotencyKey).where(IdempotencyKey.token_id == token_id, IdempotencyKey.key == key)
                    .values(status=status, body=body))


def is_duplicate(error):
    """True when `error` is this request's key colliding with a copy that committed first."""
    return (isinstance(error, IntegrityError) and has_request_context() and bool(g.get("idempotency"))
            and "idempotency_key" in str(error.orig))
