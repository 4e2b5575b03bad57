"""The request lifecycle as data: the statuses a request goes through, and one table of the
steps people take on it (from which statuses, to which, and who may). Every request rule asks
the table before it acts (`require`), and the request page shows the buttons of the steps the
table allows (`allowed_actions`), so what a page offers and what a rule accepts cannot drift.

    submitted -approve-> approved -pick-> picking -pick-> ready -hand over-> handed_over -check in-> returned
    (submitted: change quantities; submitted or approved: reject -> rejected, cancel -> cancelled;
    approved or picking: release unpicked; picking or ready: put back -> picking;
    handed_over on its day: undo hand-over -> ready)

The status column stays a string: a `Status` is a `StrEnum`, equal to (and stored as) the
string it names, so code comparing with "approved" keeps working.

This module imports nothing of the requests package (models import it for the groups); it
reads a request's `status`, `requester_id`, `number` and, for its guards, `lines`.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..auth.roles import MANAGERS, STAFF
from ..errors import Conflict, DomainError, Forbidden, InvalidInput

if TYPE_CHECKING:
    from ..auth.models import User

# A `request` here is a requests.models.Request, typed Any: that module imports this one.


class Status(enum.StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    PICKING = "picking"
    READY = "ready"
    HANDED_OVER = "handed_over"
    RETURNED = "returned"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def holds_stock(self) -> bool:
        """Its reservations still hold stock (a returnable handed over stays booked until back)."""
        return self in _HOLDING

    @property
    def is_open(self) -> bool:
        """Not handed over yet, nor ended: it holds stock nobody has collected."""
        return self in _OPEN


_LABELS = {
    Status.SUBMITTED: "Submitted",
    Status.APPROVED: "Approved",
    Status.PICKING: "Picking",
    Status.READY: "Ready",
    Status.HANDED_OVER: "Handed over",
    Status.RETURNED: "Returned",
    Status.CANCELLED: "Cancelled",
    Status.REJECTED: "Rejected",
}
_OPEN = frozenset({Status.SUBMITTED, Status.APPROVED, Status.PICKING, Status.READY})
_HOLDING = _OPEN | {Status.HANDED_OVER}


def label(status: str) -> str:
    """A status's label ("handed_over" -> "Handed over"); an unknown string as it is."""
    try:
        return Status(status).label
    except ValueError:
        return status


class Action(enum.StrEnum):
    """A step a person takes on a request (the rule of the same name takes it)."""

    APPROVE = "approve"
    CHANGE_QUANTITIES = "change_quantities"
    REJECT = "reject"
    CANCEL = "cancel"
    PICK = "pick"
    RELEASE_UNPICKED = "release_unpicked"
    PUT_BACK = "put_back"
    HAND_OVER = "hand_over"
    UNDO_HAND_OVER = "undo_hand_over"
    CHECK_IN = "check_in"


SAME = "same"  # a transition's `to`: the request stays in the status it was in

STOCKROOM = STAFF  # the stockroom's steps: staff, and the managers and admins who may stand in

_WRONG_STATUS = "Request {number} is {status}; it cannot be {verb}."


@dataclass(frozen=True)
class Guard:
    """A condition besides the status: `holds(request)`, else `error(message)` (the rule's
    refusal, a page hides the button)."""

    holds: Callable[[Any], bool]
    message: str
    error: type[DomainError] = InvalidInput


@dataclass(frozen=True)
class Transition:
    """One step: allowed `source` statuses, where the request may go (`to`: statuses, SAME
    for "where it was"), and who may take it: a user whose role is in `roles`, or, with
    `requester`, the user who asked for the request. `verb` says the step in the refusal
    ("it cannot be approved"); `forbidden` is what anyone else is told."""

    source: tuple[Status, ...]
    to: tuple[str, ...]
    roles: tuple[str, ...]
    verb: str
    forbidden: str
    requester: bool = False
    wrong_status: str = _WRONG_STATUS
    guards: tuple[Guard, ...] = field(default=())

    def may(self, user: User, request: Any = None) -> bool:
        """Whether `user` may take this step (on `request`: the requester may, when it says so)."""
        if user.role in self.roles:
            return True
        return self.requester and request is not None and request.requester_id == user.id


_MANAGER_ONLY = "Only a marketing manager can do this."
_STOCKROOM_ONLY = "Only the stockroom can do this."
_HAS_RETURNABLES = Guard(lambda request: any(line.item.returnable for line in request.lines),
                         "This request has nothing to return.")

