"""Loans: returnable units that are out on a request (handed over, not yet checked in).

The item and bin pages, the label URL and the receive form ask these questions: where is each
unit of a display, with whom, due back when, and is a display "arriving" really a loaned one
coming back. Read-only; one query for any number of items (no query per row).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ScalarSelect, func, select

from ..auth.models import User
from ..bins.models import DISPATCH_CODE, Bin
from ..catalog.models import Item
from ..database import SessionLike
from ..stock.models import Movement, StockLevel
from .lifecycle import Status
from .models import Request, RequestLine, request_number


# A line's units still out: what went out less what came back or was written off at check-in.
UNITS_OUT = (RequestLine.issued - RequestLine.returned - RequestLine.consumed - RequestLine.lost
             - RequestLine.damaged)


def lines_out(request_id_column: Any) -> ScalarSelect[int]:
    """A scalar subquery: how many of a request's returnable lines have units out (0 when
    nothing has to come back: only consumables went out, or the returnable was short-picked)."""
    return (select(func.count(RequestLine.id)).join(Item, RequestLine.item_id == Item.id)
            .where(RequestLine.request_id == request_id_column, Item.returnable.is_(True), UNITS_OUT > 0)
            .scalar_subquery())


@dataclass(frozen=True)
class Loan:
    """Units of one item out on one request."""
    item_id: int
    line_id: int
    request_id: int
    requester_id: int
    requester: str
    units: int
    return_by: date | None
    today: date

    @property
    def number(self) -> str:
        return request_number(self.request_id)

    @property
    def days_overdue(self) -> int:
        """Whole days past the return date (0 when not overdue or no return date)."""
        if self.return_by is None or self.return_by >= self.today:
            return 0
        return (self.today - self.return_by).days

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0

    @property
    def due_words(self) -> str:
        """'due back Tue 8 Dec', 'due back today', '3 days overdue (due Sat 5 Dec)', 'no return date'."""
        if self.return_by is None:
            return "no return date"
        day = self.return_by.strftime("%a %-d %b")
        if self.overdue:
            days = self.days_overdue
            return f"{days} day{'s' if days != 1 else ''} overdue (due back {day})"
        if self.return_by == self.today:
            return "due back today"
        return f"due back {day}"


def loans_of_items(session: SessionLike, item_ids: Iterable[int], today: date | None = None) -> dict[int, list[Loan]]:
    """{item id: [Loan, ...]} for the returnable items among `item_ids` that have units out,
    most overdue (earliest return date) first; items with none are left out. One query."""
    item_ids = set(item_ids)
    if not item_ids:
        return {}
    today = today or date.today()
    out = UNITS_OUT
    rows = session.execute(
        select(RequestLine.item_id, RequestLine.id, Request.id, Request.return_by, User.id, User.name, User.email,
               out.label("out"))
        .join(Request, RequestLine.request_id == Request.id)
        .join(User, Request.requester_id == User.id)
        .join(Item, RequestLine.item_id == Item.id)
        .where(Request.status == Status.HANDED_OVER, Item.returnable.is_(True), RequestLine.item_id.in_(item_ids),
               out > 0)
        .order_by(Request.return_by.is_(None), Request.return_by, Request.id, RequestLine.id)
    ).all()
    loans: dict[int, list[Loan]] = {}
    for item_id, line_id, request_id, return_by, user_id, name, email, units in rows:
        loans.setdefault(item_id, []).append(
            Loan(item_id, line_id, request_id, user_id, name or email, int(units), return_by, today))
    return loans


def loans_of_item(session: SessionLike, item: Item, today: date | None = None) -> list[Loan]:
    """[Loan, ...] of one item (empty for a consumable or when none are out)."""
    if not item.returnable:
        return []
    return loans_of_items(session, [item.id], today).get(item.id, [])


def units_out(loans: Iterable[Loan]) -> int:
    return sum(loan.units for loan in loans)


@dataclass(frozen=True)
class Units:
    """Where the units of a returnable are: in stock bins, picked (in DISPATCH, waiting to be
    handed over) and out on loan; for the item page's headline."""
    in_bins: int
    picked: int
    out: int

    @classmethod
    def of(cls, levels: Iterable[StockLevel], loans: Iterable[Loan]) -> Units:
        """From the item's stock levels (levels_of_item) and its loans."""
        picked = sum(level.quantity for level in levels if level.bin.code == DISPATCH_CODE)
        in_bins = sum(level.quantity for level in levels) - picked
        return cls(in_bins, picked, units_out(loans))

    @property
    def total(self) -> int:
        return self.in_bins + self.picked + self.out

    @property
    def words(self) -> str:
        """'3 units: 2 in bins, 1 out on loan'."""
        def n(count: int, one: str, many: str) -> str:
            return f"{count} {one if count == 1 else many}"

        parts = [n(self.in_bins, "in a bin", "in bins")]
        if self.picked:
            parts.append(f"{self.picked} picked for hand-over")
        if self.out:
            parts.append(f"{self.out} out on loan")
        return f"{n(self.total, 'unit', 'units')}: " + ", ".join(parts)


def loan_for_check_in(loans: Sequence[Loan]) -> Loan | None:
    """The one request a scanned returned unit must have come back from, or None when there is
    no loan or more than one request has the item out (then the person has to choose)."""
    return loans[0] if len({loan.request_id for loan in loans}) == 1 else None


def usual_bin(session: SessionLike, item: Item, recent: int = 20) -> Bin | None:
    """The stock bin `item` was last in (where it was picked from, received or put away into),
    for a returned unit's check-in; None when its recent history names none still in use."""
    rows = session.execute(
        select(Movement.kind, Movement.from_bin_id, Movement.to_bin_id)
        .where(Movement.item_id == item.id)
        .order_by(Movement.created_at.desc(), Movement.id.desc()).limit(recent)
    ).all()
    candidates = []
    for kind, from_bin_id, to_bin_id in rows:
        # A pick takes it out of its shelf into DISPATCH: the shelf is where it lives. Anything
        # else that puts it somewhere (receive, put-away, move, return) names where it went.
        candidates.append(from_bin_id if kind == "pick" else to_bin_id)
    candidates = [bin_id for bin_id in candidates if bin_id is not None]
    if not candidates:
        return None
    bins = {bin.id: bin for bin in session.scalars(select(Bin).where(Bin.id.in_(set(candidates))))}
    for bin_id in candidates:
        bin = bins.get(bin_id)
        if bin is not None and not bin.archived and bin.code != DISPATCH_CODE:
            return bin
    return None
