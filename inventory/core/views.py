"""Home, the code finder and the health check."""
import re

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.roles import EVERYONE, STAFF, can, public, roles_required
from ..bins.models import normalize_code
from ..bins.services import get_bin
from ..catalog.services import get_item
from ..errors import NotFound
from ..extensions import db
from . import health

bp = Blueprint("core", __name__)


@bp.route("/")
@public
def home():
    """Every role's home is its Today page: what to do today."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for("today.index"))


@bp.route("/find")
@roles_required(EVERYONE)
def find():
    """Go to what a typed or scanned code names: a bin code, a SKU, or a full label URL."""
    code = (request.args.get("code") or "").strip()
    if not code:
        return render_template("core/find.html", code="")
    # A label URL typed or pasted whole: take its last path parts.
    parts = [p for p in code.split("?")[0].split("/") if p]
    if len(parts) >= 2 and parts[-2] in ("b", "i"):
        kind, code = parts[-2], parts[-1]
        return redirect(url_for("bins.show" if kind == "b" else "catalog.item", **{"code" if kind == "b" else "sku": code}))
    for lookup, endpoint, arg in ((get_bin, "bins.show", "code"), (get_item, "catalog.item", "sku")):
        try:
            lookup(db.session, code)
        except NotFound:
            continue
        return redirect(url_for(endpoint, **{arg: normalize_code(code)}))
    order_id = _purchase_order_number(code)
    if order_id is not None:  # the PO number on a delivery note opens the order to receive it
        return redirect(url_for("purchasing.show", order_id=order_id))
    return render_template("core/find.html", code=code, not_found=True), 404


def _purchase_order_number(code):
    """The id of the purchase order a typed number such as PO-00012 (or po12) names, for the
    stockroom; None when it names none."""
    match = re.fullmatch(r"PO-?0*([0-9]{1,9})", code.strip().upper())
    if not match or not can(current_user, STAFF) or "purchasing.show" not in current_app.view_functions:
        return None
    from ..purchasing.models import PurchaseOrder

    return int(match.group(1)) if db.session.get(PurchaseOrder, int(match.group(1))) is not None else None


@bp.route("/healthz")
@public
def healthz():
    """For load balancers and monitoring: 200 when the database answers and takes writes, else
    503 with the reason, within a few seconds even when the database hangs."""
    problem = health.problem(db.engine, timeout=current_app.config.get("HEALTH_TIMEOUT", 3))
    if problem:
        return jsonify(status="error", database=problem), 503, {"Retry-After": "30"}
    return jsonify(status="ok", database="ok")
