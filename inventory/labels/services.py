"""Which labels to print, the URL each one encodes, and reading a scanned label back.

Label URLs are a stable contract (docs/design.md): `{BASE_URL}/b/<bin code>` and `{BASE_URL}/i/<sku>`.
"""
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ..bins.models import CODE_PATTERN, Bin, normalize_code
from ..catalog.models import CATEGORIES, CATEGORY_LABELS, Item, Product, normalize_sku
from ..catalog.services import SKU_PATTERN
from ..text import clean, contains
from ..errors import InvalidInput, NotFound, UnknownBin, UnknownItem

MAX_LABELS = 3000  # ten boxes of Avery 5160; more is a mistake in the selection
KINDS = {"bin": "b", "item": "i"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"}
_LABEL_PATH = re.compile(r"^/(b|i)/([^/?#]+)/?$")
_T = TypeVar("_T")


class ForeignCode(InvalidInput):
    """A scanned code that is not one of our label URLs."""


@dataclass(frozen=True)
class Label:
    kind: str  # "bin" or "item"
    code: str  # bin code or SKU, as printed
    name: str
    detail: str
    url: str  # what the QR code encodes


@dataclass(frozen=True)
class LabelRef:
    """What a scanned or typed label names: a bin or an item, by its code."""
    kind: str
    code: str


# Label URLs ---------------------------------------------------------------------------------

def label_base(base_url: str | None, url_root: str | None) -> str:
    """The configured BASE_URL, else the address the request came in on (no trailing slash)."""
    return (base_url or url_root or "").rstrip("/")


def label_bases(config: Mapping[str, Any], url_root: str | None) -> list[str]:
    """Where our labels may point: BASE_URL, the addresses labels were printed with before it
    moved (PREVIOUS_BASE_URLS), and the address the app is used on now."""
    return [b for b in (config.get("BASE_URL"), *config.get("PREVIOUS_BASE_URLS", ()), url_root) if b]


def moved_to(config: Mapping[str, Any], url: str) -> str | None:
    """The same address on BASE_URL when `url` is on one of PREVIOUS_BASE_URLS, else None."""
    base = config.get("BASE_URL")
    if not base or not config.get("PREVIOUS_BASE_URLS"):
        return None
    host, port, _path = _origin(url)
    if (host, port) == _origin(base)[:2]:
        return None
    parts = urlsplit(url)
    for previous in config["PREVIOUS_BASE_URLS"]:
        old_host, old_port, prefix = _origin(previous)
        if (host, port) == (old_host, old_port) and (parts.path == prefix or parts.path.startswith(prefix + "/")):
            query = "?" + parts.query if parts.query else ""
            return base.rstrip("/") + (parts.path[len(prefix):] or "/") + query
    return None


def label_url(base: str, kind: str, code: str) -> str:
    return f"{base}/{KINDS[kind]}/{code}"


def is_local(base: str) -> bool:
    """True when labels made with this base would point at the printing computer itself."""
    host = (urlsplit(base).hostname or "").lower()
    return host in LOCAL_HOSTS or host.endswith(".localhost")


def clean_label_code(kind: str, code: str) -> str:
    """The code as printed (upper case), or NotFound when it cannot be a bin code or SKU.
    Needs no database: a label image is a function of its URL alone."""
    if kind == "bin":
        code = normalize_code(code)
        if not CODE_PATTERN.match(code):
            raise UnknownBin(f"{code!r} cannot be a bin code.")
    else:
        code = normalize_sku(code)
        if not SKU_PATTERN.match(code):
            raise UnknownItem(f"{code!r} cannot be a SKU.")
    return code


# Choosing what to print ---------------------------------------------------------------------

def _split_codes(codes: Iterable[str | None] | None) -> list[str]:
    """Codes from checkboxes and/or a pasted list (commas, spaces or new lines), in order, once each."""
    seen: set[str] = set()
    out: list[str] = []
    for chunk in codes or ():
        for code in re.split(r"[\s,;]+", chunk or ""):
            code = code.strip().upper()
            if code and code not in seen:
                seen.add(code)
                out.append(code)
    return out


def _capped(rows: Sequence[_T]) -> Sequence[_T]:
    if len(rows) > MAX_LABELS:
        raise InvalidInput(f"That selects {len(rows)} labels; print at most {MAX_LABELS} at a time.")
    return rows


def select_bins(session: Session, by: str = "all", zone: str = "", q: str = "",
                codes: Iterable[str | None] = ()) -> Sequence[Bin]:
    """Bins to label: all active bins, one zone, a search on code or name, or hand-picked codes
    (in the order given). Unknown hand-picked codes are refused by name."""
    if by == "picked":
        wanted = _split_codes(codes)
        if not wanted:
            raise InvalidInput("Pick at least one bin.")
        found = {b.code: b for b in session.scalars(select(Bin).where(Bin.code.in_(wanted)))}
        missing = [code for code in wanted if code not in found]
        if missing:
            raise UnknownBin(f"No bin has the code{'s' if len(missing) > 1 else ''} {', '.join(missing)}.")
        return _capped([found[code] for code in wanted])
    conditions: list[ColumnElement[bool]] = [Bin.archived.is_(False)]
    if by == "zone":
        if not zone:
            raise InvalidInput("Choose a zone.")
        conditions.append(Bin.zone == zone)
    elif by == "search":
        if not clean(q):
            raise InvalidInput("Type what to search bins for.")
        like = contains(q)
        conditions.append(or_(func.lower(Bin.code).like(like, escape="\\"), func.lower(Bin.name).like(like, escape="\\")))
    elif by != "all":
        raise InvalidInput("Choose all bins, a zone, a search or hand-picked bins.")
    return _capped(session.scalars(select(Bin).where(*conditions).order_by(Bin.code)).all())


def select_items(session: Session, by: str = "all", category: str = "", q: str = "",
                 codes: Iterable[str | None] = ()) -> Sequence[Item]:
    """Items to label: all active items, one category, a search on SKU or name, or hand-picked SKUs."""
    query = select(Item).join(Item.product).options(selectinload(Item.product))
    if by == "picked":
        wanted = _split_codes(codes)
        if not wanted:
            raise InvalidInput("Pick at least one item.")
        found = {i.sku: i for i in session.scalars(query.where(Item.sku.in_(wanted)))}
        missing = [sku for sku in wanted if sku not in found]
        if missing:
            raise UnknownItem(f"No item has the SKU{'s' if len(missing) > 1 else ''} {', '.join(missing)}.")
        return _capped([found[sku] for sku in wanted])
    conditions: list[ColumnElement[bool]] = [Item.archived.is_(False), Product.archived.is_(False)]
    if by == "category":
        if category not in CATEGORIES:
            raise InvalidInput("Choose a category.")
        conditions.append(Product.category == category)
    elif by == "search":
        if not clean(q):
            raise InvalidInput("Type what to search items for.")
        like = contains(q)
        conditions.append(or_(func.lower(Item.sku).like(like, escape="\\"),
                              func.lower(Product.name).like(like, escape="\\")))
    elif by != "all":
        raise InvalidInput("Choose all items, a category, a search or hand-picked items.")
    return _capped(session.scalars(
        query.where(*conditions).order_by(func.lower(Product.name), Item.size_rank, Item.size, Item.sku)
    ).all())


def bin_labels(bins: Iterable[Bin], base: str) -> list[Label]:
    return [Label("bin", b.code, b.name, b.zone, label_url(base, "bin", b.code)) for b in bins]


def item_labels(items: Iterable[Item], base: str) -> list[Label]:
    return [Label("item", i.sku, i.name, CATEGORY_LABELS.get(i.category, i.category), label_url(base, "item", i.sku))
            for i in items]


# Reading a label back -----------------------------------------------------------------------

def _origin(url: str) -> tuple[str, int | None, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    if port in (None, 80, 443):
        port = None
    return host, port, parts.path.rstrip("/")


def read_label(text: str | None, bases: Iterable[str]) -> LabelRef:
    """What a scanned QR code names, or ForeignCode when it is not one of our labels.

    Ours means a URL on one of `bases` (the configured BASE_URL and the address the app is used
    on) whose path is /b/<code> or /i/<sku>. http and https count as the same label, since a
    label keeps its meaning when a site moves to HTTPS. Whether the bin or item exists is not
    checked here: an unknown label still names a code (staff may create the bin).
    """
    text = (text or "").strip()
    if not text:
        raise InvalidInput("Nothing was scanned.")
    shown = text if len(text) <= 80 else text[:77] + "..."
    try:
        parts = urlsplit(text)
        host, port, _ = _origin(text)
    except ValueError:
        raise ForeignCode(f"That code is not one of our labels: {shown}") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ForeignCode(f"That code is not one of our labels: {shown}")
    for base in bases:
        if not base:
            continue
        base_host, base_port, prefix = _origin(base)
        if (host, port) != (base_host, base_port) or not parts.path.startswith(prefix + "/"):
            continue
        match = _LABEL_PATH.match(parts.path[len(prefix):])
        if match:
            kind = "bin" if match.group(1) == "b" else "item"
            try:
                return LabelRef(kind, clean_label_code(kind, match.group(2)))
            except NotFound:
                break
    raise ForeignCode(f"That QR code is not one of our labels: it points to {shown}")
