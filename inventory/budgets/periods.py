"""The period a team's budget covers (BUDGET_PERIOD: a quarter, a month or a year) and the
period a day falls in. A budget period is a reports.periods.Period, so spend is read over it as
the reports read theirs."""
from __future__ import annotations

import re
from datetime import date, timedelta

from ..errors import InvalidInput
from ..reports.periods import Period

KINDS = ("quarter", "month", "year")
KIND_WORDS = {"quarter": "this quarter", "month": "this month", "year": "this year"}


def period_kind(value: str | None) -> str:
    """BUDGET_PERIOD read from the environment: quarter (the default), month or year; anything
    else stops the app at start-up, naming the setting."""
    kind = (value or "quarter").strip().lower()
    if kind not in KINDS:
        raise RuntimeError(f"BUDGET_PERIOD: {value!r} is not one of {', '.join(KINDS)}")
    return kind


def _next_month(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def budget_period(day: date, kind: str = "quarter") -> Period:
    """The budget period `day` falls in: its quarter (1 Oct - 31 Dec), month or year."""
    if kind == "year":
        first, months = date(day.year, 1, 1), 12
    elif kind == "month":
        first, months = date(day.year, day.month, 1), 1
    else:
        first, months = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1), 3
    return Period(first, _next_month(first, months) - timedelta(days=1))


def period_name(period: Period, kind: str) -> str:
    """What the period is called: "Q4 2026", "December 2026", "2026"."""
    if kind == "year":
        return f"{period.first.year}"
    if kind == "month":
        return f"{period.first:%B %Y}"
    return f"Q{(period.first.month - 1) // 3 + 1} {period.first.year}"


def period_key(period: Period, kind: str) -> str:
    """The period as a URL names it: 2026-Q4, 2026-12, 2026."""
    if kind == "year":
        return f"{period.first.year}"
    if kind == "month":
        return f"{period.first:%Y-%m}"
    return f"{period.first.year}-Q{(period.first.month - 1) // 3 + 1}"


_KEYS = {"quarter": re.compile(r"(\d{4})-Q([1-4])"), "month": re.compile(r"(\d{4})-(\d{2})"),
         "year": re.compile(r"(\d{4})")}


def parse_period(text: str | None, kind: str, today: date) -> Period:
    """The budget period a URL names (2026-Q4, 2026-12 or 2026, by `kind`); today's when blank.
    InvalidInput in words for anything else."""
    if not text:
        return budget_period(today, kind)
    match = _KEYS[kind].fullmatch(text.strip())
    example = period_key(budget_period(today, kind), kind)
    if match is None or not 2000 <= int(match.group(1)) <= 2100:
        raise InvalidInput(f"Unknown budget period {text!r}: write it as {example}.")
    year = int(match.group(1))
    if kind == "quarter":
        return budget_period(date(year, 3 * (int(match.group(2)) - 1) + 1, 1), kind)
    if kind == "month":
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise InvalidInput(f"Unknown budget period {text!r}: write it as {example}.")
        return budget_period(date(year, month, 1), kind)
    return budget_period(date(year, 1, 1), kind)


def shifted(period: Period, kind: str, steps: int) -> Period:
    """The period `steps` periods later (earlier when negative)."""
    months = {"quarter": 3, "month": 1, "year": 12}[kind]
    return budget_period(_next_month(period.first, months * steps), kind)
