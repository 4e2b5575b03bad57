"""New SKUs in an items file (transfer/items.py): a SKU without a size is a product of its own; a
SKU with a size joins the product of that name that has sizes, or a new one shared with the
file's other sizes of that name."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..catalog.models import Product
from .chunks import chunks
from .item_rows import ItemPlan, ItemRow
from .report import Change


def _sized_products_named(session: Session, names: Iterable[str]) -> dict[str, list[Product]]:
    """Products with sizes, by lower-cased name (SQLite's lower() folds only ASCII: match both ways)."""
    found: defaultdict[str, list[Product]] = defaultdict(list)
    wanted = {name.lower(): name for name in names}
    for chunk in chunks(wanted):
        raw = [wanted[key] for key in chunk]
        products = session.scalars(
            select(Product).where(Product.archived.is_(False),
                                  or_(Product.name.in_(raw), func.lower(Product.name).in_(chunk)))
            .options(selectinload(Product.items))
        ).all()
        for product in products:
            if product.name.lower() in wanted and any(item.size for item in product.items) \
                    and product not in found[product.name.lower()]:
                found[product.name.lower()].append(product)
    return found


def _product_target(result: ItemPlan, product: Product) -> dict[str, str]:
    """The product's name, category, description and keywords once this import is done."""
    target = {"name": product.name, "category": product.category, "description": product.description,
              "keywords": product.keywords}
    target.update(result.product_changes.get(product, {}))
    return target


def plan_new(session: Session, result: ItemPlan, rows: list[ItemRow]) -> None:
    report = result.report
    sized: defaultdict[str, list[ItemRow]] = defaultdict(list)  # lower-cased product name -> its rows
    for row in rows:
        if row.size:
            sized[row.product.lower()].append(row)
        else:
            result.new_products.append(({"name": row.product, "category": row.category,
                                         "description": row.description or "", "keywords": row.keywords or ""},
                                        [row]))
            report.counts["new_products"] += 1
            report.counts["new_items"] += 1
            report.changes.append(Change(row.line, row.sku, "new", (f"new product {row.product} ({row.category})",)))
    candidates = _sized_products_named(session, [group[0].product for group in sized.values()])
    for key, group in sized.items():
        products = candidates.get(key, [])
        if len(products) > 1:
            for row in group:
                report.bad(row.line, row.sku, f"{len(products)} products with sizes are called {row.product!r}; "
                                              "add this size on the right product's page in the catalog")
            continue
        if products:
            _plan_sizes_of(result, products[0], group)
        else:
            _plan_sized_product(result, group)


def _plan_sizes_of(result: ItemPlan, product: Product, group: list[ItemRow]) -> None:
    """New sizes for a product already in the catalog."""
    report = result.report
    target = _product_target(result, product)
    taken = {item.size: item.sku for item in product.items if item.size}
    seen: dict[str | None, int] = {}  # size -> line
    for row in group:
        if row.category != target["category"]:
            report.bad(row.line, row.sku, f"{product.name} is {target['category']} in the catalog; "
                                          f"this row says {row.category}")
        elif row.description and row.description != target["description"]:
            report.bad(row.line, row.sku, f"the description differs from {product.name}'s in the catalog "
                                          "(leave it empty, or change it on a row of an existing size)")
        elif row.keywords and row.keywords != target["keywords"]:
            report.bad(row.line, row.sku, f"the keywords differ from {product.name}'s in the catalog "
                                          "(leave them empty, or change them on a row of an existing size)")
        elif row.size in taken:
            report.bad(row.line, row.sku, f"{product.name} already has size {row.size} (SKU {taken[row.size]})")
        elif row.size in seen:
            report.bad(row.line, row.sku, f"size {row.size} of {product.name} is also on line {seen[row.size]}")
        else:
            seen[row.size] = row.line
            result.new_sizes.append((product, row))
            report.counts["new_sizes"] += 1
            report.changes.append(Change(row.line, row.sku, "new", (f"new size {row.size} of {product.name}",)))


def _plan_sized_product(result: ItemPlan, group: list[ItemRow]) -> None:
    """A new product whose sizes are the group's rows: they must agree on the product."""
    report = result.report
    first = group[0]
    seen: dict[str | None, int] = {}  # size -> line
    good: list[ItemRow] = []
    for row in group:
        if row.category != first.category:
            report.bad(row.line, row.sku, f"category {row.category} differs from line {first.line} "
                                          f"({first.category}) for another size of {first.product}")
        elif (row.description or "") != (first.description or ""):
            report.bad(row.line, row.sku, f"description differs from line {first.line} "
                                          f"for another size of {first.product}")
        elif (row.keywords or "") != (first.keywords or ""):
            report.bad(row.line, row.sku, f"keywords differ from line {first.line} "
                                          f"for another size of {first.product}")
        elif row.size in seen:
            report.bad(row.line, row.sku, f"size {row.size} of {first.product} is also on line {seen[row.size]}")
        else:
            seen[row.size] = row.line
            good.append(row)
    if not good:
        return
    result.new_products.append(({"name": first.product, "category": first.category,
                                 "description": first.description or "", "keywords": first.keywords or ""}, good))
    report.counts["new_products"] += 1
    report.counts["new_items"] += len(good)
    for row in good:
        report.changes.append(Change(row.line, row.sku, "new", (f"new product {first.product} ({first.category}), "
                                                                f"size {row.size}",)))
