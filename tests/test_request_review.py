"""Review of requests and reservations: holes found in the rules, pages and API, each pinned by a test."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from inventory.auth.models import User
from inventory.auth.services import create_token
from inventory.catalog.models import Item
from inventory.errors import Conflict, InvalidInput, ShortStock
from inventory.extensions import db
from inventory.holds.availability import request_window
from inventory.requests import common, emails, fulfilment, handover, review, submission
from inventory.requests.availability import free_quantity
from inventory.requests.models import Request, RequestStep
from inventory.stock import services as stock

TODAY = date.today()


def day(n):
    return TODAY + timedelta(days=n)


def submit(session, user, lines, **details):
    details.setdefault("purpose", "client_meeting")
    details.setdefault("needed_by", day(5))
    return submission.submit(session, user, lines, **details)


def available(session, item):
    return stock.availability(session, [item.id])[item.id].available


def details(**overrides):
    data = {"purpose": "client_meeting", "needed_by": day(4).isoformat(), "handoff": "pickup", "note": ""}
    data.update(overrides)
    return data


def count_requests(session):
    return session.scalar(select(func.count(Request.id)))


def hand_over_whole(session, request, staff, bin):
    review.approve(session, request.id, staff_manager(session, staff))
    fulfilment.pick(session, request.id, bin, {line.id: line.reserved for line in request.lines}, staff)
    return handover.hand_over(session, request.id, staff)


def staff_manager(session, staff):
    return staff._manager


@pytest.fixture
def people(make_user):
    rep, staff, manager = make_user("rep"), make_user("staff"), make_user("manager")
    staff._manager = manager
    return rep, staff, manager


# Returnable bookings ----------------------------------------------------------------------

def test_a_returnable_handed_over_early_is_not_booked_again_while_it_is_out(session, people, make_item, make_bin):
    """The banner went out today for a show in five days: it is not on the shelf for a booking today."""
    rep, staff, _manager = people
    banner = make_item("BANNER-1", category="display", on_hand=1, returnable=True, bin="B-01")
    early = submit(session, rep, [(banner, 1)], needed_by=day(5), return_by=day(7))
    hand_over_whole(session, early, staff, make_bin("B-01"))
    with pytest.raises(ShortStock):
        submit(session, rep, [(banner, 1)], needed_by=TODAY, return_by=day(2))
    assert available(session, banner) == 0


def test_a_returnable_lost_at_check_in_moves_later_bookings_to_backorder(session, people, make_item, make_bin):
    """Two banners, both booked for next month; one is lost on an earlier trip: only one can be promised."""
    rep, staff, _manager = people
    banner = make_item("BANNER-1", category="display", on_hand=2, returnable=True, bin="B-01")
    trip = submit(session, rep, [(banner, 1)], needed_by=TODAY, return_by=day(2))
    first = submit(session, rep, [(banner, 1)], needed_by=day(30), return_by=day(32))
    second = submit(session, rep, [(banner, 1)], needed_by=day(30), return_by=day(32))
    hand_over_whole(session, trip, staff, make_bin("B-01"))
    line = trip.lines[0]
    fulfilment.check_in(session, trip.id, make_bin("B-01"), {line.id: {"lost": 1}}, staff)
    session.expire_all()
    assert free_quantity(session, banner, request_window(first)) >= 0
    assert (first.lines[0].reserved, second.lines[0].reserved, second.lines[0].backordered) == (1, 0, 1)


# Quantities and dates that must be refused, not crash ------------------------------------------

@pytest.mark.parametrize("quantity", [10**12, 2**63])
def test_a_huge_quantity_is_refused_even_with_backorders_allowed(session, people, make_item, quantity):
    rep, _staff, _manager = people
    pens = make_item("PEN-1", on_hand=10)
    with pytest.raises(InvalidInput, match="at most"):
        submit(session, rep, [(pens, quantity)], allow_partial=True)
    assert count_requests(session) == 0


def test_a_huge_quantity_through_the_api_is_a_400(client, session, make_user, make_item):
    make_item("PEN-1", on_hand=10)
    token = create_token(session, make_user("rep"), "t")[1]
    response = client.post("/api/v1/requests", headers={"Authorization": f"Bearer {token}"}, json={
        "needed_by": day(3).isoformat(), "allow_partial": True, "lines": [{"sku": "PEN-1", "qty": 10**15}]})
    assert response.status_code == 400 and "at most" in response.get_json()["error"]
    assert count_requests(session) == 0


def test_a_needed_by_date_at_the_end_of_the_calendar_is_refused(session, people, make_item):
    rep, _staff, _manager = people
    banner = make_item("BANNER-1", category="display", on_hand=1, returnable=True)
    with pytest.raises(InvalidInput, match="too far ahead"):
        submit(session, rep, [(banner, 1)], needed_by=date.max, return_by=date.max)
    assert count_requests(session) == 0


def test_far_future_dates_through_the_api_and_the_pages_are_refused(client, session, make_user, make_item, login):
    make_item("PEN-1", on_hand=10)
    token = create_token(session, make_user("rep"), "t")[1]
    response = client.post("/api/v1/requests", headers={"Authorization": f"Bearer {token}"}, json={
        "needed_by": "9999-12-31", "lines": [{"sku": "PEN-1", "qty": 1}]})
    assert response.status_code == 400
    login("rep")
    client.post("/request/add", data={"qty-PEN-1": "1"})
    page = client.post("/request", data=details(needed_by="9999-12-31"))
    assert page.status_code == 400 and "too far ahead" in page.get_data(as_text=True)
    assert client.get("/request/availability/PEN-1?out=9999-12-31").status_code == 404
    assert count_requests(session) == 0


def test_a_huge_event_id_is_a_clear_refusal(client, session, make_user, make_item):
    make_item("PEN-1", on_hand=10)
    token = create_token(session, make_user("rep"), "t")[1]
    response = client.post("/api/v1/requests", headers={"Authorization": f"Bearer {token}"}, json={
        "needed_by": day(3).isoformat(), "event_id": 10**20, "lines": [{"sku": "PEN-1", "qty": 1}]})
    assert response.status_code in (400, 404)
    assert count_requests(session) == 0


def test_a_huge_page_number_is_not_a_500(client, session, make_user, login):
    token = create_token(session, make_user("rep"), "t")[1]
    response = client.get("/api/v1/requests?page=99999999999999999999", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 400)
    login("manager")
    assert client.get("/requests?page=99999999999999999999").status_code == 200
    assert client.get("/requests/mine?page=99999999999999999999").status_code == 200


# Whole or nothing on the pages ---------------------------------------------------------------

def test_saving_quantities_of_several_lines_is_whole_or_nothing(client, session, make_user, make_item, login):
    rep = make_user("rep")
    pens, mugs = make_item("PEN-1", on_hand=10), make_item("MUG-1", on_hand=4)
    request = submit(session, rep, [(pens, 2), (mugs, 4)])
    pen_line, mug_line = request.lines
    login("manager")
    client.post(f"/requests/{request.id}/quantities", data={f"qty-{pen_line.id}": "5", f"qty-{mug_line.id}": "9"})
    session.expire_all()
    assert (pen_line.quantity, pen_line.reserved, mug_line.quantity) == (2, 2, 4)
    assert available(session, pens) == 8
    assert session.scalar(select(func.count(RequestStep.id)).where(RequestStep.action == "changed")) == 0


# Redirects ------------------------------------------------------------------------------------

OFF_SITE = ["/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example", "//evil.example",
            "https://evil.example/"]


@pytest.mark.parametrize("back", OFF_SITE)
def test_adding_to_a_request_never_redirects_off_site(client, make_item, login, back):
    make_item("PEN-1", on_hand=10)
    login("rep")
    response = client.post("/request/add", data={"qty-PEN-1": "1", "back": back})
    assert response.status_code == 302
    assert response.headers["Location"] == "/catalog"


def test_adding_to_a_request_returns_to_the_page_it_came_from(client, make_item, login):
    make_item("PEN-1", on_hand=10)
    login("rep")
    response = client.post("/request/add", data={"qty-PEN-1": "1", "back": "/i/PEN-1"})
    assert response.headers["Location"] == "/i/PEN-1"


@pytest.mark.parametrize("target", OFF_SITE)
def test_logging_in_never_redirects_off_site(client, make_user, target):
    user = make_user("rep")
    response = client.post("/login", query_string={"next": target},
                           data={"email": user.email, "password": "correct-horse-42"})
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


# Queries on the list pages ----------------------------------------------------------------

@pytest.fixture
def statements(app):
    counted = []

    def listener(*_args):
        counted.append(1)

    event.listen(db.engine, "before_cursor_execute", listener)
    yield counted
    event.remove(db.engine, "before_cursor_execute", listener)


def statements_for(client, statements, path):
    """SQL statements one page view takes, with nothing fresh in the session's identity map."""
    db.session.commit()  # ends the transaction and expires everything it loaded
    statements.clear()
    assert client.get(path).status_code == 200
    return len(statements)


