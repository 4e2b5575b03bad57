"""Request rules: submit (reserve), approve, reject, cancel, change quantities, pick, check
in. Hand-over and its undo live in handover.py (`services.hand_over` still names it); what is
free, the item locks and the backorder queue live in inventory/holds/.

Every rule runs in one write transaction and locks the rows of the items it touches before it
reads availability, so two reps reserving the last units at the same instant are served one
after the other: the second sees what the first took. Nothing is ever held beyond what is
free: available = on hand - held never goes below zero.
"""
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import contains_eager, make_transient_to_detached, selectinload

from ..bins.models import DISPATCH_CODE, Bin
from ..catalog.models import Item
from ..database import unit_of_work
from ..errors import Conflict, DomainError, InvalidInput, NotFound, ShortStock
from ..events.models import Event
from ..forecast.changes import items_changed
from ..holds.availability import Window, free_quantities, free_quantity, request_window
from ..holds.backorders import fill_backorders, shrink_overbooked
from ..holds.locks import lock_items
from ..limits import check_line_count, positive_quantity
from ..stock import services as stock
from ..stock.models import StockLevel
from ..text import is_whole_number, limited
from ..timeutil import plan_limit, utcnow
from . import drafts, emails
from .lifecycle import Action, Status, require
from .models import (
    HANDOFFS,
    OUTCOMES,
    PURPOSES,
    Request,
    RequestLine,
    RequestStep,
)


@dataclass(frozen=True)
class Shortage:
    sku: str
    name: str
    requested: int
    available: int
    line_id: int | None = None  # the request line that is short, when changing an existing request


def _step(session, request, user, action, note=""):
    note = limited(note, "The note", MAX_NOTE)  # a TEXT column: capped like the request's own note
    session.add(RequestStep(request=request, user_id=user.id, action=action, note=note))


_window = request_window  # the days a request's returnables hold their units now


def get_request(session, request_id):
    request = session.scalar(
        select(Request).where(Request.id == request_id).options(
            selectinload(Request.lines).selectinload(RequestLine.item).selectinload(Item.product),
            selectinload(Request.steps).selectinload(RequestStep.user),
            selectinload(Request.requester),
        )
    )
    if request is None:
        raise NotFound(f"No request #{request_id}.")
    return request


def _load_for_update(session, request_id):
    request = session.get(Request, request_id, populate_existing=True)
    if request is None:
        raise NotFound(f"No request #{request_id}.")
    locked = set()
    while not (item_ids := {line.item_id for line in request.lines}) <= locked:
        lock_items(session, item_ids - locked)
        locked |= item_ids
        # Lines may have changed while we waited for the locks (refresh reloads them too): one may
        # even have moved onto another item (a successor swapped in), whose lock is taken next.
        session.refresh(request)
        for line in request.lines:
            session.refresh(line)
    return request


MAX_SHIP_TO, MAX_NOTE = 500, 1000  # as the request form allows
MAX_REJECTION_REASON = 300  # as the reject form allows


def validate_details(*, purpose, needed_by, return_by=None, handoff="pickup", ship_to="", note="",
                     has_returnables=False, today=None):
    today = today or date.today()
    if purpose not in PURPOSES:
        raise InvalidInput(f"Purpose must be one of: {', '.join(PURPOSES)}.")
    if not isinstance(needed_by, date):
        raise InvalidInput("Say when you need it (needed-by date).")
    if needed_by < today:
        raise InvalidInput(f"The needed-by date {needed_by.isoformat()} is in the past.")
    if handoff not in HANDOFFS:
        raise InvalidInput("Hand-off must be pick up or ship.")
    if handoff == "ship" and not (ship_to or "").strip():
        raise InvalidInput("Give the address to ship to.")
    if len(ship_to or "") > MAX_SHIP_TO:
        raise InvalidInput(f"The ship-to address is too long: at most {MAX_SHIP_TO} characters.")
    if len(note or "") > MAX_NOTE:
        raise InvalidInput(f"The note is too long: at most {MAX_NOTE} characters.")
    if return_by is not None and not isinstance(return_by, date):
        raise InvalidInput("The return date must be a date.")
    if has_returnables and return_by is None:
        raise InvalidInput("Returnable items need a return date: when will they be back?")
    if return_by is not None and return_by < needed_by:
        raise InvalidInput("The return date is before the needed-by date.")
    if (return_by or needed_by) > plan_limit(today):
        raise InvalidInput(f"{(return_by or needed_by).isoformat()} is too far ahead: plan at most five years out.")


