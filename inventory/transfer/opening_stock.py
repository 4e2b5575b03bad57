"""Importing stock per bin: what each bin holds, one row per SKU and bin.

The quantity is what the bin holds. Where the bin holds none of the item yet, the quantity is
booked as received (opening stock); where it already holds some, the row is a count and the
difference is booked, as a stock count would book it; an equal quantity books nothing. So the
ledger stays the source of truth (`flask check` agrees), and importing the same file twice, or
re-importing the stock export, changes nothing.
"""
from dataclasses import dataclass, field

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..bins.models import CODE_PATTERN, DISPATCH_CODE, Bin, normalize_code
from ..catalog.models import Item
from ..catalog.services import normalize_sku
from ..requests.models import OPEN, Request, RequestLine
from ..requests.services import fill_backorders, lock_items, shrink_overbooked
from ..stock.models import Movement, StockLevel
from ..stock.services import unit_cost_now
from ..text import clean
from ..timeutil import utcnow
from . import fields as cell
from .csvfile import Columns
from .items import _chunks
from .report import Change, ImportReport, parsed_rows

COLUMNS = Columns(
    required=("sku", "bin", "quantity"),
    optional=("bin_name", "zone"),
    ignored=("product", "size", "name", "item"),
    aliases={"bin_code": "bin", "qty": "quantity", "on_hand": "quantity"},
)
REFERENCE = "CSV import"


@dataclass
class StockRow:
    line: int
    sku: str
    bin_code: str
    quantity: int
    bin_name: str = ""
    zone: str = ""


@dataclass
class StockPlan:
    report: ImportReport
    new_bins: dict = field(default_factory=dict)      # code -> (name, zone)
    bookings: list = field(default_factory=list)      # (row, item, bin code, current quantity)
    items: dict = field(default_factory=dict)         # item id -> Item


def parse_row(line, cells):
    problems = []
    sku = normalize_sku(clean(cells["sku"]))
    if not sku:
        problems.append("SKU is missing")
    code = normalize_code(clean(cells["bin"]))
    if not code:
        problems.append("bin is missing")
    quantity = None
    if not clean(cells["quantity"]):
        problems.append("quantity is missing")
    else:
        try:
            quantity = cell.whole_number(cells["quantity"], "quantity")
        except ValueError as error:
            problems.append(str(error))
    try:
        name = cell.text(cells.get("bin_name", ""), "bin name", 120)
        zone = cell.text(cells.get("zone", ""), "zone", 60)
    except ValueError as error:
        problems.append(str(error))
        name = zone = ""
    if problems:
        raise ValueError("; ".join(problems))
    return StockRow(line, sku, code, quantity, name, zone)


def _current_levels(session, item_ids, lock):
    """(item id, bin id) -> quantity for these items; with `lock`, the rows are locked (PostgreSQL)."""
    levels = {}
    for chunk in _chunks(sorted(item_ids)):
        query = select(StockLevel.item_id, StockLevel.bin_id, StockLevel.quantity).where(StockLevel.item_id.in_(chunk))
        if lock:
            # (item, bin) order, after the items (inventory/database.py)
            query = query.order_by(StockLevel.item_id, StockLevel.bin_id).with_for_update()
        for item_id, bin_id, quantity in session.execute(query):
            levels[(item_id, bin_id)] = quantity
    return levels


