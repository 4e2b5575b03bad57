"""Kit rules: keep kit templates (a trade-show kit's bill of materials), say how many whole kits
can be built for a date window, and reserve N kits for an event.

A kit template is a list: 1 roll-up banner, 200 brochures, 10 polos as M 4, L 4, XL 2 (one line
per size). Reserving N kits for an event is one request whose lines are the components x N,
made by `requests.submission.submit`: all or nothing, under the same rules and locks as any
request, consumables held until handed over, returnables booked from the event's ship-by day up
to its return-by day.

A physical, pre-assembled kit (a booth-in-a-box with its own QR label) is not a template: it is a
returnable catalog item (category "kit") and is booked by date window like any returnable. A
template may list it as a component.
"""
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from ..auth.models import User
from ..budgets.kit_budget import OverEventBudget, kit_budget
from ..catalog.models import Item, normalize_sku
from ..database import SessionLike, unit_of_work
from ..limits import check_line_count
from ..pagination import Page
from ..errors import Conflict, DuplicateCode, InvalidInput, NotFound, ShortStock
from ..requests import submission
from ..holds.availability import Window, free_quantity
from ..holds.locks import lock_items
from ..requests.models import Request
from ..requests.submission import Shortage
from ..text import clean, is_whole_number
from .models import Event, KitLine, KitTemplate
from .services import get_event, is_id, require_manager

MAX_KITS = 1000          # kits reserved at once: a typo guard
MAX_LINE_QUANTITY = 100_000


def get_kit(session: Session, kit_id: int) -> KitTemplate:
    kit = session.scalar(
        select(KitTemplate).where(KitTemplate.id == kit_id).options(
            selectinload(KitTemplate.lines).selectinload(KitLine.item).options(
                selectinload(Item.product), selectinload(Item.replaced_by)))  # the page names successors
    ) if is_id(kit_id) else None
    if kit is None:
        raise NotFound(f"No kit #{kit_id}.")
    return kit


def list_kits(session: Session, include_archived: bool = False) -> Sequence[KitTemplate]:
    """Kit templates with their lines and items loaded (list pages and the API)."""
    query = select(KitTemplate).options(
        selectinload(KitTemplate.lines).selectinload(KitLine.item).selectinload(Item.product)
    ).order_by(KitTemplate.archived, KitTemplate.name)
    if not include_archived:
        query = query.where(KitTemplate.archived.is_(False))
    return session.scalars(query).all()


