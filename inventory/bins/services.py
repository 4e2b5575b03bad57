"""Bin rules: create, edit, archive (only when empty), find."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, func, or_, select

from ..database import SessionLike, unit_of_work
from ..errors import Conflict, DuplicateCode, InvalidInput, UnknownBin
from ..pagination import Page
from ..stock.models import StockLevel
from ..text import clean, contains, limited
from .models import CODE_PATTERN, Bin, normalize_code


def get_bin(session: SessionLike, code: str | None) -> Bin:
    """The bin with this code (any case), or UnknownBin."""
    wanted = normalize_code(code)
    if not wanted:
        raise UnknownBin("Give the bin code.")
    if "\x00" in wanted:  # not storable, so no bin has it; say so without the control character
        raise UnknownBin("No bin has that code.")
    bin = session.scalar(select(Bin).where(Bin.code == wanted))
    if bin is None:
        raise UnknownBin(f"No bin has the code {wanted}.")
    return bin


def clean_code(code: str | None) -> str:
    code = normalize_code(code)
    if not CODE_PATTERN.match(code):
        raise InvalidInput(
            f"Bin code {code or '(empty)'!r} is not valid: up to 20 letters, digits, dashes or dots, like A-03-2."
        )
    return code


def _name(name: str | None) -> str:
    return limited(name, "The bin's name", 120, about=(None, "name"))  # Bin.name is VARCHAR(120)


def _zone(zone: str | None) -> str:
    return limited(zone, "The zone", 60, about=(None, "zone"))  # Bin.zone is VARCHAR(60)


@unit_of_work
def create_bin(session: SessionLike, code: str | None, name: str | None = "", zone: str | None = "") -> Bin:
    """Create a bin. Its code can never change afterwards: it is printed on the label."""
    code = clean_code(code)
    if session.scalar(select(exists().where(Bin.code == code))):
        raise DuplicateCode(f"Bin {code} already exists.")
    bin = Bin(code=code, name=_name(name), zone=_zone(zone))
    session.add(bin)
    return bin


@unit_of_work
def update_bin(session: SessionLike, bin: Bin, name: str | None = "", zone: str | None = "") -> Bin:
    bin = session.merge(bin)
    bin.name, bin.zone = _name(name), _zone(zone)
    return bin


@unit_of_work
def set_archived(session: SessionLike, bin: Bin, archived: bool = True) -> Bin:
    """Archive a bin (refused while it holds stock) or restore it."""
    bin = session.merge(bin)
    if archived:
        held = session.scalar(
            select(func.coalesce(func.sum(StockLevel.quantity), 0)).where(StockLevel.bin_id == bin.id)
        )
        if held:
            raise Conflict(f"Bin {bin.code} still holds {held} units; move or count them out first.")
    bin.archived = archived
    return bin


def zones(session: SessionLike) -> Sequence[str]:
    return session.scalars(
        select(Bin.zone).where(Bin.archived.is_(False), Bin.zone != "").distinct().order_by(Bin.zone)
    ).all()


def search_bins(session: SessionLike, q: str | None = "", zone: str | None = None, page: int = 1, per_page: int = 50,
                include_archived: bool = False) -> Page:
    conditions: list[ColumnElement[bool]] = []
    if not include_archived:
        conditions.append(Bin.archived.is_(False))
    if zone:
        conditions.append(Bin.zone == zone)
    q = clean(q)
    if q:
        like = contains(q)
        conditions.append(or_(func.lower(Bin.code).like(like, escape="\\"), func.lower(Bin.name).like(like, escape="\\")))
    total = session.execute(select(func.count(Bin.id)).where(*conditions)).scalar_one()
    page = max(1, page)
    rows = session.scalars(
        select(Bin).where(*conditions).order_by(Bin.code).limit(per_page).offset((page - 1) * per_page)
    ).all()
    totals: dict[int, int] = dict(session.execute(
        select(StockLevel.bin_id, func.sum(StockLevel.quantity))
        .where(StockLevel.bin_id.in_([b.id for b in rows])).group_by(StockLevel.bin_id)
    ).tuples().all()) if rows else {}
    return Page([(b, int(totals.get(b.id) or 0)) for b in rows], page, per_page, total)


def suggest_bins(session: SessionLike, q: str | None, limit: int = 15) -> Sequence[Bin]:
    """Active bins whose code or name contains `q`, for a code box's suggestions."""
    if not clean(q):
        return []
    like = contains(q)
    return session.scalars(
        select(Bin).where(Bin.archived.is_(False),
                          or_(func.lower(Bin.code).like(like, escape="\\"), func.lower(Bin.name).like(like, escape="\\")))
        .order_by(Bin.code).limit(limit)
    ).all()
