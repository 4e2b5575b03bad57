"""JSON API for events and kits: list and plan events, read one with its requests and kits (and,
once it is over, what it used and cost), reserve kits for it, list kit templates."""
from datetime import date

from flask import g, jsonify, request, url_for

from ..auth.roles import EVERYONE, MANAGERS, STAFF
from ..auth.services import user_by_email
from ..budgets.event_spend import expected_costs
from ..budgets.kit_budget import OverEventBudget
from ..core.money import currency
from ..errors import InvalidInput, NotFound
from ..events import kits, services
from ..extensions import db
from ..requests.queries import get_request
from ..text import is_digits, is_whole_number, whole_number
from .requests import _date, load_for_json, request_json
from .views import ApiError, _field, _int_arg, _paged, api_roles, bp


def event_json(event, expected_cost=None):
    """`expected_cost`: what the event is expected to cost (budgets.event_spend); read here when
    not given (a list reads them all in one query)."""
    if expected_cost is None:
        expected_cost = expected_costs(db.session, [event.id])[event.id]
    return {
        "id": event.id,
        "name": event.name,
        "place": event.place,
        "starts_on": event.starts_on.isoformat(),
        "ends_on": event.ends_on.isoformat(),
        "ship_by": event.ship_by.isoformat(),
        "return_by": event.return_by.isoformat() if event.return_by else None,
        "owner": event.owner.email if event.owner else None,
        "notes": event.notes,
        "cancelled": event.cancelled,
        # Money as strings with two decimals, in `currency` (as a kit's cost); budget null: none set.
        "budget": str(event.budget) if event.budget is not None else None,
        "expected_cost": str(expected_cost),
        "currency": currency(),
        "url": url_for("events.show", event_id=event.id, _external=True),
    }


def kit_json(kit):
    return {
        "id": kit.id,
        "name": kit.name,
        "description": kit.description,
        "archived": kit.archived,
        "cost": str(kits.kit_cost(kit)),
        "currency": currency(),
        "lines": [{"sku": line.item.sku, "name": line.item.name, "quantity": line.quantity,
                   "returnable": line.item.returnable} for line in kit.lines],
        "url": url_for("events.kit", kit_id=kit.id, _external=True),
    }


def _json_body():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("Send a JSON object with Content-Type: application/json.", 400)
    return data


def _whole(data, name, required=True):
    value = data.get(name)
    if value is None:
        if required:
            raise InvalidInput(f"'{name}' is required.")
        return None
    if not is_whole_number(value):
        raise InvalidInput(f"'{name}' must be a whole number.")
    return value


@bp.get("/events")
@api_roles(EVERYONE)
def list_events():
    """All events by start date; ?upcoming=1 leaves out those already over."""
    upcoming = request.args.get("upcoming") in ("1", "true")
    page = services.listing(db.session, page=_int_arg("page", 1), per_page=_int_arg("per_page", 50, maximum=200),
                            since=date.today() if upcoming else None)
    costs = expected_costs(db.session, [e.id for e in page.rows])
    return _paged(page, "events", [event_json(e, costs[e.id]) for e in page.rows], "api.list_events",
                  **({"upcoming": "1"} if upcoming else {}))


@bp.post("/events")
@api_roles(MANAGERS)
def create_event():
    data = _json_body()
    owner_id = None
    if data.get("owner") not in (None, ""):
        try:
            owner_id = user_by_email(db.session, _field(data, "owner")).id
        except NotFound:
            raise InvalidInput(f"No user {data['owner']!r} to own the event.") from None
    event = services.create_event(
        db.session, g.api_user, name=_field(data, "name"), place=_field(data, "place", required=False) or "",
        starts_on=_date(data, "starts_on"), ends_on=_date(data, "ends_on"), ship_by=_date(data, "ship_by"),
        return_by=_date(data, "return_by", required=False), owner_id=owner_id,
        notes=_field(data, "notes", required=False) or "", budget=_budget(data))
    return jsonify(event_json(services.get_event(db.session, event.id))), 201


def _budget(data):
    """The event's budget: a number or a string of money ("5000", "4,500.50"), null or absent
    for none; the rule refuses anything else in words."""
    value = data.get("budget")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
        raise InvalidInput("'budget' must be an amount of money, like 5000 or \"4500.50\".")
    if isinstance(value, float):
        value = repr(value)  # 4500.5 as written, not as a binary fraction
    return value


def _event_request_json(r):
    """Everyone sees what is planned for an event; the ship-to address and the note of someone
    else's request only staff and managers (as on the request page)."""
    data = request_json(r)
    data.update(kit_id=r.kit_id, kit=r.kit.name if r.kit else None, kit_count=r.kit_count)
    if r.requester_id != g.api_user.id and g.api_user.role not in STAFF:
        data.pop("ship_to")
        data.pop("note")
    return data


