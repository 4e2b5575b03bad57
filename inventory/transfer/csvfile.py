"""Reading and writing CSV the way spreadsheets do.

Excel writes CSV in several flavours: UTF-8 with or without a byte-order mark, semicolons instead
of commas where the comma is the decimal mark, Windows line ends; rows pasted from a spreadsheet
are tab-separated. `read_table` takes any of them and returns the rows with their line numbers;
the delimiter is the one under which the first line names the most known columns.

Formula injection: a spreadsheet runs a cell that starts with =, +, -, @ (or a tab or carriage
return) as a formula, so exports prefix such free-text cells with an apostrophe (Excel shows the
text as typed). Imports take that apostrophe off again, and `escape`/`unescape` are exact inverses
(a text that itself starts with an apostrophe before such a character gets a second one), so an
export re-imports to the same text.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ..errors import InvalidInput

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
DELIMITERS = (",", ";", "\t")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape(text: str | None) -> str:
    """Make free text safe to open in a spreadsheet (see the module docstring)."""
    text = text or ""
    if text.startswith(FORMULA_STARTS) or (text.startswith("'") and text[1:2] in FORMULA_STARTS + ("'",)
                                           and len(text) > 1):
        return "'" + text
    return text


def unescape(text: str) -> str:
    """The inverse of `escape`: the apostrophe an export put before a formula character goes."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS + ("'",):
        return text[1:]
    return text


def decode(data: bytes) -> str:
    """Bytes of an uploaded file -> text, refusing what is not UTF-8 (the BOM is dropped)."""
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"The file is too big: {MAX_IMPORT_BYTES // (1024 * 1024)} MB at most. "
                           "Split it into smaller files.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text. In Excel, save it as 'CSV UTF-8 (Comma delimited)'; "
                           "in other programs choose the UTF-8 encoding.") from None
    return text


def header_name(cell: str) -> str:
    """'Unit cost' / 'unit-cost' / ' UNIT_COST ' -> 'unit_cost'."""
    return re.sub(r"[\s\-]+", "_", cell.strip().lower()).strip("_")


@dataclass(frozen=True)
class Columns:
    """The columns one kind of file has: required, optional, accepted and ignored (read-only
    columns an export adds), and other spellings of their names."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    ignored: tuple[str, ...] = ()
    aliases: dict[str, str] | None = None

    @property
    def known(self) -> tuple[str, ...]:
        return self.required + self.optional + self.ignored

    def canonical(self, cell: str) -> str:
        name = header_name(cell)
        return (self.aliases or {}).get(name, name)


@dataclass
class Table:
    columns: list[str]                      # canonical column names, in file order
    rows: list[tuple[int, dict[str, str]]]  # (line number, {column: cell text})
    delimiter: str


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _pick_delimiter(text: str, columns: Columns) -> str:
    first = _first_line(text)
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        cells = next(csv.reader([first], delimiter=delimiter), [])
        known = sum(1 for cell in cells if columns.canonical(cell) in columns.known)
        score = (known, first.count(delimiter))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_table(text: str | None, columns: Columns) -> Table:
    """Parse CSV/TSV text into a Table, refusing a file whose header is wrong in words a user
    can act on. Blank lines are skipped; each row keeps the line number it starts on."""
    text = (text or "").lstrip("\ufeff").replace("\x00", "")
    if len(text.encode("utf-8")) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"The file is too big: {MAX_IMPORT_BYTES // (1024 * 1024)} MB at most. "
                           "Split it into smaller files.")
    if not text.strip():
        raise InvalidInput("The file is empty. Start from the template: a header line, then one line per row.")
    delimiter = _pick_delimiter(text, columns)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header, rows, line = None, [], 0
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = _check_header(cells, columns)
                continue
            if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header):]):
                rows.append((start, {"__error__": f"has {len(cells)} cells but the header names {len(header)} "
                                                  "columns (a separator inside a value? put it in quotes)"}))
                continue
            cells = cells + [""] * (len(header) - len(cells))
            rows.append((start, {name: cell for name, cell in zip(header, cells)}))
            if len(rows) > MAX_IMPORT_ROWS:
                raise InvalidInput(f"The file has more than {MAX_IMPORT_ROWS:,} rows; split it into smaller files.")
    except csv.Error as error:
        raise InvalidInput(f"Line {reader.line_num} cannot be read as CSV: {error}.") from None
    if header is None or not rows:  # no header: no rows either
        raise InvalidInput("The file has no rows below its header line.")
    return Table(header, rows, delimiter)


def _check_header(cells: list[str], columns: Columns) -> list[str]:
    names = [columns.canonical(cell) for cell in cells]
    while names and not names[-1]:  # trailing empty cells of a spreadsheet export
        names.pop()
    expected = ", ".join(columns.required + columns.optional)
    missing = [name for name in columns.required if name not in names]
    unknown = [cell.strip() for cell, name in zip(cells, names) if name not in columns.known]
    if missing and len(missing) == len(columns.required) and not any(n in columns.known for n in names):
        raise InvalidInput(f"The first line must name the columns: {expected}. "
                           "Download the template to see the layout.")
    if missing:
        raise InvalidInput(f"Column(s) missing: {', '.join(missing)}. The columns are: {expected}.")
    if unknown:
        shown = ", ".join(repr(cell) if cell else "(an empty header cell)" for cell in unknown)
        raise InvalidInput(f"Unknown column(s): {shown}. The columns are: {expected}.")
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InvalidInput(f"Column(s) named twice: {', '.join(twice)}.")
    return names


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text for a spreadsheet: UTF-8 with a byte-order mark (so Excel reads accents right),
    commas, Windows line ends."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


class CsvStream:
    """Rows turned into CSV text piece by piece, for exports too long to build in memory."""

    def __init__(self, header: Sequence[str]) -> None:
        self.header = header

    def lines(self, rows: Iterable[Sequence[object]]) -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(self.header)
        for n, row in enumerate(rows, 1):
            writer.writerow(row)
            if n % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
