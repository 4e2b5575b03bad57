"""The phone flows, in a real browser at a Pixel 7's size, through the real pages: a rep checks polo
sizes, staff moves stock from a bin page, and the refusals (wrong password, wrong role, too much
stock) say so clearly and change nothing."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)

NAVY = {"S": 3, "M": 12, "L": 0}


@pytest.fixture
def stockroom(data):
    """Two bins, Navy polo in three sizes in A-01-1, another polo and a brochure that a search for
    "polo" must (not) find."""
    data.bin("A-01-1", "Polos navy")
    data.bin("A-01-2", "Polos navy, top")
    data.bin("B-01-1", "Brochures", zone="Stockroom B")
    navy = data.product("Navy polo", "POLO-NAVY", sizes=NAVY, bin="A-01-1", supplier="Threadline Apparel")
    data.product("Black polo", "POLO-BLACK", sizes={"S": 1, "M": 2}, bin="A-01-1")
    data.product("Atlas product brochure", "BRO-ATLAS", category="print", on_hand=500, bin="B-01-1")
    return navy


def expect_phone_navigation(page):
    """On a phone the bottom bar is the navigation; the top links are hidden."""
    expect(page.locator("nav.bottomnav")).to_be_visible()
    expect(page.locator("nav.topnav")).to_be_hidden()
    expect(page.locator("nav.bottomnav").get_by_role("link", name="Scan")).to_be_visible()


def size_chips(scope):
    """[(size, available)] as shown in an "Available per size" row."""
    chips = scope.get_by_role("list", name="Available per size").get_by_role("listitem")
    return [(chip.locator(".size").inner_text(), int(chip.locator(".count").inner_text())) for chip in chips.all()]


def test_rep_searches_polo_and_sees_stock_per_size_in_one_row(live_server, data, stockroom, phone):
    rep = data.user("rep", name="Riley Rep")
    log_in(phone, live_server.url, rep)
    expect(phone).to_have_url(re.compile(r"/today$"))  # every role's home
    phone.locator("nav.bottomnav").get_by_role("link", name="Catalog").click()
    expect(phone).to_have_url(re.compile(r"/catalog$"))
    expect_phone_navigation(phone)
    assert_no_horizontal_scroll(phone)

    search = phone.get_by_role("searchbox", name="Search the catalog")
    search.fill("polo")
    search.press("Enter")
    expect(phone).to_have_url(re.compile(r"/catalog\?q=polo$"))
    expect(phone.get_by_role("link", name="Navy polo")).to_be_visible()
    expect(phone.get_by_role("link", name="Black polo")).to_be_visible()
    expect(phone.get_by_text("Atlas product brochure")).to_have_count(0)
    navy_card = phone.locator("li.card").filter(has=phone.get_by_role("link", name="Navy polo"))
    assert size_chips(navy_card) == list(NAVY.items())
    assert_no_horizontal_scroll(phone)
    expect_phone_navigation(phone)

    phone.get_by_role("link", name="Navy polo").click()
    expect(phone).to_have_url(live_server.url + f"/catalog/p/{stockroom}")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Navy polo")
    assert size_chips(phone) == [("S", 3), ("M", 12), ("L", 0)]
    chips = phone.get_by_role("list", name="Available per size").get_by_role("listitem")
    tops = {round(chip.bounding_box()["y"]) for chip in chips.all()}
    assert len(tops) == 1, f"the sizes wrap onto {len(tops)} rows"
    expect(chips.filter(has_text="L")).to_have_class(re.compile(r"\bempty\b"))
    # The table below agrees: on hand per size, nothing reserved.
    rows = phone.locator("table.compact tbody tr")
    assert [r.locator("td").first.inner_text() for r in rows.all()] == ["S", "M", "L"]
    assert [int(r.locator("td.num").nth(2).inner_text()) for r in rows.all()] == [3, 12, 0]
    expect(phone.locator("table.compact tfoot td.num").last).to_have_text("15")
    assert_no_horizontal_scroll(phone)
    expect_phone_navigation(phone)


def open_bin_via_find(page, typed_code):
    """The Scan page's code box (for a damaged label, or a phone without camera access)."""
    page.locator("nav.bottomnav").get_by_role("link", name="Scan").click()
    expect(page).to_have_url(re.compile(r"/scan$"))
    page.get_by_label("Or type a bin code or SKU").fill(typed_code)
    page.get_by_role("button", name="Go").click()


def bin_row(page, sku):
    return page.locator("#bin-contents").get_by_role("listitem").filter(has_text=sku)


