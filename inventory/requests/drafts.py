"""The request a user is putting together (a draft): its lines and its details as typed.

A draft holds no stock. It is what the request page shows, saved on every change and by every
button the rep presses, so leaving the page, pressing the wrong button or coming back on another
device never loses a quantity or a half-typed date. Sending it (`submission.submit` with the
draft's generation) empties it and bumps its generation in the same transaction as the
reservation, so a page opened before, a second tap on *Submit* or an autosave still on its way
cannot send it twice or bring the sent lines back.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..catalog.models import Item, Product
from ..database import SessionLike, unit_of_work
from ..errors import Conflict, InvalidInput
from ..holds.availability import Window, free_quantities
from ..text import is_whole_number
from ..timeutil import utcnow
from .models import RequestDraft

MAX_LINES = 60
# The request form's fields, kept as typed (strings). Longer text than the form allows is cut
# here only as a guard on the row's size; the form says what is too long when it is sent.
DETAILS = ("purpose", "needed_by", "return_by", "handoff", "ship_to", "note", "event_id", "allow_partial")
MAX_DETAIL = 2000


class StaleDraft(Conflict):
    """The page was drawn for a draft that has been sent since."""

    def __init__(self) -> None:
        super().__init__("This request was sent already: see My requests. Start a new one from the catalog.")


@dataclass
class Draft:
    lines: dict[str, int] = field(default_factory=dict)  # {sku: quantity}, in the order they were added
    details: dict[str, str] = field(default_factory=dict)  # {field: text as typed}
    generation: int = 1


def _lines_of(row: RequestDraft) -> dict[str, int]:
    return {sku: quantity for sku, quantity in (row.lines or [])}


def _as_draft(row: RequestDraft | None) -> Draft:
    if row is None:
        return Draft()
    return Draft(lines=_lines_of(row), details=dict(row.details or {}), generation=row.generation)


def get(session: SessionLike, user: User) -> Draft:
    """The user's draft (an empty one if they have none)."""
    return _as_draft(session.get(RequestDraft, user.id))


def count(session: SessionLike, user: User) -> int:
    """Units in the user's draft, for the navigation's badge: one small query."""
    lines = session.scalar(select(RequestDraft.lines).where(RequestDraft.user_id == user.id))
    return sum(quantity for _sku, quantity in (lines or []))


def _locked(session: SessionLike, user: User) -> RequestDraft:
    """The user's draft row, locked for this transaction (created when missing: with ON CONFLICT
    DO NOTHING, so two first saves at once, say a double tap on *Add*, both find the one row)."""
    row = session.get(RequestDraft, user.id, with_for_update=True, populate_existing=True)
    if row is None:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(insert(RequestDraft).values(user_id=user.id, lines=[], details={}, generation=1,
                                                    updated_at=utcnow()).on_conflict_do_nothing())
        row = session.get_one(RequestDraft, user.id, with_for_update=True, populate_existing=True)
    return row


def _check_quantities(quantities: Mapping[str, object]) -> None:
    for sku, quantity in quantities.items():
        if not is_whole_number(quantity) or quantity < 0:
            raise InvalidInput(f"{sku}: a quantity must be a whole number, 0 or more.")


def _merged(lines: dict[str, int], quantities: Mapping[str, int], only_known: bool = False) -> dict[str, int]:
    """The draft's lines with `quantities` applied (0 removes); new SKUs go last."""
    merged = dict(lines)
    for sku, quantity in quantities.items():
        if only_known and sku not in merged:
            continue
        if quantity > 0:
            merged[sku] = quantity
        else:
            merged.pop(sku, None)
    if len(merged) > MAX_LINES and len(merged) > len(lines):
        raise InvalidInput(f"A request holds at most {MAX_LINES} different items: send this one, then start another.")
    return merged


def _swapped(lines: dict[str, int], old: str, new: str) -> dict[str, int]:
    """`old`'s line becomes `new`'s, in its place (added to `new`'s line if it is there already)."""
    if old not in lines or old == new:
        return lines
    moved = lines[old]
    swapped = {}
    for sku, quantity in lines.items():
        if sku == old:
            if new not in lines:
                swapped[new] = moved
        elif sku == new:
            swapped[new] = quantity + moved
        else:
            swapped[sku] = quantity
    return swapped


@unit_of_work
def save(session: SessionLike, user: User, *, quantities: Mapping[str, int] | None = None,
         details: Mapping[str, object] | None = None, generation: int | None = None, only_known: bool = False,
         replace: Mapping[str, str] | None = None) -> Draft:
    """Save what the request page (or a product page) shows: `quantities` {sku: n} set those lines
    (0 removes one); `details` {field: text} replace the details typed; `replace` {old sku: new sku}
    swaps a line for another item, keeping its place and quantity. With `generation`, refuses
    (StaleDraft) when the draft was sent since that page was drawn. `only_known` ignores SKUs that
    are not on the draft (the request page only shows the draft's own lines). Returns the Draft."""
    quantities = quantities or {}
    _check_quantities(quantities)
    row = _locked(session, user)
    if generation is not None and generation != row.generation:
        raise StaleDraft()
    lines = _merged(_lines_of(row), quantities, only_known=only_known)
    for old, new in (replace or {}).items():
        lines = _swapped(lines, old, new)
    row.lines = [[sku, quantity] for sku, quantity in lines.items()]
    if details is not None:
        row.details = {key: str(details.get(key) or "")[:MAX_DETAIL] for key in DETAILS}
    draft = _as_draft(row)
    return draft


