"""The reorder forecast (docs/design.md, "The reorder forecast"): what it projects and how it flags.

For each item, stock is projected forward day by day from what is free now:
- a consumable: on hand minus what open requests hold (held units are promised, whatever their
  date), then minus what they wait for (backorders) on their needed-by dates, plus ordered
  purchase orders on their expected dates;
- a returnable: the units that exist, out on each booking's needed-by date and back on its
  return date (held bookings first: they never overlap, so only what waits can fall short).

Wherever a need pushes the projection below zero, its event (or, for requests with no event,
the item's general stock) is short: a flag with the need date, the order-by date (need date -
the supplier's lead time - a safety margin in working days) and a status that says how urgent:
expedite (order-by passed), order now, order soon (within the warning window) or planned
(further off). A projected shortfall is never "ok". Under the reorder point now (available plus
on order) is "order now"; a print piece whose do-not-use-after date is near is "retire soon".

Every flag names the purchase orders of its item, drafts included: drafts are not supply (no
supplier has them), but the suggested quantity subtracts them, and the page offers the draft
instead of a new order.

Everything is read in a handful of set-based queries whatever the size of the catalog; the
projection is plain Python over those rows. `today` is always passed in, never read from the
clock here, so the answers are reproducible. forecast/stored.py writes the flags to the
`reorder_flag` table that every page reads.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import Date, Integer, String, bindparam, case, func, literal_column, null, select, true, union_all
from sqlalchemy.orm import aliased

from ..catalog.models import MAX_LEAD_TIME_DAYS, Item, Product
from ..events.models import Event, KitLine, KitTemplate
from ..purchasing.models import PurchaseOrder, PurchaseOrderLine, order_number
from ..holds.availability import booking_window
from ..requests.models import OPEN, Request, RequestLine, request_number
from ..stock.models import StockLevel
from ..timeutil import add_days

OK, PLANNED, SOON, NOW, EXPEDITE, RETIRE = "ok", "planned", "order_soon", "order_now", "expedite", "retire_soon"
STATUS_LABELS = {EXPEDITE: "Expedite", NOW: "Order now", SOON: "Order soon", RETIRE: "Retire soon",
                 PLANNED: "Planned", OK: "OK"}
URGENCY = {EXPEDITE: 0, NOW: 1, SOON: 2, RETIRE: 3, PLANNED: 4, OK: 5}
# What a flag is about.
SHORTFALL, REORDER_POINT, RETIRING = "shortfall", "reorder_point", "retire"
MAX_IN_LIST = 10_000
# The highest lead time the projection takes as it is: the catalog's cap. A row written by another
# program may hold more; it is counted as the cap, and every date below is held to the calendar's
# ends (timeutil.add_days), so no stored value can take the Reorders page or the digest down.
_MAX_LEAD = MAX_LEAD_TIME_DAYS


@dataclass(frozen=True)
class Settings:
    horizon_days: int = 120
    safety_working_days: int = 5
    warning_days: int = 14

    @property
    def key(self):
        return f"{self.horizon_days}/{self.safety_working_days}/{self.warning_days}"


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
    orders: list
    reason: str
    needed: int = 0  # what the projection is missing at the need, earlier needs included
    covered: int = 0  # what late orders bring for it

    @property
    def rank(self):
        return URGENCY[self.status]

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    def row(self, now):
        """The flag as a row of the reorder_flag table (keys are its columns)."""
        return dict(item_id=self.item_id, event_id=self.event_id, kind=self.kind, status=self.status, rank=self.rank,
                    need_date=self.need_date, order_by=self.order_by, projected=self.projected,
                    shortfall=self.shortfall, suggested_quantity=self.suggested_quantity, orders=self.orders,
                    reason=self.reason, computed_at=now)

    def same_as(self, row):
        """True when a stored row says what this flag says (computed_at aside)."""
        return all(getattr(row, name) == getattr(self, name) for name in (
            "item_id", "event_id", "kind", "status", "need_date", "order_by", "projected", "shortfall",
            "suggested_quantity")) and row.stored_reason == self.reason and list(row.orders) == list(self.orders)


@dataclass
class ItemForecast:
    item: object
    start: int
    steps: list = field(default_factory=list)
    flags: list = field(default_factory=list)

    @property
    def status(self):
        return min((f.status for f in self.flags), key=URGENCY.get, default=OK)


def subtract_working_days(day, count):
    while count > 0 and day > date.min:  # the calendar's first day: nothing earlier to order by
        day -= timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def order_by_date(need_date, lead_days, settings):
    lead = min(max(lead_days or 0, 0), _MAX_LEAD)
    return subtract_working_days(add_days(need_date, -lead), settings.safety_working_days)


def _fmt(day):
    return f"{day:%a} {day.day} {day:%b}"


def _listing(names, most=3):
    names = list(dict.fromkeys(names))
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"


# What the projection reads of an item.
# A request line that holds or waits for stock (the others are history): it has a partial index.
LIVE_LINE = (RequestLine.reserved > 0) | (RequestLine.backordered > 0)
_ITEM_COLUMNS = (Item.id, Item.sku, Item.unit, Item.supplier, Item.lead_time_days, Item.reorder_point,
                 Item.reorder_quantity, Item.returnable, Item.do_not_use_after, Item.replaced_by_id, Item.archived)
# Stands for the event's name in a stored reason: the name is read with the flag (forecast/models.py),
# so renaming an event never leaves an old name in a flag.
EVENT_NAME = "\u27e8event\u27e9"


class _EventName(NamedTuple):
    id: int
    name: str


# The statements of a projection. Built once for the items given by id (`bindparam` "ids"): every
# rule that changes an item projects it again in its own transaction, and building the statements
# cost more than running them. `ids` None means every item.
_IDS = bindparam("ids", expanding=True)


def _in(column, ids):
    return column.in_(ids) if ids is not None else true()


def _demand_statement(ids):
    """Open requests whatever their date (what they hold is held now), and handed-over
    returnables (they come back). Lines that hold or wait only: a partial index of their own."""
    return (select(RequestLine.item_id, RequestLine.reserved, RequestLine.backordered, RequestLine.issued,
                   Request.status, Request.needed_by, Request.event_id, Request.id.label("request_id"),
                   case((Item.returnable.is_(True), Request.return_by), else_=None).label("return_by"),
                   Event.name.label("event_name"))
            .join(Request, RequestLine.request_id == Request.id)
            .join(Item, RequestLine.item_id == Item.id)
            .outerjoin(Event, Request.event_id == Event.id)
            .where(_in(RequestLine.item_id, ids),
                   (Request.status.in_(OPEN)) | ((Request.status == "handed_over") & Request.return_by.is_not(None)),
                   LIVE_LINE))


def _orders_statement(ids):
    return (select(PurchaseOrderLine.item_id, PurchaseOrderLine.quantity - PurchaseOrderLine.received,
                   PurchaseOrder.status, PurchaseOrder.expected_on, PurchaseOrder.id)
            .join(PurchaseOrder, PurchaseOrderLine.order_id == PurchaseOrder.id)
            .where(_in(PurchaseOrderLine.item_id, ids), PurchaseOrder.status.in_(("draft", "ordered")),
                   PurchaseOrderLine.quantity > PurchaseOrderLine.received)
            .order_by(PurchaseOrder.id))


def _items_statement(ids):
    """The items with what they have on hand and their successor's SKU, in one query."""
    stock = (select(StockLevel.item_id, func.sum(StockLevel.quantity).label("quantity"))
             .where(_in(StockLevel.item_id, ids)).group_by(StockLevel.item_id).subquery())
    successor = aliased(Item)
    from .models import ReorderFlag  # the table this projection's flags replace
    flagged = select(ReorderFlag.id).where(ReorderFlag.item_id == Item.id).exists().label("flagged")
    return (select(*_ITEM_COLUMNS, stock.c.quantity, successor.sku.label("successor"), flagged)
            .outerjoin(stock, stock.c.item_id == Item.id)
            .outerjoin(successor, Item.replaced_by_id == successor.id)
            .where(_in(Item.id, ids)))


