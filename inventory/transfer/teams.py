"""Importing teams: one row per team, by name, checked whole before anything is written.

A row whose name is a team's (any case) changes that team; another name is a new team. The
columns are the team form's: `budget` (per budget period; empty: no budget), `approver` (the
e-mail of an active manager or admin; empty: none), `auto_approve_up_to` (empty: 0) and
`second_approval_above` (empty: never). Columns left out of the file leave a team as it is;
every value is checked by the team rule (budgets.services.clean_team), whose words the dry run
gives for a bad row.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..auth.models import User
from ..auth.services import normalize_email
from ..budgets.models import Team
from ..budgets.services import MAX_TEAM_NAME, TeamFields, clean_team
from ..errors import DomainError
from ..text import clean
from . import fields as cell
from .chunks import chunks
from .csvfile import Columns, Table, escape, unescape, write_csv
from .report import Change, ImportReport

COLUMNS = Columns(
    required=("name",),
    optional=("budget", "approver", "auto_approve_up_to", "second_approval_above"),
    ignored=("members",),
    aliases={"team": "name", "team_name": "name", "approver_email": "approver", "auto_approve": "auto_approve_up_to",
             "second_approval": "second_approval_above"},
)
HEADER = ("name", "budget", "approver", "auto_approve_up_to", "second_approval_above")
LABELS = {"budget": "budget", "approver_id": "approver", "auto_approve_up_to": "approved at once up to",
          "second_approval_above": "second approver above"}


class TeamReport(ImportReport):
    def summary(self) -> str:
        c = self.counts
        text = f"{c['new']} new team(s), {c['changed']} changed, {c['unchanged']} unchanged"
        if self.bad_rows:
            text += f"; {len(self.bad_rows)} bad row(s)"
        return text


@dataclass
class TeamPlan:
    report: TeamReport
    new: list[TeamFields] = field(default_factory=list)
    changed: list[tuple[Team, TeamFields]] = field(default_factory=list)


def _emails(session: Session, emails: set[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in chunks(emails):
        found.update((user.email, user) for user in session.scalars(select(User).where(User.email.in_(chunk))))
    return found


def _show(name: str, value: Any, users: dict[int, User]) -> str:
    if name == "approver_id":
        return users[value].email if value in users else ""
    return cell.show(value)


def plan(session: Session, table: Table) -> TeamPlan:
    """Check every row against the file and the teams; say what importing would do. Reads only."""
    report = TeamReport("teams", rows=len(table.rows))
    result = TeamPlan(report)
    teams = {team.name.lower(): team for team in session.scalars(select(Team).options(selectinload(Team.approver)))}
    approvers = _emails(session, {normalize_email(cells.get("approver")) for _line, cells in table.rows
                                  if clean(cells.get("approver"))})
    users = {user.id: user for user in approvers.values()}
    users.update((team.approver.id, team.approver) for team in teams.values() if team.approver is not None)
    first_line: dict[str, int] = {}
    for line, cells in table.rows:
        if "__error__" in cells:
            report.bad(line, "", cells["__error__"])
            continue
        name = unescape(clean(cells.get("name")))
        key = name.lower()
        if not name:
            report.bad(line, "", "the team's name is missing")
            continue
        if len(name) > MAX_TEAM_NAME:
            report.bad(line, name[:40] + "…", f"the team's name is {len(name)} characters long; {MAX_TEAM_NAME} at most")
            continue
        if key in first_line:
            report.bad(line, name, f"the team {name} is on line {first_line[key]} too")
            continue
        first_line[key] = line
        team = teams.get(key)
        wanted: dict[str, Any] = {}
        if team is not None:
            wanted = {"budget": team.budget, "approver_id": team.approver_id,
                      "auto_approve_up_to": team.auto_approve_up_to,
                      "second_approval_above": team.second_approval_above}
        wanted["name"] = team.name if team is not None else name  # a name is the key: its case stays
        for column in ("budget", "auto_approve_up_to", "second_approval_above"):
            if column in cells:
                wanted[column] = clean(cells[column])
        if "approver" in cells:
            email = normalize_email(cells["approver"])
            if email and email not in approvers:
                report.bad(line, name, f"approver {clean(cells['approver'])[:80]!r}: no user has that e-mail")
                continue
            wanted["approver_id"] = approvers[email].id if email else None
        try:
            cleaned = clean_team(session, wanted, team)
        except DomainError as error:
            report.bad(line, name, error.message.rstrip("."))
            continue
        if team is None:
            result.new.append(cleaned)
            details = [f"budget {cell.show(cleaned.budget)}" if cleaned.budget is not None else "no budget",
                       f"approver {users[cleaned.approver_id].email}" if cleaned.approver_id else "no approver"]
            if cleaned.auto_approve_up_to:
                details.append(f"approved at once up to {cell.show(cleaned.auto_approve_up_to)}")
            if cleaned.second_approval_above is not None:
                details.append(f"second approver above {cell.show(cleaned.second_approval_above)}")
            report.changes.append(Change(line, name, "new", tuple(details)))
            report.counts["new"] += 1
            continue
        differ = tuple((LABELS[column], _show(column, getattr(team, column), users),
                        _show(column, getattr(cleaned, column), users))
                       for column in LABELS if getattr(team, column) != getattr(cleaned, column))
        if differ:
            result.changed.append((team, cleaned))
            report.changes.append(Change(line, team.name, "changed", differ))
            report.counts["changed"] += 1
        else:
            report.counts["unchanged"] += 1
    report.in_file_order()
    return result


def apply(session: Session, result: TeamPlan) -> None:
    """Write a plan without bad rows, inside the caller's write transaction."""
    for team, cleaned in result.changed:
        for name, value in cleaned.__dict__.items():
            setattr(team, name, value)
    session.add_all(Team(**cleaned.__dict__) for cleaned in result.new)
    session.flush()


def teams_csv(session: Session) -> str:
    """Every team with the import's columns (and its members, which the import ignores): a file
    that imports again unchanged."""
    members = dict(session.execute(select(User.team_id, func.count()).where(User.team_id.is_not(None), User.active)
                                   .group_by(User.team_id)).tuples().all())
    rows = [(escape(team.name), _amount(team.budget), team.approver.email if team.approver else "",
             _amount(team.auto_approve_up_to), _amount(team.second_approval_above), members.get(team.id, 0))
            for team in session.scalars(select(Team).options(selectinload(Team.approver)).order_by(Team.name))]
    return write_csv(HEADER + ("members",), rows)


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"
