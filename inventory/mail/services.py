"""The outbox: write an e-mail with the change that causes it, send it later, exactly once.

`enqueue` only adds a row to the caller's session, so the message commits (or rolls back) in
the same transaction as the change it reports: no e-mail about a change that did not happen,
and no change whose e-mail is lost. `send_pending` claims queued rows with a conditional
UPDATE (on PostgreSQL the candidates are picked FOR UPDATE SKIP LOCKED; on SQLite the write
transaction serializes claimers), so two senders on two hosts never send the same row. A
message the SMTP server refuses, or that cannot reach it, goes back in the queue with the
error and an exponential back-off; after MAX_ATTEMPTS it is marked failed.

A claim is the sender's own token (`claimed_by`). Before each message goes out the sender renews
its claim on that row and checks it still holds it (a run that outlived STALE_CLAIM would
otherwise send a row another sender has taken over since), and it marks the row sent only under
its own claim. A run stops claiming new work after MAX_RUN (well inside STALE_CLAIM) and hands
back what it did not get to.

A timeout after the message was handed over (the server took DATA but never confirmed) may mean
it arrived: such a message is tried once more, with the same Message-ID so that receivers can
drop the copy, and never a third time.
"""
from __future__ import annotations

import smtplib
import socket
import ssl
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, not_, or_, select, update

from ..database import SessionLike, unit_of_work
from ..errors import Conflict, DomainError, NotFound
from .models import FAILED, QUEUED, SENDING, SENT, OutboxMessage

MAX_ATTEMPTS = 10
MAX_BACKOFF = timedelta(hours=1)
# A sender that crashed after claiming leaves rows "sending"; after this long they are claimed
# again (at worst such a message goes out twice, which beats never).
STALE_CLAIM = timedelta(minutes=15)
# A run stops handing messages to the server after this long; the rest goes back in the queue.
MAX_RUN = timedelta(minutes=10)
# last_error of a message whose server took it but never confirmed (see _MaybeSent).
MAYBE_SENT = "maybe sent: "


class MailNotConfigured(DomainError):
    pass


def base_url(config: Mapping[str, Any]) -> str:
    """The public address for links in e-mails: BASE_URL, else SERVER_NAME, else refuse."""
    if config.get("BASE_URL"):
        return config["BASE_URL"].rstrip("/")
    if config.get("SERVER_NAME"):
        return f"{config.get('PREFERRED_URL_SCHEME') or 'https'}://{config['SERVER_NAME']}"
    raise MailNotConfigured("Set BASE_URL (e.g. https://stock.example.com): e-mails need absolute links.")


def check_settings(config: Mapping[str, Any]) -> None:
    """Refuse at once, in words, when the settings a sender needs are missing."""
    missing = [name for name in ("MAIL_SERVER", "MAIL_FROM") if not config.get(name)]
    if missing:
        raise MailNotConfigured(f"Mail is not configured: set {' and '.join(missing)} "
                                "(and MAIL_PORT, MAIL_USE_TLS, MAIL_USERNAME, MAIL_PASSWORD as your server needs).")


def enqueue(session: SessionLike, to: str | Iterable[str], subject: str, template: str, context: Mapping[str, Any],
            kind: str) -> OutboxMessage:
    """Add one e-mail to the caller's session (it commits with the caller's transaction).

    `template` names a pair under templates/mail/: `<template>.txt` and `<template>.html`;
    both get `base_url` for absolute links. Returns the OutboxMessage.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    recipients = [address.strip() for address in recipients if address and address.strip()]
    if not recipients:
        raise MailNotConfigured("An e-mail needs at least one recipient.")
    context = dict(context, base_url=base_url(current_app.config), subject=subject)
    message = OutboxMessage(
        to=", ".join(recipients), subject=subject[:250], kind=kind,
        text_body=_render(f"mail/{template}.txt", context),
        html_body=_render(f"mail/{template}.html", context),
        status=QUEUED, attempts=0, last_error="",
    )
    session.add(message)
    return message


def _render(name: str, context: Mapping[str, Any]) -> str:
    # The app's Jinja environment (HTML autoescaped, text not), without the page context
    # processors: an e-mail is rendered outside any web request, often from the command line.
    return current_app.jinja_env.get_template(name).render(**context)


@dataclass
class SendResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes after the 1st, 2nd, 3rd failure, never more than an hour."""
    return min(timedelta(minutes=2 ** (attempts - 1)), MAX_BACKOFF)


