"""Importing items: a file of SKUs with their products and sizes, checked whole before anything is
written.

One row per SKU. A row whose SKU is in the catalog updates that item (and its product's name,
category, description and keywords); a new SKU with a size joins the product of that name that has sizes
(or a new one, shared with the file's other sizes of that name); a new SKU without a size is a
product of its own. Columns left out of the file leave existing items as they are; a cell left
empty means empty (zero, no, no date), as in an export. `replaced_by` names the SKU of the piece
that takes over from the row's item (in the catalog or in the file), checked as the item edit page
checks it (catalog/successors.py).
"""
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import aliased, selectinload

from ..catalog import search
from ..catalog.models import CATEGORIES, CATEGORY_LABELS, MAX_LEAD_TIME_DAYS, Item, Product, size_rank
from ..catalog.services import (MAX_DESCRIPTION_LENGTH, MAX_KEYWORDS_LENGTH, SKU_PATTERN, TEXT_LIMITS, normalize_sku,
                                on_loan_refusal, units_on_loan)
from ..catalog.successors import circle, circle_message, lock_successor_changes
from ..text import clean
from ..timeutil import utcnow
from . import fields as cell
from .csvfile import Columns
from .report import Change, ImportReport, parsed_rows

ITEM_FIELDS = ("unit", "supplier", "unit_cost", "lead_time_days", "reorder_point", "reorder_quantity",
               "returnable", "do_not_use_after", "notes")
# The columns of a row's own item: its fields, and the SKU of its successor (written by SKU).
ROW_FIELDS = ITEM_FIELDS + ("replaced_by",)
COLUMNS = Columns(
    required=("sku", "product", "category"),
    optional=("size",) + ROW_FIELDS + ("description", "keywords"),
    ignored=("name", "on_hand", "reserved", "available"),
    aliases={"product_name": "product", "cost": "unit_cost", "lead_time": "lead_time_days",
             "reorder_qty": "reorder_quantity", "note": "notes", "expires": "do_not_use_after",
             "successor": "replaced_by"},
)
LABELS = {name: name.replace("_", " ") for name in COLUMNS.known}
LABELS["do_not_use_after"] = "do not use after"


def _successor_sku(cell):
    sku = normalize_sku(clean(cell))
    if sku and not SKU_PATTERN.match(sku):
        raise ValueError(f"replaced by {sku!r} is not a valid SKU")
    return sku or None


def _lead_time(value):
    days = cell.whole_number(value, "lead time days")
    if days > MAX_LEAD_TIME_DAYS:
        raise ValueError(f"lead time days {days:,} is more than {MAX_LEAD_TIME_DAYS:,} (ten years)")
    return days


PARSERS = {
    "unit": lambda c: cell.text(c, "unit", 20) or "each",
    "supplier": lambda c: cell.text(c, "supplier", 120),
    "unit_cost": cell.money,
    "lead_time_days": _lead_time,
    "reorder_point": lambda c: cell.whole_number(c, "reorder point"),
    "reorder_quantity": lambda c: cell.whole_number(c, "reorder quantity"),
    "returnable": lambda c: cell.yes_no(c, "returnable"),
    "do_not_use_after": lambda c: cell.day(c, "do not use after"),
    "notes": lambda c: cell.text(c, "notes", TEXT_LIMITS["notes"]),  # the catalog rule's cap
    "replaced_by": _successor_sku,
}
CHUNK = 500  # ids or names per IN (...) query: well under every database's limit on parameters


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
    fields: dict = field(default_factory=dict)  # the item fields the file has columns for


def _category(value):
    value = clean(value).lower()
    for key, label in CATEGORY_LABELS.items():
        if value in (key, label.lower()):
            return key
    if not value:
        raise ValueError("category is missing")
    raise ValueError(f"unknown category {value!r} (use {', '.join(CATEGORIES)})")


def parse_row(line, cells):
    """One row's cells -> ItemRow; ValueError naming every problem in the row."""
    problems = []

    def take(name, parse):
        try:
            return parse(cells[name])
        except ValueError as error:
            problems.append(str(error))

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
    return ItemRow(line, sku, product, category, size, description, keywords, "size" in cells, values)


def _chunks(values):
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _existing_items(session, skus):
    found = {}
    for chunk in _chunks(skus):
        for item in session.scalars(select(Item).where(Item.sku.in_(chunk))
                                    .options(selectinload(Item.product), selectinload(Item.replaced_by))):
            found[item.sku] = item
    return found


def _sized_products_named(session, names):
    """Products with sizes, by lower-cased name (SQLite's lower() folds only ASCII: match both ways)."""
    found = defaultdict(list)
    wanted = {name.lower(): name for name in names}
    for chunk in _chunks(wanted):
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