def _clean_lines(lines, today):
    """[(Item, qty)] -> the same, validated: positive whole quantities, each SKU once,
    nothing archived or past its do-not-use-after date."""
    if not lines:
        raise InvalidInput("Add at least one item to the request.")
    check_line_count(lines, "A request")
    seen = set()
    for item, quantity in lines:
        positive_quantity(quantity, f"Quantity of {item.sku}")
        if item.id in seen:
            raise InvalidInput(f"{item.sku} is on the request twice.")
        seen.add(item.id)
        if item.archived:
            raise InvalidInput(f"{item.sku} is archived and cannot be requested.")
        if item.expired(today):
            raise InvalidInput(
                f"{item.sku} must not be used after {item.do_not_use_after.isoformat()}; it cannot be reserved.")
    return lines


@unit_of_work(expire=False)
def submit(session, requester, lines, *, purpose, needed_by, return_by=None, handoff="pickup", ship_to="",
           note="", event_id=None, allow_partial=False, kit_id=None, kit_count=0, today=None, draft_generation=None):
    """Create a request and reserve all its lines in one transaction.

    All or nothing by default: if any line is short, nothing is written and ShortStock says per
    line what is available. With `allow_partial`, what is available is held and the rest of
    each line is backordered (filled first, in request order, when stock arrives).

    Sent from the requester's draft (`draft_generation`, the generation the page was drawn
    for), the draft is emptied in the same transaction, and a draft sent already (a second tap,
    another tab) is refused with drafts.StaleDraft: a draft becomes one request, never two.
    """
    today = today or date.today()
    lines = _clean_lines(list(lines), today)
    has_returnables = any(item.returnable for item, _ in lines)
    validate_details(purpose=purpose, needed_by=needed_by, return_by=return_by, handoff=handoff, ship_to=ship_to,
                     note=note, has_returnables=has_returnables, today=today)
    window = Window.of(needed_by, return_by)
    # Nothing loaded is expired by the commits: the items and the requester stay as the caller
    # loaded them (in here only their ids count: whether an item is returnable and what is free
    # are read afresh under the locks), and the caller can answer from the request as written
    # without loading it again.
    if event_id is not None and session.get(Event, event_id) is None:
        raise NotFound(f"No event #{event_id}.")
    if draft_generation is not None:
        drafts.consume(session, requester, draft_generation, {item.sku: quantity for item, quantity in lines})
    lock_items(session, [item.id for item, _ in lines])
    free_now = free_quantities(session, [item.id for item, _ in lines], window)
    plan, shortages = [], []
    for item, quantity in lines:
        free = max(0, free_now.get(item.id, 0))
        held = min(free, quantity)
        if held < quantity:
            shortages.append(Shortage(item.sku, item.name, quantity, free))
        plan.append((item, quantity, held))
    if shortages and not allow_partial:
        raise ShortStock(shortages)
    now = utcnow()
    summary = ", ".join(f"{held} × {item.sku}" + (f" (+{q - held} backordered)" if q > held else "")
                        for item, q, held in plan)
    request = _insert_request(
        session,
        dict(requester_id=requester.id, purpose=purpose, needed_by=needed_by,
             return_by=return_by if has_returnables else None, handoff=handoff,
             ship_to=(ship_to or "").strip() if handoff == "ship" else "", note=(note or "").strip(),
             event_id=event_id, kit_id=kit_id, kit_count=kit_count, status=Status.SUBMITTED, rejection_reason="",
             created_at=now, updated_at=now),
        [dict(item_id=item.id, quantity=quantity, reserved=held, backordered=quantity - held)
         for item, quantity, held in plan],
        dict(user_id=requester.id, action="submitted", note=f"Held {summary}.", at=now),
    )
    emails.rush(session, request, requester, today)
    return request


