"""Locks on items: reservations are serialized per item (the second in the global lock order of
inventory/database.py, after the document)."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select

from ..catalog.models import Item
from ..database import SessionLike
from ..forecast.changes import items_changed, note_locked

_item = Item.__table__
# FOR NO KEY UPDATE: it excludes other lockers of the item, but not the key-share lock that a
# foreign key takes (a new request line, order line or stock level row of the item), so a
# transaction that wrote such a row first and locks the item after never deadlocks on it.
_LOCK_ITEMS = (select(_item.c.id).where(_item.c.id.in_(bindparam("ids", expanding=True))).order_by(_item.c.id)
               .with_for_update(key_share=True))


def lock_items(session: SessionLike, item_ids: Iterable[int]) -> None:
    """Serialize reservations per item: row locks on PostgreSQL (in id order, so two
    transactions never deadlock); on SQLite the write transaction's BEGIN IMMEDIATE already
    serializes writers, so no statement is sent there (it would lock nothing).

    Items come second in the global lock order (inventory/database.py): lock every item a rule
    touches here, in one call where it can, before writing any of their stock levels (by (item,
    bin), stock.booking.lock_levels) or request lines."""
    ids = sorted(set(item_ids))
    items_changed(session, ids)  # locked to be changed: the forecast projects them again at commit
    if ids and session.get_bind().dialect.name != "sqlite":
        session.connection().execute(_LOCK_ITEMS, {"ids": ids}).all()
        note_locked(session, ids)
