"""The stored reorder flags (docs/design.md, "The reorder forecast"): one table that the Reorders page,
the event pages, the API and the digest all read, kept current by the rules that change supply
or demand, in their own transaction (forecast/stored.py)."""
from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Item
from ..events.models import Event
from ..extensions import Model
from ..purchasing.models import order_number
from ..timeutil import utcnow

# A flag's status, and how urgent it is (`rank`: 0 = most urgent).
OK, PLANNED, SOON, NOW, EXPEDITE, RETIRE = "ok", "planned", "order_soon", "order_now", "expedite", "retire_soon"
STATUS_LABELS = {EXPEDITE: "Expedite", NOW: "Order now", SOON: "Order soon", RETIRE: "Retire soon",
                 PLANNED: "Planned", OK: "OK"}
URGENCY = {EXPEDITE: 0, NOW: 1, SOON: 2, RETIRE: 3, PLANNED: 4, OK: 5}
# What a flag is about.
SHORTFALL, REORDER_POINT, RETIRING = "shortfall", "reorder_point", "retire"
# Stands for the event's name in a stored reason: the name is read with the flag (ReorderFlag.reason),
# so renaming an event never leaves an old name in a flag.
EVENT_NAME = "\u27e8event\u27e9"


class ReorderFlag(Model):
    """One thing to act on for an item: a shortfall or a reorder point for one event (or for no
    event), or a print piece about to expire. `rank` orders by urgency (0 = most urgent)."""
    __tablename__ = "reorder_flag"
    __table_args__ = (
        Index("ix_reorder_flag_rank_order_by", "rank", "order_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # shortfall, reorder_point, retire
    status: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int]
    need_date: Mapped[date]
    order_by: Mapped[date]
    projected: Mapped[int]
    shortfall: Mapped[int]
    suggested_quantity: Mapped[int]
    # Purchase orders of the item, drafts included: [{"id", "status", "quantity", "expected_on"}].
    orders: Mapped[list] = mapped_column(JSON, default=list)
    # As projected, with the event's name left to fill in (EVENT_NAME): see `reason`.
    stored_reason: Mapped[str] = mapped_column("reason", Text)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship()
    event: Mapped[Event | None] = relationship()

    @property
    def status_label(self) -> str:
        from .. import timeutil
        if self.status == RETIRE and self.need_date < timeutil.today():
            return "Retire now"  # its date has passed: it must not be handed out any more
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def reason(self) -> str:
        """The reason in words, with the event's name as it is now."""
        text = self.stored_reason or ""
        return text.replace(EVENT_NAME, self.event.name if self.event is not None else "the event")

    @property
    def purchase_orders(self) -> list[SimpleNamespace]:
        """The item's open purchase orders, drafts first among equals, as the flag saw them."""
        return [SimpleNamespace(id=o["id"], number=order_number(o["id"]), status=o["status"], quantity=o["quantity"],
                                expected_on=date.fromisoformat(o["expected_on"]) if o.get("expected_on") else None)
                for o in self.orders or ()]


class ForecastState(Model):
    """One row: the day and the settings the stored flags were projected for. A read on another
    day (or with other settings) projects everything again first; its row lock keeps two hosts
    from doing so at once."""
    __tablename__ = "forecast_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date | None]
    settings: Mapped[str] = mapped_column(String(80), default="")
    computed_at: Mapped[datetime | None]
