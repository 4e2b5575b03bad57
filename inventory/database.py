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
2. **items, by id** (FOR NO KEY UPDATE; `holds.locks.lock_items`, and the forecast's
   `stored._lock_items`, which skips those locked already). Every rule that changes stock or
   request lines locks all the items it touches here, before it changes any of their rows;
3. **stock levels, by (item_id, bin_id)**: a rule touching several rows of `stock_level` (a move,
   a put-away, a pick into DISPATCH, a count of several items in one bin) writes or locks them in
   that order (`stock.booking._transfer` / `lock_levels`), a missing destination row being
   inserted in its turn;
4. then the rows that belong to those items (request lines, steps, ledger rows, flags), which
   nobody locks before their item.

The reorder flags are re-projected at commit (forecast/stored.py): that locks the items again in
id order, and finds them locked already when the rule followed 2.

Transactions are opened here only: `unit_of_work` makes a rule one unit (its own transaction
when called from an entry point, a savepoint inside another unit), `transaction` makes several
rules one at an entry point; docs/design.md, "Transactions".

Deadlocks that still happen (a path this order misses) and serialization failures are retried by
`unit_of_work`, around the whole outermost unit; when the retries are used up the user gets errors.Busy
(503: nothing was saved, try again), never a server error.
"""
from __future__ import annotations

import functools
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Concatenate, ParamSpec, TypeAlias, TypeVar, overload

from flask import g, has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

# What rules take as `session`: a Session, or Flask-SQLAlchemy's `db.session` (a scoped_session,
# which passes every call on to the request's Session).
SessionLike: TypeAlias = "Session | scoped_session[Any]"

_immediate = ContextVar("sqlite_begin_immediate", default=False)


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
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


@event.listens_for(Engine, "connect")
def _no_statement_timeout_in_commands(dbapi_connection: Any, _record: Any) -> None:
    """The statement timeout is for requests; a command run from the shell may take its time."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        return
    import click

    if click.get_current_context(silent=True) is not None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET statement_timeout = 0")
        cursor.close()
        dbapi_connection.commit()


# Did this request commit a write? After a commit, a failure can no longer say "nothing was
# saved": the error page asks to reload and check instead (core/errors.py).
@event.listens_for(Engine, "after_cursor_execute")
def _note_write(connection: Connection, _cursor: Any, _statement: str, _parameters: Any, context: Any,
                _executemany: bool) -> None:
    if (context.isinsert or context.isupdate or context.isdelete) and not connection.info.get("quiet"):
        if has_request_context():
            g.pending_write = True


@event.listens_for(Session, "after_commit")
def _note_commit(_session: Session) -> None:
    if has_request_context() and g.pop("pending_write", False):
        g.committed_a_write = True


@event.listens_for(Session, "after_rollback")
def _forget_writes(_session: Session) -> None:
    if has_request_context():
        g.pop("pending_write", None)


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _end_quiet(connection: Connection) -> None:
    # Never raise here: a hook that fails inside a rollback turns a lost connection into a bare
    # error page. An invalidated connection's record is thrown away with its info anyway.
    if connection.invalidated or connection.closed:
        return
    try:
        connection.info.pop("quiet", None)
    except Exception:  # noqa: BLE001
        pass


def quietly(session: SessionLike) -> None:
    """Mark the session's transaction as bookkeeping (last seen, last used): its writes do not
    count as the request having saved something."""
    session.connection().info["quiet"] = True


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


