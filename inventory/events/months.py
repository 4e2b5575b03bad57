"""The events page's months: events grouped by month (the phone's list), the events that touch a
month, the month as a grid of weeks, and the month named in the URL."""
from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Event


def by_month(events: Iterable[Event]) -> list[tuple[date, list[Event]]]:
    """[(first day of month, [events])] in the order given: the phone's calendar-like list."""
    groups: list[tuple[date, list[Event]]] = []
    for event in events:
        month = event.starts_on.replace(day=1)
        if not groups or groups[-1][0] != month:
            groups.append((month, []))
        groups[-1][1].append(event)
    return groups


def in_month(session: Session, year: int, month: int) -> Sequence[Event]:
    """Events that touch any day of the month, from their ship-by day to their last day (a show
    from 30 Nov to 2 Dec is in both months; one shipping on 28 Jan for 3 Feb is in January too)."""
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    return session.scalars(
        select(Event).where(Event.ship_by <= last, Event.ends_on >= first)
        .order_by(Event.starts_on, Event.ends_on.desc(), Event.id)
    ).all()


@dataclass
class Day:
    day: date
    in_month: bool
    today: bool
    events: list[Event] = field(default_factory=list)   # on during this day
    ships: list[Event] = field(default_factory=list)    # must leave the stockroom this day (before they start)


def month_grid(year: int, month: int, events: Sequence[Event], today: date) -> list[list[Day]]:
    """The month as weeks of seven Days, Monday first, each with the events on that day and those
    that ship that day."""
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append([Day(d, d.month == month, d == today,
                          [e for e in events if e.starts_on <= d <= e.ends_on],
                          [e for e in events if e.ship_by == d and e.ship_by < e.starts_on]) for d in week])
    return weeks


def month_arg(value: str | None, today: date) -> tuple[int, int]:
    """'2026-12' -> (2026, 12); anything else means the current month."""
    match = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})", (value or "").strip(), re.ASCII)  # no "٢٠٢٦-١٢"
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12 and 1900 < year < 3000:
            return year, month
    return today.year, today.month


def shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1