def _kits_statement(ids):
    """The kit templates that list the print pieces near their date (`warn_until`)."""
    return (select(KitLine.item_id, KitTemplate.name).join(KitTemplate, KitLine.kit_id == KitTemplate.id)
            .join(Item, KitLine.item_id == Item.id)
            .where(Item.do_not_use_after <= bindparam("warn_until"), KitTemplate.archived.is_(False),
                   _in(KitLine.item_id, ids))
            .order_by(KitTemplate.name))


def _flows_statement(ids):
    """Demand and purchase orders in one statement (one round trip fewer in every rule's
    re-projection): the demand's columns, and each order line in them as ("o", item, outstanding,
    -, -, status, expected on, -, order id)."""
    demand = _demand_statement(ids).add_columns(literal_column("'d'").label("source"))
    orders = (select(PurchaseOrderLine.item_id, PurchaseOrderLine.quantity - PurchaseOrderLine.received,
                     null().cast(Integer), null().cast(Integer), PurchaseOrder.status, PurchaseOrder.expected_on,
                     null().cast(Integer), PurchaseOrder.id, null().cast(Date), null().cast(String),
                     literal_column("'o'"))
              .join(PurchaseOrder, PurchaseOrderLine.order_id == PurchaseOrder.id)
              .where(_in(PurchaseOrderLine.item_id, ids), PurchaseOrder.status.in_(("draft", "ordered")),
                     PurchaseOrderLine.quantity > PurchaseOrderLine.received))
    return union_all(demand, orders)


