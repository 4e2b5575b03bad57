"""Requests: what a rep asks for, and the stock held for it.

Each request line carries its reservation: `reserved` units are held for the line from the
moment the request is submitted. For a consumable they are held until handed over (then
issued) or released; for a returnable they are booked for the request's window (out on the
needed-by date, back on the return date) until the line is checked in.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..budgets.models import Team  # noqa: F401  (relationship target)
from ..catalog.models import Item
from ..events.models import Event, KitTemplate  # noqa: F401  (relationship targets)
from ..extensions import Model
from ..timeutil import utcnow
# The statuses and their groups come from the lifecycle (lifecycle.py: the statuses and the one
# table of who may move a request where); HOLDING, OPEN and CANCELLABLE are imported from here too.
from .lifecycle import CANCELLABLE, HOLDING, OPEN, Status  # noqa: F401

PURPOSES = {"client_meeting": "Client meeting", "trade_show": "Trade show", "other": "Other"}
HANDOFFS = {"pickup": "Pick up", "ship": "Ship to an address"}
# The statuses' labels by the string stored: {"handed_over": "Handed over", ...}.
STATUSES = {status.value: status.label for status in Status}
# What became of a returnable line's units, said at check-in.
OUTCOMES = ("returned", "consumed", "lost", "damaged")



def request_number(request_id: int) -> str:
    """A request's number as people say it and print it: R-00042. One format everywhere (pages,
    e-mails, ledger references, exports, the forecast's reasons)."""
    return f"R-{request_id:05d}"

class ShownRequest:
    """What the pages say about a request, from its columns (id, status, purpose, handoff,
    needed_by, return_by) and its lines: shared by the model and the light rows the lists read
    without the ORM (queries.QueueRow)."""

    __slots__ = ()
    if TYPE_CHECKING:  # what the model and QueueRow give it
        id: int
        status: str
        purpose: str
        handoff: str
        needed_by: date
        return_by: date | None
        lines: list[Any]  # RequestLine, or queries.QueueLine

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def purpose_label(self) -> str:
        return PURPOSES.get(self.purpose, self.purpose)

    @property
    def handoff_label(self) -> str:
        return HANDOFFS.get(self.handoff, self.handoff)

    @property
    def number(self) -> str:
        return request_number(self.id)

    def is_rush(self, today: date | None = None) -> bool:
        """Needed within two days, and not yet handed over."""
        today = today or date.today()
        return self.status in OPEN and (self.needed_by - today).days <= 2

    def is_late(self, today: date | None = None) -> bool:
        """Its needed-by date has passed and it is still open (holding stock nobody collected)."""
        return self.status in OPEN and self.needed_by < (today or date.today())

    def is_overdue(self, today: date | None = None) -> bool:
        """Handed over with returnables whose return date has passed."""
        return (self.status == Status.HANDED_OVER and self.return_by is not None
                and self.return_by < (today or date.today()))

    @property
    def backordered(self) -> int:
        return sum(line.backordered for line in self.lines)


class Request(ShownRequest, Model):
    __tablename__ = "request"
    __table_args__ = (
        # The queue's order within a status, so a page of it is read in order (migration 0008).
        Index("ix_request_status_needed_by_created_at", "status", "needed_by", "created_at", "id"),
        Index("ix_request_requester_id_created_at", "requester_id", "created_at"),
        # The forecast's handed-over returnables among years of handed-over requests (migration 0007).
        Index("ix_request_status_return_by", "status", "return_by"),
        # A team's spend in a period (budgets/spend.py).
        Index("ix_request_team_id_needed_by", "team_id", "needed_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    purpose: Mapped[str] = mapped_column(String(20))
    needed_by: Mapped[date]
    return_by: Mapped[date | None]
    handoff: Mapped[str] = mapped_column(String(10), default="pickup")
    ship_to: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), index=True)
    # A kit reserved for an event is a request whose lines are the kit's components × kit_count.
    kit_id: Mapped[int | None] = mapped_column(ForeignKey("kit_template.id"))
    kit_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # The requester's team when it was submitted: its spend counts against that team's budget.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    status: Mapped[str] = mapped_column(String(16), default=Status.SUBMITTED.value)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    # What the hand-over recorded (migration 0017; see requests/handover.py): who collected it,
    # or the carrier and tracking number of a shipment, and when (naive UTC). Cleared again when
    # a manager undoes the hand-over (the steps keep both).
    handed_over_to: Mapped[str] = mapped_column(String(120), default="", server_default="")
    carrier: Mapped[str] = mapped_column(String(40), default="", server_default="")
    tracking: Mapped[str] = mapped_column(String(60), default="", server_default="")
    handed_over_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    requester: Mapped[User] = relationship()
    event: Mapped["Event | None"] = relationship()
    kit: Mapped["KitTemplate | None"] = relationship()
    team: Mapped["Team | None"] = relationship()
    lines: Mapped[list["RequestLine"]] = relationship(back_populates="request", order_by="RequestLine.id",
                                                      cascade="all, delete-orphan")
    steps: Mapped[list["RequestStep"]] = relationship(back_populates="request", order_by="RequestStep.id",
                                                      cascade="all, delete-orphan")
    approvals: Mapped[list["RequestApproval"]] = relationship(
        back_populates="request", order_by="RequestApproval.id", cascade="all, delete-orphan")

    @property
    def has_returnables(self) -> bool:
        return any(line.item.returnable for line in self.lines)