@unit_of_work
def remember_event(session: SessionLike, user: User, event_id: int | str) -> None:
    """The event the rep is asking for (from an event page), kept in the draft until it is sent."""
    row = _locked(session, user)
    row.details = dict(row.details or {}, event_id=str(event_id))


class DraftChanged(Conflict):
    """The draft's lines changed (on another page or tab) after this page saved them."""

    def __init__(self) -> None:
        super().__init__("Your request changed on another page while you sent it: nothing was sent. "
                         "Check it below, then send it again.")


def consume(session: SessionLike, user: User, generation: int | None, lines: dict[str, int]) -> None:
    """Inside the transaction that sends the draft as {sku: quantity} `lines`: empty it and bump
    its generation. Refuses when it was sent already from another page or by a second tap
    (StaleDraft), or when its lines are no longer those being sent (DraftChanged: another tab
    changed it between this page's save and its send, and that change must not vanish unsent)."""
    row = _locked(session, user)
    if generation != row.generation:
        raise StaleDraft()
    if _lines_of(row) != lines:
        raise DraftChanged()
    row.lines, row.details, row.generation = [], {}, row.generation + 1


# What the request page shows for each line ---------------------------------------------------

@dataclass
class PageLine:
    """A draft line as the request page shows it: how many are free for the dates chosen, and
    what the rep can do about a shortfall before sending."""
    item: Item
    quantity: int
    free: int  # units a reservation for the chosen dates may take, 0 at least
    problem: str = ""  # why it cannot be reserved at all (archived, past its use-by date)
    siblings: list[tuple[Item, int]] = field(default_factory=list)  # [(Item, free)]: other sizes with enough free

    @property
    def short(self) -> bool:
        return not self.problem and self.quantity > self.free

    @property
    def missing(self) -> int:
        return max(0, self.quantity - self.free)


def window_of(needed_by: date | None, return_by: date | None) -> Window | None:
    """The booking window for the dates typed (None when no needed-by date is given yet)."""
    if needed_by is None or needed_by >= date.max:  # 9999-12-31 has no day after it to end a window
        return None
    if return_by is not None and (return_by < needed_by or return_by >= date.max):
        return_by = None
    return Window.of(needed_by, return_by)


def page_lines(session: SessionLike, draft: Draft, window: Window | None = None,
               today: date | None = None) -> list[PageLine]:
    """[PageLine] for the draft's lines, in its order (SKUs no longer in the catalog are left
    out), in a few queries whatever the number of lines."""
    today = today or date.today()
    if not draft.lines:
        return []
    items = {item.sku: item for item in session.scalars(
        select(Item).where(Item.sku.in_(list(draft.lines)))
        .options(selectinload(Item.product).selectinload(Product.items)))}
    free = free_quantities(session, [item.id for item in items.values()], window)
    lines = []
    for sku, quantity in draft.lines.items():
        item = items.get(sku)
        if item is None:
            continue
        problem = ""
        if item.archived or item.product.archived:
            problem = "Archived: it can no longer be requested. Remove it."
        elif item.expired(today):
            until = item.do_not_use_after.strftime("%-d %b %Y")  # type: ignore[union-attr]  # expired(): it has one
            problem = f"Not to be used after {until}: it cannot be reserved. Remove it."
        lines.append(PageLine(item, quantity, max(0, free.get(item.id, 0)), problem))
    _offer_siblings(session, [line for line in lines if line.short], set(draft.lines), window, today)
    return lines


def can_switch(item: Item, other: Item, today: date | None = None) -> bool:
    """Whether a line of `item` may become a line of `other` (*Size L instead*): another size of
    the same product that can be requested."""
    return (other.id != item.id and other.product_id == item.product_id and not other.archived
            and not other.expired(today))


def _offer_siblings(session: SessionLike, short_lines: list[PageLine], in_draft: set[str], window: Window | None,
                    today: date | None) -> None:
    """For each short line, the other sizes of its product that have enough free for it."""
    candidates = {line.item.sku: [s for s in line.item.product.items
                                  if s.sku not in in_draft and can_switch(line.item, s, today)]
                  for line in short_lines}
    ids = {s.id for siblings in candidates.values() for s in siblings}
    if not ids:
        return
    free = free_quantities(session, ids, window)
    for line in short_lines:
        line.siblings = [(s, free[s.id]) for s in candidates[line.item.sku] if free.get(s.id, 0) >= line.quantity][:3]
