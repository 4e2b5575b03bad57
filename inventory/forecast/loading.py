"""What the projection reads (forecast/projection.py), for some items or all, in a handful of
set-based queries whatever the size of the catalog."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, NamedTuple, TypeAlias

from sqlalchemy import (BindParameter, ColumnElement, CompoundSelect, Date, Integer, Row, Select, String, bindparam,
                        case, func, literal_column, null, select, true, union_all)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from ..catalog.models import Item
from ..events.models import Event, KitLine, KitTemplate
from ..purchasing.models import PurchaseOrder, PurchaseOrderLine
from ..requests.models import OPEN, Request, RequestLine
from ..stock.models import StockLevel
from ..timeutil import add_days
from .timing import Settings

MAX_IN_LIST = 10_000

# An open purchase order line as the projection reads it: (item id, outstanding, status, expected on,
# order id), a row of the orders statement or a tuple taken from the flows statement's.
OrderLine: TypeAlias = Sequence[Any]
_Statement: TypeAlias = "Select[Any] | CompoundSelect[Any]"

# What the projection reads of an item.
# A request line that holds or waits for stock (the others are history): it has a partial index.
LIVE_LINE = (RequestLine.reserved > 0) | (RequestLine.backordered > 0)
_ITEM_COLUMNS = (Item.id, Item.sku, Item.unit, Item.supplier, Item.lead_time_days, Item.reorder_point,
                 Item.reorder_quantity, Item.returnable, Item.do_not_use_after, Item.replaced_by_id, Item.archived)


class _EventName(NamedTuple):
    id: int
    name: str


# The statements of a projection. Built once for the items given by id (`bindparam` "ids"): every
# rule that changes an item projects it again in its own transaction, and building the statements
# cost more than running them. `ids` None means every item.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)


def _in(column: InstrumentedAttribute[int], ids: BindParameter[list[int]] | None) -> ColumnElement[bool]:
    return column.in_(ids) if ids is not None else true()


def _demand_statement(ids: BindParameter[list[int]] | None) -> Select[Any]:
    """Open requests whatever their date (what they hold is held now), and handed-over
    returnables (they come back). Lines that hold or wait only: a partial index of their own."""
    return (select(RequestLine.item_id, RequestLine.reserved, RequestLine.backordered, RequestLine.issued,
                   Request.status, Request.needed_by, Request.event_id, Request.id.label("request_id"),
                   case((Item.returnable.is_(True), Request.return_by), else_=None).label("return_by"),
                   Event.name.label("event_name"))
            .join(Request, RequestLine.request_id == Request.id)
            .join(Item, RequestLine.item_id == Item.id)
            .outerjoin(Event, Request.event_id == Event.id)
            .where(_in(RequestLine.item_id, ids),
                   (Request.status.in_(OPEN)) | ((Request.status == "handed_over") & Request.return_by.is_not(None)),
                   LIVE_LINE))


def _orders_statement(ids: BindParameter[list[int]] | None) -> Select[Any]:
    return (select(PurchaseOrderLine.item_id, PurchaseOrderLine.quantity - PurchaseOrderLine.received,
                   PurchaseOrder.status, PurchaseOrder.expected_on, PurchaseOrder.id)
            .join(PurchaseOrder, PurchaseOrderLine.order_id == PurchaseOrder.id)
            .where(_in(PurchaseOrderLine.item_id, ids), PurchaseOrder.status.in_(("draft", "ordered")),
                   PurchaseOrderLine.quantity > PurchaseOrderLine.received)
            .order_by(PurchaseOrder.id))


def _items_statement(ids: BindParameter[list[int]] | None) -> Select[Any]:
    """The items with what they have on hand and their successor's SKU, in one query."""
    stock = (select(StockLevel.item_id, func.sum(StockLevel.quantity).label("quantity"))
             .where(_in(StockLevel.item_id, ids)).group_by(StockLevel.item_id).subquery())
    successor = aliased(Item)
    from .models import ReorderFlag  # the table this projection's flags replace
    flagged = select(ReorderFlag.id).where(ReorderFlag.item_id == Item.id).exists().label("flagged")
    return (select(*_ITEM_COLUMNS, stock.c.quantity, successor.sku.label("successor"), flagged)
            .outerjoin(stock, stock.c.item_id == Item.id)
            .outerjoin(successor, Item.replaced_by_id == successor.id)
            .where(_in(Item.id, ids)))