def _many_requests(session, user_id, item_ids, n, approve=False):
    user = session.get(User, user_id)
    items = [session.get(Item, item_id) for item_id in item_ids]
    for i in range(n):
        made = submit(session, user, [(items[i % len(items)], 1), (items[(i + 1) % len(items)], 1)])
        if approve:
            review.approve(session, made.id, user)


@pytest.mark.parametrize("path", ["/requests", "/requests/mine", "/requests/picking"])
def test_list_pages_take_the_same_number_of_queries_for_5_or_50_requests(client, session, make_user, make_item,
                                                                        login, statements, path):
    item_ids = [make_item(f"PEN-{i}", on_hand=1000).id for i in range(6)]
    user_id = login("manager").id
    _many_requests(session, user_id, item_ids, 5, approve=path == "/requests/picking")
    few = statements_for(client, statements, path)
    _many_requests(session, user_id, item_ids, 45, approve=path == "/requests/picking")
    assert statements_for(client, statements, path) == few


def test_the_pick_list_and_request_page_take_the_same_number_of_queries_for_2_or_12_bins(
        client, session, make_user, make_item, login, statements):
    manager = login("manager")
    rep = make_user("rep")
    items = [make_item(f"PEN-{i}", on_hand=5, bin=f"A-{i:02d}") for i in range(12)]
    few = submit(session, rep, [(item, 1) for item in items[:2]])
    many = submit(session, rep, [(item, 1) for item in items])
    few_id, many_id = few.id, many.id
    for request_id in (few_id, many_id):
        review.approve(session, request_id, manager)
    for path in ("/requests/{}/pick", "/requests/{}"):
        assert (statements_for(client, statements, path.format(few_id))
                == statements_for(client, statements, path.format(many_id)))