@contextmanager
def write_transaction(session: SessionLike, expire: bool = True) -> Iterator[Session]:
    """The transaction of the outermost unit of work (`unit_of_work`, `transaction`; rules never
    call this themselves): commit on success, roll back on error.

    Inside, take row locks in the global order the module's docstring gives (items by id, then
    stock levels by (item, bin)).

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
    session = _real(session)
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


def retryable(error: BaseException) -> str | None:
    """The SQLSTATE of a PostgreSQL deadlock or serialization failure behind `error`, else None."""
    if not isinstance(error, DBAPIError):
        return None
    state = getattr(error.orig, "sqlstate", None)
    return state if state in RETRIED_SQLSTATES else None


def _real(session: SessionLike) -> Session:
    return session() if isinstance(session, scoped_session) else session


S = TypeVar("S", bound=SessionLike)
P = ParamSpec("P")
R = TypeVar("R")
Rule: TypeAlias = Callable[Concatenate[S, P], R]


@overload
def unit_of_work(rule: Rule[S, P, R], *, expire: bool = True) -> Rule[S, P, R]: ...


@overload
def unit_of_work(rule: None = None, *, expire: bool = True) -> Callable[[Rule[S, P, R]], Rule[S, P, R]]: ...


def unit_of_work(rule: Rule[S, P, R] | None = None, *,
                 expire: bool = True) -> Rule[S, P, R] | Callable[[Rule[S, P, R]], Rule[S, P, R]]:
    """Make `rule(session, ...)` one unit of work: the transaction is opened here, never inside
    the rule, so rules compose.

    - Called from an entry point (a view, an API endpoint, a command, a test: no unit is open),
      the rule runs in a write transaction of its own (`write_transaction`), committed when it
      returns and rolled back when it raises. When PostgreSQL aborts it with a deadlock (40P01) or
      a serialization failure (40001), it is rolled back and run again, after a short random
      pause, up to ATTEMPTS times in all; then errors.Busy. Only when the session had nothing
      pending (nothing of the caller's would be lost by the rollback). Each attempt starts a
      fresh transaction: the forecast's marks and locks (forecast/changes.py) are dropped with the
      rollback and marked again by the attempt that runs, and objects the caller loaded are
      expired and read again.
    - Called inside another unit (a rule calling a rule, or an entry point's `transaction`), it
      joins that transaction in a SAVEPOINT: a refusal undoes only this rule's writes and reaches
      the caller, which may carry on; nothing is committed until the outermost unit ends. A
      deadlock reaches the outermost unit, which runs everything again.

    `expire=False`: see write_transaction (for rules that answer from the objects they wrote).
    Use as `@unit_of_work` or `@unit_of_work(expire=False)`."""
    if rule is None:
        def decorate(rule: Rule[S, P, R]) -> Rule[S, P, R]:
            return unit_of_work(rule, expire=expire)
        return decorate

    @functools.wraps(rule)
    def run(session: S, *args: P.args, **kwargs: P.kwargs) -> R:
        real = _real(session)
        with _one_unit_deeper(real) as depth:
            if depth:
                with real.begin_nested():
                    return rule(session, *args, **kwargs)
            may_retry = not (real.new or real.dirty or real.deleted) and not real.in_nested_transaction()
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    with write_transaction(real, expire=expire):
                        return rule(session, *args, **kwargs)
                except DBAPIError as error:
                    state = retryable(error)
                    if state is None or not may_retry:
                        raise
                    if attempt == ATTEMPTS:
                        logger.warning("%s: %s %d times; gave up.", rule.__qualname__, RETRIED_SQLSTATES[state],
                                       attempt)
                        from .errors import Busy
                        raise Busy() from error
                    logger.info("%s: %s, running it again (attempt %d).", rule.__qualname__,
                                RETRIED_SQLSTATES[state], attempt + 1)
                    time.sleep(random.uniform(*_JITTER) * attempt)
            raise AssertionError("unreachable: the last attempt returns or raises")

    return run


@contextmanager
def _one_unit_deeper(real: Session) -> Iterator[int]:
    """Count one more open unit on the session while the block runs; yields how many were open
    before it (0: this is the outermost, which owns the transaction)."""
    depth = real.info.get(_UNIT, 0)
    real.info[_UNIT] = depth + 1
    try:
        yield depth
    finally:
        if depth:
            real.info[_UNIT] = depth
        else:
            real.info.pop(_UNIT, None)


@contextmanager
def transaction(session: SessionLike, expire: bool = True) -> Iterator[Session]:
    """One transaction for an entry point that calls several rules as one (`with transaction(s):`):
    each rule joins it in a savepoint, and it commits when the block ends (rolls back when it
    raises). Inside another unit it is a savepoint itself. It cannot run the block again after a
    deadlock, so that ends as errors.Busy (nothing saved, try again); an entry point that wants
    the retry puts the block in a function decorated with @unit_of_work instead."""
    real = _real(session)
    with _one_unit_deeper(real) as depth:
        if depth:
            with real.begin_nested():
                yield real
            return
        try:
            with write_transaction(real, expire=expire):
                yield real
        except DBAPIError as error:
            if retryable(error) is None:
                raise
            from .errors import Busy
            raise Busy() from error


def _can_go_on(session: Session) -> bool:
    """True on PostgreSQL when the session's open transaction has nothing unflushed (and the
    rules flush only inside write transactions, so it has written nothing either)."""
    return (session.get_bind().dialect.name != "sqlite"
            and not (session.new or session.dirty or session.deleted))


def schema_state(engine: Engine, script_directory: str) -> tuple[str | None, str | None]:
    """Return (current_revision, head_revision) of the database behind `engine`."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(script_directory).get_current_head()
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None, head
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head


# When the database fails ------------------------------------------------------------------------

UNAVAILABLE, UNWRITABLE, BUSY, TOO_SLOW = "unavailable", "unwritable", "busy", "too slow"


def failure_kind(error: BaseException) -> str | None:
    """What a database error means for the user, or None for an error that is our bug (a
    constraint, bad SQL): UNAVAILABLE (cannot be reached, connection lost), UNWRITABLE (disk full,
    read-only), BUSY (a deadlock or lock wait that could not be resolved), TOO_SLOW (the
    statement timeout stopped it)."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError):
        return None
    original = error.orig
    if isinstance(original, sqlite3.Error):
        message = str(original).lower()
        if "disk is full" in message or "readonly" in message or "read-only" in message or "disk i/o" in message:
            return UNWRITABLE
        if "database is locked" in message or "database table is locked" in message:
            return BUSY
        if "unable to open" in message:
            return UNAVAILABLE
        return None
    if error.connection_invalidated:
        return UNAVAILABLE
    sqlstate = getattr(original, "sqlstate", None) or ""
    if sqlstate in ("40P01", "40001", "55P03"):  # deadlock, serialization failure, lock not available
        return BUSY
    if sqlstate == "57014":  # query_canceled: the statement timeout
        return TOO_SLOW
    if sqlstate == "25006" or sqlstate.startswith("53"):  # read-only transaction; disk full, out of memory
        return UNWRITABLE
    if sqlstate.startswith("08") or sqlstate.startswith("57P"):  # connection exceptions; admin shutdown
        return UNAVAILABLE
    if not sqlstate and type(error).__name__ == "OperationalError":  # could not connect at all
        return UNAVAILABLE
    return None


def engine_options(url: str, statement_timeout_seconds: float = 15,
                   connect_timeout_seconds: float = 5) -> dict[str, Any]:
    """SQLAlchemy engine options: connections checked before use (a database restart costs only
    the requests in flight), and on PostgreSQL timeouts that keep every request well inside
    gunicorn's worker timeout: connecting (5 s), a statement (15 s), and TCP keepalives with a
    user timeout, so a connection whose packets are dropped fails in about 10 s instead of
    hanging until the kernel gives up (15 minutes)."""
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        # Commands (`flask db upgrade`, `seed-demo`, `forecast-refresh`) may run longer than a
        # request should: _no_statement_timeout_in_commands lifts it for them.
        options["pool_timeout"] = 10
        options["connect_args"] = {
            "connect_timeout": connect_timeout_seconds,
            "options": f"-c statement_timeout={int(statement_timeout_seconds * 1000)}",
            "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 2,
            "tcp_user_timeout": 10000,
        }
    return options
