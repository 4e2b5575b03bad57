"""Domain exceptions. Rules raise them; views, the API and commands turn them into a flash
message, a JSON error with its status code, or a non-zero exit."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    """A business rule refused the operation. `str(error)` is a message for the user."""

    status = 400
    # What the message is about, when a page can show it next to that input: a rule checking
    # many lines says which one, e.g. (2, "quantity") for the third line's quantity, or a
    # request line's id. None: the whole operation.
    about: Any = None

    def __init__(self, message: str, about: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if about is not None:
            self.about = about


class InvalidInput(DomainError):
    status = 400


class NotFound(DomainError):
    status = 404


class UnknownItem(NotFound):
    pass


class UnknownBin(NotFound):
    pass


class Conflict(DomainError):
    status = 409


class InsufficientStock(Conflict):
    pass


class DuplicateCode(Conflict):
    pass


class LoginRefused(DomainError):
    status = 401


class LoginThrottled(DomainError):
    status = 429


class ShortStock(InsufficientStock):
    """A reservation could not be made whole. `shortages` says, per line, what is available."""

    def __init__(self, shortages: Sequence[Any]) -> None:
        self.shortages = shortages
        parts = [f"{s.sku}: asked {s.requested}, {s.available} available" for s in shortages]
        super().__init__("Not enough stock: " + "; ".join(parts) + ".")


class Forbidden(DomainError):
    status = 403


class Gone(DomainError):
    """It was there and is no more: an expired or revoked share link."""
    status = 410


class Busy(DomainError):
    """The database kept refusing the transaction (PostgreSQL deadlocks or serialization failures,
    retried already by database.unit_of_work): nothing was written; trying again later works."""

    status = 503

    def __init__(self, message: str = "The stock database was busy and nothing was saved. Try again.") -> None:
        super().__init__(message)
