"""An approver's two-level path on a 360 px phone: a rep's request for 48 polos at $12.50
($600.00) is worth more than Field sales's second amount ($500.00). Ann, the team's approver,
opens it from her approval link, sees who it waits for and approves it as the first level; it
still waits. Bob, on the second approvers' list, opens his own link and approves it: approved,
on the stockroom's pick list, both decisions in the page's Approval box."""
import os
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.auth.models import User
from inventory.budgets import links
from inventory.budgets import services as teams
from inventory.catalog import services as catalog
from inventory.extensions import db
from inventory.requests import submission
from inventory.requests.models import Request
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def waiting(data):
    data.bin("A-01-1", "Shelf A")
    data.user("manager", "ann@example.com", name="Ann Approver")
    data.user("manager", "bob@example.com", name="Bob Second")
    data.user("rep", "rep@example.com", name="Riley Rep")
    data.product("Navy polo", "POLO-1", category="apparel", on_hand=100, bin="A-01-1", unit_cost="12.50")
    with data.app.app_context():
        people = {u.email: u for u in db.session.scalars(select(User))}
        teams.set_rights(db.session, people["bob@example.com"], second_approver=True)
        team = teams.create_team(db.session, dict(name="Field sales", budget="5000",
                                                  approver_id=people["ann@example.com"].id,
                                                  auto_approve_up_to="50", second_approval_above="500"))
        teams.set_team(db.session, people["rep@example.com"], team.id)
        made = submission.submit(db.session, people["rep@example.com"],
                                 [(catalog.get_item(db.session, "POLO-1"), 48)], purpose="client_meeting",
                                 needed_by=date.today() + timedelta(days=5))
        paths = {email: links.approval_path(made.id, people[email].id, level)
                 for email, level in (("ann@example.com", "approver"), ("bob@example.com", "second"))}
        request_id = made.id
        db.session.remove()
    return request_id, paths


def _status(app, request_id):
    with app.app_context():
        found = db.session.get(Request, request_id).status
        db.session.remove()
    return found


def test_an_approver_and_then_a_second_approver_approve_on_a_phone(live_server, waiting, small_phone):
    base, page = live_server.url, small_phone
    request_id, paths = waiting

    # Ann's link asks her to sign in first, then opens the request at its Approval box.
    page.goto(base + paths["ann@example.com"])
    expect(page).to_have_url(f"{base}/login?next=%2Fapprovals%2F" + paths["ann@example.com"].rsplit("/", 1)[1])
    log_in(page, base, "ann@example.com")
    page.goto(base + paths["ann@example.com"])
    expect(page).to_have_url(f"{base}/requests/{request_id}#approval")
    expect(page.get_by_role("status").first).to_contain_text("waits for your approval (the approver)")
    box = page.locator("#approval")
    expect(box).to_contain_text("First approval")
    expect(box).to_contain_text("Ann Approver, Field sales's approver")
    expect(box).to_contain_text("Second approval")
    expect(box).to_contain_text("It is worth $600.00, more than $500.00")
    expect(page.locator("#approve-partial")).to_contain_text("then it waits for a second approver")
    assert_no_horizontal_scroll(page)
    if os.environ.get("SCREENSHOT_DIR"):  # the README's picture of the Approval box
        box.scroll_into_view_if_needed()
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "approval.png"))
    page.get_by_role("button", name="Approve (first approval)").tap()
    expect(page.get_by_role("status").first).to_contain_text("It now waits for the next approver")
    expect(box.locator(".approval-done")).to_contain_text("Ann Approver")
    expect(page.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    expect(page.locator("#approve-refusal")).to_contain_text("a second approver must be someone else")
    assert _status(live_server.app, request_id) == "submitted"

    # Bob signs in on the same phone and opens his own link.
    page.context.clear_cookies()
    log_in(page, base, "bob@example.com")
    page.goto(base + paths["bob@example.com"])
    expect(page).to_have_url(f"{base}/requests/{request_id}#approval")
    expect(page.get_by_role("status").first).to_contain_text("waits for your approval (a second approver)")
    assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="Approve", exact=True).tap()
    expect(page.get_by_role("status").first).to_contain_text("Approved: it is on the stockroom's pick list")
    expect(page.locator("#approval .approval-done")).to_have_count(2)
    expect(page.locator("#approval")).to_contain_text("Bob Second")
    assert _status(live_server.app, request_id) == "approved"

    # The link has done its work: opened again, it says so.
    page.goto(base + paths["bob@example.com"])
    expect(page.get_by_role("status").first).to_contain_text("This approval link has expired: it is approved.")
