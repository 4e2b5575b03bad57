"""What the reports share: zero money, a number of days from a form, a page of rows, rows by id,
and whether a hand-over stands."""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.orm import Mapped, Session, aliased

from ..errors import InvalidInput
from ..pagination import Page
from ..requests.models import RequestStep

ZERO = Decimal("0.00")
MAX_DAYS_ARG = 3650


class _HasId(Protocol):
    """A model with an integer primary key `id`. A ClassVar, as the mapped column is: a
    descriptor on the class (`Model.id` a column to query by, `row.id` an int)."""
    id: ClassVar[Mapped[int]]


M = TypeVar("M", bound=_HasId)


def days_arg(value: str | None, default: int, *, what: str = "Days", minimum: int = 1) -> int:
    """A number of days from a form: blank means the default; anything else must be a whole
    number between `minimum` and ten years."""
    value = (value or "").strip()
    if not value:
        return default
    # ASCII digits only: "²" passes str.isdigit() but not int(); a short string keeps int() cheap.
    if not (value.isascii() and value.isdigit() and len(value) <= 5) or not minimum <= int(value) <= MAX_DAYS_ARG:
        raise InvalidInput(f"{what} must be a whole number from {minimum} to {MAX_DAYS_ARG}, not '{value[:20]}'.")
    return int(value)


def page_of(session: Session, rows_query: Select[Any], count: int, page: int, per_page: int | None) -> Page:
    """One page of `rows_query` (all rows when per_page is None, as for a CSV download)."""
    if per_page is None:
        rows = session.execute(rows_query).all()
        return Page(rows, 1, max(1, len(rows)), len(rows))
    rows = session.execute(rows_query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(rows, page, per_page, count)


def by_id(session: Session, model: type[M], ids: Iterable[int | None], *options: Any) -> dict[int, M]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)).options(*options))}


def standing() -> ColumnElement[bool]:
    """A "handed over" step that stands: no "hand_over_undone" step came after it (a manager
    undid that hand-over: nothing went out, nothing is used or spent)."""
    undone = aliased(RequestStep)
    return ~exists().where(undone.request_id == RequestStep.request_id, undone.action == "hand_over_undone",
                           undone.id > RequestStep.id)
