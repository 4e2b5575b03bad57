"""Backorders: newly free stock goes to the lines that wait for it (oldest request first), and
when stock shrinks (lost, counted short, units out of DISPATCH) the newest holds wait again, so
that what is held always fits what exists (available never stays below zero).

Both run inside the caller's write transaction, with the item locked (holds.locks.lock_items).
"""
from __future__ import annotations

from sqlalchemy import select

from ..auth.models import User
from ..catalog.models import Item
from ..database import SessionLike
from ..requests.lifecycle import Status
from ..requests.models import OPEN, Request, RequestLine, RequestStep
from .availability import free_quantity, request_window


def fill_backorders(session: SessionLike, item: Item) -> None:
    """Hold newly free stock for backordered lines, oldest request first.

    Call inside a write transaction with the item locked (receive, release, check-in do).
    """
    waiting = session.scalars(
        select(RequestLine).join(Request)
        .where(RequestLine.item_id == item.id, RequestLine.backordered > 0, Request.status.in_(OPEN))
        .order_by(Request.created_at, Request.id, RequestLine.id)
    ).all()
    for line in waiting:
        free = free_quantity(session, item, request_window(line.request))
        take = min(max(0, free), line.backordered)
        if take:
            line.reserved += take
            line.backordered -= take
            session.add(RequestStep(request_id=line.request_id, user_id=line.request.requester_id,
                                    action="backorder_filled", note=f"{take} × {item.sku} now held"))
            session.flush()


def shrink_overbooked(session: SessionLike, item: Item, user: User) -> None:
    """After stock was lost or counted short, move the newest holds to backorder until what is
    held fits what exists again (available never stays below zero). Inside a write transaction.

    Holds not yet picked go first. Picked holds go only when that is not enough, which means
    picked units themselves went missing (DISPATCH counted short): the line then waits for
    them again, and a hand-over never tries to issue more than DISPATCH holds."""
    newest_first = (Request.created_at.desc(), Request.id.desc(), RequestLine.id.desc())
    for picked in (False, True):
        lines = session.scalars(
            select(RequestLine).join(Request)
            .where(RequestLine.item_id == item.id, Request.status.in_(OPEN),
                   RequestLine.picked > 0 if picked else RequestLine.reserved > RequestLine.picked)
            .order_by(*newest_first)
        ).all()
        for line in lines:
            excess = -free_quantity(session, item, request_window(line.request))
            if excess <= 0:
                if not item.returnable:
                    return
                continue
            take = min(excess, line.picked if picked else line.reserved - line.picked)
            line.reserved -= take
            line.backordered += take
            if picked:
                line.picked -= take
                request = line.request
                if request.status == Status.READY and not any(other.picked for other in request.lines):
                    request.status = Status.APPROVED
            why = "picked units are missing" if picked else "stock was adjusted or counted short"
            session.add(RequestStep(request_id=line.request_id, user_id=user.id, action="backordered",
                                    note=f"{take} × {item.sku} moved to backorder: {why}"))
            session.flush()
