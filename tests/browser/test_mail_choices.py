"""E-mail choices on a phone, in a real browser with CSRF on: a rep turns approval e-mails off
on the Me page and the choice sticks; an admin sends a test e-mail to a real SMTP server."""
import re

import pytest
from mail_server import MailServer
from playwright.sync_api import expect

from inventory.auth.models import User
from inventory.extensions import db
from inventory.mail import preferences
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def smtp(live_server):
    server = MailServer()
    server.start()
    live_server.app.config.update(server.config(), BASE_URL=live_server.url)
    yield server
    server.stop()


def choices(app, email):
    with app.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        return preferences.choices(db.session, user)


def test_rep_turns_approval_emails_off_on_the_phone(live_server, data, phone, smtp):
    rep = data.user("rep", name="Riley Rep")
    log_in(phone, live_server.url, rep)
    phone.locator("nav.bottomnav").get_by_role("link", name="Me").click()
    expect(phone).to_have_url(re.compile(r"/profile$"))
    approved = phone.get_by_role("switch", name=re.compile("My request is approved"))
    expect(approved).to_be_checked()
    expect(phone.get_by_text("Reorder digest")).to_have_count(0)  # a manager's choice, not a rep's
    assert_no_horizontal_scroll(phone)

    approved.uncheck()
    phone.get_by_role("button", name="Save e-mail choices").click()
    expect(phone.get_by_text("Your e-mail choices are saved.")).to_be_visible()
    expect(phone.get_by_role("switch", name=re.compile("My request is approved"))).not_to_be_checked()
    expect(phone.get_by_role("switch", name=re.compile("My request is shipped"))).to_be_checked()
    assert choices(live_server.app, rep)["request_approved"] is False
    assert_no_horizontal_scroll(phone)


def test_admin_sends_a_test_email_from_the_outbox_page(live_server, data, phone, smtp):
    admin = data.user("admin")
    log_in(phone, live_server.url, admin)
    phone.goto(f"{live_server.url}/outbox")
    phone.get_by_text("Check the mail settings").click()
    address = phone.get_by_label("Send a test e-mail to")
    expect(address).to_have_value(admin)
    address.fill("it@example.com")
    phone.get_by_role("button", name="Send test e-mail").click()
    expect(phone.get_by_text("Test e-mail sent to it@example.com")).to_be_visible()
    assert smtp.envelopes == [["it@example.com"]]
    assert_no_horizontal_scroll(phone)
