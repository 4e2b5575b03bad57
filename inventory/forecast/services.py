"""The reorder forecast (DESIGN.md "The reorder forecast").

For each item, stock is projected forward day by day: on hand now (for a returnable, the units
that exist), minus what open requests take on their needed-by dates (held and backordered; a
returnable comes back on its return date), plus ordered purchase orders on their expected dates.
Wherever an event's requests (or other requests) push the projection below zero (a shortfall) or
below the item's reorder point, the item is flagged for that event, with an order-by date = the
date the stock must be there - the supplier's lead time - a safety margin in working days.

Everything is read in a handful of set-based queries, whatever the size of the catalog; the
projection itself is plain Python over those rows. `today` is always passed in, never read
from the clock inside the rule, so the answers are reproducible.
"""
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from ..catalog.models import Item, Product
from ..events.models import Event
from ..purchasing.models import PurchaseOrder, PurchaseOrderLine
from ..requests.models import OPEN, Request, RequestLine
from ..stock.models import StockLevel

OK, SOON, NOW, EXPEDITE = "ok", "order_soon", "order_now", "expedite"
STATUS_LABELS = {OK: "OK", SOON: "Order soon", NOW: "Order now", EXPEDITE: "Expedite"}
URGENCY = {EXPEDITE: 0, NOW: 1, SOON: 2, OK: 3}
MAX_IN_LIST = 10_000


@dataclass(frozen=True)
class Settings:
    horizon_days: int = 120
    safety_working_days: int = 5
    warning_days: int = 14


@dataclass
class Step:
    """One change in the projection: on `day`, `change` units because of `cause`."""
    day: date
    change: int
    projected: int
    cause: str


@dataclass
class Flag:
    item: Item
    status: str
    event: Event | None
    need_date: date
    order_by: date
    projected: int
    shortfall: int
    suggested_quantity: int
    reason: str

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]


@dataclass
class ItemForecast:
    item: Item
    start: int
    steps: list = field(default_factory=list)
    flags: list = field(default_factory=list)

    @property
    def status(self):
        return min((f.status for f in self.flags), key=URGENCY.get, default=OK)


def subtract_working_days(day, count):
    while count > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def _fmt(day):
    return f"{day.day} {day:%B}"


def _demand(horizon_end):
    """Conditions on request lines (joined to their requests) that take or bring back stock
    within the horizon: open requests needed by then, and handed-over returnables (whenever they
    were needed, they come back on their return date). Handed-over consumables were issued for
    good. Saying so lets the database skip years of finished requests: each branch has its index,
    request (status, needed_by) and request (status, return_by)."""
    return (((Request.status.in_(OPEN)) & (Request.needed_by <= horizon_end))
            | ((Request.status == "handed_over") & Request.return_by.is_not(None)),
            # reserved + backordered > 0 (both are never negative), said so that the planner can
            # estimate it from each column's statistics.
            (RequestLine.reserved > 0) | (RequestLine.backordered > 0))


def _load(session, horizon_end, ids=None):
    """On hand, demand (open requests up to the horizon), supply (ordered POs) and the events
    concerned, for the items with these ids (all items when None), in four set-based queries."""
    return (_on_hand(session, ids), *_flows(session, horizon_end, ids))


def _on_hand(session, ids=None):
    id_filter = StockLevel.item_id.in_(ids) if ids is not None else True
    return dict(session.execute(
        select(StockLevel.item_id, func.sum(StockLevel.quantity)).where(id_filter).group_by(StockLevel.item_id)
    ).all())


def _flows(session, horizon_end, ids=None):
    """Demand (request lines), supply (ordered PO lines) and the events the demand is for."""
    filtered = ids is not None
    line_filter = RequestLine.item_id.in_(ids) if filtered else True
    demand = session.execute(
        select(RequestLine.item_id, RequestLine.reserved, RequestLine.backordered, RequestLine.issued,
               Request.status, Request.needed_by, Request.event_id, Request.id.label("request_id"),
               # Only returnables come back: a consumable on the same request is gone for good.
               case((Item.returnable.is_(True), Request.return_by), else_=None).label("return_by"))
        .join(Request, RequestLine.request_id == Request.id)
        .join(Item, RequestLine.item_id == Item.id)
        .where(line_filter, *_demand(horizon_end))
    ).all()
    po_filter = PurchaseOrderLine.item_id.in_(ids) if filtered else True
    supply = session.execute(
        select(PurchaseOrderLine.item_id, PurchaseOrderLine.quantity, PurchaseOrderLine.received,
               PurchaseOrder.expected_on, PurchaseOrder.id.label("order_id"))
        .join(PurchaseOrder, PurchaseOrderLine.order_id == PurchaseOrder.id)
        .where(po_filter, PurchaseOrder.status == "ordered", PurchaseOrderLine.quantity > PurchaseOrderLine.received)
    ).all()
    event_ids = {row.event_id for row in demand if row.event_id}
    events = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(event_ids)))} if event_ids else {}
    return demand, supply, events


