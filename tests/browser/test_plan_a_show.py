"""Planning a trade show end to end, in a real browser: a manager plans the show, reserves a kit
for it, sees the brochure flagged on the Reorders page, raises a PO from the flag in one tap and
orders it; staff on a phone receive it by scanning the bin label; the flag is gone."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.auth.models import User
from inventory.events.kits import create_kit
from inventory.extensions import db
from tests.browser.camera import camera_browser, label_video
from tests.browser.conftest import PHONE, TIMEOUT_MS, log_in

expect.set_options(timeout=TIMEOUT_MS)
SCAN_TIMEOUT_MS = 20_000
STARTS = date.today() + timedelta(days=40)


@pytest.fixture
def stockroom(data, live_server):
    data.bin("B-01-1", "Brochures", zone="Stockroom B")
    data.bin("B-03-1", "Displays", zone="Stockroom B")
    data.user("manager", "manager@example.com", name="Morgan Manager")
    data.user("staff", "staff@example.com", name="Sam Stockroom")
    data.product("Atlas product brochure 2026", "BRO-ATLAS-26", category="print", on_hand=600, bin="B-01-1",
                 supplier="PrintWorks Ltd", unit_cost=Decimal("0.85"), lead_time_days=21, reorder_point=300,
                 reorder_quantity=2000)
    data.product("Roll-up banner", "BANNER-1", category="display", on_hand=1, bin="B-03-1", returnable=True)
    with live_server.app.app_context():
        manager = db.session.scalar(select(User).where(User.email == "manager@example.com"))
        create_kit(db.session, manager, name="Booth kit", lines=[("BANNER-1", 1), ("BRO-ATLAS-26", 400)])


def test_plan_a_show_reserve_a_kit_raise_the_flagged_po_and_receive_it(live_server, data, stockroom, browser,
                                                                       playwright_instance, tmp_path):
    base = live_server.url
    laptop = browser.new_context(viewport={"width": 1280, "height": 900})
    manager = laptop.new_page()
    manager.set_default_timeout(TIMEOUT_MS)
    log_in(manager, base, "manager@example.com")

    # Plan the show.
    manager.goto(f"{base}/events/new")
    manager.locator("#name").fill("Expo Nord")
    manager.locator("#place").fill("Hamburg")
    manager.locator("#starts_on").fill(STARTS.isoformat())
    manager.locator("#ends_on").fill((STARTS + timedelta(days=2)).isoformat())
    manager.locator("#ship_by").fill((STARTS - timedelta(days=3)).isoformat())
    manager.locator("#return_by").fill((STARTS + timedelta(days=5)).isoformat())
    manager.get_by_role("button", name="Create event").click()
    expect(manager.locator("h1")).to_contain_text("Expo Nord")

    # Reserve the booth kit: banner and 400 brochures held at once, leaving 200 (< 300 reorder point).
    manager.get_by_role("button", name="Reserve kits").first.click()
    manager.get_by_role("button", name="Reserve Booth kit").click()
    expect(manager.get_by_role("status").first).to_contain_text("Booth kit")

    # The brochure is flagged on the Reorders page; one tap raises a PO pre-filled with it.
    manager.goto(f"{base}/reorders")
    flag = manager.locator("li.flag").filter(has_text="Atlas product brochure 2026")
    expect(flag).to_contain_text("Order now")
    expect(flag).to_contain_text("200 available now (400 held for requests)")
    flag.get_by_role("button", name="Raise PO").click()
    expect(manager.get_by_label("Supplier")).to_have_value("PrintWorks Ltd")
    expect(manager.locator("#lines-0-quantity")).to_have_value("2000")
    manager.get_by_role("button", name="Save draft").click()
    number = manager.locator("h1").inner_text().split()[0]
    # The flag now names the draft, and offers it instead of a second order.
    manager.goto(f"{base}/reorders")
    flag = manager.locator("li.flag").filter(has_text="Atlas product brochure 2026")
    expect(flag).to_contain_text(f"draft {number} for 2000, not ordered yet")
    expect(flag.get_by_role("button", name="Raise PO")).to_have_count(0)
    flag.get_by_role("button", name="Open draft").click()
    expect(manager.locator("h1")).to_contain_text(number)
    manager.get_by_label("Expected arrival").fill((date.today() + timedelta(days=12)).isoformat())
    manager.get_by_role("button", name="Mark ordered").click()
    expect(manager.get_by_role("status")).to_contain_text(f"{number} is ordered")

    # Staff receive the delivery on a phone by scanning the brochure bin's label.
    camera = camera_browser(playwright_instance, label_video(f"{base}/b/B-01-1", tmp_path / "b-01-1.mjpeg"))
    try:
        context = camera.new_context(**playwright_instance.devices[PHONE], permissions=["camera"])
        context.set_default_timeout(TIMEOUT_MS)
        staff = context.new_page()
        log_in(staff, base, "staff@example.com")
        staff.goto(f"{base}/purchase-orders")
        staff.get_by_role("link", name=number).tap()
        staff.get_by_role("button", name="Receive Atlas product brochure 2026").tap()
        staff.get_by_role("button", name="Scan bin label").tap()
        expect(staff.get_by_label("Scan or type the bin it goes into")).to_have_value("B-01-1",
                                                                                  timeout=SCAN_TIMEOUT_MS)
        staff.get_by_label("How many arrived?").fill("2000")
        staff.get_by_role("button", name="Confirm received").tap()
        expect(staff.locator(".po-confirmation")).to_contain_text("Received 2000 × Atlas product brochure 2026")
        context.close()
    finally:
        camera.close()

    # The flag is gone.
    manager.goto(f"{base}/reorders")
    expect(manager.locator("li.flag").filter(has_text="Atlas product brochure 2026")).to_have_count(0)
    laptop.close()
    assert data.level("BRO-ATLAS-26", "B-01-1") == 2600
    assert data.ledger_drift() == []
