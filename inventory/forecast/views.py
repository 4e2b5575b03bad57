"""The reorder dashboard: what to order, for which event, by when."""
from collections import defaultdict
from datetime import date
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, render_template, request, url_for
from markupsafe import Markup

from ..auth.roles import MANAGERS, roles_required
from ..extensions import db
from ..pagination import Page, page_arg
from . import services as forecast

bp = Blueprint("forecast", __name__)
FLAGS_PER_PAGE = 100
_QUERY_SAFE = "!$'()*,/:;?@"  # what Werkzeug's url_for leaves unquoted in a query string


def raise_po_url(flags, event=None):
    """A link to a new purchase order pre-filled with these flags' items and suggested quantities
    (None while the app has no purchasing pages)."""
    if "purchasing.new" not in current_app.view_functions or not flags:
        return None
    # What url_for(endpoint, supplier=..., line=[...], event_id=...) answers, with url_for run once
    # per request: a page of flags has a link on every row, and url_for was half of drawing it.
    if "new_po_url" not in g:
        g.new_po_url = url_for("purchasing.new")
    query = [("supplier", flags[0].item.supplier or None)]
    query += [("line", f"{f.item.sku}:{f.suggested_quantity}") for f in flags]
    query.append(("event_id", event.id if event is not None else None))
    return g.new_po_url + "?" + urlencode([(k, v) for k, v in query if v is not None], safe=_QUERY_SAFE)


def by_supplier(flags):
    groups = defaultdict(list)
    for flag in flags:
        groups[flag.item.supplier or ""].append(flag)
    return sorted(groups.items())


@bp.route("/reorders")
@roles_required(MANAGERS)
def dashboard():
    today = date.today()
    settings = forecast.settings_from(current_app.config)
    current = forecast.current_flags(db.session, today, settings)
    flags = current.flags
    counts = {status: sum(1 for f in flags if f.status == status)
              for status in (forecast.EXPEDITE, forecast.NOW, forecast.SOON)}
    # Most urgent first, a page at a time: a large catalog can flag hundreds of items at once.
    page = Page(flags, page_arg(), FLAGS_PER_PAGE, len(flags))
    shown = flags[(page.page - 1) * page.per_page:page.page * page.per_page]
    flag_groups = Markup(render_template(
        "forecast/_flag_groups.html", groups=forecast.by_event(shown), page=page, raise_po_url=raise_po_url,
        by_supplier=by_supplier))
    return render_template("forecast/dashboard.html", flag_groups=flag_groups, counts=counts, today=today,
                           settings=settings, labels=forecast.STATUS_LABELS)


@bp.app_template_global()
def event_forecast(event):
    """Flags concerning one event (for the event page's projected shortfalls)."""
    return forecast.event_flags(db.session, event, date.today(), forecast.settings_from(current_app.config))


@bp.app_template_global()
def forecast_raise_po_url(flags, event=None):
    return raise_po_url(flags, event)