def plan(session, table, create_bins=False, lock=False):
    """Check every row against the file, the catalog and the bins; say what importing would book.
    Reads only (with `lock`, inside a write transaction, it locks the items and their levels)."""
    report = ImportReport("stock", rows=len(table.rows))
    result = StockPlan(report)
    rows, first_line = [], {}
    for line, row in parsed_rows(table, report, parse_row):
        key = (row.sku, row.bin_code)
        if key in first_line:
            report.bad(line, f"{row.sku} in {row.bin_code}",
                       f"{row.sku} in bin {row.bin_code} is also on line {first_line[key]}")
            continue
        first_line[key] = line
        rows.append(row)

    items = {}
    for chunk in _chunks({row.sku for row in rows}):
        items.update({item.sku: item for item in session.scalars(select(Item).where(Item.sku.in_(chunk)))})
    bins = {}
    for chunk in _chunks({row.bin_code for row in rows}):
        bins.update({bin.code: bin for bin in session.scalars(select(Bin).where(Bin.code.in_(chunk)))})
    if lock:
        for chunk in _chunks(sorted(item.id for item in items.values())):
            lock_items(session, chunk)  # ascending ids across chunks too: two imports never deadlock
    levels = _current_levels(session, [item.id for item in items.values()], lock)
    result.items = {item.id: item for item in items.values()}

    for row in rows:
        where = f"{row.sku} in {row.bin_code}"
        item, bin = items.get(row.sku), bins.get(row.bin_code)
        problems = []
        if item is None:
            problems.append(f"unknown SKU {row.sku} (import it with the items first)")
        if bin is None and not create_bins:
            problems.append(f"unknown bin {row.bin_code} (tick 'create bins' to create it)")
        elif bin is None and not CODE_PATTERN.match(row.bin_code):
            problems.append(f"bin code {row.bin_code!r} is not valid (up to 20 letters, digits, dashes or dots)")
        if problems:
            report.bad(row.line, where, "; ".join(problems))
            continue
        current = levels.get((item.id, bin.id), 0) if bin is not None else 0
        if row.quantity == current:
            report.counts["unchanged"] += 1
            continue
        if row.bin_code == DISPATCH_CODE:  # an export lists it; as long as it is unchanged that is fine
            report.bad(row.line, where, "DISPATCH holds picked stock for requests: it changes only by picking "
                                        "and hand-over")
            continue
        if item.archived:
            report.bad(row.line, where, f"{row.sku} is archived; restore it before booking stock into it")
            continue
        if bin is not None and bin.archived and row.quantity > current:
            report.bad(row.line, where, f"bin {bin.code} is archived; restore it before putting stock in it")
            continue
        if bin is None and row.bin_code not in result.new_bins:
            result.new_bins[row.bin_code] = (row.bin_name, row.zone)
            report.counts["new_bins"] += 1
        result.bookings.append((row, item, row.bin_code, current))
        if current == 0:
            report.counts["received"] += 1
            report.changes.append(Change(row.line, where, "new", (f"receive {row.quantity} into {row.bin_code}"
                                                                  + (" (new bin)" if bin is None else ""),)))
        else:
            report.counts["counted"] += 1
            report.changes.append(Change(row.line, where, "changed", (("quantity", str(current), str(row.quantity)),)))
    report.in_file_order()
    return result


def _upsert(session):
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(StockLevel)
    return statement.on_conflict_do_update(
        index_elements=["item_id", "bin_id"],
        set_={"quantity": StockLevel.__table__.c.quantity + statement.excluded.quantity},
    )


def apply(session, result, user):
    """Book a plan without bad rows, inside the caller's write transaction (which `plan` ran in with
    lock=True). Statements go out in batches, not one per row, so 10,000 rows take seconds: the
    same ledger rows and stock levels that `stock.services.receive` and `count` write."""
    bins = {}
    for code, (name, zone) in result.new_bins.items():
        bins[code] = Bin(code=code, name=name, zone=zone)
        session.add(bins[code])
    session.flush()
    for chunk in _chunks({code for _row, _item, code, _current in result.bookings} - set(bins)):
        bins.update({bin.code: bin for bin in session.scalars(select(Bin).where(Bin.code.in_(chunk)))})

    now = utcnow()
    received, counted, movements = [], [], []
    more, less = set(), set()
    for row, item, code, current in result.bookings:
        bin_id = bins[code].id
        movement = {"item_id": item.id, "user_id": user.id, "reference": REFERENCE, "created_at": now,
                    "from_bin_id": None, "to_bin_id": None, "counted": None,
                    "unit_cost": unit_cost_now(item)}
        if current == 0:
            received.append({"item_id": item.id, "bin_id": bin_id, "quantity": row.quantity})
            movement.update(kind="receive", to_bin_id=bin_id, quantity=row.quantity, reason="opening stock")
            more.add(item.id)
        else:
            counted.append({"b_item_id": item.id, "b_bin_id": bin_id, "b_quantity": row.quantity})
            difference = row.quantity - current
            movement.update(kind="count", quantity=abs(difference), counted=row.quantity,
                            reason=f"stock import: counted {row.quantity}, expected {current}",
                            **({"to_bin_id": bin_id} if difference > 0 else {"from_bin_id": bin_id}))
            (more if difference > 0 else less).add(item.id)
        movements.append(movement)
    if received:
        session.execute(_upsert(session), received)
    if counted:
        session.execute(
            update(StockLevel.__table__)
            .where(StockLevel.__table__.c.item_id == bindparam("b_item_id"),
                   StockLevel.__table__.c.bin_id == bindparam("b_bin_id"))
            .values(quantity=bindparam("b_quantity")),
            counted,
        )
    if movements:
        session.execute(insert(Movement.__table__), movements)
    session.flush()
    for item_id in sorted(less):
        shrink_overbooked(session, result.items[item_id], user)  # counted short: newest holds wait again
    for item_id in sorted(_with_backorders(session, more)):
        fill_backorders(session, result.items[item_id])  # new stock goes to waiting requests first


def _with_backorders(session, item_ids):
    found = set()
    for chunk in _chunks(sorted(item_ids)):
        found.update(session.scalars(
            select(RequestLine.item_id).join(Request, RequestLine.request_id == Request.id)
            .where(RequestLine.item_id.in_(chunk), RequestLine.backordered > 0, Request.status.in_(OPEN))
            .distinct()
        ))
    return found