def _kits_statement(ids: BindParameter[list[int]] | None) -> Select[tuple[int, str]]:
    """The kit templates that list the print pieces near their date (`warn_until`)."""
    return (select(KitLine.item_id, KitTemplate.name).join(KitTemplate, KitLine.kit_id == KitTemplate.id)
            .join(Item, KitLine.item_id == Item.id)
            .where(Item.do_not_use_after <= bindparam("warn_until"), KitTemplate.archived.is_(False),
                   _in(KitLine.item_id, ids))
            .order_by(KitTemplate.name))


def _flows_statement(ids: BindParameter[list[int]] | None) -> CompoundSelect[Any]:
    """Demand and purchase orders in one statement (one round trip fewer in every rule's
    re-projection): the demand's columns, and each order line in them as ("o", item, outstanding,
    -, -, status, expected on, -, order id)."""
    demand = _demand_statement(ids).add_columns(literal_column("'d'").label("source"))
    orders = (select(PurchaseOrderLine.item_id, PurchaseOrderLine.quantity - PurchaseOrderLine.received,
                     null().cast(Integer), null().cast(Integer), PurchaseOrder.status, PurchaseOrder.expected_on,
                     null().cast(Integer), PurchaseOrder.id, null().cast(Date), null().cast(String),
                     literal_column("'o'"))
              .join(PurchaseOrder, PurchaseOrderLine.order_id == PurchaseOrder.id)
              .where(_in(PurchaseOrderLine.item_id, ids), PurchaseOrder.status.in_(("draft", "ordered")),
                     PurchaseOrderLine.quantity > PurchaseOrderLine.received))
    return union_all(demand, orders)


_BY_ID: dict[str, _Statement] = {}


def _statements(by_id: bool) -> dict[str, _Statement]:
    if not by_id:
        return {name: build(None) for name, build in _BUILDERS.items()}
    if not _BY_ID:
        _BY_ID.update({name: build(_IDS) for name, build in _BUILDERS.items()})
        _BY_ID["flows"] = _flows_statement(_IDS)
    return _BY_ID


_BUILDERS: dict[str, Callable[[BindParameter[list[int]] | None], _Statement]] = {
    "demand": _demand_statement, "orders": _orders_statement, "items": _items_statement, "kits": _kits_statement}


