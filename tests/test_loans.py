"""Loans: returnable units out on a request, said where the item is (its page, its bins, its
label) and asked about when the same display is booked as arriving stock."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from inventory.bins.services import get_bin
from inventory.querycount import count_queries
from inventory.requests import fulfilment, handover, queries, review, submission
from inventory.requests import loans as loan_rules
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock
from inventory.stock.models import Movement


def d(days):
    return date.today() + timedelta(days=days)


@pytest.fixture
def people(make_user):
    return {"rep": make_user("rep", name="Dana Rep"), "manager": make_user("manager"),
            "staff": make_user("staff", email="staff@example.com", name="Sam Stock")}


@pytest.fixture
def lend(session, people, make_bin):
    """lend(item, units, bin="B-01", return_by=d(5), rep=None) -> the handed-over request."""

    def do(item, units=1, bin="B-01", return_by=None, rep=None, past=False):
        today = d(-10) if past else None
        made = submission.submit(session, rep or people["rep"], [(item, units)], purpose="trade_show",
                                 needed_by=d(-9) if past else d(1), return_by=return_by or d(5), today=today)
        review.approve(session, made.id, people["manager"])
        line = queries.get_request(session, made.id).lines[0]
        fulfilment.pick(session, made.id, get_bin(session, bin), {line.id: units}, people["staff"])
        handover.hand_over(session, made.id, people["staff"])
        return queries.get_request(session, made.id)

    return do


def value_of(html, box_id):
    box = re.search(r'<input[^>]*\bid="' + re.escape(box_id) + r'"[^>]*>', html)
    return re.search(r'value="([^"]*)"', box.group(0)).group(1)


# The rules ------------------------------------------------------------------------------------

def test_a_handed_over_returnable_is_a_loan_with_its_request_person_and_date(session, make_item, lend):
    booth = make_item("BOOTH-1", category="display", on_hand=3, bin="B-01", returnable=True)
    out = lend(booth, 2, return_by=d(4))
    [loan] = loan_rules.loans_of_item(session, booth)
    assert (loan.request_id, loan.number, loan.requester, loan.units, loan.return_by) == (
        out.id, f"R-{out.id:05d}", "Dana Rep", 2, d(4))
    assert loan.line_id == out.lines[0].id
    assert not loan.overdue and loan.due_words == "due back " + d(4).strftime("%a %-d %b")


def test_a_loan_past_its_date_says_how_many_days_overdue(session, make_item, lend):
    booth = make_item("BOOTH-1", category="display", on_hand=1, bin="B-01", returnable=True)
    lend(booth, 1, return_by=d(-3), past=True)
    [loan] = loan_rules.loans_of_item(session, booth)
    assert loan.overdue and loan.days_overdue == 3
    assert loan.due_words.startswith("3 days overdue (due back ")
    assert loan_rules.loans_of_item(session, booth, today=d(-4))[0].due_words == (
        "due back " + d(-3).strftime("%a %-d %b"))
    assert loan_rules.loans_of_item(session, booth, today=d(-3))[0].due_words == "due back today"
    assert loan_rules.loans_of_item(session, booth, today=d(-2))[0].due_words.startswith("1 day overdue")

def test_checked_in_reserved_and_consumable_lines_are_no_loans(session, make_item, make_bin, lend, people):
    booth = make_item("BOOTH-1", category="display", on_hand=2, bin="B-01", returnable=True)
    flyer = make_item("FLY-1", category="print", on_hand=50, bin="B-01")
    back = lend(booth, 1)
    lend(flyer, 10)
    fulfilment.check_in(session, back.id, make_bin("B-01"), {back.lines[0].id: {"returned": 1}}, people["staff"])
    # Reserved for later, not handed over: booked, but not out.
    submission.submit(session, people["rep"], [(booth, 1)], purpose="trade_show", needed_by=d(20), return_by=d(25))
    assert loan_rules.loans_of_items(session, [booth.id, flyer.id]) == {}
    assert loan_rules.loans_of_item(session, flyer) == []


def test_loans_of_many_items_in_one_query_most_overdue_first(session, make_item, make_user, lend):
    booth = make_item("BOOTH-1", category="display", on_hand=3, bin="B-01", returnable=True)
    banner = make_item("BANNER-1", category="display", on_hand=1, bin="B-01", returnable=True)
    other = make_user("rep", email="lee@example.com")  # no name given: named after the e-mail
    late = lend(booth, 1, return_by=d(9))
    early = lend(booth, 2, return_by=d(3), rep=other)
    lend(banner, 1)
    ids = [booth.id, banner.id]
    with count_queries(session.get_bind()) as counted:
        found = loan_rules.loans_of_items(session, ids)
    assert counted.count == 1
    assert [(loan.request_id, loan.units, loan.requester) for loan in found[booth.id]] == [
        (early.id, 2, "lee"), (late.id, 1, "Dana Rep")]
    assert loan_rules.units_out(found[booth.id]) == 3 and loan_rules.units_out(found[banner.id]) == 1
    assert loan_rules.loan_for_check_in(found[booth.id]) is None
    assert loan_rules.loan_for_check_in(found[banner.id]).item_id == banner.id
    assert loan_rules.loan_for_check_in([]) is None
    assert loan_rules.loans_of_items(session, []) == {}


def test_the_usual_bin_is_the_shelf_it_was_picked_from(session, make_item, make_bin, lend, people):
    booth = make_item("BOOTH-1", category="display", on_hand=1, bin="B-07", returnable=True)
    assert loan_rules.usual_bin(session, booth).code == "B-07"  # received there
    lend(booth, 1, bin="B-07")  # picked from B-07 into DISPATCH, then issued
    assert loan_rules.usual_bin(session, booth).code == "B-07"
    fresh = make_item("BOOTH-2", category="display", returnable=True)
    assert loan_rules.usual_bin(session, fresh) is None


def test_the_usual_bin_skips_an_archived_shelf(session, make_item, make_bin, lend, people):
    from inventory.bins import services as bins

    booth = make_item("BOOTH-1", category="display", on_hand=1, bin="B-07", returnable=True)
    stock.move(session, booth, get_bin(session, "B-07"), make_bin("B-08"), 1, people["staff"])
    stock.move(session, booth, get_bin(session, "B-08"), get_bin(session, "B-07"), 1, people["staff"])
    stock.move(session, booth, get_bin(session, "B-07"), get_bin(session, "B-08"), 1, people["staff"])
    lend(booth, 1, bin="B-08")
    bins.set_archived(session, get_bin(session, "B-08"), archived=True)
    assert loan_rules.usual_bin(session, booth).code == "B-07"


def test_units_say_where_every_unit_is():
    assert loan_rules.Units(2, 0, 1).words == "3 units: 2 in bins, 1 out on loan"
    assert loan_rules.Units(0, 0, 1).words == "1 unit: 0 in bins, 1 out on loan"
    assert loan_rules.Units(1, 1, 0).words == "2 units: 1 in a bin, 1 picked for hand-over"


# The item page ----------------------------------------------------------------------------------

def text_of(response):
    """The page's words as read: inline tags join their text, others separate it."""
    html = re.sub(r"</?(?:span|strong|code|a|mark)\b[^>]*>", "", response.get_data(as_text=True))
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def booth(make_item):
    return make_item("BOOTH-1", name="Booth display", category="display", on_hand=2, bin="B-01", returnable=True)


