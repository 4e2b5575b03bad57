"""The Budgets page (and its CSV): every team's budget, committed, spent and left in a budget
period, the requests of people in no team, and each team's committed amount per week of the
period. A fixed handful of queries whatever the number of teams and requests: the teams with
their approvers, the member counts, the sums per team (spend.py) and the sums per team and day
for the charts."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..catalog.models import Item
from ..reports import charts
from ..reports.periods import Period
from ..requests.models import Request, RequestLine, Status
from .models import Team
from .periods import budget_period, period_key, period_name, shifted
from .services import all_teams, member_counts
from .spend import Spend, spend_by_team
from .values import ZERO, cents, handed_expression, open_expression

NO_TEAM = "Not in a team"
ALL_TEAMS = "All teams"
# The URLs name periods from 2000 to 2100 (periods.parse_period): no link leads outside them.
FIRST_YEAR, LAST_YEAR = 2000, 2100
_ENDED_EMPTY = (Status.CANCELLED, Status.REJECTED)


@dataclass(frozen=True)
class PeriodLink:
    key: str                   # as the URL names it: 2026-Q4
    name: str                  # as people say it: Q4 2026


@dataclass(frozen=True)
class Week:
    first: date
    last: date


@dataclass(frozen=True)
class TeamRow:
    team: Team | None          # None: the requests of people in no team
    spend: Spend
    members: int
    weekly: list[Decimal]      # committed per week of the period, rounded to cents
    chart: charts.ColumnChart  # the same, as columns

    @property
    def name(self) -> str:
        return self.team.name if self.team else NO_TEAM

    @property
    def over_by(self) -> Decimal:
        """How much the committed amount passes the budget (0 when within it, or without one)."""
        left = self.spend.left
        return -left if left is not None and left < 0 else ZERO

    @property
    def bar(self) -> float:
        """The used bar's length, 0 to 100 (a full bar when over)."""
        return float(min(self.spend.used, 100))


@dataclass(frozen=True)
class BudgetsOverview:
    kind: str                  # quarter, month or year (BUDGET_PERIOD)
    period: Period
    name: str                  # "Q4 2026"
    key: str                   # "2026-Q4", as the URL names it
    previous: PeriodLink | None   # the period before (None: out of the range URLs name)
    following: PeriodLink | None  # the period after
    is_current: bool              # the period today is in
    current: PeriodLink
    weeks: list[Week]
    rows: list[TeamRow]        # the teams by name
    no_team: TeamRow           # requests of people in no team
    total: Spend               # all teams together (budget: the sum of those that have one)

    @property
    def total_over_by(self) -> Decimal:
        left = self.total.left
        return -left if left is not None and left < 0 else ZERO


def weeks_of(period: Period) -> list[Week]:
    """The period's weeks, Monday to Sunday, the first and last cut to the period."""
    weeks, day = [], period.first
    while day <= period.last:
        end = min(day + timedelta(days=6 - day.weekday()), period.last)
        weeks.append(Week(day, end))
        day = end + timedelta(days=1)
    return weeks


def committed_per_day(session: Session, period: Period) -> dict[int | None, dict[date, Decimal]]:
    """{team id (None: no team): {needed-by day: committed, exact}} over the period's requests,
    in one query (the days are gathered into weeks in Python: the same on both databases)."""
    query = (select(Request.team_id, Request.needed_by, func.sum(open_expression()), func.sum(handed_expression()))
             .select_from(RequestLine).join(Request, RequestLine.request_id == Request.id)
             .join(Item, RequestLine.item_id == Item.id)
             .where(Request.needed_by >= period.first, Request.needed_by <= period.last,
                    Request.status.not_in(_ENDED_EMPTY))
             .group_by(Request.team_id, Request.needed_by))
    days: dict[int | None, dict[date, Decimal]] = defaultdict(dict)
    for team_id, day, open_sum, handed_sum in session.execute(query).tuples():
        days[team_id][_as_date(day)] = Decimal(str(open_sum or 0)) + Decimal(str(handed_sum or 0))
    return days


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _weekly(weeks: list[Week], days: dict[date, Decimal]) -> list[Decimal]:
    sums = []
    for week in weeks:
        sums.append(cents(sum((amount for day, amount in days.items() if week.first <= day <= week.last), ZERO)))
    return sums


# Labels under a team's weekly columns: few enough for a card on a 360 px phone.
CHART_LABELS = 4


def _chart(weeks: list[Week], weekly: list[Decimal]) -> charts.ColumnChart:
    return charts.columns(((f"{week.first:%-d %b}", f"Week of {week.first:%-d %b %Y}", amount)
                           for week, amount in zip(weeks, weekly)), max_labels=CHART_LABELS)


def _link(period: Period, kind: str) -> PeriodLink:
    return PeriodLink(period_key(period, kind), period_name(period, kind))


def _link_in_range(period: Period, kind: str) -> PeriodLink | None:
    return _link(period, kind) if FIRST_YEAR <= period.first.year <= LAST_YEAR else None


def budgets_overview(session: Session, kind: str, period: Period, today: date) -> BudgetsOverview:
    """Every team's spend against its budget in `period` (a budget period of `kind`), with the
    requests of people in no team and each one's committed amount per week."""
    teams = all_teams(session)
    members = member_counts(session)
    spends = spend_by_team(session, teams, period, no_team=True)
    days = committed_per_day(session, period)
    weeks = weeks_of(period)

    def row(team: Team | None) -> TeamRow:
        team_id = team.id if team else None
        weekly = _weekly(weeks, days.get(team_id, {}))
        return TeamRow(team, spends[team_id], members.get(team_id, 0) if team_id is not None else 0, weekly,
                       _chart(weeks, weekly))

    rows = [row(team) for team in teams]
    budgets = [r.spend.budget for r in rows if r.spend.budget is not None]
    total = Spend(sum(budgets, ZERO) if budgets else None, sum((r.spend.committed for r in rows), ZERO),
                  sum((r.spend.spent for r in rows), ZERO))
    current = budget_period(today, kind)
    return BudgetsOverview(
        kind=kind, period=period, name=period_name(period, kind), key=period_key(period, kind),
        previous=_link_in_range(shifted(period, kind, -1), kind), following=_link_in_range(shifted(period, kind, 1), kind),
        is_current=period == current, current=_link(current, kind), weeks=weeks, rows=rows,
        no_team=row(None), total=total)


# The CSV download: the same table as the page ---------------------------------------------------

CSV_HEADER = ["team", "approver", "members", "period", "from", "to", "budget", "committed", "spent", "left",
              "over by", "used %"]


def csv_rows(overview: BudgetsOverview) -> list[list[object]]:
    """One row per team, then all teams together, then the requests of people in no team."""
    period = overview.period

    def line(name: str, approver: str | None, members: int | None, spend: Spend, over_by: Decimal) -> list[object]:
        return [name, approver, members, overview.name, period.first, period.last, spend.budget, spend.committed,
                spend.spent, spend.left, over_by if over_by else None,
                spend.used if spend.budget is not None else None]

    rows = [line(r.name, r.team.approver.display_name if r.team and r.team.approver else None, r.members, r.spend,
                 r.over_by) for r in overview.rows]
    rows.append(line(ALL_TEAMS, None, sum(r.members for r in overview.rows), overview.total, overview.total_over_by))
    rows.append(line(NO_TEAM, None, None, overview.no_team.spend, ZERO))
    return rows
