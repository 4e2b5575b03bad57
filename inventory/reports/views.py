"""Report pages for managers: each parses the period (or number of days), calls one report
function and renders it as a page or, at the same address with .csv, as a CSV download."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.roles import MANAGERS, roles_required
from ..budgets import event_spend
from ..errors import InvalidInput
from ..extensions import db
from ..pagination import Page, page_arg
from . import charts, deliveries, downloads, event_costs, over_time, periods, shelf, usage
from .common import days_arg

bp = Blueprint("reports", __name__)

PER_PAGE = 50
SLOW_DAYS, EXPIRING_DAYS = 90, 30
# (endpoint, title): the reports, in the order the overview and the report menu list them.
REPORTS = [
    ("reports.overview", "Overview"),
    ("reports.events", "Per event"),
    ("reports.reps", "Per rep"),
    ("reports.items", "Per item"),
    ("reports.stock_value", "Stock value"),
    ("reports.slow_movers", "Slow movers"),
    ("reports.expiring", "Expiring print"),
    ("reports.service_level", "Service level"),
]


def _today():
    return date.today()


def _wants_csv():
    return request.path.endswith(".csv")


def _refuse(template, error, **context):
    """A bad period or number of days: the message (and the form to fix it), changing nothing."""
    if _wants_csv():
        return Response(error.message + "\n", status=400, mimetype="text/plain")
    return render_template(template, error=error.message, period=None, **_common(), **context), 400


def _common():
    return {"reports": REPORTS, "presets": periods.PRESETS, "args": request.args}


def _page_of(rows, page):
    """A page of rows already computed in full (the usage reports sort by cost in Python)."""
    return Page(rows[(page - 1) * PER_PAGE:page * PER_PAGE], page, PER_PAGE, len(rows))


def _event_bars(report):
    """A bar per event. Requests for no event are left out of the chart (the page states their
    cost in words): their sum would dwarf every show's bar."""
    return charts.bars((entry.name, entry.usage.cost, url_for("events.show", event_id=entry.event.id), False)
                       for entry in report.rows if entry.event is not None)


def _time_columns(size, buckets):
    return charts.columns((_bucket_label(size, b), _bucket_title(size, b), b.usage.cost) for b in buckets)


def _bucket_label(size, bucket):
    if size == "month":
        return f"{bucket.first:%b}" if bucket.first.month != 1 else f"{bucket.first:%b %y}"
    return f"{bucket.first:%-d %b}"


def _bucket_title(size, bucket):
    if size == "day":
        return f"{bucket.first:%a %-d %b %Y}"
    if size == "month":
        return f"{bucket.first:%B %Y}"
    return f"Week of {bucket.first:%-d %b %Y}"


@bp.route("/reports")
@roles_required(MANAGERS)
def overview() -> ResponseReturnValue:
    """What did we spend on swag for each show this quarter: cost per event, over time, and
    where each of the other reports stands."""
    today = _today()
    try:
        period = periods.from_args(request.args, today)
    except InvalidInput as error:
        return _refuse("reports/overview.html", error)
    by_event = event_costs.usage_by_event(db.session, period)
    size, buckets = over_time.usage_over_time(db.session, period)
    return render_template(
        "reports/overview.html", period=period, error=None, by_event=by_event, event_bars=_event_bars(by_event),
        size=size, buckets=buckets, time_chart=_time_columns(size, buckets),
        level=deliveries.service_level(db.session, period, today), value=shelf.stock_value(db.session),
        slow=shelf.slow_movers(db.session, SLOW_DAYS, today, per_page=1)[1],
        expiring=shelf.expiring(db.session, EXPIRING_DAYS, today, per_page=1)[1:],
        slow_days=SLOW_DAYS, expiring_days=EXPIRING_DAYS, **_common())


@bp.route("/reports/over-time.csv")
@roles_required(MANAGERS)
def over_time_csv() -> ResponseReturnValue:
    try:
        period = periods.from_args(request.args, _today())
    except InvalidInput as error:
        return _refuse("reports/overview.html", error)
    size, buckets = over_time.usage_over_time(db.session, period)
    return downloads.csv_response(f"usage-per-{size}_{period.slug}.csv", *downloads.over_time(size, buckets))


@bp.route("/reports/events")
@bp.route("/reports/events.csv", endpoint="events_csv")
@roles_required(MANAGERS)
def events() -> ResponseReturnValue:
    try:
        period = periods.from_args(request.args, _today())
    except InvalidInput as error:
        return _refuse("reports/events.html", error)
    report = event_costs.usage_by_event(db.session, period)
    # Each event's budget against what it is expected to cost in all (budgets/event_spend.py).
    budgets = event_spend.event_costs(db.session, [e.event for e in report.rows if e.event is not None])
    if _wants_csv():
        return downloads.csv_response(f"cost-per-event_{period.slug}.csv", *downloads.events(report, budgets))
    return render_template("reports/events.html", period=period, error=None, report=report, budgets=budgets,
                           event_bars=_event_bars(report), **_common())


