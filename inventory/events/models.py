"""Events (trade shows, campaigns) and kit templates (a trade-show kit's bill of materials)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..catalog.models import Item
from ..extensions import Model
from ..timeutil import utcnow


class Event(Model):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("budget IS NULL OR budget >= 0", name="budget_not_negative"),
        Index("ix_event_starts_on", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    place: Mapped[str] = mapped_column(String(200), default="")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    # When things must leave the stockroom, and when returnables are back.
    ship_by: Mapped[date]
    return_by: Mapped[date | None]
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    notes: Mapped[str] = mapped_column(Text, default="")
    # What the show may cost (requests and kits at today's unit cost); None: no budget.
    budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    cancelled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[User | None] = relationship()

    @property
    def window_end(self) -> date:
        """The day returnables are back (the end of the event if no return date is set)."""
        return self.return_by or self.ends_on


class KitTemplate(Model):
    """A bill of materials: 1 booth banner, 200 brochures, 10 polos by size, ..."""

    __tablename__ = "kit_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lines: Mapped[list["KitLine"]] = relationship(back_populates="kit", order_by="KitLine.id",
                                                  cascade="all, delete-orphan")


class KitLine(Model):
    __tablename__ = "kit_line"
    __table_args__ = (
        UniqueConstraint("kit_id", "item_id", name="uq_kit_line_kit_id_item_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kit_id: Mapped[int] = mapped_column(ForeignKey("kit_template.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    quantity: Mapped[int]

    kit: Mapped[KitTemplate] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()
