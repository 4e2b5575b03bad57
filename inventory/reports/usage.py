"""Usage reports: plain functions that read, one per report, each a handful of aggregate queries
(GROUP BY in the database, never a query per row). Pages, CSV downloads and tests share them.
Here: what a usage is and how it is summed, per rep and per item; per event in
reports/event_costs.py, over time in reports/over_time.py.

Definitions (the report pages say the same in words):
- A request's usage counts in the period in which it was **handed over** (the time of its
  "handed over" step, UTC). What became of returnables is what has been checked in so far.
- Issued = handed over. Consumables handed over count as used. Returnables are returned, used
  up (consumed), lost or damaged at check-in; until then they are still out and not costed.
- Cost = every unit that did not come back (used + lost + damaged) x the unit cost **recorded
  when it was handed over** (on the issue movement, and beside `issued` on the request line,
  which is where it is read: the line already keeps what became of its units): what it cost
  then, so a later price change does not rewrite the past. Lost, damaged and used-up returnables
  are costed at that hand-over too (check-in books no movement for them: they left the shelf when
  they were issued). As on the event page.
- Stock value, slow movers and expiring print (reports/shelf.py) value what is on the shelf
  *today*: on hand x the item's current unit cost.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Date, Row, Subquery, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from ..auth.models import User
from ..catalog.models import Item
from ..requests.models import Request, RequestLine, RequestStep
from .common import ZERO, by_id, standing
from .periods import Period

# What usage is summed per: columns of the request lines, their requests or `handed_over` (none: the total).
Keys = Sequence[InstrumentedAttribute[Any] | ColumnElement[Any]]
R = TypeVar("R")


@dataclass
class Usage:
    """What went out and what became of it, for one event, rep, item or period (or a total)."""
    requests: int = 0
    issued: int = 0      # handed over
    returned: int = 0    # returnables back in a bin
    used: int = 0        # consumables handed over, returnables checked in as consumed
    lost: int = 0
    damaged: int = 0
    still_out: int = 0   # returnables not checked in yet (not costed)
    cost: Decimal = ZERO
    issued_value: Decimal = ZERO   # what went out, at the unit costs recorded on its issues
    unit_costs: set[Decimal] = field(default_factory=set)   # the distinct unit costs recorded on those issues

    @property
    def unit_cost(self) -> Decimal | None:
        """The unit cost recorded when these units went out; when they went out at different
        costs, their average per unit issued, to the cent. None when nothing was issued."""
        if len(self.unit_costs) == 1:
            return next(iter(self.unit_costs))
        if not self.issued:
            return None
        return (self.issued_value / self.issued).quantize(Decimal("0.01"))

    @property
    def several_costs(self) -> bool:
        return len(self.unit_costs) > 1

    def add_line(self, unit_cost: Decimal | None, returnable: bool, issued: int, returned: int, consumed: int,
                 lost: int, damaged: int) -> None:
        unit_cost = unit_cost if unit_cost is not None else ZERO
        self.issued += issued
        self.issued_value += issued * unit_cost
        self.unit_costs.add(unit_cost)
        if returnable:
            self.returned += returned
            self.used += consumed
            self.lost += lost
            self.damaged += damaged
            self.still_out += issued - returned - consumed - lost - damaged
            written_off = consumed + lost + damaged
        else:
            self.used += issued
            written_off = issued
        self.cost += written_off * unit_cost


@dataclass
class UsageReport(Generic[R]):
    rows: list[R]   # EventUsage, RepUsage or ItemUsage
    total: Usage


@dataclass
class RepUsage:
    rep: User
    usage: Usage = field(default_factory=Usage)


@dataclass
class ItemUsage:
    item: Item
    usage: Usage = field(default_factory=Usage)


def handed_over(period: Period) -> Subquery:
    """Requests handed over within the period (hand-overs since undone left out), with the moment
    and its day (one row per request; the day is worked out here, once per request rather than
    once per line)."""
    return (
        select(RequestStep.request_id.label("request_id"), func.min(RequestStep.at).label("handed_at"),
               func.date(func.min(RequestStep.at), type_=Date).label("day"))
        .where(RequestStep.action == "handed_over", RequestStep.at >= period.starts_at,
               RequestStep.at < period.ends_before, standing())
        .group_by(RequestStep.request_id)
        .subquery()
    )


def usage_lines(session: Session, handed: Subquery, keys: Keys) -> Sequence[Row[Any]]:
    """Issued/returned/... summed per keys and (unit cost as handed over, returnable), all the
    cost needs: one query, whose rows grow with the keys and the distinct unit costs, not with
    the lines. A line handed over before its cost was recorded (none are, after migration 0013)
    would count at the item's unit cost now."""
    unit_cost = func.coalesce(RequestLine.issued_unit_cost, Item.unit_cost)
    return session.execute(
        select(*keys, unit_cost, Item.returnable,
               func.sum(RequestLine.issued), func.sum(RequestLine.returned), func.sum(RequestLine.consumed),
               func.sum(RequestLine.lost), func.sum(RequestLine.damaged))
        .select_from(RequestLine)
        .join(Request, Request.id == RequestLine.request_id)
        .join(handed, handed.c.request_id == Request.id)
        .join(Item, Item.id == RequestLine.item_id)
        .where(RequestLine.issued > 0)
        .group_by(*keys, unit_cost, Item.returnable)
    ).all()


