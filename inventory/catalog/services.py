"""Catalog rules: create and edit products and their items, archive them, look them up by SKU.
Finding them (the catalog page, search, suggestions) is catalog/queries.py."""
from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..blobs import storage
from ..blobs.models import StoredFile
from ..database import unit_of_work
from ..errors import DuplicateCode, InvalidInput, UnknownItem
from ..forecast.changes import items_changed
from ..limits import MAX_UNIT_COST, percent
from ..text import MAX_INTEGER, is_whole_number, limited
from . import search
from .models import CATEGORIES, LEAD_TIME_MESSAGE, MAX_LEAD_TIME_DAYS, Item, Product, normalize_sku, size_rank
from .successors import check_successor

SKU_PATTERN = re.compile(r"^[A-Z0-9](?:[A-Z0-9._-]{0,38}[A-Z0-9])?$")
ITEM_FIELDS = (
    "unit", "supplier", "unit_cost", "lead_time_days", "reorder_point", "reorder_quantity",
    "returnable", "loss_rate", "do_not_use_after", "notes",
)
# The longest text each field takes: its column's length (PostgreSQL refuses longer), or a cap on
# free text. The forms' Length validators say the same next to the box.
TEXT_LIMITS = {"unit": 20, "supplier": 120, "notes": 2000}
MAX_NAME_LENGTH = 120  # Product.name is VARCHAR(120)
MAX_DESCRIPTION_LENGTH = 2000
MAX_KEYWORDS_LENGTH = 500
FIELD_WORDS = {"unit": "The unit", "supplier": "The supplier", "notes": "The notes"}


# Built once: every reservation looks its items up, and a statement built per call costs more
# CPU (building it and its cache key) than sending it.
_ITEM_BY_SKU = select(Item).where(Item.sku == bindparam("sku")).options(joinedload(Item.product))


def get_item(session: Session, sku: str | None) -> Item:
    """The item with this SKU (any case), or UnknownItem."""
    wanted = normalize_sku(sku)
    if not wanted:
        raise UnknownItem("Give the item's SKU.")
    if "\x00" in wanted:  # not storable, so no item has it; say so without the control character
        raise UnknownItem("No item has that SKU.")
    item = session.scalar(_ITEM_BY_SKU, {"sku": wanted})  # with its product, in one query
    if item is None:
        raise UnknownItem(f"No item has the SKU {wanted}.")
    return item


def get_items(session: Session, skus: Iterable[str]) -> list[Item]:
    """The items with these SKUs (any case), in the order given, in one query; UnknownItem names
    the first SKU no item has."""
    wanted = [normalize_sku(sku) for sku in skus]
    found: dict[str, Item] = {}
    clean_skus = [sku for sku in wanted if sku and "\x00" not in sku]
    if clean_skus:
        found = {item.sku: item for item in session.scalars(
            select(Item).where(Item.sku.in_(set(clean_skus))).options(joinedload(Item.product))).unique()}
    for sku in wanted:
        if sku not in found:
            found[sku] = get_item(session, sku)  # raises UnknownItem with get_item's message
    return [found[sku] for sku in wanted]


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id, options=[selectinload(Product.items)])
    if product is None:
        raise UnknownItem(f"No product #{product_id}.")
    return product


def _clean_sku(sku: str | None) -> str:
    sku = normalize_sku(sku)
    if not SKU_PATTERN.match(sku):
        raise InvalidInput(
            f"SKU {sku or '(empty)'!r} is not valid: use letters, digits, dashes and dots, up to 40 characters."
        )
    return sku


def _clean_sizes(sizes: Iterable[str] | None) -> list[str]:
    cleaned: list[str] = []
    for size in sizes or []:
        size = size.strip().upper()
        if not size:
            continue
        if not re.match(r"^[A-Z0-9]{1,12}$", size):
            raise InvalidInput(f"Size {size!r} is not valid: letters and digits only, like S, M, XL or 2XL.")
        if size in cleaned:
            raise InvalidInput(f"Size {size} is listed twice.")
        cleaned.append(size)
    return cleaned


def parse_sizes(text: str | None) -> list[str]:
    """'S, M, L' or 'S M L' -> ['S', 'M', 'L']."""
    return _clean_sizes(re.split(r"[\s,;/]+", text or ""))


