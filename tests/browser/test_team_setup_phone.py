"""Setting a team up on a 360 px phone: the admin reaches Teams from Today, a refused budget
comes back as typed with the words beside its box, the corrected team is saved, and a rep is put
in it from their user page."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from inventory.auth.models import User
from inventory.budgets.models import Team
from inventory.extensions import db
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)


def _submit(page, name):
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def test_an_admin_sets_up_a_team_on_a_phone(live_server, data, small_phone):
    page = small_phone
    data.user("admin", "admin@example.com", name="Ada Admin")
    data.user("manager", "manager@example.com", name="Morgan Manager")
    data.user("rep", "rep@example.com", name="Riley Rep")
    log_in(page, live_server.url, "admin@example.com")
    expect(page).to_have_url(re.compile(r"/today$"))
    page.get_by_role("link", name="Teams", exact=True).tap()
    expect(page).to_have_url(re.compile(r"/admin/teams$"))
    page.get_by_role("button", name="New team").tap()
    page.locator("#name").fill("Field sales North")
    page.get_by_label(re.compile(r"^Budget per quarter")).fill("2,000.505")
    page.locator("#approver_id").select_option(label="Morgan Manager (Marketing manager)")
    page.get_by_label(re.compile(r"^Approve at once up to")).fill("150")
    _submit(page, "Create team")
    budget = page.locator("#budget")
    expect(budget).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#budget-error")).to_contain_text("at most two decimals")
    expect(budget).to_have_value("2,000.505")
    expect(page.locator("#name")).to_have_value("Field sales North")
    expect(page.locator("#auto_approve_up_to")).to_have_value("150")
    assert_no_horizontal_scroll(page)
    budget.fill("2,000.50")
    _submit(page, "Create team")
    expect(page.locator("main")).to_contain_text("Team Field sales North created")
    expect(page.locator("main")).to_contain_text("Morgan Manager")
    assert_no_horizontal_scroll(page)
    page.goto(live_server.url + "/admin/users")
    page.get_by_role("link", name=re.compile("Riley Rep")).tap()
    page.locator("#team_id").select_option(label="Field sales North")
    _submit(page, "Save")
    expect(page.locator("main")).to_contain_text("Field sales North")
    with live_server.app.app_context():
        team = db.session.scalars(select(Team)).one()
        rep = db.session.scalar(select(User).where(User.email == "rep@example.com"))
        assert (str(team.budget), rep.team_id) == ("2000.50", team.id)
        db.session.remove()