# Picking, hand-over and the DISPATCH bin -------------------------------------------------------

def test_counting_dispatch_short_never_leaves_available_below_zero(session, people, make_item, make_bin):
    """Picked pens went missing from DISPATCH: the picked hold shrinks to what is there, the rest
    waits as a backorder, and the hand-over issues what DISPATCH holds."""
    rep, staff, manager = people
    pens = make_item("PEN-1", on_hand=10, bin="A-01")
    request = submit(session, rep, [(pens, 10)])
    review.approve(session, request.id, manager)
    fulfilment.pick(session, request.id, make_bin("A-01"), {request.lines[0].id: 10}, staff)
    stock.count(session, fulfilment.dispatch_bin(session), {pens: 6}, staff)
    session.expire_all()
    line = request.lines[0]
    assert available(session, pens) == 0
    assert (line.reserved, line.picked, line.backordered) == (6, 6, 4)
    handover.hand_over(session, request.id, staff)
    session.expire_all()
    assert (line.issued, line.reserved) == (6, 0)
    assert stock.check_ledger(session) == []


def test_a_returnable_cannot_be_picked_early_while_another_booking_needs_it(session, people, make_item, make_bin):
    rep, staff, manager = people
    banner = make_item("BANNER-1", category="display", on_hand=1, returnable=True, bin="B-01")
    today = submit(session, rep, [(banner, 1)], needed_by=TODAY, return_by=day(2))
    later = submit(session, rep, [(banner, 1)], needed_by=day(5), return_by=day(7))
    review.approve(session, later.id, manager)
    with pytest.raises(Conflict, match="booked for another request"):
        fulfilment.pick(session, later.id, make_bin("B-01"), {later.lines[0].id: 1}, staff)
    session.expire_all()
    assert later.status == "approved" and later.lines[0].picked == 0
    # The booking for today goes out as planned.
    review.approve(session, today.id, manager)
    fulfilment.pick(session, today.id, make_bin("B-01"), {today.lines[0].id: 1}, staff)
    handover.hand_over(session, today.id, staff)
    assert stock.check_ledger(session) == []


def test_a_returnable_whose_booking_has_passed_cannot_go_out_over_a_newer_booking(session, people, make_item,
                                                                                 make_bin):
    """Booked for last week but never picked: the banner is on the shelf and booked for today by
    someone else; picking the stale request now would put two bookings on one banner."""
    rep, staff, manager = people
    banner = make_item("BANNER-1", category="display", on_hand=1, returnable=True, bin="B-01")
    stale = submit(session, rep, [(banner, 1)], needed_by=TODAY, return_by=day(1))
    review.approve(session, stale.id, manager)
    session.execute(Request.__table__.update().where(Request.id == stale.id)
                    .values(needed_by=day(-7), return_by=day(-5)))
    session.commit()
    current = submit(session, rep, [(banner, 1)], needed_by=TODAY, return_by=day(2))
    assert current.lines[0].reserved == 1
    with pytest.raises(Conflict, match="booked for another request"):
        fulfilment.pick(session, stale.id, make_bin("B-01"), {stale.lines[0].id: 1}, staff)


