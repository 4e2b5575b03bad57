"""The swap page: what still holds an old print piece, and the manager's button that swaps its
successor into all of it (requests/successors.py). On the catalog blueprint, under the item's
label URL: /i/<sku>/successor."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.roles import MANAGERS, roles_required
from ..errors import DomainError, NotFound
from ..extensions import db
from ..forms import ButtonForm
from ..requests import successors
from . import services
from .views import bp


@bp.route("/i/<sku>/successor", methods=["GET", "POST"])
@roles_required(MANAGERS)
def swap_successor(sku):
    """GET: what the swap would do. POST: do it (`backorder=1`: what the successor cannot cover
    is backordered on it), then back to the item page with what was done."""
    try:
        item = services.get_item(db.session, sku)
    except NotFound:
        return render_template("catalog/unknown_item.html", sku=sku), 404
    if item.sku != sku and request.method == "GET":
        return redirect(url_for("catalog.swap_successor", sku=item.sku))
    if request.method == "POST":
        if not ButtonForm().validate_on_submit():
            abort(400)
        try:
            result = successors.swap_successor(db.session, item, current_user,
                                               backorder_short=request.form.get("backorder") == "1")
        except DomainError as error:
            if error.status == 403:
                abort(403)
            flash(error.message, "error")
            return redirect(url_for("catalog.swap_successor", sku=item.sku))
        flash(result.summary(), "success")
        return redirect(url_for("catalog.item", sku=item.sku))
    return render_template("catalog/successor.html", item=item, plan=successors.swap_plan(db.session, item),
                           button_form=ButtonForm())
