"""What each role has to do today, for the Today page (every role's home).

One plain function per role returns its sections; each section is read with ONE statement that
also counts all its rows (a window count), so a page costs a fixed number of statements however
busy the stockroom is. Each section shows at most LIMIT rows and says how many there are in all.

Counts due: the app keeps no count schedule, so a bin is due for a count when it holds stock and
its last count (a `count` movement in the ledger, booked even when nothing differed) is older than
COUNT_EVERY_DAYS days (config, 90 by default), or it was never counted. Oldest first.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, Row, ScalarSelect, Select, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from ..auth.models import User
from ..bins.models import DISPATCH_CODE, Bin
from ..database import SessionLike
from ..events.models import Event
from ..purchasing.models import PurchaseOrder, PurchaseOrderLine
from ..requests.models import OPEN, Request, RequestDraft, RequestLine
from ..requests.loans import lines_out
from ..stock.models import Movement, StockLevel

if TYPE_CHECKING:
    from ..forecast.models import ReorderFlag

LIMIT = 10
RUSH_DAYS = 2  # as Request.is_rush: needed within two days
NEXT_STEP = {  # what happens next to a rep's request, in the rep's words
    "submitted": "Waiting for Marketing to approve",
    "approved": "Approved: the stockroom picks it next",
    "picking": "Being picked",
    "ready": "Ready: collect it from the stockroom",
}
NEXT_STEP_SHIP = "Ready: being shipped to you"
# What a section's query answers: (its first rows, how many rows it has in all).
Capped = tuple[Sequence[Row[Any]], int]


@dataclass
class Section:
    """One list of the page: its rows (at most LIMIT), how many there are in all, and the line
    an empty list shows."""
    key: str
    title: str
    rows: Sequence[Any]
    total: int
    empty: str
    more_endpoint: str | None = None
    more_args: dict[str, Any] = field(default_factory=dict)

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def _capped(session: SessionLike, statement: Select[Any], limit: int = LIMIT) -> Capped:
    """(the first `limit` rows of `statement`, how many rows it has in all), in one statement."""
    rows = session.execute(statement.add_columns(func.count().over().label("total_rows")).limit(limit)).all()
    return rows, (rows[0].total_rows if rows else 0)


def _requests(*conditions: ColumnElement[bool], loans: bool = False) -> Select[Any]:
    """Requests with their requester's name, how many lines and how many units to pick or on
    backorder. With `loans`, only requests with returnable units out, and `lines` counts the
    lines that have to come back."""
    if loans:
        lines = lines_out(Request.id)
        conditions = (*conditions, lines > 0)
    else:
        lines = select(func.count(RequestLine.id)).where(RequestLine.request_id == Request.id).scalar_subquery()
    to_pick = (select(func.coalesce(func.sum(RequestLine.reserved - RequestLine.picked), 0))
               .where(RequestLine.request_id == Request.id).scalar_subquery())
    backordered = (select(func.coalesce(func.sum(RequestLine.backordered), 0))
                   .where(RequestLine.request_id == Request.id).scalar_subquery())
    return (select(Request.id, Request.status, Request.purpose, Request.handoff, Request.needed_by,
                   Request.return_by, func.substr(Request.note, 1, 120).label("note"), Event.name.label("event"),
                   User.name.label("user_name"), User.email,
                   lines.label("lines"), to_pick.label("to_pick"), backordered.label("backordered"))
            .join(User, User.id == Request.requester_id).outerjoin(Event, Event.id == Request.event_id)
            .where(*conditions))


# The stockroom ------------------------------------------------------------------------------------

def to_pick(session: SessionLike, today: date) -> Capped:
    """Approved requests and those being picked, soonest needed first (each opens its pick list,
    which goes bin by bin)."""
    statement = _requests(Request.status.in_(("approved", "picking")))
    # Requests whose lines all wait on backorder have nothing on a shelf to pick yet.
    return _capped(session, statement.where(statement.selected_columns.to_pick > 0)
                   .order_by(Request.needed_by, Request.id))


def to_hand_over(session: SessionLike, today: date) -> Capped:
    """Picked requests waiting in DISPATCH for the rep (or the courier)."""
    return _capped(session, _requests(Request.status == "ready").order_by(Request.needed_by, Request.id))


def _orders_expected(session: SessionLike, today: date, overdue_only: bool = False) -> Capped:
    """Ordered purchase orders expected by today (or only those past their date), oldest expected
    first, with how many units are still to receive."""
    outstanding = (select(func.coalesce(func.sum(PurchaseOrderLine.quantity - PurchaseOrderLine.received), 0))
                   .where(PurchaseOrderLine.order_id == PurchaseOrder.id,
                          PurchaseOrderLine.received < PurchaseOrderLine.quantity).scalar_subquery())
    due = PurchaseOrder.expected_on < today if overdue_only else PurchaseOrder.expected_on <= today
    return _capped(session, select(PurchaseOrder.id, PurchaseOrder.supplier, PurchaseOrder.expected_on,
                                   outstanding.label("outstanding"))
                   .where(PurchaseOrder.status == "ordered", due)
                   .order_by(PurchaseOrder.expected_on, PurchaseOrder.id))


def deliveries_due(session: SessionLike, today: date) -> Capped:
    """Ordered purchase orders expected today or before (overdue), oldest expected first."""
    return _orders_expected(session, today)


def returns_due(session: SessionLike, today: date, overdue_only: bool = False, requester: User | None = None) -> Capped:
    """Handed-over requests with returnables to come back by today (or only those past their
    date), soonest due first."""
    conditions = [Request.status == "handed_over", Request.return_by.is_not(None),
                  Request.return_by < today if overdue_only else Request.return_by <= today]
    if requester is not None:
        conditions.append(Request.requester_id == requester.id)
    return _capped(session, _requests(*conditions, loans=True).order_by(Request.return_by, Request.id))


def _last_count(bin_column: Any) -> tuple[ScalarSelect[Any], ScalarSelect[Any]]:
    """A bin's last count movement (a count books up into the bin or down out of it), each side
    one seek in its partial index of count movements (migration 0019). The kind is a literal,
    not a parameter, so that the partial indexes match it."""
    count = Movement.kind == literal_column("'count'")
    into = select(func.max(Movement.created_at)).where(count, Movement.to_bin_id == bin_column).scalar_subquery()
    out = select(func.max(Movement.created_at)).where(count, Movement.from_bin_id == bin_column).scalar_subquery()
    return into, out


def counts_due(session: SessionLike, today: date, every_days: int) -> Capped:
    """Bins holding stock whose last count is older than `every_days` days, or never counted;
    the longest uncounted first."""
    cutoff = datetime.combine(today - timedelta(days=every_days), time.min)
    stocked = (select(StockLevel.bin_id, func.count().label("stocked_items"))
               .where(StockLevel.quantity > 0).group_by(StockLevel.bin_id).subquery("stocked"))
    into, out = _last_count(Bin.id)
    bins = (select(Bin.code, Bin.name, Bin.zone, stocked.c.stocked_items, into.label("into"), out.label("out"))
            .join(stocked, stocked.c.bin_id == Bin.id)
            .where(Bin.archived.is_(False), Bin.code != DISPATCH_CODE).subquery("bins"))
    counted_at = case((bins.c.into.is_(None), bins.c.out), (bins.c.out.is_(None), bins.c.into),
                      (bins.c.into > bins.c.out, bins.c.into), else_=bins.c.out)
    return _capped(session, select(bins.c.code, bins.c.name, bins.c.zone, bins.c.stocked_items,
                                   counted_at.label("counted_at"))
                   .where(or_(counted_at.is_(None), counted_at < cutoff))
                   .order_by(case((counted_at.is_(None), 0), else_=1), counted_at, bins.c.code))


def for_staff(session: SessionLike, today: date, count_every_days: int = 90) -> list[Section]:
    rows, total = to_pick(session, today)
    sections = [Section("pick", "To pick", rows, total, "Nothing to pick.", "requests.picking")]
    rows, total = to_hand_over(session, today)
    sections.append(Section("hand_over", "Ready to hand over", rows, total, "Nothing waiting in dispatch.",
                            "requests.picking"))
    rows, total = deliveries_due(session, today)
    sections.append(Section("deliveries", "Deliveries due", rows, total, "No deliveries due today.",
                            "purchasing.index"))
    rows, total = returns_due(session, today)
    sections.append(Section("returns", "Returns due", rows, total, "No returns due today."))
    rows, total = counts_due(session, today, count_every_days)
    sections.append(Section("counts", "Counts due", rows, total,
                            f"Every bin with stock was counted in the last {count_every_days} days.", "bins.index"))
    return sections


# A sales rep --------------------------------------------------------------------------------------

def next_step(row: Any) -> str:
    """What happens next to a rep's open request, in words."""
    if row.status == "ready" and row.handoff == "ship":
        return NEXT_STEP_SHIP
    return NEXT_STEP.get(row.status, "")


