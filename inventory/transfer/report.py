"""What an import found: the rows it would create or change, and every bad row with its reason."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..catalog.models import normalize_sku
from ..errors import DomainError
from ..text import clean
from .csvfile import Table

R = TypeVar("R")


@dataclass(frozen=True)
class BadRow:
    line: int
    key: str      # the SKU (and bin) the row is about, as written
    reason: str


@dataclass(frozen=True)
class Change:
    line: int
    key: str
    action: str   # "new" or "changed"
    details: tuple[Any, ...] = ()  # ("unit cost", "2.50", "2.80"), ... for a change; words for a new row

    def describe(self) -> str:
        if self.action == "new":
            return "; ".join(self.details)
        return "; ".join(f"{what}: {old or '(empty)'} → {new or '(empty)'}" for what, old, new in self.details)


@dataclass
class ImportReport:
    kind: str                 # "items" or "stock"
    rows: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.bad_rows

    def bad(self, line: int, key: str, reason: str) -> None:
        self.bad_rows.append(BadRow(line, key, reason))

    def in_file_order(self) -> ImportReport:
        """Sort bad rows and changes by line (they are found group by group)."""
        self.bad_rows.sort(key=lambda bad: bad.line)
        self.changes.sort(key=lambda change: change.line)
        return self

    def summary(self) -> str:
        """One sentence a person reads: what was (or would be) done."""
        c = self.counts
        if self.kind == "items":
            parts = [f"{c['new_items']} new item(s) in {c['new_products']} new product(s)",
                     f"{c['new_sizes']} new size(s) of existing products",
                     f"{c['changed']} changed", f"{c['unchanged']} unchanged"]
        else:
            parts = [f"{c['received']} row(s) booked as received", f"{c['counted']} counted (a difference booked)",
                     f"{c['unchanged']} unchanged", f"{c['new_bins']} new bin(s)"]
        text = ", ".join(parts)
        if self.bad_rows:
            text += f"; {len(self.bad_rows)} bad row(s)"
        return text


class ImportRefused(DomainError):
    """An import with bad rows writes nothing; `report` says which rows and why."""

    status = 400

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(f"Nothing was imported: {len(report.bad_rows)} bad row(s). Fix them and try again.")


def parsed_rows(table: Table, report: ImportReport,
                parse_row: Callable[[int, dict[str, str]], R]) -> Iterator[tuple[int, R]]:
    """(line, row) for each row of `table` that `parse_row` takes; every other row goes into
    `report` as bad, with its line number and reason."""
    for line, cells in table.rows:
        if "__error__" in cells:
            report.bad(line, "", cells["__error__"])
            continue
        try:
            yield line, parse_row(line, cells)
        except ValueError as error:
            report.bad(line, normalize_sku(clean(cells.get("sku", ""))), str(error))
