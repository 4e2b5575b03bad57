"""Event rules: plan, change, cancel and reinstate trade shows and campaigns; find them,
upcoming first; gather an event's requests; and once it is over, what it used and what that
cost (at the unit costs recorded when things went out). The events by month and the month grid
are months.py; what the calendar feed serves is feed.py.

An event's dates obey three rules (the database checks the first too):
ends_on >= starts_on, ship_by <= starts_on (things leave before the show opens), and
return_by >= ends_on when a return date is set (returnables cannot be back before it closes).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal, TypedDict, overload

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from ..auth.models import User
from ..auth.roles import MANAGERS
from ..catalog.models import Item
from ..database import unit_of_work
from ..forecast.changes import events_changed
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..limits import money_amount
from ..pagination import Page
from ..requests.models import HOLDING, Request, RequestLine
from ..text import clean, is_whole_number
from ..timeutil import plan_limit
from .models import Event

MAX_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL: a bigger number names nothing
MAX_NOTES = 4000
# update_event's budget when the caller does not change it (None clears it).
UNCHANGED: object = object()
# Requests that did not go ahead are listed on the event page but counted nowhere.
ENDED_UNUSED = ("cancelled", "rejected")


def require_manager(user: User) -> None:
    if user.role not in MANAGERS:
        raise Forbidden("Only a marketing manager can plan events and kits.")


def is_id(value: object) -> bool:
    """A whole number that can name a row (larger ones would fail in the database, not match)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def get_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id, options=[selectinload(Event.owner)]) if is_id(event_id) else None
    if event is None:
        raise NotFound(f"No event #{event_id}.")
    return event


def _text(value: object, what: str, limit: int, required: bool = False) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{what} must be text.")
    value = clean(value)
    if required and not value:
        raise InvalidInput(f"Give the event a {what.lower()}.")
    if len(value) > limit:
        raise InvalidInput(f"{what} is too long ({limit} characters at most).")
    return value


@overload
def _date(value: object, what: str, required: Literal[True] = True) -> date: ...


@overload
def _date(value: object, what: str, required: bool) -> date | None: ...


def _date(value: object, what: str, required: bool = True) -> date | None:
    if value is None:
        if required:
            raise InvalidInput(f"Say the {what}.")
        return None
    if not isinstance(value, date):
        raise InvalidInput(f"The {what} must be a date.")
    return value


class EventFields(TypedDict):
    """An event's fields as validate_event cleaned them."""
    name: str
    place: str
    starts_on: date
    ends_on: date
    ship_by: date
    return_by: date | None
    notes: str


def validate_event(*, name: str, place: str = "", starts_on: date, ends_on: date, ship_by: date,
                   return_by: date | None = None, notes: str = "", today: date | None = None) -> EventFields:
    """Clean and check an event's fields; returns them as a dict, or raises InvalidInput.
    Planned at most five years out (as requests and kit reservations are)."""
    values: EventFields = {
        "name": _text(name, "Name", 120, required=True),
        "place": _text(place, "Place", 200),
        "starts_on": _date(starts_on, "start date"),
        "ends_on": _date(ends_on, "end date"),
        "ship_by": _date(ship_by, "ship-by date (when things leave the stockroom)"),
        "return_by": _date(return_by, "return-by date", required=False),
        "notes": _text(notes, "Notes", MAX_NOTES),
    }
    if values["ends_on"] < values["starts_on"]:
        raise InvalidInput("The event ends before it starts: the end date must be on or after the start date.")
    if values["ship_by"] > values["starts_on"]:
        raise InvalidInput("The ship-by date is after the start: things must leave the stockroom by the first day.")
    if values["return_by"] is not None and values["return_by"] < values["ends_on"]:
        raise InvalidInput("The return-by date is before the end: returnables come back after the event closes.")
    last = values["return_by"] or values["ends_on"]
    if last > plan_limit(today or date.today()):
        raise InvalidInput(f"{last.isoformat()} is too far ahead: plan events at most five years out.")
    return values


def event_budget(value: object) -> Decimal | None:
    """An event's budget: None when blank, else money (two decimals, 0 to 10 million); refused in
    words about the budget box."""
    return money_amount(value, "The budget", about=(None, "budget"))