def my_open_requests(session: SessionLike, user: User, today: date) -> Capped:
    """The rep's requests not yet handed over, soonest needed first."""
    return _capped(session, _requests(Request.requester_id == user.id, Request.status.in_(OPEN))
                   .order_by(Request.needed_by, Request.id))


def my_loans(session: SessionLike, user: User, today: date) -> Capped:
    """What the rep has out that must come back (handed over with a return date), soonest due first."""
    return _capped(session, _requests(Request.requester_id == user.id, Request.status == "handed_over",
                                      Request.return_by.is_not(None), loans=True)
                   .order_by(Request.return_by, Request.id))


def my_events(session: SessionLike, user: User, today: date) -> Capped:
    """Upcoming (or running) events the rep is on: those they own or that one of their requests
    is for, soonest first."""
    mine = select(Request.event_id).where(Request.requester_id == user.id, Request.event_id.is_not(None),
                                          Request.status.not_in(("cancelled", "rejected")))
    return _capped(session, select(Event.id, Event.name, Event.place, Event.starts_on, Event.ends_on, Event.ship_by)
                   .where(Event.cancelled.is_(False), Event.ends_on >= today,
                          or_(Event.owner_id == user.id, Event.id.in_(mine)))
                   .order_by(Event.starts_on, Event.id))