@dataclass
class ItemPlan:
    report: ImportReport
    item_changes: list = field(default_factory=list)      # (item, {field: value}); replaced_by is a SKU
    product_changes: dict = field(default_factory=dict)   # product -> {field: value}
    new_products: list = field(default_factory=list)      # ({name, category, description, keywords}, [ItemRow])
    new_sizes: list = field(default_factory=list)         # (product, ItemRow)

    def new_rows(self):
        """Every ItemRow that becomes a new item."""
        return [row for _fields, rows in self.new_products for row in rows] + [row for _p, row in self.new_sizes]


def plan(session, table):
    """Check every row against the file and the catalog; say what importing would do. Reads only."""
    report = ImportReport("items", rows=len(table.rows))
    result = ItemPlan(report)
    rows, first_line = [], {}
    for line, row in parsed_rows(table, report, parse_row):
        if row.sku in first_line:
            report.bad(line, row.sku, f"duplicate SKU {row.sku} (also on line {first_line[row.sku]})")
            continue
        first_line[row.sku] = line
        rows.append(row)

    existing = _existing_items(session, [row.sku for row in rows])
    rows = _check_successors(session, report, rows, existing)
    on_loan = units_on_loan(session, [item.id for item in existing.values() if item.returnable])
    _plan_updates(result, [row for row in rows if row.sku in existing], existing, on_loan)
    _plan_new(session, result, [row for row in rows if row.sku not in existing])
    report.in_file_order()
    return result


def _product_target(result, product):
    """The product's name, category, description and keywords once this import is done."""
    target = {"name": product.name, "category": product.category, "description": product.description,
              "keywords": product.keywords}
    target.update(result.product_changes.get(product, {}))
    return target


def _plan_updates(result, rows, existing, on_loan):
    report = result.report
    said = {}  # product id -> (line, {name, category, description, keywords}) of the first row about that product
    for row in rows:
        item = existing[row.sku]
        if item.returnable and row.fields.get("returnable") is False and on_loan.get(item.id):
            report.bad(row.line, row.sku, on_loan_refusal(item, on_loan[item.id]))
            continue
        if row.size_given and row.size != (item.size or None):
            report.bad(row.line, row.sku, f"{row.sku} is size {item.size or '(none)'} in the catalog; "
                                          "an import cannot change an item's size")
            continue
        wanted = {"name": row.product, "category": row.category}
        if row.description is not None:
            wanted["description"] = row.description
        if row.keywords is not None:
            wanted["keywords"] = row.keywords
        earlier = said.get(item.product_id)
        if earlier is not None:
            line, before = earlier
            clash = [name for name in wanted if name in before and before[name] != wanted[name]]
            if clash:
                what = LABELS.get(clash[0], clash[0]).replace("name", "product name")
                report.bad(row.line, row.sku, f"{what} differs from line {line} for another size of the same product "
                                              f"({before[clash[0]]!r} there, {wanted[clash[0]]!r} here)")
                continue
        else:
            said[item.product_id] = (row.line, wanted)
        details = []
        product_change = {name: value for name, value in wanted.items() if getattr(item.product, name) != value}
        if product_change and earlier is None:
            result.product_changes[item.product] = product_change
            details += [("product" if name == "name" else name, cell.show(getattr(item.product, name)),
                         cell.show(value)) for name, value in product_change.items()]
        item_change = {name: value for name, value in row.fields.items() if _value(item, name) != value}
        if item_change:
            result.item_changes.append((item, item_change))
            details += [(LABELS[name], cell.show(_value(item, name)), cell.show(value))
                        for name, value in item_change.items()]
        if details:
            report.changes.append(Change(row.line, row.sku, "changed", tuple(details)))
            report.counts["changed"] += 1
        else:
            report.counts["unchanged"] += 1


def _value(item, name):
    """An item's value for a column, as the file writes it (its successor by SKU)."""
    if name == "replaced_by":
        return item.replaced_by.sku if item.replaced_by is not None else None
    return getattr(item, name)


