"""Import and export rules: the pages, the commands (and anything else) call these.

An import is checked whole before anything is written: `import_items` and `import_stock` with
`dry_run=True` only read, and return a report of what would be created or changed and of every
bad row (line number and reason). Without `dry_run` the same checks run again inside one write
transaction, against the database as it is then (a preview may be stale), and either everything
is written or, when any row is bad, nothing (ImportRefused carries the report).
"""
from __future__ import annotations

import base64
import binascii
import zlib

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..auth.models import User
from ..database import unit_of_work
from ..forecast import stored
from ..forecast.changes import everything_changed
from ..errors import Conflict, InvalidInput
from . import items as item_import
from . import opening_stock
from .csvfile import MAX_IMPORT_BYTES, Table, decode, read_table
from .report import ImportRefused, ImportReport  # noqa: F401  (part of this module's interface)

KINDS = {"items": item_import, "stock": opening_stock}


def read_upload(data: bytes) -> str:
    """An uploaded file's bytes -> text (UTF-8, with or without BOM), or InvalidInput."""
    return decode(data)


def import_items(session: Session, text: str | None, dry_run: bool = False) -> ImportReport:
    """Create and update items (and their products and sizes) from CSV text; see transfer.items.

    All rows or none: any bad row refuses the whole file (ImportRefused with the report). A dry
    run only reads."""
    table = read_table(text, item_import.COLUMNS)
    if dry_run:
        try:
            return item_import.plan(session, table).report
        finally:
            session.rollback()  # end the read; a dry run never writes
    return _write_items(session, table)


@unit_of_work
def _write_items(session: Session, table: Table) -> ImportReport:
    try:
        stored.lock_everything(session)  # many items change: locked first, in the order a projection takes
        plan = item_import.plan(session, table)
        if not plan.report.ok:
            raise ImportRefused(plan.report)
        item_import.apply(session, plan)
        everything_changed(session)  # settings of many items at once: the forecast projects all again
        session.flush()
    except IntegrityError:
        raise Conflict("Someone changed the catalog while this file was imported (a SKU or size was added at "
                       "the same time). Nothing was imported; check the file again.") from None
    plan.report.written = True
    return plan.report


def import_stock(session: Session, text: str | None, user: User, dry_run: bool = False,
                 create_bins: bool = False) -> ImportReport:
    """Book what each bin holds from CSV text, as `user`; see transfer.opening_stock.

    Empty bins are booked as received (opening stock), others as a count of the difference; with
    `create_bins`, unknown bins are created on the way. All rows or none. A dry run only reads."""
    table = read_table(text, opening_stock.COLUMNS)
    if dry_run:
        try:
            return opening_stock.plan(session, table, create_bins=create_bins).report
        finally:
            session.rollback()
    return _write_stock(session, table, user, create_bins)


@unit_of_work
def _write_stock(session: Session, table: Table, user: User, create_bins: bool) -> ImportReport:
    try:
        plan = opening_stock.plan(session, table, create_bins=create_bins, lock=True)
        if not plan.report.ok:
            raise ImportRefused(plan.report)
        opening_stock.apply(session, plan, user)
        session.flush()
    except IntegrityError:
        raise Conflict("Someone created one of these bins while this file was imported. Nothing was imported; "
                       "check the file again.") from None
    plan.report.written = True
    return plan.report


# The file between the dry run and the confirmation travels in the page itself (a hidden field),
# compressed: no server-side state, so any worker on any host can take the confirmation.

def pack(text: str) -> str:
    return base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8"), 6)).decode("ascii")


def unpack(packed: str | None) -> str:
    try:
        data = base64.urlsafe_b64decode((packed or "").encode("ascii"))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(data, MAX_IMPORT_BYTES + 1)
        if len(raw) > MAX_IMPORT_BYTES or inflater.unconsumed_tail:
            raise InvalidInput("The file is too big.")
        return raw.decode("utf-8")
    except (binascii.Error, zlib.error, UnicodeDecodeError, ValueError):
        raise InvalidInput("The checked file did not come back intact; upload it again.") from None
