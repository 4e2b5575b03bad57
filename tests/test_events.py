"""Events: the date rules, create/edit/cancel, the calendar pages, the event page with its
requests and kits, the after-the-event usage and cost worked out on paper, the iCalendar feed
and who may do what."""
import re
from datetime import date, timedelta
from decimal import Decimal

import icalendar
import pytest
from sqlalchemy import func, select

from inventory.auth import services as auth
from inventory.auth.services import create_token
from inventory.errors import Conflict, Forbidden, InvalidInput
from inventory.events import feed, months, services
from inventory.events.models import Event
from inventory.extensions import db
from inventory.querycount import count_queries
from inventory.requests import fulfilment, handover, queries, review, submission
from inventory.requests.models import Request

TODAY = date.today()


def days(n):
    return TODAY + timedelta(days=n)


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="Morgan Manager")


@pytest.fixture
def make_event(session, manager):
    """make_event("Expo", starts=30) -> Event: 3 days from `starts` days ahead, shipping 7 days
    before, returnables back 2 days after."""

    def make(name="Expo West", starts=30, length=3, ship_before=7, back_after=2, place="Messe Nord", **fields):
        start = days(starts)
        values = dict(name=name, place=place, starts_on=start, ends_on=start + timedelta(days=length - 1),
                      ship_by=start - timedelta(days=ship_before),
                      return_by=start + timedelta(days=length - 1 + back_after) if back_after is not None else None)
        values.update(fields)
        return services.create_event(session, manager, **values)

    return make


# Rules ---------------------------------------------------------------------------------------

def test_an_event_is_created_with_its_manager_as_owner(session, manager, make_event):
    event = make_event()
    assert (event.name, event.owner_id, event.cancelled) == ("Expo West", manager.id, False)
    assert event.window_end == event.return_by == event.ends_on + timedelta(days=2)


@pytest.mark.parametrize("change, message", [
    (dict(ends_on=days(29)), "ends before it starts"),
    (dict(ship_by=days(31)), "ship-by date is after the start"),
    (dict(return_by=days(31)), "return-by date is before the end"),
    (dict(name="  "), "name"),
    (dict(name="x" * 121), "too long"),
    (dict(starts_on="2026-12-01"), "must be a date"),
    (dict(ship_by=None), "ship-by"),
])
def test_event_dates_and_fields_are_checked_and_nothing_is_written(session, manager, change, message):
    values = dict(name="Expo", starts_on=days(30), ends_on=days(32), ship_by=days(23), return_by=days(34))
    values.update(change)
    with pytest.raises(InvalidInput, match=message):
        services.create_event(session, manager, **values)
    assert session.scalar(select(func.count(Event.id))) == 0


def test_edge_dates_are_fine_one_day_event_shipping_on_the_day(session, manager):
    event = services.create_event(session, manager, name="Pop-up", starts_on=days(5), ends_on=days(5),
                                  ship_by=days(5), return_by=days(5))
    assert event.window_end == days(5)


def test_edit_keeps_the_rules_and_cancel_reinstate(session, manager, make_event):
    event = make_event()
    with pytest.raises(InvalidInput):
        services.update_event(session, event.id, manager, name="Expo", starts_on=days(40), ends_on=days(39),
                              ship_by=days(35))
    services.update_event(session, event.id, manager, name="Expo West 2027", place="Hall 4", starts_on=days(40),
                          ends_on=days(42), ship_by=days(35), return_by=None, notes="Booth 214")
    session.expire_all()
    assert (event.name, event.starts_on, event.return_by, event.window_end) == ("Expo West 2027", days(40), None,
                                                                                days(42))
    services.cancel_event(session, event.id, manager)
    with pytest.raises(Conflict):
        services.cancel_event(session, event.id, manager)
    services.reinstate_event(session, event.id, manager)
    assert not event.cancelled


def test_only_managers_plan_events(session, make_user, make_event):
    event = make_event()
    rep = make_user("rep")
    with pytest.raises(Forbidden):
        services.create_event(session, rep, name="X", starts_on=days(3), ends_on=days(3), ship_by=days(2))
    with pytest.raises(Forbidden):
        services.cancel_event(session, event.id, rep)