def kits_page(session: Session, page: int = 1, per_page: int = 50, include_archived: bool = False) -> Page:
    """One page of kit templates, by name, with their lines loaded (the API's list)."""
    conditions: list[ColumnElement[bool]] = [] if include_archived else [KitTemplate.archived.is_(False)]
    total = session.execute(select(func.count(KitTemplate.id)).where(*conditions)).scalar_one()
    rows = session.scalars(
        select(KitTemplate).where(*conditions).options(
            selectinload(KitTemplate.lines).selectinload(KitLine.item).selectinload(Item.product))
        .order_by(KitTemplate.name, KitTemplate.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(rows, page, per_page, total)


def kit_cost(kit: KitTemplate) -> Decimal:
    """What the consumables and returnables of one kit are worth at unit cost."""
    return sum((line.quantity * (line.item.unit_cost or Decimal("0")) for line in kit.lines), Decimal("0.00"))


def _resolve(session: Session, sku: str | None) -> Item:
    sku = normalize_sku(clean(sku))
    item = session.scalar(select(Item).where(Item.sku == sku).options(selectinload(Item.product)))
    if item is not None:
        return item
    pattern = sku.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "-%"
    sizes = session.scalars(
        select(Item.sku).where(Item.sku.like(pattern, escape="\\"), Item.size.is_not(None), Item.archived.is_(False))
        .order_by(Item.size_rank, Item.sku).limit(8)).all()
    if sizes:
        raise InvalidInput(f"{sku} comes in sizes: list each size you want ({', '.join(sizes)}).")
    raise InvalidInput(f"No item has the SKU {sku}." if sku else "Give the item's SKU.")


def _clean_lines(session: Session, lines: Iterable[tuple[str | None, object]]) -> list[tuple[Item, int]]:
    """[(sku, quantity)] -> [(Item, quantity)]: known, not archived, each SKU once. A refusal says
    which line and box it is about, e.g. (2, "quantity"), so a page can show it there."""
    cleaned: list[tuple[Item, int]] = []
    seen: set[int] = set()
    lines = list(lines)
    check_line_count([line for line in lines if clean(line[0]) or line[1] not in (None, "", 0)], "A kit")
    for index, (sku, quantity) in enumerate(lines):
        if not clean(sku) and quantity in (None, "", 0):
            continue  # an empty row of the form
        if not clean(sku):
            raise InvalidInput("This line has a quantity but no SKU.", about=(index, "sku"))
        try:
            item = _resolve(session, sku)
        except InvalidInput as error:
            error.about = (index, "sku")
            raise
        if not is_whole_number(quantity):
            raise InvalidInput(f"Quantity of {item.sku} must be a whole number.", about=(index, "quantity"))
        if quantity <= 0 or quantity > MAX_LINE_QUANTITY:
            raise InvalidInput(f"Quantity of {item.sku} must be between 1 and {MAX_LINE_QUANTITY:,}.",
                               about=(index, "quantity"))
        if item.id in seen:
            raise InvalidInput(f"{item.sku} is in the kit twice: give it one line.", about=(index, "sku"))
        if item.archived:
            raise InvalidInput(f"{item.sku} is archived and cannot be part of a kit.", about=(index, "sku"))
        seen.add(item.id)
        cleaned.append((item, quantity))
    if not cleaned:
        raise InvalidInput("A kit needs at least one line: an item's SKU and how many go in one kit.",
                           about=(0, "sku"))
    return cleaned


def _clean_kit(session: Session, name: str | None, description: str | None,
               kit_id: int | None = None) -> tuple[str, str]:
    name = clean(name)
    if not name:
        raise InvalidInput("Give the kit a name.", about=(None, "name"))
    if len(name) > 120:
        raise InvalidInput("The kit's name is too long (120 characters at most).", about=(None, "name"))
    description = clean(description)
    if len(description) > 4000:
        raise InvalidInput("The description is too long (4,000 characters at most).", about=(None, "description"))
    taken = session.scalar(select(KitTemplate.id).where(func.lower(KitTemplate.name) == name.lower(),
                                                        KitTemplate.id != (kit_id or 0)))
    if taken:
        raise DuplicateCode(f"There is already a kit called {name}.", about=(None, "name"))
    return name, description


@unit_of_work
def create_kit(session: Session, user: User, *, name: str, description: str = "",
               lines: Iterable[tuple[str | None, object]]) -> KitTemplate:
    """A new kit template. `lines` is [(sku, quantity)]."""
    require_manager(user)
    name, description = _clean_kit(session, name, description)
    kit = KitTemplate(name=name, description=description)
    cleaned = _clean_lines(session, lines)
    # A print piece near its date names its kits: the forecast projects these items again, so
    # they are locked first, in id order (as a swap of successors locks them).
    lock_items(session, [item.id for item, _quantity in cleaned])
    for item, quantity in cleaned:
        kit.lines.append(KitLine(item_id=item.id, quantity=quantity))
    session.add(kit)
    return kit


@unit_of_work
def update_kit(session: Session, kit_id: int, user: User, *, name: str, description: str = "",
               lines: Iterable[tuple[str | None, object]]) -> KitTemplate:
    """Change a template. Lines are updated in place (kit, item) so that a kept item keeps its
    row. Kits already reserved are not changed: their requests hold what was reserved then."""
    require_manager(user)
    kit = get_kit(session, kit_id)
    name, description = _clean_kit(session, name, description, kit_id=kit.id)
    wanted = {item.id: quantity for item, quantity in _clean_lines(session, lines)}
    lock_items(session, [*wanted, *(line.item_id for line in kit.lines)])  # before any line changes
    for line in list(kit.lines):
        if line.item_id in wanted:
            line.quantity = wanted.pop(line.item_id)
        else:
            kit.lines.remove(line)
    session.flush()  # deletes before inserts: a re-added item never meets its old row
    for item_id, quantity in wanted.items():
        kit.lines.append(KitLine(item_id=item_id, quantity=quantity))
    kit.name, kit.description = name, description
    return kit


@unit_of_work
def set_kit_archived(session: Session, kit_id: int, user: User, archived: bool = True) -> KitTemplate:
    """Archived kits leave the lists and cannot be reserved; their reservations keep their link."""
    require_manager(user)
    kit = get_kit(session, kit_id)
    lock_items(session, [line.item_id for line in kit.lines])
    kit.archived = archived
    return kit


@unit_of_work
def delete_kit(session: Session, kit_id: int, user: User) -> None:
    """Delete a template that was never reserved (otherwise archive it: requests point to it)."""
    require_manager(user)
    kit = get_kit(session, kit_id)
    if session.scalar(select(func.count(Request.id)).where(Request.kit_id == kit.id)):
        raise Conflict(f"{kit.name} has been reserved for events; archive it instead of deleting it.")
    lock_items(session, [line.item_id for line in kit.lines])
    session.delete(kit)


# Availability -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Component:
    item: Item
    per_kit: int
    free: int

    @property
    def kits(self) -> int:
        """Whole kits this component alone allows."""
        return max(0, self.free) // self.per_kit


@dataclass(frozen=True)
class KitAvailability:
    kit: KitTemplate
    window: Window
    components: list[Component]

    @property
    def buildable(self) -> int:
        return min((c.kits for c in self.components), default=0)

    @property
    def limiting(self) -> Component | None:
        """The component that runs out first (fewest whole kits; the first such line on a tie)."""
        return min(self.components, key=lambda c: c.kits) if self.components else None


def event_window(event: Event) -> Window:
    """The days a kit reserved for `event` is held: from ship-by up to return-by (or the end)."""
    return Window.of(event.ship_by, event.window_end)


def availability(session: SessionLike, kit: KitTemplate, window: Window) -> KitAvailability:
    """How many whole kits can be built for `window`, and which component runs out first.

    Per component: what a new reservation could take (free_quantity: consumables now,
    returnables within the window)."""
    return KitAvailability(kit, window, [
        Component(line.item, line.quantity, free_quantity(session, line.item, window)) for line in kit.lines])


# Reserving ---------------------------------------------------------------------------------

class KitShort(ShortStock):
    """N kits cannot be built whole: nothing was held. `component` is the short component that
    runs out first, `buildable` how many whole kits could be reserved instead."""

    def __init__(self, kit: KitTemplate, count: int, shortages: Sequence[Shortage], per_kit: dict[str, int]) -> None:
        super().__init__(shortages)
        self.kit, self.count = kit, count
        by_kits = [(s.available // per_kit[s.sku], s) for s in shortages]
        self.buildable, self.component = min(by_kits, key=lambda pair: pair[0])
        c = self.component
        self.message = (
            f"Not enough for {count} × {kit.name}: {c.name} ({c.sku}) is short: {c.requested} needed, "
            f"{c.available} free for the event's dates. "
            + (f"{self.buildable} whole kit{'s' if self.buildable != 1 else ''} can be reserved. "
               if self.buildable else "Not one whole kit can be built. ")
            + "Nothing was held.")
        self.args = (self.message,)


def _lock_event(session: Session, event: Event) -> None:
    """Lock the event's row (PostgreSQL: FOR NO KEY UPDATE, which a new request's foreign key to
    it does not wait for) and read its budget afresh; SQLite's write transaction serializes
    writers already."""
    session.refresh(event, attribute_names=["budget"], with_for_update={"key_share": True})


@unit_of_work
def reserve_kit(session: Session, user: User, event_id: int, kit_id: int, count: int, *, handoff: str = "pickup",
                ship_to: str = "", note: str = "", today: date | None = None, allow_partial: bool = False,
                over_budget_ok: bool = False) -> Request:
    """Reserve `count` kits for an event: one request holding every component x count, needed by
    the event's ship-by date and (for returnables) back by its return-by date.

    All or nothing: when any component is short, nothing is held and KitShort names the component
    that runs out first and how many whole kits could be reserved. With `allow_partial`, what is
    there is held and the rest of each component is backordered, so the shortfall shows on the
    Reorders page in time to order it for the event.

    An event with a budget is locked first (the document, in the global lock order: two
    reservations for it are counted one after the other) and, when the kits would take it beyond
    its budget, OverEventBudget refuses them (nothing is held) unless `over_budget_ok`
    (budgets/kit_budget.py). A backordered part costs what a held one does, so `allow_partial`
    does not change the amount.
    """
    require_manager(user)
    today = today or date.today()
    if not is_whole_number(count):
        raise InvalidInput("Say how many kits: a whole number.")
    if count <= 0 or count > MAX_KITS:
        raise InvalidInput(f"Reserve between 1 and {MAX_KITS} kits.")
    event = get_event(session, event_id)
    kit = get_kit(session, kit_id)
    if event.cancelled:
        raise Conflict(f"{event.name} is cancelled; nothing can be reserved for it.")
    if event.ship_by < today:
        raise InvalidInput(f"{event.name} had to ship by {event.ship_by:%-d %b %Y}; that day has passed. "
                           "Change the event's ship-by date first.")
    if kit.archived:
        raise InvalidInput(f"{kit.name} is archived; restore it before reserving it.")
    if not kit.lines:
        raise InvalidInput(f"{kit.name} has no lines yet.")
    if event.budget is not None:
        _lock_event(session, event)
        check = kit_budget(session, event, kit, count)
        if check.over and not over_budget_ok:
            raise OverEventBudget(check)
    lines = [(line.item, line.quantity * count) for line in kit.lines]
    note = clean(note) or f"{count} × {kit.name} for {event.name}"
    try:
        return submission.submit(session, user, lines, purpose="trade_show", needed_by=event.ship_by,
                                 return_by=event.window_end, handoff=handoff, ship_to=clean(ship_to), note=note,
                                 event_id=event.id, kit_id=kit.id, kit_count=count, today=today,
                                 allow_partial=allow_partial)
    except ShortStock as error:
        raise KitShort(kit, count, error.shortages, {line.item.sku: line.quantity for line in kit.lines}) from None


def kits_of_event(requests_of_event: Iterable[Request]) -> list[tuple[Request, KitTemplate | None, int]]:
    """The kits reserved for an event, from its (loaded) requests: [(request, kit, count)]."""
    return [(r, r.kit, r.kit_count) for r in requests_of_event if r.kit_id is not None]