def test_handing_over_releases_holds_that_were_never_picked_to_the_next_in_line(session, people, make_item,
                                                                               make_bin):
    """A backorder filled after the request was ready is not handed over: those units go to the
    next waiting request instead of staying held while the rep's banner is out."""
    rep, staff, manager = people
    pens = make_item("PEN-1", on_hand=6, bin="A-01")
    banner = make_item("BANNER-1", category="display", on_hand=1, returnable=True, bin="B-01")
    first = submit(session, rep, [(pens, 10), (banner, 1)], needed_by=TODAY, return_by=day(2), allow_partial=True)
    pen_line, banner_line = first.lines
    review.approve(session, first.id, manager)
    fulfilment.pick(session, first.id, make_bin("A-01"), {pen_line.id: 6}, staff)
    fulfilment.pick(session, first.id, make_bin("B-01"), {banner_line.id: 1}, staff)
    assert session.get(Request, first.id).status == "ready"
    second = submit(session, rep, [(pens, 3)], allow_partial=True)
    stock.receive(session, pens, make_bin("A-01"), 4, staff)  # the older request is served first
    handover.hand_over(session, first.id, staff)
    session.expire_all()
    assert (pen_line.issued, pen_line.reserved, banner_line.reserved) == (6, 0, 1)
    assert (second.lines[0].reserved, second.lines[0].backordered) == (3, 0)
    assert available(session, pens) == 1


# Locks and what is read after them (a guard: this holds today) ---------------------------------