def forecast(session, today, settings=Settings(), item_ids=None):
    """ItemForecast for every active item (or those in `item_ids`), flags sorted by urgency."""
    items_query = select(Item).where(Item.archived.is_(False)).options(selectinload(Item.product))
    if item_ids is not None:
        items_query = select(Item).where(Item.id.in_(item_ids)).options(selectinload(Item.product))
    items = session.scalars(items_query).all()
    if not items:
        return []
    horizon_end = today + timedelta(days=settings.horizon_days)
    loaded = _load(session, horizon_end, [item.id for item in items] if item_ids is not None else None)
    return _forecast(today, settings, items, loaded)


# What the projection reads of an item; flagged() projects these columns, not whole ORM items.
_ITEM_COLUMNS = (Item.id, Item.sku, Item.unit, Item.supplier, Item.lead_time_days, Item.reorder_point,
                 Item.reorder_quantity, Item.returnable)


def _forecast(today, settings, items, loaded, flags_only=False):
    """Project each item; with `flags_only`, skip the items that cannot be flagged (their
    ItemForecast then has no steps)."""
    horizon_end = today + timedelta(days=settings.horizon_days)
    on_hand, demand, supply, events = loaded
    changes = defaultdict(list)  # item_id -> [(day, order, change, event_id, cause)]
    held = defaultdict(int)  # consumables promised to open requests, whatever their date
    # Rows unpacked as tuples (in _flows' column order): far cheaper than attribute access per row.
    for item_id, reserved, backordered, issued, status, needed_by, event_id, request_id, return_by in demand:
        if status == "handed_over":
            # Already out: the units left on hand when issued; a returnable comes back.
            if return_by:
                changes[item_id].append((max(return_by, today), 0, issued, None, f"R-{request_id:05d} back"))
            continue
        held[item_id] += reserved
        quantity = reserved + backordered
        label = events[event_id].name if event_id in events else f"R-{request_id:05d}"
        changes[item_id].append((max(needed_by, today), 2, -quantity, event_id, label))
        if return_by:
            changes[item_id].append((max(return_by, today), 0, quantity, None, f"{label} back"))
    on_order = defaultdict(int)  # ordered and not yet received, whenever it is expected
    for item_id, quantity, received, expected_on, order_id in supply:
        on_order[item_id] += quantity - received
        arrives = max(expected_on or today, today)
        if arrives <= horizon_end:
            changes[item_id].append((arrives, 1, quantity - received, None, f"PO-{order_id:05d}"))
    results = []
    for item in items:
        start = int(on_hand.get(item.id) or 0)  # a returnable out with a rep comes back on its return step
        available_now = start if item.returnable else start - held[item.id]
        if item.id not in changes and available_now + on_order[item.id] >= item.reorder_point:
            results.append(ItemForecast(item=item, start=start))  # nothing ahead and enough: nothing to project
            continue
        if flags_only and available_now + on_order[item.id] >= item.reorder_point and \
                start - sum(-c[2] for c in changes[item.id] if c[1] == 2) >= max(item.reorder_point, 0):
            # Returns and deliveries only add: even if every request took its units on day one,
            # the level would stay at or above the reorder point and zero. No flag is possible.
            results.append(ItemForecast(item=item, start=start))
            continue
        results.append(_project(item, start, available_now, on_order[item.id],
                                sorted(changes[item.id], key=lambda c: (c[0], c[1])), events, today, settings))
    return results