_request, _line, _step_table = Request.__table__, RequestLine.__table__, RequestStep.__table__
_INSERT_REQUEST = insert(_request).returning(_request.c.id)
_INSERT_LINES = insert(_line).returning(_line.c.id, sort_by_parameter_order=True)  # ids in the lines' order
_INSERT_STEP = insert(_step_table)
_NOTHING_YET = dict(picked=0, issued=0, returned=0, consumed=0, lost=0, damaged=0, short=0, issued_unit_cost=None)


def _insert_request(session, fields, lines, step):
    """Write a new request, its lines and its first step: three INSERTs on the session's
    connection (every column given), and return the request as a flush would leave it:
    persistent, with its lines, every column loaded (its steps load when asked for).

    Reservations are the busiest write; the unit of work cost twice the CPU of these three
    statements for what is always the same three rows."""
    connection = session.connection()
    items_changed(session, [line["item_id"] for line in lines])  # what the forecast must project again
    request_id = connection.execute(_INSERT_REQUEST, fields).scalar_one()
    rows = [dict(_NOTHING_YET, request_id=request_id, **line) for line in lines]
    line_ids = connection.execute(_INSERT_LINES, rows).scalars().all()
    connection.execute(_INSERT_STEP, dict(step, request_id=request_id))
    request = Request(id=request_id, **fields)
    request.lines = [RequestLine(id=line_id, **row) for line_id, row in zip(line_ids, rows)]
    for written in (request, *request.lines):
        make_transient_to_detached(written)  # as loaded from the database: nothing left to flush
    session.add(request)
    return request


class RequestChanged(Conflict):
    """The request's lines are not those the page showed when its button was pressed."""

    def __init__(self, request):
        super().__init__(f"{request.number} changed since you opened it (another manager, or the rep). "
                         "Check it as it is now, then try again.")


def _check_seen(request, seen):
    """`seen` ({line_id: asked quantity} as the page showed them; None: not checked) must still be
    the request's lines: a manager approves, or changes, what they saw, never what someone else
    made of it meanwhile."""
    if seen is not None and seen != {line.id: line.quantity for line in request.lines}:
        raise RequestChanged(request)


@unit_of_work
def approve(session, request_id, manager, note="", quantities=None, seen=None):
    """Approve a submitted request: it goes on the stockroom's pick list.

    With `quantities` ({line_id: quantity}, as `change_quantities` takes them) the lines are
    changed first, in the same transaction: the request is approved with exactly those
    quantities and the hold follows, or, when a change cannot be made (not enough free, a bad
    number), nothing is changed and nothing is approved. With `seen`, refuses (RequestChanged)
    when the lines are no longer those the manager saw."""
    request = _load_for_update(session, request_id)
    require(request, Action.APPROVE, manager)
    _check_seen(request, seen)
    if quantities:
        _apply_quantities(session, request, quantities, manager)
    request.status = Status.APPROVED
    _step(session, request, manager, "approved", (note or "").strip())
    emails.approved(session, request)
    return request


def _end(session, request, user, status, note):
    """Reject or cancel: release everything held, drop backorders, then serve the queue."""
    items = set()
    for line in request.lines:
        line.reserved = line.picked  # what is not picked yet goes back
        line.backordered = 0
        items.add(line.item)
    request.status = status
    _step(session, request, user, status, note)
    session.flush()
    for item in items:
        fill_backorders(session, item)


@unit_of_work
def reject(session, request_id, manager, reason):
    """Reject with a reason; the stock held is released at once."""
    reason = limited(reason, "The reason", MAX_REJECTION_REASON, about=(None, "reason"))
    if not reason:
        raise InvalidInput("Say why the request is rejected; the rep will see it.")
    request = _load_for_update(session, request_id)
    require(request, Action.REJECT, manager)
    request.rejection_reason = reason
    _end(session, request, manager, Status.REJECTED, reason)
    emails.rejected(session, request)
    return request


@unit_of_work
def cancel(session, request_id, user, note=""):
    """The rep (or a manager) cancels before picking starts; the stock held is released."""
    request = _load_for_update(session, request_id)
    require(request, Action.CANCEL, user)
    _end(session, request, user, Status.CANCELLED, (note or "").strip())
    return request


