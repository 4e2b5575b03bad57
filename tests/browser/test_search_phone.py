"""Catalog search on the narrowest phone (360 px): "navy polos" lands on the navy polo, a typo is
offered the catalog's word, and an empty result's help fits the screen with large tap targets."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def shelf(data):
    data.bin("A-01-1", "Polos")
    navy = data.product("Navy polo", "POLO-NAVY", sizes={"S": 3, "M": 12}, bin="A-01-1", supplier="Threadline Apparel")
    data.product("Black polo", "POLO-BLACK", sizes={"M": 2}, bin="A-01-1")
    data.product("Atlas one-pager", "FLY-ATLAS", category="print", keywords="flyer, leaflet")
    data.product("Logo ballpoint pen", "PEN-LOGO", category="promo")
    return navy


def search_for(page, text):
    box = page.get_by_role("searchbox", name="Search the catalog")
    box.fill(text)
    with page.expect_navigation():
        box.press("Enter")


def assert_tappable(locator):
    for element in locator.all():
        box = element.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, f"{element.inner_text()!r} is {box}"


def test_navy_polos_lands_on_the_navy_polo_and_a_typo_gets_did_you_mean(live_server, data, shelf, small_phone):
    page = small_phone
    log_in(page, live_server.url, data.user("rep"))
    page.goto(live_server.url + "/catalog")  # a rep lands on Today
    search_for(page, "navy polos")
    cards = page.locator("li.card")
    expect(cards).to_have_count(1)
    expect(cards.first.get_by_role("link", name="Navy polo")).to_be_visible()
    assert_no_horizontal_scroll(page)
    cards.first.get_by_role("link", name="Navy polo").click()
    expect(page).to_have_url(live_server.url + f"/catalog/p/{shelf}")

    page.goto(live_server.url + "/catalog")
    search_for(page, "flyr")
    expect(page.get_by_text("Nothing matches “flyr”.")).to_be_visible()
    offer = page.locator(".did-you-mean").get_by_role("link", name="flyer")
    expect(offer).to_be_visible()
    chips = page.get_by_role("navigation", name="Browse a category").get_by_role("link")
    expect(chips).to_have_count(3)  # Apparel, Print, Promo: the categories that have products
    expect(chips.filter(has_text="Apparel")).to_contain_text("2")
    assert_tappable(offer)
    assert_tappable(chips)
    assert_tappable(page.get_by_role("link", name="Clear the search"))
    assert_no_horizontal_scroll(page)
    if shot := __import__("os").environ.get("SEARCH_SCREENSHOT"):
        page.screenshot(path=shot, full_page=True)
    offer.click()
    expect(page).to_have_url(re.compile(r"/catalog\?q=flyer$"))
    expect(page.locator("li.card").get_by_role("link", name="Atlas one-pager")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search the catalog")).to_have_value("flyer")
