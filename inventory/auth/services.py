"""User rules: passwords (argon2id), login with rate limiting, users, API tokens, feed links."""
from __future__ import annotations

import re
import secrets
import time
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from ..database import SessionLike, quietly, unit_of_work
from ..errors import DuplicateCode, InvalidInput, LoginRefused, LoginThrottled, NotFound
from ..text import clean, limited
from ..timeutil import utcnow
from . import sessions
from .models import ROLES, ApiToken, LoginAttempt, User

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH: str | None = None
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # a passphrase fits; megabytes of "password" to hash do not
TOKEN_PREFIX = "inv_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def _clean_email(email: str | None) -> str:
    email = normalize_email(email)
    if len(email) > 254:  # User.email is VARCHAR(254)
        raise InvalidInput("An e-mail address is 254 characters at most.")
    if not EMAIL_PATTERN.match(email):
        raise InvalidInput(f"{email or '(empty)'!r} is not an e-mail address.")
    return email


def _clean_name(name: str | None) -> str:
    return limited(name, "The name", 120, about=(None, "name"))  # User.name is VARCHAR(120)


def _clean_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"Role must be one of: {', '.join(ROLES)}.")
    return role


def _clean_password(password: str | None) -> str:
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"A password can have at most {MAX_PASSWORD_LENGTH:,} characters.")
    return password


def _dummy_hash() -> str:
    """A hash of a random password, verified when the e-mail is unknown so that both answers
    take the same time and do not reveal which accounts exist. Made at the first such login
    (with the hasher in use then), not at import."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None or _hasher.check_needs_rehash(_DUMMY_HASH):
        _DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
    return _DUMMY_HASH


def authenticate(session: SessionLike, email: str | None, password: str | None, address: str | None, *,
                 max_per_pair: int = 5, max_per_address: int = 20, slow_after: int = 5,
                 slow_seconds: float = 2.0, window: timedelta = timedelta(minutes=15)) -> User:
    """Return the user for a correct e-mail and password.

    A procedure of three units of work, not one rule: each try is written down (and committed)
    before it is counted, so that tries made in parallel count each other: of twelve at once, only `max_per_pair` get their password
    checked. Within `window`:
    - an e-mail tried from one address more than `max_per_pair` times, or an address that tried
      more than `max_per_address` times, is refused (LoginThrottled) without checking the
      password. The account itself is never locked: someone who knows a user's e-mail cannot
      lock them out from elsewhere;
    - an account with more than `slow_after` failed tries from anywhere is slowed instead:
      every try waits `slow_seconds` before its password is checked, the right one too.
    A failed try stays on record; a refused one does not (it checked nothing), and a successful
    login clears the failures of its e-mail and address.
    """
    email = clean(normalize_email(email))[:254]
    address = (address or "unknown")[:64]
    since = utcnow() - window
    attempt_id = _write_try(session, email, address)
    pair_tries, address_tries, account_tries = session.execute(select(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.email == email, LoginAttempt.address == address,
                                                 LoginAttempt.at >= since).scalar_subquery(),
        select(func.count(LoginAttempt.id)).where(LoginAttempt.address == address,
                                                 LoginAttempt.at >= since).scalar_subquery(),
        select(func.count(LoginAttempt.id)).where(LoginAttempt.email == email,
                                                 LoginAttempt.at >= since).scalar_subquery(),
    )).one()
    minutes = int(window.total_seconds() // 60)
    refusal = None
    if pair_tries > max_per_pair:
        refusal = f"Too many failed logins for this account from your address. Try again in {minutes} minutes."
    elif address_tries > max_per_address:
        refusal = f"Too many failed logins from your address. Try again in {minutes} minutes."
    if refusal:
        _forget_try(session, attempt_id)
        raise LoginThrottled(refusal)
    if account_tries > slow_after and slow_seconds > 0:
        session.rollback()  # wait holding no transaction (nor, on PostgreSQL, a pooled connection)
        time.sleep(slow_seconds)
    user = session.scalar(select(User).where(User.email == email))
    password = (password or "")[:MAX_PASSWORD_LENGTH + 1]  # longer than any password: wrong, and cheap
    ok = _verify(user.password_hash if user else _dummy_hash(), password)
    if not ok or user is None or not user.active:
        raise LoginRefused("Wrong e-mail or password, or the account is deactivated.")
    _logged_in(session, user, password, email, address)
    return user


@unit_of_work
def _write_try(session: SessionLike, email: str, address: str) -> int:
    attempt = LoginAttempt(email=email, address=address)
    session.add(attempt)
    session.flush()
    return attempt.id


@unit_of_work
def _forget_try(session: SessionLike, attempt_id: int) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))


@unit_of_work
def _logged_in(session: SessionLike, user: User, password: str, email: str, address: str) -> None:
    """A successful login clears the failures of its e-mail and address (and rehashes an old hash)."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.address == address))
    if _hasher.check_needs_rehash(user.password_hash):
        session.merge(user).password_hash = hash_password(password)