def _project(item, start, available_now, on_order, changes, events, today, settings):
    result = ItemForecast(item=item, start=start)
    level = start
    reorder_point = item.reorder_point
    # Group the demand of one day by event so each event is judged on its own needs.
    by_day = defaultdict(list)
    for change in changes:
        by_day[change[0]].append(change)
    seen_events = set()
    flagged_general = False
    # The reorder point is judged on the inventory position: available now plus what is on order.
    if available_now + on_order < reorder_point:
        result.flags.append(_flag(item, None, today, available_now, 0, today, settings, below_now=True,
                                  held=start - available_now, on_order=on_order))
        flagged_general = True
    for day in sorted(by_day):
        entries = by_day[day]
        for _day, order, change, _event_id, cause in entries:
            if order < 2:  # returns and deliveries first: they can serve the same day's needs
                level += change
                result.steps.append(Step(day, change, level, cause))
        groups = defaultdict(int)
        causes = {}
        for _day, order, change, event_id, cause in entries:
            if order == 2:
                groups[event_id] += -change
                causes.setdefault(event_id, cause)
        for event_id in sorted(groups, key=lambda e: (e is None, e or 0)):
            needed = groups[event_id]
            before = level
            level -= needed
            result.steps.append(Step(day, -needed, level, causes[event_id]))
            # Falling under the reorder point is already flagged once when it shows in what is
            # available now (held stock counts as gone); a later event is flagged for shortfalls.
            crossed = before >= reorder_point > level and not flagged_general
            short = max(0, min(needed, -level))
            if not (short or crossed):
                continue
            event = events.get(event_id)
            if event is not None:
                if event_id in seen_events:
                    continue
                seen_events.add(event_id)
            elif flagged_general:
                continue
            else:
                flagged_general = True
            result.flags.append(_flag(item, event, day, level, short, today, settings))
    result.flags.sort(key=lambda f: (URGENCY[f.status], f.order_by))
    return result


def _flag(item, event, need_date, projected, short, today, settings, below_now=False, held=0, on_order=0):
    lead = item.lead_time_days
    order_by = subtract_working_days(need_date - timedelta(days=lead), settings.safety_working_days)
    suggested = max(item.reorder_quantity, item.reorder_point - projected - on_order, short)
    supplier = item.supplier or "the supplier"
    unit = "" if item.unit in ("each", "") else f" {item.unit}"
    if below_now:
        status = NOW
        notes = [f"{held} held for requests"] if held else []
        if on_order:
            notes.append(f"{on_order} on order")
        held_note = f" ({', '.join(notes)})" if notes else ""
        reason = (f"{projected}{unit} available now{held_note}, under the reorder point of {item.reorder_point}; "
                  f"{supplier} needs {lead} days: order now")
        order_by = today
    else:
        if short and order_by < today:
            status = EXPEDITE
        elif order_by <= today:
            status = NOW
        elif (order_by - today).days <= settings.warning_days:
            status = SOON
        else:
            status = OK
        what = event.name if event is not None else "requests"
        if short:
            head = f"{short}{unit} short for {what} on {_fmt(need_date)}"
        else:
            head = f"{max(projected, 0)}{unit} left after {what} on {_fmt(need_date)}, under the reorder point of {item.reorder_point}"
        if status == EXPEDITE:
            tail = f"{supplier} needs {lead} days, so a normal order by {_fmt(order_by)} is already too late: expedite"
        else:
            tail = f"{supplier} needs {lead} days; order by {_fmt(order_by)}"
        reason = f"{head}; {tail}"
    return Flag(item=item, status=status, event=event, need_date=need_date, order_by=order_by, projected=projected,
                shortfall=short, suggested_quantity=suggested, reason=reason)


def _under_reorder_point(session, item_ids=None):
    """Ids of the items (of those in `item_ids`, when given) whose stock plus what is on order is
    under their reorder point, in one set-based query."""
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


def _flags(session, today, settings, item_ids=None):
    """Every flag that needs action (not OK), most urgent first, each with the plain row of
    its item's columns (_ITEM_COLUMNS) as `item`; of the items in `item_ids` only, when given.

    Only the items that can be flagged at all are projected: those some request takes within
    the horizon, and those already under their reorder point with what is on order. Any other
    item only gains stock ahead (deliveries), so projecting it cannot raise a flag. They are
    projected from plain rows of the columns the projection reads, not as ORM items."""
    demand, supply, events = _flows(session, today + timedelta(days=settings.horizon_days), item_ids)
    # A few given items are simply all projected (those that cannot be flagged cost next to nothing).
    candidates = set(item_ids) if item_ids is not None and len(item_ids) <= MAX_IN_LIST else \
        {row.item_id for row in demand} | _under_reorder_point(session, item_ids)
    if not candidates:
        return [], events
    # Past some thousands an IN list is no cheaper than reading everything (and SQLite caps parameters).
    few = len(candidates) <= MAX_IN_LIST
    rows = [row for row in session.execute(select(*_ITEM_COLUMNS).where(
        Item.archived.is_(False), Item.id.in_(candidates) if few else True)) if row.id in candidates]
    loaded = (_on_hand(session, candidates if few else None), demand, supply, events)
    flags = [flag for result in _forecast(today, settings, rows, loaded, flags_only=True)
             for flag in result.flags if flag.status != OK]
    return sorted(flags, key=_most_urgent_first), events