def _clean_item_fields(fields: Mapping[str, object]) -> dict[str, object]:
    values: dict[str, object] = {}
    for name in ITEM_FIELDS:
        if name not in fields or fields[name] is None and name not in ("do_not_use_after",):
            continue
        value = fields[name]
        if name == "unit_cost":
            try:
                value = Decimal(str(value)).quantize(Decimal("0.01"))
            except (InvalidOperation, ValueError):
                raise InvalidInput("Unit cost must be a number, like 2.50.") from None
            if value < 0:
                raise InvalidInput("Unit cost cannot be negative.")
            if value > MAX_UNIT_COST:
                raise InvalidInput(f"Unit cost must be at most {MAX_UNIT_COST:,}.")
        elif name in ("lead_time_days", "reorder_point", "reorder_quantity"):
            if not is_whole_number(value):
                raise InvalidInput(f"{name.replace('_', ' ').capitalize()} must be a whole number.")
            if value < 0:
                raise InvalidInput(f"{name.replace('_', ' ').capitalize()} cannot be negative.")
            if name == "lead_time_days" and value > MAX_LEAD_TIME_DAYS:
                raise InvalidInput(LEAD_TIME_MESSAGE)
            if value > MAX_INTEGER:
                raise InvalidInput(f"{name.replace('_', ' ').capitalize()} must be at most {MAX_INTEGER:,}.")
        elif name == "returnable":
            value = bool(value)
        elif name == "loss_rate":
            value = percent(value, "The expected loss rate", about=(None, "loss_rate"))
        elif name == "do_not_use_after":
            if value is not None and not isinstance(value, date):
                raise InvalidInput("'Do not use after' must be a date.")
        else:
            value = limited(value, FIELD_WORDS[name], TEXT_LIMITS[name], about=(None, name))
        values[name] = value
    if "unit" in values and not values["unit"]:
        values["unit"] = "each"
    return values


def _clean_product(name: object, category: str) -> str:
    name = limited(name, "The name", MAX_NAME_LENGTH, about=(None, "name"))
    if not name:
        raise InvalidInput("Give the item a name.")
    if category not in CATEGORIES:
        raise InvalidInput(f"Category must be one of: {', '.join(CATEGORIES)}.")
    return name


def _description(description: object) -> str:
    return limited(description, "The description", MAX_DESCRIPTION_LENGTH, about=(None, "description"))


def _keywords(keywords: object) -> str:
    return limited(keywords, "The keywords", MAX_KEYWORDS_LENGTH, about=(None, "keywords"))


def _store_photo(session: Session, photo: bytes | None) -> int | None:
    """A product photo in the database (blobs/): every app host serves it."""
    return storage.store_bytes(session, photo, "image/jpeg").id if photo else None


def product_photo(session: Session, file_id: int) -> StoredFile | None:
    """The stored file `file_id` when it is some product's photo (no other file is served as one)."""
    return session.scalar(select(StoredFile).join(Product, Product.photo_id == StoredFile.id)
                          .where(StoredFile.id == file_id).limit(1))


def _sku_taken(session: Session, sku: str) -> bool:
    return session.execute(select(exists().where(Item.sku == sku))).scalar_one()


@unit_of_work
def create_product(session: Session, *, name: str, category: str, sku: str, sizes: Iterable[str] = (),
                   description: str = "", keywords: str = "", photo: bytes | None = None,
                   **item_fields: object) -> Product:
    """Create a product and its items: one item with `sku`, or one per size as `SKU-SIZE`.

    Refuses a duplicate SKU; writes the product and all its items (and its photo: the JPEG
    from photos.prepare_photo), or nothing.
    """
    name = _clean_product(name, category)
    description, keywords = _description(description), _keywords(keywords)
    base_sku = _clean_sku(sku)
    sizes = _clean_sizes(sizes)
    fields = _clean_item_fields(item_fields)
    skus = [_clean_sku(f"{base_sku}-{size}") for size in sizes] if sizes else [base_sku]
    for candidate in skus:
        if _sku_taken(session, candidate):
            raise DuplicateCode(f"SKU {candidate} is already in the catalog.")
    product = Product(name=name, category=category, description=description, keywords=keywords,
                      photo_id=_store_photo(session, photo))
    session.add(product)
    item_sizes: list[str | None] = [*sizes] or [None]  # no sizes: one item without a size
    for candidate, size in zip(skus, item_sizes):
        session.add(Item(sku=candidate, size=size, size_rank=size_rank(size), product=product, **fields))
    session.flush()
    search.refresh(session, [product.id])
    items_changed(session, [item.id for item in product.items])  # under its reorder point from the start
    return product


class _Keep(enum.Enum):
    """The value of an argument left out: the field stays as it is."""
    KEEP = enum.auto()


_KEEP: Final = _Keep.KEEP


@unit_of_work
def update_product(session: Session, product: Product, *, name: str, category: str, description: str = "",
                   keywords: str | _Keep = _KEEP, photo: bytes | None = None) -> Product:
    """Change a product's name, category, description, keywords (left out: as they are) and photo."""
    name = _clean_product(name, category)
    description = _description(description)
    keywords = _KEEP if keywords is _KEEP else _keywords(keywords)
    product = session.merge(product)
    product.name = name
    product.category = category
    product.description = description
    if keywords is not _KEEP:
        product.keywords = keywords
    if photo:
        product.photo_id = _store_photo(session, photo)
    search.refresh(session, [product.id])
    return product


