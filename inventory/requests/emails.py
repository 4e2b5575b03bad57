"""E-mails about requests, queued in the outbox inside the rule's own transaction: the rep
hears that a request was approved, rejected (with the reason), is ready or was shipped, and
(from `send-alerts`) that its returnables are due back tomorrow or overdue; managers hear of
each new rush request. Each person can turn each kind off on their profile
(inventory.mail.preferences).

They are written only when mail is configured (MAIL_SERVER, MAIL_FROM and BASE_URL or
SERVER_NAME): an install without mail keeps working as before, and a missing BASE_URL never
blocks approving a request (it is logged; `send-alerts` refuses it in words).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, cast

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..auth.models import User
from ..catalog.models import Item
from ..database import SessionLike, unit_of_work
from ..mail import preferences
from ..mail.models import OutboxMessage, ReturnReminder
from ..mail.services import MailNotConfigured, base_url, enqueue
from ..timeutil import add_days
from .carriers import tracking_url
from .lifecycle import Status
from .models import Request, RequestLine

log = logging.getLogger(__name__)
DUE_TOMORROW, OVERDUE = "due_tomorrow", "overdue"


def _mail_configured(config: Mapping[str, Any]) -> bool:
    if not (config.get("MAIL_SERVER") and config.get("MAIL_FROM")):
        return False
    try:
        base_url(config)
    except MailNotConfigured as error:
        log.warning("Request e-mails are not queued: %s", error.message)
        return False
    return True


def _queue(session: SessionLike, request: Request, to: str | Sequence[str], subject: str, kind: str, headline: str,
           detail: str = "", lines: Sequence[tuple[int, Item]] | None = None,
           when: str | None = None, url: str | None = None) -> OutboxMessage | None:
    config = current_app.config
    if not to or not _mail_configured(config):
        return None
    session.flush()  # the request's number and its lines' items, for the message
    # One line: a line break in a header (from a rejection reason or a name) makes the message
    # unsendable, and sending it stopped the whole outbox.
    subject = " ".join(subject.split())
    if lines is None:
        lines = [(line.quantity, line.item) for line in request.lines]
    return enqueue(session, to, subject, "request_notice",
                   {"request": request, "headline": headline, "detail": detail, "lines": lines,
                    "when": when or f"needed by {_when(request.needed_by, year=True)}",
                    "request_url": url or f"{base_url(config)}/requests/{request.id}"}, kind=kind)


def _to_requester(session: SessionLike, request: Request, kind: str, subject: str, headline: str, detail: str = "",
                  **extra: Any) -> OutboxMessage | None:
    """Queue a notice to the request's requester, unless they turned this kind off."""
    if not preferences.wants(session, request.requester, kind):
        return None
    return _queue(session, request, request.requester.email, subject, kind, headline, detail, **extra)


def _when(day: date, year: bool = False) -> str:
    return f"{day.day} {day:%b %Y}" if year else f"{day.day} {day:%b}"


def approved(session: SessionLike, request: Request) -> OutboxMessage | None:
    return _to_requester(session, request, "request_approved",
                         f"Approved: {request.number}, needed by {_when(request.needed_by)}",
                         f"Your request {request.number} is approved.",
                         "The stockroom will pick it; you will hear when it is ready.")


def rejected(session: SessionLike, request: Request) -> OutboxMessage | None:
    reason = request.rejection_reason or ""
    short = reason if len(reason) <= 60 else reason[:57] + "..."
    return _to_requester(session, request, "request_rejected", f"Rejected: {request.number}: {short}",
                         f"Your request {request.number} was rejected.", f"Reason: {reason}")


def ready(session: SessionLike, request: Request) -> OutboxMessage | None:
    how = "Ready for pick-up" if request.handoff == "pickup" else "Ready to ship"
    detail = ("Collect it from the stockroom." if request.handoff == "pickup"
              else f"It will be shipped to: {request.ship_to}")
    return _to_requester(session, request, "request_ready", f"{how}: {request.number}",
                         f"{how}: your request {request.number}.", detail)


def shipped(session: SessionLike, request: Request, note: str = "") -> OutboxMessage | None:
    """A request handed over: shipped (with its carrier, tracking number and tracking link), or
    collected by someone other than the requester (who hears who took it). A rep who collected
    it themselves gets no e-mail: they were there."""
    if request.handoff == "ship":
        subject, headline = f"Shipped: {request.number}", f"Your request {request.number} is on its way."
        detail = f"Shipped to: {request.ship_to}"
        if request.carrier:
            detail += f"\nCarrier: {request.carrier}\nTracking number: {request.tracking}"
            link = tracking_url(request.carrier, request.tracking)
            if link:
                detail += f"\nTrack it: {link}"
    elif told_of_hand_over(request):
        subject = f"Collected: {request.number} by {request.handed_over_to}"
        headline = f"Your request {request.number} was collected by {request.handed_over_to}."
        detail = "Collected from the stockroom."
    else:
        return None
    if note:
        detail += f"\nNote from the stockroom: {note}"
    lines = [(line.issued, line.item) for line in request.lines if line.issued]
    return _to_requester(session, request, "request_shipped", subject, headline, detail, lines=lines)


def told_of_hand_over(request: Request) -> bool:
    """Whether `shipped` told the requester of this request's hand-over."""
    return request.handoff == "ship" or bool(
        request.handed_over_to and request.handed_over_to != request.requester.display_name)


