"""The rep's budget line on a 360 px phone: a rep in a team with a budget builds a request and sees
each line's value, the total and what the team has left this quarter; changes a quantity and sees
them change (in place, as the page saves); submits, and sees the value on the request page and
the budget line on Today.

Field sales has $2,000.00 this quarter; a teammate's 1,580 pens at $1.00 leave $420.00."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.auth.models import User
from inventory.budgets import services as teams
from inventory.catalog import services as catalog
from inventory.extensions import db
from inventory.requests import submission
from inventory.requests.models import Request
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)
TODAY = date.today()


@pytest.fixture
def team(data):
    data.bin("A-01-1", "Shelf A")
    data.user("manager", "boss@example.com", name="Bo Boss")
    data.user("rep", "rep@example.com", name="Riley Rep")
    data.user("rep", "mate@example.com", name="Mo Mate")
    data.product("Navy polo", "POLO-1", category="apparel", on_hand=100, bin="A-01-1", unit_cost="12.50")
    data.product("Ballpoint pen", "PEN-1", category="promo", on_hand=2000, bin="A-01-1", unit_cost="1.00")
    with data.app.app_context():
        people = {u.email: u for u in db.session.scalars(select(User))}
        made = teams.create_team(db.session, dict(name="Field sales", budget="2000",
                                                  approver_id=people["boss@example.com"].id))
        for email in ("rep@example.com", "mate@example.com"):
            teams.set_team(db.session, people[email], made.id)
        submission.submit(db.session, people["mate@example.com"], [(catalog.get_item(db.session, "PEN-1"), 1580)],
                          purpose="client_meeting", needed_by=TODAY)
        db.session.remove()
    return data


def test_a_rep_sees_what_the_request_is_worth_against_the_teams_budget(live_server, team, small_phone):
    base, page = live_server.url, small_phone
    log_in(page, base, "rep@example.com")
    page.goto(f"{base}/i/POLO-1")
    page.locator("#qty-POLO-1").fill("30")
    page.get_by_role("button", name="Add to my request").tap()
    expect(page).to_have_url(f"{base}/request")
    page.wait_for_load_state()  # htmx has bound the form's autosave

    # 30 polos at $12.50.
    expect(page.locator("#value-POLO-1")).to_have_text("$375.00")
    total = page.locator("#draft-total")
    expect(total).to_contain_text("Total $375.00")
    expect(total).to_contain_text("Field sales: $420.00 of $2,000.00 left this quarter")
    expect(total).to_contain_text("After this request: $45.00 left")
    assert_no_horizontal_scroll(page)

    # Four more with the stepper: $425.00, over by $5.00, said in words (nothing is blocked).
    more = page.locator("#qty-POLO-1").locator("xpath=..").get_by_role("button", name="One more")
    for _ in range(4):
        more.tap()
    expect(page.locator("#qty-POLO-1")).to_have_value("34")
    expect(page.locator("#value-POLO-1")).to_have_text("$425.00")
    expect(total).to_contain_text("Total $425.00")
    expect(page.locator("#budget-after")).to_have_text("This request would go over the team's budget by $5.00")
    assert_no_horizontal_scroll(page)

    # Typed down to 32: $400.00, $20.00 left after it.
    page.locator("#qty-POLO-1").fill("32")
    expect(page.locator("#value-POLO-1")).to_have_text("$400.00")
    expect(page.locator("#budget-after")).to_have_text("After this request: $20.00 left")

    page.get_by_label("Needed by").fill(TODAY.isoformat())
    page.get_by_role("button", name="Submit and reserve").tap()
    expect(page.get_by_role("status").first).to_contain_text("Held for you now")
    with live_server.app.app_context():
        sent = db.session.scalar(select(Request).where(Request.requester.has(User.email == "rep@example.com")))
        assert (sent.team.name, [(ln.item.sku, ln.quantity) for ln in sent.lines]) == ("Field sales", [("POLO-1", 32)])
        line_id = sent.lines[0].id
        db.session.remove()

    # The request page: the line's value, the total, and what the team has left now.
    expect(page.locator(f"#value-{line_id}")).to_have_text("Value $400.00")
    request_total = page.locator("#request-total")
    expect(request_total).to_contain_text("Total $400.00")
    expect(request_total).to_contain_text("Field sales: $20.00 of $2,000.00 left this quarter")
    assert_no_horizontal_scroll(page)

    # Today: the team's budget line and its bar (1,980 of 2,000 committed: 99 %).
    page.locator(".bottomnav a", has_text="Today").tap()
    expect(page).to_have_url(re.compile(r"/today$"))
    line = page.get_by_role("region", name="Team budget")
    expect(line).to_contain_text("Field sales: $20.00 of $2,000.00 left this quarter")
    bar = line.locator("progress.budget-bar")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("value", "99")
    assert_no_horizontal_scroll(page)
