"""Database plumbing shared by every rule: SQLite settings, write transactions, schema checks.

SQLite needs three things to be safe with several writers: WAL (readers never block the
writer), a busy timeout (a second writer waits instead of failing), and BEGIN IMMEDIATE for
write transactions (the write lock is taken up front, so a transaction that read first never
fails half-way on a lock upgrade). PostgreSQL needs none of this: rules use conditional
updates and row counts, which are atomic there under READ COMMITTED.
"""
import sqlite3
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
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