_BY_ID = {}


def _statements(by_id):
    if not by_id:
        return {name: build(None) for name, build in _BUILDERS.items()}
    if not _BY_ID:
        _BY_ID.update({name: build(_IDS) for name, build in _BUILDERS.items()})
        _BY_ID["flows"] = _flows_statement(_IDS)
    return _BY_ID


_BUILDERS = {"demand": _demand_statement, "orders": _orders_statement, "items": _items_statement,
             "kits": _kits_statement}


class _Loaded:
    """What the projection reads, for some items, in a handful of set-based queries."""

    def __init__(self, session, today, settings, ids=None):
        self.today, self.settings = today, settings
        self.horizon_end = add_days(today, settings.horizon_days)
        warn_until = add_days(today, settings.warning_days)
        # Past some thousands an IN list is no cheaper than reading everything (and SQLite caps parameters).
        by_id = ids is not None and len(ids) <= MAX_IN_LIST
        statements = _statements(by_id)
        connection = session.connection()  # Core: the ORM's execution path costs more than these rows

        def run(name, **params):
            if by_id:
                params["ids"] = list(candidates if name in ("items", "kits") else ids)
            return connection.execute(statements[name], params).all()

        candidates = set(ids) if by_id else None
        if by_id:
            demand, orders = [], []
            for row in run("flows"):
                if row.source == "d":
                    demand.append(row)
                else:  # (item id, outstanding, status, expected on, order id), as the orders statement's
                    orders.append((row.item_id, row.reserved, row.status, row.needed_by, row.request_id))
            self.demand, self.orders = demand, sorted(orders, key=lambda o: o[4])
        else:
            demand = run("demand")
            self.demand = demand if ids is None else [row for row in demand if row.item_id in ids]
            orders = run("orders")
            self.orders = orders if ids is None else [row for row in orders if row[0] in ids]
        self.events = {row.event_id: _EventName(row.event_id, row.event_name)
                       for row in self.demand if row.event_id}
        # Items that can be flagged: demand, under the reorder point, or a print piece near its date.
        if not by_id:
            candidates = {row.item_id for row in self.demand} | _under_reorder_point(session, ids) | \
                _retiring(session, warn_until, ids)
            if ids is not None:
                candidates &= set(ids)
        self.items, self.left_out, self.on_hand = [], [], {}
        asked = set(ids) if ids is not None else None
        self.kits = defaultdict(list)
        self.flagged = set()  # the items that have stored flags now
        if candidates:
            # An archived item is still projected while requests wait for it (it cannot be received).
            waiting = {row.item_id for row in self.demand}
            for row in run("items"):
                if row.flagged:
                    self.flagged.add(row.id)
                self.on_hand[row.id] = row.quantity or 0
                if row.id in candidates and (not row.archived or row.id in waiting):
                    self.items.append(row)
                elif asked is not None and row.id in asked:  # not for flags; asked about, it gets its timeline
                    self.left_out.append(row)
            # Only print pieces near their date name their kits: most projections of a few items have none.
            if not by_id or any(row.do_not_use_after is not None and row.do_not_use_after <= warn_until
                                for row in self.items):
                for item_id, name in run("kits", warn_until=warn_until):
                    self.kits[item_id].append(name)
        self.successors = {row.replaced_by_id: row.successor for row in self.items if row.replaced_by_id}


