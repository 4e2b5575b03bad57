"""Domain exceptions. Rules raise them; views, the API and commands turn them into a flash
message, a JSON error with its status code, or a non-zero exit."""


class DomainError(Exception):
    """A business rule refused the operation. `str(error)` is a message for the user.

    `line_id`, when set, names the request line at fault, so a page can show the message next
    to that line."""

    status = 400

    def __init__(self, message, line_id=None):
        super().__init__(message)
        self.message = message
        self.line_id = line_id


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

    def __init__(self, shortages):
        self.shortages = shortages
        parts = [f"{s.sku}: asked {s.requested}, {s.available} available" for s in shortages]
        super().__init__("Not enough stock: " + "; ".join(parts) + ".")


class Forbidden(DomainError):
    status = 403
