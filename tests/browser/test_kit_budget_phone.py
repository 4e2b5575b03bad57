"""Reserving kits beyond an event's budget on a 360 px phone: the budget line, the warning next to
Reserve with its "Reserve anyway" box, a refusal that keeps everything typed, then the kits
reserved with the box ticked. Nothing sticks out past the screen and the box is a 44 px target."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from inventory.auth.services import user_by_email
from inventory.events import kits, services as events
from inventory.extensions import db
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)
TODAY = date.today()


@pytest.fixture
def show(data, live_server):
    """A Booth kit worth $80.00 (4 pens at $12.50, a $300.00 banner losing 10 %) and a show with a
    $200.00 budget and a long name."""
    data.bin("B-01-1", "Displays", zone="Stockroom B")
    data.user("manager", "manager@example.com", name="Morgan Manager")
    data.product("Logo pen", "PEN-1", category="promo", on_hand=100, bin="B-01-1", unit_cost=Decimal("12.50"))
    data.product("Roll-up banner 2 m", "BANNER-1", category="display", on_hand=5, bin="B-01-1", returnable=True,
                 unit_cost=Decimal("300.00"), loss_rate=10)
    with live_server.app.app_context():
        manager = user_by_email(db.session, "manager@example.com")
        kit = kits.create_kit(db.session, manager, name="Booth kit with a rather long name for a phone",
                              lines=[("PEN-1", 4), ("BANNER-1", 1)])
        expo = events.create_event(db.session, manager, name="Internationale Fachmesse Nord 2027",
                                   place="Messe Nord, Hall B", starts_on=TODAY + timedelta(days=35),
                                   ends_on=TODAY + timedelta(days=37), ship_by=TODAY + timedelta(days=28),
                                   budget="200")
        return {"kit": kit.id, "expo": expo.id}


def test_a_manager_is_warned_on_a_phone_before_going_over_the_budget(live_server, show, small_phone, tmp_path):
    page, base = small_phone, live_server.url
    log_in(page, base, "manager@example.com")
    page.goto(f"{base}/events/{show['expo']}/kits")
    expect(page.locator(".event-budget")).to_contain_text("$0.00 of its $200.00 budget: $200.00 left")
    expect(page.locator(".budget-after")).to_contain_text("$80.00")
    page.get_by_label("How many kits").fill("3")
    page.get_by_label("Ship to an address").click()
    page.get_by_role("textbox", name="Ship to").fill("Hall B, Booth 214")
    page.get_by_role("button", name="Reserve Booth kit").click()
    warning = page.locator("#budget-warning")
    expect(warning).to_contain_text("Nothing was reserved.")
    expect(warning).to_contain_text("takes Internationale Fachmesse Nord 2027 to $240.00, $40.00 over its budget")
    # Everything typed is still there.
    expect(page.get_by_label("How many kits")).to_have_value("3")
    expect(page.get_by_role("textbox", name="Ship to")).to_have_value("Hall B, Booth 214")
    expect(page.get_by_label("Ship to an address")).to_be_checked()
    box = page.get_by_label("Reserve anyway (over the event's budget)")
    expect(box).not_to_be_checked()
    assert_no_horizontal_scroll(page)
    label = warning.locator("label").bounding_box()
    assert label["height"] >= 44 and label["width"] >= 44, label
    page.screenshot(path=str(tmp_path / "reserve-over-budget.png"), full_page=True)
    box.check()
    page.get_by_role("button", name="Reserve Booth kit").click()
    expect(page.locator(".flash-success")).to_contain_text("is now over its budget by $40.00")
    assert_no_horizontal_scroll(page)