# THE table. Order is the order a page lists the steps in.
TRANSITIONS: dict[Action, Transition] = {
    Action.APPROVE: Transition(
        (Status.SUBMITTED,), (Status.APPROVED,), MANAGERS, "approved", _MANAGER_ONLY),
    Action.CHANGE_QUANTITIES: Transition(
        (Status.SUBMITTED,), (SAME,), MANAGERS, "changed", _MANAGER_ONLY),
    Action.REJECT: Transition(
        (Status.SUBMITTED, Status.APPROVED), (Status.REJECTED,), MANAGERS, "rejected", _MANAGER_ONLY),
    Action.CANCEL: Transition(
        (Status.SUBMITTED, Status.APPROVED), (Status.CANCELLED,), MANAGERS, "cancelled",
        "You can only change your own requests.", requester=True),
    # Picking everything left makes the request ready.
    Action.PICK: Transition(
        (Status.APPROVED, Status.PICKING), (Status.PICKING, Status.READY), STOCKROOM, "picked", _STOCKROOM_ONLY),
    # What could not be found is released: with nothing picked the request stays approved;
    # with the rest all picked it is ready.
    Action.RELEASE_UNPICKED: Transition(
        (Status.APPROVED, Status.PICKING), (SAME, Status.PICKING, Status.READY), STOCKROOM, "changed",
        _STOCKROOM_ONLY),
    Action.PUT_BACK: Transition(
        (Status.PICKING, Status.READY), (Status.PICKING,), STOCKROOM, "changed", _STOCKROOM_ONLY),
    Action.HAND_OVER: Transition(
        (Status.READY,), (Status.HANDED_OVER,), STOCKROOM, "handed over", _STOCKROOM_ONLY),
    # On the day of the hand-over and with nothing checked in yet (handover.undo_refusal says so).
    Action.UNDO_HAND_OVER: Transition(
        (Status.HANDED_OVER,), (Status.READY,), MANAGERS, "undone",
        "Only a marketing manager can undo a hand-over.", wrong_status="{number} is {status}, not handed over."),
    Action.CHECK_IN: Transition(
        (Status.HANDED_OVER,), (Status.RETURNED,), STOCKROOM, "checked in", _STOCKROOM_ONLY,
        guards=(_HAS_RETURNABLES,)),
}

# Groups the other rules and pages go by.
OPEN = tuple(status for status in Status if status.is_open)
HOLDING = tuple(status for status in Status if status.holds_stock)
CANCELLABLE = TRANSITIONS[Action.CANCEL].source


def refusal(request: Any, action: Action, user: User) -> DomainError | None:
    """Why `user` may not take `action` on `request` now, as the error the rule raises, or None.
    Who comes first (Forbidden), then the status (Conflict), then the step's guards."""
    transition = TRANSITIONS[action]
    if not transition.may(user, request):
        return Forbidden(transition.forbidden)
    if request.status not in transition.source:
        return Conflict(transition.wrong_status.format(number=request.number, status=label(request.status).lower(),
                                                       verb=transition.verb))
    for guard in transition.guards:
        if not guard.holds(request):
            return guard.error(guard.message)
    return None


def require(request: Any, action: Action, user: User) -> Transition:
    """Refuse (raise the table's reason) unless `user` may take `action` on `request` now."""
    error = refusal(request, action, user)
    if error is not None:
        raise error
    return TRANSITIONS[action]


def require_role(action: Action, user: User) -> None:
    """Refuse a user who may never take `action` (before a request is loaded; the requester
    rule needs the request, so this refuses only by role and for steps no requester may take)."""
    transition = TRANSITIONS[action]
    if not transition.requester and not transition.may(user):
        raise Forbidden(transition.forbidden)


def status_allows(request: Any, action: Action) -> bool:
    """Whether the request's status is one `action` starts from (whoever asks)."""
    return request.status in TRANSITIONS[action].source


def allowed_actions(request: Any, user: User) -> tuple[Action, ...]:
    """The steps `user` may take on `request` now, in the table's order: what its page offers."""
    return tuple(action for action in TRANSITIONS if refusal(request, action, user) is None)


def may_end_in(action: Action, before: str, after: str) -> bool:
    """Whether the table lets `action` take a request from `before` to `after`."""
    to = TRANSITIONS[action].to
    return after in to or (SAME in to and after == before)