def _claim(session: SessionLike, now: datetime, batch: int, claimer: str, chat: bool = False
           ) -> Sequence[OutboxMessage]:
    """Claim up to `batch` due messages for this run (committed before any is sent); the claimed
    ones. E-mails only, or with `chat` chat messages only (inventory/chat/sender.py): the two are
    sent by separate runs, neither needing the other's settings."""
    if not _claim_ids(session, now, batch, claimer, chat):
        return []
    session.expire_all()
    return session.scalars(
        select(OutboxMessage).where(OutboxMessage.claimed_by == claimer, OutboxMessage.status == SENDING)
        .order_by(OutboxMessage.id)
    ).all()


def chat_filter(chat: bool) -> ColumnElement[bool]:
    """Chat messages (a channel, or a JSON body left by a deleted channel), or e-mails (neither)."""
    is_chat = or_(OutboxMessage.channel_id.is_not(None), OutboxMessage.payload != "")
    return is_chat if chat else not_(is_chat)


@unit_of_work
def _claim_ids(session: SessionLike, now: datetime, batch: int, claimer: str, chat: bool = False) -> Sequence[int]:
    candidates = (
        select(OutboxMessage.id)
        .where(chat_filter(chat), or_(
            (OutboxMessage.status == QUEUED) & (OutboxMessage.next_attempt_at <= now),
            (OutboxMessage.status == SENDING) & (OutboxMessage.claimed_at < now - STALE_CLAIM),
        ))
        .order_by(OutboxMessage.id).limit(batch)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite ignores it and serializes writers
    )
    ids = session.scalars(candidates).all()
    if not ids:
        return []
    # Conditional: a row another sender claimed in between is left alone.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids),
               or_(OutboxMessage.status == QUEUED,
                   (OutboxMessage.status == SENDING) & (OutboxMessage.claimed_at < now - STALE_CLAIM)))
        .values(status=SENDING, claimed_by=claimer, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return ids


class _SMTP(smtplib.SMTP):
    """smtplib's client, noting when the message itself has been handed over: a failure after
    that (waiting for the server's final answer) may mean the message arrived."""

    handed_over = False

    def sendmail(self, from_addr: str, to_addrs: str | Sequence[str], msg: Any, mail_options: Sequence[str] = (),
                 rcpt_options: Sequence[str] = ()) -> dict[str, tuple[int, bytes]]:
        self.handed_over = False  # for this message: a refusal at MAIL or RCPT took nothing
        return super().sendmail(from_addr, to_addrs, msg, mail_options, rcpt_options)

    def send(self, s: Any) -> None:
        super().send(s)
        # Only a message body ends with CRLF "." CRLF (smtplib's data() sends it whole, dots
        # quoted); a command never does. From here the server has the message.
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.handed_over = True


def _connect(config: Mapping[str, Any]) -> _SMTP:
    smtp = _SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25),
                 timeout=config.get("MAIL_TIMEOUT", 60))
    try:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
    except BaseException:
        smtp.close()
        raise
    return smtp


def _email(message: OutboxMessage, config: Mapping[str, Any]) -> EmailMessage:
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message_id(message, config)
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    return email


def message_id(message: OutboxMessage, config: Mapping[str, Any]) -> str:
    """The same Message-ID every time a row is sent, so that a copy sent again after a lost
    confirmation can be recognised (and dropped) by the receiving side."""
    if not message.id:
        return make_msgid(idstring="test")
    domain = (config.get("MAIL_FROM") or "").rpartition("@")[2].strip(" >") or "localhost"
    stamp = f"{message.created_at:%Y%m%d%H%M%S}" if message.created_at else "0"
    return f"<outbox-{message.id}.{stamp}@{domain}>"