@unit_of_work
def create_user(session: SessionLike, email: str | None, role: str, password: str | None,
                name: str | None = "") -> User:
    email = _clean_email(email)
    role = _clean_role(role)
    password = _clean_password(password)
    if session.scalar(select(User.id).where(User.email == email)):
        raise DuplicateCode(f"A user with the e-mail {email} already exists.")
    user = User(email=email, role=role, name=_clean_name(name) or email.split("@")[0],
                password_hash=hash_password(password))
    session.add(user)
    return user


@unit_of_work
def update_user(session: SessionLike, user: User, *, email: str | None, name: str | None, role: str,
                active: bool) -> User:
    email = _clean_email(email)
    role = _clean_role(role)
    user = session.merge(user)
    other = session.scalar(select(User.id).where(User.email == email, User.id != user.id))
    if other:
        raise DuplicateCode(f"A user with the e-mail {email} already exists.")
    # A new role or a deactivation ends the user's sessions: every page they have open
    # asks them to log in again, with what they may do now. Deactivating also turns their
    # calendar feed link off for good (it does not come back with the account).
    if role != user.role or (user.active and not active):
        sessions.end_all(session, user)
    if user.active and not active:
        user.feed_secret = secrets.token_urlsafe(32)
    user.email = email
    user.name = _clean_name(name) or email.split("@")[0]
    user.role = role
    user.active = bool(active)
    return user


@unit_of_work
def set_password(session: SessionLike, user: User, password: str | None, keep_session: int | None = None) -> int:
    """Set a new password and end the user's sessions: all of them when an admin sets it, all
    but `keep_session` (the one the user is changing it from) when they change their own."""
    password = _clean_password(password)
    session.merge(user).password_hash = hash_password(password)
    return sessions.end_all(session, user, keep=keep_session)


def change_own_password(session: SessionLike, user: User, current_password: str | None, new_password: str | None,
                        keep_session: int | None = None) -> int:
    """Returns how many other sessions were signed out."""
    if not _verify(user.password_hash, current_password or ""):
        raise InvalidInput("The current password is not right.", about=(None, "current_password"))
    return set_password(session, user, new_password, keep_session=keep_session)


@unit_of_work
def new_feed_link(session: SessionLike, user: User) -> None:
    """A new secret for the user's calendar feed link: the old link stops working."""
    session.merge(user).feed_secret = secrets.token_urlsafe(32)


def user_by_email(session: SessionLike, email: str | None) -> User:
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise NotFound(f"No user has the e-mail {email!r}.")
    return user


@unit_of_work
def create_token(session: SessionLike, user: User, label: str | None = "API token") -> tuple[ApiToken, str]:
    """Create an API token for `user`; returns (token row, the token). Only its hash is kept,
    so the token itself can be shown once and never again."""
    label = (label or "").strip()[:80] or "API token"
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, label=label, token_hash=ApiToken.hash(token), prefix=token[:10])
    session.add(row)
    return row, token


@unit_of_work
def revoke_token(session: SessionLike, user: User, token_id: int) -> ApiToken:
    row = session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if row is None:
        raise NotFound("No such token.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


# One query for the token and its user, built once (every API request sends it).
_TOKEN_WITH_USER = select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash")).options(
    joinedload(ApiToken.user))


def user_for_token(session: SessionLike, token: str | None) -> User | None:
    """The active user behind a bearer token, or None."""
    row = token_for(session, token)
    return row.user if row is not None else None


def token_for(session: SessionLike, token: str | None) -> ApiToken | None:
    """The live API token row (its user loaded) for a bearer token, or None when the token is
    unknown, revoked, or its user is deactivated."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(_TOKEN_WITH_USER, {"token_hash": ApiToken.hash(token)})
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = utcnow()
    # Write last-used at most once a minute: a busy client should not turn reads into writes.
    # Best effort: a database that takes no writes still answers the API's reads.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        try:
            _note_use(session, row.id, now)
        except SQLAlchemyError:
            session.rollback()
        else:
            row.last_used_at = now
    return row


@unit_of_work(expire=False)
def _note_use(session: SessionLike, token_id: int, now: datetime) -> None:
    quietly(session)
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
