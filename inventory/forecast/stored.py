"""The stored reorder flags: one table (`reorder_flag`) that the Reorders page, the event pages,
the API and the digest read, so that every page and every app host says the same thing.

Kept current three ways:
- **In the writer's transaction.** Rules say which items (or events) they change
  (forecast/changes.py; locking items for a change says so too). Just before that transaction
  commits, `_reproject` projects those items again and replaces their rows, so the flags commit
  with the change, or roll back with it. On PostgreSQL the items' rows are locked first (in id
  order; those the rule locked already are not locked again), so two writers of one item
  re-project one after the other, each seeing what the other committed.
- **When the day moves on.** The flags depend on today (order-by dates pass, needs come
  closer). `forecast_state` says which day and settings they were projected for; the first
  read on another day (`current`) projects everything again under that row's lock, as does
  `send-alerts`. A writer on a new day re-projects its own items for the new day.
- **On demand.** `flask --app inventory forecast-refresh` projects everything again; `flask
  --app inventory check` says whether the stored flags are what a fresh projection finds.

A full projection locks every item on PostgreSQL (in id order, as writers lock theirs), so a
writer's change is never overwritten by a projection that started before it committed.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, cast

from flask import current_app, has_app_context
from sqlalchemy import Select, Table, delete, event, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction, joinedload

from .. import timeutil
from ..catalog.models import Item, Product
from ..database import unit_of_work
from ..errors import Busy
from ..requests.models import Request, RequestLine
from . import changes, projection
from .loading import MAX_IN_LIST
from .models import ForecastState, ReorderFlag
from .results import Flag
from .timing import Settings, settings_from

if TYPE_CHECKING:
    from ..events.models import Event

logger = logging.getLogger(__name__)
_CHUNK = 500  # ids per IN list when deleting rows of many items


def settings() -> Settings:
    return settings_from(current_app.config) if has_app_context() else Settings()


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _state(session: Session, lock: bool = False) -> ForecastState:
    query = select(ForecastState).where(ForecastState.id == 1)
    if lock:
        query = query.with_for_update()
    state = session.scalars(query).first()
    if state is None:  # an emptied database (tests) or a hand-made one
        state = ForecastState(id=1, settings="")
        session.add(state)
        session.flush()
    return state


def _lock_items(session: Session, item_ids: Iterable[int] | None = None) -> None:
    """Row locks on these items (every item when None), in id order, on PostgreSQL: FOR NO KEY
    UPDATE, as holds/locks.lock_items takes them, which a foreign key's key-share lock
    (a new order line of the item, written earlier in the transaction) does not block."""
    if not _is_postgresql(session):
        return
    locked = changes.locked(session)
    if item_ids is None:
        session.execute(select(Item.id).order_by(Item.id).with_for_update(key_share=True)).all()
        return
    wanted = sorted(set(item_ids) - locked)
    for start in range(0, len(wanted), _CHUNK):
        session.execute(select(Item.id).where(Item.id.in_(wanted[start:start + _CHUNK])).order_by(Item.id)
                        .with_for_update(key_share=True)).all()
    changes.note_locked(session, wanted)


def _write(session: Session, flags: Sequence[Flag], item_ids: Collection[int] | None = None) -> None:
    """Replace the rows of these items (all rows when None) by `flags`."""
    if item_ids is None:
        session.execute(delete(ReorderFlag))
    elif item_ids:
        ids = sorted(item_ids)
        for start in range(0, len(ids), _CHUNK):
            session.execute(delete(ReorderFlag).where(ReorderFlag.item_id.in_(ids[start:start + _CHUNK])))
    if flags:
        now = timeutil.utcnow()
        # Core on the table (one executemany), not the ORM bulk path (batches of INSERT ... VALUES).
        session.execute(insert(cast(Table, ReorderFlag.__table__)), [flag.row(now) for flag in flags])


def lock_everything(session: Session) -> None:
    """Before a change of many items (a catalog import): the state row, then every item, as a
    full projection takes them, so that the projection at its commit never waits on a writer
    that waits on it."""
    _state(session, lock=True)
    _lock_items(session)


def project_all(session: Session, today: date | None = None, settings_: Settings | None = None) -> list[Flag]:
    """Project every item again and store its flags, inside the caller's write transaction."""
    today, settings_ = today or timeutil.today(), settings_ or settings()
    state = _state(session, lock=True)
    _lock_items(session)
    flags = projection.compute(session, today, settings_)
    _write(session, flags)
    state.as_of, state.settings, state.computed_at = today, settings_.key, timeutil.utcnow()
    session.flush()
    changes.take(session)  # whatever was marked is projected now
    return flags


