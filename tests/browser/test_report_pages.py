"""Reports on a phone: a manager opens the reports and sees what each show cost this quarter, as
bars that fit the screen, without sideways scrolling."""
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from inventory.auth.services import user_by_email
from inventory.bins.services import get_bin
from inventory.catalog.services import get_item
from inventory.events import services as events
from inventory.extensions import db
from inventory.requests import fulfilment, handover, review, submission
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def spent(data, live_server):
    """Two shows this quarter, each with (very expensive) brochures handed over today."""
    data.bin("B-01-1", "Brochures", zone="Stockroom B")
    data.user("manager", "manager@example.com", name="Morgan Manager")
    data.user("staff", "staff@example.com", name="Sam Stockroom")
    data.user("rep", "rep@example.com", name="Riley Rep")
    data.product("Atlas product brochure 2026 with a long name", "BRO-ATLAS-26", category="print", on_hand=900,
                 bin="B-01-1", unit_cost=Decimal("8500.00"))
    today = date.today()
    with live_server.app.app_context():
        session = db.session
        manager = user_by_email(session, "manager@example.com")
        staff = user_by_email(session, "staff@example.com")
        rep = user_by_email(session, "rep@example.com")
        brochure, shelf = get_item(session, "BRO-ATLAS-26"), get_bin(session, "B-01-1")
        for name, quantity in (("International Trade Expo Nord with a very long name", 300), ("Roadshow", 100)):
            show = events.create_event(session, manager, name=name, place="Hamburg", starts_on=today,
                                       ends_on=today, ship_by=today)
            request = submission.submit(session, rep, [(brochure, quantity)], purpose="trade_show", needed_by=today,
                                        event_id=show.id)
            review.approve(session, request.id, manager)
            fulfilment.pick(session, request.id, shelf, {request.lines[0].id: quantity}, staff)
            handover.hand_over(session, request.id, staff)


def test_a_manager_sees_the_cost_per_event_chart_on_a_phone(live_server, small_phone, spent):
    page = small_phone
    log_in(page, live_server.url, "manager@example.com")
    page.goto(live_server.url + "/reports")
    expect(page.get_by_role("heading", name="Cost per event")).to_be_visible()
    chart = page.get_by_role("list", name="Cost per event")
    expect(chart).to_be_visible()
    # 300 x 8,500.00 = 2,550,000.00 and 100 x 8,500.00 = 850,000.00: 3,400,000.00 in all, wide for a phone
    expect(chart.get_by_role("listitem")).to_have_count(2)
    expect(chart).to_contain_text("International Trade Expo Nord")
    expect(chart).to_contain_text("$2,550,000.00")
    expect(chart).to_contain_text("$850,000.00")
    expect(page.locator(".stat-value").first).to_have_text("$3,400,000.00")
    bars = page.locator(".bar-chart svg.bar")
    assert bars.first.bounding_box()["width"] > 250   # the bar spans the phone's width
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name="Last 30 days").click()
    expect(page.get_by_text("Last 30 days (")).to_be_visible()
    assert_no_horizontal_scroll(page)
    for path in ("/reports/events", "/reports/items", "/reports/service-level", "/reports/stock-value",
                 "/reports/slow-movers", "/reports/expiring", "/reports/reps"):
        page.goto(live_server.url + path)
        assert_no_horizontal_scroll(page)
