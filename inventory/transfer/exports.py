"""CSV exports: items with on hand / reserved / available, stock per bin, the ledger for a date
range, requests and purchase orders (one row per line).

Free-text cells (names, suppliers, notes, reasons) go through `csvfile.escape`, so a spreadsheet
never runs them as formulas; the items and stock exports have the import's columns and re-import
unchanged.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, contains_eager, selectinload

from ..auth.models import User
from ..bins.models import Bin
from ..catalog.models import Item, Product
from ..events.models import Event
from ..purchasing.models import PurchaseOrder, PurchaseOrderLine, order_number
from ..requests.models import Request, RequestLine, request_number
from ..stock import services as stock
from ..stock.models import Movement, StockLevel
from .chunks import chunks
from .csvfile import CsvStream, escape, write_csv
from .fields import show

ITEM_HEADER = ("sku", "product", "size", "category", "unit", "supplier", "unit_cost", "lead_time_days",
               "reorder_point", "reorder_quantity", "returnable", "do_not_use_after", "notes", "description",
               "replaced_by", "keywords", "loss_rate", "on_hand", "reserved", "available")
STOCK_HEADER = ("bin", "bin_name", "zone", "sku", "product", "size", "quantity")
LEDGER_HEADER = ("id", "when_utc", "kind", "sku", "product", "size", "from_bin", "to_bin", "quantity",
                 "counted", "reason", "reference", "user", "unit_cost")
REQUEST_HEADER = ("request", "created_utc", "requester", "status", "purpose", "event", "needed_by", "return_by",
                  "handoff", "sku", "product", "size", "quantity", "reserved", "backordered", "picked", "issued",
                  "returned", "consumed", "lost", "damaged", "note")
PO_HEADER = ("purchase_order", "supplier", "status", "expected_on", "ordered_utc", "created_by", "event", "sku",
             "product", "size", "quantity", "received", "outstanding", "unit_cost", "line_total")
BATCH = 1000


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def items_csv(session: Session) -> str:
    """Every active item, in catalog order, with its stock now: the item import's columns plus
    on_hand, reserved and available (which an import ignores)."""
    items = session.scalars(
        select(Item).join(Item.product).where(Item.archived.is_(False))
        .options(contains_eager(Item.product), selectinload(Item.replaced_by))
        .order_by(Product.category, func.lower(Product.name), Product.id, Item.size_rank, Item.size, Item.sku)
    ).all()
    levels: dict[int, stock.Availability] = {}
    for chunk in chunks([item.id for item in items]):
        levels.update(stock.availability(session, chunk))
    rows: list[tuple[object, ...]] = []
    for item in items:
        level = levels[item.id]
        product = item.product
        rows.append((item.sku, escape(product.name), item.size or "", product.category, escape(item.unit),
                     escape(item.supplier), show(item.unit_cost), item.lead_time_days, item.reorder_point,
                     item.reorder_quantity, show(item.returnable), show(item.do_not_use_after), escape(item.notes),
                     escape(product.description), item.replaced_by.sku if item.replaced_by is not None else "",
                     escape(product.keywords), item.loss_rate, level.on_hand, level.reserved, level.available))
    return write_csv(ITEM_HEADER, rows)


def stock_csv(session: Session) -> str:
    """What every bin holds now, by bin code: the stock import's columns (re-imports unchanged)."""
    rows = session.execute(
        select(Bin.code, Bin.name, Bin.zone, Item.sku, Product.name, Item.size, StockLevel.quantity)
        .join(StockLevel, StockLevel.bin_id == Bin.id).join(Item, StockLevel.item_id == Item.id)
        .join(Product, Item.product_id == Product.id)
        .where(StockLevel.quantity > 0).order_by(Bin.code, Item.sku)
    ).all()
    return write_csv(STOCK_HEADER, [(code, escape(name), escape(zone), sku, escape(product), size or "", quantity)
                                    for code, name, zone, sku, product, size, quantity in rows])


