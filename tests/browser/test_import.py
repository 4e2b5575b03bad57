"""Import in a real browser: a manager checks a CSV on a laptop-sized page, fixes nothing because
nothing is wrong, confirms, and the items are in the catalog on a phone. The pages fit a 360 px
phone too."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)

ITEMS = "\r\n".join([
    "SKU;Product;Size;Category;Unit cost;Reorder point;Description",
    "POLO-TEAL-S;Teal polo;S;apparel;8,50;5;Teal polo with the logo",
    "POLO-TEAL-M;Teal polo;M;apparel;8,50;5;Teal polo with the logo",
    "BRO-FAIR;Spring fair brochure;;print;0,35;200;",
]) + "\r\n"


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_manager_imports_a_csv_on_a_laptop_and_sees_the_items_on_a_phone(live_server, data, laptop, phone,
                                                                         tmp_path):
    manager = data.user("manager")
    path = tmp_path / "items.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ITEMS.encode())  # as Excel saves "CSV UTF-8"

    log_in(laptop, live_server.url, manager)
    laptop.locator("nav.topnav summary", has_text="Stock").click()  # the top bar's Stock menu
    laptop.locator("nav.topnav").get_by_role("link", name="Import/Export").click()
    expect(laptop.get_by_role("heading", name="Import and export")).to_be_visible()
    section = laptop.locator("#import-items")
    section.get_by_label("CSV file").set_input_files(str(path))
    section.get_by_role("button", name="Check items").click()

    expect(laptop.get_by_role("heading", name="Import items: check")).to_be_visible()
    expect(laptop.get_by_text("3 new item(s) in 2 new product(s)")).to_be_visible()
    changes = laptop.get_by_role("list", name="Changes")
    expect(changes.get_by_role("listitem")).to_have_count(3)
    expect(changes).to_contain_text("new product Teal polo (apparel), size M")
    laptop.get_by_role("button", name="Import 3 rows").click()
    expect(laptop).to_have_url(re.compile(r"/transfer$"))
    expect(laptop.get_by_role("status")).to_contain_text("Imported items.csv: 3 new item(s)")

    log_in(phone, live_server.url, data.user("rep"))
    expect(phone).to_have_url(re.compile(r"/today$"))
    phone.goto(live_server.url + "/catalog")
    expect(phone.get_by_role("link", name="Teal polo")).to_be_visible()
    expect(phone.get_by_role("link", name="Spring fair brochure")).to_be_visible()
    teal = phone.locator("li.card").filter(has=phone.get_by_role("link", name="Teal polo"))
    expect(teal.get_by_role("list", name="Available per size").get_by_role("listitem")).to_have_count(2)
    assert_no_horizontal_scroll(phone)


def test_bad_rows_are_listed_by_line_and_the_pages_fit_a_small_phone(live_server, data, small_phone):
    log_in(small_phone, live_server.url, data.user("manager"))
    small_phone.goto(live_server.url + "/transfer")
    assert_no_horizontal_scroll(small_phone)
    section = small_phone.locator("#import-items")
    section.get_by_label("paste rows").fill("sku\tproduct\tcategory\nCAP-1\tCap\thats\nCAP-1\tCap\tpromo\n"
                                            "A-VERY-LONG-SKU-THAT-GOES-ON-AND-ON-1234\tA product name that is long "
                                            "enough to wrap on a small phone\tpromo")
    section.get_by_role("button", name="Check items").click()
    bad = small_phone.get_by_role("list", name="Bad rows")
    expect(bad.get_by_role("listitem")).to_have_count(1)
    expect(bad).to_contain_text("Line 2 · CAP-1: unknown category 'hats'")
    expect(small_phone.get_by_role("alert")).to_contain_text("1 bad row: nothing is imported")
    expect(small_phone.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)
    assert_no_horizontal_scroll(small_phone)
    assert data.ledger_drift() == []
