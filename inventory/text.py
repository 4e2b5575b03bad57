"""Text from users, made safe for queries, and whole numbers read from it."""
from __future__ import annotations

import re
from typing import TypeGuard

from .errors import InvalidInput

# What an INTEGER column holds on PostgreSQL; SQLite holds more, but no count, id or quantity of
# ours comes near it, so every whole number typed anywhere stops here.
MAX_INTEGER = 2**31 - 1

# ASCII digits only: "²" passes str.isdigit() but not int(), and int() reads "٣" (an Arabic-Indic
# three) and "1_000" as numbers. re.ASCII keeps \d to 0-9; 12 digits are more than MAX_INTEGER has,
# so int() stays cheap and anything longer is "too large", not "not a number".
_WHOLE = re.compile(r"[0-9]+", re.ASCII)
_SIGNED = re.compile(r"[-+]?[0-9]+", re.ASCII)
TOO_LARGE = 10**12  # what whole_number() answers for a longer run of digits: past every cap


def clean(text: str | None) -> str:
    """Strip spaces and NUL characters (PostgreSQL cannot store or compare text with NUL)."""
    return (text or "").replace("\x00", "").strip()


def limited(text: object, what: str, max_length: int, about: object = None) -> str:
    """`text` cleaned (see clean), refused with InvalidInput when longer than `max_length`
    characters: the column's length, or a cap on free text (a 7 MB movement reason was taken).
    `what` starts the message ("The reason"); `about` says which box it is about (see DomainError)."""
    if text is not None and not isinstance(text, str):
        raise InvalidInput(f"{what} must be text.", about=about)
    value = clean(text)
    if len(value) > max_length:
        raise InvalidInput(f"{what} is too long ({max_length:,} characters at most).", about=about)
    return value


def escape_like(text: str) -> str:
    """`text` with LIKE's wildcards (% and _) and the escape character taken literally.
    Use with `.like(pattern, escape="\\\\")`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(text: str | None) -> str:
    """A LIKE pattern matching `text` anywhere, lower-cased, with % and _ taken literally.
    Use with `.like(pattern, escape="\\\\")`."""
    return f"%{escape_like(clean(text).lower())}%"


def is_digits(text: object) -> bool:
    """True when `text` is one or more ASCII digits 0-9 and nothing else."""
    return isinstance(text, str) and _WHOLE.fullmatch(text) is not None


def is_whole_number(value: object) -> TypeGuard[int]:
    """True when `value` (from JSON or a caller) is an int, and not a bool: JSON's true is no number.
    The one check every rule makes before it reads a quantity, an id or a count."""
    return isinstance(value, int) and not isinstance(value, bool)


def whole_number(text: object, signed: bool = False) -> int | None:
    """The whole number `text` spells in ASCII digits (with a leading - or + when `signed`), or
    None when it spells none. Surrounding spaces are allowed. A number of more than 12 digits
    comes back as ±TOO_LARGE, so the caller's bound check refuses it as too large."""
    text = (text or "").strip() if isinstance(text, str) else ""
    if not (_SIGNED if signed else _WHOLE).fullmatch(text):
        return None
    digits = text.lstrip("+-").lstrip("0") or "0"
    sign = -1 if text.startswith("-") else 1
    return sign * (TOO_LARGE if len(digits) > 12 else int(digits))


def to_int(value: object) -> int:
    """int() for input: ASCII digits only (with a leading minus), within ±MAX_INTEGER; ValueError
    otherwise. An int passes as it is. Fits `type=` of request.args.get and `coerce=` of a
    SelectField, which both turn the ValueError into "not given" / "not a valid choice"."""
    number: int | None
    if is_whole_number(value):
        number = value
    else:
        number = whole_number(value, signed=True)
    if number is None or not -MAX_INTEGER <= number <= MAX_INTEGER:
        raise ValueError(f"{str(value)[:20]!r} is not a whole number")
    return number
