"""What a projection finds and answers: the steps of an item's timeline, what it found for each
need, the flags (as forecast/stored.py writes them) and the item's forecast as a whole."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row

from .models import OK, STATUS_LABELS, URGENCY, ReorderFlag


@dataclass
class Step:
    """One change in the projection: on `day`, `change` units because of `cause`."""
    day: date
    change: int
    projected: int
    cause: str


@dataclass
class Flag:
    """A computed flag, as forecast/stored.py writes it (ids, not objects)."""
    item_id: int
    event_id: int | None
    kind: str
    status: str
    need_date: date
    order_by: date
    projected: int
    shortfall: int
    suggested_quantity: int
    orders: list[dict[str, Any]]  # the item's purchase orders, as ReorderFlag.orders holds them
    reason: str
    needed: int = 0  # what the projection is missing at the need, earlier needs included
    covered: int = 0  # what late orders bring for it

    @property
    def rank(self) -> int:
        return URGENCY[self.status]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def row(self, now: datetime) -> dict[str, Any]:
        """The flag as a row of the reorder_flag table (keys are its columns)."""
        return dict(item_id=self.item_id, event_id=self.event_id, kind=self.kind, status=self.status, rank=self.rank,
                    need_date=self.need_date, order_by=self.order_by, projected=self.projected,
                    shortfall=self.shortfall, suggested_quantity=self.suggested_quantity, orders=self.orders,
                    reason=self.reason, computed_at=now)

    def same_as(self, row: ReorderFlag) -> bool:
        """True when a stored row says what this flag says (computed_at aside)."""
        return all(getattr(row, name) == getattr(self, name) for name in (
            "item_id", "event_id", "kind", "status", "need_date", "order_by", "projected", "shortfall",
            "suggested_quantity")) and row.stored_reason == self.reason and list(row.orders) == list(self.orders)


@dataclass
class ItemForecast:
    item: Row[Any]  # a row of the items statement (forecast/loading.py)
    start: int
    steps: list[Step] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @property
    def status(self) -> str:
        return min((f.status for f in self.flags), key=URGENCY.__getitem__, default=OK)  # every flag's status is ranked


class Need:
    """What the projection found for one event (or for requests with no event) of an item."""
    __slots__ = ("event_id", "day", "projected", "short", "requests", "waiting", "crossed")
    event_id: int | None
    day: date | None  # the first day it is short: set with `short`
    projected: int
    short: int
    requests: list[int]  # the ids of the requests short there
    waiting: defaultdict[int, int]  # {request id: units it waits for (backordered) that are short}
    crossed: tuple[date, int] | None  # (day, level) where it first crosses the reorder point, before any shortfall

    def __init__(self, event_id: int | None) -> None:
        self.event_id, self.day, self.projected, self.short = event_id, None, 0, 0
        self.requests, self.waiting, self.crossed = [], defaultdict(int), None
