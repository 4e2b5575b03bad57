"""CSV downloads of the reports: the same rows as the page, safe to open in a spreadsheet."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): a rep
# named "=HYPERLINK(...)" must arrive as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A report as a CSV file: (header, rows).
Table = tuple[list[str], list[list[Any]]]


def cell(value: object) -> str | int | float:
    """One CSV cell: numbers as plain numbers, money with two decimals, None empty, and text
    that a spreadsheet would take for a formula prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Response:
    """A CSV attachment (UTF-8 with a byte order mark, so Excel reads the dashes in "Polo — M")."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# The reports as (header, rows): the same columns as their pages. ---------------------------

USAGE_HEADER = ["requests", "issued", "returned", "used", "lost", "damaged", "still out", "cost"]


def _usage(usage: Any) -> list[Any]:
    return [usage.requests, usage.issued, usage.returned, usage.used, usage.lost, usage.damaged, usage.still_out,
            usage.cost]


def events(report: Any, budgets: Mapping[int, Any] | None = None) -> Table:
    """`budgets`: {event id: its budget and expected cost (budgets.event_spend.EventCost)}."""
    budgets = budgets or {}
    rows = []
    for entry in report.rows:
        event = entry.event
        kits = "; ".join(f"{count} x {kit.name}" for kit, count in entry.kits)
        cost = budgets.get(event.id) if event else None
        rows.append([entry.name, event.starts_on if event else None, event.ends_on if event else None,
                     event.place if event else None, kits, *_usage(entry.usage), entry.kit_cost,
                     cost.budget if cost else None, cost.expected if cost else None,
                     cost.over_by if cost and cost.over else None])
    rows.append(["Total", None, None, None, None, *_usage(report.total),
                 sum((entry.kit_cost for entry in report.rows), Decimal("0.00")), None, None, None])
    return (["event", "starts on", "ends on", "place", "kits", *USAGE_HEADER, "of which kits", "budget",
             "expected cost", "over budget by"], rows)


def reps(report: Any) -> Table:
    rows = [[row.rep.display_name, row.rep.email, *_usage(row.usage)] for row in report.rows]
    rows.append(["Total", None, *_usage(report.total)])
    return ["rep", "e-mail", *USAGE_HEADER], rows


def items(report: Any) -> Table:
    # The unit cost recorded when the item went out (their average per unit when it went out at
    # several), as on the page.
    rows = [[row.item.sku, row.item.name, row.item.category, row.usage.unit_cost, *_usage(row.usage)]
            for row in report.rows]
    rows.append(["Total", None, None, None, *_usage(report.total)])
    return ["sku", "item", "category", "unit cost", *USAGE_HEADER], rows


def over_time(size: str, buckets: Iterable[Any]) -> Table:
    rows = [[bucket.first, bucket.last, *_usage(bucket.usage)] for bucket in buckets]
    return [f"{size} from", f"{size} to", *USAGE_HEADER], rows


def stock_value(value: Any) -> Table:
    rows = [[row.label, row.items, row.units, row.value] for row in value.rows]
    rows.append(["Total", value.total.items, value.total.units, value.total.value])
    return ["category", "items", "units on hand", "value"], rows


def slow_movers(rows: Iterable[Any], today: date) -> Table:
    return (["sku", "item", "category", "on hand", "unit cost", "value", "last movement", "days since"],
            [[row.item.sku, row.item.name, row.item.category, row.on_hand, row.item.unit_cost, row.value,
              row.last_moved.date() if row.last_moved else None,
              (today - row.last_moved.date()).days if row.last_moved else None] for row in rows])


def expiring(rows: Iterable[Any], today: date) -> Table:
    return (["sku", "item", "category", "do not use after", "days left", "on hand", "held", "unit cost", "value",
             "bins"],
            [[row.item.sku, row.item.name, row.item.category, row.item.do_not_use_after, row.days_left(today),
              row.on_hand, row.held, row.item.unit_cost, row.value,
              " ".join(f"{code}:{quantity}" for code, quantity in row.bins)] for row in rows])


def service_level(level: Any) -> Table:
    """Every request due in the period: met, missed (and why) or pending (not due yet)."""
    return (["request", "needed by", "rep", "event", "status", "handed over", "units asked", "units handed over",
             "result", "why"],
            [[d.number, d.needed_by, d.requester.display_name, d.event.name if d.event else None, d.status,
              d.handed_at.date() if d.handed_at else None, d.asked, d.issued, result,
              "; ".join(d.reasons) if result == "missed" else None]
             for d, result in level.deliveries])