def _under_reorder_point(session, item_ids=None):
    """Ids of the items whose stock plus what is on order is under their reorder point."""
    only = item_ids is not None
    stock = (select(StockLevel.item_id, func.sum(StockLevel.quantity).label("quantity"))
             .where(StockLevel.item_id.in_(item_ids) if only else True)
             .group_by(StockLevel.item_id).subquery())
    ordered = (select(PurchaseOrderLine.item_id,
                      func.sum(PurchaseOrderLine.quantity - PurchaseOrderLine.received).label("quantity"))
               .join(PurchaseOrder, PurchaseOrderLine.order_id == PurchaseOrder.id)
               .where(PurchaseOrderLine.item_id.in_(item_ids) if only else True,
                      PurchaseOrder.status == "ordered", PurchaseOrderLine.quantity > PurchaseOrderLine.received)
               .group_by(PurchaseOrderLine.item_id).subquery())
    return set(session.scalars(
        select(Item.id)
        .outerjoin(stock, stock.c.item_id == Item.id).outerjoin(ordered, ordered.c.item_id == Item.id)
        .where(Item.id.in_(item_ids) if only else True, Item.reorder_point > 0,
               Item.reorder_point > func.coalesce(stock.c.quantity, 0) + func.coalesce(ordered.c.quantity, 0))))


def _retiring(session, warn_until, item_ids=None):
    return set(session.scalars(select(Item.id).where(
        Item.id.in_(item_ids) if item_ids is not None else True, Item.archived.is_(False),
        Item.do_not_use_after.is_not(None), Item.do_not_use_after <= warn_until)))


def compute(session, today, settings=Settings(), item_ids=None):
    """Every flag (none are "ok") of every active item, or of those in `item_ids`."""
    return compute_and_flagged(session, today, settings, item_ids)[0]


def compute_and_flagged(session, today, settings=Settings(), item_ids=None):
    """(compute's flags, the ids of the items that have stored flags now): what a re-projection
    must delete, read with the items rather than by a statement of its own."""
    loaded = _Loaded(session, today, settings, item_ids)
    return [flag for result in _project_all(loaded) for flag in result.flags], loaded.flagged


def forecast(session, today, settings=Settings(), item_ids=None):
    """ItemForecast (timeline and flags) for the items in `item_ids` (all active items when None)."""
    loaded = _Loaded(session, today, settings, item_ids)
    return _project_all(loaded, every_item=item_ids is not None)


def _project_all(loaded, every_item=False):
    demand = defaultdict(list)
    for row in loaded.demand:
        demand[row.item_id].append(row)
    orders = defaultdict(list)
    for row in loaded.orders:
        orders[row[0]].append(row)
    items = loaded.items
    if every_item:  # asked about by id: an archived item too gets its timeline, from its real stock
        items = items + loaded.left_out
    return [_project(item, int(loaded.on_hand.get(item.id) or 0), demand[item.id], orders[item.id], loaded)
            for item in items]