def test_month_grid_places_events_on_their_days_monday_first():
    show = Event(id=1, name="Show", starts_on=date(2026, 11, 30), ends_on=date(2026, 12, 2), ship_by=date(2026, 11, 25))
    weeks = months.month_grid(2026, 12, [show], date(2026, 12, 1))
    assert weeks[0][0].day == date(2026, 11, 30) and not weeks[0][0].in_month  # Monday 30 Nov
    on = [d.day for week in weeks for d in week if show in d.events]
    assert on == [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]
    assert [d for week in weeks for d in week if d.today][0].day == date(2026, 12, 1)
    nov = months.month_grid(2026, 11, [show], date(2026, 12, 1))
    assert [d.day for week in nov for d in week if show in d.ships] == [date(2026, 11, 25)]
    assert months.shift_month(2026, 12, 1) == (2027, 1) and months.shift_month(2027, 1, -1) == (2026, 12)
    assert months.month_arg("2027-02", TODAY) == (2027, 2) and months.month_arg("junk", TODAY) == (
        TODAY.year, TODAY.month)


# After the event: used, returned, lost, cost ------------------------------------------------

def _hand_over(session, request, manager, staff):
    review.approve(session, request.id, manager)
    for bin, picks in fulfilment.pick_list(session, queries.get_request(session, request.id)):
        fulfilment.pick(session, request.id, bin, {line.id: qty for line, qty in picks}, staff)
    handover.hand_over(session, request.id, staff)
    return queries.get_request(session, request.id)


@pytest.fixture
def past_show(session, manager, make_user, make_item, make_bin):
    """A show that ended a week ago, with this history (worked out on paper in the test below):

    R1: 300 brochures (0.85) + 2 banners (95.00): handed over; banners back: 1 returned, 1 damaged
    R2: 100 brochures + 10 polos M (14.50): handed over (consumables only)
    R3: 1 banner: handed over, not checked in yet
    R4: 4 table cloths (40.00): handed over; back: 2 returned, 1 consumed, 1 lost
    R5: 50 brochures: cancelled, never went out
    """
    staff = make_user("staff")
    rep = make_user("rep", name="Riley Rep")
    bro = make_item("BRO-1", name="Atlas brochure", category="print", on_hand=500, unit_cost=Decimal("0.85"))
    banner = make_item("BANNER-1", name="Roll-up banner", category="display", on_hand=3, returnable=True,
                       unit_cost=Decimal("95.00"))
    polo = make_item("POLO-M", name="Navy polo M", category="apparel", on_hand=20, unit_cost=Decimal("14.50"))
    cloth = make_item("CLOTH-1", name="Table cloth", category="display", on_hand=4, returnable=True,
                      unit_cost=Decimal("40.00"))
    event = services.create_event(session, manager, name="Autumn fair", place="Hall 2", starts_on=days(-10),
                                  ends_on=days(-8), ship_by=days(-12), return_by=days(-6))
    then = days(-13)  # the requests were made before the show

    def submit(who, lines):
        return submission.submit(session, who, lines, purpose="trade_show", needed_by=event.ship_by,
                                 return_by=event.return_by, event_id=event.id, today=then)

    r1 = _hand_over(session, submit(rep, [(bro, 300), (banner, 2)]), manager, staff)
    r2 = _hand_over(session, submit(manager, [(bro, 100), (polo, 10)]), manager, staff)
    r3 = _hand_over(session, submit(rep, [(banner, 1)]), manager, staff)
    r4 = _hand_over(session, submit(rep, [(cloth, 4)]), manager, staff)
    r5 = submit(rep, [(bro, 50)])
    review.cancel(session, r5.id, rep)
    back = make_bin("A-01")
    line = {l.item.sku: l.id for l in r1.lines}
    fulfilment.check_in(session, r1.id, back, {line["BANNER-1"]: {"returned": 1, "damaged": 1}}, staff)
    fulfilment.check_in(session, r4.id, back, {r4.lines[0].id: {"returned": 2, "consumed": 1, "lost": 1}}, staff)
    return event, rep, [r1, r2, r3, r4, r5]


def test_usage_and_cost_after_the_event_match_the_paper(session, past_show):
    event, _rep, _requests = past_show
    usage = services.usage(services.event_requests(session, event))
    table = {row.item.sku: (row.issued, row.returned, row.used, row.lost, row.damaged, row.still_out, row.cost)
             for row in usage.rows}
    assert table == {
        # sku: (out, back, used, lost, damaged, still out, cost)
        "BRO-1": (400, 0, 400, 0, 0, 0, Decimal("340.00")),       # 400 x 0.85
        "BANNER-1": (3, 1, 0, 0, 1, 1, Decimal("95.00")),         # 1 damaged x 95; 1 still out, not costed
        "CLOTH-1": (4, 2, 1, 1, 0, 0, Decimal("80.00")),          # (1 used + 1 lost) x 40
        "POLO-M": (10, 0, 10, 0, 0, 0, Decimal("145.00")),        # 10 x 14.50
    }
    assert usage.cost == Decimal("660.00") and usage.still_out == 1