def test_the_item_page_says_which_units_are_out_with_whom_until_when(client, auth_client, booth, lend, people):
    out = lend(booth, 1, return_by=d(4))
    auth_client.login(people["rep"])
    response = client.get("/i/BOOTH-1")
    assert response.status_code == 200
    text = text_of(response)
    assert "2 units: 1 in a bin, 1 out on loan" in text
    assert f"1 out on R-{out.id:05d} with Dana Rep · due back {d(4).strftime('%a %-d %b')}" in text
    html = response.get_data(as_text=True)
    assert "/check-in" not in html  # a rep sees the loan, not the button
    assert client.get(f"/requests/{out.id}/check-in").status_code == 403


def test_staff_get_check_in_on_the_loan_row_and_receive_is_not_the_main_action(client, auth_client, booth, lend,
                                                                                people):
    out = lend(booth, 1)
    auth_client.login(people["staff"])
    response = client.get("/i/BOOTH-1")  # one unit is still in B-01: no redirect
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'href="/requests/{out.id}/check-in?item=BOOTH-1"' in html
    assert re.search(r'class="secondary outline" href="/stock/put-away\?', html)
    assert "A unit coming back? Check it in above." in text_of(response)


def test_an_overdue_loan_is_said_in_red_with_words(client, auth_client, booth, lend, people):
    lend(booth, 1, return_by=d(-3), past=True)
    auth_client.login(people["manager"])
    html = client.get("/i/BOOTH-1?page=1").get_data(as_text=True)
    assert re.search(r'<li class="row loan overdue"', html)
    assert "3 days overdue (due back" in html


