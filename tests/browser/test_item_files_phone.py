"""A rep finds the current flyer on a 360 px phone and sends it to a client. A manager has uploaded
two versions of the Expo flyer (real PDFs made by WeasyPrint) to a print item whose own name says
nothing of flyers; the rep searches the catalog for the file's title words, opens the item, sees
the first page's preview, taps Download and gets the current version's bytes (not the old ones),
then taps Share: headless Chromium has no share sheet, so the link is copied and shown. That link
opens the file in a browser that never logged in, and the open is counted. Nothing sticks out
past the screen, and Download and Share are 44 px targets."""
import io
import os
import re

import pytest
import weasyprint
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.auth.services import user_by_email
from inventory.catalog import services as catalog
from inventory.extensions import db
from inventory.files import services as files
from inventory.files.models import FileShare
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)
TITLE = "Expo flyer autumn 2026"


def flyer_pdf(words):
    return weasyprint.HTML(string=f"<h1>Expo flyer</h1><p>{words}</p>").write_pdf()


@pytest.fixture
def flyer(data, live_server):
    """The print item TS-HANDOUT ("Trade show handout") with two versions of its shareable file,
    both titled TITLE: the old one, then the current one."""
    data.user("manager", "manager@example.com", name="Morgan Manager")
    data.user("rep", "rep@example.com", name="Riley Rep")
    data.product("Trade show handout", "TS-HANDOUT", category="print")
    old, new = flyer_pdf("Stand 12, Hall A (old)"), flyer_pdf("Stand 214, Hall B: come and see us")
    with live_server.app.app_context():
        manager = user_by_email(db.session, "manager@example.com")
        item = catalog.get_item(db.session, "TS-HANDOUT")
        for content, note in ((old, "First print"), (new, "New stand number")):
            files.upload(db.session, item, manager, kind="shareable", stream=io.BytesIO(content),
                         filename="expo-flyer.pdf", title=TITLE, note=note)
        current = files.current(db.session, item)["shareable"]
        made = {"old": old, "new": new, "file_id": current.id, "version": current.version}
        db.session.remove()
    return made


def _share_rows(app):
    with app.app_context():
        rows = [(row.item_file_id, row.opens) for row in db.session.scalars(select(FileShare))]
        db.session.remove()
    return rows


def test_a_rep_finds_downloads_and_shares_the_current_flyer_on_a_phone(live_server, flyer, small_phone, browser):
    page, base = small_phone, live_server.url
    assert flyer["version"] == 2 and flyer["old"] != flyer["new"]
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    log_in(page, base, "rep@example.com")

    # The catalog finds the item by its file's title words, which its own name does not have.
    page.goto(base + "/catalog")
    box = page.get_by_role("searchbox", name="Search the catalog")
    box.fill("expo flyer")
    with page.expect_navigation():
        box.press("Enter")
    cards = page.locator("li.card")
    expect(cards).to_have_count(1)
    assert_no_horizontal_scroll(page)
    cards.first.get_by_role("link", name="Trade show handout").click()
    expect(page).to_have_url(base + "/i/TS-HANDOUT")

    # The current version's card, with its first page as the preview.
    card = page.locator(f'.file-card[data-file="{flyer["file_id"]}"]')
    expect(card).to_be_visible()
    expect(page.locator(".file-card")).to_have_count(1)  # a rep sees the current version only
    expect(card.locator(".file-title")).to_have_text(TITLE)
    expect(card).to_contain_text("version 2")
    expect(card).to_contain_text("New stand number")
    preview = card.get_by_role("img", name=f"First page of {TITLE}")
    preview.scroll_into_view_if_needed()  # loading="lazy"
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
    assert preview.evaluate("img => img.naturalWidth") > 0
    assert_no_horizontal_scroll(page)
    download_button = card.get_by_role("button", name="Download")
    share_button = card.get_by_role("button", name="Share")
    for target in (download_button, share_button):
        size = target.bounding_box()
        assert size["height"] >= 44 and size["width"] >= 44, size

    # Download: the current version's bytes, under the name the app gives it.
    with page.expect_download() as waiting:
        download_button.tap()
    download = waiting.value
    with open(download.path(), "rb") as saved:
        content = saved.read()
    assert content == flyer["new"] and content != flyer["old"]
    assert download.suggested_filename == "TS-HANDOUT-Expo-flyer-autumn-2026-v2.pdf"

    # Share: no share sheet here, so the link is copied and shown under the buttons.
    assert _share_rows(live_server.app) == []
    share_button.tap()
    result = card.locator(".share-result")
    expect(result).to_be_visible()
    shown = result.locator("a.shared-url")
    expect(shown).to_be_visible()
    url = shown.get_attribute("href")
    assert url.startswith(base + "/s/") and shown.inner_text() == url
    if page.evaluate("() => !!navigator.share"):  # a Chromium with a share sheet: whatever it did, the link shows
        expect(result).to_contain_text(re.compile("Shared:|Not sent|Link copied|Copy this link"))
    else:
        expect(result).to_contain_text("Link copied (valid 7 days unless ended):")
        assert page.evaluate("() => navigator.clipboard.readText()") == url
    assert _share_rows(live_server.app) == [(flyer["file_id"], 0)]
    assert_no_horizontal_scroll(page)
    if os.environ.get("SCREENSHOT_DIR"):  # the README's picture of an item's files on a phone
        card.scroll_into_view_if_needed()
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "item-files.png"))

    # The client's browser: never logged in, no cookies. The link opens the PDF itself, inline.
    client = browser.new_context()
    try:
        assert client.cookies() == []
        response = client.request.get(url, max_redirects=0)
        assert response.status == 200, response.status
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"].startswith("inline;")
        assert response.body() == flyer["new"]
    finally:
        client.close()
    assert _share_rows(live_server.app) == [(flyer["file_id"], 1)]

    # The rep's own share links, on the item's files page, say it was opened once.
    page.get_by_role("link", name="Your share links").tap()
    expect(page).to_have_url(base + "/i/TS-HANDOUT/files")
    expect(page.locator("#share-links li")).to_have_count(1)
    expect(page.locator("#share-links li")).to_contain_text("1 open")
    assert_no_horizontal_scroll(page)
