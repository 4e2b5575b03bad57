"""What a transaction changed that the forecast reads: the rules say so, by name.

A rule that changes an item's supply or demand (stock, a request or its lines, a purchase order
or its lines, the item's own settings) calls `items_changed`; one that changes an event's dates
calls `events_changed`. Just before the transaction commits, forecast/stored.py projects those
items again and writes their flags, in the same transaction, so the flags commit with the
change. This module imports nothing of the domain, so any rule can call it.
"""
_ITEMS, _EVENTS, _LOCKED = "forecast_items", "forecast_events", "forecast_locked"


def items_changed(session, item_ids):
    """The supply or demand of these items changes in the session's open transaction."""
    session.info.setdefault(_ITEMS, set()).update(i for i in item_ids if i is not None)


def events_changed(session, event_ids):
    """These events change (their dates or name): every item they ask for is projected again."""
    session.info.setdefault(_EVENTS, set()).update(i for i in event_ids if i is not None)


def everything_changed(session):
    """Too much changed to say (an import of the catalog): project every item again."""
    session.info["forecast_everything"] = True


def take(session):
    """(item ids, event ids, everything) marked so far, and forget them."""
    return (session.info.pop(_ITEMS, set()), session.info.pop(_EVENTS, set()),
            session.info.pop("forecast_everything", False))


def note_locked(session, item_ids):
    """These items' rows are locked in the open transaction (holds/locks.lock_items)."""
    session.info.setdefault(_LOCKED, set()).update(item_ids)


def locked(session):
    return session.info.get(_LOCKED, set())


def reset(session):
    """The transaction ended: forget what it marked and locked."""
    take(session)
    session.info.pop(_LOCKED, None)