def test_staff_moves_stock_from_a_bin_page(live_server, data, stockroom, phone):
    staff = data.user("staff", name="Sam Stockroom")
    log_in(phone, live_server.url, staff)
    expect_phone_navigation(phone)

    open_bin_via_find(phone, "a-01-1")  # typed lower-case, as thumbs do
    expect(phone).to_have_url(live_server.url + "/b/A-01-1")
    expect(phone.get_by_role("heading", level=1)).to_have_text("A-01-1")
    expect(bin_row(phone, "POLO-NAVY-M").locator("[data-quantity]")).to_have_text("12")
    assert_no_horizontal_scroll(phone)

    bin_row(phone, "POLO-NAVY-M").get_by_role("button", name="Move").click()
    expect(phone).to_have_url(re.compile(r"/stock/move\?"))
    expect(phone.get_by_text("A-01-1 holds 12 of POLO-NAVY-M.")).to_be_visible()
    expect(phone.get_by_label("Item (SKU)")).to_have_value("POLO-NAVY-M")
    expect(phone.get_by_label("From bin")).to_have_value("A-01-1")
    assert_no_horizontal_scroll(phone)

    phone.get_by_label("To bin").fill("a-01-2")
    phone.get_by_label("Quantity").fill("5")
    phone.get_by_label("Why (optional)").fill("Shelf full")
    phone.get_by_role("button", name="Move", exact=True).click()

    expect(phone).to_have_url(live_server.url + "/b/A-01-1")
    expect(phone.get_by_role("status")).to_have_text(
        "Moved 5 × POLO-NAVY-M from A-01-1 to A-01-2. A-01-1 now holds 7, A-01-2 holds 5.")
    expect(bin_row(phone, "POLO-NAVY-M").locator("[data-quantity]")).to_have_text("7")
    assert_no_horizontal_scroll(phone)

    assert data.level("POLO-NAVY-M", "A-01-1") == 7
    assert data.level("POLO-NAVY-M", "A-01-2") == 5
    assert data.ledger_drift() == []


def test_staff_move_of_more_than_the_bin_holds_is_refused_and_changes_nothing(live_server, data, stockroom, phone):
    staff = data.user("staff")
    log_in(phone, live_server.url, staff)
    phone.goto(live_server.url + "/b/A-01-1")
    bin_row(phone, "POLO-NAVY-S").get_by_role("button", name="Move").click()
    phone.get_by_label("To bin").fill("A-01-2")
    phone.get_by_label("Quantity").fill("10")
    with phone.expect_response(lambda r: r.request.method == "POST" and "/stock/move" in r.url) as posted:
        phone.get_by_role("button", name="Move", exact=True).click()
    assert posted.value.status == 400

    expect(phone).to_have_url(re.compile(r"/stock/move\?"))
    quantity = phone.get_by_label("Quantity")
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(quantity).to_have_accessible_description("Bin A-01-1 holds 3 of POLO-NAVY-S; cannot take 10.")
    expect(phone.locator("small.field-error")).to_be_visible()
    expect(phone.get_by_label("To bin")).to_have_value("A-01-2")  # what was typed is kept
    expect(phone.get_by_role("status")).to_have_count(0)
    assert_no_horizontal_scroll(phone)

    assert data.level("POLO-NAVY-S", "A-01-1") == 3
    assert data.level("POLO-NAVY-S", "A-01-2") == 0
    assert data.ledger_drift() == []


def test_rep_opening_a_staff_page_gets_the_403_page(live_server, data, phone):
    rep = data.user("rep")
    log_in(phone, live_server.url, rep)
    response = phone.goto(live_server.url + "/stock/move")
    assert response.status == 403
    expect(phone.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(phone.get_by_text("does not allow this page")).to_be_visible()
    expect(phone.get_by_label("To bin")).to_have_count(0)
    expect_phone_navigation(phone)
    assert_no_horizontal_scroll(phone)


def test_wrong_password_shows_an_error_and_stays_on_login(live_server, data, phone):
    rep = data.user("rep")
    phone.goto(live_server.url + "/login")
    phone.get_by_label("E-mail").fill(rep)
    phone.get_by_label("Password").fill("not-the-password")
    with phone.expect_response(lambda r: r.request.method == "POST") as posted:
        phone.get_by_role("button", name="Log in").click()
    assert posted.value.status in (400, 401, 403)

    expect(phone).to_have_url(live_server.url + "/login")
    expect(phone.get_by_role("alert")).to_have_text("Wrong e-mail or password, or the account is deactivated.")
    expect(phone.get_by_label("Password")).to_have_value("")
    expect(phone.locator("nav.bottomnav")).to_have_count(0)
    assert_no_horizontal_scroll(phone)

    # The re-rendered form (with a fresh CSRF token) still logs in.
    log_in(phone, live_server.url, rep)
    expect(phone).to_have_url(re.compile(r"/today$"))


@pytest.mark.parametrize("role", ["staff", "manager"])
def test_pages_fit_a_360px_phone(live_server, data, stockroom, small_phone, role):
    """The narrowest phone the design supports: nothing scrolls sideways."""
    email = data.user(role)
    log_in(small_phone, live_server.url, email)
    urls = ["/catalog", "/catalog?q=polo", f"/catalog/p/{stockroom}", "/i/POLO-NAVY-M", "/bins", "/b/A-01-1",
            "/find", "/find?code=NOPE-9", "/profile"]
    if role == "staff":
        urls += ["/stock/move?sku=POLO-NAVY-M&from=A-01-1", "/stock/receive?bin=A-01-1", "/stock/count/A-01-1"]
    for url in urls:
        small_phone.goto(live_server.url + url)
        assert small_phone.viewport_size["width"] == 360
        assert_no_horizontal_scroll(small_phone)
