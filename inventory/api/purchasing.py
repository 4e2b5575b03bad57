"""JSON API for purchase orders: list, read, raise a draft, mark ordered, cancel, receive."""
from flask import g, jsonify, request, url_for

from ..auth.roles import MANAGERS, STAFF
from ..bins.services import get_bin
from ..core.money import currency
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..purchasing import queries, services
from ..purchasing.models import PO_STATUSES
from ..text import is_whole_number
from .requests import _date
from .serializers import movement_json
from .views import MAX_PER_PAGE, ApiError, _field, _int_arg, _paged, api_roles, bp

ORDER_URL = f"/purchase-orders/<int(max={services.MAX_ID}):order_id>"  # bigger ids answer 404


def purchase_order_json(order, today=None):
    return {
        "id": order.id,
        "number": order.number,
        "supplier": order.supplier,
        "status": order.status,
        "expected_on": order.expected_on.isoformat() if order.expected_on else None,
        "event_id": order.event_id,
        "note": order.note,
        "created_by": order.created_by.email,
        "created_at": order.created_at.isoformat() + "Z",
        "ordered_at": order.ordered_at.isoformat() + "Z" if order.ordered_at else None,
        "total_cost": str(services.total_cost(order)),
        "currency": currency(),  # of total_cost and the lines' unit_cost
        "lines": [
            {"id": line.id, "sku": line.item.sku, "name": line.item.name, "quantity": line.quantity,
             "received": line.received, "outstanding": line.outstanding, "unit_cost": str(line.unit_cost)}
            for line in order.lines
        ],
        "url": url_for("purchasing.show", order_id=order.id, _external=True),
    }


def _body():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("Send a JSON object with Content-Type: application/json.", 400)
    return data


def _get(order_id):
    try:
        return queries.get_order(db.session, order_id)
    except NotFound:
        raise ApiError(f"No purchase order #{order_id}.", 404) from None


def _fresh(order_id):
    db.session.expire_all()
    return purchase_order_json(_get(order_id))


@bp.get("/purchase-orders")
@api_roles(STAFF)
def list_purchase_orders():
    status = request.args.get("status") or None
    if status and status not in PO_STATUSES and status != "open":
        raise ApiError(f"status must be one of: open, {', '.join(PO_STATUSES)}.", 400)
    supplier = (request.args.get("supplier") or "").strip() or None
    page = queries.orders(db.session, status=status or "all", supplier=supplier,
                          page=_int_arg("page", 1, maximum=queries.MAX_PAGE),
                          per_page=_int_arg("per_page", 50, maximum=MAX_PER_PAGE))
    args = {k: v for k, v in {"status": status, "supplier": supplier}.items() if v}
    return _paged(page, "purchase_orders", [purchase_order_json(o) for o in page.rows],
                  "api.list_purchase_orders", **args)


@bp.get(ORDER_URL)
@api_roles(STAFF)
def get_purchase_order(order_id):
    return jsonify(purchase_order_json(_get(order_id)))


@bp.post("/purchase-orders")
@api_roles(MANAGERS)
def create_purchase_order():
    """Raise a draft: {"supplier"?, "lines": [{"sku", "quantity", "unit_cost"?}], "note"?, "event_id"?}."""
    data = _body()
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        raise InvalidInput("'lines' must be a non-empty list of {\"sku\": ..., \"quantity\": ...}.")
    parsed = []
    for line in lines:
        if not isinstance(line, dict):
            raise InvalidInput("Each line must be an object {\"sku\": ..., \"quantity\": ...}.")
        cost = line.get("unit_cost")
        if cost is not None and (isinstance(cost, bool) or not isinstance(cost, (str, int, float))):
            raise InvalidInput("'unit_cost' must be a number or a string like \"0.85\".")
        parsed.append((_field(line, "sku"), _field(line, "quantity", int), None if cost is None else str(cost)))
    event_id = data.get("event_id")
    if event_id is not None and not is_whole_number(event_id):
        raise InvalidInput("'event_id' must be a whole number.")
    order = services.create(db.session, g.api_user, lines=parsed,
                            supplier=_field(data, "supplier", required=False) or "",
                            note=_field(data, "note", required=False) or "", event_id=event_id)
    return jsonify(_fresh(order.id)), 201


@bp.post(ORDER_URL + "/order")
@api_roles(MANAGERS)
def order_purchase_order(order_id):
    """Mark a draft ordered: {"expected_on": "YYYY-MM-DD"}, today or later."""
    _get(order_id)
    services.mark_ordered(db.session, order_id, g.api_user, _date(_body(), "expected_on"))
    return jsonify(_fresh(order_id))


@bp.post(ORDER_URL + "/cancel")
@api_roles(MANAGERS)
def cancel_purchase_order(order_id):
    """Cancel a draft or ordered PO before anything was received: {"reason"?}."""
    _get(order_id)
    data = request.get_json(silent=True) or {}
    reason = _field(data, "reason", required=False) if isinstance(data, dict) else None
    services.cancel(db.session, order_id, g.api_user, reason or "")
    return jsonify(_fresh(order_id))


@bp.post(ORDER_URL + "/receive")
@api_roles(STAFF)
def receive_purchase_order(order_id):
    """Receive one line into a bin: {"line_id" or "sku", "bin", "quantity"}."""
    data = _body()
    order = _get(order_id)
    line_id = data.get("line_id")
    if line_id is not None:
        if not is_whole_number(line_id):
            raise InvalidInput("'line_id' must be a whole number.")
        line = services.find_line(order, line_id=line_id)
    else:
        sku = _field(data, "sku", required=False)
        if sku is None:
            raise InvalidInput("Say which line: 'line_id', or the line's 'sku'.")
        line = services.find_line(order, sku=sku)
    quantity = _field(data, "quantity", int)
    bin = get_bin(db.session, _field(data, "bin"))
    receipt = services.receive(db.session, order.id, line.id, bin, quantity, g.api_user)
    return jsonify(
        purchase_order=_fresh(order_id),
        movement=movement_json(receipt.movement),
        level={"sku": line.item.sku, "bin": bin.code, "quantity": receipt.bin_quantity},
        backorders_filled=[{"request_id": f.request_id, "request": f.request_number, "quantity": f.quantity}
                           for f in receipt.backorders_filled],
    ), 201