def change_quantity(session, line_id, quantity, manager):
    """Change one line before approval; see `change_quantities`."""
    request_id = session.scalar(select(RequestLine.request_id).where(RequestLine.id == line_id))
    if request_id is None:
        raise NotFound(f"No request line #{line_id}.")
    return change_quantities(session, request_id, {line_id: quantity}, manager)


@unit_of_work
def change_quantities(session, request_id, quantities, manager, seen=None):
    """Change lines before approval, {line_id: quantity} (0 removes a line), all or none; the
    reservation follows (more needs free stock, less is released and serves the backorders).

    Refusals name the line at fault: ShortStock's shortages carry their `line_id`, and an
    InvalidInput about one line has its `about` set to the line's id."""
    request = _load_for_update(session, request_id)
    require(request, Action.CHANGE_QUANTITIES, manager)
    _check_seen(request, seen)
    _apply_quantities(session, request, quantities, manager)
    return request


def _apply_quantities(session, request, quantities, manager):
    """The body of `change_quantities`, inside the caller's write transaction, on a request
    loaded with `_load_for_update` (its items locked) and checked to be changeable. Raises
    before anything is written when a quantity is bad or more than is free; every short line is
    reported at once."""
    lines = {line.id: line for line in request.lines}
    unknown = set(quantities) - set(lines)
    if unknown:
        raise NotFound(f"No line #{min(unknown)} on request {request.number}.", about=min(unknown))
    for line_id, quantity in quantities.items():
        sku = lines[line_id].item.sku
        if not is_whole_number(quantity) or quantity < 0:
            raise InvalidInput(f"{sku}: a quantity must be a whole number, 0 or more.", about=line_id)
        if quantity > stock.MAX_QUANTITY:
            raise InvalidInput(f"{sku}: a quantity must be at most {stock.MAX_QUANTITY:,}.", about=line_id)
    if all(quantities.get(line_id, line.quantity) == 0 for line_id, line in lines.items()):
        raise InvalidInput("A request needs at least one line; reject or cancel it instead.")
    growing = {line_id: quantity for line_id, quantity in quantities.items() if quantity > lines[line_id].quantity}
    free_now = free_quantities(session, [lines[line_id].item_id for line_id in growing], _window(request))
    shortages = []
    for line_id, quantity in growing.items():
        line = lines[line_id]
        free = max(0, free_now.get(line.item_id, 0))
        if free < quantity - line.quantity:
            shortages.append(Shortage(line.item.sku, line.item.name, quantity, line.reserved + free, line_id))
    if shortages:
        raise ShortStock(shortages)
    notes, items = [], []
    for line_id, quantity in quantities.items():
        line = lines[line_id]
        item, old = line.item, line.quantity
        if quantity == old:
            continue
        if quantity == 0:
            request.lines.remove(line)
            session.delete(line)
            notes.append(f"{item.sku}: removed (was {old})")
        elif quantity > old:
            line.quantity, line.reserved = quantity, line.reserved + (quantity - old)
            notes.append(f"{item.sku}: {old} → {quantity}")
        else:
            less = old - quantity
            from_backorder = min(less, line.backordered)
            line.backordered -= from_backorder
            line.reserved -= less - from_backorder
            line.quantity = quantity
            notes.append(f"{item.sku}: {old} → {quantity}")
        items.append(item)
        session.flush()
    if notes:
        _step(session, request, manager, "changed", "; ".join(notes))
        for item in items:
            fill_backorders(session, item)


def more_free(session, request):
    """{line id: how many more units that line could hold now}, for the manager's page: what
    `change_quantities` would let a line grow by (for returnables, within the request's dates)."""
    free = free_quantities(session, [line.item_id for line in request.lines], _window(request))
    return {line.id: max(0, free.get(line.item_id, 0)) for line in request.lines}


def dispatch_bin(session):
    """The bin picked stock waits in until it is handed over (created on first use)."""
    bin = session.scalar(select(Bin).where(Bin.code == DISPATCH_CODE))
    if bin is None:
        bin = Bin(code=DISPATCH_CODE, name="Picked, waiting for hand-over", zone="Dispatch")
        session.add(bin)
        session.flush()
    return bin


