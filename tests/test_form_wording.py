"""The words the stockroom and planning forms use when they refuse something: plain, next to the
box at fault, never a Python repr ("No bin has the code ''", "'(empty)' is not a count"); and a
refused POST answers the page again (400/409) with every typed value, not a redirect."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from inventory.bins.services import get_bin
from inventory.catalog.services import get_item
from inventory.errors import UnknownBin, UnknownItem
from inventory.events.kits import create_kit
from inventory.purchasing.models import PurchaseOrder
from inventory.requests import fulfilment, handover, review, submission
from inventory.stock import queries as stock_queries
from inventory.stock.models import Movement


def html_of(response):
    return response.get_data(as_text=True)


def error_for(html, box_id):
    """The message under box `box_id` (the element its aria-describedby names)."""
    box = re.search(r'<(?:input|select|textarea)[^>]*\bid="%s"[^>]*>' % re.escape(box_id), html)
    assert box, f"no box #{box_id}"
    described = re.search(r'aria-describedby="([^"]+)"', box.group(0))
    assert described and 'aria-invalid="true"' in box.group(0), f"#{box_id} is not marked as refused"
    message = re.search(r'id="%s"[^>]*>([^<]*)<' % re.escape(described.group(1)), html)
    return message.group(1).strip()


def value_of(html, box_id):
    box = re.search(r'<input[^>]*\bid="%s"[^>]*>' % re.escape(box_id), html)
    return re.search(r'value="([^"]*)"', box.group(0)).group(1)


def test_unknown_and_empty_codes_are_said_in_plain_words(session, make_bin, make_item):
    make_bin("A-01")
    with pytest.raises(UnknownBin) as unknown:
        get_bin(session, " a-99 ")
    assert unknown.value.message == "No bin has the code A-99."
    with pytest.raises(UnknownBin) as empty:
        get_bin(session, "")
    assert empty.value.message == "Give the bin code."
    with pytest.raises(UnknownItem) as unknown:
        get_item(session, "nope-9")
    assert unknown.value.message == "No item has the SKU NOPE-9."
    with pytest.raises(UnknownBin, match="No bin has that code."):
        get_bin(session, "A-\x0001")


def test_a_count_with_an_empty_box_says_what_to_enter_next_to_it(client, login, make_item, session):
    pens, mugs = make_item("PEN-1", on_hand=10), make_item("MUG-1", on_hand=4)
    login("staff")
    response = client.post("/stock/count/A-01", data={f"count-{pens.id}": "9", f"count-{mugs.id}": " ",
                                                      "extra_sku": ["", "PEN-1"], "extra_count": ["", "3"]})
    html = html_of(response)
    assert response.status_code == 400 and "is not a count" not in html and "&#39;" not in html
    assert error_for(html, f"count-{mugs.id}") == "Enter what you see: 0 if the bin has none."
    assert error_for(html, "extra_sku-1") == "PEN-1 is already on the list above: count it there."
    assert value_of(html, f"count-{pens.id}") == "9" and value_of(html, "extra_count-1") == "3"
    assert session.scalar(select(func.count(Movement.id)).where(Movement.kind == "count")) == 0


def test_a_count_too_big_for_the_rule_is_said_next_to_its_box(client, login, make_item, session):
    pens = make_item("PEN-1", on_hand=10)
    login("staff")
    html = html_of(client.post("/stock/count/A-01", data={f"count-{pens.id}": "2000000"}))
    assert error_for(html, f"count-{pens.id}") == "A counted quantity must be at most 1,000,000."


@pytest.mark.parametrize("typed, level", [("-3", 7), ("\u22123", 7), ("+2", 12), (" 4 ", 14)])
def test_adjust_takes_a_typed_sign_and_has_no_digits_only_pattern(client, login, make_item, session, typed, level):
    pens = make_item("PEN-1", on_hand=10)
    login("staff")
    page = html_of(client.get("/stock/adjust?sku=PEN-1&bin=A-01"))
    box = re.search(r'<input[^>]*id="change"[^>]*>', page).group(0)
    assert "pattern=" not in box and 'type="text"' in box and 'data-sign-toggle="change"' in page
    response = client.post("/stock/adjust", data={"sku": "PEN-1", "bin": "A-01", "change": typed,
                                                  "reason": "counted again"})
    assert response.status_code == 302
    assert stock_queries.level(session, pens, get_bin(session, "A-01")) == level


def test_a_refused_adjustment_keeps_what_was_typed(client, login, make_item):
    make_item("PEN-1", on_hand=10)
    login("staff")
    response = client.post("/stock/adjust", data={"sku": "PEN-1", "bin": "A-01", "change": "-30", "reason": "lost"})
    html = html_of(response)
    assert response.status_code == 400 and "A-01 holds 10 of PEN-1" in error_for(html, "change")
    assert value_of(html, "change") == "-30" and value_of(html, "reason") == "lost"


@pytest.fixture
def approved(session, make_user, make_item, make_bin):
    _staff, rep, manager = make_user("staff", email="staff@example.com"), make_user("rep"), make_user("manager")
    pens = make_item("PEN-1", on_hand=4)
    mugs = make_item("MUG-1", on_hand=2)
    make_bin("A-02")
    made = submission.submit(session, rep, [(pens, 3), (mugs, 2)], purpose="client_meeting",
                             needed_by=date.today() + timedelta(days=3))
    review.approve(session, made.id, manager)
    return made


def test_the_pick_list_says_an_empty_or_unknown_bin_next_to_the_box(client, auth_client, approved):
    auth_client.login("staff@example.com")
    url = f"/requests/{approved.id}/pick"
    empty = client.post(url, data={"bin": "  "})
    assert empty.status_code == 400 and error_for(html_of(empty), "bin") == "Scan or type the bin code."
    unknown = client.post(url, data={"bin": "a-99"})
    html = html_of(unknown)
    assert unknown.status_code == 400 and error_for(html, "bin") == "No bin has the code A-99."
    assert value_of(html, "bin") == "a-99" and "&#39;" not in html


def test_releasing_from_the_pick_list_brings_the_typed_bin_code_back(client, auth_client, session, approved):
    auth_client.login("staff@example.com")
    pens, mugs = approved.lines
    response = client.post(f"/requests/{approved.id}/release", data={"line": str(mugs.id), "bin": "A-02"})
    assert response.headers["Location"] == f"/requests/{approved.id}/pick?bin=A-02"
    assert value_of(html_of(client.get(response.headers["Location"])), "bin") == "A-02"
    session.expire_all()
    assert (pens.short, mugs.short, mugs.reserved) == (0, 2, 0)
    again = client.post(f"/requests/{approved.id}/release", data={"line": str(mugs.id), "bin": "A-02"})
    assert again.status_code == 400 and "Nothing left to release." in html_of(again)
    assert value_of(html_of(again), "bin") == "A-02"
    client.post(f"/requests/{approved.id}/release", data={"line": "all"})
    session.expire_all()
    assert pens.short == 3


def test_picking_says_a_bad_box_next_to_it_and_keeps_the_others(client, auth_client, session, approved):
    auth_client.login("staff@example.com")
    pens, mugs = approved.lines
    response = client.post(f"/requests/{approved.id}/pick/A-01", data={f"pick-{pens.id}": "3", f"pick-{mugs.id}": "-1"})
    html = html_of(response)
    assert response.status_code == 400 and error_for(html, f"pick-{mugs.id}") == "Enter a whole number, 0 or more."
    assert value_of(html, f"pick-{pens.id}") == "3" and value_of(html, f"pick-{mugs.id}") == "-1"
    too_many = html_of(client.post(f"/requests/{approved.id}/pick/A-01",
                                   data={f"pick-{pens.id}": "3", f"pick-{mugs.id}": "5"}))
    assert error_for(too_many, f"pick-{mugs.id}") == "MUG-1: only 2 left to pick, not 5."
    session.expire_all()
    assert (pens.picked, mugs.picked) == (0, 0)


def test_check_in_says_an_empty_bin_next_to_its_box(client, auth_client, session, make_user, make_item):
    staff, rep, manager = make_user("staff", email="staff@example.com"), make_user("rep"), make_user("manager")
    banner = make_item("BANNER-1", category="display", on_hand=1, bin="B-01", returnable=True)
    made = submission.submit(session, rep, [(banner, 1)], purpose="trade_show", needed_by=date.today() + timedelta(days=1),
                             return_by=date.today() + timedelta(days=5))
    review.approve(session, made.id, manager)
    fulfilment.pick(session, made.id, get_bin(session, "B-01"), {made.lines[0].id: 1}, staff)
    handover.hand_over(session, made.id, staff)
    auth_client.login(staff)
    line = made.lines[0].id
    response = client.post(f"/requests/{made.id}/check-in", data={f"returned-{line}": "0", f"lost-{line}": "1",
                                                                   "bin": ""})
    html = html_of(response)
    assert response.status_code == 400 and error_for(html, "bin") == "Scan or type the bin code."
    assert value_of(html, f"returned-{line}") == "0" and value_of(html, f"lost-{line}") == "1"
    dispatch = html_of(client.post(f"/requests/{made.id}/check-in", data={f"returned-{line}": "1",
                                                                          "bin": "DISPATCH"}))
    assert error_for(dispatch, "bin") == "Put returned units into a stock bin, not DISPATCH."


def test_a_po_line_the_rule_refuses_is_marked_on_that_line(client, login, session, make_item):
    make_item("PEN-LOGO", supplier="PromoCo")
    make_item("MUG-1", supplier="PromoCo")
    login("manager")
    data = {"supplier": "", "note": "", "event_id": "",
            "lines-0-sku": "PEN-LOGO", "lines-0-quantity": "5", "lines-0-unit_cost": "",
            "lines-1-sku": "", "lines-1-quantity": "", "lines-1-unit_cost": "",  # a blank row between
            "lines-2-sku": "MUG-1", "lines-2-quantity": "2", "lines-2-unit_cost": "0.123"}
    html = html_of(client.post("/purchase-orders/new", data=data))
    line = re.findall(r'<li class="po-line-edit">(.*?)</li>', html, re.S)[2]
    assert "Unit cost of MUG-1 can have at most 2 decimals (cents)." in line
    assert 'aria-invalid="true"' in line and 'value="0.123"' in line
    assert "Nothing was saved: check the lines marked below." in html
    duplicate = html_of(client.post("/purchase-orders/new", data={**data, "lines-2-sku": "pen-logo",
                                                                  "lines-2-unit_cost": ""}))
    assert "PEN-LOGO is on the order twice" in re.findall(r'<li class="po-line-edit">(.*?)</li>', duplicate, re.S)[2]
    assert session.scalar(select(func.count(PurchaseOrder.id))) == 0


def test_a_kit_line_the_rule_refuses_is_marked_on_that_line(client, login, session, make_item):
    make_item("BRO-1", category="print")
    user = login("manager")
    create_kit(session, user, name="Booth kit", lines=[("BRO-1", 10)])
    data = {"name": "Show kit", "description": "", "action": "save",
            "lines-0-sku": "BRO-1", "lines-0-quantity": "5", "lines-1-sku": "nope-2", "lines-1-quantity": "1"}
    html = html_of(client.post("/kits/new", data=data))
    assert error_for(html, "lines-1-sku") == "No item has the SKU NOPE-2."
    assert value_of(html, "lines-1-sku") == "nope-2" and value_of(html, "lines-0-quantity") == "5"
    taken = client.post("/kits/new", data={**data, "name": "booth KIT", "lines-1-sku": "", "lines-1-quantity": ""})
    assert taken.status_code == 409 and "There is already a kit called booth KIT." in error_for(html_of(taken), "name")
