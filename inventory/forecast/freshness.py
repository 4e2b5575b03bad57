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

Which items changed: the same transaction writes, at the new counter value, one
`forecast_change` row per item it changed, so that a process holding the forecast at counter n
re-projects only the items changed since (`changed_items`). The items are found without the
writer's help where the ORM flushes objects: a stock level, request line or order line names its
item; a request or an order stands for the items of its lines (read at commit). Other writes to
those tables (a Core UPDATE, an INSERT ... ON CONFLICT, raw SQL) say which items they change
with `database.touching(ids)` around them (stock levels and lines only); undeclared, they count as
changing everything, as does any change to an event or a product (their names and dates show on
many items' flags). So a write nobody thought of is never missed: it only costs a full recompute.
A counter that starts again (its row deleted) empties the log, whose numbers would pass for its.

What the log cannot see is a write by another program straight to the database: it moves no
counter, so nothing notices it until the next change, and then only its items are projected.
services.current_flags therefore computes everything anyway when its last full computation is
over a minute old.
"""
import re
import secrets
import threading
from collections import OrderedDict

from sqlalchemy import bindparam, event, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..database import flushing, touched_items
from .models import ForecastChange

TRACKED = frozenset({"item", "product", "stock_level", "request", "request_line", "purchase_order",
                     "purchase_order_line", "event"})
_WRITE = re.compile(r'\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
# Rows that belong to one item each: what touching() may vouch for (and a new request's header row,
# which changes nothing by itself). A Core write to items, products, events or orders is everything.
_ITEM_ROWS = frozenset({"stock_level", "request_line", "purchase_order_line"})
# In Connection.info while its transaction has written to TRACKED: a Changes.
_CHANGES = "forecast_changes"
_CONNECTION = "forecast_connection"  # in Session.info: the connection of the session's transaction
# An upsert, so a database emptied by hand (or by the tests) gets its row back, with a new token.
# Both SQLite (3.35+) and PostgreSQL speak ON CONFLICT ... RETURNING. One statement text, built
# once: the token is a parameter, so PostgreSQL can prepare it and SQLAlchemy compiles it once.
_BUMP = text("INSERT INTO forecast_version (id, token, n) VALUES (1, :token, 1) "
             "ON CONFLICT (id) DO UPDATE SET n = forecast_version.n + 1 RETURNING n")
_LOG = insert(ForecastChange.__table__)
_LINES_OF = {  # a request or an order changed: the items of its lines
    "request": text("SELECT DISTINCT item_id FROM request_line WHERE request_id IN :ids")
    .bindparams(bindparam("ids", expanding=True)),
    "purchase_order": text("SELECT DISTINCT item_id FROM purchase_order_line WHERE order_id IN :ids")
    .bindparams(bindparam("ids", expanding=True)),
}
MAX_ITEMS = 500  # a transaction that changed more items than this is logged as "everything"
KEEP_LOG = 2_000  # counter steps of change log kept; a process further behind recomputes everything


class Changes:
    """What the open transaction has changed that the forecast reads."""
    __slots__ = ("items", "parents", "everything")

    def __init__(self):
        self.items, self.parents, self.everything = set(), {"request": set(), "purchase_order": set()}, False


def _changes(connection):
    changes = connection.info.get(_CHANGES)
    if changes is None:
        changes = connection.info[_CHANGES] = Changes()
    return changes


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(connection, _cursor, statement, _parameters, _context, _executemany):
    match = _WRITE.match(statement)
    table = match.group(2).lower() if match else None
    if table not in TRACKED:
        return
    changes = _changes(connection)
    if flushing.get():
        return  # the unit of work's: _collect sees its objects
    declared = touched_items.get()
    if declared is not None and (table in _ITEM_ROWS or
                                 (table == "request" and match.group(1).upper().startswith("INSERT"))):
        changes.items.update(declared)
    else:
        changes.everything = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget(connection):
    connection.info.pop(_CHANGES, None)


@event.listens_for(Session, "after_begin")
def _remember_connection(session, _transaction, connection):
    session.info[_CONNECTION] = connection


@event.listens_for(Session, "after_flush")
def _collect(session, flush_context):
    """The items behind the objects this flush wrote: every state the unit of work handled,
    including orphans it deleted (which never show in `session.deleted`). A state without an
    identity key here is one the flush inserted."""
    connection = session.info.get(_CONNECTION)
    if connection is None or connection.closed:
        return
    found = None
    for state, (deleted, list_only) in flush_context.states.items():
        table = getattr(state.class_, "__tablename__", None)
        if table not in TRACKED or list_only:
            continue
        if found is None:
            found = _changes(connection)
        obj = state.obj()
        if table in _ITEM_ROWS:
            found.items.add(obj.item_id)
            moved = state.attrs.item_id.history
            if moved.deleted:  # moved to another item: the old one changed too
                found.items.update(moved.deleted)
            elif moved.added and state.key is not None:
                found.everything = True  # moved from an item nobody loaded: which one is unknown
        elif table == "item":
            found.items.add(obj.id)
        elif state.key is None:
            continue  # a new request, order, event or product: what it holds comes as its own rows
        elif not deleted and not session.is_modified(obj, include_collections=False):
            continue  # only its list of lines changed: the lines come as their own rows
        elif table in found.parents and not deleted:
            found.parents[table].add(obj.id)
        else:  # events and products show on many flags; a deleted request takes its lines' rows along
            found.everything = True
    if found is not None:
        found.items.discard(None)


@event.listens_for(Session, "before_commit")
def _bump(session):
    if session.in_nested_transaction():
        return  # a savepoint: the outer commit bumps
    connection = session.info.get(_CONNECTION)
    if connection is None or connection.closed or not connection.in_transaction():
        return
    session.flush()  # the commit's own flush comes after this hook: write it now to see it
    changes = connection.info.pop(_CHANGES, None)
    if changes is None:
        return
    items = changes.items
    everything = changes.everything or sum(map(len, changes.parents.values())) > MAX_ITEMS
    if not everything:
        for table, ids in changes.parents.items():
            if ids and len(items) <= MAX_ITEMS:
                items.update(connection.execute(_LINES_OF[table], {"ids": list(ids)}).scalars())
    n = connection.execute(_BUMP, {"token": secrets.token_hex(8)}).scalar_one()
    if n == 1:  # a new counter (its row was deleted): the log of the old one means nothing now
        connection.execute(ForecastChange.__table__.delete())
    if everything or len(items) > MAX_ITEMS:
        rows = [{"n": n, "item_id": None, "everything": True}]
    else:
        rows = [{"n": n, "item_id": item_id, "everything": False} for item_id in items] or \
            [{"n": n, "item_id": None, "everything": False}]
    connection.execute(_LOG, rows)
    if n % 100 == 0:
        connection.execute(ForecastChange.__table__.delete().where(ForecastChange.n <= n - KEEP_LOG))


def stamp(session):
    """(token, counter) of the data as it is now, or None when there is no counter row."""
    row = session.execute(text("SELECT token, n FROM forecast_version WHERE id = 1")).first()
    return (row.token, row.n) if row is not None else None


def changed_items(session, since, until):
    """The ids of the items changed after counter `since` up to `until`, or None when that
    cannot be told (something changed everything, or the log no longer reaches back that far,
    or a writer outside a Session bumped the counter without saying what changed)."""
    rows = session.execute(select(ForecastChange.n, ForecastChange.item_id, ForecastChange.everything)
                           .where(ForecastChange.n > since, ForecastChange.n <= until)).all()
    if len({row.n for row in rows}) != until - since or any(row.everything for row in rows):
        return None
    return {row.item_id for row in rows if row.item_id is not None}


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
