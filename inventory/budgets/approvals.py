"""Who approves a request, by its team's rules and its value: the approval levels a request
needs, who may fill each, and what an approval fills. The request rules (submission, review)
and the pages, the API and the e-mails all ask here.

The levels, in order:
- **approver**: the team's approver. A request of someone in no team, or of a team without
  an approver, goes to any marketing manager. Admins may always stand in.
- **second**: a second approver, when the request is worth more than the team's
  `second_approval_above`: someone on the admin-set list (User.second_approver) or an admin,
  and never the person who gave the first approval (four eyes).
- **budget**: when the request takes its team over the budget of its period (the period its
  needed-by date falls in, this request counted): a manager with the right to exceed
  (User.may_exceed_budget) or an admin, who says why.

A request worth at most its team's `auto_approve_up_to` (above 0, the team has an approver),
that needs neither of the last two, is approved at submission by the rule (`auto_approves`).

An approval fills the next level waiting and, in order, every later one the same person may
fill (an approver who may exceed the budget fills both with one press, and gives the reason).
The request is approved when no level is left. Levels are worked out afresh at each decision
from the request's value and its team's rules then, so a request whose quantities a manager
raised past the second amount waits for a second approver too.
"""
from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.models import User
from ..auth.roles import MANAGERS
from ..core.money import money
from ..errors import Forbidden, InvalidInput
from ..requests.lifecycle import Status
from ..requests.models import Request, RequestApproval
from .models import Team
from .standing import Standing, request_values, team_standing

APPROVED, REJECTED = "approved", "rejected"
MAX_REASON = 1000


class Level(enum.StrEnum):
    AUTO = "auto"
    APPROVER = "approver"
    SECOND = "second"
    BUDGET = "budget"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def filled_as(self) -> str:
        """"approved as <this>"."""
        return _AS[self]

    @property
    def waiting_for(self) -> str:
        """"waiting for <this>"."""
        return _WAITING[self]


_LABELS = {
    Level.AUTO: "Auto-approval",
    Level.APPROVER: "First approval",
    Level.SECOND: "Second approval",
    Level.BUDGET: "Over budget",
}
_AS = {
    Level.AUTO: "the team's rule",
    Level.APPROVER: "the approver",
    Level.SECOND: "second approver",
    Level.BUDGET: "a manager who may exceed the budget",
}
_WAITING = {
    Level.AUTO: "nobody",
    Level.APPROVER: "the approver",
    Level.SECOND: "a second approver",
    Level.BUDGET: "a manager who may exceed the budget",
}


def budget_kind() -> str:
    return str(current_app.config.get("BUDGET_PERIOD") or "quarter")


@dataclass(frozen=True)
class Need:
    """What a request needs approved, worked out from its value and its team's rules now."""
    value: Decimal
    team: Team | None
    standing: Standing | None  # the team's budget in the request's period, this request counted
    levels: tuple[Level, ...]
    reasons: dict[Level, str] = field(default_factory=dict)  # why each level, in words

    @property
    def over_budget(self) -> bool:
        return Level.BUDGET in self.levels


def _needs(value: Decimal, team: Team | None, standing: Standing | None) -> Need:
    levels, reasons = [Level.APPROVER], {}
    if team is not None and team.approver is not None:
        reasons[Level.APPROVER] = f"{team.approver.display_name}, {team.name}'s approver"
    else:
        reasons[Level.APPROVER] = "any marketing manager" + (f" ({team.name} has no approver)" if team else "")
    if team is not None and team.second_approval_above is not None and value > team.second_approval_above:
        levels.append(Level.SECOND)
        reasons[Level.SECOND] = (f"it is worth {money(value)}, more than {money(team.second_approval_above)}: "
                                 "a second approver too")
    if standing is not None and standing.spend.over:
        levels.append(Level.BUDGET)
        reasons[Level.BUDGET] = (f"it takes {standing.team_name} {money(standing.over_by)} over its budget of "
                                 f"{money(standing.budget)} {standing.words}: a manager with the right to exceed "
                                 "the budget, who says why")
    return Need(value, team, standing, tuple(levels), reasons)


_READ: Any = object()  # `standing` not given: read it