@unit_of_work
def refresh(session: Session, today: date | None = None, settings_: Settings | None = None) -> int:
    """Project everything again (the command, send-alerts); the number of flags."""
    return len(project_all(session, today, settings_))


def current(session: Session, today: date | None = None, settings_: Settings | None = None) -> date | None:
    """Make sure the stored flags are for today (and these settings): the first read of a new
    day projects everything again. Returns the day they are for."""
    today, settings_ = today or timeutil.today(), settings_ or settings()
    row = session.execute(select(ForecastState.as_of, ForecastState.settings).where(ForecastState.id == 1)).first()
    if row is not None and row.as_of == today and row.settings == settings_.key:
        return today
    try:
        _project_for(session, today, settings_)
    except (DBAPIError, Busy):
        # The database takes no writes (read-only, full disk), or other writers kept it busy: show the flags as they are, for the
        # day they say (the Reorders page prints it), rather than no page at all.
        logger.warning("The reorder flags could not be projected for %s; showing those of %s.", today,
                       row.as_of if row is not None else "no day")
        return row.as_of if row is not None else None
    return today


@unit_of_work
def _project_for(session: Session, today: date, settings_: Settings) -> None:
    state = _state(session, lock=True)
    if not (state.as_of == today and state.settings == settings_.key):  # another host may have just done it
        project_all(session, today, settings_)


def reproject(session: Session, item_ids: Iterable[int], today: date | None = None,
              settings_: Settings | None = None) -> None:
    """Project these items again and replace their rows, inside the caller's transaction."""
    item_ids = set(item_ids)
    if not item_ids:
        return
    today, settings_ = today or timeutil.today(), settings_ or settings()
    _lock_items(session, item_ids)
    flags, flagged = projection.compute_and_flagged(session, today, settings_, item_ids=sorted(item_ids))
    # Only the items that have rows lose them (mostly none: nothing to delete, no statement).
    _write(session, flags, flagged & item_ids if len(item_ids) <= MAX_IN_LIST else item_ids)


def _items_of_events(session: Session, event_ids: Iterable[int]) -> set[int]:
    return set(session.scalars(select(RequestLine.item_id).join(Request, RequestLine.request_id == Request.id)
                               .where(Request.event_id.in_(event_ids)).distinct()))


@event.listens_for(Session, "before_commit")
def _reproject(session: Session) -> None:
    if session.in_nested_transaction():
        return
    items, events, everything = changes.take(session)
    if not (items or events or everything):
        return
    session.flush()  # the commit's own flush comes after this hook: write what is pending now
    items |= changes.take(session)[0]
    if everything:
        project_all(session)
        return
    if events:
        items |= _items_of_events(session, events)
    reproject(session, items)
    changes.take(session)


@event.listens_for(Session, "after_transaction_end")
def _done(session: Session, transaction: SessionTransaction) -> None:
    """The session's transaction ended (committed, its flags with it; or rolled back): forget
    what it marked. A savepoint ending leaves the marks for its transaction's commit."""
    if transaction.parent is None and not transaction.nested:
        changes.reset(session)


# Reading -----------------------------------------------------------------------------------------

def _with_relations(query: Select[tuple[ReorderFlag]]) -> Select[tuple[ReorderFlag]]:
    return query.options(joinedload(ReorderFlag.item).joinedload(Item.product), joinedload(ReorderFlag.event))


_ORDER = (ReorderFlag.rank, ReorderFlag.order_by, ReorderFlag.id)


def flags(session: Session, statuses: Iterable[str] | None = None) -> Sequence[ReorderFlag]:
    """Every stored flag, most urgent first, with its item (and product) and event loaded."""
    query = select(ReorderFlag)
    if statuses is not None:
        query = query.where(ReorderFlag.status.in_(statuses))
    return session.scalars(_with_relations(query.order_by(*_ORDER))).unique().all()