def units_on_loan(session: Session, item_ids: Iterable[int]) -> dict[int, int]:
    """{item id: units handed over and not yet checked in}, for the items that have any."""
    from ..requests.models import Request, RequestLine  # requests build on the catalog

    if not item_ids:
        return {}
    return dict(session.execute(
        select(RequestLine.item_id, func.sum(RequestLine.issued))
        .join(Request, RequestLine.request_id == Request.id)
        .where(Request.status == "handed_over", RequestLine.item_id.in_(set(item_ids)), RequestLine.issued > 0)
        .group_by(RequestLine.item_id)).tuples().all())


def on_loan_refusal(item: Item, units: int) -> str:
    return (f"{units} of {item.sku} are out on loan: check them in before making it consumable "
            "(a consumable cannot be checked back in).")


def _refuse_consumable_while_on_loan(session: Session, items: Sequence[Item], fields: Mapping[str, object]) -> None:
    if fields.get("returnable") is False:
        flipping = [item for item in items if item.returnable]
        out = units_on_loan(session, [item.id for item in flipping])
        for item in flipping:
            if out.get(item.id):
                raise InvalidInput(on_loan_refusal(item, out[item.id]))


@unit_of_work
def update_item(session: Session, item: Item, replaced_by: str | None | _Keep = _KEEP, **item_fields: object) -> Item:
    """Change an item's settings. `replaced_by` is the SKU of the piece that takes over from it
    ("" or None: none; left out: as it is), checked by successors.check_successor: refusals say
    they are about the "replaced_by" box. All or nothing."""
    fields = _clean_item_fields(item_fields)
    item = session.merge(item)
    _refuse_consumable_while_on_loan(session, [item], fields)
    if replaced_by is not _KEEP:
        item.replaced_by = check_successor(session, item, replaced_by)
    for name, value in fields.items():
        setattr(item, name, value)
    if "supplier" in fields:
        search.refresh(session, [item.product_id])
    items_changed(session, [item.id])
    return item


@unit_of_work
def apply_to_all_sizes(session: Session, product: Product, **item_fields: object) -> None:
    """Set the same supplier, cost, lead time, ... on every size of a product."""
    fields = _clean_item_fields(item_fields)
    items = session.scalars(select(Item).where(Item.product_id == product.id)).all()
    _refuse_consumable_while_on_loan(session, items, fields)
    for item in items:
        for name, value in fields.items():
            setattr(item, name, value)
    if "supplier" in fields:
        search.refresh(session, [product.id])
    items_changed(session, [item.id for item in items])


@unit_of_work
def add_size(session: Session, product: Product, size: str, sku: str | None = None, **item_fields: object) -> Item:
    """Add a size to a product; its other fields are copied from an existing size."""
    cleaned = _clean_sizes([size])
    if not cleaned:
        raise InvalidInput("Give the new size, like XL.")
    (size,) = cleaned
    product = session.merge(product)
    template = product.items[0] if product.items else None
    if template is not None and not template.size:
        raise InvalidInput(f"{product.name} has no sizes; create a new product for a sized item.")
    if any(item.size == size for item in product.items):
        raise DuplicateCode(f"{product.name} already has size {size}.")
    if sku is None:
        base = template.sku.rsplit("-", 1)[0] if template is not None else "SKU"
        sku = f"{base}-{size}"
    sku = _clean_sku(sku)
    if _sku_taken(session, sku):
        raise DuplicateCode(f"SKU {sku} is already in the catalog.")
    copied = {name: getattr(template, name) for name in ITEM_FIELDS} if template is not None else {}
    copied.update(_clean_item_fields(item_fields))
    item = Item(sku=sku, size=size, size_rank=size_rank(size), product=product, **copied)
    session.add(item)
    session.flush()
    search.refresh(session, [product.id])
    items_changed(session, [item.id])
    return item


@unit_of_work
def set_archived(session: Session, *, product: Product | None = None, item: Item | None = None,
                 archived: bool = True) -> None:
    """Archive (or restore) a product with all its sizes, or one item.

    Archived items drop out of lists and cannot be received, but keep their history and
    their label URL.
    """
    if product is not None:
        product = session.merge(product)
        product.archived = archived
        for each in product.items:
            each.archived = archived
        items_changed(session, [each.id for each in product.items])
    if item is not None:
        item = session.merge(item)
        item.archived = archived
        items_changed(session, [item.id])
        if not archived:
            item.product.archived = False
        elif all(each.archived for each in item.product.items):
            item.product.archived = True
