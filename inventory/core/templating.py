"""What every template can use: the navigation for the user's role, dates in words, money, and
the request statuses to compare with (`r.status == Status.READY`)."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, g, request, url_for
from flask_login import current_user

from ..auth.roles import MANAGERS, STAFF
from ..forms import ButtonForm
from ..purchasing.models import order_number
from ..requests.lifecycle import Status
from ..requests.models import request_number
from ..timeutil import utcnow
from . import money

def last_segment_url(endpoint: str, name: str, value: int | str, placeholder: int | str) -> str:
    """url_for(endpoint, **{name: value}) for an endpoint whose URL ends in that value, at a
    fraction of the cost: url_for runs once per request and endpoint (with `placeholder`, which
    must come out unchanged in the URL) and the value is appended from then on. Only for values
    a URL path keeps as they are (digits; letters, dots, dashes, underscores). List pages link
    hundreds of rows, and url_for was the most expensive part of drawing them."""
    prefixes = g.setdefault("last_segment_prefixes", {})
    prefix = prefixes.get(endpoint)
    if prefix is None:
        url = url_for(endpoint, **{name: placeholder})
        placeholder = str(placeholder)
        assert url.endswith(placeholder), url
        prefix = prefixes[endpoint] = url[:-len(placeholder)]
    return prefix + str(value)


PHONE, LAPTOP = "phone", "laptop"
EVERYONE = ("rep", "staff", "manager", "admin")
# The phone's bottom bar: the few things each role does most (at most five), Today first.
# (label, endpoint, icon, roles). Entries whose pages are not part of the app (yet) are left out.
# The rep's Requests tab opens the request being put together while it holds anything (its badge
# says how many units), else My requests: never an empty cart.
PHONE_BAR = [
    ("Today", "today.index", "today", EVERYONE),
    ("Catalog", "catalog.index", "catalog", ("rep", "manager", "admin")),
    ("Requests", "requests.mine", "list", ("rep",)),
    ("Requests", "requests.queue", "list", ("manager", "admin")),
    ("Pick", "requests.picking", "check", ("staff",)),
    ("Bins", "bins.index", "bins", ("staff",)),
    ("Scan", "labels.scan", "scan", EVERYONE),
    ("Me", "auth.profile", "person", EVERYONE),
]
# The laptop's top bar: a few links and menus (a <details> each), not a dozen links. A menu with
# one entry for the user's role shows as that link. (label, endpoint, roles) or (label, [entries]).
TOP_BAR = [
    ("Today", "today.index", EVERYONE),
    ("Catalog", "catalog.index", EVERYONE),
    ("Requests", [
        ("My request", "requests.new", ("rep",)),
        ("My requests", "requests.mine", ("rep",)),
        ("Queue", "requests.queue", ("manager", "admin")),
        ("To pick", "requests.picking", ("staff", "manager", "admin")),
    ]),
    ("Stock", [
        ("Bins", "bins.index", ("staff", "manager", "admin")),
        ("Deliveries", "purchasing.index", ("staff",)),
        ("Purchase orders", "purchasing.index", ("manager", "admin")),
        ("Scan", "labels.scan", EVERYONE),
        ("Import/Export", "transfer.index", ("manager", "admin")),
        ("Export", "transfer.index", ("staff",)),
    ]),
    ("Plan", [
        ("Events", "events.index", EVERYONE),
        ("Reorders", "forecast.dashboard", ("manager", "admin")),
        ("Reports", "reports.overview", ("manager", "admin")),
        ("Budgets", "budgets.index", ("manager", "admin")),
    ]),
    ("Admin", [
        ("Users", "auth.users", ("admin",)),
        ("Teams", "teams.index", ("manager", "admin")),
        ("Outbox", "mail.outbox", ("manager", "admin")),
    ]),
    ("Me", "auth.profile", EVERYONE),
]
# Pages whose section (the endpoint's blueprint) has several entries: only the exact page is current.
_SHARED_SECTIONS = ("core", "auth", "stock", "requests", "labels")


def _is_current(endpoint):
    current = request.endpoint or ""
    section = endpoint.split(".")[0]
    return current == endpoint or (section not in _SHARED_SECTIONS and current.startswith(section + "."))


def _draft_lines():
    """[(sku, quantity)] of the current user's unsent request, read once per page (the navigation
    and the pages that mention the draft all use it)."""
    if "draft_lines" not in g:
        from sqlalchemy import select

        from ..extensions import db
        from ..requests.models import RequestDraft

        g.draft_lines = db.session.scalar(select(RequestDraft.lines).where(RequestDraft.user_id == current_user.id)) or []
    return g.draft_lines


def _draft_units():
    return sum(quantity for _sku, quantity in _draft_lines())


def _entry(label, endpoint, icon=None):
    entry = {"label": label, "url": url_for(endpoint), "icon": icon, "active": _is_current(endpoint), "badge": 0}
    if endpoint == "requests.new":
        entry["badge"] = _draft_units()
    return entry


def navigation(where: str = PHONE) -> list[dict]:
    """The phone's bottom bar for the current user: [{label, url, icon, active, badge}]."""
    if not current_user.is_authenticated:
        return []
    entries = []
    for label, endpoint, icon, roles in PHONE_BAR:
        if current_user.role not in roles or endpoint not in current_app.view_functions:
            continue
        entry = _entry(label, endpoint, icon)
        if endpoint == "requests.mine":  # the rep's Requests tab: the draft while it holds anything
            entry["badge"] = _draft_units()
            if entry["badge"]:
                entry["url"] = url_for("requests.new")
            entry["active"] = (request.endpoint or "") in ("requests.new", "requests.mine", "requests.show")
        entries.append(entry)
    return entries


