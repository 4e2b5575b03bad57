"""The rep's request page on a 360 px phone: one form, so whatever button is pressed the database
holds what the page showed; details typed survive every button and leaving the page; a short
line says so, with its choices, before anything is submitted."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.auth.models import User
from inventory.extensions import db
from inventory.requests import drafts, submission
from inventory.catalog import services as catalog
from inventory.requests.models import Request
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)
NEEDED_BY = date.today() + timedelta(days=6)


@pytest.fixture
def stockroom(data):
    data.bin("A-01-1", "Shelf A")
    data.user("rep", "rep@example.com", name="Riley Rep")
    data.product("Ceramic mug", "MUG-1", category="promo", on_hand=7, bin="A-01-1")
    data.product("Ballpoint pen", "PEN-1", category="promo", on_hand=50, bin="A-01-1")
    return data


def _requests(app):
    with app.app_context():
        return [(r.note, r.needed_by, r.status, {ln.item.sku: (ln.quantity, ln.reserved, ln.backordered)
                                                 for ln in r.lines})
                for r in db.session.scalars(select(Request).order_by(Request.id))]


def _draft(app, email="rep@example.com"):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        draft = drafts.get(db.session, user)
        return draft.lines, {k: v for k, v in draft.details.items() if v}


def _add(page, base, sku, quantity):
    page.goto(f"{base}/i/{sku}")
    page.locator(f"#qty-{sku}").fill(str(quantity))
    page.get_by_role("button", name="Add to my request").tap()
    expect(page).to_have_url(f"{base}/request")
    page.wait_for_load_state()  # htmx has bound the form's autosave (a person cannot type this fast)


def _stepper(page, sku, name):
    return page.locator(f"#qty-{sku}").locator("xpath=..").get_by_role("button", name=name)


def test_changed_steppers_and_details_are_what_submit_reserves(live_server, stockroom, small_phone):
    """The bug: steppers changed, then Submit: the request held the quantities from before."""
    base, page = live_server.url, small_phone
    log_in(page, base, "rep@example.com")
    _add(page, base, "MUG-1", 1)
    _add(page, base, "PEN-1", 1)
    page.locator("#qty-PEN-1").fill("5")
    for _ in range(2):
        _stepper(page, "MUG-1", "One more").tap()
    expect(page.locator("#qty-MUG-1")).to_have_value("3")
    page.get_by_label("Needed by").fill(NEEDED_BY.isoformat())
    page.get_by_label("Note for Marketing").fill("Acme lunch")
    assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="Submit and reserve").tap()
    expect(page.get_by_role("status").first).to_contain_text("Held for you now")
    assert _requests(live_server.app) == [("Acme lunch", NEEDED_BY, "submitted",
                                           {"MUG-1": (3, 3, 0), "PEN-1": (5, 5, 0)})]
    assert _draft(live_server.app) == ({}, {})  # sent: the draft is empty again


def test_remove_saves_every_other_change_and_keeps_the_details(live_server, stockroom, small_phone):
    base, page = live_server.url, small_phone
    log_in(page, base, "rep@example.com")
    _add(page, base, "MUG-1", 2)
    _add(page, base, "PEN-1", 1)
    page.locator("#qty-PEN-1").fill("9")
    page.get_by_label("Needed by").fill(NEEDED_BY.isoformat())
    page.get_by_label("Ship to an address").check()
    page.get_by_label("Ship to", exact=True).fill("Acme, 1 Main St, Springfield")
    page.get_by_label("Note for Marketing").fill("For the Acme visit")
    page.get_by_role("button", name="Remove Ceramic mug").tap()
    expect(page.locator("#qty-MUG-1")).to_have_count(0)
    expect(page.locator("#qty-PEN-1")).to_have_value("9")
    expect(page.get_by_label("Needed by")).to_have_value(NEEDED_BY.isoformat())
    expect(page.locator("#ship_to")).to_have_value("Acme, 1 Main St, Springfield")
    expect(page.get_by_label("Note for Marketing")).to_have_value("For the Acme visit")
    lines, details = _draft(live_server.app)
    assert lines == {"PEN-1": 9}
    assert details == {"purpose": "client_meeting", "needed_by": NEEDED_BY.isoformat(), "handoff": "ship",
                       "ship_to": "Acme, 1 Main St, Springfield", "note": "For the Acme visit"}
    assert _requests(live_server.app) == []


def test_enter_in_a_box_saves_and_never_sends(live_server, stockroom, small_phone):
    base, page = live_server.url, small_phone
    log_in(page, base, "rep@example.com")
    _add(page, base, "PEN-1", 1)
    page.get_by_label("Needed by").fill(NEEDED_BY.isoformat())
    page.locator("#qty-PEN-1").fill("4")
    page.locator("#qty-PEN-1").press("Enter")
    expect(page).to_have_url(f"{base}/request")
    expect(page.locator("#qty-PEN-1")).to_have_value("4")
    assert _draft(live_server.app)[0] == {"PEN-1": 4}
    assert _requests(live_server.app) == []


def test_leaving_the_page_keeps_what_was_typed(live_server, stockroom, small_phone):
    """No button pressed at all: the page saves as the rep types, and again when it is left."""
    base, page = live_server.url, small_phone
    log_in(page, base, "rep@example.com")
    _add(page, base, "PEN-1", 2)
    page.locator("#qty-PEN-1").fill("6")
    page.get_by_label("Needed by").fill(NEEDED_BY.isoformat())
    page.get_by_label("Note for Marketing").fill("Typed, then the rep walked off")
    page.locator(".bottomnav a[href='/catalog']").tap()
    expect(page).to_have_url(f"{base}/catalog")
    page.locator(".bottomnav a[href='/request']").tap()
    expect(page.locator("#qty-PEN-1")).to_have_value("6")
    expect(page.get_by_label("Needed by")).to_have_value(NEEDED_BY.isoformat())
    expect(page.get_by_label("Note for Marketing")).to_have_value("Typed, then the rep walked off")
    expect(page.locator(".bottomnav .badge")).to_have_text("6")


def test_a_short_line_says_so_before_submit_and_take_what_is_free_keeps_the_details(
        live_server, stockroom, small_phone):
    base, page = live_server.url, small_phone
    log_in(page, base, "rep@example.com")
    _add(page, base, "MUG-1", 30)
    expect(page.get_by_role("status").filter(has_text="free now")).to_contain_text("Only 7 of Ceramic mug free now, 30 asked")
    page.get_by_label("Needed by").fill(NEEDED_BY.isoformat())
    page.get_by_label("Note for Marketing").fill("Mugs for the booth")
    status = page.locator("#status-MUG-1")
    expect(status).to_contain_text(f"7 free for {NEEDED_BY.strftime('%a %-d %b')}; 30 asked")
    expect(page.locator("#short-summary")).to_contain_text("1 line is short")
    assert_no_horizontal_scroll(page)
    # + never goes further past what is free; − still works.
    _stepper(page, "MUG-1", "One more").tap()
    expect(page.locator("#qty-MUG-1")).to_have_value("30")
    status.get_by_role("button", name="Take the 7 free").tap()
    expect(page.locator("#qty-MUG-1")).to_have_value("7")
    page.wait_for_load_state()  # the page after Take: its script has bound the steppers
    expect(page.get_by_label("Note for Marketing")).to_have_value("Mugs for the booth")
    expect(page.locator("#status-MUG-1")).to_contain_text("7 free for")
    expect(page.locator("#short-summary")).to_have_count(0)
    _stepper(page, "MUG-1", "One more").tap()  # at what is free, + stops
    expect(page.locator("#qty-MUG-1")).to_have_value("7")
    page.get_by_role("button", name="Submit and reserve").tap()
    expect(page.get_by_role("status").first).to_contain_text("7 × Ceramic mug")
    assert _requests(live_server.app) == [("Mugs for the booth", NEEDED_BY, "submitted", {"MUG-1": (7, 7, 0)})]


def test_backorder_the_rest_is_chosen_on_the_line_and_lets_the_stepper_go_on(live_server, stockroom, small_phone):
    base, page = live_server.url, small_phone
    log_in(page, base, "rep@example.com")
    _add(page, base, "MUG-1", 9)
    page.get_by_label("Needed by").fill(NEEDED_BY.isoformat())
    page.locator("#status-MUG-1").get_by_role("button", name="Backorder the other 2").tap()
    expect(page.get_by_label("If something is short")).to_be_checked()
    page.wait_for_load_state()  # the page after Backorder: its script has bound the steppers and autosave
    expect(page.get_by_label("Needed by")).to_have_value(NEEDED_BY.isoformat())
    expect(page.locator("#status-MUG-1")).to_contain_text("7 will be held now and 2 backordered")
    _stepper(page, "MUG-1", "One more").tap()  # backordering: + is no longer capped
    expect(page.locator("#qty-MUG-1")).to_have_value("10")
    expect(page.locator("#status-MUG-1")).to_contain_text("3 backordered")  # answered by the autosave
    page.get_by_role("button", name="Submit: hold what is free, backorder the rest").tap()
    expect(page.get_by_role("status").first).to_contain_text("7 × Ceramic mug (+3 backordered)")
    assert _requests(live_server.app)[0][3] == {"MUG-1": (10, 7, 3)}


def test_a_short_size_offers_the_sizes_that_have_it(live_server, data, small_phone):
    data.bin("A-01-1")
    data.user("rep", "rep@example.com")
    product = data.product("Navy polo", "POLO-NAVY", sizes={"M": 2, "L": 10, "XL": 1}, bin="A-01-1")
    base, page = live_server.url, small_phone
    log_in(page, base, "rep@example.com")
    page.goto(f"{base}/catalog/p/{product}")
    page.wait_for_load_state()
    for _ in range(3):  # the + stops at the 2 free M
        _stepper(page, "POLO-NAVY-M", "One more").tap()
    expect(page.locator("#qty-POLO-NAVY-M")).to_have_value("2")
    page.locator("#qty-POLO-NAVY-M").fill("5")
    expect(page.locator('[data-over-for="qty-POLO-NAVY-M"]')).to_be_visible()
    page.get_by_role("button", name="Add to my request").tap()
    expect(page).to_have_url(f"{base}/request")
    page.wait_for_load_state()
    status = page.locator("#status-POLO-NAVY-M")
    expect(status).to_contain_text("2 free now; 5 asked")
    expect(status.get_by_role("button", name="Size XL instead")).to_have_count(0)  # 1 free: not enough
    status.get_by_role("button", name="Size L instead · 10 free").tap()
    expect(page.locator("#qty-POLO-NAVY-L")).to_have_value("5")
    expect(page.locator("#qty-POLO-NAVY-M")).to_have_count(0)
    assert _draft(live_server.app)[0] == {"POLO-NAVY-L": 5}
    # The product page shows what the request holds, and saving it sets exactly that.
    page.goto(f"{base}/catalog/p/{product}")
    expect(page.locator("#qty-POLO-NAVY-L")).to_have_value("5")
    page.locator("#qty-POLO-NAVY-L").fill("0")
    page.locator("#qty-POLO-NAVY-M").fill("1")
    page.get_by_role("button", name="Update my request").tap()
    expect(page.locator("#qty-POLO-NAVY-M")).to_have_value("1")
    expect(page.locator("#qty-POLO-NAVY-L")).to_have_count(0)
    assert _draft(live_server.app)[0] == {"POLO-NAVY-M": 1}


def test_a_returnables_availability_follows_the_dates_as_they_are_typed(live_server, data, small_phone):
    data.bin("A-01-1")
    data.user("rep", "rep@example.com")
    other = data.user("rep", "other@example.com")
    data.product("Booth banner", "BANNER-1", category="display", on_hand=1, bin="A-01-1", returnable=True)
    start = date.today() + timedelta(days=10)
    with live_server.app.app_context():  # the only banner is booked for days 10 to 13
        user = db.session.scalar(select(User).where(User.email == other))
        submission.submit(db.session, user, [(catalog.get_item(db.session, "BANNER-1"), 1)], purpose="trade_show",
                          needed_by=start, return_by=start + timedelta(days=3))
    base, page = live_server.url, small_phone
    log_in(page, base, "rep@example.com")
    _add(page, base, "BANNER-1", 1)
    page.get_by_label("Needed by").fill((start + timedelta(days=1)).isoformat())
    page.get_by_label("Back by").fill((start + timedelta(days=2)).isoformat())
    status = page.locator("#status-BANNER-1")
    expect(status).to_contain_text("0 free for")  # no reload: the autosave answered
    expect(status.get_by_role("button", name="Backorder all 1")).to_be_visible()
    page.get_by_label("Needed by").fill((start + timedelta(days=5)).isoformat())
    page.get_by_label("Back by").fill((start + timedelta(days=6)).isoformat())
    expect(status).to_contain_text("1 free for")
    expect(status.get_by_role("button")).to_have_count(0)


def test_a_page_left_open_cannot_send_the_request_twice(live_server, stockroom, small_phone, browser):
    base, page = live_server.url, small_phone
    log_in(page, base, "rep@example.com")
    _add(page, base, "PEN-1", 2)
    page.get_by_label("Needed by").fill(NEEDED_BY.isoformat())
    expect(page.locator("#draft-state")).to_contain_text("Saved.")  # the autosave answered
    second = page.context.new_page()  # the same request open in another tab
    second.goto(f"{base}/request")
    expect(second.get_by_label("Needed by")).to_have_value(NEEDED_BY.isoformat())
    # Back to the first tab, as the rep would be: a tab in the background is drawn late, and a
    # tap on it could land on a bottom bar that was not yet moved out of the way.
    page.bring_to_front()
    page.get_by_role("button", name="Submit and reserve").tap()
    expect(page.get_by_role("status").first).to_contain_text("Held for you now")
    second.bring_to_front()
    second.get_by_role("button", name="Submit and reserve").click()
    expect(second.get_by_role("alert").first).to_contain_text("This request was sent already")
    assert len(_requests(live_server.app)) == 1
    assert _draft(live_server.app) == ({}, {})


def test_an_autosave_that_did_not_save_says_so(live_server, stockroom, small_phone):
    """The session ended (here: its cookie is gone): the autosave is answered by the login page,
    and the page must not go on saying "Saved"."""
    base, page = live_server.url, small_phone
    log_in(page, base, "rep@example.com")
    _add(page, base, "PEN-1", 2)
    page.get_by_label("Note for Marketing").fill("first")
    expect(page.locator("#draft-state")).to_contain_text("Saved.")
    page.context.clear_cookies()
    page.get_by_label("Note for Marketing").fill("second, not saved")
    expect(page.get_by_role("alert")).to_contain_text("Not saved")
    assert _draft(live_server.app)[1]["note"] == "first"