def _project(item, start, demand, orders, loaded):
    today = loaded.today
    result = ItemForecast(item=item, start=start)
    unit = "" if item.unit in ("each", "") else f" {item.unit}"
    changes = []  # (day, order, change, event_id, request_id): order 0 back, 1 arrives, 2 held, 3 waits
    held = 0
    held_by = []
    for row in demand:
        if item.returnable:
            # The days the booking holds its units, as availability counts them: picked or out
            # early, from today; out past its return date (overdue), until it is checked in.
            window = booking_window(row.status, row.needed_by, row.return_by, today)
            back = window.end if window.end != date.max else None
            if row.status == "handed_over":  # out now: not in the level, back on its date
                if back is not None:
                    changes.append((max(back, today), 0, row.issued, None, row.request_id))
                continue
            out = max(window.start, today)
            if row.reserved:
                held_by.append(request_number(row.request_id))
                changes.append((out, 2, -row.reserved, row.event_id, row.request_id))
            if row.backordered:
                changes.append((out, 3, -row.backordered, row.event_id, row.request_id))
            if back is not None:
                changes.append((max(back, today), 0, row.reserved + row.backordered, None, row.request_id))
            continue
        if row.status == "handed_over":
            continue  # a consumable issued is gone for good
        if row.reserved:
            held_by.append(request_number(row.request_id))
        held += row.reserved  # promised now, whatever its date
        if row.backordered:
            changes.append((max(row.needed_by, today), 3, -row.backordered, row.event_id, row.request_id))
    ordered = [o for o in orders if o[2] == "ordered"]
    drafts = [o for o in orders if o[2] == "draft"]
    on_order = sum(o[1] for o in ordered)
    for item_id, quantity, _status, expected_on, order_id in ordered:
        changes.append((max(expected_on or today, today), 1, quantity, None, order_id))
    changes.sort(key=lambda c: (c[0], c[1]))
    available_now = start - held
    level = available_now
    if held:
        result.steps.append(Step(today, -held, level, f"held for {_listing(held_by)}"))
    needs = {}  # event id or None -> what the projection says of it
    # Every change counts, however far ahead (a known backorder is never left out); the timeline
    # shows the horizon's.
    for day, order, change, event_id, ref in changes:
        before = level
        level += change
        if day <= loaded.horizon_end:
            if order == 0:
                cause = f"{request_number(ref)} back"
            elif order == 1:
                cause = order_number(ref)
            else:
                cause = loaded.events[event_id].name if event_id in loaded.events else request_number(ref)
                if order == 3:
                    cause += f" (waiting, {request_number(ref)})" if event_id in loaded.events else " (waiting)"
            result.steps.append(Step(day, change, level, cause))
        if order < 2:
            continue
        need = needs.get(event_id)
        if need is None:
            need = needs[event_id] = _Need(event_id)
        short = max(0, min(-change, -level))
        if short:
            if not need.short:
                need.day, need.projected = day, level
            need.short += short
            need.requests.append(ref)
            if order == 3:
                need.waiting[ref] += min(short, -change)
        elif before >= item.reorder_point > level and need.crossed is None and not need.short:
            need.crossed = (day, level)
    orders_json = [{"id": o[4], "status": o[2], "quantity": int(o[1]),
                    "expected_on": o[3].isoformat() if o[3] else None} for o in orders]
    # Not to be ordered again: archived, or a print piece that may not be used by the time an order came.
    stop = None
    if item.archived:
        stop = "the item is archived: restore it to order more, or release what waits for it"
    elif item.do_not_use_after is not None and \
            item.do_not_use_after < add_days(today, max(_lead(item), loaded.settings.warning_days)):
        stop = (f"do not reorder it: it may not be used after {_fmt(item.do_not_use_after)}; order its "
                f"successor")
    below_now = stop is None and item.reorder_point > 0 and available_now + on_order < item.reorder_point
    for event_id, need in needs.items():
        if need.short:
            result.flags.append(_shortfall(item, need, loaded, unit, ordered, below_now and event_id is None,
                                           available_now, on_order, orders_json))
        elif need.crossed and stop is None and not (event_id is None and below_now):
            flag = _crossing(item, need, loaded, unit, orders_json)
            if flag is not None:
                result.flags.append(flag)
    if below_now and not (None in needs and needs[None].short):
        result.flags.append(_below_now(item, loaded, unit, available_now, on_order, held, orders_json))
    _suggest_all(item, result.flags, drafts, unit, stop)
    if not item.archived:
        retiring = _retire(item, start, held, demand, loaded, unit)
        if retiring is not None:
            result.flags.append(retiring)
    result.flags.sort(key=lambda f: (URGENCY[f.status], f.order_by))
    return result


