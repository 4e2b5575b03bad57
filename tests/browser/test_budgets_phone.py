"""The Budgets page on a 360 px phone: a manager opens it from Today, sees a team's numbers (over
its budget, in words) and switches to the next period."""
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from inventory.auth.models import User
from inventory.budgets import services as teams
from inventory.budgets.periods import budget_period, period_key, period_name, shifted
from inventory.catalog import services as catalog
from inventory.extensions import db
from inventory.requests import submission
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)

TODAY = date.today()
NOW = budget_period(TODAY, "quarter")
NEXT = shifted(NOW, "quarter", 1)


@pytest.fixture
def spend(live_server, data):
    """Field sales (budget 1,000.00): Anna's 90 polos at 12.50 this quarter (1,125.00: over by
    125.00) and 8 next quarter (100.00: 900.00 left)."""
    manager = data.user("manager", name="Morgan Marketing")
    anna = data.user("rep", email="anna@example.com", name="Anna")
    data.bin("A-01")
    data.product("Navy polo", "POLO-NAVY", category="apparel", sizes={"M": 120}, bin="A-01", unit_cost="12.50")
    with live_server.app.app_context():
        session = db.session
        users = {u.email: u for u in session.query(User).all()}
        team = teams.create_team(session, dict(name="Field sales", budget="1000", approver_id=users[manager].id))
        rep = teams.set_team(session, users[anna], team.id)
        polo = catalog.get_item(session, "POLO-NAVY-M")
        submission.submit(session, rep, [(polo, 90)], purpose="client_meeting", needed_by=TODAY)
        submission.submit(session, rep, [(polo, 8)], purpose="client_meeting", needed_by=NEXT.first)
        db.session.remove()
    return manager


def test_a_manager_opens_budgets_sees_a_team_and_switches_period(live_server, spend, small_phone):
    page = small_phone
    log_in(page, live_server.url, spend)
    expect(page).to_have_url(re.compile(r"/today$"))
    page.get_by_role("link", name="Budgets", exact=True).tap()
    expect(page).to_have_url(re.compile(r"/budgets$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(period_name(NOW, "quarter"))
    team = page.get_by_role("region", name="Field sales")
    expect(team).to_contain_text("Over by $125.00")
    expect(team).to_contain_text("$1,125.00")
    expect(team).to_contain_text("approver Morgan Marketing")
    expect(team.get_by_role("img", name="112 % of the budget committed")).to_be_visible()
    assert_no_horizontal_scroll(page)

    page.get_by_role("link", name=f"{period_name(NEXT, 'quarter')} →").tap()
    expect(page).to_have_url(re.compile(rf"/budgets\?period={period_key(NEXT, 'quarter')}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(period_name(NEXT, "quarter"))
    team = page.get_by_role("region", name="Field sales")
    expect(team).to_contain_text("$900.00 left")
    expect(team).not_to_contain_text("Over by")
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name=f"Back to {period_name(NOW, 'quarter')}").tap()
    expect(page.get_by_role("region", name="Field sales")).to_contain_text("Over by $125.00")
