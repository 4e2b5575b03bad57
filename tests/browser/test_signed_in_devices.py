"""Signing out a lost phone from another one, in a real browser with CSRF on: the profile lists
where the rep is logged in, and *Sign out* ends the other phone's session at once."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)


def test_rep_signs_out_a_lost_phone_from_their_own(live_server, data, phone, browser, playwright_instance):
    rep = data.user("rep", name="Riley Rep")
    lost = browser.new_context(**playwright_instance.devices[PHONE]).new_page()
    try:
        log_in(lost, live_server.url, rep)
        log_in(phone, live_server.url, rep)
        phone.locator("nav.bottomnav").get_by_role("link", name="Me").click()
        expect(phone).to_have_url(re.compile(r"/profile$"))
        signed_in = phone.locator("#sessions li.row")
        expect(signed_in).to_have_count(2)
        expect(signed_in.filter(has_text="this device")).to_have_count(1)
        assert_no_horizontal_scroll(phone)

        other = signed_in.filter(has_not_text="this device")
        with phone.expect_navigation():
            other.get_by_role("button", name="Sign out").click()
        expect(phone.get_by_text("That device is signed out.")).to_be_visible()
        expect(signed_in).to_have_count(1)

        lost.reload()
        expect(lost).to_have_url(re.compile(r"/login"))
        expect(lost.get_by_label("E-mail")).to_be_visible()
        phone.reload()
        expect(phone).to_have_url(re.compile(r"/profile"))
    finally:
        lost.context.close()


def test_logging_out_on_the_phone_ends_the_session_on_the_server(live_server, data, phone):
    rep = data.user("rep")
    log_in(phone, live_server.url, rep)
    cookies = phone.context.cookies()
    phone.goto(live_server.url + "/profile")
    with phone.expect_navigation():
        phone.locator("main").get_by_role("button", name="Log out").first.click()
    expect(phone).to_have_url(re.compile(r"/login"))
    # The cookie as it was before logging out no longer opens anything.
    phone.context.add_cookies(cookies)
    phone.goto(live_server.url + "/catalog")
    expect(phone).to_have_url(re.compile(r"/login"))