@bp.route("/reports/reps")
@bp.route("/reports/reps.csv", endpoint="reps_csv")
@roles_required(MANAGERS)
def reps() -> ResponseReturnValue:
    try:
        period = periods.from_args(request.args, _today())
    except InvalidInput as error:
        return _refuse("reports/reps.html", error)
    report = usage.usage_by_rep(db.session, period)
    if _wants_csv():
        return downloads.csv_response(f"usage-per-rep_{period.slug}.csv", *downloads.reps(report))
    bars = charts.bars((row.rep.display_name, row.usage.cost, None, False) for row in report.rows[:10])
    return render_template("reports/reps.html", period=period, error=None, report=report, bars=bars,
                           page=_page_of(report.rows, page_arg()), **_common())


@bp.route("/reports/items")
@bp.route("/reports/items.csv", endpoint="items_csv")
@roles_required(MANAGERS)
def items() -> ResponseReturnValue:
    try:
        period = periods.from_args(request.args, _today())
    except InvalidInput as error:
        return _refuse("reports/items.html", error)
    report = usage.usage_by_item(db.session, period)
    if _wants_csv():
        return downloads.csv_response(f"usage-per-item_{period.slug}.csv", *downloads.items(report))
    return render_template("reports/items.html", period=period, error=None, report=report,
                           page=_page_of(report.rows, page_arg()), **_common())


@bp.route("/reports/stock-value")
@bp.route("/reports/stock-value.csv", endpoint="stock_value_csv")
@roles_required(MANAGERS)
def stock_value() -> ResponseReturnValue:
    value = shelf.stock_value(db.session)
    if _wants_csv():
        return downloads.csv_response(f"stock-value_{_today().isoformat()}.csv", *downloads.stock_value(value))
    bars = charts.bars((row.label, row.value, None, False) for row in value.rows)
    return render_template("reports/stock_value.html", period=None, error=None, value=value, bars=bars,
                           today=_today(), **_common())


@bp.route("/reports/slow-movers")
@bp.route("/reports/slow-movers.csv", endpoint="slow_movers_csv")
@roles_required(MANAGERS)
def slow_movers() -> ResponseReturnValue:
    today = _today()
    try:
        days = days_arg(request.args.get("days"), SLOW_DAYS, what="Days without movement")
    except InvalidInput as error:
        return _refuse("reports/slow_movers.html", error, days=request.args.get("days", ""))
    if _wants_csv():
        rows, _totals = shelf.slow_movers(db.session, days, today, per_page=None)
        return downloads.csv_response(f"slow-movers-{days}-days_{today.isoformat()}.csv",
                                      *downloads.slow_movers(rows.rows, today))
    page, totals = shelf.slow_movers(db.session, days, today, page=page_arg(), per_page=PER_PAGE)
    return render_template("reports/slow_movers.html", period=None, error=None, page=page, totals=totals,
                           days=days, today=today, since=today - timedelta(days=days), **_common())


@bp.route("/reports/expiring")
@bp.route("/reports/expiring.csv", endpoint="expiring_csv")
@roles_required(MANAGERS)
def expiring() -> ResponseReturnValue:
    today = _today()
    try:
        days = days_arg(request.args.get("days"), EXPIRING_DAYS, what="Days ahead", minimum=0)
    except InvalidInput as error:
        return _refuse("reports/expiring.html", error, days=request.args.get("days", ""))
    if _wants_csv():
        rows, _expired, _soon = shelf.expiring(db.session, days, today, per_page=None)
        return downloads.csv_response(f"expiring-print-{days}-days_{today.isoformat()}.csv",
                                      *downloads.expiring(rows.rows, today))
    page, expired, soon = shelf.expiring(db.session, days, today, page=page_arg(), per_page=PER_PAGE)
    return render_template("reports/expiring.html", period=None, error=None, page=page, expired=expired,
                           soon=soon, days=days, today=today, **_common())


@bp.route("/reports/service-level")
@bp.route("/reports/service-level.csv", endpoint="service_level_csv")
@roles_required(MANAGERS)
def service_level() -> ResponseReturnValue:
    today = _today()
    try:
        period = periods.from_args(request.args, today)
    except InvalidInput as error:
        return _refuse("reports/service_level.html", error)
    level = deliveries.service_level(db.session, period, today)
    if _wants_csv():
        return downloads.csv_response(f"service-level_{period.slug}.csv", *downloads.service_level(level))
    return render_template("reports/service_level.html", period=period, error=None, level=level,
                           page=_page_of(level.misses, page_arg()), **_common())


@bp.route("/reports/reports.css")
@roles_required(MANAGERS)
def stylesheet() -> Response:
    """The reports' styles, kept with their templates (the CSP allows no inline styles)."""
    response = Response(render_template("reports/reports.css"), mimetype="text/css")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
