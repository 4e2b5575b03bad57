"""Service level: of the requests due in a period, the share handed over in full and on time."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..auth.models import User
from ..events.models import Event
from ..requests.models import Request, RequestLine, RequestStep, request_number
from .common import by_id, standing
from .periods import Period

# Requests that did not go ahead: no usage, and not owed a delivery (service level).
NOT_GOING_AHEAD = ("cancelled", "rejected")


@dataclass
class Delivery:
    """One request due in the period and how it was served."""
    request_id: int
    needed_by: date
    status: str
    requester: User
    event: Event | None
    handed_at: datetime | None
    asked: int
    issued: int
    short_lines: int

    @property
    def number(self) -> str:
        return request_number(self.request_id)

    @property
    def late(self) -> bool:
        return self.handed_at is not None and self.handed_at.date() > self.needed_by

    @property
    def in_full(self) -> bool:
        return self.handed_at is not None and self.short_lines == 0

    @property
    def met(self) -> bool:
        return self.in_full and not self.late

    @property
    def reasons(self) -> list[str]:
        """Why a miss is a miss, in words."""
        if self.handed_at is None:
            return [f"not handed over (needed by {self.needed_by:%-d %b %Y})"]
        reasons = []
        if self.late:
            reasons.append(f"late: handed over {self.handed_at:%-d %b %Y}, needed by {self.needed_by:%-d %b %Y}")
        if self.short_lines:
            reasons.append(f"short: {self.issued} of {self.asked} units handed over")
        return reasons


@dataclass
class ServiceLevel:
    due: int = 0        # requests counted: handed over, or overdue
    met: int = 0        # handed over in full on or before their needed-by day
    late: int = 0
    short: int = 0
    not_handed_over: int = 0
    pending: int = 0    # needed by today or later and not handed over yet: not counted
    misses: list = field(default_factory=list)       # [Delivery] not met
    deliveries: list = field(default_factory=list)   # [(Delivery, "met" | "missed" | "pending")]

    @property
    def share(self) -> float | None:
        """The share met, 0..1, or None when nothing was due."""
        return self.met / self.due if self.due else None

    @property
    def percent(self) -> int | None:
        """The share met in whole per cent, rounded down (199 of 200 is 99, never 100), or None."""
        return self.met * 100 // self.due if self.due else None


def service_level(session: Session, period: Period, today: date) -> ServiceLevel:
    """Of the requests needed by a day in the period (cancelled and rejected ones left out), the
    share handed over in full (every line handed over at the quantity asked, after any change
    the manager made before approving) on or before their needed-by day. A request not handed
    over yet counts as a miss once its needed-by day has passed; until then it is pending.
    One query for the requests, one for the names."""
    due = select(Request.id).where(Request.needed_by >= period.first, Request.needed_by <= period.last,
                                   Request.status.not_in(NOT_GOING_AHEAD))
    handed = (
        select(RequestStep.request_id.label("request_id"), func.min(RequestStep.at).label("handed_at"))
        .where(RequestStep.action == "handed_over", RequestStep.request_id.in_(due), standing())
        .group_by(RequestStep.request_id)
        .subquery()
    )
    rows = session.execute(
        select(Request.id, Request.needed_by, Request.status, Request.requester_id, Request.event_id,
               handed.c.handed_at, func.sum(RequestLine.quantity), func.sum(RequestLine.issued),
               func.sum(case((RequestLine.issued < RequestLine.quantity, 1), else_=0)))
        .select_from(Request)
        .join(RequestLine, RequestLine.request_id == Request.id)
        .outerjoin(handed, handed.c.request_id == Request.id)
        .where(Request.id.in_(due))
        .group_by(Request.id, Request.needed_by, Request.status, Request.requester_id, Request.event_id,
                  handed.c.handed_at)
        .order_by(Request.needed_by, Request.id)
    ).all()
    users = by_id(session, User, {row[3] for row in rows})
    events = by_id(session, Event, {row[4] for row in rows})
    level = ServiceLevel()
    for request_id, needed_by, status, requester_id, event_id, handed_at, asked, issued, short_lines in rows:
        delivery = Delivery(request_id, needed_by, status, users[requester_id], events.get(event_id), handed_at,
                            int(asked or 0), int(issued or 0), int(short_lines or 0))
        if handed_at is None and needed_by >= today:
            level.pending += 1
            level.deliveries.append((delivery, "pending"))
            continue
        level.due += 1
        if delivery.met:
            level.met += 1
            level.deliveries.append((delivery, "met"))
            continue
        level.misses.append(delivery)
        level.deliveries.append((delivery, "missed"))
        if handed_at is None:
            level.not_handed_over += 1
        else:
            level.late += delivery.late
            level.short += bool(delivery.short_lines)
    return level
