"""When to order (docs/design.md, "The reorder forecast"): the forecast's settings (its reach,
safety margin and warning window) and the order-by date of a need (the need date - the
supplier's lead time - a safety margin in working days)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Row

from ..catalog.models import MAX_LEAD_TIME_DAYS
from ..timeutil import add_days

# The highest lead time the projection takes as it is: the catalog's cap. A row written by another
# program may hold more; it is counted as the cap, and every date below is held to the calendar's
# ends (timeutil.add_days), so no stored value can take the Reorders page or the digest down.
MAX_LEAD = MAX_LEAD_TIME_DAYS


@dataclass(frozen=True)
class Settings:
    horizon_days: int = 120
    safety_working_days: int = 5
    warning_days: int = 14

    @property
    def key(self) -> str:
        return f"{self.horizon_days}/{self.safety_working_days}/{self.warning_days}"


def settings_from(config: Mapping) -> Settings:
    return Settings(
        horizon_days=config.get("FORECAST_HORIZON_DAYS", 120),
        safety_working_days=config.get("FORECAST_SAFETY_WORKING_DAYS", 5),
        warning_days=config.get("FORECAST_WARNING_DAYS", 14),
    )


def subtract_working_days(day: date, count: int) -> date:
    while count > 0 and day > date.min:  # the calendar's first day: nothing earlier to order by
        day -= timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def order_by_date(need_date: date, lead_days: int | None, settings: Settings) -> date:
    lead = min(max(lead_days or 0, 0), MAX_LEAD)
    return subtract_working_days(add_days(need_date, -lead), settings.safety_working_days)


def lead_time(item: Row) -> int:
    return min(max(item.lead_time_days or 0, 0), MAX_LEAD)