def test_the_event_page_after_the_event_shows_usage_requests_and_links(client, login, past_show):
    event, _rep, made = past_show
    login("staff")
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "After the event" in html and "$660.00" in html and "$340.00" in html
    assert "1 not checked in" in html
    for r in made:
        assert f'href="/requests/{r.id}"' in html
    assert "Projected shortfalls" in html or "events/_shortfalls.html" not in html


def test_a_rep_sees_every_request_for_the_event_but_links_only_to_their_own(client, auth_client, past_show,
                                                                             make_user):
    event, rep, made = past_show
    auth_client.login(rep)
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    r2 = made[1]  # the manager's
    assert r2.number in html and f'href="/requests/{r2.id}"' not in html
    assert f'href="/requests/{made[0].id}"' in html


def test_the_event_page_has_no_query_per_request(client, login, past_show, session, make_item, manager):
    event, rep, _made = past_show
    login("manager")
    url = f"/events/{event.id}"
    client.get(url)
    with count_queries(db.engine) as few:
        assert client.get(url).status_code == 200
    pen = make_item("PEN-9", on_hand=100)
    for n in range(5):
        other = make_item(f"MUG-{n}", on_hand=10)
        submission.submit(session, rep, [(pen, 1), (other, 1)], purpose="trade_show", needed_by=event.ship_by,
                          event_id=event.id, today=days(-13))
    client.get(url)
    with count_queries(db.engine) as many:
        assert client.get(url).status_code == 200
    assert many.count == few.count, "\n".join(many.statements)


# Pages ---------------------------------------------------------------------------------------

def test_calendar_list_groups_upcoming_events_by_month_soonest_first(client, login, make_event):
    later = make_event("Big Expo", starts=40)
    soon = make_event("Dealer fair", starts=8, ship_before=2)
    gone = make_event("Old fair", starts=-20, ship_before=1, back_after=None)
    off = make_event("Cancelled summit", starts=12)
    services.cancel_event(db.session, off.id, off.owner)
    login("rep")
    html = client.get("/events").get_data(as_text=True)
    list_part = html.split('aria-label="Upcoming events"')[1]
    assert list_part.index("Dealer fair") < list_part.index("Cancelled summit") < list_part.index("Big Expo")
    assert "Old fair" not in list_part
    assert soon.starts_on.strftime("%B %Y") in list_part and later.starts_on.strftime("%B %Y") in list_part
    assert "Cancelled" in list_part
    past = client.get("/events/past").get_data(as_text=True)
    assert "Old fair" in past and "Big Expo" not in past
    assert gone.id


def test_month_view_is_a_real_grid_with_previous_and_next(client, login, make_event):
    show = make_event("Grid show", starts=40)
    login("manager")
    month = show.starts_on.strftime("%Y-%m")
    html = client.get(f"/events?month={month}").get_data(as_text=True)
    grid = html.split('<table class="month">')[1].split("</table>")[0]
    assert grid.count("<tr>") >= 5 and "Grid show" in grid and "Ship: Grid show" in html
    year, mon = show.starts_on.year, show.starts_on.month
    assert "month=%04d-%02d" % months.shift_month(year, mon, -1) in html
    assert "month=%04d-%02d" % months.shift_month(year, mon, 1) in html
    assert show.starts_on.strftime("%B %Y") in html


def test_the_calendar_has_no_query_per_event(client, login, make_event):
    login("rep")
    make_event("One", starts=10)
    client.get("/events")
    with count_queries(db.engine) as few:
        client.get("/events")
    for n in range(6):
        make_event(f"Show {n}", starts=11 + n)
    client.get("/events")
    with count_queries(db.engine) as many:
        client.get("/events")
    assert many.count == few.count


