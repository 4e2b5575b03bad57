"""Hand-over rules: hand a ready request to whoever collects it (or ship it), recording who
collected it or the carrier and tracking number, and a manager's *Undo hand-over* on the day.

A hand-over issues the picked units out of DISPATCH (consumables) or sends them out booked until
check-in (returnables). Undoing it books the reverse of each issue in the ledger (the units are
back in DISPATCH, picked and held for the request, which is ready again), clears what the
hand-over recorded and keeps its history in the steps: the ledger, the forecast (the stock rules
tell it which items changed), the reports (which count only hand-overs that stand) and the line's
recorded unit cost all agree again.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from urllib.parse import quote

from ..auth.models import User
from ..database import SessionLike, unit_of_work
from ..errors import Conflict, InvalidInput
from ..holds.backorders import fill_backorders
from ..stock import services as stock
from ..text import limited
from ..timeutil import utcnow
from . import emails, lifecycle
from .lifecycle import Action, Status
from .models import Request
from .services import MAX_NOTE, _load_for_update, _refuse_clashing_bookings, _step, dispatch_bin

MAX_COLLECTED_BY = 120   # Request.handed_over_to
MAX_CARRIER = 40         # Request.carrier
MIN_TRACKING, MAX_TRACKING = 4, 40
MAX_UNDO_REASON = 300
OTHER_CARRIER = "Other"
UNDO_KIND = "undo_issue"  # the ledger's reverse of an issue

# The carriers the page offers, each with its public tracking page ({} is the tracking number).
CARRIERS = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "DHL": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "DPD": "https://tracking.dpd.de/status/en_US/parcel/{}",
    "GLS": "https://gls-group.com/GROUP/en/parcel-tracking?match={}",
    "PostNL": "https://jouw.postnl.nl/track-and-trace/{}",
    "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "La Poste/Colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
}
_KNOWN = {name.lower(): name for name in CARRIERS}
_TRACKING = re.compile(r"[A-Za-z0-9 -]+", re.ASCII)


class UndoRefused(Conflict):
    """An undo the rules do not allow (not a manager's, not on the day, something checked in)."""


def normal_carrier(carrier: object) -> str:
    """A known carrier in its own spelling ("ups" -> "UPS"), another carrier's name as typed
    (1-40 characters), or InvalidInput about "carrier"."""
    carrier = limited(carrier, "The carrier", MAX_CARRIER, about="carrier")
    if not carrier:
        raise InvalidInput("Choose the carrier.", about="carrier")
    if carrier.lower() == OTHER_CARRIER.lower():
        raise InvalidInput("Type the carrier's name.", about="carrier")
    return _KNOWN.get(carrier.lower(), carrier)


def normal_tracking(tracking: object) -> str:
    """A tracking number in upper case without spaces: 4-40 letters, digits and dashes as typed
    (spaces allowed), or InvalidInput about "tracking"."""
    if tracking is not None and not isinstance(tracking, str):
        raise InvalidInput("The tracking number must be text.", about="tracking")
    typed = (tracking or "").strip()
    if not typed:
        raise InvalidInput("Enter the tracking number.", about="tracking")
    if not _TRACKING.fullmatch(typed):
        raise InvalidInput("A tracking number has only letters, digits, spaces and dashes.", about="tracking")
    number = typed.replace(" ", "").upper()
    if not MIN_TRACKING <= len(number) <= MAX_TRACKING:
        raise InvalidInput(f"A tracking number has {MIN_TRACKING} to {MAX_TRACKING} characters "
                           f"(not counting spaces); this one has {len(number)}.", about="tracking")
    return number


def tracking_url(carrier: str | None, tracking: str | None) -> str | None:
    """The carrier's public tracking page for this number, or None (another carrier, no number)."""
    pattern = CARRIERS.get(carrier or "")
    return pattern.format(quote(tracking, safe="")) if pattern and tracking else None


def local_time(at: datetime) -> datetime:
    """A naive UTC time in the server's local time (the clock date.today() goes by)."""
    return at.replace(tzinfo=timezone.utc).astimezone()


def local_day(at: datetime) -> date:
    """The server's local calendar day of a naive UTC time (the day date.today() names)."""
    return local_time(at).date()


def _details(request: Request, collected_by: str | None, carrier: str | None, tracking: str | None,
             require: bool) -> tuple[str, str, str]:
    """(handed_over_to, carrier, tracking) for this request's hand-off, validated."""
    if request.handoff == "ship":
        if not require and not (carrier or "").strip() and not (tracking or "").strip():
            return "", "", ""  # a caller from before hand-overs recorded anything (see hand_over)
        carrier, tracking = normal_carrier(carrier), normal_tracking(tracking)
        return "", carrier, tracking
    name = limited(collected_by, "The name", MAX_COLLECTED_BY, about="collected_by")
    if not name:
        if require:
            raise InvalidInput("Say who collected it.", about="collected_by")
        name = request.requester.display_name[:MAX_COLLECTED_BY]
    return name, "", ""


@unit_of_work
def hand_over(session: SessionLike, request_id: int, user: User, note: str | None = "", *,
              collected_by: str | None = "", carrier: str | None = "", tracking: str | None = "",
              require: bool = False) -> Request:
    """Hand the picked stock to the rep (or ship it): consumables are issued and their holds
    end; returnables go out and stay booked until they are checked in. Anything held but not
    picked (a backorder filled after the request was ready) is released to the next in line.
    Each issue records the item's unit cost now, on the ledger row and on the line.

    Records who collected it (pick-up: `collected_by`, 1-120 characters) or, for a shipment, the
    `carrier` (a known one in its own spelling, or another's name) and the `tracking` number
    (4-40 letters, digits and dashes, kept in upper case without spaces). With `require` (the
    page and the API), a pick-up needs the name and a shipment both; without, a pick-up with no
    name is collected by the requester and a shipment may give neither (callers from before
    hand-overs recorded anything). Bad details: InvalidInput about the field, nothing written."""
    request = _load_for_update(session, request_id)
    lifecycle.require(request, Action.HAND_OVER, user)
    handed_to, shipped_with, number = _details(request, collected_by, carrier, tracking, require)
    dispatch = dispatch_bin(session)
    for line in request.lines:
        if line.picked:
            issue = stock.book(session, "issue", line.item, from_bin=dispatch, quantity=line.picked, user=user,
                               reason=f"Handed over for {request.number}", reference=request.number)
            # The cost the issue records, on the line too: what its used, lost and damaged
            # units cost, whatever the price is later.
            line.issued_unit_cost = issue.unit_cost
        line.issued += line.picked
        line.reserved = line.issued if line.item.returnable else 0
        line.picked = 0
        line.backordered = 0
    request.status = Status.HANDED_OVER
    request.handed_over_to, request.carrier, request.tracking = handed_to, shipped_with, number
    request.handed_over_at = utcnow()
    _refuse_clashing_bookings(session, request)
    typed_note = limited(note, "The note", MAX_NOTE - 200, about="note")  # room for what was recorded
    _step(session, request, user, "handed_over", _said(request, typed_note))
    emails.shipped(session, request, typed_note)
    session.flush()
    for line in request.lines:
        fill_backorders(session, line.item)
    return request


def _said(request: Request, note: str = "") -> str:
    """The hand-over step's note: what was recorded, then the stockroom's note."""
    if request.handoff == "ship":
        said = f"Shipped with {request.carrier}, tracking {request.tracking}" if request.carrier else "Shipped"
    else:
        said = f"Collected by {request.handed_over_to}" if request.handed_over_to else "Picked up"
    return f"{said}. {note}" if note else said


def undo_refusal(request: Request, user: User, today: date | None = None) -> str | None:
    """Why `user` may not undo this request's hand-over now, in words, or None when they may.
    The page shows it beside the button; undo_hand_over refuses with the same words."""
    refused = lifecycle.refusal(request, Action.UNDO_HAND_OVER, user)  # who, and the status: the table's
    if refused is not None:
        return refused.message
    if any(line.returned or line.consumed or line.lost or line.damaged for line in request.lines):
        return "Something was checked in already."
    if request.handed_over_at is None or local_day(request.handed_over_at) != (today or date.today()):
        return "Only on the day of the hand-over."
    return None


@unit_of_work
def undo_hand_over(session: SessionLike, request_id: int, manager: User, reason: str | None, *,
                   today: date | None = None) -> Request:
    """Undo today's hand-over (a manager, on the day it was handed over, nothing checked in):
    each issue is booked back into DISPATCH at the unit cost it recorded, the lines are picked
    and held again (holds released at the hand-over stay released; a consumable's hold comes
    back with its units, so what is free does not change), the request is ready again and what
    the hand-over recorded is cleared. A step says who undid it and why (`reason`, required,
    at most 300 characters). Refusals: Forbidden, UndoRefused, InvalidInput about "reason"."""
    lifecycle.require_role(Action.UNDO_HAND_OVER, manager)
    reason = limited(reason, "The reason", MAX_UNDO_REASON, about="reason")
    if not reason:
        raise InvalidInput("Say why the hand-over is undone.", about="reason")

    request = _load_for_update(session, request_id)
    why_not = undo_refusal(request, manager, today)
    if why_not:
        raise UndoRefused(f"The hand-over of {request.number} cannot be undone: {why_not}")
    dispatch = dispatch_bin(session)
    back = []
    for line in request.lines:
        if not line.issued:
            continue
        stock.book(session, UNDO_KIND, line.item, to_bin=dispatch, quantity=line.issued, user=manager,
                   reason=f"Hand-over of {request.number} undone: {reason}",
                   reference=request.number, unit_cost=line.issued_unit_cost)
        back.append(f"{line.issued} × {line.item.sku}")
        line.picked = line.reserved = line.issued
        line.issued = 0
        line.issued_unit_cost = None
    was = _said(request)
    emails.hand_over_undone(session, request, reason)  # while it still says what was recorded
    request.status = Status.READY
    request.handed_over_to = request.carrier = request.tracking = ""
    request.handed_over_at = None
    _refuse_clashing_bookings(session, request)
    note = f"{reason} (was: {was}; back in DISPATCH: {', '.join(back) or 'nothing'})"
    _step(session, request, manager, "hand_over_undone", note if len(note) <= MAX_NOTE else note[:MAX_NOTE - 2] + "…)")
    return request
