"""Lists of requests for the pages, and one request with all it shows, with their lines and
people loaded on purpose."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import BindParameter, ColumnElement, Integer, Row, Select, bindparam, func, select, true
from sqlalchemy.orm import Session, selectinload

from ..auth.models import User
from ..budgets.models import Team
from ..catalog.models import Item, Product
from ..errors import NotFound
from ..pagination import Page
from .lifecycle import Status
from .models import OPEN, Request, RequestApproval, RequestLine, RequestStep, ShownRequest

if TYPE_CHECKING:
    from sqlalchemy.sql.base import ReadOnlyColumnCollection
    from sqlalchemy.sql.elements import KeyedColumnElement


def get_request(session: Session, request_id: int) -> Request:
    request = session.scalar(
        select(Request).where(Request.id == request_id).options(
            selectinload(Request.lines).selectinload(RequestLine.item).selectinload(Item.product),
            selectinload(Request.steps).selectinload(RequestStep.user),
            selectinload(Request.requester),
            selectinload(Request.approvals).selectinload(RequestApproval.user),
            selectinload(Request.team).selectinload(Team.approver),
        )
    )
    if request is None:
        raise NotFound(f"No request #{request_id}.")
    return request


def _with_lines(query: Select[tuple[Request]]) -> Select[tuple[Request]]:
    return query.options(
        selectinload(Request.lines).selectinload(RequestLine.item).selectinload(Item.product),
        selectinload(Request.requester),
        selectinload(Request.team),  # for the API's JSON (a statement only when a request has one)
    )


def _page(session: Session, conditions: Sequence[ColumnElement[bool]], order: Sequence[ColumnElement[Any]], page: int,
          per_page: int) -> Page:
    total = session.execute(select(func.count(Request.id)).where(*conditions)).scalar_one()
    rows = session.scalars(
        _with_lines(select(Request).where(*conditions).order_by(*order)).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(rows, page, per_page, total)


def requests_of(session: Session, user: User, page: int = 1, per_page: int = 25, status: str | None = None) -> Page:
    conditions = [Request.requester_id == user.id]
    if status:
        conditions.append(Request.status == status)
    return _page(session, conditions, [Request.created_at.desc(), Request.id.desc()], page, per_page)


def to_pick(session: Session) -> Sequence[Request]:
    return session.scalars(
        _with_lines(select(Request).where(Request.status.in_((Status.APPROVED, Status.PICKING, Status.READY))))
        .order_by(Request.needed_by, Request.id)
    ).all()


# Marketing's queue and a rep's My requests -------------------------------------------------------
# The pages show a few columns of 25 requests (and the queue 50 backordered lines); loading them
# as ORM objects (with their lines, items, products and requesters) cost several times what the
# statements do. The statements below read just what the pages show, on the tables (Core), into
# the light rows that follow: one for a page of requests with their lines, requesters and the
# total; one for the backordered lines with their count. The API lists the queue with the same
# statement, so the page and the API cannot disagree on which requests, in what order, on which
# page; it then loads those requests whole for their JSON (`loaded`).

class Named:
    """An item or a person as the lists name them."""

    __slots__ = ("name", "display_name")

    def __init__(self, name: str) -> None:
        self.name = self.display_name = name


class QueueLine:
    """A request line as the queue shows it (its request only in the backorder section)."""

    __slots__ = ("request_id", "quantity", "reserved", "backordered", "item", "request", "id")

    def __init__(self, request_id: int, quantity: int, reserved: int, backordered: int, item: Named,
                 request: QueueRow | None = None, line_id: int | None = None) -> None:
        self.request_id, self.quantity, self.reserved, self.backordered = request_id, quantity, reserved, backordered
        self.item, self.request, self.id = item, request, line_id


class QueueRow(ShownRequest):
    """A request as the lists show it: the model's labels and markers, from the columns read."""

    __slots__ = ("id", "status", "purpose", "handoff", "needed_by", "return_by", "requester", "lines")

    def __init__(self, row: Row[Any], requester: Named | None = None) -> None:
        self.id, self.status, self.purpose, self.handoff = row.id, row.status, row.purpose, row.handoff
        self.needed_by, self.return_by, self.requester, self.lines = row.needed_by, row.return_by, requester, []


_request, _line, _item, _product, _user = (Request.__table__, RequestLine.__table__, Item.__table__,
                                           Product.__table__, User.__table__)
_statuses: BindParameter[list[str]] = bindparam("statuses", expanding=True)


_Columns: TypeAlias = "ReadOnlyColumnCollection[str, KeyedColumnElement[Any]]"  # a table's or a subquery's .c


