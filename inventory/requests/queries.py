"""Lists of requests for the pages, with their lines and people loaded on purpose."""
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..catalog.models import Item
from ..pagination import Page
from .models import OPEN, Request, RequestLine


def _with_lines(query):
    return query.options(
        selectinload(Request.lines).selectinload(RequestLine.item).selectinload(Item.product),
        selectinload(Request.requester),
    )


def _page(session, conditions, order, page, per_page):
    total = session.scalar(select(func.count(Request.id)).where(*conditions))
    rows = session.scalars(
        _with_lines(select(Request).where(*conditions).order_by(*order)).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(rows, page, per_page, total)


def requests_of(session, user, page=1, per_page=25, status=None):
    conditions = [Request.requester_id == user.id]
    if status:
        conditions.append(Request.status == status)
    return _page(session, conditions, [Request.created_at.desc(), Request.id.desc()], page, per_page)


def queue(session, status=None, page=1, per_page=50):
    """Marketing's queue: open requests (or one status), soonest needed first."""
    conditions = [Request.status == status] if status else [Request.status.in_(OPEN)]
    return _page(session, conditions, [Request.needed_by, Request.created_at, Request.id], page, per_page)


def to_pick(session):
    return session.scalars(
        _with_lines(select(Request).where(Request.status.in_(("approved", "picking", "ready"))))
        .order_by(Request.needed_by, Request.id)
    ).all()


def backorders(session, limit=None):
    """Lines waiting for stock, in the order they will be filled (the first `limit` of them)."""
    query = (select(RequestLine).join(Request)
             .where(RequestLine.backordered > 0, Request.status.in_(OPEN))
             .options(selectinload(RequestLine.item).selectinload(Item.product), selectinload(RequestLine.request))
             .order_by(Request.created_at, Request.id, RequestLine.id))
    return session.scalars(query.limit(limit) if limit else query).all()


def backorder_count(session):
    return session.scalar(select(func.count(RequestLine.id)).join(Request)
                          .where(RequestLine.backordered > 0, Request.status.in_(OPEN)))
