"""Limits the rules share, so that the pages, the JSON API and the commands refuse the same input."""
from __future__ import annotations

from collections.abc import Sized
from decimal import Decimal

from .errors import InvalidInput
from .text import is_whole_number

# Lines in one count, request, kit or purchase order: far more than any real one has, few enough
# that one operation stays well under a second (5,000 count lines once took a worker down).
MAX_LINES = 200
# Quantities are INTEGER columns (at most 2,147,483,647 on PostgreSQL, 2**63 - 1 on SQLite): a
# larger number from a typo or a script must be refused as bad input, not fail in the database.
MAX_QUANTITY = 1_000_000
# Unit costs are Numeric(10, 2) columns (an item's, a purchase order line's): at most this.
MAX_UNIT_COST = Decimal("99999999.99")


def check_line_count(lines: Sized, what: str) -> Sized:
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

# Budgets and spend limits are Numeric(12, 2) money columns: at most this, two decimals, never negative.
MAX_MONEY = Decimal("10000000")


def money_amount(value: object, what: str, about: object = None) -> Decimal | None:
    """A budget or a spend limit: None when blank; else an amount of money from 0 to MAX_MONEY
    with at most two decimals ("2,000", "2000.50", "1 500,5" with a decimal comma). InvalidInput in
    words otherwise, its message starting with `what` ("The budget must be ...")."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be an amount of money, like 2,000 or 2000.50.", about)
    if isinstance(value, (int, Decimal)):
        amount = Decimal(value)
    else:
        text = str(value).strip().replace("€", "").replace("$", "").replace("£", "").strip()
        if not text:
            return None
        text = text.replace(" ", "").replace("\u00a0", "").replace("'", "")
        if "," in text and "." not in text and len(text.rsplit(",", 1)[1]) != 3:
            text = text.replace(",", ".")  # a decimal comma: 1500,50
        text = text.replace(",", "")  # thousands: 2,000 or 2,000.50
        try:
            amount = Decimal(text)
        except ArithmeticError:
            raise InvalidInput(f"{what} must be an amount of money, like 2,000 or 2000.50.", about) from None
    if not amount.is_finite():
        raise InvalidInput(f"{what} must be an amount of money, like 2,000 or 2000.50.", about)
    if amount < 0:
        raise InvalidInput(f"{what} cannot be negative.", about)
    if amount > MAX_MONEY:
        raise InvalidInput(f"{what} must be at most {MAX_MONEY:,.0f}.", about)
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput(f"{what} can have at most two decimals (cents).", about)
    return amount.quantize(Decimal("0.01"))


def percent(value: object, what: str, about: object = None) -> int:
    """A whole percentage from 0 to 100 (an item's expected loss rate)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        value = value.strip()[:-1].strip()
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not is_whole_number(value):
        raise InvalidInput(f"{what} must be a whole percentage from 0 to 100.", about)
    if not 0 <= value <= 100:
        raise InvalidInput(f"{what} must be from 0 to 100 %.", about)
    return value
