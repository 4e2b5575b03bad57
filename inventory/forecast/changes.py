"""What a transaction changed that the forecast reads: the rules say so, by name.

A rule that changes an item's supply or demand (stock, a request or its lines, a purchase order
or its lines, the item's own settings) calls `items_changed`; one that changes an event's dates
calls `events_changed`. Just before the transaction commits, forecast/stored.py projects those
items again and writes their flags, in the same transaction, so the flags commit with the
change. This module imports nothing of the domain, so any rule can call it.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the hints only: at run time this module imports nothing
    from ..database import SessionLike

_ITEMS, _EVENTS, _LOCKED = "forecast_items", "forecast_events", "forecast_locked"


def items_changed(session: SessionLike, item_ids: Iterable[int | None]) -> None:
    """The supply or demand of these items changes in the session's open transaction."""
    session.info.setdefault(_ITEMS, set()).update(i for i in item_ids if i is not None)


def events_changed(session: SessionLike, event_ids: Iterable[int | None]) -> None:
    """These events change (their dates or name): every item they ask for is projected again."""
    session.info.setdefault(_EVENTS, set()).update(i for i in event_ids if i is not None)


def everything_changed(session: SessionLike) -> None:
    """Too much changed to say (an import of the catalog): project every item again."""
    session.info["forecast_everything"] = True


def take(session: SessionLike) -> tuple[set[int], set[int], bool]:
    """(item ids, event ids, everything) marked so far, and forget them."""
    return (session.info.pop(_ITEMS, set()), session.info.pop(_EVENTS, set()),
            session.info.pop("forecast_everything", False))


def note_locked(session: SessionLike, item_ids: Iterable[int]) -> None:
    """These items' rows are locked in the open transaction (holds/locks.lock_items)."""
    session.info.setdefault(_LOCKED, set()).update(item_ids)


def locked(session: SessionLike) -> set[int]:
    return session.info.get(_LOCKED, set())


def reset(session: SessionLike) -> None:
    """The transaction ended: forget what it marked and locked."""
    take(session)
    session.info.pop(_LOCKED, None)
