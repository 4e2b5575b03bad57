"""The reorder dashboard: what to order, for which event, by when, read from the stored flags."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, render_template, url_for

from ..auth.roles import MANAGERS, roles_required
from .. import timeutil
from ..catalog.models import Item
from ..events.models import Event
from ..extensions import db
from ..pagination import Page, page_arg
from . import stored
from .models import EXPEDITE, NOW, PLANNED, RETIRE, RETIRING, SOON, STATUS_LABELS, ReorderFlag

bp = Blueprint("forecast", __name__)
FLAGS_PER_PAGE = 100
_QUERY_SAFE = "!$'()*,/:;?@"  # what Werkzeug's url_for leaves unquoted in a query string
# The groups of the page, in the order they are read, with what each means.
GROUPS = (EXPEDITE, NOW, SOON, RETIRE, PLANNED)


def raise_po_url(flags: Iterable[ReorderFlag], event: Event | None = None) -> str | None:
    """A link to a new purchase order pre-filled with these flags' items and suggested quantities
    (None while the app has no purchasing pages, or when nothing is left to order)."""
    flags = [f for f in flags if f.suggested_quantity > 0]
    if "purchasing.new" not in current_app.view_functions or not flags:
        return None
    # What url_for(endpoint, supplier=..., line=[...], event_id=...) answers, with url_for run once
    # per request: a page of flags has a link on every row.
    if "new_po_url" not in g:
        g.new_po_url = url_for("purchasing.new")
    query = [("supplier", flags[0].item.supplier or None)]
    query += [("line", f"{f.item.sku}:{f.suggested_quantity}") for f in flags]
    query.append(("event_id", event.id if event is not None else None))
    return g.new_po_url + "?" + urlencode([(k, v) for k, v in query if v is not None], safe=_QUERY_SAFE)


def draft_url(flag: ReorderFlag) -> str | None:
    """The page of the flag's first draft purchase order, or None."""
    draft = next((o for o in flag.orders if o["status"] == "draft"), None)
    if draft is None or "purchasing.show" not in current_app.view_functions:
        return None
    return url_for("purchasing.show", order_id=draft["id"])


def by_supplier(flags: Iterable[ReorderFlag]) -> list[tuple[str, list[ReorderFlag]]]:
    groups = defaultdict(list)
    for flag in flags:
        if flag.kind != RETIRING:
            groups[flag.item.supplier or ""].append(flag)
    return sorted(groups.items())


@bp.route("/reorders")
@roles_required(MANAGERS)
def dashboard() -> str:
    today = stored.current(db.session)
    counts = stored.counts(db.session)
    total = sum(counts.values())
    page = Page([], page_arg(), FLAGS_PER_PAGE, total)
    shown = stored.page_of_flags(db.session, page.page, page.per_page)
    groups = []
    for status in GROUPS:
        of_status = [flag for flag in shown if flag.status == status]
        if of_status:
            groups.append((status, stored.by_event(of_status)))
    return render_template("forecast/dashboard.html", groups=groups, page=page, counts=counts, today=today,
                           real_today=timeutil.today(),
                           raise_po_url=raise_po_url, by_supplier=by_supplier,
                           settings=stored.settings(), labels=STATUS_LABELS, statuses=GROUPS)


@bp.app_template_global()
def event_forecast(event: Event) -> Sequence[ReorderFlag]:
    """The stored flags of one event (for the event page's projected shortfalls)."""
    stored.current(db.session)
    return stored.event_flags(db.session, event.id)


@bp.app_template_global()
def item_forecast(item: Item) -> Sequence[ReorderFlag]:
    """The stored flags of one item (for its page)."""
    stored.current(db.session)
    return stored.item_flags(db.session, item.id)


@bp.app_template_global()
def forecast_raise_po_url(flags: Iterable[ReorderFlag], event: Event | None = None) -> str | None:
    return raise_po_url(flags, event)


@bp.app_template_global()
def forecast_draft_url(flag: ReorderFlag) -> str | None:
    return draft_url(flag)


@bp.app_template_global()
def successor_swap_url(item: Item) -> str | None:
    """The page that swaps an item's successor into what still holds it, for managers (None
    when the item names no successor)."""
    if getattr(item, "replaced_by_id", None) is None or "catalog.swap_successor" not in current_app.view_functions:
        return None
    from ..requests.successors import holders

    if not any(holders(db.session, item)):  # nothing to swap: what is left on the shelf is recycled
        return None
    return url_for("catalog.swap_successor", sku=item.sku)