def _suggest_all(item, flags, drafts, unit, stop):
    """What each flag should order, earliest need first: what its need leaves missing (the
    projection is cumulative, so a later need's counts the earlier ones too), ordered as at least
    the reorder quantity, less what drafts and late orders bring and what the earlier flags already
    suggest; nothing when those cover it.
    Then each reason says what the drafts are and, when they cover it, to order them."""
    drafted = sum(o[1] for o in drafts)
    so_far = 0
    for flag in sorted(flags, key=lambda f: f.need_date):
        already = flag.covered + drafted + so_far
        missing = flag.needed - already
        # An order of at least the reorder quantity, less what is already coming.
        flag.suggested_quantity = 0 if stop is not None or missing <= 0 else \
            max(flag.needed, item.reorder_quantity) - already
        so_far += flag.suggested_quantity
        flag.reason += _drafts_note(drafts, unit, covering_need=flag.suggested_quantity == 0 and stop is None)
        if stop is not None:
            flag.reason += f"; {stop}"


class _Need:
    """What the projection found for one event (or for requests with no event) of an item."""
    __slots__ = ("event_id", "day", "projected", "short", "requests", "waiting", "crossed")

    def __init__(self, event_id):
        self.event_id, self.day, self.projected, self.short = event_id, None, 0, 0
        self.requests, self.waiting, self.crossed = [], defaultdict(int), None


def _status_by_date(order_by, today, settings, shortfall):
    if order_by < today:
        return EXPEDITE if shortfall else NOW
    if order_by == today:
        return NOW
    if (order_by - today).days <= settings.warning_days:
        return SOON
    return PLANNED if shortfall else OK


def _supplier(item):
    return item.supplier or "the supplier"


def _lead(item):
    return min(max(item.lead_time_days or 0, 0), _MAX_LEAD)


def _drafts_note(drafts, unit, covering_need=None):
    if not drafts:
        return ""
    names = ", ".join(f"draft {order_number(o[4])} for {o[1]}{unit}" for o in drafts[:3])
    tail = ", not ordered yet"
    if covering_need:
        tail += ": order it" if len(drafts) == 1 else ": order them"
    return f"; {names}{tail}"


def _shortfall(item, need, loaded, unit, ordered, below_now, available_now, on_order, orders_json):
    today, settings = loaded.today, loaded.settings
    event = loaded.events.get(need.event_id)
    order_by = order_by_date(need.day, item.lead_time_days, settings)
    status = _status_by_date(order_by, today, settings, shortfall=True)
    if below_now and URGENCY[status] > URGENCY[NOW]:
        status, order_by = NOW, today  # under the reorder point already: order today, whatever the need's date
    if event is not None:
        head = f"{need.short}{unit} short for {EVENT_NAME} on {_fmt(need.day)}"
        if need.waiting:
            head += f" ({_listing(f'{q} waiting on {request_number(r)}' for r, q in need.waiting.items())})"
    else:
        waiting = [f"{q}{unit} backordered for {request_number(r)}" for r, q in need.waiting.items()]
        head = (f"{_listing(waiting)}, needed {_fmt(need.day)}" if waiting else
                f"{need.short}{unit} short for {_listing(request_number(r) for r in need.requests)} on {_fmt(need.day)}")
    late = [o for o in ordered if (o[3] or today) > need.day]
    parts = [head]
    if below_now:
        parts.append(f"{available_now}{unit} available now, under the reorder point of {item.reorder_point}")
    for o in late[:2]:
        parts.append(f"{order_number(o[4])} arrives {_fmt(max(o[3] or today, today))}, after the need on {_fmt(need.day)}: "
                     f"{'expedite it' if status == EXPEDITE else 'bring it forward'}")
    natural = order_by_date(need.day, item.lead_time_days, settings)
    if status == EXPEDITE:
        parts.append(f"{_supplier(item)} needs {_lead(item)} days, so a normal order by {_fmt(natural)} is already "
                     f"too late: expedite")
    elif below_now and natural != order_by:
        parts.append(f"{_supplier(item)} needs {_lead(item)} days: order now")
    else:
        parts.append(f"{_supplier(item)} needs {_lead(item)} days; order by {_fmt(order_by)}")
    needed = max(need.short, item.reorder_point - need.projected)
    if below_now:
        needed = max(needed, item.reorder_point - available_now - on_order + need.short)
    return Flag(item.id, need.event_id, SHORTFALL, status, need.day, order_by, need.projected, need.short,
                0, orders_json, "; ".join(parts), needed=needed, covered=sum(o[1] for o in late))


