"""Limits the rules share, so that the pages, the JSON API and the commands refuse the same input."""
from __future__ import annotations

from collections.abc import Sized
from typing import TypeVar

from .errors import InvalidInput
from .text import is_whole_number

# Lines in one count, request, kit or purchase order: far more than any real one has, few enough
# that one operation stays well under a second (5,000 count lines once took a worker down).
MAX_LINES = 200
# Quantities are INTEGER columns (at most 2,147,483,647 on PostgreSQL, 2**63 - 1 on SQLite): a
# larger number from a typo or a script must be refused as bad input, not fail in the database.
MAX_QUANTITY = 1_000_000

L = TypeVar("L", bound=Sized)


def check_line_count(lines: L, what: str) -> L:
    """Refuse more than MAX_LINES lines: `what` names the whole, e.g. "A count"."""
    count = len(lines)
    if count > MAX_LINES:
        raise InvalidInput(f"{what} can have at most {MAX_LINES} lines (this one has {count:,}): "
                           "split it in two.")
    return lines


def positive_quantity(value: object, what: str = "Quantity") -> int:
    """`value` when it is a whole number from 1 to MAX_QUANTITY; InvalidInput otherwise, its message
    starting with `what` ("Quantity of PEN-1 must be more than zero."). The one check of a quantity
    to receive, move, pick, order or request."""
    if not is_whole_number(value):
        raise InvalidInput(f"{what} must be a whole number.")
    if value <= 0:
        raise InvalidInput(f"{what} must be more than zero.")
    if value > MAX_QUANTITY:
        raise InvalidInput(f"{what} must be at most {MAX_QUANTITY:,}.")
    return value