def _listing(condition: ColumnElement[bool],
             order: Callable[[_Columns], tuple[ColumnElement[Any], ...]]) -> Select[Any]:
    """One statement for a page of requests (those matching `condition`, in `order`) with their
    lines, requesters and the total: one row per line. The total rides along as a one-row
    subquery that the page is left-joined to, so a page past the end still answers it (a row
    with no request)."""
    counted = select(func.count().label("total")).select_from(_request).where(condition).subquery("counted")
    page = (select(_request.c.id, _request.c.status, _request.c.purpose, _request.c.handoff, _request.c.needed_by,
                   _request.c.return_by, _request.c.created_at, _request.c.requester_id)
            .where(condition).order_by(*order(_request.c))
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)).subquery("page"))
    return (
        select(counted.c.total, page.c.id, page.c.status, page.c.purpose, page.c.handoff,
               page.c.needed_by, page.c.return_by, _user.c.name.label("user_name"), _user.c.email,
               _line.c.id.label("line_id"), _line.c.quantity, _line.c.reserved, _line.c.backordered,
               _product.c.name.label("product"), _item.c.size)
        .select_from(counted.outerjoin(page, true())
                     .outerjoin(_user, _user.c.id == page.c.requester_id)
                     .outerjoin(_line, _line.c.request_id == page.c.id)
                     .outerjoin(_item, _item.c.id == _line.c.item_id)
                     .outerjoin(_product, _product.c.id == _item.c.product_id))
        .order_by(*order(page.c), _line.c.id)
    )


# Marketing's queue: soonest needed first. A rep's own requests: newest first.
_QUEUE_PAGE = _listing(_request.c.status.in_(_statuses), lambda c: (c.needed_by, c.created_at, c.id))
_MINE_PAGE = _listing(_request.c.requester_id == bindparam("requester_id", type_=Integer),
                      lambda c: (c.created_at.desc(), c.id.desc()))
# Backordered lines in the order they will be filled; the count of them all comes with each.
_BACKORDERS = (
    select(_line.c.request_id.label("id"), _line.c.quantity, _line.c.reserved, _line.c.backordered,
           _product.c.name.label("product"), _item.c.size, _request.c.status, _request.c.purpose, _request.c.handoff,
           _request.c.needed_by, _request.c.return_by, func.count().over().label("total"))
    .select_from(_line.join(_request, _request.c.id == _line.c.request_id)
                 .join(_item, _item.c.id == _line.c.item_id).join(_product, _product.c.id == _item.c.product_id))
    .where(_line.c.backordered > 0, _request.c.status.in_(OPEN))
    .order_by(_request.c.created_at, _request.c.id, _line.c.id)
    .limit(bindparam("limit", type_=Integer))
)


def queue(session: Session, status: str | None = None, page: int = 1, per_page: int = 25) -> Page:
    """Marketing's queue: open requests (or one status), soonest needed first, a page of them as
    QueueRows with their lines, and the total. The one query of the queue, for its page and the
    API (which loads those requests whole: `loaded`)."""
    return _rows_page(session, _QUEUE_PAGE, {"statuses": [status] if status else list(OPEN)}, page, per_page)


def loaded(session: Session, request_ids: list[int]) -> list[Request]:
    """The requests of these ids, in that order, with their lines, items, products and requesters
    loaded: a page of a list (such as `queue`) whole, for what shows more of each request."""
    if not request_ids:
        return []
    found = {r.id: r for r in session.scalars(_with_lines(select(Request).where(Request.id.in_(request_ids)))).all()}
    return [found[request_id] for request_id in request_ids if request_id in found]


def requests_of_page(session: Session, user: User, page: int = 1, per_page: int = 25) -> Page:
    """requests_of() for the page (My requests): the same requests in the same order, as QueueRows."""
    return _rows_page(session, _MINE_PAGE, {"requester_id": user.id}, page, per_page)


def _rows_page(session: Session, statement: Select[Any], parameters: Mapping[str, Any], page: int,
               per_page: int) -> Page:
    rows: list[QueueRow] = []
    total, shown = 0, None
    result = session.connection().execute(statement, dict(parameters, limit=per_page, offset=(page - 1) * per_page))
    for row in result:  # one row per line, the page's requests in order
        total = row.total
        if row.id is None:  # past the last page: the total alone
            continue
        if shown is None or shown.id != row.id:
            shown = QueueRow(row, Named(row.user_name or row.email))
            rows.append(shown)
        if row.quantity is not None:
            shown.lines.append(QueueLine(row.id, row.quantity, row.reserved, row.backordered,
                                         Named(Item.display_name(row.product, row.size)), line_id=row.line_id))
    return Page(rows, page, per_page, total)


def backorders(session: Session, limit: int) -> tuple[list[QueueLine], int]:
    """Lines waiting for stock, in the order they will be filled: (the first `limit` of them, how
    many there are in all)."""
    lines: list[QueueLine] = []
    requests: dict[int, QueueRow] = {}
    total = 0
    for row in session.connection().execute(_BACKORDERS, {"limit": limit}):
        total = row.total
        request = requests.get(row.id) or requests.setdefault(row.id, QueueRow(row))
        lines.append(QueueLine(row.id, row.quantity, row.reserved, row.backordered,
                               Named(Item.display_name(row.product, row.size)), request))
    return lines, total
