"""What each event is expected to cost, against its budget: what its requests (kits included)
hold, wait for and handed over, valued by the one value rule (values.py) in one SQL sum grouped
by event, as spend.py sums a team's. Cancelled and rejected requests count nothing.

The event page, the Reports' events table and the events JSON of the API all read it here."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..catalog.models import Item
from ..events.models import Event
from ..requests.models import Request, RequestLine, Status
from .values import ZERO, cents, handed_expression, open_expression

_ENDED_EMPTY = (Status.CANCELLED, Status.REJECTED)


@dataclass(frozen=True)
class EventCost:
    budget: Decimal | None   # None: the event has no budget
    expected: Decimal = ZERO  # held, waiting and handed over, rounded to cents

    @property
    def left(self) -> Decimal | None:
        return None if self.budget is None else self.budget - self.expected

    @property
    def over(self) -> bool:
        return self.budget is not None and self.expected > self.budget

    @property
    def used(self) -> int:
        """Percent of the budget the expected cost takes (may pass 100); 0 without a budget."""
        if not self.budget:
            return 100 if self.budget is not None and self.expected > 0 else 0
        return int(self.expected * 100 / self.budget)

    @property
    def bar(self) -> float:
        """The bar's length, 0 to 100 (full when over)."""
        return float(min(self.used, 100))

    @property
    def over_by(self) -> Decimal:
        """How much the expected cost passes the budget (0 when within it or without one)."""
        left = self.left
        return -left if left is not None and left < 0 else ZERO


def expected_costs(session: Session, event_ids: Iterable[int]) -> dict[int, Decimal]:
    """{event id: expected cost, rounded to cents} for these events, in one query; an event with
    no request is worth 0."""
    ids = list(dict.fromkeys(event_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Request.event_id, func.sum(open_expression()), func.sum(handed_expression()))
        .select_from(RequestLine).join(Request, RequestLine.request_id == Request.id)
        .join(Item, RequestLine.item_id == Item.id)
        .where(Request.event_id.in_(ids), Request.status.not_in(_ENDED_EMPTY))
        .group_by(Request.event_id)).tuples()
    costs = dict.fromkeys(ids, cents(0))
    for event_id, open_sum, handed_sum in rows:
        if event_id is not None:
            costs[event_id] = cents(Decimal(str(open_sum or 0)) + Decimal(str(handed_sum or 0)))
    return costs


def event_costs(session: Session, events: Iterable[Event]) -> dict[int, EventCost]:
    """{event id: EventCost} for these events (one query)."""
    events = list(events)
    expected = expected_costs(session, [event.id for event in events])
    return {event.id: EventCost(event.budget, expected.get(event.id, ZERO)) for event in events}


def event_cost(session: Session, event: Event) -> EventCost:
    return event_costs(session, [event])[event.id]