def test_a_rule_sees_lines_another_transaction_changed_while_it_waited_for_the_lock(
        session, people, make_item, database_url, monkeypatch):
    """Two managers save quantities at once: one removes a line while the other waits for the
    item locks. The second works on the request as it is now, not as it was before it waited."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("on SQLite BEGIN IMMEDIATE takes the lock before anything is read")
    from sqlalchemy import create_engine, text

    rep, _staff, manager = people
    pens, mugs = make_item("PEN-1", on_hand=10), make_item("MUG-1", on_hand=10)
    request = submit(session, rep, [(pens, 2), (mugs, 2)])
    pen_line_id, mug_line_id = (line.id for line in request.lines)
    real_lock = common.lock_items

    def lock_after_the_other_manager(session_, item_ids):
        other = create_engine(database_url)
        with other.begin() as connection:  # the other manager's transaction commits first
            connection.execute(text("DELETE FROM request_line WHERE id = :id"), {"id": mug_line_id})
        other.dispose()
        return real_lock(session_, item_ids)

    monkeypatch.setattr(common, "lock_items", lock_after_the_other_manager)
    review.change_quantities(session, request.id, {pen_line_id: 3}, manager)
    session.expire_all()
    assert [(line.id, line.quantity, line.reserved) for line in session.get(Request, request.id).lines] == [
        (pen_line_id, 3, 3)]


@pytest.mark.parametrize("path", ["/requests/99999999999999999999", "/requests/2147483648/pick",
                                  "/requests/99999999999999999999/check-in"])
def test_a_request_id_too_large_for_the_database_is_a_404(client, login, path):
    login("manager")
    assert client.get(path).status_code == 404


def test_a_request_id_too_large_for_the_database_is_a_json_404(client, session, make_user):
    token = create_token(session, make_user("rep"), "t")[1]
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in [("GET", "/api/v1/requests/99999999999999999999"),
                         ("POST", "/api/v1/requests/99999999999999999999/cancel")]:
        response = client.open(path, method=method, headers=headers)
        assert response.status_code == 404 and "error" in response.get_json()


@pytest.mark.parametrize("code", ["DISPATCH", "OLD-1"])
def test_returned_units_go_back_into_a_stock_bin(session, people, make_item, make_bin, code):
    """Returned into DISPATCH they could never be picked again; an archived bin takes no stock."""
    from inventory.bins.services import set_archived

    rep, staff, _manager = people
    banner = make_item("BANNER-1", category="display", on_hand=1, returnable=True, bin="B-01")
    request = submit(session, rep, [(banner, 1)], needed_by=TODAY, return_by=day(2))
    hand_over_whole(session, request, staff, make_bin("B-01"))
    target = fulfilment.dispatch_bin(session) if code == "DISPATCH" else make_bin(code)
    if code == "OLD-1":
        set_archived(session, target)
    line_id = request.lines[0].id
    with pytest.raises(InvalidInput, match="stock bin"):
        fulfilment.check_in(session, request.id, target, {line_id: {"returned": 1}}, staff)
    assert session.get(Request, request.id).status == "handed_over"


def test_staff_opening_a_request_go_back_to_their_pick_list(client, session, people, make_item, login):
    rep, _staff, _manager = people
    request = submit(session, rep, [(make_item("PEN-1", on_hand=5), 1)])
    login("staff")
    html = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert 'href="/requests/picking">← To pick' in html


# A manager approves what is on screen ------------------------------------------------------------

def test_approve_with_quantities_changes_and_approves_in_one_transaction(session, people, make_item):
    rep, _staff, manager = people
    pens, mugs = make_item("PEN-1", on_hand=10), make_item("MUG-1", on_hand=6)
    request = submit(session, rep, [(pens, 7), (mugs, 2)])
    pen_line, mug_line = request.lines
    commits = []

    def count(_session):
        commits.append(1)

    event.listen(session, "after_commit", count)
    try:
        review.approve(session, request.id, manager, quantities={pen_line.id: 5, mug_line.id: 4})
    finally:
        event.remove(session, "after_commit", count)
    assert len(commits) == 1
    session.expire_all()
    assert request.status == "approved"
    assert [(line.quantity, line.reserved) for line in request.lines] == [(5, 5), (4, 4)]  # the hold follows
    assert (available(session, pens), available(session, mugs)) == (5, 2)
    assert [step.action for step in request.steps] == ["submitted", "changed", "approved"]
    assert "PEN-1: 7 → 5" in request.steps[1].note and "MUG-1: 2 → 4" in request.steps[1].note


def test_a_change_that_cannot_be_held_approves_nothing_and_changes_no_line(session, people, make_item):
    rep, _staff, manager = people
    pens, mugs = make_item("PEN-1", on_hand=10), make_item("MUG-1", on_hand=4)
    request = submit(session, rep, [(pens, 7), (mugs, 1)])
    pen_line, mug_line = request.lines
    with pytest.raises(ShortStock) as refused:
        review.approve(session, request.id, manager, quantities={pen_line.id: 5, mug_line.id: 9})
    assert [(s.line_id, s.sku, s.requested, s.available) for s in refused.value.shortages] == [
        (mug_line.id, "MUG-1", 9, 4)]
    session.expire_all()
    assert request.status == "submitted"
    assert [(line.quantity, line.reserved) for line in request.lines] == [(7, 7), (1, 1)]
    assert (available(session, pens), available(session, mugs)) == (3, 3)
    assert [step.action for step in request.steps] == ["submitted"]


@pytest.mark.parametrize("quantity, message", [(-1, "whole number"), (2.5, "whole number"), ("5", "whole number"),
                                               (10**7, "at most")])
def test_a_bad_quantity_approves_nothing_and_names_its_line(session, people, make_item, quantity, message):
    rep, _staff, manager = people
    pens, mugs = make_item("PEN-1", on_hand=10), make_item("MUG-1", on_hand=4)
    request = submit(session, rep, [(pens, 7), (mugs, 1)])
    mug_line = request.lines[1]
    with pytest.raises(InvalidInput, match=message) as refused:
        review.approve(session, request.id, manager, quantities={mug_line.id: quantity})
    assert refused.value.about == mug_line.id
    session.expire_all()
    assert request.status == "submitted" and request.lines[1].quantity == 1


def test_if_approving_fails_after_the_change_the_change_is_undone_too(session, people, make_item, monkeypatch):
    """The change and the approval are one transaction: an error in between leaves both undone."""
    rep, _staff, manager = people
    pens = make_item("PEN-1", on_hand=10)
    request = submit(session, rep, [(pens, 7)])

    def mail_server_on_fire(*_args):
        raise RuntimeError("no mail today")

    monkeypatch.setattr(emails, "approved", mail_server_on_fire)
    with pytest.raises(RuntimeError):
        review.approve(session, request.id, manager, quantities={request.lines[0].id: 5})
    session.expire_all()
    assert (request.status, request.lines[0].quantity, request.lines[0].reserved) == ("submitted", 7, 7)
    assert available(session, pens) == 3


def test_approving_with_less_serves_the_backorders_in_the_same_transaction(session, people, make_item):
    rep, _staff, manager = people
    pens = make_item("PEN-1", on_hand=10)
    first = submit(session, rep, [(pens, 8)])
    second = submit(session, rep, [(pens, 5)], allow_partial=True)
    assert (second.lines[0].reserved, second.lines[0].backordered) == (2, 3)
    review.approve(session, first.id, manager, quantities={first.lines[0].id: 6})
    session.expire_all()
    assert (first.status, first.lines[0].reserved) == ("approved", 6)
    assert (second.lines[0].reserved, second.lines[0].backordered) == (4, 1)
    assert available(session, pens) == 0


def test_change_quantities_still_reports_every_short_line_with_its_id(session, people, make_item):
    rep, _staff, manager = people
    pens, mugs = make_item("PEN-1", on_hand=3), make_item("MUG-1", on_hand=4)
    request = submit(session, rep, [(pens, 2), (mugs, 1)])
    pen_line, mug_line = request.lines
    with pytest.raises(ShortStock) as refused:
        review.change_quantities(session, request.id, {pen_line.id: 9, mug_line.id: 9}, manager)
    assert {s.line_id: s.available for s in refused.value.shortages} == {pen_line.id: 3, mug_line.id: 4}
    session.expire_all()
    assert [line.quantity for line in request.lines] == [2, 1]


# The request page is one form: the quantities on screen are what any button takes ----------------

def line_html(html, line_id):
    """The request page's list item for one line."""
    found = re.search(rf'<li id="line-{line_id}".*?</li>', html, re.S)
    assert found, f"no line {line_id} on the page"
    return found.group(0)


