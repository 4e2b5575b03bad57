"""Requests on phones, end to end in a real browser: a rep reserves 25 polos as a size breakdown,
a manager approves, staff pick by scanning the bin label with the camera, the rep sees it ready;
and a short request becomes a partial reservation with a backorder."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.camera import camera_browser, label_video
from tests.browser.conftest import PHONE, TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)
NEEDED_BY = (date.today() + timedelta(days=5)).isoformat()


@pytest.fixture
def polos(data):
    data.bin("A-01-1", "Polos navy")
    data.bin("B-01-1", "Mugs", zone="Stockroom B")
    data.user("rep", "rep@example.com", name="Riley Rep")
    data.user("manager", "manager@example.com", name="Morgan Manager")
    data.user("staff", "staff@example.com", name="Sam Stockroom")
    navy = data.product("Navy polo", "POLO-NAVY", sizes={"S": 10, "M": 20, "L": 20, "XL": 10}, bin="A-01-1")
    data.product("Ceramic mug", "MUG-1", category="promo", on_hand=4, bin="B-01-1")
    return navy


def test_rep_reserves_25_polos_manager_approves_staff_picks_by_scanning(live_server, data, polos, phone, browser,
                                                                        playwright_instance, tmp_path):
    base = live_server.url
    # The rep, on a phone: 25 polos as a size breakdown, on one screen.
    log_in(phone, base, "rep@example.com")
    phone.goto(f"{base}/catalog/p/{polos}")
    for size, quantity in {"S": "5", "L": "8", "XL": "2"}.items():
        phone.locator(f"#qty-POLO-NAVY-{size}").fill(quantity)
    for _ in range(10):  # thumbs use the + button
        phone.locator("#qty-POLO-NAVY-M").locator("xpath=..").get_by_role("button", name="One more").tap()
    expect(phone.locator("#qty-POLO-NAVY-M")).to_have_value("10")
    assert_no_horizontal_scroll(phone)
    phone.get_by_role("button", name="Add to my request").tap()
    expect(phone).to_have_url(f"{base}/request")
    expect(phone.locator(".bottomnav .badge")).to_have_text("25")
    phone.get_by_label("Client meeting").check()
    phone.get_by_label("Needed by").fill(NEEDED_BY)
    phone.get_by_label("Note for Marketing").fill("Acme team polos")
    assert_no_horizontal_scroll(phone)
    phone.get_by_role("button", name="Submit and reserve").tap()
    expect(phone.get_by_role("status")).to_contain_text("Held for you now")
    expect(phone.get_by_role("status")).to_contain_text("10 × Navy polo — M")
    request_url = phone.url.split("?")[0]
    number = phone.locator("h1").inner_text().split()[0]

    # The manager approves from the queue.
    manager_context = browser.new_context(viewport={"width": 1280, "height": 900})
    manager = manager_context.new_page()
    log_in(manager, base, "manager@example.com")
    manager.goto(f"{base}/requests")
    manager.get_by_role("link", name=number).click()
    manager.get_by_role("button", name="Approve").click()
    expect(manager.get_by_role("status")).to_contain_text("Approved")
    manager_context.close()

    # Staff pick by scanning the bin label with the phone's camera.
    video = label_video(f"{base}/b/A-01-1", tmp_path / "a-01-1.mjpeg")
    camera = camera_browser(playwright_instance, video)
    try:
        staff_context = camera.new_context(**playwright_instance.devices[PHONE], permissions=["camera"])
        staff_context.set_default_timeout(TIMEOUT_MS)
        staff = staff_context.new_page()
        log_in(staff, base, "staff@example.com")
        staff.get_by_role("navigation", name="Main").get_by_role("link", name="Pick").first.tap()
        staff.get_by_role("link", name=number).tap()
        expect(staff.get_by_text("Pick list, by bin")).to_be_visible()
        staff.get_by_role("button", name="Scan bin label").tap()
        staff.wait_for_url(f"{request_url}/pick/A-01-1", timeout=20_000)
        for size, quantity in {"S": "5", "M": "10", "L": "8", "XL": "2"}.items():
            expect(staff.get_by_label(f"Navy polo — {size}")).to_have_value(quantity)
        assert_no_horizontal_scroll(staff)
        staff.get_by_role("button", name="Confirm picked").tap()
        expect(staff.get_by_role("status")).to_contain_text("Everything is picked: ready")
        staff_context.close()
    finally:
        camera.close()

    # The rep sees it ready.
    phone.goto(f"{base}/requests/mine")
    expect(phone.get_by_role("link", name=number)).to_contain_text("Ready")
    assert data.level("POLO-NAVY-M", "A-01-1") == 10
    assert data.level("POLO-NAVY-M", "DISPATCH") == 10
    assert data.ledger_drift() == []


def test_short_stock_shows_what_is_available_and_backorders_the_rest(live_server, data, polos, phone):
    base = live_server.url
    log_in(phone, base, "rep@example.com")
    phone.goto(f"{base}/i/MUG-1")
    phone.locator("#qty-MUG-1").fill("6")
    phone.get_by_role("button", name="Add to my request").tap()
    expect(phone).to_have_url(f"{base}/request")
    phone.wait_for_load_state()  # htmx has bound the form's autosave (a person cannot type this fast)
    phone.get_by_label("Needed by").fill(NEEDED_BY)
    expect(phone.locator("#status-MUG-1")).to_contain_text("4 free for")
    expect(phone.locator("#status-MUG-1")).to_contain_text("6 asked")
    phone.get_by_role("button", name="Submit and reserve").tap()
    expect(phone.get_by_role("alert").first).to_contain_text("Nothing is held yet")
    phone.get_by_role("button", name="Backorder the other 2").tap()
    phone.get_by_role("button", name="Submit: hold what is free, backorder the rest").tap()
    expect(phone.get_by_role("status")).to_contain_text("4 × Ceramic mug (+2 backordered)")
    expect(phone.get_by_text("2 backordered", exact=True)).to_be_visible()