def needs(session: Session, request: Request, today: date | None = None, *, standing: Standing | None = _READ,
          ) -> Need:
    """What `request` (its lines and items loaded) needs approved now. `standing`: its team's
    budget in its period when the caller has read it already (a page shows it too)."""
    today = today or date.today()
    value = request_values(request).total
    team = request.team if request.team_id is not None else None
    if standing is _READ:
        standing = team_standing(session, request.team_id, request.needed_by, budget_kind(), today)
    return _needs(value, team, standing)


def first_need(request: Request, team: Team) -> Need:
    """What a request just submitted (its lines' items in the session) needs first, for the
    e-mail to its team's approver: its value and the approver, the budget not read."""
    return _needs(request_values(request).total, team, None)


def auto_approves(value: Decimal, team: Team | None, standing_after: Standing | None) -> str | None:
    """Whether a request about to be submitted, worth `value`, is approved at once by its team's
    rule; `standing_after`: the team's budget with the request counted. The step's note, or None."""
    if team is None or team.approver_id is None or team.auto_approve_up_to <= 0:
        return None
    need = _needs(value, team, standing_after)
    if value > team.auto_approve_up_to or len(need.levels) > 1:
        return None
    return f"Approved at once by {team.name}'s rule: worth {money(value)}, up to {money(team.auto_approve_up_to)}."


def route(team: Team | None, value: Decimal, standing_after: Standing | None) -> str | None:
    """What happens to a request worth `value` when it is sent, in words, for the rep putting it
    together (`standing_after`: the team's budget with it counted). None for someone in no team."""
    if team is None:
        return None
    if auto_approves(value, team, standing_after):
        return f"Approved at once when you send it: {team.name} approves requests up to " \
               f"{money(team.auto_approve_up_to)} by rule."
    need = _needs(value, team, standing_after)
    who = team.approver.display_name if team.approver is not None else "a marketing manager"
    words = f"It goes to {who} for approval"
    if Level.SECOND in need.levels:
        words += f", then to a second approver (it is worth more than {money(team.second_approval_above)})"
    if Level.BUDGET in need.levels:
        words += ", and, as it goes over the budget, to a manager who may exceed it"
    return words + "."


def given(request: Request) -> list[RequestApproval]:
    """The approvals given so far (rows with decision approved)."""
    return [row for row in request.approvals if row.decision == APPROVED]


def pending(need: Need, request: Request) -> tuple[Level, ...]:
    filled = {row.level for row in given(request)}
    if Level.AUTO in filled:
        return ()
    return tuple(level for level in need.levels if level not in filled)


def level_refusal(user: User, level: Level, need: Need, request: Request,
                  filling: Sequence[Level] = ()) -> str | None:
    """Why `user` may not fill `level` of `request`, in words, or None. `filling`: the levels the
    same decision fills before this one (an approver filling the second level too is refused)."""
    if user.role not in MANAGERS:
        return "Only a marketing manager can approve requests."
    admin = user.role == "admin"
    team = need.team
    if level is Level.APPROVER:
        if admin or team is None or team.approver_id is None or team.approver_id == user.id:
            return None
        return (f"{request.number} is for {team.approver.display_name if team.approver else 'its approver'} "
                f"to approve, {team.name}'s approver (or an admin).")
    if level is Level.SECOND:
        first = next((row.user_id for row in given(request) if row.level == Level.APPROVER), None)
        if first == user.id or Level.APPROVER in filling:
            return "You gave the first approval: a second approver must be someone else."
        if admin or user.second_approver:
            return None
        return (f"{request.number} is worth {money(need.value)}: it needs a second approver "
                "(one the admins named, or an admin).")
    if level is Level.BUDGET:
        if admin or user.may_exceed_budget:
            return None
        standing = need.standing
        over = f" by {money(standing.over_by)}" if standing is not None else ""
        return (f"{request.number} takes {team.name if team else 'its team'} over budget{over}: only a manager "
                "with the right to exceed the budget (or an admin) can approve it.")
    return "Requests approved by rule need no approval."


@dataclass(frozen=True)
class Decision:
    """What `user` approving `request` now would do: the levels it fills (empty: refused, and why),
    whether the request is then approved, and whether a reason must be given (over budget)."""
    need: Need
    waiting: tuple[Level, ...]
    fills: tuple[Level, ...]
    refusal: str | None

    @property
    def approves(self) -> bool:
        return bool(self.fills) and len(self.fills) == len(self.waiting)

    @property
    def needs_reason(self) -> bool:
        return Level.BUDGET in self.fills

    @property
    def next_level(self) -> Level | None:
        """The level waiting once this decision is made (None: approved)."""
        rest = self.waiting[len(self.fills):]
        return rest[0] if rest else None