_LIVE = "reserved > 0 OR backordered > 0"


class RequestLine(Model):
    __tablename__ = "request_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("reserved >= 0 AND backordered >= 0 AND picked >= 0 AND issued >= 0", name="not_negative"),
        CheckConstraint("picked <= reserved", name="picked_within_reserved"),
        Index("ix_request_line_item_id", "item_id"),
        Index("ix_request_line_request_id", "request_id"),
        # Availability asks per item for the lines that hold something (reserved > 0); the queue
        # for backordered lines: both a few among years of finished lines (migration 0006).
        Index("ix_request_line_item_id_reserved", "item_id", "reserved"),
        Index("ix_request_line_backordered", "backordered"),
        # The reorder forecast projects an item again in every rule that changes it, reading the
        # item's lines that hold or wait for stock: a partial index of just those (migration 0014).
        Index("ix_request_line_live_item_id", "item_id", sqlite_where=text(_LIVE), postgresql_where=text(_LIVE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    quantity: Mapped[int]            # what the rep asked for
    reserved: Mapped[int] = mapped_column(default=0)     # held for this line now
    backordered: Mapped[int] = mapped_column(default=0)  # waiting for stock, filled on receive
    picked: Mapped[int] = mapped_column(default=0)       # picked into dispatch, still held
    issued: Mapped[int] = mapped_column(default=0)       # handed over
    returned: Mapped[int] = mapped_column(default=0)     # returnables: back in a bin
    consumed: Mapped[int] = mapped_column(default=0)
    lost: Mapped[int] = mapped_column(default=0)
    damaged: Mapped[int] = mapped_column(default=0)
    short: Mapped[int] = mapped_column(default=0)        # released at picking: not on the shelf
    # What one unit cost when the line was handed over: the cost its issue movement records,
    # kept beside `issued` as the line keeps its other counts, so that the reports and the event
    # page cost what went out as it was then without joining the ledger. None until handed over.
    issued_unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))

    request: Mapped[Request] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()

    @property
    def to_pick(self) -> int:
        return self.reserved - self.picked


class RequestStep(Model):
    """The request's history: each step with time, person and a note."""

    __tablename__ = "request_step"
    __table_args__ = (
        # Reports find the steps of one kind in a period (what was handed over this quarter).
        Index("ix_request_step_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[Request] = relationship(back_populates="steps")
    user: Mapped[User] = relationship()


class RequestApproval(Model):
    """One approval decision on a request (budgets/approvals.py): which level it fills (the
    team's approver, a second approver, the right to exceed the budget, or "auto" when a rule
    approved it at submission), who decided (None for "auto"), approved or rejected, and why.
    One decision may fill several levels (an approver who may also exceed the budget): a row
    each, with the same time and note."""

    __tablename__ = "request_approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("request.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    level: Mapped[str] = mapped_column(String(12))
    decision: Mapped[str] = mapped_column(String(12))  # approved, rejected
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[Request] = relationship(back_populates="approvals")
    user: Mapped["User | None"] = relationship()


class RequestDraft(Model):
    """The request a user is putting together, before it is sent: its lines and the details as
    typed (raw text, so a half-typed date is never lost). One per user, kept in the database so
    it survives leaving the page, a lost session and a change of device. It holds no stock."""

    __tablename__ = "request_draft"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    # [[sku, quantity], ...] in the order they were added.
    lines: Mapped[list] = mapped_column(JSON, default=list)
    # {"purpose": "...", "needed_by": "2026-12-09", ...}: the form's fields as typed.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # Bumped when a draft is sent: a page (or a late autosave) from before cannot bring it back.
    generation: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
