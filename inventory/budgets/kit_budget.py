"""What reserving kits for an event would do to its budget: the reservation's cost (each kit
line's asked value, values.asked_value, × the count, rounded to cents once) and the event's
expected cost after it (event_spend), so that a manager is warned before a reservation takes
the event beyond its budget.

An event without a budget never warns; a reservation that lands exactly on the budget is not
over it; a reservation that costs nothing takes no event anywhere. `events.kits.reserve_kit`
refuses with OverEventBudget unless told to go ahead, in the unit of work of the submission;
the reserve-kit page asks the same question before the Reserve button is pressed."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from ..core.money import money  # the app's one money formatter (CURRENCY, LOCALE): words, no rule
from ..errors import Conflict
from ..events.models import Event, KitTemplate
from .event_spend import EventCost, event_cost
from .values import ZERO, asked_value, cents


def reservation_cost(kit: KitTemplate, count: int) -> Decimal:
    """What reserving `count` kits commits, rounded to cents: every line's quantity × count at
    today's unit cost (a returnable's at its loss rate), summed exactly and rounded once."""
    return cents(sum((asked_value(line.item, line.quantity * count) for line in kit.lines), ZERO))


@dataclass(frozen=True)
class KitBudget:
    """Reserving `count` × `kit_name` for `event_name`: what it costs and the event's cost
    before and after it (EventCost: budget, expected, left, over, over_by)."""
    event_name: str
    kit_name: str
    count: int
    cost: Decimal        # the reservation, rounded to cents
    before: EventCost    # the event as it stands

    @property
    def has_budget(self) -> bool:
        return self.before.budget is not None

    @property
    def after(self) -> EventCost:
        """The event's cost with this reservation added."""
        return EventCost(self.before.budget, self.before.expected + self.cost)

    @property
    def over(self) -> bool:
        """Whether the reservation takes the event beyond its budget (never without a budget or
        for a reservation worth nothing; exactly at the budget is not over)."""
        return self.cost > 0 and self.after.over

    @property
    def over_by(self) -> Decimal:
        """How far beyond its budget the event would be after the reservation (0 when not over)."""
        return self.after.over_by if self.over else ZERO

    def words(self) -> str:
        """"Reserving 3 × Booth kit ($1,200.00) takes Expo 2027 to $5,400.00, $400.00 over its
        budget of $5,000.00." (meant for a reservation that is over; the amounts in the app's
        CURRENCY and LOCALE)."""
        after = self.after
        return (f"Reserving {self.count} × {self.kit_name} ({money(self.cost)}) takes {self.event_name} to "
                f"{money(after.expected)}, {money(self.over_by)} over its budget of {money(after.budget)}.")


def kit_budget(session: Session, event: Event, kit: KitTemplate, count: int,
               before: EventCost | None = None) -> KitBudget:
    """What reserving `count` × `kit` would do to `event`'s budget (the kit's lines and items
    loaded). `before` is the event's cost when the caller has read it already; else one query."""
    before = before if before is not None else event_cost(session, event)
    return KitBudget(event.name, kit.name, count, reservation_cost(kit, count), before)


class OverEventBudget(Conflict):
    """A kit reservation would take its event beyond its budget and was not said to go ahead:
    nothing was reserved. `check` holds the amounts; `words` says it without telling the reader
    what to do, `message` adds the page's way to go ahead (the API says its own)."""

    GO_AHEAD = 'Tick "Reserve anyway" to go ahead.'

    def __init__(self, check: KitBudget) -> None:
        self.check = check
        self.words = check.words()
        super().__init__(f"{self.words} {self.GO_AHEAD}")

    @property
    def cost(self) -> Decimal:
        return self.check.cost

    @property
    def budget(self) -> Decimal | None:
        return self.check.before.budget

    @property
    def expected_after(self) -> Decimal:
        return self.check.after.expected

    @property
    def over_by(self) -> Decimal:
        return self.check.over_by
