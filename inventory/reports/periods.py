"""The period a report covers: a preset (this quarter, last quarter, this year, the last 30 days)
or a custom from/to, both days included.

Moments in the database are naive UTC, so a period runs from its first day 00:00 UTC up to (not
including) the day after its last day, 00:00 UTC.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..errors import InvalidInput
from ..timeutil import parse_date

PRESETS = {
    "this-quarter": "This quarter",
    "last-quarter": "Last quarter",
    "this-year": "This year",
    "last-30-days": "Last 30 days",
}
DEFAULT_PRESET = "this-quarter"
# Longer than this is a typo (and keeps the monthly chart to a readable number of columns).
MAX_DAYS = 5 * 366


@dataclass(frozen=True)
class Period:
    first: date          # first day included
    last: date           # last day included
    preset: str = ""     # the preset it came from, "" for a custom period

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time())

    @property
    def ends_before(self) -> datetime:
        """The first moment after the period (exclusive upper bound for timestamps)."""
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time())

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def label(self) -> str:
        span = f"{self.first:%-d %b %Y} – {self.last:%-d %b %Y}"
        return f"{PRESETS[self.preset]} ({span})" if self.preset else span

    def args(self) -> dict[str, str]:
        """URL arguments that name this period again (for links and the CSV download)."""
        if self.preset:
            return {"period": self.preset}
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}

    @property
    def slug(self) -> str:
        return f"{self.first.isoformat()}_{self.last.isoformat()}"


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def preset(name: str, today: date) -> Period:
    if name == "this-quarter":
        first = _quarter_start(today)
        month = first.month + 3
        next_quarter = date(first.year + (month > 12), (month - 1) % 12 + 1, 1)
        return Period(first, next_quarter - timedelta(days=1), name)
    if name == "last-quarter":
        last = _quarter_start(today) - timedelta(days=1)
        return Period(_quarter_start(last), last, name)
    if name == "this-year":
        return Period(date(today.year, 1, 1), date(today.year, 12, 31), name)
    if name == "last-30-days":
        return Period(today - timedelta(days=29), today, name)
    raise InvalidInput(f"Unknown period {name!r}: choose one of {', '.join(PRESETS.values())}, or give dates.")


def _day(value: str, what: str) -> date:
    day = parse_date(value)
    if day is None:
        raise InvalidInput(f"'{value.strip()[:40]}' is not a date: give the {what} day as YYYY-MM-DD.")
    if not 1900 <= day.year <= 9000:
        raise InvalidInput(f"The {what} day {day.isoformat()} is out of range.")
    return day


def from_args(args: Mapping[str, str], today: date) -> Period:
    """The period named by a page's URL arguments: ?from=&to= (both, a custom period), else
    ?period=<preset>, else this quarter. Raises InvalidInput with a message for the user."""
    typed_first, typed_last = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    if typed_first or typed_last:
        if not (typed_first and typed_last):
            raise InvalidInput("Give both a from and a to day for a custom period.")
        first, last = _day(typed_first, "from"), _day(typed_last, "to")
        if last < first:
            raise InvalidInput(f"The period ends ({last:%-d %b %Y}) before it starts ({first:%-d %b %Y}).")
        if (last - first).days + 1 > MAX_DAYS:
            raise InvalidInput("Choose a period of at most five years.")
        return Period(first, last)
    return preset((args.get("period") or DEFAULT_PRESET).strip(), today)