def top_bar() -> list[dict]:
    """The laptop's top bar for the current user: links ({label, url, active, badge}) and menus
    ({label, entries, active})."""
    if not current_user.is_authenticated:
        return []
    def allowed(endpoint, roles):
        return current_user.role in roles and endpoint in current_app.view_functions

    shown = []
    for label, target, *roles in TOP_BAR:
        if isinstance(target, str):
            if allowed(target, roles[0]):
                shown.append(_entry(label, target))
            continue
        entries = [_entry(name, endpoint) for name, endpoint, who in target if allowed(endpoint, who)]
        if len(entries) == 1:
            shown.append(entries[0])
        elif entries:
            shown.append({"label": label, "entries": entries, "active": any(e["active"] for e in entries)})
    return shown


def unsent_draft() -> tuple[int, int] | None:
    """(lines, units) of the current user's request not sent yet, or None: for the pages that say so."""
    if not current_user.is_authenticated or not _draft_lines():
        return None
    return len(_draft_lines()), _draft_units()


def ago(moment: datetime | None) -> str:
    """'3 min ago', 'yesterday', '12 Mar 2026' for a naive-UTC datetime."""
    if moment is None:
        return ""
    seconds = (utcnow() - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 2 * 86400:
        return "yesterday"
    if seconds < 7 * 86400:
        return f"{int(seconds // 86400)} days ago"
    return moment.strftime("%-d %b %Y")


def init_app(app: Flask) -> None:
    money.init_app(app)  # the `money` and `number` filters, one formatter for the app
    app.jinja_env.filters["ago"] = ago
    # {{ r.id|request_number }} and {{ o.id|order_number }}: the formats the models use, for rows that are not models
    app.jinja_env.filters["request_number"] = request_number
    app.jinja_env.filters["order_number"] = order_number
    app.jinja_env.filters["utc"] = lambda m: m.strftime("%Y-%m-%d %H:%M UTC") if isinstance(m, datetime) else ""
    # A request's status, named: {% if r.status == Status.READY %} (a StrEnum, equal to the stored string).
    app.jinja_env.globals["Status"] = Status

    @app.context_processor
    def _globals():
        return {
            "navigation": navigation,
            "top_bar": top_bar,
            "unsent_draft": unsent_draft,
            # Never bound to the request: an error page (413 above all) must not read its body.
            "logout_form": lambda: ButtonForm(formdata=None),
            "is_staff": current_user.is_authenticated and current_user.role in STAFF,
            "is_manager": current_user.is_authenticated and current_user.role in MANAGERS,
        }
