"""The printable label sheet as Chromium draws it, and the new stock pages at a 360 px phone."""
import io
import re

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll, log_in


def test_every_qr_on_the_html_sheet_scans_as_the_browser_draws_it(live_server, data, browser):
    codes = [f"C-{n:02d}" for n in range(1, 31)]
    for code in codes:
        data.bin(code, f"Shelf {code}")
    manager = data.user("manager")
    context = browser.new_context(viewport={"width": 1000, "height": 1200}, device_scale_factor=2)
    page = context.new_page()
    log_in(page, live_server.url, manager)
    page.goto(live_server.url + "/labels")
    page.get_by_label("Start at label position").fill("3")
    page.get_by_role("button", name="Open printable sheet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("30 labels on 2 pages · Avery 5160")
    expect(page.get_by_role("alert")).to_contain_text("phones cannot open them")  # printed from 127.0.0.1
    sheets = page.locator("section.page")
    expect(sheets).to_have_count(2)
    # 8.5 x 11 in at the CSS 96 px per inch, as printed at 100 %.
    box = sheets.first.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (816, 1056)
    found = []
    for n in range(2):
        image = Image.open(io.BytesIO(sheets.nth(n).screenshot()))
        found += [result.text for result in zxingcpp.read_barcodes(image)]
    assert sorted(found) == [f"{live_server.url}/b/{code}" for code in codes]
    context.close()


@pytest.mark.parametrize("role", ["staff", "manager"])
def test_scan_and_label_pages_fit_a_360px_phone(live_server, data, small_phone, role):
    data.bin("A-01", "Polos, top shelf with a long name for the label")
    data.bin("RECV", "Receiving")
    data.product("Navy polo", "POLO-NAVY", sizes={"S": 3, "M": 12}, bin="A-01")
    log_in(small_phone, live_server.url, data.user(role))
    for url in ["/scan", "/labels", "/labels?what=items&items_by=picked", "/labels/sheet?bins_by=all",
                "/stock/put-away?bin=A-01", "/stock/put-away?sku=POLO-NAVY-M&back=item",
                "/stock/move?sku=POLO-NAVY-M&from=A-01", "/stock/count/A-01", "/stock/count/A-01?sku=POLO-NAVY-S",
                "/b/A-01", "/i/POLO-NAVY-M", "/b/NOPE-1"]:
        small_phone.goto(live_server.url + url)
        assert_no_horizontal_scroll(small_phone)
    # Without a camera (none in this browser) the page says so and the code box still works.
    small_phone.goto(live_server.url + "/scan")
    expect(small_phone.get_by_role("alert")).to_contain_text(re.compile("camera", re.I))
    small_phone.get_by_label("Or type a bin code or SKU").fill("recv")
    small_phone.get_by_role("button", name="Go").click()
    expect(small_phone).to_have_url(live_server.url + "/b/RECV")
