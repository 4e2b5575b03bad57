"""Bin rules: create, edit, archive (only when empty), find."""
from sqlalchemy import exists, func, or_, select

from ..database import unit_of_work
from ..errors import Conflict, DuplicateCode, InvalidInput, UnknownBin
from ..pagination import Page
from ..stock.models import StockLevel
from ..text import clean, contains, limited
from .models import CODE_PATTERN, Bin, normalize_code


def get_bin(session, code):
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


def clean_code(code):
    code = normalize_code(code)
    if not CODE_PATTERN.match(code):
        raise InvalidInput(
            f"Bin code {code or '(empty)'!r} is not valid: up to 20 letters, digits, dashes or dots, like A-03-2."
        )
    return code


def _name(name):
    return limited(name, "The bin's name", 120, about=(None, "name"))  # Bin.name is VARCHAR(120)


def _zone(zone):
    return limited(zone, "The zone", 60, about=(None, "zone"))  # Bin.zone is VARCHAR(60)


@unit_of_work
def create_bin(session, code, name="", zone=""):
    """Create a bin. Its code can never change afterwards: it is printed on the label."""
    code = clean_code(code)
    if session.scalar(select(exists().where(Bin.code == code))):
        raise DuplicateCode(f"Bin {code} already exists.")
    bin = Bin(code=code, name=_name(name), zone=_zone(zone))
    session.add(bin)
    return bin


@unit_of_work
def update_bin(session, bin, name="", zone=""):
    bin = session.merge(bin)
    bin.name, bin.zone = _name(name), _zone(zone)
    return bin


@unit_of_work
def set_archived(session, bin, archived=True):
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


def zones(session):
    return session.scalars(
        select(Bin.zone).where(Bin.archived.is_(False), Bin.zone != "").distinct().order_by(Bin.zone)
    ).all()


def search_bins(session, q="", zone=None, page=1, per_page=50, include_archived=False):
    conditions = []
    if not include_archived:
        conditions.append(Bin.archived.is_(False))
    if zone:
        conditions.append(Bin.zone == zone)
    q = clean(q)
    if q:
        like = contains(q)
        conditions.append(or_(func.lower(Bin.code).like(like, escape="\\"), func.lower(Bin.name).like(like, escape="\\")))
    total = session.scalar(select(func.count(Bin.id)).where(*conditions))
    page = max(1, page)
    rows = session.scalars(
        select(Bin).where(*conditions).order_by(Bin.code).limit(per_page).offset((page - 1) * per_page)
    ).all()
    totals = dict(session.execute(
        select(StockLevel.bin_id, func.sum(StockLevel.quantity))
        .where(StockLevel.bin_id.in_([b.id for b in rows])).group_by(StockLevel.bin_id)
    ).all()) if rows else {}
    return Page([(b, int(totals.get(b.id) or 0)) for b in rows], page, per_page, total)


def suggest_bins(session, q, limit=15):
    """Active bins whose code or name contains `q`, for a code box's suggestions."""
    if not clean(q):
        return []
    like = contains(q)
    return session.scalars(
        select(Bin).where(Bin.archived.is_(False),
                          or_(func.lower(Bin.code).like(like, escape="\\"), func.lower(Bin.name).like(like, escape="\\")))
        .order_by(Bin.code).limit(limit)
    ).all()
