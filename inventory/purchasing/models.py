"""Purchase orders: reorders placed with a supplier, received into bins line by line."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..catalog.models import Item
from ..extensions import Model
from ..timeutil import utcnow

PO_STATUSES = {"draft": "Draft", "ordered": "Ordered", "received": "Received", "cancelled": "Cancelled"}



def order_number(order_id: int) -> str:
    """A purchase order's number as people say it and print it: PO-00042. One format everywhere."""
    return f"PO-{order_id:05d}"

class PurchaseOrder(Model):
    __tablename__ = "purchase_order"
    __table_args__ = (Index("ix_purchase_order_status_expected_on", "status", "expected_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    expected_on: Mapped[date | None]
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    ordered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User] = relationship()
    lines: Mapped[list["PurchaseOrderLine"]] = relationship(back_populates="order", order_by="PurchaseOrderLine.id",
                                                            cascade="all, delete-orphan")

    @property
    def number(self) -> str:
        return order_number(self.id)

    @property
    def status_label(self) -> str:
        return PO_STATUSES.get(self.status, self.status)


class PurchaseOrderLine(Model):
    __tablename__ = "purchase_order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("received >= 0", name="received_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    quantity: Mapped[int]
    received: Mapped[int] = mapped_column(default=0)
    unit_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))

    order: Mapped[PurchaseOrder] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()

    @property
    def outstanding(self) -> int:
        return max(0, self.quantity - self.received)