def _usage_json(usage):
    """Costs as recorded when things went out: `unit_cost` is the cost on the item's issues (their
    average per unit when its requests went out at different costs, all of them in `unit_costs`)."""
    return {
        "items": [{"sku": row.item.sku, "name": row.item.name, "issued": row.issued, "returned": row.returned,
                   "used": row.used, "lost": row.lost, "damaged": row.damaged, "still_out": row.still_out,
                   "unit_cost": str(row.unit_cost), "unit_costs": [str(cost) for cost in sorted(row.unit_costs)],
                   "cost": str(row.cost)} for row in usage.rows],
        "cost": str(usage.cost),
        "currency": currency(),  # of cost and the items' unit_cost and cost
        "still_out": usage.still_out,
    }


@bp.get("/events/<int:event_id>")
@api_roles(EVERYONE)
def get_event(event_id):
    event = services.get_event(db.session, event_id)
    event_requests = services.event_requests(db.session, event)
    load_for_json(event_requests)
    data = event_json(event)
    data["requests"] = [_event_request_json(r) for r in event_requests]
    data["kits"] = [{"request_id": r.id, "number": r.number, "status": r.status, "kit_id": kit.id,
                     "kit": kit.name, "count": count} for r, kit, count in kits.kits_of_event(event_requests)]
    today = date.today()
    data["usage"] = _usage_json(services.usage(event_requests)) if services.is_over(event, today) else None
    return jsonify(data)


@bp.post("/events/<int:event_id>/kits")
@api_roles(MANAGERS)
def reserve_kit(event_id):
    """Reserve N kits for the event: 201 with the request, or 409 naming the short component, or
    409 when the kits would take the event beyond its budget and "over_budget_ok" is not true."""
    data = _json_body()
    kit_id, count = _whole(data, "kit_id"), _whole(data, "count")
    allow_partial = data.get("allow_partial", False)
    if not isinstance(allow_partial, bool):
        raise InvalidInput("'allow_partial' must be true or false.")
    over_budget_ok = data.get("over_budget_ok", False)
    if not isinstance(over_budget_ok, bool):
        raise InvalidInput("'over_budget_ok' must be true or false.")
    try:
        made = kits.reserve_kit(db.session, g.api_user, event_id, kit_id, count,
                                handoff=_field(data, "handoff", required=False) or "pickup",
                                ship_to=_field(data, "ship_to", required=False) or "",
                                note=_field(data, "note", required=False) or "", allow_partial=allow_partial,
                                over_budget_ok=over_budget_ok)
    except OverEventBudget as over:
        return jsonify(error=f'{over.words} Send "over_budget_ok": true to go ahead.', currency=currency(),
                       cost=str(over.cost), budget=str(over.budget), expected_after=str(over.expected_after),
                       over_by=str(over.over_by)), 409
    except kits.KitShort as short:
        c = short.component
        return jsonify(error=short.message, buildable=short.buildable,
                       component={"sku": c.sku, "name": c.name, "requested": c.requested, "available": c.available},
                       lines=[{"sku": s.sku, "requested": s.requested, "available": s.available}
                              for s in short.shortages]), 409
    made = get_request(db.session, made.id)
    return jsonify(_event_request_json(made)), 201


@bp.get("/kits")
@api_roles(EVERYONE)
def list_kits():
    archived = request.args.get("archived") in ("1", "true")
    page = kits.kits_page(db.session, page=_int_arg("page", 1), per_page=_int_arg("per_page", 50, maximum=200),
                          include_archived=archived)
    return _paged(page, "kits", [kit_json(k) for k in page.rows], "api.list_kits",
                  **({"archived": "1"} if archived else {}))


@bp.get("/kits/<int:kit_id>")
@api_roles(EVERYONE)
def get_kit(kit_id):
    """One kit; with ?event=<id>, how many whole kits can be built for that event's dates and which
    component runs out first."""
    kit = kits.get_kit(db.session, kit_id)
    data = kit_json(kit)
    event_id = request.args.get("event")
    if event_id:
        if not is_digits(event_id):  # "²" and "٣" too: ASCII digits only
            raise ApiError("event must be a whole number.", 400)
        event = services.get_event(db.session, whole_number(event_id))  # past an id: 404
        available = kits.availability(db.session, kit, kits.event_window(event))
        limiting = available.limiting
        data["availability"] = {
            "event_id": event.id, "from": available.window.start.isoformat(),
            "until": available.window.end.isoformat(), "buildable": available.buildable,
            "runs_out_first": limiting.item.sku if limiting else None,
            "components": [{"sku": c.item.sku, "per_kit": c.per_kit, "free": c.free, "kits": c.kits}
                           for c in available.components],
        }
    return jsonify(data)