def decide(need: Need, request: Request, user: User) -> Decision:
    waiting = pending(need, request)
    if not waiting:
        return Decision(need, waiting, (), None)
    refusal = level_refusal(user, waiting[0], need, request)
    if refusal is not None:
        return Decision(need, waiting, (), refusal)
    fills = [waiting[0]]
    for level in waiting[1:]:
        if level_refusal(user, level, need, request, fills) is not None:
            break
        fills.append(level)
    return Decision(need, waiting, tuple(fills), None)


def record_approval(session: Session, request: Request, user: User, note: str, today: date | None = None,
                    ) -> Decision:
    """Record `user`'s approval of `request` (submitted, loaded for update) at every level it
    fills; Forbidden in words when this user may not approve it now, InvalidInput when it goes
    over budget and no reason is given. The caller sets the status when `approves`."""
    need = needs(session, request, today)
    decision = decide(need, request, user)
    if decision.refusal is not None:
        raise Forbidden(decision.refusal)
    note = (note or "").strip()
    if decision.needs_reason and not note:
        raise InvalidInput(f"{request.number} goes over budget: say why it may (the reason is recorded).",
                           about=(None, "note"))
    if len(note) > MAX_REASON:
        raise InvalidInput(f"The note is too long: at most {MAX_REASON} characters.", about=(None, "note"))
    for level in decision.fills:
        request.approvals.append(RequestApproval(user_id=user.id, level=level, decision=APPROVED, note=note))
    return decision


def record_rejection(request: Request, user: User, reason: str) -> None:
    """The rejection as an approval decision (the level it was waiting at, approver when none)."""
    level = Level.APPROVER
    filled = {row.level for row in given(request)}
    for candidate in (Level.APPROVER, Level.SECOND, Level.BUDGET):
        if candidate not in filled:
            level = candidate
            break
    request.approvals.append(RequestApproval(user_id=user.id, level=level, decision=REJECTED, note=reason))


def auto_row(note: str) -> RequestApproval:
    return RequestApproval(user_id=None, level=Level.AUTO, decision=APPROVED, note=note)


def who_may(session: Session, level: Level, need: Need, request: Request) -> list[User]:
    """The active users who may fill `level` of `request` now (for the e-mails and the page):
    the team's approver (any manager when none: then nobody is e-mailed, as before approvals),
    the second approvers, the managers with the right to exceed. Admins stand in for all of
    them but are not e-mailed unless on the list."""
    if level is Level.APPROVER:
        team = need.team
        return [team.approver] if team is not None and team.approver is not None and team.approver.active else []
    flag = User.second_approver if level is Level.SECOND else User.may_exceed_budget
    users = session.scalars(select(User).where(User.active, User.role.in_(MANAGERS), flag.is_(True))
                            .order_by(User.name)).all()
    return [user for user in users if level_refusal(user, level, need, request) is None]


@dataclass(frozen=True)
class Shown:
    """The approval box of a request page: each level needed with who filled it, and what the
    user looking may do."""
    need: Need
    rows: list[tuple[Level, str, RequestApproval | None]]  # level, why, the approval (None: waiting)
    decision: Decision | None


def shown(session: Session, request: Request, user: User, today: date | None = None, *,
          standing: Standing | None = _READ) -> Shown:
    """The approval state of `request` for its page (its approvals loaded; one statement for
    the team's budget unless `standing` is given)."""
    filled = {Level(row.level): row for row in given(request)}
    if Level.AUTO in filled:
        need = Need(request_values(request).total, request.team, None, (Level.AUTO,))
        return Shown(need, [(Level.AUTO, "", filled[Level.AUTO])], None)
    need = needs(session, request, today, standing=standing)
    levels = list(need.levels) + [level for level in filled if level not in need.levels]
    rows = [(level, need.reasons.get(level, ""), filled.get(level)) for level in levels]
    decision = decide(need, request, user) if request.status == Status.SUBMITTED else None
    return Shown(need, rows, decision)