def ledger_csv(session: Session, first_day: date, last_day: date) -> Iterator[str]:
    """The ledger's rows from `first_day` to `last_day` (both included, UTC), oldest first, as
    pieces of CSV text (a long ledger is never held in memory whole)."""
    start = datetime.combine(first_day, time.min)
    end = datetime.combine(last_day + timedelta(days=1), time.min)
    source, target = aliased(Bin), aliased(Bin)
    query = (
        select(Movement.id, Movement.created_at, Movement.kind, Item.sku, Product.name, Item.size, source.code,
               target.code, Movement.quantity, Movement.counted, Movement.reason, Movement.reference, User.email,
               Movement.unit_cost)
        .join(Item, Movement.item_id == Item.id).join(Product, Item.product_id == Product.id)
        .join(User, Movement.user_id == User.id)
        .outerjoin(source, Movement.from_bin_id == source.id).outerjoin(target, Movement.to_bin_id == target.id)
        .where(Movement.created_at >= start, Movement.created_at < end)
        .order_by(Movement.created_at, Movement.id)
    )

    def rows() -> Iterator[tuple[object, ...]]:
        for (id, when, kind, sku, product, size, from_bin, to_bin, quantity, counted, reason, reference,
             email, unit_cost) in session.execute(query.execution_options(yield_per=BATCH)):
            yield (id, _when(when), kind, sku, escape(product), size or "", from_bin or "", to_bin or "", quantity,
                   "" if counted is None else counted, escape(reason), escape(reference), escape(email),
                   show(unit_cost))

    return CsvStream(LEDGER_HEADER).lines(rows())


def requests_csv(session: Session) -> Iterator[str]:
    """Every request, newest first, one row per line."""
    requester = aliased(User)
    query = (
        select(Request.id, Request.created_at, requester.email, Request.status, Request.purpose, Event.name,
               Request.needed_by, Request.return_by, Request.handoff, Item.sku, Product.name, Item.size,
               RequestLine.quantity, RequestLine.reserved, RequestLine.backordered, RequestLine.picked,
               RequestLine.issued, RequestLine.returned, RequestLine.consumed, RequestLine.lost,
               RequestLine.damaged, Request.note)
        .join(RequestLine, RequestLine.request_id == Request.id).join(Item, RequestLine.item_id == Item.id)
        .join(Product, Item.product_id == Product.id).join(requester, Request.requester_id == requester.id)
        .outerjoin(Event, Request.event_id == Event.id)
        .order_by(Request.id.desc(), RequestLine.id)
    )

    def rows() -> Iterator[tuple[object, ...]]:
        for row in session.execute(query.execution_options(yield_per=BATCH)):
            (id, created, email, status, purpose, event, needed_by, return_by, handoff, sku, product, size,
             *numbers, note) = row
            yield (request_number(id), _when(created), escape(email), status, purpose, escape(event or ""), show(needed_by),
                   show(return_by), handoff, sku, escape(product), size or "", *numbers, escape(note))

    return CsvStream(REQUEST_HEADER).lines(rows())


def purchase_orders_csv(session: Session) -> Iterator[str]:
    """Every purchase order, newest first, one row per line."""
    creator = aliased(User)
    query = (
        select(PurchaseOrder.id, PurchaseOrder.supplier, PurchaseOrder.status, PurchaseOrder.expected_on,
               PurchaseOrder.ordered_at, creator.email, Event.name, Item.sku, Product.name, Item.size,
               PurchaseOrderLine.quantity, PurchaseOrderLine.received, PurchaseOrderLine.unit_cost)
        .join(PurchaseOrderLine, PurchaseOrderLine.order_id == PurchaseOrder.id)
        .join(Item, PurchaseOrderLine.item_id == Item.id).join(Product, Item.product_id == Product.id)
        .join(creator, PurchaseOrder.created_by_id == creator.id)
        .outerjoin(Event, PurchaseOrder.event_id == Event.id)
        .order_by(PurchaseOrder.id.desc(), PurchaseOrderLine.id)
    )

    def rows() -> Iterator[tuple[object, ...]]:
        for (id, supplier, status, expected_on, ordered_at, email, event, sku, product, size, quantity, received,
             unit_cost) in session.execute(query.execution_options(yield_per=BATCH)):
            yield (order_number(id), escape(supplier), status, show(expected_on), _when(ordered_at), escape(email),
                   escape(event or ""), sku, escape(product), size or "", quantity, received,
                   max(0, quantity - received), show(unit_cost), show(unit_cost * quantity))

    return CsvStream(PO_HEADER).lines(rows())
