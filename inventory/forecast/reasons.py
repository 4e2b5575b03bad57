"""The flags a projection raises for an item, each with its status and its reason in words: a
shortfall at a need, the reorder point crossed ahead or already passed now, a print piece to
retire (docs/design.md, "The reorder forecast")."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Row

from ..purchasing.models import order_number
from ..requests.models import request_number
from .loading import Loaded, OrderLine
from .models import EVENT_NAME, EXPEDITE, NOW, OK, PLANNED, REORDER_POINT, RETIRE, RETIRING, SHORTFALL, SOON, URGENCY
from .results import Flag, Need
from .timing import Settings, lead_time, order_by_date


def fmt_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def listing(names: Iterable[str], most: int = 3) -> str:
    names = list(dict.fromkeys(names))
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"


def _status_by_date(order_by: date, today: date, settings: Settings, shortfall: bool) -> str:
    if order_by < today:
        return EXPEDITE if shortfall else NOW
    if order_by == today:
        return NOW
    if (order_by - today).days <= settings.warning_days:
        return SOON
    return PLANNED if shortfall else OK


def _supplier(item: Row[Any]) -> str:
    return item.supplier or "the supplier"


def shortfall_flag(item: Row[Any], need: Need, loaded: Loaded, unit: str, ordered: list[OrderLine], below_now: bool,
                   available_now: int, on_order: int, orders_json: list[dict[str, Any]]) -> Flag:
    today, settings = loaded.today, loaded.settings
    assert need.day is not None  # a need that is short has its day: the projection sets both at once
    event = loaded.events.get(need.event_id) if need.event_id is not None else None
    order_by = order_by_date(need.day, item.lead_time_days, settings)
    status = _status_by_date(order_by, today, settings, shortfall=True)
    if below_now and URGENCY[status] > URGENCY[NOW]:
        status, order_by = NOW, today  # under the reorder point already: order today, whatever the need's date
    if event is not None:
        head = f"{need.short}{unit} short for {EVENT_NAME} on {fmt_day(need.day)}"
        if need.waiting:
            head += f" ({listing(f'{q} waiting on {request_number(r)}' for r, q in need.waiting.items())})"
    else:
        waiting = [f"{q}{unit} backordered for {request_number(r)}" for r, q in need.waiting.items()]
        head = (f"{listing(waiting)}, needed {fmt_day(need.day)}" if waiting else
                f"{need.short}{unit} short for {listing(request_number(r) for r in need.requests)} on {fmt_day(need.day)}")
    late = [o for o in ordered if (o[3] or today) > need.day]
    parts = [head]
    if below_now:
        parts.append(f"{available_now}{unit} available now, under the reorder point of {item.reorder_point}")
    for o in late[:2]:
        parts.append(f"{order_number(o[4])} arrives {fmt_day(max(o[3] or today, today))}, "
                     f"after the need on {fmt_day(need.day)}: "
                     f"{'expedite it' if status == EXPEDITE else 'bring it forward'}")
    natural = order_by_date(need.day, item.lead_time_days, settings)
    if status == EXPEDITE:
        parts.append(f"{_supplier(item)} needs {lead_time(item)} days, so a normal order by {fmt_day(natural)} is already "
                     f"too late: expedite")
    elif below_now and natural != order_by:
        parts.append(f"{_supplier(item)} needs {lead_time(item)} days: order now")
    else:
        parts.append(f"{_supplier(item)} needs {lead_time(item)} days; order by {fmt_day(order_by)}")
    needed = max(need.short, item.reorder_point - need.projected)
    if below_now:
        needed = max(needed, item.reorder_point - available_now - on_order + need.short)
    return Flag(item.id, need.event_id, SHORTFALL, status, need.day, order_by, need.projected, need.short,
                0, orders_json, "; ".join(parts), needed=needed, covered=sum(o[1] for o in late))


def crossing_flag(item: Row[Any], need: Need, loaded: Loaded, unit: str,
                  orders_json: list[dict[str, Any]]) -> Flag | None:
    today, settings = loaded.today, loaded.settings
    assert need.crossed is not None  # the projection asks only for a need that crossed the reorder point
    day, projected = need.crossed
    order_by = order_by_date(day, item.lead_time_days, settings)
    status = _status_by_date(order_by, today, settings, shortfall=False)
    if status == OK:
        return None
    what = EVENT_NAME if need.event_id in loaded.events else "requests"
    reason = (f"{max(projected, 0)}{unit} left after {what} on {fmt_day(day)}, under the reorder point of "
              f"{item.reorder_point}; {_supplier(item)} needs {lead_time(item)} days; order by {fmt_day(order_by)}")
    return Flag(item.id, need.event_id, REORDER_POINT, status, day, order_by, projected, 0, 0, orders_json, reason,
                needed=item.reorder_point - projected)


def below_now_flag(item: Row[Any], loaded: Loaded, unit: str, available_now: int, on_order: int, held: int,
                   orders_json: list[dict[str, Any]]) -> Flag:
    notes = [f"{held} held for requests"] if held else []
    if on_order:
        notes.append(f"{on_order} on order")
    held_note = f" ({', '.join(notes)})" if notes else ""
    reason = (f"{available_now}{unit} available now{held_note}, under the reorder point of {item.reorder_point}; "
              f"{_supplier(item)} needs {lead_time(item)} days: order now")
    return Flag(item.id, None, REORDER_POINT, NOW, loaded.today, loaded.today, available_now, 0, 0, orders_json,
                reason, needed=item.reorder_point - available_now - on_order)


def retire_flag(item: Row[Any], start: int, held: int, demand: list[Row[Any]], loaded: Loaded,
                unit: str) -> Flag | None:
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
        head = f"Expired on {fmt_day(last)}"
    else:
        days = (last - today).days
        head = (f"Do not use after {fmt_day(last)} "
                f"({'today' if days == 0 else f'in {days} day' + ('s' if days != 1 else '')})")
    parts = [head, f"{start}{unit} on hand"]
    waiting = sum(row.backordered for row in demand if row.status != "handed_over")
    if holders:
        what = f"{held}{unit} held" if held else "asked for"
        if waiting:
            what += f", {waiting} waiting"
        parts.append(f"{what} by {listing(request_number(r) for r in holders)}")
    if kits:
        parts.append(f"in kit {listing(kits)}")
    successor = loaded.successors.get(item.replaced_by_id)
    if successor and (holders or kits):
        parts.append(f"replaced by {successor}: swap it in")
    elif successor:
        parts.append(f"replaced by {successor}; nothing holds it any more: recycle what is left")
    else:
        parts.append("no successor named: reprint, or name the piece that replaces it")
    return Flag(item.id, None, RETIRING, RETIRE, last, last, start, 0, 0, [], "; ".join(parts))
