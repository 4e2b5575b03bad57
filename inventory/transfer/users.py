"""Importing users: one row per e-mail address, with their team by name, checked whole before
anything is written.

An e-mail that is a user's changes that user: `name`, `role` (rep, staff, manager, admin, or
their labels), `team` (a team's name; empty: no team) and `active` (yes/no). A blank role or
active cell, or a column left out, leaves it as it is; a new role or a deactivation signs the
user out everywhere, as on their page. Another e-mail is a new user, who needs a `password`
(8 to 1,024 characters, as an admin gives one on the *Add user* page: the app has no invitation
e-mail, so the admin tells them in person, and they change it on their profile page). A blank
role means rep and a blank active cell yes. A password is never shown back, and an existing
user's password is not changed by an import (set a new one on their page). The admin who
imports cannot take away their own admin role or deactivate themselves here either.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth import services as auth
from ..auth.models import ROLE_LABELS, ROLES, User
from ..auth.services import EMAIL_PATTERN, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, normalize_email
from ..budgets import services as teams
from ..budgets.models import Team
from ..errors import InvalidInput
from ..text import clean
from . import fields as cell
from .chunks import chunks
from .csvfile import Columns, Table, escape, unescape, write_csv
from .report import Change, ImportReport

COLUMNS = Columns(
    required=("email",),
    optional=("name", "role", "team", "active", "password"),
    aliases={"e_mail": "email", "mail": "email", "team_name": "team"},
)
HEADER = ("email", "name", "role", "team", "active")  # the export's: no password, ever
# Each new user's password is hashed with argon2id (a sixth of a second or so, on purpose): a file
# with more than this many new users would outlast a page's time, so it is refused whole.
MAX_NEW_USERS = 100
ROLE_WORDS = {**{role: role for role in ROLES}, **{label.lower(): role for role, label in ROLE_LABELS.items()}}


class UserReport(ImportReport):
    def summary(self) -> str:
        c = self.counts
        text = f"{c['new']} new user(s), {c['changed']} changed, {c['unchanged']} unchanged"
        if self.bad_rows:
            text += f"; {len(self.bad_rows)} bad row(s)"
        return text


@dataclass
class NewUser:
    email: str
    name: str
    role: str
    team_id: int | None
    active: bool
    password: str = field(repr=False)


@dataclass
class UserPlan:
    report: UserReport
    new: list[NewUser] = field(default_factory=list)
    changed: list[tuple[User, dict[str, object]]] = field(default_factory=list)  # user, {name/role/active/team_id}


def _role(text: str) -> str | None:
    value = clean(text).lower()
    if not value:
        return None
    if value not in ROLE_WORDS:
        raise ValueError(f"role {clean(text)[:40]!r} is not one of {', '.join(ROLES)}")
    return ROLE_WORDS[value]


def _existing(session: Session, emails: set[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in chunks(emails):
        found.update((user.email, user) for user in session.scalars(select(User).where(User.email.in_(chunk))))
    return found


def plan(session: Session, table: Table, admin: User | None = None) -> UserPlan:
    """Check every row against the file, the users and the teams; say what importing would do.
    `admin`: who imports (they may not demote or deactivate themselves). Reads only."""
    report = UserReport("users", rows=len(table.rows))
    result = UserPlan(report)
    emails = {normalize_email(cells.get("email")) for _line, cells in table.rows}
    existing = _existing(session, emails)
    new_count = len({email for email in emails if email and email not in existing})
    if new_count > MAX_NEW_USERS:
        raise InvalidInput(f"The file has {new_count:,} new users; at most {MAX_NEW_USERS} per file (each new "
                           "password takes a moment to protect). Split it into smaller files.")
    by_name = {team.name.lower(): team for team in teams.all_teams(session)}
    by_id = {team.id: team for team in by_name.values()}
    first_line: dict[str, int] = {}
    for line, cells in table.rows:
        if "__error__" in cells:
            report.bad(line, "", cells["__error__"])
            continue
        email = normalize_email(cells.get("email"))
        problems: list[str] = []
        if not email:
            report.bad(line, "", "the e-mail is missing")
            continue
        if len(email) > 254 or not EMAIL_PATTERN.match(email):
            report.bad(line, email[:60], f"{email[:60]!r} is not an e-mail address")
            continue
        if email in first_line:
            report.bad(line, email, f"{email} is on line {first_line[email]} too")
            continue
        first_line[email] = line
        name = role = active = None
        team: Team | None = None
        try:
            name = cell.text(cells["name"], "name", 120) if "name" in cells else None
        except ValueError as error:
            problems.append(str(error))
        try:
            role = _role(cells["role"]) if "role" in cells else None
        except ValueError as error:
            problems.append(str(error))
        try:
            active = cell.yes_no(cells["active"], "active") if clean(cells.get("active")) else None
        except ValueError as error:
            problems.append(str(error))
        team_name = unescape(clean(cells.get("team")))
        if team_name:
            team = by_name.get(team_name.lower())
            if team is None:
                problems.append(f"team {team_name[:80]!r}: no team has that name (import the teams first, or "
                                "create it under Admin → Teams)")
        user = existing.get(email)
        if user is None:
            password = cells.get("password") or ""
            if not password.strip():
                problems.append(f"a new user needs a password ({MIN_PASSWORD_LENGTH} characters or more) to sign in "
                                "with; tell it to them in person, and they change it on their profile page")
            elif len(password) < MIN_PASSWORD_LENGTH:
                problems.append(f"the password has {len(password)} characters; {MIN_PASSWORD_LENGTH} at least")
            elif len(password) > MAX_PASSWORD_LENGTH:
                problems.append(f"the password is longer than {MAX_PASSWORD_LENGTH:,} characters")
        elif admin is not None and user.id == admin.id and ((role or "admin") != "admin" or active is False):
            problems.append("you cannot take away your own admin role or deactivate yourself")
        if problems:
            report.bad(line, email, "; ".join(problems))
            continue
        local = email.split("@")[0]
        if user is None:
            new = NewUser(email, name or local, role or "rep", team.id if team else None,
                          True if active is None else active, password)
            result.new.append(new)
            details = [f"{new.name}", ROLE_LABELS[new.role], f"team {team.name}" if team else "no team",
                       "active" if new.active else "inactive", "with the password in the file"]
            report.changes.append(Change(line, email, "new", tuple(details)))
            report.counts["new"] += 1
            continue
        wanted: dict[str, object] = {}
        if name is not None and (name or local) != user.name:
            wanted["name"] = name or local
        if role is not None and role != user.role:
            wanted["role"] = role
        if active is not None and active != user.active:
            wanted["active"] = active
        if "team" in cells and (team.id if team else None) != user.team_id:
            wanted["team_id"] = team.id if team else None
        if not wanted:
            report.counts["unchanged"] += 1
            continue
        new_id = wanted.get("team_id")
        old_team, new_team = by_id.get(user.team_id or 0), by_id.get(new_id) if isinstance(new_id, int) else None
        words = {"name": ("name", user.name, wanted.get("name")),
                 "role": ("role", ROLE_LABELS.get(user.role, user.role), ROLE_LABELS.get(str(wanted.get("role")))),
                 "active": ("active", cell.show(user.active), cell.show(wanted.get("active"))),
                 "team_id": ("team", old_team.name if old_team else "", new_team.name if new_team else "")}
        result.changed.append((user, wanted))
        report.changes.append(Change(line, email, "changed", tuple(words[name] for name in wanted)))
        report.counts["changed"] += 1
    report.in_file_order()
    return result


def apply(session: Session, result: UserPlan) -> None:
    """Write a plan without bad rows, inside the caller's write transaction, through the user
    rules (a new role or a deactivation ends the user's sessions there)."""
    for user, wanted in result.changed:
        if {"name", "role", "active"} & set(wanted):
            auth.update_user(session, user, email=user.email, name=str(wanted.get("name", user.name)),
                             role=str(wanted.get("role", user.role)), active=bool(wanted.get("active", user.active)))
        if "team_id" in wanted:
            teams.set_team(session, user, wanted["team_id"])
    for new in result.new:
        user = auth.create_user(session, new.email, new.role, new.password, name=new.name)
        if not new.active:
            auth.update_user(session, user, email=user.email, name=user.name, role=user.role, active=False)
        if new.team_id is not None:
            teams.set_team(session, user, new.team_id)
    session.flush()


def users_csv(session: Session) -> str:
    """Every user with the import's columns but the password: a file that imports again unchanged."""
    names = {team.id: team.name for team in teams.all_teams(session)}
    rows = [(user.email, escape(user.name), user.role, escape(names.get(user.team_id or 0, "")),
             cell.show(user.active))
            for user in session.scalars(select(User).order_by(User.email))]
    return write_csv(HEADER, rows)
