"""Cell values -> typed values, each refusal a reason a person can act on ("unit cost 'abc' is not a
number"). Raises ValueError with that reason; the caller adds the line number."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from ..errors import InvalidInput
from ..limits import MAX_QUANTITY, percent
from ..text import clean
from ..text import whole_number as parse_whole_number
from ..timeutil import parse_date
from .csvfile import unescape

TRUE = {"yes", "y", "true", "1", "x", "ja", "oui", "returnable"}
FALSE = {"no", "n", "false", "0", "", "consumable"}
MAX_COST = Decimal("99999999.99")  # Numeric(10, 2)


def text(cell: str | None, what: str, max_length: int | None = None) -> str:
    value = unescape(clean(cell))
    if max_length and len(value) > max_length:
        raise ValueError(f"{what} is {len(value)} characters long; {max_length} at most")
    return value


def whole_number(cell: str | None, what: str, allow_zero: bool = True) -> int:
    value = clean(cell).replace("\u00a0", "").replace(" ", "")
    if value == "":
        return 0
    number = parse_whole_number(value)  # ASCII digits only: "٣" and "²" are no numbers here
    if number is None:
        raise ValueError(f"{what} {clean(cell)[:40]!r} is not a whole number")
    if number > MAX_QUANTITY:
        raise ValueError(f"{what} {clean(cell)[:40]} is more than {MAX_QUANTITY:,}")
    if not allow_zero and number == 0:
        raise ValueError(f"{what} must be more than zero")
    return number


def money(cell: str | None, what: str = "unit cost") -> Decimal:
    value = clean(cell).replace("\u00a0", "").replace(" ", "")
    if value == "":
        return Decimal("0.00")
    if not re.fullmatch(r"[0-9]*[.,]?[0-9]+|[0-9]+[.]", value, re.ASCII):  # no "NaN", "1e9", "٣"
        raise ValueError(f"{what} {clean(cell)[:40]!r} is not a number (like 2.50)")
    if re.fullmatch(r"[0-9]+,[0-9]{1,2}", value):  # a decimal comma (semicolon-separated files)
        value = value.replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{what} {clean(cell)!r} is not a number (like 2.50)") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{what} {clean(cell)!r} must be a number of zero or more")
    if number > MAX_COST:
        raise ValueError(f"{what} {clean(cell)!r} is too large")
    return number.quantize(Decimal("0.01"))


def loss_rate(cell: str | None) -> int:
    """A returnable's expected loss rate: a whole percentage, 0 to 100 ("15" or "15 %"); empty: 0."""
    value = clean(cell)
    if value == "":
        return 0
    try:
        return percent(value, f"loss rate {value[:40]!r}")
    except InvalidInput as error:
        raise ValueError(error.message.rstrip(".").replace("must be a whole percentage", "is not a whole percentage")) from None


def yes_no(cell: str | None, what: str) -> bool:
    value = clean(cell).lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValueError(f"{what} {clean(cell)!r} must be yes or no")


def day(cell: str | None, what: str) -> date | None:
    value = clean(cell)
    if not value:
        return None
    if parse_date(value):
        return parse_date(value)
    if re.fullmatch(r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}", value, re.ASCII):  # 31.03.2027, as German sheets write it
        try:
            return datetime.strptime(value, "%d.%m.%Y").date()
        except ValueError:
            pass
    raise ValueError(f"{what} {value!r} is not a date like 2027-03-31")


def show(value: object) -> str:
    """A typed value as the CSV writes it (and the dry run shows it)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return "" if value is None else str(value)
