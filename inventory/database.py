"""Database plumbing shared by every rule: SQLite settings, write transactions, schema checks.

SQLite needs three things to be safe with several writers: WAL (readers never block the
writer), a busy timeout (a second writer waits instead of failing), and BEGIN IMMEDIATE for
write transactions (the write lock is taken up front, so a transaction that read first never
fails half-way on a lock upgrade). PostgreSQL needs none of this: rules use conditional
updates and row counts, which are atomic there under READ COMMITTED.

Lock order (PostgreSQL). Row locks are taken in one global order by every write, so that two
transactions never wait on each other in a circle (a deadlock, which PostgreSQL ends by aborting
one of them):

1. the document the rule changes, when it has one (a purchase order, read FOR UPDATE; a request
   is not locked itself, its items serialize it) — only to learn which items it names;
2. **items, by id** (FOR NO KEY UPDATE; `requests.availability.lock_items`, and the forecast's
   `stored._lock_items`, which skips those locked already). Every rule that changes stock or
   request lines locks all the items it touches here, before it changes any of their rows;
3. **stock levels, by (item_id, bin_id)**: a rule touching several rows of `stock_level` (a move,
   a put-away, a pick into DISPATCH, a count of several items in one bin) writes or locks them in
   that order (`stock.services._transfer` / `lock_levels`), a missing destination row being
   inserted in its turn;
4. then the rows that belong to those items (request lines, steps, ledger rows, flags), which
   nobody locks before their item.

The reorder flags are re-projected at commit (forecast/stored.py): that locks the items again in
id order, and finds them locked already when the rule followed 2.

Deadlocks that still happen (a path this order misses) and serialization failures are retried by
`unit_of_work`, around the whole rule; when the retries are used up the user gets errors.Busy
(503: nothing was saved, try again), never a server error.
"""
import functools
import logging
import random
import sqlite3
import time
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import scoped_session

_immediate = ContextVar("sqlite_begin_immediate", default=False)


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, _record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


@contextmanager
def write_transaction(session, expire=True):
    """Run one business operation in one transaction: commit on success, roll back on error.

    Inside, take row locks in the global order the module's docstring gives (items by id, then
    stock levels by (item, bin)); wrap the rule in `unit_of_work` so a deadlock is retried.

    Any read-only transaction the caller left open is ended first, so that on SQLite the write
    transaction starts with BEGIN IMMEDIATE and queues behind other writers on the busy timeout.

    `expire=False` keeps what the session has loaded through both commits (a rollback still
    expires it): for a rule that reads nothing it decides on from objects loaded before (it
    reads availability afresh under its locks) and whose caller answers from the objects it
    wrote, so neither the caller's objects nor the written ones are loaded again. On
    PostgreSQL such a rule also goes on in the read transaction the caller left open, if that
    has nothing pending, instead of committing it and beginning another (three round trips
    and a pool check-out fewer): under READ COMMITTED every statement sees what is committed
    when it starts, so what the rule reads after taking its row locks is as fresh either way;
    only a failure now rolls back the caller's reads too, which changes nothing.
    """
    if isinstance(session, scoped_session):
        session = session()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = expire_on_commit and expire
    try:
        if session.in_transaction():
            if not expire and _can_go_on(session):
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
                return
            session.commit()
        token = _immediate.set(True)
        try:
            with session.begin():
                yield session
        finally:
            _immediate.reset(token)
    finally:
        session.expire_on_commit = expire_on_commit


RETRIED_SQLSTATES = {"40P01": "deadlock", "40001": "serialization failure"}
ATTEMPTS = 3
_JITTER = (0.01, 0.05)  # seconds; times the attempt number
_UNIT = "unit_of_work_depth"
logger = logging.getLogger(__name__)


def retryable(error):
    """The SQLSTATE of a PostgreSQL deadlock or serialization failure behind `error`, else None."""
    if not isinstance(error, DBAPIError):
        return None
    state = getattr(error.orig, "sqlstate", None)
    return state if state in RETRIED_SQLSTATES else None


def unit_of_work(rule):
    """Run `rule(session, ...)` (a rule that opens one write_transaction: a rule that commits
    several would redo those committed before the failure) again when PostgreSQL
    aborts its transaction with a deadlock (40P01) or a serialization failure (40001): rolled
    back, after a short random pause, up to ATTEMPTS times in all; then errors.Busy.

    Only the outermost unit of work retries, and only when the session had nothing pending when it
    was called (nothing of the caller's would be lost by the rollback): a rule called by another
    rule lets the error reach the outer one, which runs everything again. Each attempt starts a
    fresh transaction: the forecast's marks and locks (forecast/changes.py) are dropped with the
    rollback and marked again by the attempt that runs, and objects the caller loaded are expired
    and read again."""

    @functools.wraps(rule)
    def run(session, *args, **kwargs):
        real = session() if isinstance(session, scoped_session) else session
        depth = real.info.get(_UNIT, 0)
        outermost = depth == 0 and not (real.new or real.dirty or real.deleted) \
            and not real.in_nested_transaction()
        real.info[_UNIT] = depth + 1
        try:
            if not outermost:
                return rule(session, *args, **kwargs)
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    return rule(session, *args, **kwargs)
                except DBAPIError as error:
                    state = retryable(error)
                    if state is None:
                        raise
                    real.rollback()
                    if attempt == ATTEMPTS:
                        logger.warning("%s: %s %d times; gave up.", rule.__qualname__, RETRIED_SQLSTATES[state],
                                       attempt)
                        from .errors import Busy
                        raise Busy() from error
                    logger.info("%s: %s, running it again (attempt %d).", rule.__qualname__,
                                RETRIED_SQLSTATES[state], attempt + 1)
                    time.sleep(random.uniform(*_JITTER) * attempt)
        finally:
            if depth:
                real.info[_UNIT] = depth
            else:
                real.info.pop(_UNIT, None)

    return run


def _can_go_on(session):
    """True on PostgreSQL when the session's open transaction has nothing unflushed (and the
    rules flush only inside write transactions, so it has written nothing either)."""
    return (session.get_bind().dialect.name != "sqlite"
            and not (session.new or session.dirty or session.deleted))


def schema_state(engine, script_directory):
    """Return (current_revision, head_revision) of the database behind `engine`."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(script_directory).get_current_head()
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None, head
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head