class Loaded:
    """What the projection reads, for some items, in a handful of set-based queries."""
    demand: Sequence[Row[Any]]  # rows of the demand statement
    orders: Sequence[OrderLine]  # by order id
    events: dict[int, _EventName]
    items: list[Row[Any]]  # rows of the items statement: the items that can be flagged
    left_out: list[Row[Any]]  # the items asked about by id that cannot be
    on_hand: dict[int, int]
    kits: defaultdict[int, list[str]]  # {item id: names of the kits that list it}
    flagged: set[int]
    successors: dict[int, str]  # {item id: its SKU}, of the items that replace those read

    def __init__(self, session: Session, today: date, settings: Settings, ids: list[int] | None = None) -> None:
        self.today, self.settings = today, settings
        self.horizon_end = add_days(today, settings.horizon_days)
        warn_until = add_days(today, settings.warning_days)
        # Past some thousands an IN list is no cheaper than reading everything (and SQLite caps parameters).
        by_id = ids is not None and len(ids) <= MAX_IN_LIST
        statements = _statements(by_id)
        connection = session.connection()  # Core: the ORM's execution path costs more than these rows

        def run(name: str, **params: Any) -> Sequence[Row[Any]]:
            if by_id:
                given = candidates if name in ("items", "kits") else ids
                assert given is not None  # by id: `ids` were given, and `candidates` are they
                params["ids"] = list(given)
            return connection.execute(statements[name], params).all()

        candidates = set(ids) if by_id and ids is not None else None
        if by_id:
            demand: list[Row[Any]] = []
            orders: list[OrderLine] = []
            for row in run("flows"):
                if row.source == "d":
                    demand.append(row)
                else:  # (item id, outstanding, status, expected on, order id), as the orders statement's
                    orders.append((row.item_id, row.reserved, row.status, row.needed_by, row.request_id))
            self.demand, self.orders = demand, sorted(orders, key=lambda o: o[4])
        else:
            all_demand = run("demand")
            self.demand = all_demand if ids is None else [row for row in all_demand if row.item_id in ids]
            all_orders = run("orders")
            self.orders = all_orders if ids is None else [row for row in all_orders if row[0] in ids]
        self.events = {row.event_id: _EventName(row.event_id, row.event_name)
                       for row in self.demand if row.event_id}
        # Items that can be flagged: demand, under the reorder point, or a print piece near its date.
        if not by_id:
            candidates = {row.item_id for row in self.demand} | _under_reorder_point(session, ids) | \
                _retiring(session, warn_until, ids)
            if ids is not None:
                candidates &= set(ids)
        self.items, self.left_out, self.on_hand = [], [], {}
        asked = set(ids) if ids is not None else None
        self.kits = defaultdict(list)
        self.flagged = set()  # the items that have stored flags now
        if candidates:
            # An archived item is still projected while requests wait for it (it cannot be received).
            waiting = {row.item_id for row in self.demand}
            for row in run("items"):
                if row.flagged:
                    self.flagged.add(row.id)
                self.on_hand[row.id] = row.quantity or 0
                if row.id in candidates and (not row.archived or row.id in waiting):
                    self.items.append(row)
                elif asked is not None and row.id in asked:  # not for flags; asked about, it gets its timeline
                    self.left_out.append(row)
            # Only print pieces near their date name their kits: most projections of a few items have none.
            if not by_id or any(row.do_not_use_after is not None and row.do_not_use_after <= warn_until
                                for row in self.items):
                for item_id, name in run("kits", warn_until=warn_until):
                    self.kits[item_id].append(name)
        self.successors = {row.replaced_by_id: row.successor for row in self.items if row.replaced_by_id}


def _under_reorder_point(session: Session, item_ids: Iterable[int] | None = None) -> set[int]:
    """Ids of the items whose stock plus what is on order is under their reorder point."""
    stock = (select(StockLevel.item_id, func.sum(StockLevel.quantity).label("quantity"))
             .where(StockLevel.item_id.in_(item_ids) if item_ids is not None else true())
             .group_by(StockLevel.item_id).subquery())
    ordered = (select(PurchaseOrderLine.item_id,
                      func.sum(PurchaseOrderLine.quantity - PurchaseOrderLine.received).label("quantity"))
               .join(PurchaseOrder, PurchaseOrderLine.order_id == PurchaseOrder.id)
               .where(PurchaseOrderLine.item_id.in_(item_ids) if item_ids is not None else true(),
                      PurchaseOrder.status == "ordered", PurchaseOrderLine.quantity > PurchaseOrderLine.received)
               .group_by(PurchaseOrderLine.item_id).subquery())
    return set(session.scalars(
        select(Item.id)
        .outerjoin(stock, stock.c.item_id == Item.id).outerjoin(ordered, ordered.c.item_id == Item.id)
        .where(Item.id.in_(item_ids) if item_ids is not None else true(), Item.reorder_point > 0,
               Item.reorder_point > func.coalesce(stock.c.quantity, 0) + func.coalesce(ordered.c.quantity, 0))))


def _retiring(session: Session, warn_until: date, item_ids: Iterable[int] | None = None) -> set[int]:
    return set(session.scalars(select(Item.id).where(
        Item.id.in_(item_ids) if item_ids is not None else true(), Item.archived.is_(False),
        Item.do_not_use_after.is_not(None), Item.do_not_use_after <= warn_until)))