def request_counts(session: Session, handed: Subquery, keys: Keys) -> dict[tuple[Any, ...], int]:
    """How many requests handed over in the period issued something, per key: one query."""
    rows = session.execute(
        select(*keys, func.count(func.distinct(Request.id)))
        .select_from(RequestLine)
        .join(Request, Request.id == RequestLine.request_id)
        .join(handed, handed.c.request_id == Request.id)
        .where(RequestLine.issued > 0)
        .group_by(*keys)
    ).all()
    return {tuple(row[:-1]): row[-1] for row in rows}


def _usage_by(session: Session, period: Period, keys: Keys) -> tuple[defaultdict[tuple[Any, ...], Usage], Usage]:
    """({key tuple: Usage}, total Usage) for the requests handed over in the period."""
    handed = handed_over(period)
    usages: defaultdict[tuple[Any, ...], Usage] = defaultdict(Usage)
    total = Usage()
    for row in usage_lines(session, handed, keys):
        key, (unit_cost, returnable, *counts) = tuple(row[:len(keys)]), row[len(keys):]
        counts = [int(c or 0) for c in counts]
        usages[key].add_line(unit_cost, returnable, *counts)
        total.add_line(unit_cost, returnable, *counts)
    for key, count in request_counts(session, handed, keys).items():
        usages[key].requests = count
    total.requests = request_counts(session, handed, []).get((), 0)
    return usages, total


def usage_by_rep(session: Session, period: Period) -> UsageReport[RepUsage]:
    """Per person who asked (kits count under the manager who reserved them), most cost first."""
    usages, total = _usage_by(session, period, [Request.requester_id])
    users = by_id(session, User, [key[0] for key in usages])
    rows = [RepUsage(users[key[0]], usage) for key, usage in usages.items()]
    rows.sort(key=lambda r: (-r.usage.cost, -r.usage.issued, r.rep.display_name.lower()))
    return UsageReport(rows, total)


def usage_by_item(session: Session, period: Period) -> UsageReport[ItemUsage]:
    """Per item, most cost first."""
    usages, total = _usage_by(session, period, [RequestLine.item_id])
    items = by_id(session, Item, [key[0] for key in usages], selectinload(Item.product))
    rows = [ItemUsage(items[key[0]], usage) for key, usage in usages.items()]
    rows.sort(key=lambda r: (-r.usage.cost, -r.usage.issued, r.item.sku))
    return UsageReport(rows, total)
