"""Signed-in sessions kept on the server, so that they can be ended.

The session cookie (signed by Flask) carries a random key; the `user_session` row holds its
SHA-256, the device it was made on and when it was last seen. Every request looks the row up
together with its user (one query), so a session ends everywhere the moment its row does:

- logging out ends that session;
- changing one's own password ends every other session of the user;
- an admin setting a password, changing the role, deactivating the user or pressing
  *Sign out everywhere* ends all of them;
- the profile page lists the user's sessions, each with *Sign out*.

A session also ends after `lifetime` without a request (PERMANENT_SESSION_LIFETIME, 14 days),
whatever the cookie says.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import contains_eager

from ..database import SessionLike, quietly, unit_of_work
from ..errors import NotFound
from ..timeutil import utcnow
from .models import User, UserSession

# How stale `last_seen_at` may get before a request writes it again: a page load per second
# should not turn every read into a write.
SEEN_EVERY = timedelta(minutes=5)


@unit_of_work
def start(session: SessionLike, user: User, *, user_agent: str | None = "", address: str | None = "",
          lifetime: timedelta = timedelta(days=14)) -> str:
    """A new session for `user`; returns the key for the cookie (only its hash is stored).
    The user's sessions that ended or expired are cleared away at the same time."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.ended_at.is_not(None), UserSession.last_seen_at < now - lifetime)))
    session.add(UserSession(user_id=user.id, key_hash=UserSession.hash(key), created_at=now,
                            last_seen_at=now, user_agent=_printable(user_agent)[:200],
                            address=_printable(address)[:64]))
    return key


def _printable(text: str | None) -> str:
    """A header's text as it can be stored: no NUL (PostgreSQL refuses it) or lone surrogates."""
    return "".join(c for c in (text or "") if c != "\x00" and not "\ud800" <= c <= "\udfff")


# One query for the session and its user, built once: every page load sends it.
_SESSION_WITH_USER = (
    select(UserSession).join(UserSession.user).options(contains_eager(UserSession.user))
    .where(UserSession.key_hash == bindparam("key_hash"), UserSession.ended_at.is_(None)))


def find(session: SessionLike, key: object, user_id: object, *,
         lifetime: timedelta = timedelta(days=14)) -> UserSession | None:
    """The live session row for a cookie's key, with its user loaded, or None when the session
    was ended, has expired, belongs to someone else or its user is deactivated. Notes when it
    was last seen, at most every SEEN_EVERY, and never fails the request for it (a database
    that takes no writes still serves pages)."""
    if not key or not isinstance(key, str) or len(key) > 100:
        return None
    row = session.scalar(_SESSION_WITH_USER, {"key_hash": UserSession.hash(key)})
    now = utcnow()
    if row is None or str(row.user_id) != str(user_id) or not row.user.active:
        return None
    if row.last_seen_at < now - lifetime:
        return None
    if now - row.last_seen_at > SEEN_EVERY:
        _touch(session, row.id, now)
        row.last_seen_at = now
    return row


def _touch(session: SessionLike, session_id: int, now: datetime) -> None:
    """Best effort: a database that takes no writes still lets a signed-in user read."""
    try:
        _write_last_seen(session, session_id, now)
    except SQLAlchemyError:
        session.rollback()


@unit_of_work(expire=False)
def _write_last_seen(session: SessionLike, session_id: int, now: datetime) -> None:
    quietly(session)
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))


@unit_of_work
def end(session: SessionLike, user: User, session_id: int) -> UserSession:
    """End one of `user`'s sessions (the *Sign out* on the profile page, and logout)."""
    row = session.scalar(select(UserSession).where(UserSession.id == session_id,
                                                   UserSession.user_id == user.id))
    if row is None:
        raise NotFound("No such session.")
    if row.ended_at is None:
        row.ended_at = utcnow()
    return row


def end_all(session: SessionLike, user: User, keep: int | None = None) -> int:
    """End every session of `user` but `keep` (a session id, or None for all). Returns how many
    ended. Runs inside the caller's transaction when there is one, so that a role change and the
    sign-out it causes commit together."""
    statement = (update(UserSession)
                 .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                 .values(ended_at=utcnow()))
    if keep is not None:
        statement = statement.where(UserSession.id != keep)
    # An UPDATE's result is a CursorResult, which has rowcount; Session.execute is typed Result.
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]


@unit_of_work
def sign_out_everywhere(session: SessionLike, user: User, keep: int | None = None) -> int:
    return end_all(session, user, keep=keep)


def active(session: SessionLike, user: User, *, lifetime: timedelta = timedelta(days=14)) -> Sequence[UserSession]:
    """The user's live sessions, most recently seen first."""
    return session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None),
                                  UserSession.last_seen_at >= utcnow() - lifetime)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())).all()


def active_counts(session: SessionLike, user_ids: Collection[int], *,
                  lifetime: timedelta = timedelta(days=14)) -> dict[int, int]:
    """{user id: number of live sessions} for the admin's user list, in one query."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(UserSession.user_id, func.count(UserSession.id))
        .where(UserSession.user_id.in_(user_ids), UserSession.ended_at.is_(None),
               UserSession.last_seen_at >= utcnow() - lifetime)
        .group_by(UserSession.user_id)).tuples().all()
    return dict(rows)


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser/", "Samsung Internet"),
             ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("Chrome/", "Chrome"),
             ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "Mac"), ("Macintosh", "Mac"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device(user_agent: str | None) -> str:
    """A short name for the device a session was made on, e.g. "Chrome on Android"."""
    user_agent = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser:
        return f"{browser} on {system}" if system else browser
    if system:
        return system
    words = re.findall(r"[A-Za-z][\w./-]*", user_agent)
    return words[0][:40] if words else "Unknown device"