def test_manager_creates_and_edits_an_event_through_the_pages(client, login, session):
    manager = login("manager")
    form = {"name": "Expo West", "place": "Hall B", "starts_on": days(30).isoformat(),
            "ends_on": days(32).isoformat(), "ship_by": days(23).isoformat(), "return_by": days(34).isoformat(),
            "owner_id": str(manager.id), "notes": "Booth 214"}
    response = client.post("/events/new", data=form)
    assert response.status_code == 302
    event = session.scalar(select(Event))
    assert (event.name, event.ship_by, event.owner_id) == ("Expo West", days(23), manager.id)
    bad = client.post(f"/events/{event.id}/edit", data=dict(form, ends_on=days(29).isoformat()))
    assert bad.status_code == 400 and "last day is before the first day" in bad.get_data(as_text=True)
    ship_late = client.post("/events/new", data=dict(form, ship_by=days(31).isoformat()))
    assert ship_late.status_code == 400 and "by the first day at the latest" in ship_late.get_data(as_text=True)
    assert client.post(f"/events/{event.id}/edit", data=dict(form, name="Expo West 2027")).status_code == 302
    session.expire_all()
    assert event.name == "Expo West 2027"
    assert client.post(f"/events/{event.id}/cancel").status_code == 302
    session.expire_all()
    assert event.cancelled
    assert "Put back on the calendar" in client.get(f"/events/{event.id}").get_data(as_text=True)
    assert session.scalar(select(func.count(Event.id))) == 1


@pytest.mark.parametrize("role", ["rep", "staff"])
def test_reps_and_staff_view_events_but_cannot_plan_them(client, login, make_event, role):
    event = make_event()
    login(role)
    assert client.get("/events").status_code == 200
    assert client.get(f"/events/{event.id}").status_code == 200
    assert client.get("/events/past").status_code == 200
    for url in ["/events/new", f"/events/{event.id}/edit", f"/events/{event.id}/kits"]:
        assert client.get(url).status_code == 403, url
    assert client.post("/events/new", data={"name": "X"}).status_code == 403
    assert client.post(f"/events/{event.id}/cancel").status_code == 403
    assert "New event" not in client.get("/events").get_data(as_text=True)


def test_an_unknown_event_is_a_404(client, login):
    login("rep")
    assert client.get("/events/999").status_code == 404


# The calendar feed ---------------------------------------------------------------------------

def _feed_url(client):
    html = client.get("/events").get_data(as_text=True)
    return re.search(r'value="(http[^"]+/events\.ics\?token=[^"]+)"', html).group(1)


def test_the_ical_feed_parses_and_has_the_events(client, login, make_event, app):
    expo = make_event("Expo West", starts=30)
    off = make_event("Off show", starts=10)
    services.cancel_event(db.session, off.id, off.owner)
    make_event("Long gone", starts=-400, ship_before=1)
    user = login("rep")
    url = _feed_url(client)
    assert feed.feed_token(user, app.config["SECRET_KEY"]) in url
    client.post("/logout")
    response = client.get(url.replace("http://localhost", ""))  # a calendar app: no session
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    entries = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(entries) == {"Expo West", "Off show (cancelled)"}
    entry = entries["Expo West"]
    assert entry.decoded("dtstart") == expo.starts_on
    assert entry.decoded("dtend") == expo.ends_on + timedelta(days=1)  # all day, end exclusive
    assert str(entry["location"]) == "Messe Nord" and f"/events/{expo.id}" in str(entry["url"])
    assert "Ship by" in str(entry["description"])
    assert str(entries["Off show (cancelled)"]["status"]) == "CANCELLED"
    assert str(entry["uid"]) == f"event-{expo.id}@localhost"


def test_the_feed_refuses_wrong_tokens_and_stops_for_deactivated_users(client, make_user, session, app):
    user = make_user("rep")
    token = feed.feed_token(user, app.config["SECRET_KEY"])
    assert client.get(f"/events.ics?token={token}").status_code == 200
    other = make_user("rep")
    forged = f"{other.id}.{token.split('.', 1)[1]}"
    for bad in [forged, token[:-2], "1.x", "abc", ""]:
        assert client.get(f"/events.ics?token={bad}").status_code in (404, 302), bad
    assert feed.user_for_feed_token(session, token, "another secret key") is None
    auth.update_user(session, user, email=user.email, name=user.name, role="rep", active=False)
    assert client.get(f"/events.ics?token={token}").status_code == 404
    assert client.get("/events.ics").status_code == 302  # no token, no session: log in


def test_the_feed_token_is_not_an_api_token(client, make_user, app):
    user = make_user("manager")
    token = feed.feed_token(user, app.config["SECRET_KEY"])
    assert client.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# API -----------------------------------------------------------------------------------------

