"""Loans on a 360 px phone, in a real browser: staff open the label of a booth display that is
out on a request, land on its check-in with the bin filled in, check it in, and the item page
then shows the unit in its bin and no loan; a receive of a loaned display asks first."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from inventory.auth.models import User
from inventory.bins import services as bins
from inventory.catalog import services as catalog
from inventory.extensions import db
from inventory.requests import fulfilment, handover, queries, review, submission
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)


def _user(email):
    return db.session.query(User).filter_by(email=email).one()


@pytest.fixture
def loaned_display(live_server, data):
    """Booth display BOOTH-1, its only unit (from bin B-07) out on a request with Dana Rep."""
    data.bin("B-07", "Displays")
    data.bin("B-08", "Returns")
    data.user("rep", "dana@example.com", name="Dana Rep")
    data.user("manager", "manager@example.com", name="Morgan Manager")
    data.user("staff", "staff@example.com", name="Sam Stockroom")
    data.product("Booth display", "BOOTH-1", category="display", on_hand=1, bin="B-07", returnable=True)
    with live_server.app.app_context():
        session = db.session
        booth = catalog.get_item(session, "BOOTH-1")
        made = submission.submit(session, _user("dana@example.com"), [(booth, 1)], purpose="trade_show",
                                 needed_by=date.today() + timedelta(days=1), return_by=date.today() + timedelta(days=6))
        review.approve(session, made.id, _user("manager@example.com"))
        line = queries.get_request(session, made.id).lines[0]
        staff = _user("staff@example.com")
        fulfilment.pick(session, made.id, bins.get_bin(session, "B-07"), {line.id: 1}, staff)
        handover.hand_over(session, made.id, staff)
        return made.id


def assert_tappable(locator):
    box = locator.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box


def test_staff_open_a_returned_displays_label_and_check_it_in(live_server, data, loaned_display, small_phone):
    base, page = live_server.url, small_phone
    log_in(page, base, "staff@example.com")

    # The item page as it is (?page=1): where the unit is, with Check in right there.
    page.goto(f"{base}/i/BOOTH-1?page=1")
    units = page.locator("#item-units")
    expect(units.get_by_role("heading")).to_have_text("1 unit: 0 in bins, 1 out on loan")
    expect(units).to_contain_text(f"1 out on R-{loaned_display:05d} with Dana Rep")
    assert_tappable(units.get_by_role("button", name=f"Check in BOOTH-1 from R-{loaned_display:05d}"))
    assert_no_horizontal_scroll(page)

    # Opening the label (as a phone's camera app does): straight to the check-in.
    page.goto(f"{base}/i/BOOTH-1")
    expect(page).to_have_url(f"{base}/requests/{loaned_display}/check-in?item=BOOTH-1")
    expect(page.locator("#check-in-item")).to_contain_text("Booth display BOOTH-1 · 1 out with Dana Rep")
    expect(page.get_by_role("link", name="Open the item page instead")).to_be_visible()
    expect(page.locator("#bin")).to_have_value("B-07")  # where it was picked from
    assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="Check in", exact=True).tap()

    expect(page).to_have_url(f"{base}/i/BOOTH-1?page=1")
    expect(page.locator(".flash-success")).to_contain_text("Checked in")
    expect(page.locator("#item-units").get_by_role("heading")).to_have_text("1 unit: 1 in a bin")
    expect(page.locator("#item-loans")).to_have_count(0)
    expect(page.locator('#item-bins li[data-bin="B-07"] [data-quantity]')).to_have_text("1")
    assert data.level("BOOTH-1", "B-07") == 1 and data.ledger_drift() == []
    assert_no_horizontal_scroll(page)


def test_receiving_a_loaned_display_asks_whether_it_is_the_unit_coming_back(live_server, data, loaned_display,
                                                                            small_phone):
    base, page = live_server.url, small_phone
    log_in(page, base, "staff@example.com")
    page.goto(f"{base}/stock/receive?sku=BOOTH-1")
    page.get_by_label("Into bin").fill("B-08")
    page.get_by_label("Quantity").fill("1")
    page.get_by_role("button", name="Receive").tap()

    question = page.locator("#loan-question")
    expect(question).to_contain_text(f"1 unit of Booth display is out on R-{loaned_display:05d} with Dana Rep")
    expect(question).to_contain_text("Is this that unit coming back?")
    expect(page.get_by_label("Into bin")).to_have_value("B-08")
    assert_tappable(question.get_by_role("button", name="Yes, check it in"))
    assert_tappable(question.get_by_role("button", name="No, this is new stock"))
    assert_no_horizontal_scroll(page)

    question.get_by_role("button", name="Yes, check it in").tap()
    expect(page).to_have_url(f"{base}/requests/{loaned_display}/check-in?item=BOOTH-1&qty=1&bin=B-08")
    expect(page.locator("#bin")).to_have_value("B-08")
    page.get_by_role("button", name="Check in", exact=True).tap()
    expect(page).to_have_url(f"{base}/i/BOOTH-1?page=1")
    assert data.level("BOOTH-1", "B-08") == 1 and data.ledger_drift() == []
