"""JSON API for the reorder forecast: flagged items, and one item's projected timeline."""
from __future__ import annotations

from flask import Response, current_app, jsonify, request

from .. import timeutil
from ..auth.roles import EVERYONE, MANAGERS
from ..catalog.services import get_item
from ..extensions import db
from ..forecast import projection, stored
from ..forecast.models import OK, URGENCY, ReorderFlag
from ..forecast.timing import settings_from
from .views import ApiError, api_roles, bp


def _today():
    """?today=YYYY-MM-DD lets a planner ask "what would it say on that day"; default today."""
    raw = request.args.get("today")
    if not raw:
        return timeutil.today()
    try:
        return timeutil.date_arg(raw, "today", timeutil.today())
    except ValueError as error:  # not a date, or one the forecast cannot count days from
        raise ApiError(str(error), 400) from None


def flag_json(flag: ReorderFlag) -> dict:
    return {
        "sku": flag.item.sku,
        "name": flag.item.name,
        "kind": flag.kind,
        "status": flag.status,
        "order_by": flag.order_by.isoformat(),
        "need_date": flag.need_date.isoformat(),
        "shortfall": flag.shortfall,
        "projected": flag.projected,
        "suggested_qty": flag.suggested_quantity,
        "supplier": flag.item.supplier,
        "lead_time_days": flag.item.lead_time_days,
        "event_id": flag.event.id if flag.event else None,
        "event": flag.event.name if flag.event else None,
        "reason": flag.reason,
        "purchase_orders": [{"id": o.id, "number": o.number, "status": o.status, "quantity": o.quantity,
                             "expected_on": o.expected_on.isoformat() if o.expected_on else None}
                            for o in flag.purchase_orders],
        "computed_at": flag.computed_at.isoformat() + "Z" if flag.computed_at else None,
    }


def _flags_for(today, item_id=None):
    """The stored flags (all, or one item's) when `today` is today; computed for another day."""
    if today == timeutil.today():
        stored.current(db.session, today)
        return stored.item_flags(db.session, item_id) if item_id is not None else stored.flags(db.session)
    settings = settings_from(current_app.config)
    return stored.as_rows(db.session, projection.compute(db.session, today, settings,
                                                         item_ids=[item_id] if item_id is not None else None))


@bp.get("/reorders")
@api_roles(MANAGERS)
def reorders() -> Response:
    today = _today()
    return jsonify(today=today.isoformat(), items=[flag_json(flag) for flag in _flags_for(today)])


@bp.get("/forecast/<sku>")
@api_roles(EVERYONE)
def item_forecast(sku: str) -> Response:
    item = get_item(db.session, sku)
    today = _today()
    (result,) = projection.forecast(db.session, today, settings_from(current_app.config), item_ids=[item.id])
    flags = _flags_for(today, item.id)
    return jsonify(
        sku=item.sku, today=today.isoformat(), start=result.start,
        status=min((flag.status for flag in flags), key=URGENCY.get, default=OK),
        timeline=[{"date": s.day.isoformat(), "change": s.change, "projected": s.projected, "cause": s.cause}
                  for s in result.steps],
        flags=[flag_json(flag) for flag in flags],
    )