def call(client, method, url, token, body=None):
    response = client.open(url, method=method, json=body, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.get_json()


def test_events_api_lists_creates_and_reads(client, session, make_user, make_event):
    manager = make_user("manager")
    rep = make_user("rep")
    manager_token, rep_token = create_token(session, manager)[1], create_token(session, rep)[1]
    for n in range(3):
        make_event(f"Show {n}", starts=10 + n)
    status, body = call(client, "GET", "/api/v1/events?per_page=2", rep_token)
    assert status == 200 and body["total"] == 3 and len(body["events"]) == 2
    assert body["page"] == 1 and body["per_page"] == 2 and "page=2" in body["next"]
    assert [e["name"] for e in body["events"]] == ["Show 0", "Show 1"]
    new = {"name": "Expo", "place": "Hall B", "starts_on": days(30).isoformat(), "ends_on": days(32).isoformat(),
           "ship_by": days(23).isoformat(), "return_by": days(34).isoformat(), "owner": rep.email}
    assert call(client, "POST", "/api/v1/events", rep_token, new)[0] == 403
    status, made = call(client, "POST", "/api/v1/events", manager_token, new)
    assert status == 201 and made["owner"] == rep.email and made["ship_by"] == days(23).isoformat()
    status, error = call(client, "POST", "/api/v1/events", manager_token, dict(new, ship_by=days(31).isoformat()))
    assert status == 400 and "ship-by" in error["error"]
    assert call(client, "POST", "/api/v1/events", manager_token, dict(new, starts_on="soon"))[0] == 400
    assert call(client, "POST", "/api/v1/events", manager_token, dict(new, owner="nobody@example.com"))[0] == 400
    status, one = call(client, "GET", f"/api/v1/events/{made['id']}", rep_token)
    assert status == 200 and one["requests"] == [] and one["kits"] == [] and one["usage"] is None
    assert call(client, "GET", "/api/v1/events/9999", rep_token)[0] == 404
    assert call(client, "GET", "/api/v1/events?upcoming=1", rep_token)[1]["total"] == 4


def test_event_api_after_the_event_has_usage_and_hides_others_notes_from_reps(client, session, past_show):
    event, rep, made = past_show
    token = create_token(session, rep)[1]
    status, body = call(client, "GET", f"/api/v1/events/{event.id}", token)
    assert status == 200 and body["usage"]["cost"] == "660.00" and body["usage"]["still_out"] == 1
    assert {r["number"] for r in body["requests"]} == {r.number for r in made}
    theirs = next(r for r in body["requests"] if r["id"] == made[1].id)
    mine = next(r for r in body["requests"] if r["id"] == made[0].id)
    assert "note" not in theirs and "note" in mine


def test_a_cancelled_events_unpicked_requests_are_cancelled_in_one_go(session, client, login, manager, make_event,
                                                                    make_item, make_user, make_bin):
    event = make_event("Expo West", starts=30)
    item = make_item("TOTE-1", name="Tote bag", on_hand=20)
    rep, staff = make_user("rep"), make_user("staff")

    def ask(quantity):
        return submission.submit(session, rep, [(item, quantity)], purpose="trade_show", needed_by=days(20),
                                 event_id=event.id)

    waiting, approved, picking = ask(3), ask(4), ask(5)
    review.approve(session, approved.id, manager)
    review.approve(session, picking.id, manager)
    fulfilment.pick(session, picking.id, make_bin("A-01"), {picking.lines[0].id: 2}, staff)
    unrelated = submission.submit(session, rep, [(item, 1)], purpose="client_meeting", needed_by=days(20))

    with pytest.raises(Conflict, match="not cancelled"):
        services.cancel_event_requests(session, event.id, manager)
    services.cancel_event(session, event.id, manager)
    with pytest.raises(Forbidden):
        services.cancel_event_requests(session, event.id, rep)

    login("manager")
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Cancel the 2 not yet picked" in page
    result = client.post(f"/events/{event.id}/cancel-requests", follow_redirects=True).get_data(as_text=True)
    assert "Cancelled 2 request(s); their stock is free again." in result
    assert f"{picking.number} are being picked or ready" in result
    session.expire_all()
    statuses = {r.id: r.status for r in session.scalars(select(Request))}
    assert statuses == {waiting.id: "cancelled", approved.id: "cancelled", picking.id: "picking",
                        unrelated.id: "submitted"}
    assert sum(line.reserved for r in (waiting, approved) for line in session.get(Request, r.id).lines) == 0


def test_only_managers_cancel_an_events_requests(client, login, make_event):
    event = make_event()
    login("rep")
    assert client.post(f"/events/{event.id}/cancel-requests").status_code == 403
