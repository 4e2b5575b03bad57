"""What each flag of an item suggests ordering (docs/design.md, "The reorder forecast"): what its
need leaves missing, at least the reorder quantity, less what drafts, late orders and the
earlier flags already bring."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from ..purchasing.models import order_number
from .loading import OrderLine
from .results import Flag


def suggest_all(item: Row[Any], flags: list[Flag], drafts: list[OrderLine], unit: str, stop: str | None) -> None:
    """What each flag should order, earliest need first: what its need leaves missing (the
    projection is cumulative, so a later need's counts the earlier ones too), ordered as at least
    the reorder quantity, less what drafts and late orders bring and what the earlier flags already
    suggest; nothing when those cover it.
    Then each reason says what the drafts are and, when they cover it, to order them."""
    drafted = sum(o[1] for o in drafts)
    so_far = 0
    for flag in sorted(flags, key=lambda f: f.need_date):
        already = flag.covered + drafted + so_far
        missing = flag.needed - already
        # An order of at least the reorder quantity, less what is already coming.
        flag.suggested_quantity = 0 if stop is not None or missing <= 0 else \
            max(flag.needed, item.reorder_quantity) - already
        so_far += flag.suggested_quantity
        flag.reason += _drafts_note(drafts, unit, covering_need=flag.suggested_quantity == 0 and stop is None)
        if stop is not None:
            flag.reason += f"; {stop}"


def _drafts_note(drafts: list[OrderLine], unit: str, covering_need: bool | None = None) -> str:
    if not drafts:
        return ""
    names = ", ".join(f"draft {order_number(o[4])} for {o[1]}{unit}" for o in drafts[:3])
    tail = ", not ordered yet"
    if covering_need:
        tail += ": order it" if len(drafts) == 1 else ": order them"
    return f"; {names}{tail}"
