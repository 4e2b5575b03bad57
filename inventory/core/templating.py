"""What every template can use: the navigation for the user's role, dates in words, money."""
from datetime import datetime

from flask import current_app, g, request, url_for
from flask_login import current_user

from ..auth.roles import MANAGERS, STAFF
from ..forms import ButtonForm
from ..timeutil import utcnow
from . import money

def last_segment_url(endpoint, name, value, placeholder):
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


# (label, endpoint, icon, roles). Bottom navigation on phones: the few things each role does most.
PHONE, LAPTOP = "phone", "laptop"
# (label, endpoint, icon, roles, where). The phone's bottom bar holds the few things each role
# does most (at most five); the laptop's top bar also lists the planning pages. Entries whose
# pages are not part of the app (yet) are left out.
NAVIGATION = [
    ("Catalog", "catalog.index", "catalog", ("rep", "manager", "admin"), PHONE),
    ("Catalog", "catalog.index", "catalog", ("staff",), LAPTOP),
    ("Request", "requests.new", "request", ("rep",), PHONE),
    ("My requests", "requests.mine", "list", ("rep",), PHONE),
    ("Requests", "requests.queue", "list", ("manager", "admin"), PHONE),
    ("Pick", "requests.picking", "check", ("staff",), PHONE),
    ("Bins", "bins.index", "bins", ("staff", "manager"), PHONE),
    ("Events", "events.index", "calendar", ("rep", "manager", "admin"), LAPTOP),
    ("Reorders", "forecast.dashboard", "alert", ("manager", "admin"), LAPTOP),
    ("Purchase orders", "purchasing.index", "truck", ("manager", "admin"), LAPTOP),
    ("Deliveries", "purchasing.index", "truck", ("staff",), PHONE),
    # Scan: the camera and a code box; /find (what the box submits to) still answers typed codes.
    ("Scan", "labels.scan", "scan", ("rep", "staff", "manager", "admin"), PHONE),
    ("Users", "auth.users", "people", ("admin",), PHONE),
    ("Outbox", "mail.outbox", "list", ("manager", "admin"), LAPTOP),
    ("Import/Export", "transfer.index", "list", ("manager", "admin"), LAPTOP),
    ("Export", "transfer.index", "list", ("staff",), LAPTOP),
    ("Reports", "reports.overview", "chart", ("manager", "admin"), LAPTOP),
    ("Me", "auth.profile", "person", ("rep", "staff", "manager", "admin"), PHONE),
]


def navigation(where=LAPTOP):
    """The navigation entries for the current user: all of them on a laptop, the phone's few."""
    if not current_user.is_authenticated:
        return []
    current = request.endpoint or ""
    entries = []
    for label, endpoint, icon, roles, place in NAVIGATION:
        if current_user.role not in roles or endpoint not in current_app.view_functions:
            continue
        if where == PHONE and place != PHONE:
            continue
        section = endpoint.split(".")[0]
        active = current == endpoint or (
            section not in ("core", "auth", "stock", "requests", "labels") and current.startswith(section + "."))
        entry = {"label": label, "url": url_for(endpoint), "icon": icon, "active": active, "badge": 0}
        if endpoint == "requests.new":
            from ..extensions import db
            from ..requests import drafts

            if "draft_count" not in g:  # the page draws the navigation twice (laptop, phone)
                g.draft_count = drafts.count(db.session, current_user)
            entry["badge"] = g.draft_count
        entries.append(entry)
    return entries


def ago(moment):
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


def init_app(app):
    money.init_app(app)  # the `money` and `number` filters, one formatter for the app
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.filters["utc"] = lambda m: m.strftime("%Y-%m-%d %H:%M UTC") if isinstance(m, datetime) else ""

    @app.context_processor
    def _globals():
        return {
            "navigation": navigation,
            # Never bound to the request: an error page (413 above all) must not read its body.
            "logout_form": lambda: ButtonForm(formdata=None),
            "is_staff": current_user.is_authenticated and current_user.role in STAFF,
            "is_manager": current_user.is_authenticated and current_user.role in MANAGERS,
        }