def _check_successors(session, report, rows, existing):
    """The rows whose `replaced_by` can stand, each other row reported bad: the successor must be
    in the catalog or the file, not archived, not the row's own SKU, and following successors (as
    they will be after the import) must not lead back to the row's item. A row that keeps its
    item's successor as it is passes whatever became of that successor."""
    named = {row.sku: row.fields["replaced_by"] for row in rows if "replaced_by" in row.fields}
    if not any(named.values()):
        return rows
    lock_successor_changes(session)
    in_file = {row.sku for row in rows}
    archived = _archived_of(session, {sku for sku in named.values() if sku} - in_file, existing)
    successor = aliased(Item)
    in_catalog = dict(session.execute(
        select(Item.sku, successor.sku).join(successor, Item.replaced_by_id == successor.id)).all())

    def successor_of(sku):
        return named[sku] if sku in named else in_catalog.get(sku)

    kept = []
    for row in rows:
        wanted = named.get(row.sku)
        reason = None
        if wanted is None or (row.sku in existing and _value(existing[row.sku], "replaced_by") == wanted):
            pass
        elif wanted == row.sku:
            reason = f"{row.sku} cannot be replaced by itself"
        elif wanted not in in_file and wanted not in archived:
            reason = f"replaced by {wanted}: no item has that SKU, in the catalog or in this file"
        elif archived.get(wanted):
            reason = f"replaced by {wanted}: it is archived (restore it first, or name another piece)"
        elif path := circle(row.sku, wanted, successor_of):
            reason = circle_message(path).rstrip(".")
        if reason:
            report.bad(row.line, row.sku, reason)
        else:
            kept.append(row)
    return kept


def _archived_of(session, skus, existing):
    """{sku: archived} for the file's items and the catalog's items among `skus`."""
    found = {sku: item.archived for sku, item in existing.items()}
    for chunk in _chunks(skus):
        found.update(session.execute(select(Item.sku, Item.archived).where(Item.sku.in_(chunk))).all())
    return found


def _plan_new(session, result, rows):
    report = result.report
    sized = defaultdict(list)
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


def _plan_sizes_of(result, product, group):
    """New sizes for a product already in the catalog."""
    report = result.report
    target = _product_target(result, product)
    taken = {item.size: item.sku for item in product.items if item.size}
    seen = {}
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


def _plan_sized_product(result, group):
    """A new product whose sizes are the group's rows: they must agree on the product."""
    report = result.report
    first = group[0]
    seen, good = {}, []
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


def apply(session, result):
    """Write a plan without bad rows, inside the caller's write transaction. New products and items
    go in as multi-row INSERTs (building 10,000 ORM objects took most of an import's time); every
    product written gets its search words again (catalog/search.py)."""
    successors = {}  # sku -> successor's SKU or None, written once every item exists
    for item, changes in result.item_changes:
        for name, value in changes.items():
            if name == "replaced_by":
                successors[item.sku] = value
            else:
                setattr(item, name, value)
    for product, changes in result.product_changes.items():
        for name, value in changes.items():
            setattr(product, name, value)
    session.flush()
    now = utcnow()
    new_items, touched = [], {product.id for product in result.product_changes}
    touched.update(item.product_id for item, changes in result.item_changes if "supplier" in changes)
    touched.update(product.id for product, _row in result.new_sizes)
    if result.new_products:
        ids = session.execute(
            insert(Product).returning(Product.id, sort_by_parameter_order=True),
            [dict(fields, photo=None, archived=False, created_at=now) for fields, _rows in result.new_products],
        ).scalars().all()
        touched.update(ids)
        for product_id, (_fields, rows) in zip(ids, result.new_products):
            new_items += [_item_values(row, product_id, NEW_ITEM, now) for row in rows]
    for product, row in result.new_sizes:
        template = next((item for item in product.items if item.size), None)
        copied = {name: getattr(template, name) for name in ITEM_FIELDS} if template is not None else NEW_ITEM
        new_items.append(_item_values(row, product.id, copied, now))
    if new_items:
        session.execute(insert(Item), new_items)
    search.refresh(session, touched)
    successors.update((row.sku, row.fields["replaced_by"]) for row in result.new_rows()
                      if row.fields.get("replaced_by"))
    _write_successors(session, successors)


def _write_successors(session, successors):
    if not successors:
        return
    ids = {}
    for chunk in _chunks({sku for sku in successors.values() if sku}):
        ids.update(session.execute(select(Item.sku, Item.id).where(Item.sku.in_(chunk))).all())
    item = Item.__table__
    session.execute(update(item).where(item.c.sku == bindparam("b_sku")).values(replaced_by_id=bindparam("b_id")),
                    [{"b_sku": sku, "b_id": ids.get(successor)} for sku, successor in successors.items()])
    session.expire_all()  # the ORM's items do not know of the UPDATE


NEW_ITEM = {"unit": "each", "supplier": "", "unit_cost": Decimal("0.00"), "lead_time_days": 0, "reorder_point": 0,
            "reorder_quantity": 0, "returnable": False, "do_not_use_after": None, "notes": ""}


def _item_values(row, product_id, defaults, now):
    values = dict(defaults, sku=row.sku, size=row.size, size_rank=size_rank(row.size), product_id=product_id,
                  archived=False, created_at=now)
    values.update((name, value) for name, value in row.fields.items() if name != "replaced_by")  # by id, later
    return values
