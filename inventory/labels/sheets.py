"""Label sheet layouts, measured from the manufacturers' templates, and how labels fill them.

The geometry lives here, once: templates/labels/sheet.css turns it into CSS at real sizes (in
or mm) for the browser and for WeasyPrint alike, so the HTML sheet and the PDF cannot drift
apart.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import InvalidInput
from ..text import is_whole_number
from .services import Label


@dataclass(frozen=True)
class Sheet:
    key: str
    name: str
    summary: str
    unit: str  # "in" or "mm": every length below is in this unit
    page_width: float
    page_height: float
    columns: int
    rows: int
    label_width: float
    label_height: float
    margin_top: float
    margin_left: float
    column_gap: float = 0
    row_gap: float = 0
    padding: float = 0
    qr: float = 0  # the QR code's side; by default as tall as the label less its padding
    # Type sizes in points: the bin code (large, for reading across a stockroom) and the name.
    code_pt: float = 18
    name_pt: float = 8

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def qr_size(self) -> float:
        return round(self.qr or self.label_height - 2 * self.padding, 4)

    def length(self, value: float) -> str:
        """A CSS length in this sheet's unit."""
        return f"{round(value, 4):g}{self.unit}"

    @property
    def code_sizes(self) -> list[float]:
        """Type sizes (pt) for codes of up to 7, 10, 14 and 40 characters: long codes get smaller
        type so that they still fit beside the QR code."""
        return [round(self.code_pt * factor, 1) for factor in (1, 0.78, 0.62, 0.5)]

    def check(self) -> Sheet:
        """The labels fit on the page (a guard for whoever adds a sheet)."""
        width = self.margin_left + self.columns * self.label_width + (self.columns - 1) * self.column_gap
        height = self.margin_top + self.rows * self.label_height + (self.rows - 1) * self.row_gap
        if width > self.page_width + 1e-6 or height > self.page_height + 1e-6:
            raise ValueError(f"{self.key}: the labels do not fit on the page")
        return self


SHEETS = {sheet.key: sheet.check() for sheet in (
    # Avery 5160 (and 5260, 5960, 8160...): US Letter, 3 x 10 labels of 2 5/8" x 1",
    # 1/2" top margin, 3/16" side margins, 1/8" between columns.
    Sheet("avery-5160", "Avery 5160", "US Letter · 30 labels, 2⅝ × 1 in", "in",
          page_width=8.5, page_height=11, columns=3, rows=10, label_width=2.625, label_height=1,
          margin_top=0.5, margin_left=0.1875, column_gap=0.125, padding=0.0625, code_pt=20, name_pt=8),
    # Avery L7160: A4, 3 x 7 labels of 63.5 x 38.1 mm, 15.15 mm top margin, 7.21 mm side margins,
    # 2.54 mm between columns.
    Sheet("avery-l7160", "Avery L7160", "A4 · 21 labels, 63.5 × 38.1 mm", "mm",
          page_width=210, page_height=297, columns=3, rows=7, label_width=63.5, label_height=38.1,
          margin_top=15.15, margin_left=7.21, column_gap=2.54, padding=2.5, qr=30, code_pt=16, name_pt=8.5),
    # One 2" x 1" thermal label per page (Zebra, DYMO, Brother...): the page is the label.
    Sheet("thermal-2x1", "Thermal 2 × 1 in", "One 2 × 1 in label per page, for a label printer", "in",
          page_width=2, page_height=1, columns=1, rows=1, label_width=2, label_height=1,
          margin_top=0, margin_left=0, padding=0.05, code_pt=15, name_pt=7),
)}
DEFAULT_SHEET = "avery-5160"


def code_tier(code: str) -> int:
    """Which of `Sheet.code_sizes` a code is printed in."""
    n = len(code)
    return 0 if n <= 7 else 1 if n <= 10 else 2 if n <= 14 else 3


def get_sheet(key: str) -> Sheet:
    try:
        return SHEETS[key]
    except KeyError:
        raise InvalidInput(f"No label sheet called {key!r}; choose one of: {', '.join(SHEETS)}.") from None


def layout(labels: Iterable[Label], sheet: Sheet, first_position: object = 1) -> list[list[Label | None]]:
    """Pages of label positions, left to right and top to bottom. Positions before
    `first_position` on the first page are left blank (None), so that a sheet whose first
    labels were already used can go through the printer again."""
    if not is_whole_number(first_position) \
            or not 1 <= first_position <= sheet.per_page:
        raise InvalidInput(f"The first label position on {sheet.name} is a number from 1 to {sheet.per_page}.")
    labels = list(labels)
    if not labels:
        raise InvalidInput("No labels to print: the selection is empty.")
    cells = [None] * (first_position - 1) + labels
    return [cells[start:start + sheet.per_page] for start in range(0, len(cells), sheet.per_page)]
