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
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import Table as SqlTable
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, aliased, selectinload

from ..catalog import search
from ..catalog.models import Item, Product, size_rank
from ..catalog.services import on_loan_refusal, units_on_loan
from ..catalog.successors import circle, circle_message, lock_successor_changes
from ..timeutil import utcnow
from . import fields as cell
from .chunks import chunks
from .csvfile import Columns, Table
from .item_rows import ITEM_FIELDS, ROW_FIELDS, ItemPlan, ItemRow, parse_row
from .new_products import plan_new
from .report import Change, ImportReport, parsed_rows

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


def _existing_items(session: Session, skus: Iterable[str]) -> dict[str, Item]:
    found: dict[str, Item] = {}
    for chunk in chunks(skus):
        for item in session.scalars(select(Item).where(Item.sku.in_(chunk))
                                    .options(selectinload(Item.product), selectinload(Item.replaced_by))):
            found[item.sku] = item
    return found


def plan(session: Session, table: Table) -> ItemPlan:
    """Check every row against the file and the catalog; say what importing would do. Reads only."""
    report = ImportReport("items", rows=len(table.rows))
    result = ItemPlan(report)
    rows: list[ItemRow] = []
    first_line: dict[str, int] = {}  # sku -> line
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
    plan_new(session, result, [row for row in rows if row.sku not in existing])
    report.in_file_order()
    return result


def _plan_updates(result: ItemPlan, rows: list[ItemRow], existing: Mapping[str, Item],
                  on_loan: Mapping[int, int]) -> None:
    report = result.report
    # product id -> (line, {name, category, description, keywords}) of the first row about that product
    said: dict[int, tuple[int, dict[str, str]]] = {}
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
        details: list[tuple[str, str, str]] = []
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


def _value(item: Item, name: str) -> object:
    """An item's value for a column, as the file writes it (its successor by SKU)."""
    if name == "replaced_by":
        return item.replaced_by.sku if item.replaced_by is not None else None
    return getattr(item, name)


def _check_successors(session: Session, report: ImportReport, rows: list[ItemRow],
                      existing: Mapping[str, Item]) -> list[ItemRow]:
    """The rows whose `replaced_by` can stand, each other row reported bad: the successor must be
    in the catalog or the file, not archived, not the row's own SKU, and following successors (as
    they will be after the import) must not lead back to the row's item. A row that keeps its
    item's successor as it is passes whatever became of that successor."""
    named: dict[str, str | None] = {row.sku: row.fields["replaced_by"] for row in rows
                                    if "replaced_by" in row.fields}
    if not any(named.values()):
        return rows
    lock_successor_changes(session)
    in_file = {row.sku for row in rows}
    archived = _archived_of(session, {sku for sku in named.values() if sku} - in_file, existing)
    successor = aliased(Item)
    in_catalog = dict(session.execute(
        select(Item.sku, successor.sku).join(successor, Item.replaced_by_id == successor.id)).tuples().all())

    def successor_of(sku: str) -> str | None:
        return named[sku] if sku in named else in_catalog.get(sku)

    kept: list[ItemRow] = []
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


def _archived_of(session: Session, skus: Iterable[str], existing: Mapping[str, Item]) -> dict[str, bool]:
    """{sku: archived} for the file's items and the catalog's items among `skus`."""
    found = {sku: item.archived for sku, item in existing.items()}
    for chunk in chunks(skus):
        found.update(session.execute(select(Item.sku, Item.archived).where(Item.sku.in_(chunk))).tuples().all())
    return found


def apply(session: Session, result: ItemPlan) -> None:
    """Write a plan without bad rows, inside the caller's write transaction. New products and items
    go in as multi-row INSERTs (building 10,000 ORM objects took most of an import's time); every
    product written gets its search words again (catalog/search.py)."""
    successors: dict[str, str | None] = {}  # sku -> successor's SKU or None, written once every item exists
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
    new_items: list[dict[str, object]] = []
    touched = {product.id for product in result.product_changes}
    touched.update(item.product_id for item, changes in result.item_changes if "supplier" in changes)
    touched.update(product.id for product, _row in result.new_sizes)
    if result.new_products:
        ids = session.execute(
            insert(Product).returning(Product.id, sort_by_parameter_order=True),
            [dict(fields, photo_id=None, archived=False, created_at=now) for fields, _rows in result.new_products],
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


def _write_successors(session: Session, successors: Mapping[str, str | None]) -> None:
    if not successors:
        return
    ids: dict[str | None, int] = {}  # a successor's SKU -> its id (looked up with None: no successor)
    for chunk in chunks({sku for sku in successors.values() if sku}):
        ids.update(session.execute(select(Item.sku, Item.id).where(Item.sku.in_(chunk))).tuples().all())
    item = cast(SqlTable, Item.__table__)
    session.execute(update(item).where(item.c.sku == bindparam("b_sku")).values(replaced_by_id=bindparam("b_id")),
                    [{"b_sku": sku, "b_id": ids.get(successor)} for sku, successor in successors.items()])
    session.expire_all()  # the ORM's items do not know of the UPDATE


NEW_ITEM: dict[str, object] = {
    "unit": "each", "supplier": "", "unit_cost": Decimal("0.00"), "lead_time_days": 0, "reorder_point": 0,
    "reorder_quantity": 0, "returnable": False, "loss_rate": 0, "do_not_use_after": None, "notes": ""}


def _item_values(row: ItemRow, product_id: int, defaults: Mapping[str, object], now: datetime) -> dict[str, object]:
    values = dict(defaults, sku=row.sku, size=row.size, size_rank=size_rank(row.size), product_id=product_id,
                  archived=False, created_at=now)
    values.update((name, value) for name, value in row.fields.items() if name != "replaced_by")  # by id, later
    return values
