"""The outbox, the reorder alerts already sent, and the lock that lets one host run the alerts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ..timeutil import utcnow

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"


class OutboxMessage(Model):
    """One e-mail (or chat message), written with the change that caused it and sent later by `send_pending`."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(Text)  # comma-separated addresses
    subject: Mapped[str] = mapped_column(String(250))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A chat message (inventory/chat): the channel it goes to and its JSON body; `to` holds the
    # channel's name and `subject` a short title, for the Outbox page. E-mails have neither.
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("chat_channel.id"))
    payload: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def recipients(self) -> list[str]:
        return [address.strip() for address in self.to.split(",") if address.strip()]


class Alert(Model):
    """A reorder flag that was e-mailed, with the status it had: it is sent again only when worse."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("item_id", "event_id", "kind", name="uq_alert_item_id_event_id_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"))
    # "stock" (a shortfall or a reorder point) or "retire" (a print piece near its date): an item
    # can be both at once, and each is e-mailed on its own.
    kind: Mapped[str] = mapped_column(String(16), default="stock", server_default="stock")
    status: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobLock(Model):
    """One row per scheduled job; a run locks its row so two hosts never run the job at once."""

    __tablename__ = "job_lock"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_run_at: Mapped[datetime | None]


class MailPreference(Model):
    """A user's choice for one kind of e-mail; without a row the kind's default applies
    (see inventory.mail.preferences)."""

    __tablename__ = "mail_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind", name="uq_mail_preference_user_id_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool]


class ReturnReminder(Model):
    """A reminder that a request's returnables are due back tomorrow, or overdue, was queued:
    each is sent once per request."""

    __tablename__ = "return_reminder"
    __table_args__ = (UniqueConstraint("request_id", "kind", name="uq_return_reminder_request_id_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id"))
    kind: Mapped[str] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