def hand_over_undone(session: SessionLike, request: Request, reason: str) -> OutboxMessage | None:
    """A manager undid a hand-over the rep was told of (call it before the hand-over's details
    are cleared): it did not go out after all, and why."""
    if not told_of_hand_over(request):
        return None
    return _to_requester(session, request, "request_shipped", f"Not handed over after all: {request.number}",
                         f"The hand-over of your request {request.number} was undone.",
                         f"Reason: {reason}\nIt is ready again in the stockroom.")


def rush(session: SessionLike, request: Request, requester: User, today: date) -> OutboxMessage | None:
    if not request.is_rush(today) or not _mail_configured(current_app.config):
        return None
    who = requester.name or requester.email
    return _queue(session, request, preferences.subscribers(session, "rush_request"),
                  f"Rush request {request.number}: needed by {_when(request.needed_by)} for {who}", "rush_request",
                  f"{who} needs request {request.number} by {_when(request.needed_by)}.",
                  "It is waiting for approval.")


def approval_needed(session: SessionLike, request: Request, level: Any, need: Any = None) -> int:
    """E-mail whoever may fill `level` of `request` next (budgets/approvals.who_may: the team's
    approver, the second approvers, the managers who may exceed the budget), each with their own
    signed link to the request (budgets/links.py: it works until that level is decided, and
    asks for a login). A request of someone in no team or of a team without an approver goes to
    the queue as before: nobody is e-mailed. Returns how many e-mails were queued."""
    from ..budgets import approvals, links  # here: budgets.approvals reads the request models

    if not _mail_configured(current_app.config):
        return 0
    if need is None:
        need = approvals.needs(cast(Session, session), request)
    queued = 0
    who = request.requester.display_name
    for user in approvals.who_may(cast(Session, session), level, need, request):
        if not preferences.wants(session, user, "approval_needed"):
            continue
        why = need.reasons.get(level, "")
        url = f"{base_url(current_app.config)}{links.approval_path(request.id, user.id, level)}"
        queued += _queue(session, request, user.email,
                         f"Approval needed: {request.number} for {who}, needed by {_when(request.needed_by)}",
                         "approval_needed",
                         f"{who}'s request {request.number} waits for your approval ({level.waiting_for}).",
                         f"Why you: {why}.\nThe link opens the request (sign in first); it works until the "
                         "request is decided.", url=url) is not None
    return queued


def next_working_day(day: date) -> date:
    """The day after `day`, skipping Saturday and Sunday (alerts usually run on working days)."""
    day = add_days(day, 1)
    while day.weekday() >= 5 and day < date.max:
        day = add_days(day, 1)
    return day


@unit_of_work
def queue_return_reminders(session: SessionLike, today: date) -> int:
    """Queue, once per request, "due back tomorrow" when a request's returnables are due on the
    next working day (on a Friday, that covers a Monday return) and "overdue" once the date has
    passed; return how many e-mails were queued.

    A reminder the rep turned off is still recorded as done, so turning reminders back on
    never sends a stale one. Needs mail configured (the caller, `send-alerts`, checks it)."""
    from ..mail.alerts import lock_job  # here: mail.alerts reads the forecast, which reads requests

    soon = next_working_day(today)
    # Every host runs send-alerts: a second run waits here until the first has committed its
    # reminders, then finds them done (without the lock both queued on PostgreSQL and the
    # second died on the unique reminder row, skipping its digest and the sending).
    lock_job(cast(Session, session), "return-reminders")  # db.session passes every call on to its Session
    due = session.scalars(
        select(Request)
        .where(Request.status == Status.HANDED_OVER, Request.return_by.is_not(None), Request.return_by <= soon)
        .options(joinedload(Request.requester),
                 selectinload(Request.lines).joinedload(RequestLine.item).joinedload(Item.product))
        .order_by(Request.id)
    ).unique().all()
    done = set(session.execute(
        select(ReturnReminder.request_id, ReturnReminder.kind)
        .where(ReturnReminder.request_id.in_([request.id for request in due]))).all()) if due else set()
    wanted = preferences.wanting(session, "return_reminder", {request.requester_id for request in due})
    queued = 0
    for request in due:
        return_by = request.return_by
        if return_by is None:  # the query takes only those with one
            continue
        kind = OVERDUE if return_by < today else DUE_TOMORROW if return_by > today else None
        out = [(line.issued - line.returned, line.item) for line in request.lines
               if line.item.returnable and line.issued > line.returned]
        if kind is None or not out or (request.id, kind) in done:
            continue
        session.add(ReturnReminder(request_id=request.id, kind=kind))
        if kind == OVERDUE:
            days = (today - return_by).days
            late = f"{days} day{'s' if days != 1 else ''}"
            subject = f"Overdue: {request.number}, due back {_when(return_by)}"
            headline = f"The returnables from your request {request.number} are {late} overdue."
        else:
            day = ("tomorrow" if return_by == add_days(today, 1)
                   else f"on {return_by:%A} {_when(return_by)}")
            subject = f"Due back {day}: {request.number}"
            headline = f"The returnables from your request {request.number} are due back {day}."
        if request.requester_id not in wanted:
            continue
        queued += _queue(session, request, request.requester.email, subject, "return_reminder", headline,
                         "Bring them to the stockroom, or ask a manager for more time.", lines=out,
                         when=f"due back {_when(return_by, year=True)}") is not None
    return queued