def test_a_consumable_has_no_units_card(client, login, make_item):
    make_item("FLY-1", category="print", on_hand=5, bin="B-01")
    login("staff")
    html = client.get("/i/FLY-1").get_data(as_text=True)
    assert 'id="item-units"' not in html and "Where it is" in html


def test_staff_scanning_a_returned_unit_land_on_its_check_in(client, auth_client, make_item, lend, people):
    booth = make_item("BOOTH-1", name="Booth display", category="display", on_hand=1, bin="B-01", returnable=True)
    out = lend(booth, 1)
    auth_client.login(people["staff"])
    landed = client.get("/i/BOOTH-1")
    assert landed.status_code == 302 and landed.location == f"/requests/{out.id}/check-in?item=BOOTH-1"
    from_scanner = client.get("/i/BOOTH-1", headers={"Referer": "http://localhost/scan"})
    assert from_scanner.status_code == 302
    # The way out, and a link followed inside the app, open the item page itself.
    assert client.get("/i/BOOTH-1?page=1").status_code == 200
    assert client.get("/i/booth-1?page=1").location == "/i/BOOTH-1?page=1"
    assert client.get("/i/BOOTH-1", headers={"Referer": f"http://localhost/requests/{out.id}"}).status_code == 200
    page = client.get(landed.location)
    text = text_of(page)
    assert "Booth display BOOTH-1 · 1 out with Dana Rep" in text and "Open the item page instead" in text
    assert 'href="/i/BOOTH-1?page=1"' in page.get_data(as_text=True)


def test_reps_and_several_loans_are_not_redirected(client, auth_client, make_item, lend, people):
    booth = make_item("BOOTH-1", category="display", on_hand=2, bin="B-01", returnable=True)
    first, second = lend(booth, 1), lend(booth, 1)
    auth_client.login(people["rep"])
    assert client.get("/i/BOOTH-1").status_code == 200
    auth_client.logout()
    auth_client.login(people["staff"])
    html = client.get("/i/BOOTH-1").get_data(as_text=True)
    assert f"/requests/{first.id}/check-in?item=BOOTH-1" in html and f"/requests/{second.id}/check-in?item=BOOTH-1" in html


# The check-in page ------------------------------------------------------------------------------

