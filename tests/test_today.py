"""The Today pages: what each role has to do today, with dates that are due today, overdue, or
not yet; the pages through the test client, per role."""
from datetime import date, timedelta

import pytest

from inventory.bins.services import get_bin
from inventory.catalog.services import get_item
from inventory.extensions import db
from inventory.requests import fulfilment, queries, submission
from inventory.stock import services as stock
from inventory.today import services as today_rules
from tests.today_data import PASSWORD, build

T = date.today()


@pytest.fixture
def day(app):
    return build(db.session, T)


def _user(email):
    from sqlalchemy import select

    from inventory.auth.models import User
    return db.session.scalar(select(User).where(User.email == email))


def _sections(sections):
    return {s.key: s for s in sections}


def _ids(section):
    return [row.id for row in section.rows]


def test_the_stockroom_sees_what_to_pick_receive_check_in_and_count_today(day):
    staff = _sections(today_rules.for_staff(db.session, T, 90))
    assert _ids(staff["pick"]) == [day["to_pick"]] and staff["pick"].total == 1
    assert staff["pick"].rows[0].to_pick == 54 and staff["pick"].rows[0].lines == 2
    assert _ids(staff["hand_over"]) == []
    assert _ids(staff["deliveries"]) == [day["order"]]  # expected today
    assert _ids(staff["returns"]) == [day["loan"]]  # due back today
    assert [row.code for row in staff["counts"].rows] == ["A-01-1", "B-01-1"]  # never counted; not DISPATCH
    assert all(row.counted_at is None for row in staff["counts"].rows)


def test_nothing_is_due_the_day_before(day):
    staff = _sections(today_rules.for_staff(db.session, T - timedelta(days=1), 90))
    assert staff["deliveries"].rows == [] and staff["deliveries"].total == 0
    assert staff["returns"].rows == []
    manager = _sections(today_rules.for_manager(db.session, T))
    assert manager["late_orders"].rows == [] and manager["late_loans"].rows == []  # due today is not late


def test_overdue_deliveries_and_loans_stay_until_they_are_done(day):
    later = T + timedelta(days=3)
    staff = _sections(today_rules.for_staff(db.session, later, 90))
    assert _ids(staff["deliveries"]) == [day["order"]] and _ids(staff["returns"]) == [day["loan"]]
    manager = _sections(today_rules.for_manager(db.session, later))
    assert _ids(manager["late_orders"]) == [day["order"]] and _ids(manager["late_loans"]) == [day["loan"]]


def test_a_bin_counted_recently_is_not_due_until_count_every_days_have_passed(day):
    staff_user = _user("staff@example.com")
    stock.count(db.session, get_bin(db.session, "A-01-1"), [(get_item(db.session, "POLO-NAVY-S"), 20)], staff_user)
    counts = _sections(today_rules.for_staff(db.session, T, 90))["counts"]
    assert [row.code for row in counts.rows] == ["B-01-1"]
    counts = _sections(today_rules.for_staff(db.session, T + timedelta(days=91), 90))["counts"]
    assert [row.code for row in counts.rows] == ["B-01-1", "A-01-1"]  # never counted first, then the oldest
    assert counts.rows[1].counted_at.date() == date.today()


def test_a_rep_sees_their_open_requests_with_the_next_step_their_loans_and_their_events(day):
    rep = _sections(today_rules.for_rep(db.session, _user("rep@example.com"), T))
    assert _ids(rep["mine"]) == [day["rush"], day["to_pick"]]  # soonest needed first
    assert [today_rules.next_step(row) for row in rep["mine"].rows] == [
        "Waiting for Marketing to approve", "Approved: the stockroom picks it next"]
    assert _ids(rep["loans"]) == [day["loan"]] and rep["loans"].rows[0].return_by == T
    assert _ids(rep["events"]) == [day["event"]]  # a request of theirs is for it
    after = _sections(today_rules.for_rep(db.session, _user("rep@example.com"), T + timedelta(days=30)))
    assert after["events"].rows == []  # over


def test_another_rep_sees_none_of_it(day, make_user):
    other = _sections(today_rules.for_rep(db.session, make_user("rep"), T))
    assert all(section.rows == [] and section.total == 0 for section in other.values())


def test_marketing_sees_rush_requests_approvals_and_what_to_order_now(day):
    manager = _sections(today_rules.for_manager(db.session, T))
    assert _ids(manager["rush"]) == [day["rush"]]  # needed tomorrow; the other one in ten days
    assert _ids(manager["approve"]) == [day["rush"]]
    assert [flag.item.sku for flag in manager["order"].rows] == ["BRO-ATLAS"]
    assert manager["order"].rows[0].status in ("order_now", "expedite")


