"""JSON API, version 1. Bearer tokens only (never the session cookie, so no CSRF exposure).

Errors are JSON {"error": "..."} with 400 bad input, 401 no or bad token, 403 wrong role,
404 unknown SKU or bin, 409 conflict (not enough stock, duplicate).
"""
from functools import wraps

from flask import Blueprint, g, jsonify, request, url_for

from ..auth.roles import EVERYONE, STAFF
from ..auth.services import token_for
from ..bins.services import get_bin, search_bins
from ..catalog.models import CATEGORIES
from ..catalog.queries import search_items
from ..catalog.services import get_item, get_items
from ..errors import DomainError, InvalidInput
from ..extensions import db
from ..limits import check_line_count
from ..pagination import MAX_PAGE
from ..stock import queries as stock_queries
from ..stock import services as stock
from ..text import MAX_INTEGER, is_whole_number, whole_number
from . import idempotency
from .serializers import bin_json, item_json, movement_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 200


class ApiError(Exception):
    def __init__(self, message, status):
        super().__init__(message)
        self.message, self.status = message, status


@bp.errorhandler(ApiError)
def _api_error(error):
    return jsonify(error=error.message), error.status


@bp.errorhandler(DomainError)
def _domain_error(error):
    return jsonify(error=error.message), error.status


@bp.before_request
def _no_key_yet():
    # Only this request's own Idempotency-Key counts (a test's requests share one `g`).
    g.pop("idempotency", None)


@bp.after_request
def _keep_the_answer(response):
    return idempotency.finish(db.session, response)


def api_roles(*roles):
    """Authenticate the bearer token, then allow only `roles` (403 otherwise)."""
    roles = tuple(r for group in roles for r in ((group,) if isinstance(group, str) else group))

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise ApiError("Send an API token: Authorization: Bearer <token>.", 401)
            row = token_for(db.session, token.strip())
            if row is None:
                raise ApiError("The API token is unknown, revoked, or its user is deactivated.", 401)
            user = row.user
            if user.role not in roles:
                raise ApiError(f"Your role ({user.role}) cannot do this.", 403)
            g.api_user = user
            try:
                kept = idempotency.begin(db.session, row.id)
            except idempotency.KeyRefused as error:
                raise ApiError(error.message, error.status) from None
            if kept is not None:  # the same request again: its first answer, nothing new written
                body, status = kept
                return body, status, {"Content-Type": "application/json", "Idempotent-Replayed": "true"}
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def _int_arg(name, default, minimum=1, maximum=None):
    if maximum is None and name == "page":
        maximum = MAX_PAGE  # a bigger page number would overflow the database's OFFSET
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    value = whole_number(raw, signed=True)  # ASCII digits only: int() reads "٣" and "1_0" too
    if value is None:
        raise ApiError(f"{name} must be a whole number.", 400)
    maximum = maximum or MAX_INTEGER
    if value < minimum or value > maximum:
        raise ApiError(f"{name} must be between {minimum} and {maximum}.", 400)
    return value


def _paged(page, key, rows, endpoint, **args):
    next_url = url_for(endpoint, page=page.page + 1, per_page=page.per_page, **args) if page.has_next else None
    return jsonify({key: rows, "page": page.page, "per_page": page.per_page, "total": page.total, "next": next_url})


@bp.get("/items")
@api_roles(EVERYONE)
def items():
    category = request.args.get("category") or None
    if category and category not in CATEGORIES:
        raise ApiError(f"category must be one of: {', '.join(CATEGORIES)}.", 400)
    filters = {k: request.args[k] for k in ("sku", "q", "category") if request.args.get(k)}
    page = search_items(db.session, q=filters.get("q", ""), category=category, sku=filters.get("sku"),
                        page=_int_arg("page", 1), per_page=_int_arg("per_page", 50, maximum=MAX_PER_PAGE))
    levels = stock.availability(db.session, [item.id for item in page.rows])
    return _paged(page, "items", [item_json(item, levels[item.id]) for item in page.rows], "api.items", **filters)


@bp.get("/items/<sku>")
@api_roles(EVERYONE)
def item(sku):
    item = get_item(db.session, sku)
    levels = stock.availability(db.session, [item.id])
    data = item_json(item, levels[item.id])
    data["bins"] = [{"code": level.bin.code, "quantity": level.quantity} for level in stock_queries.levels_of_item(db.session, item)]
    return jsonify(data)


@bp.get("/bins")
@api_roles(EVERYONE)
def bins():
    filters = {k: request.args[k] for k in ("q", "zone") if request.args.get(k)}
    page = search_bins(db.session, q=filters.get("q", ""), zone=filters.get("zone"), page=_int_arg("page", 1),
                       per_page=_int_arg("per_page", 50, maximum=MAX_PER_PAGE))
    rows = [dict(bin_json(bin), total_quantity=total) for bin, total in page.rows]
    return _paged(page, "bins", rows, "api.bins", **filters)


