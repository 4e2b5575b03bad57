"""The rows of an items file (transfer/items.py): each row's cells parsed and checked on their
own, and the ItemPlan that checking them against the catalog makes."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..catalog.models import CATEGORIES, CATEGORY_LABELS, MAX_LEAD_TIME_DAYS, Item, Product
from ..catalog.models import normalize_sku
from ..catalog.services import MAX_DESCRIPTION_LENGTH, MAX_KEYWORDS_LENGTH, SKU_PATTERN, TEXT_LIMITS
from ..text import clean
from . import fields as cell
from .report import ImportReport

ITEM_FIELDS = ("unit", "supplier", "unit_cost", "lead_time_days", "reorder_point", "reorder_quantity",
               "returnable", "loss_rate", "do_not_use_after", "notes")
# The columns of a row's own item: its fields, and the SKU of its successor (written by SKU).
ROW_FIELDS = ITEM_FIELDS + ("replaced_by",)
T = TypeVar("T")


def _successor_sku(cell: str) -> str | None:
    sku = normalize_sku(clean(cell))
    if sku and not SKU_PATTERN.match(sku):
        raise ValueError(f"replaced by {sku!r} is not a valid SKU")
    return sku or None


def _lead_time(value: str) -> int:
    days = cell.whole_number(value, "lead time days")
    if days > MAX_LEAD_TIME_DAYS:
        raise ValueError(f"lead time days {days:,} is more than {MAX_LEAD_TIME_DAYS:,} (ten years)")
    return days


PARSERS: dict[str, Callable[[str], object]] = {  # column -> its cell's text -> its value
    "unit": lambda c: cell.text(c, "unit", 20) or "each",
    "supplier": lambda c: cell.text(c, "supplier", 120),
    "unit_cost": cell.money,
    "lead_time_days": _lead_time,
    "reorder_point": lambda c: cell.whole_number(c, "reorder point"),
    "reorder_quantity": lambda c: cell.whole_number(c, "reorder quantity"),
    "returnable": lambda c: cell.yes_no(c, "returnable"),
    "loss_rate": cell.loss_rate,
    "do_not_use_after": lambda c: cell.day(c, "do not use after"),
    "notes": lambda c: cell.text(c, "notes", TEXT_LIMITS["notes"]),  # the catalog rule's cap
    "replaced_by": _successor_sku,
}


@dataclass
class ItemRow:
    line: int
    sku: str
    product: str
    category: str
    size: str | None
    description: str | None          # None when the file has no description column
    keywords: str | None = None      # None when the file has no keywords column
    size_given: bool = True          # False when the file has no size column
    # the item fields the file has columns for, each value as its PARSERS entry gives it
    fields: dict[str, Any] = field(default_factory=dict)


def _category(value: str) -> str:
    value = clean(value).lower()
    for key, label in CATEGORY_LABELS.items():
        if value in (key, label.lower()):
            return key
    if not value:
        raise ValueError("category is missing")
    raise ValueError(f"unknown category {value!r} (use {', '.join(CATEGORIES)})")


def parse_row(line: int, cells: dict[str, str]) -> ItemRow:
    """One row's cells -> ItemRow; ValueError naming every problem in the row."""
    problems: list[str] = []

    def take(name: str, parse: Callable[[str], T]) -> T | None:
        try:
            return parse(cells[name])
        except ValueError as error:
            problems.append(str(error))
            return None

    sku = normalize_sku(clean(cells["sku"]))
    if not sku:
        problems.append("SKU is missing")
    elif not SKU_PATTERN.match(sku):
        problems.append(f"SKU {sku!r} is not valid (letters, digits, dashes and dots, up to 40 characters)")
    product = take("product", lambda c: cell.text(c, "product name", 120))
    if product == "":
        problems.append("product name is missing")
    category = take("category", _category)
    size = None
    if "size" in cells:
        size = clean(cells["size"]).upper() or None
        if size and not (len(size) <= 12 and size.isalnum() and size.isascii()):
            problems.append(f"size {size!r} is not valid (letters and digits, like M or 2XL)")
    description = take("description", lambda c: cell.text(c, "description", MAX_DESCRIPTION_LENGTH)) if "description" in cells else None
    keywords = take("keywords", lambda c: cell.text(c, "keywords", MAX_KEYWORDS_LENGTH)) if "keywords" in cells else None
    values = {name: take(name, PARSERS[name]) for name in ROW_FIELDS if name in cells}
    if problems:
        raise ValueError("; ".join(problems))
    assert product is not None and category is not None  # a take() that failed added a problem
    return ItemRow(line, sku, product, category, size, description, keywords, "size" in cells, values)


@dataclass
class ItemPlan:
    report: ImportReport
    # (item, {field: value}); replaced_by is a SKU
    item_changes: list[tuple[Item, dict[str, Any]]] = field(default_factory=list)
    # product -> {field: value}
    product_changes: dict[Product, dict[str, str]] = field(default_factory=dict)
    # ({name, category, description, keywords}, [ItemRow])
    new_products: list[tuple[dict[str, str], list[ItemRow]]] = field(default_factory=list)
    # (product, ItemRow)
    new_sizes: list[tuple[Product, ItemRow]] = field(default_factory=list)

    def new_rows(self) -> list[ItemRow]:
        """Every ItemRow that becomes a new item."""
        return [row for _fields, rows in self.new_products for row in rows] + [row for _p, row in self.new_sizes]