def draft(session: SessionLike, user: User) -> tuple[int, int] | None:
    """(lines, units) of the rep's request not yet sent, or None when it holds nothing."""
    lines = session.scalar(select(RequestDraft.lines).where(RequestDraft.user_id == user.id)) or []
    units = sum(quantity for _sku, quantity in lines)
    return (len(lines), units) if lines else None


def for_rep(session: SessionLike, user: User, today: date) -> list[Section]:
    rows, total = my_open_requests(session, user, today)
    sections = [Section("mine", "My open requests", rows, total, "No open requests.", "requests.mine")]
    rows, total = my_loans(session, user, today)
    sections.append(Section("loans", "Due back", rows, total, "Nothing out on loan."))
    rows, total = my_events(session, user, today)
    sections.append(Section("events", "My events", rows, total, "No upcoming events of yours.", "events.index"))
    return sections


# Marketing ----------------------------------------------------------------------------------------

def waiting_for_approval(session: SessionLike, today: date) -> Capped:
    return _capped(session, _requests(Request.status == "submitted").order_by(Request.needed_by, Request.id))


def rush(session: SessionLike, today: date) -> Capped:
    """Open requests needed within RUSH_DAYS days (or already late), soonest first."""
    return _capped(session, _requests(Request.status.in_(OPEN), Request.needed_by <= today + timedelta(days=RUSH_DAYS))
                   .order_by(Request.needed_by, Request.id))


def order_now(session: SessionLike, today: date) -> tuple[list[ReorderFlag], int]:
    """The stored reorder flags that say order now (or expedite), most urgent first, with their
    items loaded."""
    from sqlalchemy.orm import joinedload

    from ..catalog.models import Item
    from ..forecast import models as forecast
    from ..forecast import stored
    from ..forecast.models import ReorderFlag

    stored.current(cast(Session, session))  # db.session passes every call on to the request's Session
    statement = (select(ReorderFlag).where(ReorderFlag.status.in_((forecast.EXPEDITE, forecast.NOW)))
                 .options(joinedload(ReorderFlag.item).joinedload(Item.product), joinedload(ReorderFlag.event))
                 .order_by(ReorderFlag.rank, ReorderFlag.order_by, ReorderFlag.id))
    rows = session.execute(statement.add_columns(func.count().over().label("total_rows")).limit(LIMIT)).all()
    return [row[0] for row in rows], (rows[0].total_rows if rows else 0)


def overdue_orders(session: SessionLike, today: date) -> Capped:
    """Ordered purchase orders whose expected day has passed."""
    return _orders_expected(session, today, overdue_only=True)


def for_manager(session: SessionLike, today: date) -> list[Section]:
    rows, total = rush(session, today)
    sections = [Section("rush", "Rush", rows, total, "No rush requests.", "requests.queue")]
    rows, total = waiting_for_approval(session, today)
    sections.append(Section("approve", "Waiting for approval", rows, total, "Nothing to approve.",
                            "requests.queue", {"status": "submitted"}))
    flags, total = order_now(session, today)
    sections.append(Section("order", "Order now", flags, total, "Nothing to order now.", "forecast.dashboard"))
    rows, total = overdue_orders(session, today)
    sections.append(Section("late_orders", "Overdue purchase orders", rows, total, "No purchase order is late.",
                            "purchasing.index"))
    rows, total = returns_due(session, today, overdue_only=True)
    sections.append(Section("late_loans", "Overdue loans", rows, total, "No loan is overdue."))
    return sections

