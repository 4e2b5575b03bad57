"""The Today page on a 360 px phone: staff open the app, see a request to pick and tap through to
its pick list; a rep sees a loan due back."""
import re

import pytest
from playwright.sync_api import expect

from inventory.extensions import db
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in
from tests.today_data import PASSWORD, build

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def day(live_server):
    with live_server.app.app_context():
        made = build(db.session)
        db.session.remove()
    return made


def test_staff_open_the_app_and_tap_through_to_the_pick_list(live_server, day, small_phone):
    page = small_phone
    log_in(page, live_server.url, "staff@example.com", PASSWORD)
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/today$"))
    expect(page.locator("nav.bottomnav a").first).to_have_text(re.compile("Today"))
    assert_no_horizontal_scroll(page)
    to_pick = page.get_by_role("region", name=re.compile(r"^To pick \(1\)"))
    number = f"R-{day['to_pick']:05d}"
    expect(to_pick).to_contain_text(number)
    expect(to_pick).to_contain_text("54 to pick")
    to_pick.get_by_role("link", name=re.compile(number)).tap()
    expect(page).to_have_url(re.compile(rf"/requests/{day['to_pick']}/pick$"))
    expect(page.locator("main")).to_contain_text("A-01-1")  # the pick list, by bin
    assert_no_horizontal_scroll(page)


def test_a_rep_sees_a_loan_due_back_today(live_server, day, small_phone):
    page = small_phone
    log_in(page, live_server.url, "rep@example.com", PASSWORD)
    expect(page).to_have_url(re.compile(r"/today$"))
    loans = page.get_by_role("region", name=re.compile(r"^Due back \(1\)"))
    expect(loans).to_contain_text("Due back today")
    expect(page.get_by_role("region", name=re.compile(r"^My open requests \(2\)"))).to_contain_text(
        "Waiting for Marketing to approve")
    expect(page.get_by_role("region", name=re.compile(r"^My events"))).to_contain_text("Expo Nord")
    assert_no_horizontal_scroll(page)
    loans.get_by_role("link").first.tap()
    expect(page).to_have_url(re.compile(rf"/requests/{day['loan']}$"))
