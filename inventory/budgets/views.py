"""The Budgets page for managers and admins: every team's budget, committed, spent and left in
a budget period (?period=2027-Q1, 2027-01 or 2027, by BUDGET_PERIOD), and the same table as a
CSV download. The page is assembled by overview.py."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue

from .. import timeutil
from ..auth.roles import MANAGERS, roles_required
from ..errors import InvalidInput
from ..extensions import db
from ..reports.downloads import csv_response
from . import overview
from .periods import budget_period, parse_period, period_key, period_name

bp = Blueprint("budgets", __name__)


def _kind() -> str:
    return str(current_app.config.get("BUDGET_PERIOD") or "quarter")


@bp.route("/budgets")
@bp.route("/budgets.csv", endpoint="csv")
@roles_required(MANAGERS)
def index() -> ResponseReturnValue:
    kind, today = _kind(), timeutil.today()
    try:
        period = parse_period(request.args.get("period"), kind, today)
    except InvalidInput as error:
        if request.path.endswith(".csv"):
            return Response(error.message + "\n", status=400, mimetype="text/plain")
        current = budget_period(today, kind)
        return render_template("budgets/index.html", error=error.message, view=None,
                               current=overview.PeriodLink(period_key(current, kind), period_name(current, kind))), 400
    view = overview.budgets_overview(db.session, kind, period, today)
    if request.path.endswith(".csv"):
        return csv_response(f"budgets_{view.key}.csv", overview.CSV_HEADER, overview.csv_rows(view))
    return render_template("budgets/index.html", error=None, view=view, current=view.current)