@bp.get("/bins/<code>")
@api_roles(EVERYONE)
def bin(code):
    bin = get_bin(db.session, code)
    data = bin_json(bin)
    data["contents"] = [
        {"sku": level.item.sku, "name": level.item.name, "quantity": level.quantity}
        for level in stock_queries.levels_in_bin(db.session, bin)
    ]
    return jsonify(data)


@bp.get("/movements")
@api_roles(STAFF)
def movements():
    item = get_item(db.session, request.args["sku"]) if request.args.get("sku") else None
    bin = get_bin(db.session, request.args["bin"]) if request.args.get("bin") else None
    limit = _int_arg("limit", 50, maximum=MAX_PER_PAGE)
    return jsonify(movements=[movement_json(m) for m in stock_queries.history(db.session, item=item, bin=bin, limit=limit)])


def _field(data, name, kind=str, required=True):
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"'{name}' is required.")
        return None
    if kind is int:
        if not is_whole_number(value):
            raise InvalidInput(f"'{name}' must be a whole number.")
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be a string.")
    if "\x00" in value:  # PostgreSQL cannot store or compare text with NUL bytes
        raise InvalidInput(f"'{name}' must not contain NUL characters.")
    return value


@bp.post("/movements")
@api_roles(STAFF)
def create_movement():
    """Book a receive, put away, move, adjust or count. See docs/api.md for the body of each."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("Send a JSON object with Content-Type: application/json.", 400)
    kind = data.get("kind")
    user = g.api_user
    if kind == "receive":
        quantity = _field(data, "quantity", int)
        item, bin = get_item(db.session, _field(data, "sku")), get_bin(db.session, _field(data, "bin"))
        made = [stock.receive(db.session, item, bin, quantity, user, reason=_field(data, "reason", required=False) or "",
                              reference=_field(data, "reference", required=False) or "")]
        touched = [(item, bin)]
    elif kind == "move":
        quantity = _field(data, "quantity", int)
        item = get_item(db.session, _field(data, "sku"))
        source, target = get_bin(db.session, _field(data, "from_bin")), get_bin(db.session, _field(data, "to_bin"))
        made = [stock.move(db.session, item, source, target, quantity, user,
                           reason=_field(data, "reason", required=False) or "")]
        touched = [(item, source), (item, target)]
    elif kind == "put_away":
        quantity = _field(data, "quantity", int)
        item = get_item(db.session, _field(data, "sku"))
        source, target = get_bin(db.session, _field(data, "from_bin")), get_bin(db.session, _field(data, "bin"))
        made = [stock.put_away(db.session, item, source, target, quantity, user,
                               reason=_field(data, "reason", required=False) or "")]
        touched = [(item, source), (item, target)]
    elif kind == "adjust":
        change = _field(data, "change", int)
        item, bin = get_item(db.session, _field(data, "sku")), get_bin(db.session, _field(data, "bin"))
        made = [stock.adjust(db.session, item, bin, change, user, _field(data, "reason"))]
        touched = [(item, bin)]
    elif kind == "count":
        bin = get_bin(db.session, _field(data, "bin"))
        lines = data.get("counts")
        if not isinstance(lines, list) or not lines:
            raise InvalidInput("'counts' must be a list of {\"sku\": ..., \"counted\": ...}.")
        check_line_count(lines, "A count")  # before any line is looked up
        skus, counted = [], []
        for line in lines:
            if not isinstance(line, dict):
                raise InvalidInput("Each count must be an object {\"sku\": ..., \"counted\": ...}.")
            skus.append(_field(line, "sku"))
            counted.append(_field(line, "counted", int))
        counts = list(zip(get_items(db.session, skus), counted))  # one query for all the lines
        made = stock.count(db.session, bin, counts, user, reason=_field(data, "reason", required=False) or "")
        touched = [(item, bin) for item, _ in counts]
    else:
        raise ApiError("'kind' must be one of: receive, put_away, move, adjust, count.", 400)
    if kind == "count":  # up to MAX_LINES lines: their levels in one query
        now = stock_queries.quantities_in_bin(db.session, bin, [item.id for item, _bin in touched])
        levels = [{"sku": item.sku, "bin": bin.code, "quantity": now[item.id]} for item, bin in touched]
    else:
        levels = [{"sku": item.sku, "bin": bin.code, "quantity": stock_queries.level(db.session, item, bin)}
                  for item, bin in touched]
    return jsonify(movements=[movement_json(m) for m in made], levels=levels), 201