def one_form(html):
    """The request page's form (there is one around the lines and the buttons)."""
    forms = re.findall(r'<form method="post"[^>]*class="request-form".*?</form>', html, re.S)
    assert len(forms) == 1, "the lines and their buttons are not in one form"
    return forms[0]


@pytest.fixture
def seven_pens(session, people, make_item):
    """A rep's submitted request: 7 pens (10 on hand, 3 more free) and 1 mug (4 on hand)."""
    rep, _staff, _manager = people
    pens, mugs = make_item("PEN-1", on_hand=10), make_item("MUG-1", on_hand=4)
    request = submit(session, rep, [(pens, 7), (mugs, 1)])
    return request, pens, mugs


def test_the_manager_sees_quantities_and_every_button_in_one_form(client, login, seven_pens):
    request, _pens, _mugs = seven_pens
    login("manager")
    html = client.get(f"/requests/{request.id}").get_data(as_text=True)
    form = one_form(html)
    pen_line, mug_line = request.lines
    for path in ("quantities", "approve", "reject", "cancel"):
        assert f'formaction="/requests/{request.id}/{path}"' in form
    assert 'name="reason"' in form and f'name="qty-{pen_line.id}"' in form and f'name="qty-{mug_line.id}"' in form
    assert "3 more free" in line_html(html, pen_line.id)
    assert 'data-confirm="Cancel this request? Its stock is released."' in form
    assert "table" not in html.split("<h2>Items</h2>")[1].split("<h2>Steps</h2>")[0]  # no column to hide


def test_approve_takes_the_quantities_on_screen(client, login, session, seven_pens):
    """The bug: a line changed from 7 to 5 and Approve pressed was approved with 7."""
    request, pens, _mugs = seven_pens
    pen_line, mug_line = request.lines
    login("manager")
    response = client.post(f"/requests/{request.id}/approve",
                           data={f"qty-{pen_line.id}": "5", f"qty-{mug_line.id}": "1", "reason": ""})
    assert response.status_code == 302 and response.headers["Location"] == f"/requests/{request.id}"
    session.expire_all()
    assert request.status == "approved"
    assert (pen_line.quantity, pen_line.reserved, mug_line.quantity) == (5, 5, 1)
    assert available(session, pens) == 5
    assert "Quantities saved and approved" in client.get(f"/requests/{request.id}").get_data(as_text=True)


