"""Importing teams and users (admins): the same rules as the items import (transfer/services.py).
A dry run only reads and reports what would be created or changed and every bad row; without it
the file is checked again inside one write transaction, against the database as it is then, and
written whole or, when any row is bad, not at all (ImportRefused carries the report)."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..auth.models import User
from ..database import SessionLike, unit_of_work
from ..errors import Conflict
from . import teams as team_import
from . import users as user_import
from .csvfile import Table, read_table
from .report import ImportRefused
from .teams import TeamReport
from .users import UserReport


def import_teams(session: SessionLike, text: str | None, dry_run: bool = False) -> TeamReport:
    """Create and change teams from CSV text; see transfer/teams.py."""
    table = read_table(text, team_import.COLUMNS)
    if dry_run:
        try:
            return team_import.plan(session, table).report  # type: ignore[arg-type]
        finally:
            session.rollback()  # end the read; a dry run never writes
    return _write_teams(session, table)


@unit_of_work
def _write_teams(session: SessionLike, table: Table) -> TeamReport:
    try:
        plan = team_import.plan(session, table)  # type: ignore[arg-type]
        if not plan.report.ok:
            raise ImportRefused(plan.report)
        team_import.apply(session, plan)  # type: ignore[arg-type]
    except IntegrityError:
        raise Conflict("Someone created one of these teams while this file was imported. Nothing was imported; "
                       "check the file again.") from None
    plan.report.written = True
    return plan.report


def import_users(session: SessionLike, text: str | None, admin: User | None, dry_run: bool = False) -> UserReport:
    """Create and change users, and put them in their teams, from CSV text; see transfer/users.py.
    `admin`: who imports."""
    table = read_table(text, user_import.COLUMNS)
    if dry_run:
        try:
            return user_import.plan(session, table, admin).report  # type: ignore[arg-type]
        finally:
            session.rollback()
    return _write_users(session, table, admin)


@unit_of_work
def _write_users(session: SessionLike, table: Table, admin: User | None) -> UserReport:
    try:
        plan = user_import.plan(session, table, admin)  # type: ignore[arg-type]
        if not plan.report.ok:
            raise ImportRefused(plan.report)
        user_import.apply(session, plan)  # type: ignore[arg-type]
    except IntegrityError:
        raise Conflict("Someone added one of these users while this file was imported. Nothing was imported; "
                       "check the file again.") from None
    plan.report.written = True
    return plan.report