def _describe(error: BaseException) -> str:
    if isinstance(error, (_MaybeSent, InWords)):
        return str(error)[:2000]
    detail = str(error)
    return (f"{type(error).__name__}: {detail}" if detail else type(error).__name__)[:2000]


@unit_of_work
def _record_failure(session: SessionLike, message: OutboxMessage, now: datetime, error: BaseException,
                    result: SendResult, give_up: bool = False, claimer: str | None = None,
                    not_before: datetime | None = None) -> None:
    if claimer is not None:
        # Only under this run's claim: a run that outlived it must not put back in the queue
        # (or fail) a message another sender has taken over, or already sent.
        current = session.get(OutboxMessage, message.id, with_for_update=True, populate_existing=True)
        if current is None or current.claimed_by != claimer:
            return
        message = current
    # A message once handed over unconfirmed stays marked "maybe sent" through later failures
    # of other kinds (the server down, a 4xx), so that it is never tried unconfirmed a third time.
    earlier = (message.last_error or "").startswith(MAYBE_SENT) and not isinstance(error, _MaybeSent)
    message.attempts += 1
    message.last_error = (f"{MAYBE_SENT}handed over once without confirmation; since then: {_describe(error)}"
                          if earlier else _describe(error))[:2000]
    message.claimed_by = None
    message.claimed_at = None
    if give_up or message.attempts >= MAX_ATTEMPTS:
        message.status = FAILED
        result.failed += 1
    else:
        message.status = QUEUED
        message.next_attempt_at = now + backoff(message.attempts)
        if not_before is not None and not_before > message.next_attempt_at:
            message.next_attempt_at = not_before  # the server's Retry-After
        result.retrying += 1


@unit_of_work(expire=False)
def _still_mine(session: SessionLike, message: OutboxMessage, claimer: str, at: datetime) -> bool:
    """Renew this sender's claim on `message`; False when another sender has it now (this run
    outlived its claim) or it is no longer being sent."""
    renewed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.claimed_by == claimer,
               OutboxMessage.status == SENDING)
        .values(claimed_at=at).execution_options(synchronize_session=False))
    return renewed.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE answers a CursorResult


@unit_of_work(expire=False)
def _mark_sent(session: SessionLike, message: OutboxMessage, claimer: str, at: datetime, note: str = "") -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.claimed_by == claimer)
        .values(status=SENT, sent_at=at, last_error=note, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False))


@unit_of_work(expire=False)
def _hand_back(session: SessionLike, messages: Sequence[OutboxMessage], claimer: str) -> None:
    """Put claimed messages this run did not get to back in the queue, untried."""
    ids = [m.id for m in messages]
    if not ids:
        return
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == claimer, OutboxMessage.status == SENDING)
        .values(status=QUEUED, claimed_by=None, claimed_at=None).execution_options(synchronize_session=False))