def _most_urgent_first(flag):
    return URGENCY[flag.status], flag.order_by, flag.item.sku


def flagged(session, today, settings=Settings()):
    """Every flag that needs action (not OK), most urgent first, with its Item (and product)
    loaded: a few hundred of thousands."""
    flags, _events = _flags(session, today, settings)
    if flags:
        items = {item.id: item for item in session.scalars(
            select(Item).where(Item.id.in_({flag.item.id for flag in flags})).options(selectinload(Item.product)))}
        for flag in flags:
            flag.item = items[flag.item.id]
    return flags


@dataclass(frozen=True)
class ItemFacts:
    """What a flag shows of its item, kept with a reused forecast (an ORM Item would not outlive
    its session)."""
    id: int
    sku: str
    name: str
    supplier: str | None
    unit: str
    lead_time_days: int


@dataclass(frozen=True)
class EventFacts:
    id: int
    name: str
    place: str
    ship_by: date


class Current(NamedTuple):
    """The flags as they are now (a tuple, not to be changed) and what they were computed from:
    (freshness stamp, today, settings), or None when the database has no stamp to go by; and
    the same flags by item id, which a later change re-projects item by item."""
    key: tuple | None
    flags: tuple
    by_item: dict
    full_at: float  # time.monotonic() of the full computation these flags were carried on from


def current_flags(session, today, settings=Settings()):
    """What `flagged` answers, with ItemFacts and EventFacts for items and events."""
    by_item = _with_facts(session, *_flags(session, today, settings))
    return Current(None, tuple(sorted((f for flags in by_item.values() for f in flags), key=_most_urgent_first)),
                   by_item, time.monotonic())


def _with_facts(session, flags, events):
    """{item id: (its flags, with ItemFacts and EventFacts)} for these flags (as _flags returns them)."""
    names = {}
    if flags:
        names = {row.id: Item.display_name(row.product, row.size) for row in session.execute(
            select(Item.id, Item.size, Product.name.label("product")).join(Product, Item.product_id == Product.id)
            .where(Item.id.in_({flag.item.id for flag in flags})))}
    facts = {e.id: EventFacts(e.id, e.name, e.place, e.ship_by) for e in events.values()}
    by_item = defaultdict(list)
    for flag in flags:
        item = flag.item
        by_item[item.id].append(replace(
            flag, item=ItemFacts(item.id, item.sku, names[item.id], item.supplier, item.unit, item.lead_time_days),
            event=facts[flag.event.id] if flag.event is not None else None))
    return {item_id: tuple(item_flags) for item_id, item_flags in by_item.items()}


def by_event(flags):
    """[(event or None, [flags])]: events in date order, general reorders last."""
    groups = defaultdict(list)
    for flag in flags:
        groups[flag.event.id if flag.event else None].append(flag)
    events = {flag.event.id: flag.event for flag in flags if flag.event}
    ordered = sorted((e for e in groups if e is not None), key=lambda e: (events[e].ship_by, e))
    return [(events[e], groups[e]) for e in ordered] + ([(None, groups[None])] if None in groups else [])


def event_flags(session, event, today, settings=Settings()):
    """The flags (any status) that concern one event, for its page."""
    item_ids = session.scalars(
        select(RequestLine.item_id).join(Request, RequestLine.request_id == Request.id)
        .where(Request.event_id == event.id).distinct()
    ).all()
    if not item_ids:
        return []
    results = forecast(session, today, settings, item_ids=item_ids)
    return sorted((f for r in results for f in r.flags if f.event is not None and f.event.id == event.id),
                  key=lambda f: (URGENCY[f.status], f.item.sku))


def settings_from(config):
    return Settings(
        horizon_days=config.get("FORECAST_HORIZON_DAYS", 120),
        safety_working_days=config.get("FORECAST_SAFETY_WORKING_DAYS", 5),
        warning_days=config.get("FORECAST_WARNING_DAYS", 14),
    )
