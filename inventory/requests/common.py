"""What the request rules share (submission.py, review.py, fulfilment.py, handover.py): a request
loaded for a change with its items locked, and the step that records who changed it, when and why.

Every rule runs in one write transaction and locks the rows of the items it touches before it
reads availability, so two reps reserving the last units at the same instant are served one
after the other: the second sees what the first took. Nothing is ever held beyond what is
free: available = on hand - held never goes below zero.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..auth.models import User
from ..errors import NotFound
from ..holds.locks import lock_items
from ..text import limited
from .models import Request, RequestStep

MAX_NOTE = 1000  # as the request form allows


def _step(session: Session, request: Request, user: User, action: str, note: str = "") -> None:
    note = limited(note, "The note", MAX_NOTE)  # a TEXT column: capped like the request's own note
    session.add(RequestStep(request=request, user_id=user.id, action=action, note=note))


def _load_for_update(session: Session, request_id: int) -> Request:
    request = session.get(Request, request_id, populate_existing=True)
    if request is None:
        raise NotFound(f"No request #{request_id}.")
    locked: set[int] = set()
    while not (item_ids := {line.item_id for line in request.lines}) <= locked:
        lock_items(session, item_ids - locked)
        locked |= item_ids
        # Lines may have changed while we waited for the locks (refresh reloads them too): one may
        # even have moved onto another item (a successor swapped in), whose lock is taken next.
        session.refresh(request)
        for line in request.lines:
            session.refresh(line)
    return request
