"""Users, their roles, their signed-in sessions, API tokens and the failed-login record."""
from __future__ import annotations

import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..timeutil import utcnow

ROLES = ("rep", "staff", "manager", "admin")
ROLE_LABELS = {"rep": "Sales rep", "staff": "Stockroom staff", "manager": "Marketing manager", "admin": "Admin"}


class User(UserMixin, Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Mixed into the user's calendar feed link (events/feed.py): *New link* and deactivation
    # change it, which turns the old link off. None: the link from before there was one.
    feed_secret: Mapped[str | None] = mapped_column(String(43))
    # The team (cost centre) the user's requests are charged to; admins set it (budgets/, whose
    # models import this one: the relationships are there).
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    # The approval rights an admin gives a manager (budgets/approvals.py; admins have both):
    # on the list of second approvers (a request above a team's second amount needs one), and
    # the right to approve a request that takes its team over budget (saying why).
    second_approver: Mapped[bool] = mapped_column(default=False, server_default="0")
    may_exceed_budget: Mapped[bool] = mapped_column(default=False, server_default="0")

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user", order_by="ApiToken.id")

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class UserSession(Model):
    """One signed-in browser. The session cookie carries a random key; only its SHA-256 is
    stored, and every request looks the row up, so ending the row ends the session at once
    wherever the cookie is (logout, a password or role change, deactivation, *Sign out*)."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship()

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(Model):
    """A bearer token for the JSON API. Only a SHA-256 of the token is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    label: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class LoginAttempt(Model):
    """Failed logins, kept to rate-limit guessing per account and per address.

    Stored in the database rather than process memory so the limit holds across gunicorn
    workers and hosts.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
