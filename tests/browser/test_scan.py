"""Scanning with the camera, in a real Chromium at a phone's size, with Chromium's fake camera
playing a video of a printed bin label (tests/fixtures/*.mjpeg, made by make_label_video.py).

The labels in the videos point at https://stock.example.com, so this test's app has that
BASE_URL while it is served on 127.0.0.1 (which browsers treat as a secure context, so the page
may use the camera). Chromium plays one video per browser process: pointing the phone at the
second bin's label is the same session (its cookies) in a second Chromium whose camera sees that
label.

Desktop Chromium on Linux has no BarcodeDetector, so these tests exercise the polyfill
(barcode-detector + zxing-wasm, served from static/) exactly as an iPhone would."""
import os
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (CHROMIUM, CHROMIUM_ARGS, PHONE, TIMEOUT_MS, assert_no_horizontal_scroll,
                                    log_in, serve)
from tests.conftest import make_test_app

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures")
BASE_URL = "https://stock.example.com"
SCAN_TIMEOUT_MS = 20_000  # the first scan loads and compiles the 1 MB QR reader


@pytest.fixture
def live_server(database_url, tmp_path):
    """The app on a real port, like tests/browser/conftest.py's, but with the BASE_URL the printed
    labels in the videos carry."""
    yield from serve(make_test_app(database_url, tmp_path / "instance", WTF_CSRF_ENABLED=True, BASE_URL=BASE_URL))


@pytest.fixture
def camera(playwright_instance):
    """camera("label-A-01.mjpeg") -> a new phone page in a Chromium whose camera sees that video."""
    opened = []

    def open_phone(video, storage_state=None):
        browser = playwright_instance.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS + ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                                  f"--use-file-for-fake-video-capture={os.path.join(FIXTURES, video)}"])
        context = browser.new_context(**playwright_instance.devices[PHONE], storage_state=storage_state,
                                      permissions=["camera"])
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(browser)
        return context.new_page()

    yield open_phone
    for browser in opened:
        browser.close()


@pytest.fixture
def stockroom(data):
    data.bin("A-01", "Polos, top shelf")
    data.bin("A-02", "Polos, overflow")
    data.product("Navy polo", "POLO-NAVY", sizes={"S": 0, "M": 0, "L": 0})
    return data


def bin_row(page, sku):
    return page.locator("#bin-contents").get_by_role("listitem").filter(has_text=sku)


def test_staff_scans_a_bin_puts_away_and_moves_to_a_scanned_bin(live_server, stockroom, camera):
    staff = stockroom.user("staff", name="Sam Stockroom")
    phone = camera("label-A-01.mjpeg")
    log_in(phone, live_server.url, staff)

    # Scan is one tap from the bottom navigation; the camera reads A-01's label and opens the bin.
    phone.locator("nav.bottomnav").get_by_role("link", name="Scan").click()
    expect(phone).to_have_url(live_server.url + "/b/A-01", timeout=SCAN_TIMEOUT_MS)
    expect(phone.get_by_role("heading", level=1)).to_have_text("A-01")
    assert_no_horizontal_scroll(phone)

    # Put away 12 navy polos, size M.
    phone.get_by_role("button", name="Put away").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Put away into A-01")
    expect(phone.get_by_label("Into bin")).to_have_value("A-01")
    phone.get_by_label("Item (SKU)").fill("polo-navy-m")
    phone.get_by_label("Quantity").fill("12")
    assert_no_horizontal_scroll(phone)
    phone.get_by_role("button", name="Put away", exact=True).click()
    expect(phone).to_have_url(live_server.url + "/b/A-01")
    expect(phone.get_by_role("status")).to_have_text("Put away 12 × POLO-NAVY-M into A-01; it now holds 12.")
    expect(bin_row(phone, "POLO-NAVY-M").locator("[data-quantity]")).to_have_text("12")

    # Move 5 of them: the bin they go to is chosen by pointing the phone at A-02's label.
    bin_row(phone, "POLO-NAVY-M").get_by_role("button", name="Move").click()
    expect(phone).to_have_url(re.compile(r"/stock/move\?"))
    move_url = phone.url
    phone = camera("label-A-02.mjpeg", storage_state=phone.context.storage_state())
    phone.goto(move_url)
    expect(phone.get_by_text("A-01 holds 12 of POLO-NAVY-M.")).to_be_visible()
    phone.get_by_role("button", name="Scan the label of the bin it goes to").click()
    expect(phone.get_by_label("To bin")).to_have_value("A-02", timeout=SCAN_TIMEOUT_MS)
    expect(phone.get_by_text("Scanned A-02 · Polos, overflow")).to_be_visible()
    expect(phone.locator("#scan-to_bin")).to_be_hidden()  # the camera is off again
    expect(phone.get_by_label("Quantity")).to_be_focused()
    phone.get_by_label("Quantity").fill("5")
    assert_no_horizontal_scroll(phone)
    phone.get_by_role("button", name="Move", exact=True).click()

    expect(phone).to_have_url(live_server.url + "/b/A-01")
    expect(phone.get_by_role("status")).to_have_text(
        "Moved 5 × POLO-NAVY-M from A-01 to A-02. A-01 now holds 7, A-02 holds 5.")
    expect(bin_row(phone, "POLO-NAVY-M").locator("[data-quantity]")).to_have_text("7")
    phone.goto(live_server.url + "/b/A-02")
    expect(bin_row(phone, "POLO-NAVY-M").locator("[data-quantity]")).to_have_text("5")
    phone.goto(live_server.url + "/i/POLO-NAVY-M")
    rows = phone.locator("#item-bins li")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="A-01").locator("[data-quantity]")).to_have_text("7")
    expect(rows.filter(has_text="A-02").locator("[data-quantity]")).to_have_text("5")

    assert stockroom.level("POLO-NAVY-M", "A-01") == 7
    assert stockroom.level("POLO-NAVY-M", "A-02") == 5
    assert stockroom.ledger_drift() == []


def test_a_foreign_qr_code_is_refused_plainly_and_scanning_goes_on(live_server, stockroom, camera):
    rep = stockroom.user("rep")
    phone = camera("foreign-qr.mjpeg")
    log_in(phone, live_server.url, rep)
    phone.goto(live_server.url + "/scan")
    expect(phone.get_by_role("alert")).to_have_text(
        "That QR code is not one of our labels: it points to https://example.org/spring-promo?ref=flyer",
        timeout=SCAN_TIMEOUT_MS)
    expect(phone).to_have_url(live_server.url + "/scan")
    assert phone.evaluate("window.swagScanner.engine") in ("native", "polyfill")
    expect(phone.get_by_role("button", name="Stop camera")).to_be_visible()
    # The code box still works.
    phone.get_by_label("Or type a bin code or SKU").fill("a-02")
    phone.get_by_role("button", name="Go").click()
    expect(phone).to_have_url(live_server.url + "/b/A-02")
    assert_no_horizontal_scroll(phone)
