"""Teams: create, change and delete them, and put users in them. Refusals are in words, with
`about=(None, field)` naming the box they are about; nothing is half-written (each rule is one
unit of work)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from ..auth.models import User
from ..auth.roles import MANAGERS
from ..database import unit_of_work
from ..errors import Conflict, InvalidInput, NotFound
from ..limits import money_amount
from ..requests.models import Request
from ..text import limited
from .models import Team

MAX_TEAM_NAME = 80
FIELDS = ("name", "budget", "approver_id", "auto_approve_up_to", "second_approval_above")


@dataclass(frozen=True)
class TeamFields:
    name: str
    budget: Decimal | None
    approver_id: int | None
    auto_approve_up_to: Decimal
    second_approval_above: Decimal | None


def clean_team(session: Session, fields: Mapping[str, Any], team: Team | None = None) -> TeamFields:
    """The team's fields checked, or InvalidInput about the first wrong one. `team`: the team
    being changed (its own name is no duplicate)."""
    name = limited(fields.get("name"), "The team's name", MAX_TEAM_NAME, about=(None, "name"))
    if not name:
        raise InvalidInput("Give the team a name.", about=(None, "name"))
    same = session.scalars(select(Team).where(func.lower(Team.name) == name.lower())).first()
    if same is not None and same is not team:
        raise Conflict(f"There is already a team called {same.name}.", about=(None, "name"))
    budget = money_amount(fields.get("budget"), "The budget", about=(None, "budget"))
    auto = money_amount(fields.get("auto_approve_up_to"), "The amount approved at once",
                        about=(None, "auto_approve_up_to")) or Decimal("0.00")
    second = money_amount(fields.get("second_approval_above"), "The amount that needs a second approver",
                          about=(None, "second_approval_above"))
    approver_id = _approver(session, fields.get("approver_id"))
    if approver_id is None and (auto > 0 or second is not None):
        field = "auto_approve_up_to" if auto > 0 else "second_approval_above"
        raise InvalidInput("A team without an approver cannot have approval limits: choose its approver, "
                           "or leave the limits at 0 and blank.", about=(None, field))
    if second is not None and second < auto:
        raise InvalidInput(f"The second approver's amount ({second:,}) must not be below the amount "
                           f"approved at once ({auto:,}).", about=(None, "second_approval_above"))
    return TeamFields(name, budget, approver_id, auto, second)


def _approver(session: Session, value: object) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        user_id = int(str(value))
    except ValueError:
        raise InvalidInput("Choose the approver from the list.", about=(None, "approver_id")) from None
    user = session.get(User, user_id)
    if user is None or not user.active or user.role not in MANAGERS:
        raise InvalidInput("The approver must be an active marketing manager or admin.", about=(None, "approver_id"))
    return user_id


@unit_of_work
def create_team(session: Session, fields: Mapping[str, Any]) -> Team:
    cleaned = clean_team(session, fields)
    team = Team(**cleaned.__dict__)
    session.add(team)
    session.flush()
    return team


@unit_of_work
def update_team(session: Session, team: Team, fields: Mapping[str, Any]) -> Team:
    """Change the fields given (the others stay as they are)."""
    current = {name: getattr(team, name) for name in FIELDS}
    cleaned = clean_team(session, {**current, **fields}, team)
    for name, value in cleaned.__dict__.items():
        setattr(team, name, value)
    session.flush()
    return team


@unit_of_work
def delete_team(session: Session, team: Team) -> None:
    """Delete a team that never had a request; its members are then in no team. A team with
    requests keeps them (their spend is history): refused, in words."""
    used = session.scalar(select(func.count()).select_from(Request).where(Request.team_id == team.id)) or 0
    if used:
        raise Conflict(f"{team.name} has {used:,} request{'s' if used != 1 else ''}: a team with requests "
                       "cannot be deleted (its spend is history). Rename it, or move its people to another team.")
    session.execute(update(User).where(User.team_id == team.id).values(team_id=None))
    session.delete(team)
    session.flush()


@unit_of_work
def set_team(session: Session, user: User, team_id: object) -> User:
    """Put the user in a team (None or "": in no team). Their requests from now on count against
    it; those already submitted stay with the team they were submitted in."""
    user.team_id = get_team(session, team_id).id if team_id not in (None, "", 0, "0") else None
    session.flush()
    return user


@unit_of_work
def set_rights(session: Session, user: User, *, second_approver: object = False,
               may_exceed_budget: object = False) -> User:
    """Give or take a user's approval rights (budgets/approvals.py): on the list of second
    approvers, and the right to approve over budget. Only a manager or an admin may have them
    (an admin has both whatever is stored)."""
    second, exceed = bool(second_approver), bool(may_exceed_budget)
    if (second or exceed) and user.role not in MANAGERS:
        field = "second_approver" if second else "may_exceed_budget"
        raise InvalidInput("Only a marketing manager or an admin can have approval rights.", about=(None, field))
    user.second_approver, user.may_exceed_budget = second, exceed
    session.flush()
    return user


def get_team(session: Session, team_id: object) -> Team:
    try:
        team = session.get(Team, int(str(team_id)))
    except ValueError:
        team = None
    if team is None:
        raise NotFound(f"There is no team #{team_id}: choose one from the list.", about=(None, "team_id"))
    return team


def team_by_name(session: Session, name: str) -> Team | None:
    return session.scalars(select(Team).where(func.lower(Team.name) == name.strip().lower())).first()


def all_teams(session: Session) -> Sequence[Team]:
    """Every team by name, its approver loaded."""
    return session.scalars(select(Team).options(selectinload(Team.approver)).order_by(Team.name)).all()


def member_counts(session: Session) -> dict[int, int]:
    """{team id: active members}."""
    rows = session.execute(select(User.team_id, func.count()).where(User.team_id.is_not(None), User.active)
                           .group_by(User.team_id)).tuples()
    return {team_id: count for team_id, count in rows if team_id is not None}


def approvers(session: Session) -> Sequence[User]:
    """Who may approve a team's requests: active managers and admins, by name."""
    return session.scalars(select(User).where(User.active, User.role.in_(MANAGERS)).order_by(User.name)).all()
