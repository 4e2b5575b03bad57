"""Event pages: the calendar (a list grouped by month on phones, a month grid on laptops), past
events, create and edit for managers, the event page with everything gathered for it, reserving
kits for it, and the iCalendar feed. Kit template pages are in kit_views.py."""
from datetime import date
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth import services as auth_services
from ..auth.models import User
from ..auth.roles import EVERYONE, MANAGERS, STAFF, can, roles_required
from ..budgets.event_spend import event_cost
from ..budgets.kit_budget import OverEventBudget, kit_budget
from ..core.money import money
from ..errors import DomainError, NotFound
from ..extensions import db, login_manager
from ..forms import ButtonForm, put_next_to_its_box
from ..pagination import page_arg
from ..requests.models import CANCELLABLE, OPEN
from . import feed, kits, months, services
from .forms import EventForm, ReserveKitForm

bp = Blueprint("events", __name__)


def _today():
    return date.today()


def _base_url():
    return current_app.config.get("BASE_URL") or request.url_root.rstrip("/")


def _load(event_id):
    try:
        return services.get_event(db.session, event_id)
    except NotFound:
        abort(404)


def _flash_error(error):
    if error.status == 403:
        abort(403)
    flash(error.message, "error")


# The calendar --------------------------------------------------------------------------------

@bp.route("/events")
@roles_required(EVERYONE)
def index():
    today = _today()
    year, month = months.month_arg(request.args.get("month"), today)
    upcoming = services.upcoming(db.session, today)
    month_events = months.in_month(db.session, year, month)
    counts = services.request_counts(db.session, [e.id for e in upcoming])
    return render_template(
        "events/index.html", groups=months.by_month(upcoming), counts=counts, today=today,
        weeks=months.month_grid(year, month, month_events, today), month=date(year, month, 1),
        prev_month="%04d-%02d" % months.shift_month(year, month, -1),
        next_month="%04d-%02d" % months.shift_month(year, month, 1),
        feed_url=_base_url() + url_for("events.feed", token=feed.feed_token(current_user,
                                                                            current_app.config["SECRET_KEY"])),
        button_form=ButtonForm(),
    )


@bp.route("/events/past")
@roles_required(EVERYONE)
def past():
    today = _today()
    page = services.past(db.session, today, page=page_arg(), per_page=current_app.config["PAGE_SIZE"])
    counts = services.request_counts(db.session, [e.id for e in page.rows])
    return render_template("events/past.html", page=page, counts=counts, today=today)


# Create and edit -------------------------------------------------------------------------------

def _owner_choices(form, default):
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name, User.email)).all()
    form.owner_id.choices = [(u.id, f"{u.display_name} ({u.role_label})") for u in users]
    if form.owner_id.data is None:
        form.owner_id.data = default


def _event_fields(form):
    return dict(name=form.name.data, place=form.place.data, starts_on=form.starts_on.data,
                ends_on=form.ends_on.data, ship_by=form.ship_by.data, return_by=form.return_by.data,
                owner_id=form.owner_id.data, notes=form.notes.data, budget=form.budget.data)


def _refused(form, error):
    """A rule's refusal next to the box it is about (the budget), else at the top."""
    if not put_next_to_its_box(form, error, []):
        _flash_error(error)


@bp.route("/events/new", methods=["GET", "POST"])
@roles_required(MANAGERS)
def new():
    form = EventForm()
    _owner_choices(form, current_user.id)
    if form.validate_on_submit():
        try:
            event = services.create_event(db.session, current_user, **_event_fields(form))
        except DomainError as error:
            _refused(form, error)
        else:
            flash(f"{event.name} is on the calendar. Reserve kits for it below.", "success")
            return redirect(url_for("events.show", event_id=event.id))
    return render_template("events/form.html", form=form, event=None), (400 if request.method == "POST" else 200)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@roles_required(MANAGERS)
