"""Usage over time: the usage of a period (reports/usage.py) per day, week or month."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from .periods import Period
from .usage import Usage, handed_over, request_counts, usage_lines


@dataclass
class Bucket:
    first: date
    last: date
    usage: Usage = field(default_factory=Usage)


def bucket_size(period: Period) -> str:
    """Days for a month or less, weeks (Monday to Sunday) up to half a year, months beyond."""
    if period.days <= 31:
        return "day"
    if period.days <= 190:
        return "week"
    return "month"


def _buckets(period: Period, size: str) -> list[Bucket]:
    buckets: list[Bucket] = []
    day = period.first
    while day <= period.last:
        if size == "day":
            end = day
        elif size == "week":
            end = day + timedelta(days=6 - day.weekday())
        else:
            end = (date(day.year + (day.month == 12), day.month % 12 + 1, 1)) - timedelta(days=1)
        end = min(end, period.last)
        buckets.append(Bucket(day, end))
        day = end + timedelta(days=1)
    return buckets


def usage_over_time(session: Session, period: Period) -> tuple[str, list[Bucket]]:
    """(bucket size, [Bucket]): usage per day, week or month of the period (see bucket_size),
    empty buckets included. The database sums per day; the days are gathered into buckets here,
    which reads the same on SQLite and PostgreSQL."""
    size = bucket_size(period)
    buckets = _buckets(period, size)
    handed = handed_over(period)
    day = handed.c.day
    lines_by_day: defaultdict[date, list[list[Any]]] = defaultdict(list)  # (unit cost, returnable, *counts)
    for handed_day, *line in usage_lines(session, handed, [day]):
        lines_by_day[_as_date(handed_day)].append(line)
    requests_by_day = {_as_date(key[0]): count for key, count in request_counts(session, handed, [day]).items()}
    for bucket in buckets:
        current = bucket.first
        while current <= bucket.last:
            for unit_cost, returnable, *counts in lines_by_day.get(current, ()):
                bucket.usage.add_line(unit_cost, returnable, *[int(c or 0) for c in counts])
            bucket.usage.requests += requests_by_day.get(current, 0)
            current += timedelta(days=1)
    return size, buckets


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