def test_check_in_for_an_item_fills_in_its_bin_and_lands_on_the_item(client, auth_client, session, make_item, lend,
                                                                   people):
    booth = make_item("BOOTH-1", category="display", on_hand=2, bin="B-07", returnable=True)
    out = lend(booth, 2, bin="B-07")
    line = out.lines[0].id
    auth_client.login(people["staff"])
    html = client.get(f"/requests/{out.id}/check-in?item=BOOTH-1").get_data(as_text=True)
    assert value_of(html, "bin") == "B-07" and value_of(html, f"returned-{line}") == "2"
    carried = client.get(f"/requests/{out.id}/check-in?item=booth-1&qty=1&bin=B-09").get_data(as_text=True)
    assert value_of(carried, "bin") == "B-09" and value_of(carried, f"returned-{line}") == "1"
    assert "say below what happened to the other 1" in carried
    # Refused (1 of 2 said): what was typed stays, nothing is booked.
    refused = client.post(f"/requests/{out.id}/check-in?item=BOOTH-1&qty=1",
                          data={f"returned-{line}": "1", "bin": "B-07"})
    assert refused.status_code == 400
    assert value_of(refused.get_data(as_text=True), f"returned-{line}") == "1"
    assert loan_rules.loans_of_item(session, booth)
    done = client.post(f"/requests/{out.id}/check-in?item=BOOTH-1&qty=1",
                       data={f"returned-{line}": "1", f"lost-{line}": "1", "bin": "B-07"})
    assert done.status_code == 302 and done.location == "/i/BOOTH-1?page=1"
    session.expire_all()
    assert loan_rules.loans_of_item(session, booth) == []
    assert stock_queries.level(session, booth, get_bin(session, "B-07")) == 1


def test_check_in_without_an_item_is_as_before(client, auth_client, booth, lend, people):
    out = lend(booth, 1)
    auth_client.login(people["staff"])
    html = client.get(f"/requests/{out.id}/check-in").get_data(as_text=True)
    assert 'id="check-in-item"' not in html and value_of(html, "bin") == ""
    html = client.get(f"/requests/{out.id}/check-in?item=NOPE-1").get_data(as_text=True)
    assert 'id="check-in-item"' not in html


# The bin page -----------------------------------------------------------------------------------

def test_the_bin_page_says_a_returnables_other_units_are_out(client, auth_client, booth, lend, people):
    out = lend(booth, 1, return_by=d(4))
    auth_client.login(people["rep"])
    text = text_of(client.get("/b/B-01"))
    assert f"+1 out on R-{out.id:05d} with Dana Rep, due back {d(4).strftime('%a %-d %b')}" in text
    assert "/check-in" not in client.get("/b/B-01").get_data(as_text=True)
    auth_client.logout()
    auth_client.login(people["staff"])
    html = client.get("/b/B-01").get_data(as_text=True)
    assert f'href="/requests/{out.id}/check-in?item=BOOTH-1&amp;bin=B-01"' in html


# Receive / put away of a returnable that is out on loan ----------------------------------------

def movements_of(session, kind):
    return session.scalar(select(func.count(Movement.id)).where(Movement.kind == kind))


@pytest.mark.parametrize("url", ["/stock/receive", "/stock/put-away"])
def test_receiving_a_loaned_display_asks_first_and_keeps_what_was_typed(client, auth_client, session, make_bin,
                                                                         booth, lend, people, url):
    out = lend(booth, 1, return_by=d(4))
    make_bin("B-02")
    auth_client.login(people["staff"])
    typed = {"sku": "booth-1", "bin": "B-02", "quantity": "1", "reference": "DN-778"}
    before = movements_of(session, "receive")
    asked = client.post(url, data=typed)
    assert asked.status_code == 200
    text = text_of(asked)
    assert (f"1 unit of Booth display is out on R-{out.id:05d} with Dana Rep "
            f"(due back {d(4).strftime('%a %-d %b')}). Is this that unit coming back?") in text
    html = asked.get_data(as_text=True)
    assert [value_of(html, box) for box in ("sku", "bin", "quantity", "reference")] == ["booth-1", "B-02", "1", "DN-778"]
    assert f'name="loan_answer" value="returning-{out.id}"' in html and 'name="loan_answer" value="new"' in html
    assert movements_of(session, "receive") == before  # nothing booked by asking

    # Yes: that request's check-in, with the item, quantity and bin carried over.
    yes = client.post(url, data={**typed, "loan_answer": f"returning-{out.id}"})
    assert yes.status_code == 302
    assert yes.location == f"/requests/{out.id}/check-in?item=BOOTH-1&qty=1&bin=B-02"
    assert movements_of(session, "receive") == before
    # No: booked as asked, whatever else was changed on the page before pressing it.
    no = client.post(url, data={**typed, "quantity": "2", "loan_answer": "new"})
    assert no.status_code == 302
    assert movements_of(session, "receive") == before + 1
    assert stock_queries.level(session, booth, get_bin(session, "B-02")) == 2
    assert loan_rules.loans_of_item(session, booth)  # still out: a new unit is not the loaned one