def edit(event_id):
    event = _load(event_id)
    form = EventForm(obj=event)
    _owner_choices(form, event.owner_id or current_user.id)
    if form.validate_on_submit():
        try:
            services.update_event(db.session, event.id, current_user, **_event_fields(form))
        except DomainError as error:
            _refused(form, error)
        else:
            moved = services.requests_off_dates(event, services.event_requests(db.session, event))
            flash("Saved.", "success")
            if moved:
                flash(f"{len(moved)} kit reservation(s) keep the dates they were made for "
                      f"({', '.join(r.number for r in moved)}); cancel and reserve again if the show moved.", "info")
            return redirect(url_for("events.show", event_id=event.id))
    return render_template("events/form.html", form=form, event=event), (400 if request.method == "POST" else 200)


def _act(rule, event_id, success):
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        rule(db.session, event_id, current_user)
    except DomainError as error:
        _flash_error(error)
    else:
        flash(success, "success")
    return redirect(url_for("events.show", event_id=event_id))


@bp.route("/events/<int:event_id>/cancel", methods=["POST"])
@roles_required(MANAGERS)
def cancel(event_id):
    return _act(services.cancel_event, event_id,
                "Event cancelled. Its requests still hold their stock: cancel those you no longer need.")


@bp.route("/events/<int:event_id>/cancel-requests", methods=["POST"])
@roles_required(MANAGERS)
def cancel_requests(event_id):
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        cancelled, left = services.cancel_event_requests(db.session, event_id, current_user)
    except DomainError as error:
        _flash_error(error)
    else:
        flash(f"Cancelled {len(cancelled)} request(s); their stock is free again." if cancelled
              else "No request was waiting to be picked.", "success")
        if left:
            flash(f"{', '.join(r.number for r in left)} are being picked or ready: put their stock back from "
                  "the request page.", "info")
    return redirect(url_for("events.show", event_id=event_id))


@bp.route("/events/<int:event_id>/reinstate", methods=["POST"])
@roles_required(MANAGERS)
def reinstate(event_id):
    return _act(services.reinstate_event, event_id, "The event is back on the calendar.")


# The event page --------------------------------------------------------------------------------

@bp.route("/events/<int:event_id>")
@roles_required(EVERYONE)
def show(event_id):
    event = _load(event_id)
    today = _today()
    event_requests = services.event_requests(db.session, event)
    return render_template(
        "events/show.html", event=event, today=today, requests=event_requests,
        kits=kits.kits_of_event(event_requests), cost=event_cost(db.session, event),
        usage=services.usage(event_requests) if services.is_over(event, today) else None,
        off_dates={r.id for r in services.requests_off_dates(event, event_requests)},
        still_holding=[r for r in event_requests if r.status in OPEN],
        cancellable=[r for r in event_requests if r.status in CANCELLABLE],
        can_open=lambda r: r.requester_id == current_user.id or can(current_user, STAFF),
        button_form=ButtonForm(),
    )


