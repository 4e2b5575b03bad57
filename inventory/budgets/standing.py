"""A team's budget line as a rep sees it: "$420.00 of $2,000.00 left this quarter", and what a
request being put together would leave ("After this request: $x left", or how far over it would
go). One rule for the rep's request page, the request page and the Today page; the words around
the amounts are the templates' (templates/budgets/_line.html), the amounts the money filter's.

The period is the one a day falls in (budget_period): the request's needed-by date, else today.
It is named "this quarter" / "this month" / "this year" when it is today's, else by its name
("in Q1 2027")."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from ..catalog.models import Item
from ..reports.periods import Period
from ..requests.models import Request
from ..timeutil import MAX_DAYS_AHEAD, add_days
from .periods import KIND_WORDS, budget_period, period_name
from .spend import Spend, team_with_spend
from .values import ZERO, asked_value, cents, line_value


def period_words(period: Period, kind: str, today: date) -> str:
    """"this quarter" (month, year) for today's period, else "in Q1 2027" (its name)."""
    if period == budget_period(today, kind):
        return KIND_WORDS[kind]
    return f"in {period_name(period, kind)}"


@dataclass(frozen=True)
class Standing:
    """A team's budget, committed and left in one period, and the words for the period."""
    team_id: int
    team_name: str
    period: Period
    words: str  # "this quarter", "in Q1 2027"
    spend: Spend

    @property
    def has_budget(self) -> bool:
        return self.spend.budget is not None

    @property
    def budget(self) -> Decimal | None:
        return self.spend.budget

    @property
    def left(self) -> Decimal | None:
        """What is left (negative when the team is over its budget), None without a budget."""
        return self.spend.left

    @property
    def over_by(self) -> Decimal:
        """How far the committed amount passes the budget (0 when it does not)."""
        left = self.spend.left
        return -left if left is not None and left < 0 else ZERO

    @property
    def bar(self) -> int:
        """Percent of the budget committed, 0 to 100, for a bar (used may pass 100)."""
        return min(100, max(0, self.spend.used))

    def after(self, amount: Decimal) -> Standing:
        """The standing as it would be with `amount` more committed (a request not sent yet)."""
        return Standing(self.team_id, self.team_name, self.period, self.words, self.spend.with_extra(amount))


def budget_day(needed_by: date | None, today: date) -> date:
    """The day whose period a request being put together counts in: its needed-by date when one
    is typed that a request may have (at most MAX_DAYS_AHEAD ahead; the form says so of one
    beyond), else today."""
    if needed_by is None or needed_by > add_days(today, MAX_DAYS_AHEAD):
        return today
    return needed_by


def team_standing(session: Session, team_id: int | None, day: date, kind: str, today: date) -> Standing | None:
    """The team's standing in the period `day` falls in (one statement), or None when there is
    no team (a user in none, a request submitted by someone in none)."""
    if team_id is None:
        return None
    period = budget_period(day, kind)
    found = team_with_spend(session, team_id, period)
    if found is None:
        return None
    team, spend = found
    return Standing(team.id, team.name, period, period_words(period, kind, today), spend)


# What the pages show of a request's value -----------------------------------------------------

@dataclass(frozen=True)
class Values:
    """Values rounded to cents, as shown: {key: line value} and the total (the sum of the exact
    values, rounded once)."""
    lines: dict[object, Decimal]
    total: Decimal


def draft_values(lines: Iterable[tuple[str, Item, int]]) -> Values:
    """For a request being put together, [(sku, item, quantity)]: {sku: asked value} and the
    total (asked_value: today's unit cost, returnables at their loss rate)."""
    exact = {sku: asked_value(item, quantity) for sku, item, quantity in lines}
    return Values({sku: cents(value) for sku, value in exact.items()}, cents(sum(exact.values(), ZERO)))


def request_values(request: Request) -> Values:
    """For a submitted request (its lines and their items loaded): {line id: value} and the total
    (line_value: what it holds, waits for and handed over)."""
    exact = {line.id: line_value(line).total for line in request.lines}
    return Values({line_id: cents(value) for line_id, value in exact.items()}, cents(sum(exact.values(), ZERO)))