def pick_list(session, request):
    """[(bin, [(line, suggested quantity)])] ordered by bin code: where to pick each line from,
    taking from the bins in code order until the line is covered."""
    lines = [line for line in request.lines if line.to_pick > 0]
    if not lines:
        return []
    levels = session.scalars(
        select(StockLevel).join(StockLevel.bin)
        .where(StockLevel.item_id.in_([line.item_id for line in lines]), StockLevel.quantity > 0,
               Bin.code != DISPATCH_CODE)
        .options(contains_eager(StockLevel.bin))
        .order_by(Bin.code)
    ).all()
    by_bin = {}
    for line in lines:
        needed = line.to_pick
        for level in levels:
            if level.item_id != line.item_id or needed <= 0:
                continue
            take = min(needed, level.quantity)
            by_bin.setdefault(level.bin_id, (level.bin, []))[1].append((line, take))
            needed -= take
    return sorted(by_bin.values(), key=lambda entry: entry[0].code)


@contextmanager
def _about(what):
    """Mark a refusal raised inside as being about `what` (a line id), unless it says already."""
    try:
        yield
    except DomainError as error:
        if error.about is None:
            error.about = what
        raise


@unit_of_work
def pick(session, request_id, bin, picks, user):
    """Pick lines of an approved request from `bin`: {line_id: quantity}. Books pick movements
    from the bin into DISPATCH; the units stay held for the request. Zero means not picked
    here. The request is ready once every held unit is picked."""
    request = _load_for_update(session, request_id)
    require(request, Action.PICK, user)
    lines = {line.id: line for line in request.lines}
    dispatch = dispatch_bin(session)
    if bin.id == dispatch.id:
        raise InvalidInput("Pick from a stock bin, not from DISPATCH.")
    picked_any = []
    for line_id, quantity in picks.items():
        with _about(line_id):  # a refusal says which line, so a page can show it there
            line = lines.get(line_id)
            if line is None:
                raise InvalidInput(f"Line #{line_id} is not on request {request.number}.")
            if not is_whole_number(quantity) or quantity < 0:
                raise InvalidInput(f"{line.item.sku}: a picked quantity must be a whole number, 0 or more.")
            if quantity > line.to_pick:
                raise InvalidInput(f"{line.item.sku}: only {line.to_pick} left to pick, not {quantity}.")
            if quantity == 0:
                continue
            stock.book(session, "pick", line.item, from_bin=bin, to_bin=dispatch, quantity=quantity, user=user,
                       reason=f"Picked for {request.number}", reference=request.number)
        line.picked += quantity
        picked_any.append(f"{quantity} × {line.item.sku}")
    if not picked_any:
        raise InvalidInput("Enter how many you picked of at least one line.")
    request.status = Status.PICKING
    _refuse_clashing_bookings(session, request)
    _step(session, request, user, "picked", f"From {bin.code}: {', '.join(picked_any)}")
    _ready_if_done(session, request, user)
    return request


def _refuse_clashing_bookings(session, request):
    """Picked or handed over before its dates (or after them), a returnable leaves the shelf
    outside its booked window: refuse when another booking holds the units then."""
    session.flush()
    window = _window(request)
    for line in request.lines:
        if line.item.returnable and line.reserved and free_quantity(session, line.item, window) < 0:
            raise Conflict(f"{line.item.sku} is booked for another request in the meantime: it can go out for "
                           f"{request.number} only within its dates ({request.needed_by.isoformat()} to "
                           f"{request.return_by.isoformat()}).")


def _ready_if_done(session, request, user):
    if all(line.to_pick == 0 for line in request.lines) and any(line.picked for line in request.lines):
        request.status = Status.READY
        _step(session, request, user, "ready", "Ready for pick-up" if request.handoff == "pickup" else "Ready to ship")
        emails.ready(session, request)


