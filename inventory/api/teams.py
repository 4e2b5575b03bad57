"""JSON API for teams: each team's budget, committed, spent and left for a budget period
(BUDGET_PERIOD; ?period=2026-Q4 for another), its approver and approval limits. Managers and
admins read every team; a rep reads their own."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, g, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.roles import MANAGERS
from ..budgets import services as teams
from ..budgets.models import Team
from ..budgets.periods import parse_period, period_key, period_name
from ..budgets.spend import Spend, spend_by_team
from ..core.money import currency
from ..extensions import db
from ..pagination import Page
from ..reports.periods import Period
from .views import ApiError, _int_arg, _paged, api_roles, bp

MAX_ID = 2**31 - 1


def _money(amount: Any) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def _period() -> tuple[Period, dict[str, Any]]:
    kind = current_app.config.get("BUDGET_PERIOD", "quarter")
    period = parse_period(request.args.get("period"), kind, date.today())  # InvalidInput: 400 in words
    return period, {"kind": kind, "key": period_key(period, kind), "name": period_name(period, kind),
                    "first_day": period.first.isoformat(), "last_day": period.last.isoformat()}


def team_json(team: Team, spend: Spend, period: dict[str, Any], members: int) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "budget": _money(team.budget),
        "currency": currency(),
        "period": period,
        "committed": _money(spend.committed),
        "spent": _money(spend.spent),
        "left": _money(spend.left),
        "over_budget": spend.over,
        "approver": team.approver.email if team.approver else None,
        "limits": {"auto_approve_up_to": _money(team.auto_approve_up_to),
                   "second_approval_above": _money(team.second_approval_above)},
        "members": members,
        "url": url_for("teams.show", team_id=team.id, _external=True),
    }


@bp.get("/teams")
@api_roles("rep", MANAGERS)  # a rep: their own team only
def list_teams() -> ResponseReturnValue:
    """Every team by name (a rep: their own team, if they have one), paginated."""
    page_number, per_page = _int_arg("page", 1), _int_arg("per_page", 50, maximum=200)
    period, about = _period()
    everyone = list(teams.all_teams(db.session))
    if g.api_user.role == "rep":
        everyone = [team for team in everyone if team.id == g.api_user.team_id]
    rows = everyone[(page_number - 1) * per_page:page_number * per_page]
    spends = spend_by_team(db.session, rows, period)  # one query for the page
    members = teams.member_counts(db.session)
    page = Page(rows, page_number, per_page, len(everyone))
    args = {"period": about["key"]} if request.args.get("period") else {}
    return _paged(page, "teams", [team_json(team, spends[team.id], about, members.get(team.id, 0)) for team in rows],
                  "api.list_teams", **args)


@bp.get(f"/teams/<int(max={MAX_ID}):team_id>")
@api_roles("rep", MANAGERS)  # a rep: their own team only
def get_team(team_id: int) -> ResponseReturnValue:
    team = db.session.get(Team, team_id)
    if team is None:
        raise ApiError(f"No team has the id {team_id}. GET /api/v1/teams lists the teams.", 404)
    if g.api_user.role == "rep" and g.api_user.team_id != team.id:
        raise ApiError("A rep can read only their own team's budget.", 403)
    period, about = _period()
    spend = spend_by_team(db.session, [team], period)[team.id]
    return jsonify(team_json(team, spend, about, teams.member_counts(db.session).get(team.id, 0)))
