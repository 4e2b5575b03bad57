"""Reports: plain functions that read, one per report, each a handful of aggregate queries
(GROUP BY in the database, never a query per row). Pages, CSV downloads and tests share them.

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
- Stock value, slow movers and expiring print value what is on the shelf *today*: on hand x the
  item's current unit cost.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Date, case, exists, func, select
from sqlalchemy.orm import aliased, selectinload

from ..auth.models import User
from ..bins.models import Bin
from ..catalog.models import CATEGORIES, CATEGORY_LABELS, Item, Product
from ..errors import InvalidInput
from ..events.models import Event, KitTemplate
from ..pagination import Page
from ..requests.models import Request, RequestLine, RequestStep, request_number
from ..stock import services as stock
from ..stock.models import Movement, StockLevel

ZERO = Decimal("0.00")
# Requests that did not go ahead: no usage, and not owed a delivery (service level).
NOT_GOING_AHEAD = ("cancelled", "rejected")
# Stock really going in or out. Moves between bins, adjustments and counts are bookkeeping, not use.
MOVING_KINDS = ("receive", "put_away", "pick", "issue", "return")
MAX_DAYS_ARG = 3650


def days_arg(value, default, *, what="Days", minimum=1):
    """A number of days from a form: blank means the default; anything else must be a whole
    number between `minimum` and ten years."""
    value = (value or "").strip()
    if not value:
        return default
    # ASCII digits only: "²" passes str.isdigit() but not int(); a short string keeps int() cheap.
    if not (value.isascii() and value.isdigit() and len(value) <= 5) or not minimum <= int(value) <= MAX_DAYS_ARG:
        raise InvalidInput(f"{what} must be a whole number from {minimum} to {MAX_DAYS_ARG}, not '{value[:20]}'.")
    return int(value)


def _page(session, rows_query, count, page, per_page):
    """One page of `rows_query` (all rows when per_page is None, as for a CSV download)."""
    if per_page is None:
        rows = session.execute(rows_query).all()
        return Page(rows, 1, max(1, len(rows)), len(rows))
    rows = session.execute(rows_query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(rows, page, per_page, count)


# Usage: per event, per rep, per item, over time ----------------------------------------------

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
    unit_costs: set = field(default_factory=set)   # the distinct unit costs recorded on those issues

    @property
    def unit_cost(self):
        """The unit cost recorded when these units went out; when they went out at different
        costs, their average per unit issued, to the cent. None when nothing was issued."""
        if len(self.unit_costs) == 1:
            return next(iter(self.unit_costs))
        if not self.issued:
            return None
        return (self.issued_value / self.issued).quantize(Decimal("0.01"))

    @property
    def several_costs(self):
        return len(self.unit_costs) > 1

    def add_line(self, unit_cost, returnable, issued, returned, consumed, lost, damaged):
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
class UsageReport:
    rows: list
    total: Usage


@dataclass
class EventUsage:
    event: Event | None          # None: requests not linked to any event
    usage: Usage = field(default_factory=Usage)
    kit_cost: Decimal = ZERO     # the part of the cost from kits reserved for the event
    kits: list = field(default_factory=list)   # [(KitTemplate, kits handed over)]

    @property
    def name(self):
        return self.event.name if self.event else "Not for an event"


@dataclass
class RepUsage:
    rep: User
    usage: Usage = field(default_factory=Usage)


@dataclass
class ItemUsage:
    item: Item
    usage: Usage = field(default_factory=Usage)


def _standing():
    """A "handed over" step that stands: no "hand_over_undone" step came after it (a manager
    undid that hand-over: nothing went out, nothing is used or spent)."""
    undone = aliased(RequestStep)
    return ~exists().where(undone.request_id == RequestStep.request_id, undone.action == "hand_over_undone",
                           undone.id > RequestStep.id)


def _handed_over(period):
    """Requests handed over within the period (hand-overs since undone left out), with the moment
    and its day (one row per request; the day is worked out here, once per request rather than
    once per line)."""
    return (
        select(RequestStep.request_id.label("request_id"), func.min(RequestStep.at).label("handed_at"),
               func.date(func.min(RequestStep.at), type_=Date).label("day"))
        .where(RequestStep.action == "handed_over", RequestStep.at >= period.starts_at,
               RequestStep.at < period.ends_before, _standing())
        .group_by(RequestStep.request_id)
        .subquery()
    )


def _usage_lines(session, handed, keys):
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


def _request_counts(session, handed, keys):
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


def _usage_by(session, period, keys):
    """({key tuple: Usage}, total Usage) for the requests handed over in the period."""
    handed = _handed_over(period)
    usages, total = defaultdict(Usage), Usage()
    for row in _usage_lines(session, handed, keys):
        key, (unit_cost, returnable, *counts) = tuple(row[:len(keys)]), row[len(keys):]
        counts = [int(c or 0) for c in counts]
        usages[key].add_line(unit_cost, returnable, *counts)
        total.add_line(unit_cost, returnable, *counts)
    for key, count in _request_counts(session, handed, keys).items():
        usages[key].requests = count
    total.requests = _request_counts(session, handed, []).get((), 0)
    return usages, total


def _by_id(session, model, ids, *options):
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)).options(*options))}


def usage_by_event(session, period):
    """Per event: what its requests (kits included) handed over in the period issued, what came
    back, what was lost, and what that cost, of which how much in kits. Events by start date;
    requests for no event last."""
    handed = _handed_over(period)
    keys = [Request.event_id, Request.kit_id]
    rows, total = {}, Usage()
    for row in _usage_lines(session, handed, keys):
        event_id, kit_id, unit_cost, returnable, *counts = row
        counts = [int(c or 0) for c in counts]
        entry = rows.setdefault(event_id, EventUsage(None))
        before = entry.usage.cost
        entry.usage.add_line(unit_cost, returnable, *counts)
        total.add_line(unit_cost, returnable, *counts)
        if kit_id is not None:
            entry.kit_cost += entry.usage.cost - before
    for (event_id,), count in _request_counts(session, handed, [Request.event_id]).items():
        rows.setdefault(event_id, EventUsage(None)).usage.requests = count
    total.requests = _request_counts(session, handed, []).get((), 0)
    kit_rows = session.execute(
        select(Request.event_id, Request.kit_id, func.sum(Request.kit_count))
        .join(handed, handed.c.request_id == Request.id)
        .where(Request.kit_id.is_not(None))
        .group_by(Request.event_id, Request.kit_id)
    ).all()
    events = _by_id(session, Event, rows)
    kits = _by_id(session, KitTemplate, {kit_id for _e, kit_id, _n in kit_rows})
    for event_id, kit_id, count in kit_rows:
        if event_id in rows:
            rows[event_id].kits.append((kits[kit_id], int(count or 0)))
    for event_id, entry in rows.items():
        entry.event = events.get(event_id)
        entry.kits.sort(key=lambda pair: pair[0].name)
    ordered = sorted(rows.values(), key=lambda e: (e.event is None, e.event.starts_on if e.event else date.min,
                                                     e.event.id if e.event else 0))
    return UsageReport(ordered, total)


def usage_by_rep(session, period):
    """Per person who asked (kits count under the manager who reserved them), most cost first."""
    usages, total = _usage_by(session, period, [Request.requester_id])
    users = _by_id(session, User, [key[0] for key in usages])
    rows = [RepUsage(users[key[0]], usage) for key, usage in usages.items()]
    rows.sort(key=lambda r: (-r.usage.cost, -r.usage.issued, r.rep.display_name.lower()))
    return UsageReport(rows, total)


def usage_by_item(session, period):
    """Per item, most cost first."""
    usages, total = _usage_by(session, period, [RequestLine.item_id])
    items = _by_id(session, Item, [key[0] for key in usages], selectinload(Item.product))
    rows = [ItemUsage(items[key[0]], usage) for key, usage in usages.items()]
    rows.sort(key=lambda r: (-r.usage.cost, -r.usage.issued, r.item.sku))
    return UsageReport(rows, total)


@dataclass
class Bucket:
    first: date
    last: date
    usage: Usage = field(default_factory=Usage)


def bucket_size(period):
    """Days for a month or less, weeks (Monday to Sunday) up to half a year, months beyond."""
    if period.days <= 31:
        return "day"
    if period.days <= 190:
        return "week"
    return "month"


def _buckets(period, size):
    buckets, day = [], period.first
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


def usage_over_time(session, period):
    """(bucket size, [Bucket]): usage per day, week or month of the period (see bucket_size),
    empty buckets included. The database sums per day; the days are gathered into buckets here,
    which reads the same on SQLite and PostgreSQL."""
    size = bucket_size(period)
    buckets = _buckets(period, size)
    handed = _handed_over(period)
    day = handed.c.day
    lines_by_day = defaultdict(list)
    for handed_day, *line in _usage_lines(session, handed, [day]):
        lines_by_day[_as_date(handed_day)].append(line)
    requests_by_day = {_as_date(key[0]): count for key, count in _request_counts(session, handed, [day]).items()}
    for bucket in buckets:
        current = bucket.first
        while current <= bucket.last:
            for unit_cost, returnable, *counts in lines_by_day.get(current, ()):
                bucket.usage.add_line(unit_cost, returnable, *[int(c or 0) for c in counts])
            bucket.usage.requests += requests_by_day.get(current, 0)
            current += timedelta(days=1)
    return size, buckets


def _as_date(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


# Stock value, slow movers, expiring print ----------------------------------------------------

@dataclass
class CategoryValue:
    category: str
    items: int = 0
    units: int = 0
    value: Decimal = ZERO

    @property
    def label(self):
        return CATEGORY_LABELS.get(self.category, self.category)


@dataclass
class StockValue:
    rows: list
    total: CategoryValue


def stock_value(session):
    """Stock on hand now (every bin, DISPATCH included: picked stock is still ours) at current
    unit cost, per category, with a total. Categories without stock are listed at zero."""
    rows = session.execute(
        select(Product.category, Item.unit_cost, func.sum(StockLevel.quantity), func.count(func.distinct(Item.id)))
        .select_from(StockLevel)
        .join(Item, Item.id == StockLevel.item_id)
        .join(Product, Product.id == Item.product_id)
        .where(StockLevel.quantity > 0)
        .group_by(Product.category, Item.unit_cost)
    ).all()
    categories = {category: CategoryValue(category) for category in CATEGORIES}
    total = CategoryValue("total")
    for category, unit_cost, units, items in rows:
        value = int(units) * (unit_cost or ZERO)
        for entry in (categories.setdefault(category, CategoryValue(category)), total):
            entry.items += int(items)
            entry.units += int(units)
            entry.value += value
    return StockValue(list(categories.values()), total)


def _on_hand():
    return (
        select(StockLevel.item_id.label("item_id"), func.sum(StockLevel.quantity).label("on_hand"))
        .group_by(StockLevel.item_id)
        .having(func.sum(StockLevel.quantity) > 0)
        .subquery()
    )


@dataclass
class Totals:
    items: int = 0
    units: int = 0
    value: Decimal = ZERO


def _totals(session, query):
    """Items, units and value of (unit_cost, on_hand) rows, summed per unit cost in the database."""
    totals = Totals()
    for unit_cost, units, items in session.execute(query).all():
        totals.items += int(items)
        totals.units += int(units or 0)
        totals.value += int(units or 0) * (unit_cost or ZERO)
    return totals


@dataclass
class SlowMover:
    item: Item
    on_hand: int
    last_moved: datetime | None   # None: never received, picked, issued or returned

    @property
    def value(self):
        return self.on_hand * (self.item.unit_cost or ZERO)


def slow_movers(session, days, today, page=1, per_page=50):
    """Items with stock on hand that nothing moved in or out of (received, put away, picked,
    issued, returned) for `days` days, longest still first. Moves between bins, adjustments and
    counts do not count as movement. An item younger than `days` is not slow yet.
    Returns (Page of SlowMover, Totals)."""
    cutoff = datetime.combine(today - timedelta(days=days), time.min)
    on_hand = _on_hand()
    # Each item's last movement, newest first on the index (item_id, created_at): it stops at the
    # first one of a moving kind. Grouping all 200,000 ledger rows by item cost five times more.
    last_at = (select(Movement.created_at)
               .where(Movement.item_id == Item.id, Movement.kind.in_(MOVING_KINDS))
               .order_by(Movement.created_at.desc()).limit(1)
               .correlate(Item).scalar_subquery())
    since = func.coalesce(last_at, Item.created_at)
    condition = since < cutoff

    def joined(query):
        return query.join(on_hand, on_hand.c.item_id == Item.id).where(condition)

    totals = _totals(session, joined(select(Item.unit_cost, func.sum(on_hand.c.on_hand), func.count(Item.id))
                                     .select_from(Item)).group_by(Item.unit_cost))
    rows = joined(select(Item, on_hand.c.on_hand, last_at).select_from(Item)).options(
        selectinload(Item.product)).order_by(since, Item.sku)
    result = _page(session, rows, totals.items, page, per_page)
    result.rows = [SlowMover(item, int(quantity), last_at) for item, quantity, last_at in result.rows]
    return result, totals


@dataclass
class Expiring:
    item: Item
    on_hand: int
    held: int = 0
    bins: list = field(default_factory=list)   # [(bin code, quantity)]

    @property
    def value(self):
        return self.on_hand * (self.item.unit_cost or ZERO)

    def days_left(self, today):
        """Days from today to its last day of use: 0 on that day, negative once it has passed."""
        return (self.item.do_not_use_after - today).days


def expiring(session, days, today, page=1, per_page=50):
    """Items (print pieces) with stock on hand whose "do not use after" date has passed or falls
    within `days` days, soonest first, with the bins they lie in and what requests still hold of
    them. Returns (Page of Expiring, expired Totals, soon Totals)."""
    on_hand = _on_hand()
    horizon = today + timedelta(days=days)
    conditions = (Item.do_not_use_after.is_not(None), Item.do_not_use_after <= horizon)
    expired_flag = case((Item.do_not_use_after < today, 1), else_=0)
    totals_rows = session.execute(
        select(expired_flag, Item.unit_cost, func.sum(on_hand.c.on_hand), func.count(Item.id))
        .select_from(Item).join(on_hand, on_hand.c.item_id == Item.id).where(*conditions)
        .group_by(expired_flag, Item.unit_cost)
    ).all()
    expired, soon = Totals(), Totals()
    for flag, unit_cost, units, items in totals_rows:
        target = expired if flag else soon
        target.items += int(items)
        target.units += int(units or 0)
        target.value += int(units or 0) * (unit_cost or ZERO)
    rows = (select(Item, on_hand.c.on_hand).select_from(Item).join(on_hand, on_hand.c.item_id == Item.id)
            .where(*conditions).options(selectinload(Item.product)).order_by(Item.do_not_use_after, Item.sku))
    result = _page(session, rows, expired.items + soon.items, page, per_page)
    result.rows = [Expiring(item, int(quantity)) for item, quantity in result.rows]
    ids = [row.item.id for row in result.rows]
    if ids:
        by_id = {row.item.id: row for row in result.rows}
        for item_id, code, quantity in session.execute(
                select(StockLevel.item_id, Bin.code, StockLevel.quantity).join(Bin, Bin.id == StockLevel.bin_id)
                .where(StockLevel.item_id.in_(ids), StockLevel.quantity > 0).order_by(Bin.code)).all():
            by_id[item_id].bins.append((code, quantity))
        for item_id, availability in stock.availability(session, ids).items():
            by_id[item_id].held = availability.reserved
    return result, expired, soon


# Service level -------------------------------------------------------------------------------

@dataclass
class Delivery:
    """One request due in the period and how it was served."""
    request_id: int
    needed_by: date
    status: str
    requester: User
    event: Event | None
    handed_at: datetime | None
    asked: int
    issued: int
    short_lines: int

    @property
    def number(self):
        return request_number(self.request_id)

    @property
    def late(self):
        return self.handed_at is not None and self.handed_at.date() > self.needed_by

    @property
    def in_full(self):
        return self.handed_at is not None and self.short_lines == 0

    @property
    def met(self):
        return self.in_full and not self.late

    @property
    def reasons(self):
        """Why a miss is a miss, in words."""
        if self.handed_at is None:
            return [f"not handed over (needed by {self.needed_by:%-d %b %Y})"]
        reasons = []
        if self.late:
            reasons.append(f"late: handed over {self.handed_at:%-d %b %Y}, needed by {self.needed_by:%-d %b %Y}")
        if self.short_lines:
            reasons.append(f"short: {self.issued} of {self.asked} units handed over")
        return reasons


@dataclass
class ServiceLevel:
    due: int = 0        # requests counted: handed over, or overdue
    met: int = 0        # handed over in full on or before their needed-by day
    late: int = 0
    short: int = 0
    not_handed_over: int = 0
    pending: int = 0    # needed by today or later and not handed over yet: not counted
    misses: list = field(default_factory=list)       # [Delivery] not met
    deliveries: list = field(default_factory=list)   # [(Delivery, "met" | "missed" | "pending")]

    @property
    def share(self):
        """The share met, 0..1, or None when nothing was due."""
        return self.met / self.due if self.due else None

    @property
    def percent(self):
        """The share met in whole per cent, rounded down (199 of 200 is 99, never 100), or None."""
        return self.met * 100 // self.due if self.due else None


def service_level(session, period, today):
    """Of the requests needed by a day in the period (cancelled and rejected ones left out), the
    share handed over in full (every line handed over at the quantity asked, after any change
    the manager made before approving) on or before their needed-by day. A request not handed
    over yet counts as a miss once its needed-by day has passed; until then it is pending.
    One query for the requests, one for the names."""
    due = select(Request.id).where(Request.needed_by >= period.first, Request.needed_by <= period.last,
                                   Request.status.not_in(NOT_GOING_AHEAD))
    handed = (
        select(RequestStep.request_id.label("request_id"), func.min(RequestStep.at).label("handed_at"))
        .where(RequestStep.action == "handed_over", RequestStep.request_id.in_(due), _standing())
        .group_by(RequestStep.request_id)
        .subquery()
    )
    rows = session.execute(
        select(Request.id, Request.needed_by, Request.status, Request.requester_id, Request.event_id,
               handed.c.handed_at, func.sum(RequestLine.quantity), func.sum(RequestLine.issued),
               func.sum(case((RequestLine.issued < RequestLine.quantity, 1), else_=0)))
        .select_from(Request)
        .join(RequestLine, RequestLine.request_id == Request.id)
        .outerjoin(handed, handed.c.request_id == Request.id)
        .where(Request.id.in_(due))
        .group_by(Request.id, Request.needed_by, Request.status, Request.requester_id, Request.event_id,
                  handed.c.handed_at)
        .order_by(Request.needed_by, Request.id)
    ).all()
    users = _by_id(session, User, {row[3] for row in rows})
    events = _by_id(session, Event, {row[4] for row in rows})
    level = ServiceLevel()
    for request_id, needed_by, status, requester_id, event_id, handed_at, asked, issued, short_lines in rows:
        delivery = Delivery(request_id, needed_by, status, users[requester_id], events.get(event_id), handed_at,
                            int(asked or 0), int(issued or 0), int(short_lines or 0))
        if handed_at is None and needed_by >= today:
            level.pending += 1
            level.deliveries.append((delivery, "pending"))
            continue
        level.due += 1
        if delivery.met:
            level.met += 1
            level.deliveries.append((delivery, "met"))
            continue
        level.misses.append(delivery)
        level.deliveries.append((delivery, "missed"))
        if handed_at is None:
            level.not_handed_over += 1
        else:
            level.late += delivery.late
            level.short += bool(delivery.short_lines)
    return level