def test_approve_with_more_than_is_free_approves_nothing_and_says_so_by_the_line(client, login, session, seven_pens):
    request, pens, mugs = seven_pens
    pen_line, mug_line = request.lines
    login("manager")
    response = client.post(f"/requests/{request.id}/approve",
                           data={f"qty-{pen_line.id}": "5", f"qty-{mug_line.id}": "9"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    mug_html = line_html(html, mug_line.id)
    assert "Only 4 free: asked 9." in mug_html and 'value="9"' in mug_html
    assert 'value="5"' in line_html(html, pen_line.id)  # what the manager typed, not what is saved
    assert "Only" not in line_html(html, pen_line.id)
    session.expire_all()
    assert request.status == "submitted"
    assert [(line.quantity, line.reserved) for line in request.lines] == [(7, 7), (1, 1)]
    assert (available(session, pens), available(session, mugs)) == (3, 3)


@pytest.mark.parametrize("typed, message", [("", "Enter how many, 0 to remove the line."),
                                            ("  ", "Enter how many, 0 to remove the line."),
                                            ("five", "Enter a whole number"), ("-2", "Enter a whole number"),
                                            ("2.5", "Enter a whole number"), ("²", "Enter a whole number")])
@pytest.mark.parametrize("action", ["approve", "quantities"])
def test_a_box_that_is_not_a_count_approves_and_saves_nothing(client, login, session, seven_pens, typed, message,
                                                             action):
    request, _pens, _mugs = seven_pens
    pen_line, mug_line = request.lines
    login("manager")
    response = client.post(f"/requests/{request.id}/{action}",
                           data={f"qty-{pen_line.id}": "5", f"qty-{mug_line.id}": typed})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in line_html(html, mug_line.id) and "is not a count" not in html and "(empty)" not in html
    assert 'value="5"' in line_html(html, pen_line.id)
    session.expire_all()
    assert request.status == "submitted" and [line.quantity for line in request.lines] == [7, 1]


def test_a_huge_number_is_refused_by_the_line(client, login, session, seven_pens):
    request, _pens, _mugs = seven_pens
    mug_line = request.lines[1]
    login("manager")
    response = client.post(f"/requests/{request.id}/approve", data={f"qty-{mug_line.id}": "99999999999"})
    assert response.status_code == 400 and "at most 1,000,000" in line_html(response.get_data(as_text=True),
                                                                           mug_line.id)
    session.expire_all()
    assert request.status == "submitted"


def test_removing_every_line_and_approving_says_why_at_the_top(client, login, session, seven_pens):
    request, _pens, _mugs = seven_pens
    pen_line, mug_line = request.lines
    login("manager")
    response = client.post(f"/requests/{request.id}/approve", data={f"qty-{pen_line.id}": "0",
                                                                   f"qty-{mug_line.id}": "0"})
    assert response.status_code == 400 and "reject or cancel it instead" in response.get_data(as_text=True)
    session.expire_all()
    assert request.status == "submitted"


def test_saving_quantities_more_than_free_keeps_what_was_typed(client, login, session, seven_pens):
    request, _pens, _mugs = seven_pens
    pen_line = request.lines[0]
    login("manager")
    response = client.post(f"/requests/{request.id}/quantities", data={f"qty-{pen_line.id}": "12"})
    assert response.status_code == 409
    assert 'value="12"' in line_html(response.get_data(as_text=True), pen_line.id)
    assert "Only 10 free: asked 12." in line_html(response.get_data(as_text=True), pen_line.id)
    session.expire_all()
    assert pen_line.quantity == 7


def test_reject_without_a_reason_keeps_the_typed_quantities(client, login, session, seven_pens):
    request, _pens, _mugs = seven_pens
    pen_line = request.lines[0]
    login("manager")
    response = client.post(f"/requests/{request.id}/reject", data={f"qty-{pen_line.id}": "4", "reason": " "})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'value="4"' in line_html(html, pen_line.id)
    reason_box = re.search(r'<label for="reason".*?</label>', html, re.S).group(0)
    assert "Say why the request is rejected" in reason_box and 'aria-invalid="true"' in reason_box
    assert "<details open>" in html
    session.expire_all()
    assert request.status == "submitted" and pen_line.quantity == 7


def test_reject_with_changed_quantities_releases_everything(client, login, session, seven_pens):
    request, pens, mugs = seven_pens
    pen_line = request.lines[0]
    login("manager")
    response = client.post(f"/requests/{request.id}/reject", data={f"qty-{pen_line.id}": "99",
                                                                  "reason": "Use the webinar flyer"})
    assert response.status_code == 302
    session.expire_all()
    assert request.status == "rejected" and [line.reserved for line in request.lines] == [0, 0]
    assert (available(session, pens), available(session, mugs)) == (10, 4)


def test_cancel_from_the_one_form_ignores_the_quantities(client, login, session, seven_pens):
    request, pens, _mugs = seven_pens
    login("manager")
    client.post(f"/requests/{request.id}/cancel", data={f"qty-{request.lines[0].id}": "", "reason": ""})
    session.expire_all()
    assert request.status == "cancelled" and available(session, pens) == 10


def test_the_rep_and_staff_see_no_boxes_and_the_rep_can_still_cancel(client, auth_client, session, people,
                                                                     seven_pens):
    rep, staff, manager = people
    request, _pens, _mugs = seven_pens
    auth_client.login(rep)
    html = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert 'name="qty-' not in html and 'name="reason"' not in html and "Approve" not in html
    assert f'formaction="/requests/{request.id}/cancel"' in one_form(html)
    pen_html = line_html(html, request.lines[0].id)
    assert "Asked <strong>7</strong>" in pen_html and "Held <strong>7</strong>" in pen_html
    auth_client.logout()
    auth_client.login(staff)
    html = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert 'name="qty-' not in html and "Cancel request" not in html and 'class="request-form"' not in html
    auth_client.logout()
    review.approve(session, request.id, manager)
    auth_client.login(rep)
    assert f'formaction="/requests/{request.id}/cancel"' in one_form(
        client.get(f"/requests/{request.id}").get_data(as_text=True))
    client.post(f"/requests/{request.id}/cancel")
    session.expire_all()
    assert request.status == "cancelled"


def test_an_approved_request_shows_the_manager_reject_and_cancel_but_no_boxes(client, login, session, people,
                                                                            seven_pens):
    _rep, _staff, manager = people
    request, _pens, _mugs = seven_pens
    review.approve(session, request.id, manager)
    login("manager")
    form = one_form(client.get(f"/requests/{request.id}").get_data(as_text=True))
    assert 'name="qty-' not in form and "Approve" not in form
    # Enter in the reason box presses the first button: Reject, not Cancel.
    assert form.index(f"/requests/{request.id}/reject") < form.index(f"/requests/{request.id}/cancel")


# Approve from the queue ---------------------------------------------------------------------------

def test_the_queue_approves_a_submitted_request_in_one_tap_and_comes_back(client, login, session, people,
                                                                          make_item):
    rep, _staff, manager = people
    pens = make_item("PEN-1", on_hand=100)
    first, second = submit(session, rep, [(pens, 7)]), submit(session, rep, [(pens, 2)], needed_by=day(6))
    review.approve(session, second.id, manager)
    login("manager")
    queue = client.get("/requests?status=submitted").get_data(as_text=True)
    assert f'action="/requests/{first.id}/approve?from=queue&amp;status=submitted&amp;seen={first.lines[0].id}:' in queue
    assert f'aria-label="Approve {first.number}"' in queue
    assert f"/requests/{second.id}/approve" not in client.get("/requests").get_data(as_text=True)
    response = client.post(f"/requests/{first.id}/approve?from=queue&status=submitted&page=2")
    assert response.status_code == 302 and response.headers["Location"] == "/requests?status=submitted&page=2"
    assert f"Approved {first.number}" in client.get("/requests").get_data(as_text=True)
    session.expire_all()
    assert (first.status, first.lines[0].quantity, first.lines[0].reserved) == ("approved", 7, 7)
    # Approved already (by another manager, say): said plainly, back on the queue.
    again = client.post(f"/requests/{first.id}/approve?from=queue", follow_redirects=True)
    assert again.status_code == 200 and f"Request {first.number} is approved" in again.get_data(
        as_text=True)


def test_the_queue_approve_goes_back_only_to_the_queue(client, login, session, people, make_item):
    rep, _staff, _manager = people
    request = submit(session, rep, [(make_item("PEN-1", on_hand=10), 1)])
    login("manager")
    response = client.post(f"/requests/{request.id}/approve?from=queue&status=//evil.example&page=x")
    assert response.headers["Location"] == "/requests"


def test_a_manager_approves_only_what_they_saw(client, login, session, make_user, make_item):
    """Another manager changed the request after this page was drawn: Approve (on the page or in
    the queue) and Save refuse, and nothing changes."""
    rep = make_user("rep")
    pens, mugs = make_item("PEN-1", on_hand=10), make_item("MUG-1", on_hand=10)
    request = submit(session, rep, [(pens, 7), (mugs, 3)])
    pen_line, mug_line = request.lines
    login("manager")
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    drawn = f"{pen_line.id}:7,{mug_line.id}:3"
    assert f'name="seen" value="{drawn}"' in page
    queue = client.get("/requests").get_data(as_text=True)
    assert f"seen={drawn}".replace(",", "%2C") in queue or f"seen={drawn}" in queue
    review.change_quantities(session, request.id, {mug_line.id: 0}, make_user("manager"))  # meanwhile
    refused = client.post(f"/requests/{request.id}/approve",
                          data={"seen": drawn, f"qty-{pen_line.id}": "7", f"qty-{mug_line.id}": "3"})
    assert refused.status_code == 409 and "changed since you opened it" in refused.get_data(as_text=True)
    from_queue = client.post(f"/requests/{request.id}/approve?from=queue&seen={drawn}", follow_redirects=True)
    assert "changed since you opened it" in from_queue.get_data(as_text=True)
    saved = client.post(f"/requests/{request.id}/quantities", data={"seen": drawn, f"qty-{pen_line.id}": "5"})
    assert saved.status_code == 409
    session.expire_all()
    assert request.status == "submitted" and [(ln.quantity, ln.reserved) for ln in request.lines] == [(7, 7)]
    # As it is now, it approves.
    client.post(f"/requests/{request.id}/approve", data={"seen": f"{pen_line.id}:7", f"qty-{pen_line.id}": "7"})
    session.expire_all()
    assert request.status == "approved"