def _owner(session: Session, owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    if not is_whole_number(owner_id):
        raise InvalidInput("The owner must be a user id.")
    owner = session.get(User, owner_id) if is_id(owner_id) else None
    if owner is None or not owner.active:
        raise InvalidInput(f"No active user #{owner_id} to own the event.")
    return owner


@unit_of_work
def create_event(session: Session, user: User, *, name: str, starts_on: date, ends_on: date, ship_by: date,
                 place: str = "", return_by: date | None = None, owner_id: int | None = None,
                 notes: str = "", budget: object = None) -> Event:
    """Plan an event. The owner defaults to the manager who creates it; `budget` is what it may
    cost (blank: no budget)."""
    require_manager(user)
    values = validate_event(name=name, place=place, starts_on=starts_on, ends_on=ends_on, ship_by=ship_by,
                            return_by=return_by, notes=notes)
    amount = event_budget(budget)
    owner = _owner(session, owner_id) or user
    event = Event(owner_id=owner.id, budget=amount, **values)
    session.add(event)
    return event


@unit_of_work
def update_event(session: Session, event_id: int, user: User, *, name: str, starts_on: date, ends_on: date,
                 ship_by: date, place: str = "", return_by: date | None = None, owner_id: int | None = None,
                 notes: str = "", budget: object = UNCHANGED) -> Event:
    """Change an event. Requests already made for it keep their own dates (see
    `requests_off_dates`): moving a show does not silently move anyone's reservation. The budget
    stays as it is unless `budget` is given (blank or None: no budget)."""
    require_manager(user)
    values = validate_event(name=name, place=place, starts_on=starts_on, ends_on=ends_on, ship_by=ship_by,
                            return_by=return_by, notes=notes)
    amount = event_budget(budget) if budget is not UNCHANGED else None
    event = get_event(session, event_id)
    owner = _owner(session, owner_id)
    for key, value in values.items():
        setattr(event, key, value)
    if budget is not UNCHANGED:
        event.budget = amount
    if owner is not None:
        event.owner_id = owner.id
    events_changed(session, [event.id])  # its name and dates are on its items' flags
    return event


@unit_of_work
def cancel_event(session: Session, event_id: int, user: User) -> Event:
    """Mark the event cancelled. Its requests are not touched: each still holds its stock until
    it is cancelled, one by one or all those not yet picked with `cancel_event_requests` (the
    event page lists them and offers that)."""
    require_manager(user)
    event = get_event(session, event_id)
    if event.cancelled:
        raise Conflict(f"{event.name} is already cancelled.")
    event.cancelled = True
    events_changed(session, [event.id])
    return event


def cancel_event_requests(session: Session, event_id: int, user: User) -> tuple[list[Request], list[Request]]:
    """For a cancelled event: cancel each of its requests that picking has not started on, so
    their stock is free for others. Returns (cancelled, left): requests being picked, ready or
    out need the stockroom (put back, check in) and are left as they are."""
    from ..requests import review
    from ..requests.models import CANCELLABLE, OPEN

    require_manager(user)
    event = get_event(session, event_id)
    if not event.cancelled:
        raise Conflict(f"{event.name} is not cancelled: its requests stand.")
    cancelled, left = [], []
    for request in event_requests(session, event):
        if request.status in CANCELLABLE:
            cancelled.append(review.cancel(session, request.id, user, note=f"{event.name} was cancelled."))
        elif request.status in OPEN:
            left.append(request)
    return cancelled, left


@unit_of_work
def reinstate_event(session: Session, event_id: int, user: User) -> Event:
    require_manager(user)
    event = get_event(session, event_id)
    if not event.cancelled:
        raise Conflict(f"{event.name} is not cancelled.")
    event.cancelled = False
    events_changed(session, [event.id])
    return event


# Finding events ----------------------------------------------------------------------------

def upcoming(session: Session, today: date, limit: int = 200) -> Sequence[Event]:
    """Events not over yet (ending today or later), soonest first; cancelled ones included so
    that a show that disappeared from the plan is seen as cancelled, not missed."""
    return session.scalars(
        select(Event).where(Event.ends_on >= today).options(selectinload(Event.owner))
        .order_by(Event.starts_on, Event.ends_on, Event.id).limit(limit)
    ).all()


def past(session: Session, today: date, page: int = 1, per_page: int = 25) -> Page:
    conditions = [Event.ends_on < today]
    total = session.execute(select(func.count(Event.id)).where(*conditions)).scalar_one()
    rows = session.scalars(
        select(Event).where(*conditions).options(selectinload(Event.owner))
        .order_by(Event.starts_on.desc(), Event.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(rows, page, per_page, total)


def listing(session: Session, page: int = 1, per_page: int = 50, since: date | None = None) -> Page:
    """All events (or those ending on or after `since`), by start date: for the API."""
    conditions = [Event.ends_on >= since] if since else []
    total = session.execute(select(func.count(Event.id)).where(*conditions)).scalar_one()
    rows = session.scalars(
        select(Event).where(*conditions).options(selectinload(Event.owner))
        .order_by(Event.starts_on, Event.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(rows, page, per_page, total)


def request_counts(session: Session, event_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """{event_id: (requests, kits)} for a list of events in one query: requests still going
    ahead (not cancelled or rejected) and the kits reserved through them."""
    event_ids = list(event_ids)
    if not event_ids:
        return {}
    rows = session.execute(
        select(Request.event_id, func.count(Request.id),
               func.coalesce(func.sum(case((Request.kit_id.is_not(None), Request.kit_count), else_=0)), 0))
        .where(Request.event_id.in_(event_ids), Request.status.not_in(ENDED_UNUSED))
        .group_by(Request.event_id)
    ).all()
    counts = dict.fromkeys(event_ids, (0, 0))
    counts.update({event_id: (int(n), int(kits)) for event_id, n, kits in rows})
    return counts


def event_requests(session: Session, event: Event) -> Sequence[Request]:
    """The event's requests with their lines, items, requester and kit loaded up front (the event
    page lists them all: no query per row)."""
    return session.scalars(
        select(Request).where(Request.event_id == event.id).options(
            selectinload(Request.lines).selectinload(RequestLine.item).selectinload(Item.product),
            selectinload(Request.requester),
            selectinload(Request.kit),
        ).order_by(Request.needed_by, Request.id)
    ).all()


def requests_off_dates(event: Event, requests: Iterable[Request]) -> list[Request]:
    """Requests still holding stock whose dates no longer match the event's ship-by and return-by
    (the event was moved after they were made)."""
    return [r for r in requests if r.status in HOLDING and r.kit_id is not None
            and (r.needed_by != event.ship_by or (r.return_by is not None and r.return_by != event.window_end))]


# After the event ---------------------------------------------------------------------------

@dataclass
class UsageRow:
    item: Item
    issued: int = 0      # went out for the event
    returned: int = 0    # came back into a bin (returnables)
    used: int = 0        # given away (consumables) or used up (returnables checked in as consumed)
    lost: int = 0
    damaged: int = 0
    still_out: int = 0   # returnables handed over and not checked in yet
    # What the event cost in this item: every unit that did not come back, at the unit cost
    # recorded when it was handed over (see `usage`).
    cost: Decimal = Decimal("0.00")
    issued_value: Decimal = Decimal("0.00")   # what went out, at those recorded costs
    unit_costs: set[Decimal] = field(default_factory=set)

    @property
    def written_off(self) -> int:
        return self.used + self.lost + self.damaged

    @property
    def unit_cost(self) -> Decimal:
        """The unit cost recorded when the item went out for the event; when its requests went
        out at different costs, their average per unit issued, to the cent."""
        if len(self.unit_costs) == 1:
            return next(iter(self.unit_costs))
        return (self.issued_value / self.issued).quantize(Decimal("0.01")) if self.issued else Decimal("0.00")

    @property
    def several_costs(self) -> bool:
        return len(self.unit_costs) > 1


@dataclass
class Usage:
    rows: list[UsageRow]

    @property
    def cost(self) -> Decimal:
        return sum((row.cost for row in self.rows), Decimal("0.00"))

    @property
    def still_out(self) -> int:
        return sum(row.still_out for row in self.rows)

    def total(self, name: str) -> int | Decimal:
        return sum(getattr(row, name) for row in self.rows)


def usage(requests: Iterable[Request]) -> Usage:
    """What an event's requests used, returned and lost, per item, and what it cost.

    From the request lines alone (already loaded, no query): consumables handed over are used
    (there is no checking them back in); returnables count as checked in: returned, consumed,
    lost or damaged, and those handed over but not checked in yet are still out, not costed.
    Cost = (used + lost + damaged) x the unit cost recorded when the line was handed over: a
    later price change does not change what a past event cost.
    """
    rows: dict[int, UsageRow] = {}
    for request in requests:
        for line in request.lines:
            if not line.issued:
                continue
            unit_cost = line.issued_unit_cost
            if unit_cost is None:  # handed over before costs were recorded (none are, after 0013)
                unit_cost = line.item.unit_cost or Decimal("0.00")
            row = rows.setdefault(line.item_id, UsageRow(line.item))
            row.issued += line.issued
            row.issued_value += line.issued * unit_cost
            row.unit_costs.add(unit_cost)
            if not line.item.returnable:
                row.used += line.issued
                row.cost += line.issued * unit_cost
                continue
            row.returned += line.returned
            row.used += line.consumed
            row.lost += line.lost
            row.damaged += line.damaged
            row.still_out += line.issued - line.returned - line.consumed - line.lost - line.damaged
            row.cost += (line.consumed + line.lost + line.damaged) * unit_cost
    return Usage(sorted(rows.values(), key=lambda r: (r.item.product.name, r.item.size_rank, r.item.sku)))


def is_over(event: Event, today: date) -> bool:
    return event.ends_on < today