@bp.route("/events/<int:event_id>/kits", methods=["GET", "POST"])
@roles_required(MANAGERS)
def reserve_kit(event_id):
    """Reserve N kits for the event: one request holding every component x N, all or nothing."""
    event = _load(event_id)
    today = _today()
    templates = kits.list_kits(db.session)
    form = ReserveKitForm()
    form.kit_id.choices = [(k.id, k.name) for k in templates]
    if request.method == "GET":
        chosen = request.args.get("kit", type=to_int)
        form.kit_id.data = chosen if chosen in {k.id for k in templates} else (templates[0].id if templates else None)
        if not form.ship_to.data and event.place:
            form.ship_to.data = event.place
    error, status = None, 200
    refused = None  # OverEventBudget: the kits would take the event beyond its budget
    partial = request.form.get("partial") == "1"  # "Reserve what is there, backorder the rest"
    # One form: choosing another kit and pressing "Show availability" keeps the count, hand-off
    # and ship-to typed; pressing Reserve after choosing another kit without looking at its
    # availability first reserves nothing and says so next to the kit box.
    shown = request.form.get("shown_kit", type=to_int)
    # (CSRFProtect has checked every POST's token before the view runs.)
    if request.method == "POST" and request.form.get("action") == "show":
        pass  # the page again for the kit chosen, with everything typed in the boxes
    elif request.method == "POST" and shown is not None and form.kit_id.data != shown:
        status = 409
        form.kit_id.errors = ["You chose another kit: check what is available below, then reserve."]
    elif request.method == "POST" and form.validate_on_submit():
        status = 400
        try:
            made = kits.reserve_kit(db.session, current_user, event.id, form.kit_id.data, form.count.data,
                                    handoff=form.handoff.data, ship_to=form.ship_to.data, today=today,
                                    allow_partial=partial, over_budget_ok=bool(form.over_budget_ok.data))
        except OverEventBudget as over:  # said next to the "Reserve anyway" box, not at the top
            refused, status = over, over.status
        except DomainError as failure:  # KitShort (409) names the component that runs out first
            if failure.status == 403:
                abort(403)
            error, status = failure.message, failure.status
        else:
            waiting = made.backordered
            after = event_cost(db.session, event) if event.budget is not None else None
            flash(f"Reserved {made.kit_count} × {made.kit.name} for {event.name}: request {made.number} holds "
                  + (f"what is there; {waiting} units are backordered and show on Reorders." if waiting
                     else "every component.")
                  + (f" {event.name} is now over its budget by {money(after.over_by)}." if after and after.over else ""),
                  "success")
            return redirect(url_for("events.show", event_id=event.id))
    elif request.method == "POST":
        status = 400
    kit = next((k for k in templates if k.id == form.kit_id.data), None)
    window = kits.event_window(event)
    available = kits.availability(db.session, kit, window) if kit else None
    cost = event_cost(db.session, event) if event.budget is not None else None
    # What the kits chosen and the count typed would do to the budget, before Reserve is pressed.
    count = form.count.data
    check = refused.check if refused else (
        kit_budget(db.session, event, kit, count, before=cost)
        if cost is not None and kit is not None and isinstance(count, int) and 1 <= count <= kits.MAX_KITS
        else None)
    return render_template("events/reserve_kit.html", event=event, form=form, kit=kit, available=available,
                           window=window, error=error, today=today, templates=templates, cost=cost,
                           check=check, refused=refused, partial=partial), status


# The calendar feed -----------------------------------------------------------------------------

def feed_auth(*roles):
    """A calendar app's fetch carries the user's feed token (?token=, see feed.py); a logged-in
    browser may open the feed with its session too. Either way the user must be active and have
    one of `roles`. A wrong token answers 404, as if there were no feed there."""
    roles = tuple(r for group in roles for r in ((group,) if isinstance(group, str) else group))

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            token = request.args.get("token")
            if token:
                user = feed.user_for_feed_token(db.session, token, current_app.config["SECRET_KEY"])
                if user is None:
                    abort(404)
            elif current_user.is_authenticated:
                user = current_user
            else:
                return login_manager.unauthorized()
            if user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


@bp.route("/events/feed/new-link", methods=["POST"])
@roles_required(EVERYONE)
def new_feed_link():
    """*New link*: the old calendar link stops working (see feed.py)."""
    if ButtonForm().validate_on_submit():
        auth_services.new_feed_link(db.session, current_user)
        flash("Your calendar link is new: the old one no longer works. Subscribe again with this one.", "success")
    return redirect(url_for("events.index") + "#feed")


@bp.route("/events.ics", endpoint="feed")
@feed_auth(EVERYONE)
def calendar_feed():
    base = _base_url()
    body = feed.calendar(feed.events_for_feed(db.session, _today()),
                         lambda e: base + url_for("events.show", event_id=e.id),
                         urlsplit(base).hostname or "localhost")
    return body, 200, {"Content-Type": "text/calendar; charset=utf-8",
                       "Content-Disposition": 'inline; filename="events.ics"',
                       "Cache-Control": "private, max-age=300"}


from ..text import to_int
from . import kit_views  # noqa: E402,F401  (kit template pages on this blueprint)
