"""Time helpers: the database stores naive UTC; pages show it in words."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today() -> date:
    """Today's date where a rule must agree with the pages on it (the stored reorder flags);
    tests replace it to fix the calendar."""
    return date.today()


# How far ahead requests, kit reservations and events may be planned: five years. Dates further
# ahead are typos (and 9999-12-31 has no day after it to end a booking or a calendar entry on).
MAX_DAYS_AHEAD = 5 * 366


def add_days(day: date, days: int) -> date:
    """`day` plus `days` (either sign), held to the calendar's ends (date.min, date.max) instead
    of raising OverflowError: a date or lead time at the bounds, typed in or written by another
    program, must never take down a page that everyone shares (the forecast, the calendar)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def plan_limit(today: date) -> date:
    """The last day anything may be planned for (MAX_DAYS_AHEAD from `today`)."""
    return add_days(today, MAX_DAYS_AHEAD)


def date_arg(raw: object, what: str, today: date | None = None, years: int = 10) -> date:
    """A query parameter's YYYY-MM-DD date, or ValueError with a message for the user: not a date,
    or more than `years` years from `today` (a page computes with it, and 0001-01-01 or
    9999-12-31 leaves no room to count days)."""
    day = parse_date(raw)
    if day is None:
        raise ValueError(f"{what} must be a date like 2026-03-12.")
    today = today or date.today()
    low, high = add_days(today, -years * 366), add_days(today, years * 366)
    if not low <= day <= high:
        raise ValueError(f"{what} {day.isoformat()} is out of range: give a date between "
                         f"{low.isoformat()} and {high.isoformat()}.")
    return day


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def parse_date(text: object) -> date | None:
    """The date `text` writes as YYYY-MM-DD (surrounding spaces allowed), or None when it writes
    none. Stricter than date.fromisoformat, which since Python 3.11 also reads "20261220" and
    "2026-W51-1", forms the API and the files promise nothing about."""
    text = text.strip() if isinstance(text, str) else ""
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return None
