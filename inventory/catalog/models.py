"""The catalog: products and their stock-keeping units (items).

Every item belongs to a product. A plain item ("Expo brochure 2026") is a product with one
item and no size; apparel ("Navy polo") is a product with one item per size, so stock is
kept per size while reps and managers see the product as one thing.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ..timeutil import utcnow

CATEGORIES = ("apparel", "print", "promo", "display", "kit")
# The longest supplier lead time an item may have: ten years. The forecast counts days back from
# each need by it; nothing longer is a real lead time, and far beyond it the dates run off the calendar.
MAX_LEAD_TIME_DAYS = 3650
LEAD_TIME_MESSAGE = f"Lead time must be at most {MAX_LEAD_TIME_DAYS:,} days (ten years)."
CATEGORY_LABELS = {"apparel": "Apparel", "print": "Print", "promo": "Promo", "display": "Display", "kit": "Kit"}
# Sizes sort in wearing order, not alphabetically.
SIZE_ORDER = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "2XL", "3XL", "XXXL", "4XL")


def normalize_sku(sku: str | None) -> str:
    return (sku or "").strip().upper()


def size_rank(size: str | None) -> int:
    if not size:
        return 0
    upper = size.upper()
    return SIZE_ORDER.index(upper) + 1 if upper in SIZE_ORDER else 100


class Product(Model):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    category: Mapped[str] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Other words people use for it ("one-pager, leaflet" on a flyer): found by search.
    keywords: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Every word search looks at, normalised (catalog/search.py writes it; never edited by hand).
    search_words: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Its photo, a JPEG in the database (blobs/models.py): every app host serves it.
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    archived: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list["Item"]] = relationship(
        back_populates="product", order_by="(Item.size_rank, Item.size, Item.sku)"
    )

    @property
    def has_sizes(self) -> bool:
        return any(item.size for item in self.items)

    @property
    def active_items(self) -> list["Item"]:
        return [item for item in self.items if not item.archived]

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)


class Item(Model):
    """One stock-keeping unit: what is counted, reserved, reordered."""

    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("product_id", "size", name="uq_item_product_id_size"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
        CheckConstraint("lead_time_days >= 0", name="lead_time_not_negative"),
        CheckConstraint("reorder_point >= 0", name="reorder_point_not_negative"),
        CheckConstraint("reorder_quantity >= 0", name="reorder_quantity_not_negative"),
        CheckConstraint("loss_rate >= 0 AND loss_rate <= 100", name="loss_rate_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    size: Mapped[str | None] = mapped_column(String(12))
    size_rank: Mapped[int] = mapped_column(default=0)
    unit: Mapped[str] = mapped_column(String(20), default="each")
    supplier: Mapped[str] = mapped_column(String(120), default="")
    unit_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    lead_time_days: Mapped[int] = mapped_column(default=0)
    reorder_point: Mapped[int] = mapped_column(default=0)
    reorder_quantity: Mapped[int] = mapped_column(default=0)
    returnable: Mapped[bool] = mapped_column(default=False)
    # A returnable's expected loss, in percent of its units lent: what a loan is worth to a budget
    # until it is checked in (budgets/values.py). 0 for most.
    loss_rate: Mapped[int] = mapped_column(default=0, server_default="0")
    do_not_use_after: Mapped[date | None]
    # The piece that takes over when this one may no longer be used (a new print run, a new
    # design): flags and the kit page offer to swap it into what still holds this one.
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("item.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(Text, default="")
    archived: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship(back_populates="items")
    replaced_by: Mapped["Item | None"] = relationship(remote_side=[id], foreign_keys=[replaced_by_id])

    @property
    def name(self) -> str:
        return self.display_name(self.product.name, self.size)

    @staticmethod
    def display_name(product_name: str, size: str | None) -> str:
        """An item's name from its product's name and its size (for rows read without the ORM)."""
        return f"{product_name} — {size}" if size else product_name

    @property
    def category(self) -> str:
        return self.product.category

    def expired(self, today: date | None = None) -> bool:
        """True when a dated print piece must no longer be handed out."""
        today = today or date.today()
        return self.do_not_use_after is not None and self.do_not_use_after < today

    def __repr__(self) -> str:
        return f"<Item {self.sku}>"
