"""Which piece replaces which: the checks on naming an item's successor (Item.replaced_by).

A print piece names the piece that takes over when it may no longer be used (next year's
brochure, a new design). The successor must be in the catalog, must not be archived, must not
be the item itself, and following successors from it must never lead back to the item (A→B→A):
a swap moves what holds A onto B, and a circle would send it back again. The item edit page and
the item import both check through here; swapping the successor in is
requests/successors.py.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import aliased

from ..database import SessionLike
from ..errors import InvalidInput
from .models import Item, normalize_sku

# The form box (and import column) a refusal is about, for put_next_to_its_box.
ABOUT = (None, "replaced_by")
# Any fixed number: the key of the PostgreSQL advisory lock that serializes successor changes.
_SUCCESSOR_LOCK = 0x53554343


def lock_successor_changes(session: SessionLike) -> None:
    """Serialize every change of successors until the transaction ends. Two managers naming
    A→B and B→A at the same instant each see no circle under READ COMMITTED, so on PostgreSQL
    they take turns on an advisory lock (rare writes: one lock for all of them is plenty); on
    SQLite the write transaction's BEGIN IMMEDIATE already serializes writers."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SUCCESSOR_LOCK})


def circle(sku: str, successor_sku: str | None, successor_of: Callable[[str], str | None]) -> list[str] | None:
    """The SKUs [sku, successor_sku, ..., sku] when naming `successor_sku` as the successor of
    `sku` would go round in a circle, else None. `successor_of(a_sku)` is that SKU's successor's
    SKU (or None), as it will be."""
    path, current = [sku], successor_sku
    while current is not None:
        path.append(current)
        if current == sku:
            return path
        if current in path[:-1]:
            return None  # a circle that does not pass through `sku`: not this change's doing
        current = successor_of(current)
    return None


def circle_message(path: Sequence[str]) -> str:
    return f"That would go round in a circle ({' → '.join(path)}): a piece cannot replace one that replaces it."


def _successor_sku_in_catalog(session: SessionLike) -> Callable[[str], str | None]:
    successor = aliased(Item)
    statement = (select(successor.sku).select_from(Item).join(successor, Item.replaced_by_id == successor.id)
                 .where(Item.sku == bindparam("sku")))
    return lambda sku: session.scalar(statement, {"sku": sku})


def check_successor(session: SessionLike, item: Item, sku: str | None) -> Item | None:
    """The item that `sku` names as the successor of `item`, or None for an empty box. Inside a
    write transaction: takes lock_successor_changes first. Refusals are InvalidInput about the
    "replaced_by" box. A successor that is already the item's own stays, whatever became of it
    since (archived, say), so that editing another setting never trips over it."""
    sku = normalize_sku(sku)
    if not sku:
        return None
    if item.replaced_by is not None and item.replaced_by.sku == sku:
        return item.replaced_by
    lock_successor_changes(session)
    successor = session.scalar(select(Item).where(Item.sku == sku))
    if successor is None:
        raise InvalidInput(f"No item has the SKU {sku}." if "\x00" not in sku else "No item has that SKU.",
                           about=ABOUT)
    if successor.id == item.id:
        raise InvalidInput(f"{item.sku} cannot replace itself: name the piece that takes over from it.",
                           about=ABOUT)
    if successor.archived:
        raise InvalidInput(f"{successor.sku} is archived: restore it first, or name another piece.", about=ABOUT)
    path = circle(item.sku, successor.sku, _successor_sku_in_catalog(session))
    if path:
        raise InvalidInput(circle_message(path), about=ABOUT)
    return successor
