"""Setting teams up: the admins' team pages (list, new, edit, delete); managers may look. The
rules are budgets/services.py; the managers' spend page is elsewhere (/budgets)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..auth.roles import ADMINS, MANAGERS, can, roles_required
from ..core.money import currency
from ..errors import DomainError
from ..extensions import db
from ..forms import ButtonForm, put_next_to_its_box
from . import services
from .models import Team
from .periods import KIND_WORDS
from .team_forms import TeamForm

bp = Blueprint("teams", __name__)


def _period_words() -> str:
    """"a quarter", "a month", "a year": what a budget is per (BUDGET_PERIOD)."""
    kind = current_app.config.get("BUDGET_PERIOD", "quarter")
    return "a " + KIND_WORDS.get(kind, "this quarter").split(" ", 1)[1]


def _unknown(team_id: int) -> tuple[str, int]:
    return render_template("errors/404.html", message=f"There is no team #{team_id}. "
                           "The teams are listed under Admin → Teams."), 404


def _team(team_id: int) -> Team | None:
    return db.session.scalars(select(Team).where(Team.id == team_id)
                              .options(selectinload(Team.approver), selectinload(Team.members))).first()


@bp.route("/admin/teams")
@roles_required(MANAGERS)
def index() -> Any:
    teams = services.all_teams(db.session)  # approvers loaded with them
    return render_template("budgets/teams.html", teams=teams, members=services.member_counts(db.session),
                           per=_period_words(), can_edit=can(current_user, ADMINS))


def _form_page(form: TeamForm, team: Team | None, status: int) -> tuple[str, int]:
    code = currency()  # a plain number is typed; the labels say in which currency
    form.budget.label.text = f"Budget per {_period_words()[2:]} ({code})"
    form.auto_approve_up_to.label.text = f"Approve at once up to ({code})"
    form.second_approval_above.label.text = f"Second approver above ({code})"
    return render_template("budgets/team_form.html", form=form, team=team, per=_period_words()), status


def _save(form: TeamForm, team: Team | None) -> Team | None:
    """The team created or changed, or None with the refusal beside its box (or at the top)."""
    try:
        if team is None:
            return services.create_team(db.session, form.values())
        return services.update_team(db.session, team, form.values())
    except DomainError as error:
        if not put_next_to_its_box(form, error, []):
            flash(error.message, "error")
        return None


@bp.route("/admin/teams/new", methods=["GET", "POST"])
@roles_required(ADMINS)
def new() -> Any:
    form = TeamForm()
    form.set_approvers(services.approvers(db.session))
    if form.validate_on_submit():
        team = _save(form, None)
        if team is not None:
            flash(f"Team {team.name} created.", "success")
            return redirect(url_for("teams.show", team_id=team.id))
    return _form_page(form, None, 400 if form.is_submitted() else 200)


@bp.route("/admin/teams/<int:team_id>")
@roles_required(MANAGERS)
def show(team_id: int) -> Any:
    team = _team(team_id)
    if team is None:
        return _unknown(team_id)
    return render_template("budgets/team.html", team=team, per=_period_words(), can_edit=can(current_user, ADMINS))


@bp.route("/admin/teams/<int:team_id>/edit", methods=["GET", "POST"])
@roles_required(ADMINS)
def edit(team_id: int) -> Any:
    team = _team(team_id)
    if team is None:
        return _unknown(team_id)
    form = TeamForm(obj=team)
    form.set_approvers(services.approvers(db.session), team.approver)
    if form.validate_on_submit():
        name = team.name
        if _save(form, team) is not None:
            flash(f"{team.name} saved." if team.name == name else f"{name} is now called {team.name}.", "success")
            return redirect(url_for("teams.show", team_id=team.id))
    return _form_page(form, team, 400 if form.is_submitted() else 200)


@bp.route("/admin/teams/<int:team_id>/delete", methods=["GET", "POST"])
@roles_required(ADMINS)
def delete(team_id: int) -> Any:
    """A page that asks first (what deleting does to the members), then deletes; a team with
    requests is refused in words on the same page."""
    team = _team(team_id)
    if team is None:
        return _unknown(team_id)
    form = ButtonForm()
    refusal, status = None, 200
    if form.validate_on_submit():
        name = team.name
        try:
            services.delete_team(db.session, team)
        except DomainError as error:
            refusal, status = error.message, error.status
        else:
            flash(f"Team {name} deleted; its members are in no team now.", "success")
            return redirect(url_for("teams.index"))
    elif form.is_submitted():
        status = 400
    return render_template("budgets/team_delete.html", team=team, form=form, refusal=refusal), status


def team_choices() -> list[tuple[str, str]]:
    """The Team select of the user form: no team, then every team by name."""
    return [("", "No team")] + [(str(team.id), team.name) for team in services.all_teams(db.session)]


def teams_by_user(users: list[User]) -> dict[int, str]:
    """{user id: team name} for a list of users, in one query."""
    ids = {user.team_id for user in users if user.team_id is not None}
    if not ids:
        return {}
    names = dict(db.session.execute(select(Team.id, Team.name).where(Team.id.in_(ids))).tuples().all())
    return {user.id: names[user.team_id] for user in users if user.team_id in names}
