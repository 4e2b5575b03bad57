"""Catalog rules: create and edit products and their items, archive them, find them."""
import functools
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import bindparam, case, exists, func, literal, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..database import unit_of_work
from ..errors import DuplicateCode, InvalidInput, UnknownItem
from ..forecast.changes import items_changed
from ..limits import MAX_UNIT_COST
from ..pagination import Page
from ..stock.models import StockLevel
from ..text import MAX_INTEGER, clean, contains, is_whole_number, limited
from . import search
from .models import CATEGORIES, LEAD_TIME_MESSAGE, MAX_LEAD_TIME_DAYS, Item, Product, size_rank
from .successors import check_successor

SKU_PATTERN = re.compile(r"^[A-Z0-9](?:[A-Z0-9._-]{0,38}[A-Z0-9])?$")
ITEM_FIELDS = (
    "unit", "supplier", "unit_cost", "lead_time_days", "reorder_point", "reorder_quantity",
    "returnable", "do_not_use_after", "notes",
)
# The longest text each field takes: its column's length (PostgreSQL refuses longer), or a cap on
# free text. The forms' Length validators say the same next to the box.
TEXT_LIMITS = {"unit": 20, "supplier": 120, "notes": 2000}
MAX_NAME_LENGTH = 120  # Product.name is VARCHAR(120)
MAX_DESCRIPTION_LENGTH = 2000
MAX_KEYWORDS_LENGTH = 500
FIELD_WORDS = {"unit": "The unit", "supplier": "The supplier", "notes": "The notes"}


def normalize_sku(sku):
    return (sku or "").strip().upper()


# Built once: every reservation looks its items up, and a statement built per call costs more
# CPU (building it and its cache key) than sending it.
_ITEM_BY_SKU = select(Item).where(Item.sku == bindparam("sku")).options(joinedload(Item.product))


def get_item(session, sku):
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


def get_items(session, skus):
    """The items with these SKUs (any case), in the order given, in one query; UnknownItem names
    the first SKU no item has."""
    wanted = [normalize_sku(sku) for sku in skus]
    found = {}
    clean_skus = [sku for sku in wanted if sku and "\x00" not in sku]
    if clean_skus:
        found = {item.sku: item for item in session.scalars(
            select(Item).where(Item.sku.in_(set(clean_skus))).options(joinedload(Item.product))).unique()}
    for sku in wanted:
        if sku not in found:
            found[sku] = get_item(session, sku)  # raises UnknownItem with get_item's message
    return [found[sku] for sku in wanted]


def get_product(session, product_id):
    product = session.get(Product, product_id, options=[selectinload(Product.items)])
    if product is None:
        raise UnknownItem(f"No product #{product_id}.")
    return product


def _clean_sku(sku):
    sku = normalize_sku(sku)
    if not SKU_PATTERN.match(sku):
        raise InvalidInput(
            f"SKU {sku or '(empty)'!r} is not valid: use letters, digits, dashes and dots, up to 40 characters."
        )
    return sku


def _clean_sizes(sizes):
    cleaned = []
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


def parse_sizes(text):
    """'S, M, L' or 'S M L' -> ['S', 'M', 'L']."""
    return _clean_sizes(re.split(r"[\s,;/]+", text or ""))


def _clean_item_fields(fields):
    values = {}
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
        elif name == "do_not_use_after":
            if value is not None and not isinstance(value, date):
                raise InvalidInput("'Do not use after' must be a date.")
        else:
            value = limited(value, FIELD_WORDS[name], TEXT_LIMITS[name], about=(None, name))
        values[name] = value
    if "unit" in values and not values["unit"]:
        values["unit"] = "each"
    return values


def _clean_product(name, category):
    name = limited(name, "The name", MAX_NAME_LENGTH, about=(None, "name"))
    if not name:
        raise InvalidInput("Give the item a name.")
    if category not in CATEGORIES:
        raise InvalidInput(f"Category must be one of: {', '.join(CATEGORIES)}.")
    return name


def _description(description):
    return limited(description, "The description", MAX_DESCRIPTION_LENGTH, about=(None, "description"))


def _keywords(keywords):
    return limited(keywords, "The keywords", MAX_KEYWORDS_LENGTH, about=(None, "keywords"))


def _sku_taken(session, sku):
    return session.scalar(select(exists().where(Item.sku == sku)))