def _crossing(item, need, loaded, unit, orders_json):
    today, settings = loaded.today, loaded.settings
    day, projected = need.crossed
    order_by = order_by_date(day, item.lead_time_days, settings)
    status = _status_by_date(order_by, today, settings, shortfall=False)
    if status == OK:
        return None
    what = EVENT_NAME if need.event_id in loaded.events else "requests"
    reason = (f"{max(projected, 0)}{unit} left after {what} on {_fmt(day)}, under the reorder point of "
              f"{item.reorder_point}; {_supplier(item)} needs {_lead(item)} days; order by {_fmt(order_by)}")
    return Flag(item.id, need.event_id, REORDER_POINT, status, day, order_by, projected, 0, 0, orders_json, reason,
                needed=item.reorder_point - projected)


def _below_now(item, loaded, unit, available_now, on_order, held, orders_json):
    notes = [f"{held} held for requests"] if held else []
    if on_order:
        notes.append(f"{on_order} on order")
    held_note = f" ({', '.join(notes)})" if notes else ""
    reason = (f"{available_now}{unit} available now{held_note}, under the reorder point of {item.reorder_point}; "
              f"{_supplier(item)} needs {_lead(item)} days: order now")
    return Flag(item.id, None, REORDER_POINT, NOW, loaded.today, loaded.today, available_now, 0, 0, orders_json,
                reason, needed=item.reorder_point - available_now - on_order)


def _retire(item, start, held, demand, loaded, unit):
    """A print piece whose do-not-use-after date falls within the warning window (or has passed)
    while stock, requests or kits still have it."""
    last = item.do_not_use_after
    today = loaded.today
    if last is None or (last - today).days > loaded.settings.warning_days:
        return None
    holders = sorted({row.request_id for row in demand if row.status != "handed_over"})
    kits = loaded.kits.get(item.id, [])
    if not (start or holders or kits):
        return None
    if last < today:
        head = f"Expired on {_fmt(last)}"
    else:
        days = (last - today).days
        head = f"Do not use after {_fmt(last)} ({'today' if days == 0 else f'in {days} day' + ('s' if days != 1 else '')})"
    parts = [head, f"{start}{unit} on hand"]
    waiting = sum(row.backordered for row in demand if row.status != "handed_over")
    if holders:
        what = f"{held}{unit} held" if held else "asked for"
        if waiting:
            what += f", {waiting} waiting"
        parts.append(f"{what} by {_listing(request_number(r) for r in holders)}")
    if kits:
        parts.append(f"in kit {_listing(kits)}")
    successor = loaded.successors.get(item.replaced_by_id)
    if successor and (holders or kits):
        parts.append(f"replaced by {successor}: swap it in")
    elif successor:
        parts.append(f"replaced by {successor}; nothing holds it any more: recycle what is left")
    else:
        parts.append("no successor named: reprint, or name the piece that replaces it")
    return Flag(item.id, None, RETIRING, RETIRE, last, last, start, 0, 0, [], "; ".join(parts))


def by_event(flags):
    """[(event or None, [flags])]: events in date order, general stock last."""
    groups = defaultdict(list)
    for flag in flags:
        groups[flag.event.id if flag.event else None].append(flag)
    events = {flag.event.id: flag.event for flag in flags if flag.event}
    ordered = sorted((e for e in groups if e is not None), key=lambda e: (events[e].ship_by, e))
    return [(events[e], groups[e]) for e in ordered] + ([(None, groups[None])] if None in groups else [])


def settings_from(config):
    return Settings(
        horizon_days=config.get("FORECAST_HORIZON_DAYS", 120),
        safety_working_days=config.get("FORECAST_SAFETY_WORKING_DAYS", 5),
        warning_days=config.get("FORECAST_WARNING_DAYS", 14),
    )


def item_names(session, item_ids):
    """{item id: display name}, in one query."""
    if not item_ids:
        return {}
    return {row.id: Item.display_name(row.product, row.size) for row in session.execute(
        select(Item.id, Item.size, Product.name.label("product")).join(Product, Item.product_id == Product.id)
        .where(Item.id.in_(item_ids)))}