def send_pending(session: SessionLike, config: Mapping[str, Any], now: datetime, batch: int = 50,
                 max_run: timedelta = MAX_RUN) -> SendResult:
    """Send up to `batch` due messages; return a SendResult.

    Each message is marked sent in its own transaction right after the server accepted it, so a
    crash later in the batch never sends it again. When the server cannot be reached, every
    claimed message goes back in the queue with the error; nothing is lost. A run that has taken
    `max_run` hands the rest back; a message whose claim another sender took over is left to it.
    """
    check_settings(config)
    claimer = f"{socket.gethostname()}:{uuid.uuid4().hex[:12]}"
    messages = _claim(session, now, batch, claimer)
    result = SendResult()
    if not messages:
        return result
    started = time.monotonic()

    def clock() -> datetime:  # `now` moved on by the time this run has taken
        return now + timedelta(seconds=time.monotonic() - started)

    try:
        smtp = _connect(config)
    except (OSError, smtplib.SMTPException) as error:
        for message in messages:
            _record_failure(session, message, now, error, result, claimer=claimer)
        return result
    closed = False
    try:
        for position, message in enumerate(messages):
            if clock() - now >= max_run:
                _hand_back(session, messages[position:], claimer)
                break
            try:
                email = _email(message, config)
            except (ValueError, TypeError) as error:  # e.g. a line break in a header: never sendable
                _record_failure(session, message, now, error, result, give_up=True, claimer=claimer)
                continue
            if not _still_mine(session, message, claimer, clock()):
                continue  # another sender has it now: it sends it, not us
            maybe_before = (message.last_error or "").startswith(MAYBE_SENT)
            try:
                smtp.send_message(email, to_addrs=message.recipients)
            except (OSError, smtplib.SMTPException) as error:
                if smtp.handed_over and not isinstance(error, smtplib.SMTPResponseException):
                    # The server has the message but never said so: it may have arrived.
                    if maybe_before:
                        _mark_sent(session, message, claimer, clock(),
                                   note=f"{MAYBE_SENT}the server took it twice without confirming "
                                        f"({_describe(error)}); not sent again")
                        result.sent += 1
                    else:
                        _record_failure(session, message, now, _MaybeSent(error), result, claimer=claimer)
                else:
                    _record_failure(session, message, now, error, result, claimer=claimer)
                if isinstance(error, (OSError, smtplib.SMTPServerDisconnected)):
                    smtp.close()
                    if (reconnected := _reconnect_or_none(config)) is None:
                        closed = True  # nothing to quit
                        for rest in messages[position + 1:]:
                            # Not "maybe sent": these never reached the server.
                            _record_failure(session, rest, now, error, result, claimer=claimer)
                        return result
                    smtp = reconnected
                continue
            _mark_sent(session, message, claimer, clock())
            result.sent += 1
    finally:
        if not closed:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    return result


class InWords(Exception):
    """A failure already described in words (kept in last_error as it is, without a type name)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class _MaybeSent(Exception):
    """The server took the message but its confirmation never came."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"{MAYBE_SENT}no confirmation after the message was handed over ({_describe(error)}); "
                         "tried once more with the same Message-ID")

    def __str__(self) -> str:
        return self.args[0]


def _reconnect_or_none(config: Mapping[str, Any]) -> _SMTP | None:
    try:
        return _connect(config)
    except (OSError, smtplib.SMTPException):
        return None


@unit_of_work
def resend(session: SessionLike, message_id: int, now: datetime) -> OutboxMessage:
    """Put a failed message back in the queue, its attempts counted afresh; the next sender
    run sends it. Only a failed message: a queued one is on its way and a sent one arrived."""
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None:
        raise NotFound(f"No e-mail #{message_id} in the outbox.")
    if message.status != FAILED:
        raise Conflict(f"That e-mail is {message.status}; only a failed one can be sent again.")
    message.status, message.attempts, message.next_attempt_at = QUEUED, 0, now
    message.claimed_by = message.claimed_at = None
    return message


def send_test(config: Mapping[str, Any], to: str, requested_by: str) -> None:
    """Send one test e-mail straight away, not through the outbox, so an admin sees at once
    whether the mail settings work. Raises MailNotConfigured, or DomainError with the server's
    answer in words."""
    check_settings(config)
    context = {"subject": "Test e-mail from Swag stock", "note": f"sent by {requested_by}",
               "base_url": base_url(config)}
    message = OutboxMessage(id=0, to=to, subject=context["subject"],
                            text_body=_render("mail/test.txt", context), html_body=_render("mail/test.html", context))
    try:
        smtp = _connect(config)
        try:
            smtp.send_message(_email(message, config), to_addrs=[to])
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    except (OSError, smtplib.SMTPException) as error:
        server = f"{config['MAIL_SERVER']}:{config.get('MAIL_PORT') or 25}"
        raise DomainError(f"The mail server {server} did not take the test e-mail: {_describe(error)}") from None
