"""The stock ledger (movements, append-only) and its cache (stock levels).

A movement moves a positive quantity of one item out of `from_bin` and/or into `to_bin`:
receive has only `to_bin`, move has both, a negative adjustment has only `from_bin`. So a
stock level is always sum(quantity into the bin) - sum(quantity out of it), which is what
`flask check` recomputes.

Each movement also records the unit cost of what moved at that moment (`unit_cost`): the cost on
the purchase-order line for a PO receipt, the item's unit cost for every other kind. An issue's
cost is kept on its request line too (`RequestLine.issued_unit_cost`, written with it), which is
where the reports and event pages read what was spent: changing an item's price later does not
rewrite what last year's shows cost.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..bins.models import Bin
from ..catalog.models import Item
from ..extensions import Model
from ..timeutil import utcnow

MOVEMENT_KINDS = ("receive", "put_away", "move", "pick", "issue", "undo_issue", "return", "adjust", "count")
KIND_LABELS = {
    "receive": "Received",
    "put_away": "Put away",
    "move": "Moved",
    "pick": "Picked",
    "issue": "Issued",
    "undo_issue": "Issue undone",  # a manager undid a hand-over: the units are back in DISPATCH
    "return": "Returned",
    "adjust": "Adjusted",
    "count": "Counted",
}


class StockLevel(Model):
    """Quantity of an item in a bin. A cache of the ledger: only the stock rules write it."""

    __tablename__ = "stock_level"
    __table_args__ = (
        UniqueConstraint("item_id", "bin_id", name="uq_stock_level_item_id_bin_id"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_stock_level_bin_id", "bin_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    bin_id: Mapped[int] = mapped_column(ForeignKey("bin.id"))
    quantity: Mapped[int] = mapped_column(default=0)

    item: Mapped[Item] = relationship()
    bin: Mapped[Bin] = relationship()


COUNTS = "kind = 'count'"


class Movement(Model):
    """One append-only ledger row: what moved, where, who did it, when and why."""

    __tablename__ = "movement"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("from_bin_id IS NOT NULL OR to_bin_id IS NOT NULL", name="has_a_bin"),
        Index("ix_movement_item_id_created_at", "item_id", "created_at"),
        Index("ix_movement_from_bin_id_created_at", "from_bin_id", "created_at"),
        Index("ix_movement_to_bin_id_created_at", "to_bin_id", "created_at"),
        # The stockroom's Today finds each bin's last count (up into it, or down out of it): the
        # few count rows among years of ledger, one index seek each side (migration 0019).
        Index("ix_movement_counts_to_bin", "to_bin_id", "created_at",
              sqlite_where=text(COUNTS), postgresql_where=text(COUNTS)),
        Index("ix_movement_counts_from_bin", "from_bin_id", "created_at",
              sqlite_where=text(COUNTS), postgresql_where=text(COUNTS)),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    from_bin_id: Mapped[int | None] = mapped_column(ForeignKey("bin.id"))
    to_bin_id: Mapped[int | None] = mapped_column(ForeignKey("bin.id"))
    quantity: Mapped[int]
    # For counts: what was counted, so the history reads "counted 12 (expected 15)".
    counted: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(String(80), default="")
    # The cost of one unit as it was when it moved (see the module's docstring). Rows booked
    # before migration 0013 carry the item's unit cost at the time of that upgrade.
    unit_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    item: Mapped[Item] = relationship()
    from_bin: Mapped[Bin | None] = relationship(foreign_keys=[from_bin_id])
    to_bin: Mapped[Bin | None] = relationship(foreign_keys=[to_bin_id])
    user: Mapped[User] = relationship()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def signed_quantity_for(self, bin_id: int) -> int:
        """The change this movement made to `bin_id`'s level (for a bin's history)."""
        if self.to_bin_id == bin_id and self.from_bin_id != bin_id:
            return self.quantity
        if self.from_bin_id == bin_id:
            return -self.quantity
        return 0
