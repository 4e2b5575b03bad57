"""Has anything the forecast reads changed since it was computed?

The forecast reads items, products, stock levels, requests and their lines, purchase orders
and their lines, and events. Every transaction that writes to one of those tables (through the
ORM, a bulk `executemany` or raw SQL on the session's connection: any statement SQLAlchemy
sends) bumps the single counter row `forecast_version` just before it commits, in the same
transaction, so the new counter becomes visible exactly when the change does. A forecast
computed after reading the counter is therefore at least as new as that counter, and can be
reused for as long as the counter has not moved (`stamp`).

Why one counter row and not, say, the newest ledger id: ids are handed out before commit, so a
transaction that took id 100 can commit after one that took 101, and a reader that saw 101
would keep a forecast that never saw 100. The counter row is updated under its row lock, so
counters commit in order. The lock is taken by the last statement before COMMIT and held only
for the commit itself.

Writers outside a Session (migrations, `engine.begin()` in scripts) do not bump it: they run
before the app serves, or in tests that empty the whole database (which deletes the row; with
no row there is no stamp, so nothing is reused, and the next write creates a row with a new
token).
"""
import re
import secrets
import threading
from collections import OrderedDict

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

TRACKED = frozenset({"item", "product", "stock_level", "request", "request_line", "purchase_order",
                     "purchase_order_line", "event"})
_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
_CHANGED = "forecast_inputs_changed"  # in Connection.info while the transaction has written to TRACKED
_CONNECTION = "forecast_connection"  # in Session.info: the connection of the session's transaction
# An upsert, so a database emptied by hand (or by the tests) gets its row back, with a new token.
# Both SQLite (3.24+) and PostgreSQL speak ON CONFLICT. One statement text, built once: the token is
# a parameter, so PostgreSQL can prepare it and SQLAlchemy compiles it once.
_BUMP = text("INSERT INTO forecast_version (id, token, n) VALUES (1, :token, 1) "
             "ON CONFLICT (id) DO UPDATE SET n = forecast_version.n + 1")


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(connection, _cursor, statement, _parameters, _context, _executemany):
    match = _WRITE.match(statement)
    if match and match.group(1).lower() in TRACKED:
        connection.info[_CHANGED] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget(connection):
    connection.info.pop(_CHANGED, None)


@event.listens_for(Session, "after_begin")
def _remember_connection(session, _transaction, connection):
    session.info[_CONNECTION] = connection


@event.listens_for(Session, "before_commit")
def _bump(session):
    if session.in_nested_transaction():
        return  # a savepoint: the outer commit bumps
    connection = session.info.get(_CONNECTION)
    if connection is None or connection.closed or not connection.in_transaction():
        return
    session.flush()  # the commit's own flush comes after this hook: write it now to see it
    if connection.info.pop(_CHANGED, False):
        connection.execute(_BUMP, {"token": secrets.token_hex(8)})


def stamp(session):
    """(token, counter) of the data as it is now, or None when there is no counter row."""
    row = session.execute(text("SELECT token, n FROM forecast_version WHERE id = 1")).first()
    return (row.token, row.n) if row is not None else None


class Kept:
    """What this process computed at a stamp, the `size` most recent entries, for any thread.
    A key of None (no stamp to go by) is never kept."""

    def __init__(self, size):
        self.size, self._entries, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            return self._entries.get(key) if key is not None else None

    def put(self, key, value):
        if key is None:
            return value
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value
