"""Finding products and items: the catalog page, its search (catalog/search.py: words, stems,
ranking), items for the API and a code box's suggestions, and what to offer when a search finds
nothing."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (BindParameter, Case, ColumnElement, ColumnExpressionArgument, Select, bindparam, case, exists,
                        func, literal, or_, select)
from sqlalchemy.orm import Session, selectinload

from ..pagination import Page
from ..stock.models import StockLevel
from ..text import clean, contains
from . import search
from .models import Item, Product, normalize_sku


def _search_conditions(q: str | None, category: str | None,
                       archived: bool) -> tuple[list[ColumnElement[bool]], Case[int] | None, dict[str, str]]:
    """(WHERE clauses, rank or None, bind parameters) of a search and category."""
    found, values = search.resolved(q)
    count = None if found is None else len(found)
    conditions = _conditions(count, category or None, archived)
    return conditions, (None if count is None else search.rank(count)), values


def _conditions(words: int | None, category: str | BindParameter[str] | None,
                archived: bool) -> list[ColumnElement[bool]]:
    """The search's WHERE clauses: `words` is the number of search words (None: no search; the
    words' patterns are bind parameters, see search.params), `category` a value or a bind
    parameter, None to leave that filter out."""
    conditions: list[ColumnElement[bool]] = []
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


def search_products(session: Session, q: str = "", category: str | None = None, page: int = 1, per_page: int = 25,
                    archived: bool = False) -> Page:
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


def _count_past_the_end(session: Session, conditions: Sequence[ColumnElement[bool]], values: dict[str, str],
                        page: int) -> int:
    """The number of matches when the page asked for has none: 0 on page 1, else a count."""
    return 0 if page == 1 else session.execute(select(func.count(Product.id)).where(*conditions), values).scalar_one()


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
    photo_id: int | None
    items: list[ListedItem] = field(default_factory=list)

    has_sizes = Product.has_sizes
    active_items = Product.active_items
    category_label = Product.category_label


_item, _stock = Item.__table__, StockLevel.__table__
_ON_HAND = (select(func.coalesce(func.sum(_stock.c.quantity), 0)).where(_stock.c.item_id == _item.c.id)
            .scalar_subquery())


@functools.cache
def _catalog_statement(words: int | None, filtering: bool) -> Select[Any]:
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
    found = (select(Product.id, Product.name, Product.category, Product.photo_id, func.count().over().label("total"),
                    rank.label("rank"))
             .where(*conditions).order_by(rank, *_PRODUCT_ORDER)
             .limit(bindparam("limit")).offset(bindparam("offset"))).cte("found")
    return (
        select(found.c.id, found.c.name, found.c.category, found.c.photo_id, found.c.total,
               _item.c.id.label("item_id"), _item.c.sku, _item.c.size, _item.c.unit, _item.c.reorder_point,
               _item.c.returnable, _item.c.do_not_use_after, _item.c.archived, _ON_HAND.label("on_hand"),
               held.label("held"))
        .select_from(found.outerjoin(_item, _item.c.product_id == found.c.id))
        .order_by(found.c.rank, found.c.category, func.lower(found.c.name), found.c.id,
                  _item.c.size_rank, _item.c.size, _item.c.sku)  # as Product.items is ordered
    )


def catalog_page(session: Session, q: str = "", category: str | None = None, page: int = 1,
                 per_page: int = 25) -> tuple[Page, dict[int, int], list[int]]:
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
    products: list[ListedProduct] = []
    on_hand: dict[int, int] = {}
    held: list[int] = []
    product: ListedProduct | None = None
    for (product_id, name, category_, photo, _total, item_id, sku, size, unit, reorder_point, returnable,
         do_not_use_after, archived, units, holds) in rows:
        if product is None or product.id != product_id:
            product = ListedProduct(product_id, name, category_, photo)
            products.append(product)
        if item_id is not None:
            product.items.append(ListedItem(item_id, sku, size, unit, reorder_point, returnable, do_not_use_after,
                                            archived))
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


def _item_search(q: str | None) -> tuple[list[ColumnElement[bool]], list[ColumnExpressionArgument[Any]],
                                          dict[str, str]]:
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


def search_items(session: Session, q: str = "", category: str | None = None, sku: str | None = None, page: int = 1,
                 per_page: int = 50) -> Page:
    """Items (not archived) for the API: filter by exact SKU, search text (as the catalog page
    searches, see search_products; exact SKU first, then name matches, then by SKU) or category."""
    conditions: list[ColumnElement[bool]] = [Item.archived.is_(False)]
    query = select(Item).join(Item.product)
    if sku:
        conditions.append(Item.sku == normalize_sku(sku))
    if category:
        conditions.append(Product.category == category)
    matches, order, values = _item_search(q)
    conditions += matches
    total = session.execute(select(func.count(Item.id)).join(Item.product).where(*conditions), values).scalar_one()
    rows = session.scalars(
        query.where(*conditions).options(selectinload(Item.product), selectinload(Item.replaced_by))
        .order_by(*order).limit(per_page).offset((max(1, page) - 1) * per_page), values
    ).all()
    return Page(rows, max(1, page), per_page, total)


def suggest_items(session: Session, q: str, limit: int = 15) -> Sequence[Item]:
    """Active items the catalog's search finds for `q` (exact SKU first), for a code box's suggestions."""
    if not clean(q):
        return []
    matches, order, values = _item_search(q)
    return session.scalars(
        select(Item).join(Item.product).options(selectinload(Item.product))
        .where(Item.archived.is_(False), *matches)
        .order_by(*order).limit(limit), values
    ).all()


def empty_search_help(session: Session, q: str,
                      category: str | None = None) -> tuple[str | None, dict[str, int], dict[str, int]]:
    """What to offer when a search finds nothing: (a search close to it made of the catalog's
    words or None, {category: products} where the search finds some (its category filter left
    out), {category: products} of the whole catalog when it finds none anywhere)."""
    elsewhere = search.category_counts(session, q) if clean(q) else {}
    everything = {} if elsewhere else search.category_counts(session, "")

    def has_matches(text: str) -> bool:
        conditions, _rank, values = _search_conditions(text, category, False)
        return session.execute(select(exists().where(*conditions)), values).scalar_one()

    suggestion = search.did_you_mean(session, q, has_matches) if clean(q) else None
    return suggestion, elsewhere, everything
