"""The reorder alert digest: one e-mail per run, to the alert recipients (ALERT_RECIPIENTS and
the managers who opted in), about what changed.

The digest reads the stored flags (forecast/stored.py), projected again for today first, so it
says what the Reorders page says. Planned flags (a shortfall whose order-by date is beyond the
warning window) are not e-mailed until they become "order soon".

An item (per event) is alerted once per situation: again only when its status gets worse than
the one last sent, and once more, as "resolved", when it is no longer flagged (its Alert row is
then cleared, so a comeback is news again). The whole run happens in one write transaction
that first locks the `send-alerts` row of JobLock, so two hosts (or two cron runs) never queue
the same digest: the second waits, then finds nothing new.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from urllib.parse import urlencode

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..catalog.models import Item
from ..database import unit_of_work
from ..events.models import Event
from ..forecast import stored
from ..forecast.models import PLANNED, RETIRING, STATUS_LABELS, URGENCY, ReorderFlag
from ..forecast.timing import settings_from
from . import preferences
from .models import Alert, JobLock, OutboxMessage
from .services import MailNotConfigured, base_url, enqueue

JOB = "send-alerts"


@dataclass
class DigestLine:
    flag: ReorderFlag
    previous_status: str | None
    po_url: str | None  # what to do about it: raise a PO, open the draft, or (None) nothing to order
    item_url: str
    action: str = "Raise the purchase order"

    @property
    def previous_label(self) -> str | None:
        return STATUS_LABELS.get(self.previous_status) if self.previous_status else None


@dataclass
class ResolvedLine:
    item: Item
    event: Event | None
    item_url: str


def lock_job(session: Session, name: str) -> JobLock:
    """Take the job's row lock for the rest of the transaction (FOR UPDATE on PostgreSQL; on
    SQLite the write transaction, begun IMMEDIATE, already excludes other writers)."""
    locked = session.scalars(select(JobLock).where(JobLock.name == name).with_for_update()).first()
    if locked is not None:
        return locked
    try:
        with session.begin_nested():
            session.add(JobLock(name=name))
    except IntegrityError:  # another host inserted it first: wait for its lock instead
        pass
    return session.scalars(select(JobLock).where(JobLock.name == name).with_for_update()).one()


def _action(base: str, flag: ReorderFlag) -> tuple[str, str]:
    """(what to do, its link) for a flag: open its draft, raise a PO, or look at the item."""
    draft = next((o for o in flag.orders if o["status"] == "draft"), None)
    if draft is not None:
        return "Open the draft", f"{base}/purchase-orders/{draft['id']}"
    if flag.kind == RETIRING or not flag.suggested_quantity:
        return "See the item", f"{base}/i/{flag.item.sku}"
    return "Raise the purchase order", _po_url(base, flag)


def _po_url(base: str, flag: ReorderFlag) -> str:
    query: list[tuple[str, str | int]] = [("supplier", flag.item.supplier),
                                          ("line", f"{flag.item.sku}:{flag.suggested_quantity}")]
    if flag.event is not None:
        query.append(("event_id", flag.event.id))
    return f"{base}/purchase-orders/new?{urlencode(query)}"


def _subject(today: date, groups: list[tuple[Event | None, list[DigestLine]]], resolved: list[ResolvedLine]) -> str:
    flags = [line.flag for _event, lines in groups for line in lines]
    if not flags:
        return f"Reorders: {len(resolved)} item{'s' if len(resolved) != 1 else ''} resolved"
    count = f"{len(flags)} item{'s' if len(flags) != 1 else ''}"
    names = [event.name if event else "general stock" for event, _lines in groups]
    where = names[0] if len(names) == 1 else (" and ".join(names) if len(names) == 2 else f"{len(names)} events")
    ordering = [flag for flag in flags if flag.kind != RETIRING]
    if not ordering:
        return f"Retire soon: {count} near their do-not-use-after date"
    earliest = min(flag.order_by for flag in ordering)
    if earliest < today:
        return f"Expedite: {count} for {where} (order-by passed {earliest.day} {earliest:%b})"
    return f"Order by {earliest.day} {earliest:%b}: {count} for {where}"


def digest_recipients(session: Session, config: Mapping) -> list[str]:
    """ALERT_RECIPIENTS, then the managers who opted in on their profile, each address once."""
    recipients: list[str] = []
    seen: set[str] = set()
    for address in [*(config.get("ALERT_RECIPIENTS") or []), *preferences.subscribers(session, "reorder_digest")]:
        if address.lower() not in seen:
            seen.add(address.lower())
            recipients.append(address)
    return recipients


# The digest's other way out, inside its transaction: (session, subject, groups, resolved, reorders
# URL) -> how many messages it queued. chat/digest.py gives one for the chat channels; mail does
# not import chat (chat reads mail), so the command hands it in.
DigestSink = Callable[[Session, str, list[tuple[Event | None, list[DigestLine]]], list[ResolvedLine], str], int]


@unit_of_work
def queue_reorder_digest(session: Session, config: Mapping, today: date, now: datetime,
                         also: DigestSink | None = None, email: bool = True) -> OutboxMessage | None:
    """Queue at most one digest of new, worse and resolved reorder flags: the e-mail (unless
    `email` is false) and, with `also`, whatever else takes it (the chat channels), in the same
    transaction as the alerts it records. Returns the e-mail, or None (nothing new, or no e-mail).

    Raises MailNotConfigured when there is nobody to send it to or no BASE_URL for its links.
    """
    recipients = digest_recipients(session, config) if email else []
    if not recipients and also is None:
        raise MailNotConfigured("Nobody receives reorder alerts: set ALERT_RECIPIENTS (comma-separated addresses), "
                                "or have a manager turn on the reorder digest on their profile page.")
    base = base_url(config)
    job = lock_job(session, JOB)
    # The date moving on changes flags too: project everything for today first, in this
    # transaction, then read the stored flags the pages show.
    stored.project_all(session, today, settings_from(config))
    flags = stored.flags(session)
    previous = {(alert.item_id, alert.event_id, alert.kind): alert for alert in session.scalars(select(Alert))}
    current: set[tuple[int, int | None, str]] = set()
    news: list[DigestLine] = []
    new_alerts: list[dict[str, Any]] = []
    for flag in flags:  # most urgent first: the first flag per (item, event) is the one that counts
        key = (flag.item.id, flag.event.id if flag.event else None,
               "retire" if flag.kind == RETIRING else "stock")
        if key in current:
            continue
        current.add(key)
        alert = previous.get(key)
        if flag.status == PLANNED:
            continue  # known, and shown on the pages; e-mailed once its order-by date comes near
        if alert is not None and URGENCY[flag.status] >= URGENCY.get(alert.status, 99):
            continue
        action, url = _action(base, flag)
        news.append(DigestLine(flag, alert.status if alert else None, url, f"{base}/i/{flag.item.sku}", action))
        if alert is None:
            new_alerts.append(dict(item_id=key[0], event_id=key[1], kind=key[2], status=flag.status, sent_at=now))
        else:
            alert.status, alert.sent_at = flag.status, now
    if new_alerts:  # one multi-row INSERT, not one per flag: a first run may flag thousands
        session.execute(insert(cast(Table, Alert.__table__)), new_alerts)
    gone = [alert for key, alert in previous.items() if key not in current]
    if gone:  # load what the resolved lines name in two queries; session.get below finds them loaded
        session.scalars(select(Item).where(Item.id.in_({alert.item_id for alert in gone}))).all()
        session.scalars(select(Event).where(Event.id.in_({a.event_id for a in gone if a.event_id}))).all()
    resolved: list[ResolvedLine] = []
    for key, alert in sorted(previous.items(), key=lambda pair: (pair[0][1] or 0, pair[0][0])):
        if key in current:
            continue
        item = session.get(Item, alert.item_id)
        assert item is not None  # alert.item_id is a foreign key to the item
        resolved.append(ResolvedLine(item, session.get(Event, alert.event_id) if alert.event_id else None,
                                     f"{base}/i/{item.sku}"))
        session.delete(alert)
    job.last_run_at = now
    if not news and not resolved:
        return None
    lines_by_flag = {id(line.flag): line for line in news}
    groups = [(event, [lines_by_flag[id(f)] for f in group if id(f) in lines_by_flag])
              for event, group in stored.by_event([line.flag for line in news])]
    subject = _subject(today, groups, resolved)
    if also is not None:
        also(session, subject, groups, resolved, f"{base}/reorders")
    if not recipients:
        return None
    return enqueue(session, recipients, subject, "reorder_digest",
                   {"groups": groups, "resolved": resolved, "today": today,
                    "reorders_url": f"{base}/reorders"}, kind="reorder_digest")


__all__ = ["queue_reorder_digest", "lock_job", "MailNotConfigured"]