def test_a_section_shows_ten_rows_and_counts_them_all(day):
    rep, medium = _user("rep@example.com"), get_item(db.session, "POLO-NAVY-M")
    for n in range(11):
        submission.submit(db.session, rep, [(medium, 1)], purpose="other", needed_by=T + timedelta(days=30 + n), today=T)
    approve = _sections(today_rules.for_manager(db.session, T))["approve"]
    assert len(approve.rows) == today_rules.LIMIT == 10 and approve.total == 12 and approve.more == 2
    assert approve.rows[0].id == day["rush"]


# The pages -------------------------------------------------------------------------------------

def _page(client, email):
    client.post("/logout")
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == "/today"
    response = client.get("/today")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_every_role_lands_on_its_today_page_each_row_one_tap_from_its_action(day, client):
    staff = _page(client, "staff@example.com")
    assert "To pick <span class=\"count\">(1)</span>" in staff
    assert f'href="/requests/{day["to_pick"]}/pick"' in staff
    assert f'href="/purchase-orders/{day["order"]}"' in staff and "expected today" in staff
    assert f'href="/requests/{day["loan"]}/check-in"' in staff and "Due back today" in staff
    assert 'href="/stock/count/A-01-1"' in staff and "never counted" in staff
    assert "Nothing waiting in dispatch." in staff

    rep = _page(client, "rep@example.com")
    assert f'href="/requests/{day["rush"]}"' in rep and "Waiting for Marketing to approve" in rep
    assert "Due back today" in rep and f'href="/events/{day["event"]}"' in rep and "Expo Nord" in rep
    assert "/check-in" not in rep and "/pick" not in rep

    manager = _page(client, "manager@example.com")
    assert "Waiting for approval <span class=\"count\">(1)</span>" in manager
    assert "/purchase-orders/new?" in manager and "line=BRO-ATLAS" in manager  # the pre-filled PO
    assert "No purchase order is late." in manager and "No loan is overdue." in manager

    admin = _page(client, "admin@example.com")
    assert "Waiting for approval" in admin and 'href="/admin/users"' in admin


def test_the_rep_sees_the_request_not_sent_yet_on_today_and_my_requests(day, client):
    _page(client, "rep@example.com")
    client.post("/request/add", data={"qty-POLO-NAVY-L": "3"})
    for url in ("/today", "/requests/mine"):
        html = client.get(url).get_data(as_text=True)
        assert "Your request, not sent yet" in html and "1 line, 3 units" in html, url
    nav = client.get("/today").get_data(as_text=True).split('<nav class="bottomnav"')[1]
    assert 'href="/request"' in nav  # the Requests tab opens it while it holds anything


def test_the_rep_requests_tab_opens_my_requests_when_nothing_is_being_put_together(day, client):
    nav = _page(client, "rep@example.com").split('<nav class="bottomnav"')[1]
    assert 'href="/requests/mine"' in nav and 'href="/request"' not in nav
    assert nav.index('href="/today"') < nav.index('href="/catalog"')  # Today first


def test_today_needs_a_login(client):
    response = client.get("/today")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert client.get("/").headers["Location"].startswith("/login")


def test_the_laptop_top_bar_is_grouped_into_a_few_menus(day, client):
    def top_bar(email):
        top = _page(client, email).split('<nav class="topnav"')[1].split("</nav>")[0]
        return top.count("<summary>"), top.count("<a ") - top.count("<li><a ")

    assert top_bar("admin@example.com") == (4, 3)  # Requests, Stock, Plan, Admin; Today, Catalog, Me
    assert top_bar("manager@example.com") == (4, 3)  # Admin holds Teams (to look at) and the Outbox
    assert top_bar("rep@example.com") == (1, 5)  # Requests; Today, Catalog, Scan, Events, Me


def test_a_picked_request_is_one_tap_from_its_hand_over(day, client):
    staff = _user("staff@example.com")
    shown = queries.get_request(db.session, day["to_pick"])
    for bin, picks in fulfilment.pick_list(db.session, shown):
        fulfilment.pick(db.session, shown.id, bin, {line.id: quantity for line, quantity in picks}, staff)
    page = _page(client, "staff@example.com")
    assert f'href="/requests/{day["to_pick"]}/hand-over"' in page and "Hand over ›" in page
    assert "Nothing to pick." in page
