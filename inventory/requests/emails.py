"""E-mails about requests, queued in the outbox inside the rule's own transaction: the rep
hears that a request was approved, rejected (with the reason) or is ready; managers hear of
each new rush request.

They are written only when mail is configured (MAIL_SERVER, MAIL_FROM and BASE_URL or
SERVER_NAME): an install without mail keeps working as before, and a missing BASE_URL never
blocks approving a request (it is logged; `send-alerts` refuses it in words).
"""
import logging

from flask import current_app
from sqlalchemy import select

from ..auth.models import User
from ..mail.services import MailNotConfigured, base_url, enqueue

log = logging.getLogger(__name__)
MANAGERS = ("manager",)


def _mail_configured(config):
    if not (config.get("MAIL_SERVER") and config.get("MAIL_FROM")):
        return False
    try:
        base_url(config)
    except MailNotConfigured as error:
        log.warning("Request e-mails are not queued: %s", error.message)
        return False
    return True


def _queue(session, request, to, subject, kind, headline, detail=""):
    config = current_app.config
    if not to or not _mail_configured(config):
        return None
    session.flush()  # the request's number and its lines' items, for the message
    return enqueue(session, to, subject, "request_notice",
                   {"request": request, "headline": headline, "detail": detail,
                    "request_url": f"{base_url(config)}/requests/{request.id}"}, kind=kind)


def _when(day):
    return f"{day.day} {day:%b}"


def approved(session, request):
    return _queue(session, request, request.requester.email,
                  f"Approved: {request.number}, needed by {_when(request.needed_by)}", "request_approved",
                  f"Your request {request.number} is approved.",
                  "The stockroom will pick it; you will hear when it is ready.")


def rejected(session, request):
    reason = request.rejection_reason or ""
    short = reason if len(reason) <= 60 else reason[:57] + "..."
    return _queue(session, request, request.requester.email, f"Rejected: {request.number}: {short}",
                  "request_rejected", f"Your request {request.number} was rejected.", f"Reason: {reason}")


def ready(session, request):
    how = "Ready for pick-up" if request.handoff == "pickup" else "Ready to ship"
    detail = ("Collect it from the stockroom." if request.handoff == "pickup"
              else f"It will be shipped to: {request.ship_to}")
    return _queue(session, request, request.requester.email, f"{how}: {request.number}", "request_ready",
                  f"{how}: your request {request.number}.", detail)


def rush(session, request, requester, today):
    if not request.is_rush(today) or not _mail_configured(current_app.config):
        return None
    managers = session.scalars(
        select(User.email).where(User.role.in_(MANAGERS), User.active.is_(True)).order_by(User.id)
    ).all()
    who = requester.name or requester.email
    return _queue(session, request, managers,
                  f"Rush request {request.number}: needed by {_when(request.needed_by)} for {who}", "rush_request",
                  f"{who} needs request {request.number} by {_when(request.needed_by)}.",
                  "It is waiting for approval.")
