"""Each team's spend against its budget in a period: one query over the lines of the period's
requests (a request counts in the period its needed-by date falls in), valued by the one rule
of values.py. Committed is what the period's requests hold, wait for and handed over; spent is
what was handed over; left is the budget less what is committed."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..catalog.models import Item
from ..reports.periods import Period
from ..requests.models import Request, RequestLine, Status
from .models import Team
from .values import ZERO, cents, handed_expression, open_expression

# Cancelled and rejected requests hold nothing (their lines are released); left out of the sums.
_ENDED_EMPTY = (Status.CANCELLED, Status.REJECTED)


@dataclass(frozen=True)
class Spend:
    budget: Decimal | None  # None: the team has no budget
    committed: Decimal = ZERO  # held, waiting and handed over, rounded to cents
    spent: Decimal = ZERO      # handed over

    @property
    def left(self) -> Decimal | None:
        return None if self.budget is None else self.budget - self.committed

    @property
    def over(self) -> bool:
        return self.budget is not None and self.committed > self.budget

    @property
    def used(self) -> int:
        """Percent of the budget committed (for a bar), 0 without a budget; may pass 100."""
        if not self.budget:
            return 100 if self.budget is not None and self.committed > 0 else 0
        return int(self.committed * 100 / self.budget)

    def with_extra(self, amount: Decimal) -> Spend:
        """The spend as it would be with `amount` more committed (a request about to be submitted)."""
        return Spend(self.budget, cents(self.committed + amount), self.spent)


def _sums_by_team(period: Period) -> Select[Any]:
    """team_id, open, handed: the sums over the lines of the period's requests, per team."""
    return (select(Request.team_id, func.sum(open_expression()).label("open"),
                   func.sum(handed_expression()).label("handed"))
            .select_from(RequestLine).join(Request, RequestLine.request_id == Request.id)
            .join(Item, RequestLine.item_id == Item.id)
            .where(Request.needed_by >= period.first, Request.needed_by <= period.last,
                   Request.status.not_in(_ENDED_EMPTY))
            .group_by(Request.team_id))


def _committed_spent(open_sum: object, handed_sum: object) -> tuple[Decimal, Decimal]:
    handed = Decimal(str(handed_sum or 0))
    return Decimal(str(open_sum or 0)) + handed, handed


def valued_sums(session: Session, period: Period, team_ids: Iterable[int | None] | None = None,
                ) -> dict[int | None, tuple[Decimal, Decimal]]:
    """{team id (None: no team): (committed, spent)} over the period's requests, exact."""
    query = _sums_by_team(period)
    if team_ids is not None:
        wanted = list(team_ids)
        ids = [team_id for team_id in wanted if team_id is not None]
        condition: ColumnElement[bool] | None = Request.team_id.in_(ids) if ids else None
        if None in wanted:
            condition = Request.team_id.is_(None) if condition is None else condition | Request.team_id.is_(None)
        if condition is None:
            return {}
        query = query.where(condition)
    sums: dict[int | None, tuple[Decimal, Decimal]] = {}
    for team_id, open_sum, handed_sum in session.execute(query).tuples():
        sums[team_id] = _committed_spent(open_sum, handed_sum)
    return sums


def spend_by_team(session: Session, teams: Iterable[Team], period: Period, no_team: bool = False,
                  ) -> dict[int | None, Spend]:
    """{team id: Spend} for these teams in the period (one query); with `no_team`, also None:
    the requests of people in no team."""
    teams = list(teams)
    ids: list[int | None] = [team.id for team in teams]
    if no_team:
        ids.append(None)
    sums = valued_sums(session, period, ids)
    spends: dict[int | None, Spend] = {
        team.id: _spend(team.budget, sums.get(team.id)) for team in teams}
    if no_team:
        spends[None] = _spend(None, sums.get(None))
    return spends


def team_spend(session: Session, team: Team, period: Period) -> Spend:
    return spend_by_team(session, [team], period)[team.id]


def team_with_spend(session: Session, team_id: int, period: Period) -> tuple[Team, Spend] | None:
    """The team and its spend in the period, in ONE statement (the team's row left-joined to its
    sums): for the pages that show one team's budget line, such as the rep's Today. None when
    there is no such team."""
    sums = _sums_by_team(period).where(Request.team_id == team_id).subquery("sums")
    row = session.execute(select(Team, sums.c.open, sums.c.handed)
                          .outerjoin(sums, sums.c.team_id == Team.id).where(Team.id == team_id)).first()
    if row is None:
        return None
    team, open_sum, handed_sum = row
    return team, _spend(team.budget, _committed_spent(open_sum, handed_sum))


def _spend(budget: Decimal | None, sums: tuple[Decimal, Decimal] | None) -> Spend:
    committed, spent = sums or (ZERO, ZERO)
    return Spend(budget, cents(committed), cents(spent))
