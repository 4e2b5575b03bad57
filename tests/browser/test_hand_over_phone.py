"""Hand-over on a 360 px phone: staff hand over a picked request entering who collected it, the
request page says so, and a manager undoes it the same day with a reason."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from inventory.auth.services import user_by_email
from inventory.catalog.services import get_item
from inventory.extensions import db
from inventory.requests import fulfilment, queries, review, submission
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def picked(data, live_server):
    """A rep's request for 5 brochures, approved and picked: ready for pick-up. Returns its id."""
    data.bin("B-01-1", "Brochures")
    data.user("manager", "manager@example.com", name="Morgan Manager")
    data.user("staff", "staff@example.com", name="Sam Stockroom")
    data.user("rep", "rep@example.com", name="Riley Rep")
    data.product("Atlas product brochure", "BRO-ATLAS", category="print", on_hand=40, bin="B-01-1")
    with live_server.app.app_context():
        session = db.session
        manager, staff = user_by_email(session, "manager@example.com"), user_by_email(session, "staff@example.com")
        made = submission.submit(session, user_by_email(session, "rep@example.com"),
                                 [(get_item(session, "BRO-ATLAS"), 5)], purpose="client_meeting",
                                 needed_by=date.today() + timedelta(days=2))
        review.approve(session, made.id, manager)
        for bin, picks in fulfilment.pick_list(session, queries.get_request(session, made.id)):
            fulfilment.pick(session, made.id, bin, {line.id: q for line, q in picks}, staff)
        return made.id


def assert_tappable(locator):
    box = locator.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44, box


def test_staff_hand_over_with_who_collected_it_and_a_manager_undoes_it(live_server, data, picked, small_phone):
    page, base = small_phone, live_server.url
    log_in(page, base, "staff@example.com")
    page.goto(f"{base}/requests/{picked}")
    hand_over = page.get_by_role("button", name="Hand over…")
    assert_tappable(hand_over)
    hand_over.click()
    expect(page).to_have_url(re.compile(rf"/requests/{picked}/hand-over$"))
    collected_by = page.get_by_label("Collected by")
    expect(collected_by).to_have_value("Riley Rep")
    assert_tappable(collected_by)
    assert_no_horizontal_scroll(page)
    collected_by.fill("")
    page.get_by_role("button", name="Hand over").click()
    expect(page.locator("#collected_by-error")).to_have_text("Say who collected it.")
    page.get_by_label("Collected by").fill("Lee Colleague")
    submit = page.get_by_role("button", name="Hand over")
    assert_tappable(submit)
    submit.click()
    expect(page).to_have_url(re.compile(rf"/requests/{picked}$"))
    record = page.get_by_role("region", name="Hand-over")
    expect(record).to_contain_text("Collected by Lee Colleague on ")
    expect(record).to_contain_text("(handed over by Sam Stockroom)")
    expect(page.get_by_text("Undo hand-over")).to_have_count(0)
    assert_no_horizontal_scroll(page)

    page.context.clear_cookies()
    log_in(page, base, "manager@example.com")
    page.goto(f"{base}/requests/{picked}")
    undo = page.get_by_text("Undo hand-over", exact=True)
    assert_tappable(undo)
    undo.click()
    page.get_by_label("Why (kept in the steps)").fill("Wrong brochure handed out")
    page.get_by_role("button", name=re.compile("^Undo hand-over")).click()
    expect(page.locator(".flash-success")).to_contain_text("Hand-over undone")
    expect(page.get_by_role("region", name="Hand-over")).to_have_count(0)
    expect(page.get_by_text("Wrong brochure handed out")).to_be_visible()
    assert_no_horizontal_scroll(page)
    assert data.ledger_drift() == [] and data.level("BRO-ATLAS", "DISPATCH") == 5
