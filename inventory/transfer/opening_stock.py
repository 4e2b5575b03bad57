"""Importing stock per bin: what each bin holds, one row per SKU and bin.

The quantity is what the bin holds. Where the bin holds none of the item yet, the quantity is
booked as received (opening stock); where it already holds some, the row is a count and the
difference is booked, as a stock count would book it; an equal quantity books nothing. So the
ledger stays the source of truth (`flask check` agrees), and importing the same file twice, or
re-importing the stock export, changes nothing.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.models import User
from ..bins.models import CODE_PATTERN, DISPATCH_CODE, Bin, normalize_code
from ..catalog.models import Item, normalize_sku
from ..holds.backorders import fill_backorders, shrink_overbooked
from ..holds.locks import lock_items
from ..requests.models import OPEN, Request, RequestLine
from ..stock import booking
from ..stock.models import StockLevel
from ..text import clean
from . import fields as cell
from .chunks import chunks
from .csvfile import Columns, Table
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
    new_bins: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (name, zone)
    # (row, item, bin code, current quantity)
    bookings: list[tuple[StockRow, Item, str, int]] = field(default_factory=list)
    items: dict[int, Item] = field(default_factory=dict)  # item id -> Item


def parse_row(line: int, cells: dict[str, str]) -> StockRow:
    problems: list[str] = []
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
    assert quantity is not None  # a missing or bad quantity is a problem above
    return StockRow(line, sku, code, quantity, name, zone)


def _current_levels(session: Session, item_ids: Iterable[int], lock: bool) -> dict[tuple[int, int], int]:
    """(item id, bin id) -> quantity for these items; with `lock`, the rows are locked (PostgreSQL)."""
    levels: dict[tuple[int, int], int] = {}
    for chunk in chunks(sorted(item_ids)):
        query = select(StockLevel.item_id, StockLevel.bin_id, StockLevel.quantity).where(StockLevel.item_id.in_(chunk))
        if lock:
            # (item, bin) order, after the items (inventory/database.py)
            query = query.order_by(StockLevel.item_id, StockLevel.bin_id).with_for_update()
        for item_id, bin_id, quantity in session.execute(query):
            levels[(item_id, bin_id)] = quantity
    return levels


def plan(session: Session, table: Table, create_bins: bool = False, lock: bool = False) -> StockPlan:
    """Check every row against the file, the catalog and the bins; say what importing would book.
    Reads only (with `lock`, inside a write transaction, it locks the items and their levels)."""
    report = ImportReport("stock", rows=len(table.rows))
    result = StockPlan(report)
    rows: list[StockRow] = []
    first_line: dict[tuple[str, str], int] = {}  # (sku, bin code) -> line
    for line, row in parsed_rows(table, report, parse_row):
        key = (row.sku, row.bin_code)
        if key in first_line:
            report.bad(line, f"{row.sku} in {row.bin_code}",
                       f"{row.sku} in bin {row.bin_code} is also on line {first_line[key]}")
            continue
        first_line[key] = line
        rows.append(row)

    items: dict[str, Item] = {}
    for chunk in chunks({row.sku for row in rows}):
        items.update({item.sku: item for item in session.scalars(select(Item).where(Item.sku.in_(chunk)))})
    bins: dict[str, Bin] = {}
    for chunk in chunks({row.bin_code for row in rows}):
        bins.update({bin.code: bin for bin in session.scalars(select(Bin).where(Bin.code.in_(chunk)))})
    if lock:
        for chunk in chunks(sorted(item.id for item in items.values())):
            lock_items(session, chunk)  # ascending ids across chunks too: two imports never deadlock
    levels = _current_levels(session, [item.id for item in items.values()], lock)
    result.items = {item.id: item for item in items.values()}

    for row in rows:
        where = f"{row.sku} in {row.bin_code}"
        item, bin = items.get(row.sku), bins.get(row.bin_code)
        problems: list[str] = []
        if item is None:
            problems.append(f"unknown SKU {row.sku} (import it with the items first)")
        if bin is None and not create_bins:
            problems.append(f"unknown bin {row.bin_code} (tick 'create bins' to create it)")
        elif bin is None and not CODE_PATTERN.match(row.bin_code):
            problems.append(f"bin code {row.bin_code!r} is not valid (up to 20 letters, digits, dashes or dots)")
        if problems:
            report.bad(row.line, where, "; ".join(problems))
            continue
        assert item is not None  # an unknown SKU is a problem above
        current = levels.get((item.id, bin.id), 0) if bin is not None else 0
        if row.quantity == current:
            report.counts["unchanged"] += 1
            continue
        # An export lists DISPATCH; as long as it is unchanged that is fine. A file is stricter than
        # a count (which may find picked stock missing there): it never changes DISPATCH.
        if row.bin_code == DISPATCH_CODE:
            report.bad(row.line, where, "DISPATCH holds picked stock for requests: it changes only by picking "
                                        "and hand-over")
            continue
        if item.archived:
            report.bad(row.line, where, f"{row.sku} is archived; restore it before booking stock into it")
            continue
        # The rest are the booking's own refusals (booking.booking_refusal), in its words.
        refusal = bin is not None and booking.booking_refusal(
            "receive" if current == 0 else "count", item, quantity=abs(row.quantity - current),
            counted=None if current == 0 else row.quantity,
            to_bin=bin if row.quantity > current else None, from_bin=None if row.quantity > current else bin)
        if refusal:
            report.bad(row.line, where, refusal.message.rstrip("."))
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


def apply(session: Session, result: StockPlan, user: User) -> None:
    """Book a plan without bad rows, inside the caller's write transaction (which `plan` ran in with
    lock=True), through booking.book_many: the same refusals, ledger rows and stock levels as
    `stock.services.receive` and `count`, in batches of statements, not one per row, so that
    10,000 rows take seconds."""
    bins: dict[str, Bin] = {}
    for code, (name, zone) in result.new_bins.items():
        bins[code] = Bin(code=code, name=name, zone=zone, archived=False)
        session.add(bins[code])
    session.flush()
    for chunk in chunks({code for _row, _item, code, _current in result.bookings} - set(bins)):
        bins.update({bin.code: bin for bin in session.scalars(select(Bin).where(Bin.code.in_(chunk)))})

    bookings: list[booking.Booking] = []
    levels: dict[tuple[int, int], int] = {}
    more: set[int] = set()  # ids of the items whose stock grows
    less: set[int] = set()  # and shrinks
    for row, item, code, current in result.bookings:
        bin = bins[code]
        levels[(item.id, bin.id)] = current  # read under its lock by plan (0: no row yet)
        if current == 0:
            bookings.append(booking.Booking("receive", item, row.quantity, to_bin=bin, reason="opening stock",
                                            reference=REFERENCE))
            more.add(item.id)
        else:
            difference = row.quantity - current
            bookings.append(booking.Booking(
                "count", item, abs(difference), counted=row.quantity, reference=REFERENCE,
                reason=f"stock import: counted {row.quantity}, expected {current}",
                to_bin=bin if difference > 0 else None, from_bin=None if difference > 0 else bin))
            (more if difference > 0 else less).add(item.id)
    booking.book_many(session, bookings, user, levels=levels, objects=False)
    session.flush()
    for item_id in sorted(less):
        shrink_overbooked(session, result.items[item_id], user)  # counted short: newest holds wait again
    for item_id in sorted(_with_backorders(session, more)):
        fill_backorders(session, result.items[item_id])  # new stock goes to waiting requests first


def _with_backorders(session: Session, item_ids: Iterable[int]) -> set[int]:
    found: set[int] = set()
    for chunk in chunks(sorted(item_ids)):
        found.update(session.scalars(
            select(RequestLine.item_id).join(Request, RequestLine.request_id == Request.id)
            .where(RequestLine.item_id.in_(chunk), RequestLine.backordered > 0, Request.status.in_(OPEN))
            .distinct()
        ))
    return found
