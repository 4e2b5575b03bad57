"""A print piece that names its successor, on a phone: the rep sees "Replaced by" and the expiry on
the item page and follows the link; the manager swaps the successor into the open request from
the same page (a real POST with its CSRF token) and the request now holds the new piece."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from inventory.catalog import services as catalog
from inventory.extensions import db
from inventory.requests import submission
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)
LAST_DAY = date.today() + timedelta(days=9)


@pytest.fixture
def brochures(data, live_server):
    """The 2025 brochure (last day of use in 9 days) replaced by the 2026 one; a rep's request holds 40."""
    data.bin("B-01-1", "Brochures", zone="Stockroom B")
    data.user("rep", "rep@example.com", name="Riley Rep")
    data.user("manager", "manager@example.com", name="Morgan Manager")
    data.product("Atlas product brochure 2025", "BRO-ATLAS-25", category="print", on_hand=300, bin="B-01-1",
                 do_not_use_after=LAST_DAY)
    data.product("Atlas product brochure 2026", "BRO-ATLAS-26", category="print", on_hand=500, bin="B-01-1")
    with live_server.app.app_context():
        from inventory.auth.models import User

        old = catalog.get_item(db.session, "BRO-ATLAS-25")
        catalog.update_item(db.session, old, replaced_by="BRO-ATLAS-26")
        rep = db.session.query(User).filter_by(email="rep@example.com").one()
        made = submission.submit(db.session, rep, [(catalog.get_item(db.session, "BRO-ATLAS-25"), 40)],
                                 purpose="client_meeting", needed_by=date.today() + timedelta(days=5))
        return made.number


def test_the_item_page_says_replaced_by_and_the_manager_swaps_it_in(live_server, data, brochures, small_phone):
    base, phone = live_server.url, small_phone
    log_in(phone, base, "rep@example.com")
    phone.goto(f"{base}/i/BRO-ATLAS-25")
    successor = phone.locator("#successor")
    expect(successor).to_contain_text("Replaced by Atlas product brochure 2026 BRO-ATLAS-26")
    expect(phone.locator("#expiry")).to_have_text(
        f"Expires {LAST_DAY:%a %-d %b}: reprint or retire. It cannot be reserved after that day.")
    expect(phone.get_by_role("button", name="Swap BRO-ATLAS-26 in")).to_have_count(0)
    assert_no_horizontal_scroll(phone)
    successor.get_by_role("link", name="Atlas product brochure 2026").tap()
    expect(phone).to_have_url(f"{base}/i/BRO-ATLAS-26")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Atlas product brochure 2026")

    phone.context.clear_cookies()
    log_in(phone, base, "manager@example.com")
    phone.goto(f"{base}/i/BRO-ATLAS-25")
    phone.get_by_role("button", name="Swap BRO-ATLAS-26 in").tap()
    expect(phone).to_have_url(f"{base}/i/BRO-ATLAS-25/successor")
    expect(phone.locator("#swap-requests")).to_contain_text(brochures)
    expect(phone.locator("#swap-requests")).to_contain_text("Riley Rep")
    assert_no_horizontal_scroll(phone)
    phone.get_by_role("button", name="Swap BRO-ATLAS-26 into all 1").tap()
    expect(phone).to_have_url(f"{base}/i/BRO-ATLAS-25")
    expect(phone.get_by_role("status").first).to_have_text(
        "Swapped BRO-ATLAS-26 for BRO-ATLAS-25 in 1 request and 0 kit templates: 40 held.")
    expect(phone.locator(".stat.strong .stat-value")).to_have_text("300")  # the old piece's holds are free
    assert_no_horizontal_scroll(phone)
