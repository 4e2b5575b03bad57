"""User rules: passwords (argon2id), login with rate limiting, users, API tokens."""
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import joinedload

from ..database import write_transaction
from ..errors import DuplicateCode, InvalidInput, LoginRefused, LoginThrottled, NotFound
from ..text import limited
from ..timeutil import utcnow
from .models import ROLES, ApiToken, LoginAttempt, User

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# A hash of a random password, verified when the e-mail is unknown so that both answers take
# the same time and do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "inv_"


def hash_password(password):
    return _hasher.hash(password)


def _verify(password_hash, password):
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalize_email(email):
    return (email or "").strip().lower()


def _clean_email(email):
    email = normalize_email(email)
    if len(email) > 254:  # User.email is VARCHAR(254)
        raise InvalidInput("An e-mail address is 254 characters at most.")
    if not EMAIL_PATTERN.match(email):
        raise InvalidInput(f"{email or '(empty)'!r} is not an e-mail address.")
    return email


def _clean_name(name):
    return limited(name, "The name", 120, about=(None, "name"))  # User.name is VARCHAR(120)


def _clean_role(role):
    if role not in ROLES:
        raise InvalidInput(f"Role must be one of: {', '.join(ROLES)}.")
    return role


def _clean_password(password):
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    return password


def authenticate(session, email, password, address, *, max_per_account=5, max_per_address=20,
                 window=timedelta(minutes=15)):
    """Return the user for a correct e-mail and password.

    Refuses (LoginThrottled) when the account or the address has had too many failed logins
    within `window`, before even checking the password; records each failure.
    """
    email = normalize_email(email)
    address = (address or "unknown")[:64]
    since = utcnow() - window
    account_failures = session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.email == email, LoginAttempt.at >= since)
    )
    address_failures = session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.address == address, LoginAttempt.at >= since)
    )
    minutes = int(window.total_seconds() // 60)
    if account_failures >= max_per_account:
        raise LoginThrottled(f"Too many failed logins for this account. Try again in {minutes} minutes.")
    if address_failures >= max_per_address:
        raise LoginThrottled(f"Too many failed logins from your address. Try again in {minutes} minutes.")
    user = session.scalar(select(User).where(User.email == email))
    ok = _verify(user.password_hash if user else _DUMMY_HASH, password or "")
    if not ok or user is None or not user.active:
        with write_transaction(session):
            session.add(LoginAttempt(email=email, address=address))
        raise LoginRefused("Wrong e-mail or password, or the account is deactivated.")
    with write_transaction(session):
        # A successful login clears the account's failures; the address keeps its count.
        session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
        if _hasher.check_needs_rehash(user.password_hash):
            session.merge(user).password_hash = hash_password(password)
    return user


def create_user(session, email, role, password, name=""):
    email = _clean_email(email)
    role = _clean_role(role)
    password = _clean_password(password)
    with write_transaction(session):
        if session.scalar(select(User.id).where(User.email == email)):
            raise DuplicateCode(f"A user with the e-mail {email} already exists.")
        user = User(email=email, role=role, name=_clean_name(name) or email.split("@")[0],
                    password_hash=hash_password(password))
        session.add(user)
    return user


def update_user(session, user, *, email, name, role, active):
    email = _clean_email(email)
    role = _clean_role(role)
    with write_transaction(session):
        user = session.merge(user)
        other = session.scalar(select(User.id).where(User.email == email, User.id != user.id))
        if other:
            raise DuplicateCode(f"A user with the e-mail {email} already exists.")
        user.email = email
        user.name = _clean_name(name) or email.split("@")[0]
        user.role = role
        user.active = bool(active)
    return user


def set_password(session, user, password):
    password = _clean_password(password)
    with write_transaction(session):
        session.merge(user).password_hash = hash_password(password)


def change_own_password(session, user, current_password, new_password):
    if not _verify(user.password_hash, current_password or ""):
        raise InvalidInput("The current password is not right.")
    set_password(session, user, new_password)


def get_user(session, user_id):
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user #{user_id}.")
    return user


def user_by_email(session, email):
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise NotFound(f"No user has the e-mail {email!r}.")
    return user


def create_token(session, user, label="API token"):
    """Create an API token for `user`; returns (token row, the token). Only its hash is kept,
    so the token itself can be shown once and never again."""
    label = (label or "").strip()[:80] or "API token"
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction(session):
        row = ApiToken(user_id=user.id, label=label, token_hash=ApiToken.hash(token), prefix=token[:10])
        session.add(row)
    return row, token


def revoke_token(session, user, token_id):
    with write_transaction(session):
        row = session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
        if row is None:
            raise NotFound("No such token.")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
    return row


# One query for the token and its user, built once (every API request sends it).
_TOKEN_WITH_USER = select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash")).options(
    joinedload(ApiToken.user))


def user_for_token(session, token):
    """The active user behind a bearer token, or None."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(_TOKEN_WITH_USER, {"token_hash": ApiToken.hash(token)})
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = utcnow()
    # Write last-used at most once a minute: a busy client should not turn reads into writes.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        with write_transaction(session):
            session.merge(row).last_used_at = now
    return row.user
