"""JSON API for the reorder forecast: flagged items, and one item's projected timeline."""
from datetime import date

from flask import current_app, jsonify, request

from ..auth.roles import EVERYONE, MANAGERS
from ..catalog.services import get_item
from ..extensions import db
from ..forecast import services as forecast
from .views import ApiError, api_roles, bp


def _today():
    """?today=YYYY-MM-DD lets a planner ask "what would it say on that day"; default today."""
    raw = request.args.get("today")
    if not raw:
        return date.today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError("today must be a date like 2026-03-12.", 400) from None


def flag_json(flag):
    return {
        "sku": flag.item.sku,
        "name": flag.item.name,
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
    }


@bp.get("/reorders")
@api_roles(MANAGERS)
def reorders():
    flags = forecast.current_flags(db.session, _today(), forecast.settings_from(current_app.config)).flags
    return jsonify(items=[flag_json(flag) for flag in flags])


@bp.get("/forecast/<sku>")
@api_roles(EVERYONE)
def item_forecast(sku):
    item = get_item(db.session, sku)
    today = _today()
    (result,) = forecast.forecast(db.session, today, forecast.settings_from(current_app.config), item_ids=[item.id])
    return jsonify(
        sku=item.sku, today=today.isoformat(), start=result.start, status=result.status,
        timeline=[{"date": s.day.isoformat(), "change": s.change, "projected": s.projected, "cause": s.cause}
                  for s in result.steps],
        flags=[flag_json(flag) for flag in result.flags],
    )