@unit_of_work
def put_back(session, request_id, line_id, bin, quantity, user):
    """Undo a pick: `quantity` of a line goes from DISPATCH back into `bin` and stays held for
    the request (to be picked again, or released). A ready request is picking again."""
    request = _load_for_update(session, request_id)
    require(request, Action.PUT_BACK, user)
    line = next((line for line in request.lines if line.id == line_id), None)
    if line is None:
        raise InvalidInput(f"Line #{line_id} is not on request {request.number}.")
    if not is_whole_number(quantity) or quantity <= 0:
        raise InvalidInput("How many to put back must be a whole number, more than zero.")
    if quantity > line.picked:
        raise InvalidInput(f"Only {line.picked} of {line.item.sku} are picked.")
    if bin.code == DISPATCH_CODE or bin.archived:
        raise InvalidInput("Put picked stock back into a stock bin.")
    stock.book(session, "move", line.item, from_bin=dispatch_bin(session), to_bin=bin, quantity=quantity,
               user=user, reason=f"Put back from {request.number}", reference=request.number, put_back=True)
    line.picked -= quantity
    request.status = Status.PICKING
    _step(session, request, user, "put_back", f"{quantity} × {line.item.sku} back into {bin.code}")
    return request


@unit_of_work
def release_unpicked(session, request_id, line_ids, user):
    """A short pick: the picker releases what could not be found; it is recorded as short."""
    request = _load_for_update(session, request_id)
    require(request, Action.RELEASE_UNPICKED, user)
    released = []
    for line in request.lines:
        if line.id in line_ids and line.to_pick > 0:
            quantity = line.to_pick
            line.reserved -= quantity
            line.short += quantity
            line.backordered = 0
            released.append(f"{quantity} × {line.item.sku}")
    if not released:
        raise InvalidInput("Nothing left to release.")
    _step(session, request, user, "short", f"Not found, released: {', '.join(released)}")
    session.flush()
    for line in request.lines:
        fill_backorders(session, line.item)
    if any(line.picked for line in request.lines):
        request.status = Status.PICKING
        _ready_if_done(session, request, user)
    return request


@unit_of_work
def check_in(session, request_id, bin, outcomes, user):
    """Check returnables back in: {line_id: {"returned": n, "consumed": n, "lost": n, "damaged": n}}
    adding up to what went out. Returned units go back into `bin`; the booking ends."""
    request = _load_for_update(session, request_id)
    require(request, Action.CHECK_IN, user)  # and that it has returnables
    if bin.code == DISPATCH_CODE or bin.archived:
        raise InvalidInput(f"Put returned units into a stock bin, not {bin.code}"
                           + (" (archived)." if bin.archived else "."), about="bin")
    lines = {line.id: line for line in request.lines if line.item.returnable and line.issued}
    if set(outcomes) != set(lines):
        raise InvalidInput("Say for every returnable line what came back.")
    summary = []
    for line_id, outcome in outcomes.items():
        line = lines[line_id]
        counts = {}
        for key in OUTCOMES:
            value = outcome.get(key, 0)
            if not is_whole_number(value) or value < 0:
                raise InvalidInput(f"{line.item.sku}: {key} must be a whole number, 0 or more.",
                                   about=(line_id, key))
            counts[key] = value
        if sum(counts.values()) != line.issued:
            raise InvalidInput(f"{line.item.sku}: {line.issued} went out, but the outcomes add up to "
                               f"{sum(counts.values())}.", about=line_id)
        if counts["returned"]:
            stock.book(session, "return", line.item, to_bin=bin, quantity=counts["returned"], user=user,
                       reason=f"Returned from {request.number}", reference=request.number)
        line.returned, line.consumed, line.lost, line.damaged = (
            counts["returned"], counts["consumed"], counts["lost"], counts["damaged"])
        line.reserved = 0
        summary.append(f"{line.item.sku}: " + ", ".join(f"{v} {k}" for k, v in counts.items() if v))
    request.status = Status.RETURNED
    _step(session, request, user, "returned", "; ".join(summary) + f" (into {bin.code})")
    session.flush()
    for line in lines.values():
        shrink_overbooked(session, line.item, user)  # lost, damaged or consumed: fewer to book
        fill_backorders(session, line.item)
    return request


def __getattr__(name):
    """`services.hand_over` and `services.undo_hand_over`: the rules of handover.py (which uses
    this module's helpers, so it is imported on first use, not at the top)."""
    if name in ("hand_over", "undo_hand_over"):
        from . import handover
        return getattr(handover, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