def page_of_flags(session: Session, page: int, per_page: int) -> Sequence[ReorderFlag]:
    return session.scalars(_with_relations(select(ReorderFlag).order_by(*_ORDER)
                                           .offset((page - 1) * per_page).limit(per_page))).unique().all()


def counts(session: Session) -> dict[str, int]:
    """{status: how many flags}."""
    return dict(session.execute(select(ReorderFlag.status, func.count()).group_by(ReorderFlag.status)).tuples().all())


def event_flags(session: Session, event_id: int) -> Sequence[ReorderFlag]:
    return session.scalars(_with_relations(select(ReorderFlag).where(ReorderFlag.event_id == event_id)
                                           .order_by(*_ORDER))).unique().all()


def item_flags(session: Session, item_id: int) -> Sequence[ReorderFlag]:
    return session.scalars(_with_relations(select(ReorderFlag).where(ReorderFlag.item_id == item_id)
                                           .order_by(*_ORDER))).unique().all()


def as_rows(session: Session, computed: Iterable[Flag]) -> list[ReorderFlag]:
    """Computed flags (results.Flag) as unsaved ReorderFlag rows with their items and events
    loaded: what a page shows for a day other than the stored one (the API's ?today=)."""
    from ..events.models import Event
    item_ids = {flag.item_id for flag in computed}
    event_ids = {flag.event_id for flag in computed if flag.event_id}
    items = {item.id: item for item in session.scalars(
        select(Item).where(Item.id.in_(item_ids)).options(joinedload(Item.product)))} if item_ids else {}
    events = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(event_ids)))} if event_ids else {}
    rows: list[ReorderFlag] = []
    for flag in sorted(computed, key=lambda f: (f.rank, f.order_by)):
        values = flag.row(timeutil.utcnow())
        values["stored_reason"] = values.pop("reason")
        row = ReorderFlag(**values)
        row.item = items[flag.item_id]
        row.event = events.get(flag.event_id) if flag.event_id is not None else None
        rows.append(row)
    return rows


def drift(session: Session, today: date | None = None, settings_: Settings | None = None) -> set[int] | None:
    """Items whose stored flags differ from what a fresh projection finds (for `check`), or
    None when the flags are for another day (the next read projects them again anyway)."""
    today, settings_ = today or timeutil.today(), settings_ or settings()
    state = session.execute(select(ForecastState.as_of, ForecastState.settings).where(ForecastState.id == 1)).first()
    if state is None or state.as_of != today or state.settings != settings_.key:
        return None
    fresh: dict[tuple[int, int | None, str], Flag] = {}
    for flag in projection.compute(session, today, settings_):
        fresh.setdefault((flag.item_id, flag.event_id, flag.kind), flag)
    stored: dict[tuple[int, int | None, str], ReorderFlag] = {}
    for row in session.scalars(select(ReorderFlag)):
        stored.setdefault((row.item_id, row.event_id, row.kind), row)
    differ = {key[0] for key in fresh.keys() ^ stored.keys()}
    differ |= {key[0] for key in fresh.keys() & stored.keys() if not fresh[key].same_as(stored[key])}
    return differ


def by_event(flags: Collection[ReorderFlag]) -> list[tuple[Event | None, list[ReorderFlag]]]:
    """[(event or None, [flags])]: events in date order, general stock last."""
    groups: defaultdict[int | None, list[ReorderFlag]] = defaultdict(list)
    for flag in flags:
        groups[flag.event.id if flag.event else None].append(flag)
    events = {flag.event.id: flag.event for flag in flags if flag.event}
    ordered = sorted((e for e in groups if e is not None), key=lambda e: (events[e].ship_by, e))
    return [(events[e], groups[e]) for e in ordered] + ([(None, groups[None])] if None in groups else [])


def item_names(session: Session, item_ids: Iterable[int]) -> dict[int, str]:
    """{item id: display name}, in one query."""
    if not item_ids:
        return {}
    return {row.id: Item.display_name(row.product, row.size) for row in session.execute(
        select(Item.id, Item.size, Product.name.label("product")).join(Product, Item.product_id == Product.id)
        .where(Item.id.in_(item_ids)))}


__all__ = ["current", "refresh", "reproject", "flags", "event_flags", "item_flags", "drift"]
