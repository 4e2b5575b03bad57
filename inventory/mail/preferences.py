"""Which e-mails each user gets. Every kind has a default; a user's choice on the profile page
is stored as a MailPreference row and wins over it. Request e-mails are on unless turned off;
the reorder digest is off unless a manager opts in (ALERT_RECIPIENTS always get it)."""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.dialects import postgresql, sqlite

from ..auth.models import User
from ..auth.roles import EVERYONE, MANAGERS
from ..database import SessionLike, unit_of_work
from .models import MailPreference


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    hint: str
    roles: tuple[str, ...]
    default: bool


KINDS = (
    Kind("request_approved", "My request is approved", "so you know the stockroom will pick it", EVERYONE, True),
    Kind("request_rejected", "My request is rejected", "with the manager's reason", EVERYONE, True),
    Kind("request_ready", "My request is ready", "ready for pick-up, or packed to ship", EVERYONE, True),
    Kind("request_shipped", "My request is shipped", "when it leaves the stockroom for your address, or someone else collects it", EVERYONE, True),
    Kind("return_reminder", "Returnables are due back", "the day before they are due, and when overdue",
         EVERYONE, True),
    Kind("approval_needed", "A request waits for my approval", "with a link to it; as the team's approver, a "
         "second approver or a manager who may exceed the budget", MANAGERS, True),
    Kind("rush_request", "A rush request needs approval", "needed within two days", ("manager",), True),
    Kind("reorder_digest", "Reorder digest", "what to order, for which event, by when (sent with the daily alerts)",
         MANAGERS, False),
)
BY_KEY = {kind.key: kind for kind in KINDS}


def kinds_for(user: User) -> list[Kind]:
    """The kinds of e-mail a user with this role can get, in the order the profile shows them."""
    return [kind for kind in KINDS if user.role in kind.roles]


def choices(session: SessionLike, user: User) -> dict[str, bool]:
    """{kind key: on?} for every kind the user can get, defaults filled in."""
    stored = dict(session.execute(
        select(MailPreference.kind, MailPreference.enabled).where(MailPreference.user_id == user.id)).tuples().all())
    return {kind.key: stored.get(kind.key, kind.default) for kind in kinds_for(user)}


def wants(session: SessionLike, user: User, key: str) -> bool:
    """Does this user get e-mails of kind `key`? False for a kind their role cannot get."""
    kind = BY_KEY[key]
    if user.role not in kind.roles or not user.active:
        return False
    stored = session.scalar(
        select(MailPreference.enabled).where(MailPreference.user_id == user.id, MailPreference.kind == key))
    return kind.default if stored is None else stored


def _wanting(session: SessionLike, key: str, *conditions: ColumnElement[bool]) -> list[tuple[int, str]]:
    """(id, email) of the active users who get kind `key`, among those meeting `conditions`."""
    kind = BY_KEY[key]
    rows = session.execute(
        select(User.id, User.email, MailPreference.enabled)
        .outerjoin(MailPreference, (MailPreference.user_id == User.id) & (MailPreference.kind == key))
        .where(User.role.in_(kind.roles), User.active.is_(True), *conditions)
        .order_by(User.id)
    ).all()
    return [(user_id, email) for user_id, email, enabled in rows if (kind.default if enabled is None else enabled)]


def subscribers(session: SessionLike, key: str) -> list[str]:
    """The e-mail addresses of active users who get kind `key` (one query)."""
    return [email for _id, email in _wanting(session, key)]


def wanting(session: SessionLike, key: str, user_ids: Collection[int]) -> set[int]:
    """The ids, among `user_ids`, of the users who get kind `key` (one query)."""
    return {user_id for user_id, _email in _wanting(session, key, User.id.in_(set(user_ids)))} if user_ids else set()


@unit_of_work
def save(session: SessionLike, user: User, chosen: Mapping[str, object]) -> None:
    """Store the user's choices: `chosen` is {kind key: bool} for the kinds their role can get.
    Kinds not in it are left as they were; unknown or other roles' kinds are ignored."""
    allowed = {kind.key for kind in kinds_for(user)}
    rows = [{"user_id": user.id, "kind": key, "enabled": bool(enabled)}
            for key, enabled in chosen.items() if key in allowed]
    if not rows:
        return
    # One upsert, not read-then-insert: two saves at once (a double click, two tabs) both
    # read "no row" on PostgreSQL and the second died on the unique (user, kind) row.
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(MailPreference)
    session.execute(statement.on_conflict_do_update(index_elements=["user_id", "kind"],
                                                    set_={"enabled": statement.excluded.enabled}), rows)
    session.expire_all()  # loaded MailPreference rows must not keep their old choice
