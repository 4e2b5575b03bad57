"""The Today page (every role's home): what to do today, one section per kind of task."""
from flask import Blueprint, current_app, render_template, url_for
from flask_login import current_user

from .. import timeutil
from ..auth.roles import EVERYONE, roles_required
from ..budgets import standing
from ..extensions import db
from ..requests.models import OPEN, PURPOSES, STATUSES
from . import services

bp = Blueprint("today", __name__)


def _flag_url(flag):
    """Where an "order now" flag is acted on: its draft PO, else a new PO pre-filled with it, else
    the item's page."""
    from ..forecast.views import draft_url, raise_po_url

    return draft_url(flag) or raise_po_url([flag], flag.event) or url_for("catalog.item", sku=flag.item.sku)


def _has_draft(flag):
    return any(order["status"] == "draft" for order in flag.orders or ())


@bp.route("/today")
@roles_required(EVERYONE)
def index():
    day = timeutil.today()
    budget = None
    if current_user.role == "staff":
        sections = services.for_staff(db.session, day, current_app.config.get("COUNT_EVERY_DAYS", 90))
    elif current_user.role == "rep":
        sections = services.for_rep(db.session, current_user, day)
        # The rep's team budget this period: one statement, none for a rep in no team.
        budget = standing.team_standing(db.session, current_user.team_id, day,
                                        current_app.config.get("BUDGET_PERIOD", "quarter"), day)
    else:  # managers; admins see Marketing's day too
        sections = services.for_manager(db.session, day)
    return render_template("today/index.html", sections=sections, today=day, budget=budget,
                           next_step=services.next_step, statuses=STATUSES, purposes=PURPOSES, open_statuses=OPEN,
                           flag_url=_flag_url, has_draft=_has_draft, endpoints=current_app.view_functions)
