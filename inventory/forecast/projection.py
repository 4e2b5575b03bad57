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

Its parts: forecast/loading.py reads, forecast/reasons.py words the flags, forecast/suggestions.py
says what to order, forecast/timing.py the order-by dates, forecast/results.py what it answers.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from ..holds.availability import booking_window
from ..purchasing.models import order_number
from ..requests.models import request_number
from ..timeutil import add_days
from . import reasons
from .loading import Loaded, OrderLine
from .models import URGENCY
from .results import Flag, ItemForecast, Need, Step
from .suggestions import suggest_all
from .timing import Settings, lead_time


def compute(session: Session, today: date, settings: Settings = Settings(),
            item_ids: list[int] | None = None) -> list[Flag]:
    """Every flag (none are "ok") of every active item, or of those in `item_ids`."""
    return compute_and_flagged(session, today, settings, item_ids)[0]


def compute_and_flagged(session: Session, today: date, settings: Settings = Settings(),
                        item_ids: list[int] | None = None) -> tuple[list[Flag], set[int]]:
    """(compute's flags, the ids of the items that have stored flags now): what a re-projection
    must delete, read with the items rather than by a statement of its own."""
    loaded = Loaded(session, today, settings, item_ids)
    return [flag for result in _project_all(loaded) for flag in result.flags], loaded.flagged


def forecast(session: Session, today: date, settings: Settings = Settings(),
             item_ids: list[int] | None = None) -> list[ItemForecast]:
    """ItemForecast (timeline and flags) for the items in `item_ids` (all active items when None)."""
    loaded = Loaded(session, today, settings, item_ids)
    return _project_all(loaded, every_item=item_ids is not None)


def _project_all(loaded: Loaded, every_item: bool = False) -> list[ItemForecast]:
    demand: defaultdict[int, list[Row[Any]]] = defaultdict(list)
    for row in loaded.demand:
        demand[row.item_id].append(row)
    orders: defaultdict[int, list[OrderLine]] = defaultdict(list)
    for order in loaded.orders:
        orders[order[0]].append(order)
    items = loaded.items
    if every_item:  # asked about by id: an archived item too gets its timeline, from its real stock
        items = items + loaded.left_out
    return [_project(item, int(loaded.on_hand.get(item.id) or 0), demand[item.id], orders[item.id], loaded)
            for item in items]


def _project(item: Row[Any], start: int, demand: list[Row[Any]], orders: list[OrderLine],
             loaded: Loaded) -> ItemForecast:
    today = loaded.today
    result = ItemForecast(item=item, start=start)
    unit = "" if item.unit in ("each", "") else f" {item.unit}"
    # (day, order, change, event_id, request_id): order 0 back, 1 arrives, 2 held, 3 waits
    changes: list[tuple[date, int, int, int | None, int]] = []
    held = 0
    held_by: list[str] = []
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
        result.steps.append(Step(today, -held, level, f"held for {reasons.listing(held_by)}"))
    needs: dict[int | None, Need] = {}  # event id or None -> what the projection says of it
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
            need = needs[event_id] = Need(event_id)
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
    stop: str | None = None
    if item.archived:
        stop = "the item is archived: restore it to order more, or release what waits for it"
    elif item.do_not_use_after is not None and \
            item.do_not_use_after < add_days(today, max(lead_time(item), loaded.settings.warning_days)):
        stop = (f"do not reorder it: it may not be used after {reasons.fmt_day(item.do_not_use_after)}; order its "
                f"successor")
    below_now = stop is None and item.reorder_point > 0 and available_now + on_order < item.reorder_point
    for event_id, need in needs.items():
        if need.short:
            result.flags.append(reasons.shortfall_flag(item, need, loaded, unit, ordered,
                                                       below_now and event_id is None, available_now, on_order,
                                                       orders_json))
        elif need.crossed and stop is None and not (event_id is None and below_now):
            flag = reasons.crossing_flag(item, need, loaded, unit, orders_json)
            if flag is not None:
                result.flags.append(flag)
    if below_now and not (None in needs and needs[None].short):
        result.flags.append(reasons.below_now_flag(item, loaded, unit, available_now, on_order, held, orders_json))
    suggest_all(item, result.flags, drafts, unit, stop)
    if not item.archived:
        retiring = reasons.retire_flag(item, start, held, demand, loaded, unit)
        if retiring is not None:
            result.flags.append(retiring)
    result.flags.sort(key=lambda f: (URGENCY[f.status], f.order_by))
    return result