@unit_of_work
def create_product(session, *, name, category, sku, sizes=(), description="", keywords="", photo=None,
                   **item_fields):
    """Create a product and its items: one item with `sku`, or one per size as `SKU-SIZE`.

    Refuses a duplicate SKU; writes the product and all its items, or nothing.
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
                      photo=photo)
    session.add(product)
    for candidate, size in zip(skus, sizes or [None]):
        session.add(Item(sku=candidate, size=size, size_rank=size_rank(size), product=product, **fields))
    session.flush()
    search.refresh(session, [product.id])
    items_changed(session, [item.id for item in product.items])  # under its reorder point from the start
    return product


_KEEP = object()


@unit_of_work
def update_product(session, product, *, name, category, description="", keywords=_KEEP, photo=None):
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
        product.photo = photo
    search.refresh(session, [product.id])
    return product


def units_on_loan(session, item_ids):
    """{item id: units handed over and not yet checked in}, for the items that have any."""
    from ..requests.models import Request, RequestLine  # requests build on the catalog

    if not item_ids:
        return {}
    return dict(session.execute(
        select(RequestLine.item_id, func.sum(RequestLine.issued))
        .join(Request, RequestLine.request_id == Request.id)
        .where(Request.status == "handed_over", RequestLine.item_id.in_(set(item_ids)), RequestLine.issued > 0)
        .group_by(RequestLine.item_id)).all())


def on_loan_refusal(item, units):
    return (f"{units} of {item.sku} are out on loan: check them in before making it consumable "
            "(a consumable cannot be checked back in).")


def _refuse_consumable_while_on_loan(session, items, fields):
    if fields.get("returnable") is False:
        flipping = [item for item in items if item.returnable]
        out = units_on_loan(session, [item.id for item in flipping])
        for item in flipping:
            if out.get(item.id):
                raise InvalidInput(on_loan_refusal(item, out[item.id]))


@unit_of_work
def update_item(session, item, replaced_by=_KEEP, **item_fields):
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
def apply_to_all_sizes(session, product, **item_fields):
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
def add_size(session, product, size, sku=None, **item_fields):
    """Add a size to a product; its other fields are copied from an existing size."""
    (size,) = _clean_sizes([size]) or (None,)
    if not size:
        raise InvalidInput("Give the new size, like XL.")
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
def set_archived(session, *, product=None, item=None, archived=True):
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


def _search_conditions(q, category, archived):
    """(WHERE clauses, rank or None, bind parameters) of a search and category."""
    found, values = search.resolved(q)
    count = None if found is None else len(found)
    conditions = _conditions(count, category or None, archived)
    return conditions, (None if count is None else search.rank(count)), values


def _conditions(words, category, archived):
    """The search's WHERE clauses: `words` is the number of search words (None: no search; the
    words' patterns are bind parameters, see search.params), `category` a value or a bind
    parameter, None to leave that filter out."""
    conditions = []
    if archived:
        conditions.append(or_(Product.archived.is_(True),
                              Product.id.in_(select(Item.product_id).where(Item.archived.is_(True)))))
    else:
        conditions.append(Product.archived.is_(False))
    if category is not None:
        conditions.append(Product.category == category)
    if words is not None:
        conditions.append(search.matching(words))
    return conditions


# The catalog's order: by category, then name (any case), then id so that pages never overlap.
# A search puts its rank first (exact SKU, then name matches, then the others).
_PRODUCT_ORDER = (Product.category, func.lower(Product.name), Product.id)


def search_products(session, q="", category=None, page=1, per_page=25, archived=False):
    """Products matching a search (words in any order, each starting a word of the name, SKUs,
    suppliers, category, description or keywords; see catalog/search.py) and category, a page at
    a time, exact SKU first, then name matches, with their items loaded in one extra query.
    `archived=True` lists only products that are archived or have an archived size."""
    conditions, rank, values = _search_conditions(q, category, archived)
    page = max(1, page)
    order = _PRODUCT_ORDER if rank is None else (rank, *_PRODUCT_ORDER)
    # The total rides along with the page's rows (a window count), so the search runs once.
    rows = session.execute(
        select(Product, func.count().over().label("total")).where(*conditions)
        .options(selectinload(Product.items))
        .order_by(*order)
        .limit(per_page).offset((page - 1) * per_page), values
    ).all()
    total = rows[0].total if rows else _count_past_the_end(session, conditions, values, page)
    return Page([row[0] for row in rows], page, per_page, total)


def _count_past_the_end(session, conditions, values, page):
    """The number of matches when the page asked for has none: 0 on page 1, else a count."""
    return 0 if page == 1 else session.scalar(select(func.count(Product.id)).where(*conditions), values)


@dataclass(slots=True)
class ListedItem:
    """An item as the catalog list shows it (a plain row, not an ORM object)."""
    id: int
    sku: str
    size: str | None
    unit: str
    reorder_point: int
    returnable: bool
    do_not_use_after: date | None
    archived: bool

    expired = Item.expired


@dataclass(slots=True)
class ListedProduct:
    """A product as the catalog list shows it, with its items in size order."""
    id: int
    name: str
    category: str
    photo: str | None
    items: list = field(default_factory=list)

    has_sizes = Product.has_sizes
    active_items = Product.active_items
    category_label = Product.category_label


_item, _stock = Item.__table__, StockLevel.__table__
_ON_HAND = (select(func.coalesce(func.sum(_stock.c.quantity), 0)).where(_stock.c.item_id == _item.c.id)
            .scalar_subquery())


@functools.cache
def _catalog_statement(words, filtering):
    """The catalog list's statement, for a search of `words` words (None: no search) and with or
    without a category, built once per shape (building it and its cache key costs more CPU than
    SQLite takes to run it)."""
    from ..requests.models import RequestLine  # requests build on the catalog

    conditions = _conditions(words, bindparam("category") if filtering else None, archived=False)
    rank = search.rank(words) if words is not None else literal(0)
    # Whether any request line holds units of the item: reserved_now counts only such lines, so
    # it need not be asked about the others (most items; an index probe each tells them apart).
    line = RequestLine.__table__
    held = exists().where(line.c.item_id == _item.c.id, line.c.reserved > 0)
    found = (select(Product.id, Product.name, Product.category, Product.photo, func.count().over().label("total"),
                    rank.label("rank"))
             .where(*conditions).order_by(rank, *_PRODUCT_ORDER)
             .limit(bindparam("limit")).offset(bindparam("offset"))).cte("found")
    return (
        select(found.c.id, found.c.name, found.c.category, found.c.photo, found.c.total,
               _item.c.id.label("item_id"), _item.c.sku, _item.c.size, _item.c.unit, _item.c.reorder_point,
               _item.c.returnable, _item.c.do_not_use_after, _item.c.archived, _ON_HAND.label("on_hand"),
               held.label("held"))
        .select_from(found.outerjoin(_item, _item.c.product_id == found.c.id))
        .order_by(found.c.rank, found.c.category, func.lower(found.c.name), found.c.id,
                  _item.c.size_rank, _item.c.size, _item.c.sku)  # as Product.items is ordered
    )


def catalog_page(session, q="", category=None, page=1, per_page=25):
    """The catalog list page: what search_products finds (same matches, order and pages), read
    as plain rows in one statement with each product's items and their units on hand.

    Returns (Page of ListedProduct, {item id: on hand} for the active items, the ids among
    them that request lines hold units of: the only ones reserved_now can find reserved)."""
    found, values = search.resolved(q)
    page = max(1, page)
    params = dict(values, limit=per_page, offset=(page - 1) * per_page)
    if category:
        params["category"] = category
    statement = _catalog_statement(None if found is None else len(found), bool(category))
    rows = session.connection().execute(statement, params).all()
    products, on_hand, held, product = [], {}, [], None
    for product_id, name, category_, photo, _total, item_id, *item, archived, units, holds in rows:
        if product is None or product.id != product_id:
            product = ListedProduct(product_id, name, category_, photo)
            products.append(product)
        if item_id is not None:
            product.items.append(ListedItem(item_id, *item, archived))
            if not archived:
                on_hand[item_id] = int(units)
                if holds:
                    held.append(item_id)
    if rows:
        total = rows[0].total
    else:
        conditions, _rank, values = _search_conditions(q, category, False)
        total = _count_past_the_end(session, conditions, values, page)
    return Page(products, page, per_page, total), on_hand, held


def _item_search(q):
    """(WHERE clauses, ORDER BY, bind parameters) of a search for items: the catalog's search on
    their products, the item whose SKU was typed first, then those whose name has every word."""
    found, values = search.resolved(q)
    if found is None:
        return [], [Item.sku], {}
    exact = Item.sku == bindparam("exact_sku")
    # Among equals, the sizes whose SKU has what was typed ("NAVY-M": POLO-NAVY-M before its other sizes).
    typed = case((func.lower(Item.sku).like(contains(q), escape="\\"), 0), else_=1)
    return ([or_(search.matching(len(found)), exact)], [search.rank(len(found), exact=exact), typed, Item.sku],
            values)


def search_items(session, q="", category=None, sku=None, page=1, per_page=50):
    """Items (not archived) for the API: filter by exact SKU, search text (as the catalog page
    searches, see search_products; exact SKU first, then name matches, then by SKU) or category."""
    conditions = [Item.archived.is_(False)]
    query = select(Item).join(Item.product)
    if sku:
        conditions.append(Item.sku == normalize_sku(sku))
    if category:
        conditions.append(Product.category == category)
    matches, order, values = _item_search(q)
    conditions += matches
    total = session.scalar(select(func.count(Item.id)).join(Item.product).where(*conditions), values)
    rows = session.scalars(
        query.where(*conditions).options(selectinload(Item.product), selectinload(Item.replaced_by))
        .order_by(*order).limit(per_page).offset((max(1, page) - 1) * per_page), values
    ).all()
    return Page(rows, max(1, page), per_page, total)


def suggest_items(session, q, limit=15):
    """Active items the catalog's search finds for `q` (exact SKU first), for a code box's suggestions."""
    if not clean(q):
        return []
    matches, order, values = _item_search(q)
    return session.scalars(
        select(Item).join(Item.product).options(selectinload(Item.product))
        .where(Item.archived.is_(False), *matches)
        .order_by(*order).limit(limit), values
    ).all()


def empty_search_help(session, q, category=None):
    """What to offer when a search finds nothing: (a search close to it made of the catalog's
    words or None, {category: products} where the search finds some (its category filter left
    out), {category: products} of the whole catalog when it finds none anywhere)."""
    elsewhere = search.category_counts(session, q) if clean(q) else {}
    everything = {} if elsewhere else search.category_counts(session, "")

    def has_matches(text):
        conditions, _rank, values = _search_conditions(text, category, False)
        return session.scalar(select(exists().where(*conditions)), values)

    suggestion = search.did_you_mean(session, q, has_matches) if clean(q) else None
    return suggestion, elsewhere, everything