@pytest.mark.parametrize("url", ["/stock/receive", "/stock/put-away"])
def test_receiving_more_than_is_out_says_what_the_rest_is(client, auth_client, session, make_bin, booth, lend,
                                                         people, url):
    lend(booth, 1, return_by=d(4))
    make_bin("B-02")
    auth_client.login(people["staff"])
    asked = client.post(url, data={"sku": "booth-1", "bin": "B-02", "quantity": "3", "reference": ""})
    assert asked.status_code == 200
    assert ("You are booking 3; 1 is out on loan. Check that one in, then book the other 2 as new stock."
            in text_of(asked))


def test_a_refused_answer_still_keeps_what_was_typed(client, auth_client, session, booth, lend, people):
    lend(booth, 1)
    auth_client.login(people["staff"])
    refused = client.post("/stock/receive", data={"sku": "BOOTH-1", "bin": "Z-99", "quantity": "1",
                                                  "loan_answer": "new"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert value_of(html, "bin") == "Z-99" and "No bin has the code Z-99." in html


def test_no_question_for_consumables_moves_between_bins_or_items_with_nothing_out(client, auth_client, session,
                                                                                  make_item, make_bin, booth, lend,
                                                                                  people):
    flyer = make_item("FLY-1", category="print", on_hand=5, bin="B-01")
    lend(flyer, 2)
    auth_client.login(people["staff"])
    assert client.post("/stock/receive", data={"sku": "FLY-1", "bin": "B-01", "quantity": "3"}).status_code == 302
    assert client.post("/stock/receive", data={"sku": "BOOTH-1", "bin": "B-01", "quantity": "1"}).status_code == 302
    lend(booth, 1)
    make_bin("B-02")
    moved = client.post("/stock/put-away", data={"sku": "BOOTH-1", "bin": "B-02", "from_bin": "B-01", "quantity": "1"})
    assert moved.status_code == 302  # from another bin: a unit already counted, not one arriving


def test_the_api_books_without_asking(client, make_user, session, booth, lend, people):
    from inventory.auth import services as auth

    lend(booth, 1)
    _row, token = auth.create_token(session, people["staff"], "test")
    response = client.post("/api/v1/movements", json={"kind": "receive", "sku": "BOOTH-1", "bin": "B-01",
                                                      "quantity": 1}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()


def test_the_product_page_lists_the_sizes_out_on_loan(client, auth_client, make_product, lend, people):
    product = make_product("Booth costume", "COSTUME", sizes={"S": 1, "M": 1}, category="display", bin="B-01",
                           returnable=True)
    medium = next(item for item in product.items if item.size == "M")
    out = lend(medium, 1)
    auth_client.login(people["staff"])
    response = client.get(f"/catalog/p/{product.id}")
    assert f"M: 1 out on R-{out.id:05d} with Dana Rep" in text_of(response)
    assert f"/requests/{out.id}/check-in?item=COSTUME-M" in response.get_data(as_text=True)


def test_a_check_in_link_kept_after_the_check_in_says_nothing_is_out(client, auth_client, session, booth, lend,
                                                                     people):
    out = lend(booth, 1)
    fulfilment.check_in(session, out.id, get_bin(session, "B-01"), {out.lines[0].id: {"returned": 1}}, people["staff"])
    auth_client.login(people["staff"])
    html = client.get(f"/requests/{out.id}/check-in?item=BOOTH-1").get_data(as_text=True)
    assert 'id="check-in-item"' not in html
    assert f"R-{out.id:05d} is returned: nothing of it is out to check in." in html
    assert 'href="/i/BOOTH-1?page=1"' in html
