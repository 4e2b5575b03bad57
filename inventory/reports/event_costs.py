"""Cost per event: what each event's requests (kits included) handed over in the period issued,
what came back, what was lost, and what that cost (definitions in reports/usage.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..events.models import Event, KitTemplate
from ..requests.models import Request
from .common import ZERO, by_id
from .periods import Period
from .usage import Usage, UsageReport, handed_over, request_counts, usage_lines


@dataclass
class EventUsage:
    event: Event | None          # None: requests not linked to any event
    usage: Usage = field(default_factory=Usage)
    kit_cost: Decimal = ZERO     # the part of the cost from kits reserved for the event
    kits: list[tuple[KitTemplate, int]] = field(default_factory=list)   # [(KitTemplate, kits handed over)]

    @property
    def name(self) -> str:
        return self.event.name if self.event else "Not for an event"


def usage_by_event(session: Session, period: Period) -> UsageReport[EventUsage]:
    """Per event: what its requests (kits included) handed over in the period issued, what came
    back, what was lost, and what that cost, of which how much in kits. Events by start date;
    requests for no event last."""
    handed = handed_over(period)
    keys = [Request.event_id, Request.kit_id]
    rows: dict[int | None, EventUsage] = {}   # event id (None: no event) -> its usage
    total = Usage()
    for row in usage_lines(session, handed, keys):
        event_id, kit_id, unit_cost, returnable, *counts = row
        counts = [int(c or 0) for c in counts]
        entry = rows.setdefault(event_id, EventUsage(None))
        before = entry.usage.cost
        entry.usage.add_line(unit_cost, returnable, *counts)
        total.add_line(unit_cost, returnable, *counts)
        if kit_id is not None:
            entry.kit_cost += entry.usage.cost - before
    for (event_id,), count in request_counts(session, handed, [Request.event_id]).items():
        rows.setdefault(event_id, EventUsage(None)).usage.requests = count
    total.requests = request_counts(session, handed, []).get((), 0)
    kit_rows = session.execute(
        select(Request.event_id, Request.kit_id, func.sum(Request.kit_count))
        .join(handed, handed.c.request_id == Request.id)
        .where(Request.kit_id.is_not(None))
        .group_by(Request.event_id, Request.kit_id)
    ).all()
    events = by_id(session, Event, rows)
    kits = by_id(session, KitTemplate, {kit_id for _e, kit_id, _n in kit_rows})
    for event_id, kit_id, count in kit_rows:
        if event_id in rows:
            rows[event_id].kits.append((kits[kit_id], int(count or 0)))
    for event_id, entry in rows.items():
        entry.event = events.get(event_id) if event_id is not None else None  # None: requests for no event
        entry.kits.sort(key=lambda pair: pair[0].name)
    ordered = sorted(rows.values(), key=lambda e: (e.event is None, e.event.starts_on if e.event else date.min,
                                                     e.event.id if e.event else 0))
    return UsageReport(ordered, total)
