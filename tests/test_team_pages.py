"""Setting teams up: the admins' team pages (roles, refusals that keep what was typed, delete),
the Team select on the user form, the teams and users CSV import (dry run, then all or nothing),
an item's expected loss rate (form and CSV) and GET /api/v1/teams; on both databases."""
import re
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, select

from conftest import PASSWORD
from inventory.auth import services as auth
from inventory.auth.models import User
from inventory.budgets import services as teams
from inventory.budgets.models import Team
from inventory.budgets.periods import budget_period, period_key
from inventory.catalog.models import Item
from inventory.extensions import db
from inventory.querycount import count_queries
from inventory.requests import submission
from inventory.transfer import exports, people, services as transfer
from inventory.transfer.report import ImportRefused


def D(text):
    return Decimal(text)


def count(session, model):
    db.session.rollback()
    return session.scalar(select(func.count()).select_from(model))


def page(response):
    return unescape(response.get_data(as_text=True))


def value_of(html, name):
    """The value a page's input `name` shows (what the browser sends back)."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, f"no input {name}"
    found = re.search(r'value="([^"]*)"', match.group(0))
    return found.group(1) if found else ""


def selected(html, name):
    match = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S)
    assert match, f"no select {name}"
    chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', match.group(0))
    return (chosen.group(1) or chosen.group(2)) if chosen else None


def error_beside(html, name):
    """The message shown beside the box `name` (the field macro's <small id="NAME-error">)."""
    match = re.search(rf'<small id="{name}-error" class="field-error">(.*?)</small>', html, re.S)
    return match.group(1) if match else None


def team_form(**fields):
    data = {"name": "Field sales", "budget": "2,000", "approver_id": "", "auto_approve_up_to": "",
            "second_approval_above": ""}
    data.update(fields)
    return data


@pytest.fixture
def field_team(session, make_user):
    manager = make_user("manager", name="Mia Manager")
    return teams.create_team(session, dict(name="Field sales", budget="2000", approver_id=manager.id,
                                           auto_approve_up_to="150")), manager


# The team pages ------------------------------------------------------------------------------------

def test_an_admin_creates_a_team_and_the_list_shows_budget_approver_limits_and_members(client, login, session,
                                                                                         make_user):
    admin = login("admin")
    manager = make_user("manager", name="Mia Manager")
    form = page(client.get("/admin/teams/new"))
    assert "Budget per quarter" in form and "Mia Manager" in form and admin.display_name in form
    response = client.post("/admin/teams/new", data=team_form(name="Field sales North", approver_id=str(manager.id),
                                                              auto_approve_up_to="150", second_approval_above="1000"))
    assert response.status_code == 302
    team = session.scalars(select(Team)).one()
    assert (team.name, team.budget, team.approver_id, team.auto_approve_up_to, team.second_approval_above) == (
        "Field sales North", D("2000.00"), manager.id, D("150.00"), D("1000.00"))
    rep = make_user("rep")
    teams.set_team(session, rep, team.id)
    listing = page(client.get("/admin/teams"))
    assert "Field sales North" in listing and "$2,000.00 a quarter" in listing and "1 member" in listing
    assert "Approver: Mia Manager" in listing and "approved at once up to $150.00" in listing
    assert "second approver above $1,000.00" in listing
    shown = page(client.get(f"/admin/teams/{team.id}"))
    assert rep.email in shown and "Mia Manager" in shown and "Edit" in shown


def test_the_period_the_budget_is_per_follows_BUDGET_PERIOD(app, client, login, field_team):
    login("admin")
    app.config["BUDGET_PERIOD"] = "month"
    assert "$2,000.00 a month" in page(client.get("/admin/teams"))
    assert "Budget per month" in page(client.get(f"/admin/teams/{field_team[0].id}/edit"))


def test_managers_may_look_others_are_refused_and_unknown_teams_are_a_helpful_404(client, login, auth_client,
                                                                                   make_user, field_team):
    team, _manager = field_team
    login("manager")
    listing = page(client.get("/admin/teams"))
    assert "Field sales" in listing and "New team" not in listing
    assert "Delete" not in page(client.get(f"/admin/teams/{team.id}"))
    for url in ("/admin/teams/new", f"/admin/teams/{team.id}/edit", f"/admin/teams/{team.id}/delete"):
        assert client.get(url).status_code == 403
        assert client.post(url, data=team_form()).status_code == 403
    for role in ("rep", "staff"):
        auth_client.logout()
        login(role)
        assert client.get("/admin/teams").status_code == 403
        assert client.get(f"/admin/teams/{team.id}").status_code == 403
    auth_client.logout()
    login("admin")
    missing = client.get("/admin/teams/999")
    assert missing.status_code == 404 and "There is no team #999" in page(missing)
    assert client.get("/admin/teams/999/edit").status_code == 404
    assert client.post("/admin/teams/999/delete").status_code == 404
    assert session_count_teams() == 1


def session_count_teams():
    return count(db.session, Team)


def test_the_admin_menu_and_the_phone_reach_the_teams(client, login):
    login("admin")
    today = page(client.get("/today"))
    assert 'href="/admin/teams"' in today  # the laptop's Admin menu, and the phone's Today page
    assert re.search(r'class="more-link" href="/admin/teams"', today)
    assert 'href="/admin/teams"' in page(client.get("/admin/users"))


@pytest.mark.parametrize("fields, box, words", [
    (dict(budget="12.345"), "budget", "at most two decimals"),
    (dict(budget="-5"), "budget", "cannot be negative"),
    (dict(budget="lots"), "budget", "amount of money"),
    (dict(budget="20000000"), "budget", "at most 10,000,000"),
    (dict(auto_approve_up_to="100"), "auto_approve_up_to", "without an approver cannot have approval limits"),
    (dict(second_approval_above="500"), "second_approval_above", "without an approver"),
    (dict(name=" "), "name", "Give the team a name"),
    (dict(name="x" * 81), "name", "80 characters at most"),
    (dict(name="FIELD SALES"), "name", "already a team called Field sales"),
    (dict(approver_id="999"), "approver_id", "Choose the approver from the list"),
])
def test_a_refused_team_comes_back_as_typed_with_the_words_beside_the_box(client, login, field_team, fields, box,
                                                                           words):
    login("admin")
    typed = team_form(name="Events", budget="1 500,50")
    typed.update(fields)
    response = client.post("/admin/teams/new", data=typed)
    assert response.status_code == 400
    html = page(response)
    assert words in (error_beside(html, box) or ""), html
    for name in ("name", "budget", "auto_approve_up_to", "second_approval_above"):
        assert value_of(html, name).strip() == typed[name].strip(), name
    assert session_count_teams() == 1


def test_a_refused_change_keeps_what_was_typed_and_changes_nothing(client, login, session, field_team):
    team, manager = field_team
    login("admin")
    form = page(client.get(f"/admin/teams/{team.id}/edit"))
    assert value_of(form, "budget") == "2000.00" and selected(form, "approver_id") == str(manager.id)
    response = client.post(f"/admin/teams/{team.id}/edit", data=team_form(
        name="Field sales West", budget="2500", approver_id=str(manager.id), auto_approve_up_to="500",
        second_approval_above="200"))
    assert response.status_code == 400
    html = page(response)
    assert "must not be below" in error_beside(html, "second_approval_above")
    assert (value_of(html, "name"), value_of(html, "budget"), value_of(html, "auto_approve_up_to")) == (
        "Field sales West", "2500", "500")
    assert selected(html, "approver_id") == str(manager.id)
    db.session.rollback()
    fresh = session.get(Team, team.id)
    assert (fresh.name, fresh.budget, fresh.auto_approve_up_to) == ("Field sales", D("2000.00"), D("150.00"))
    # Now right: saved, renamed, the approver taken away with the limits.
    response = client.post(f"/admin/teams/{team.id}/edit", data=team_form(name="Field sales West", budget=""))
    assert response.status_code == 302
    db.session.rollback()
    fresh = session.get(Team, team.id)
    assert (fresh.name, fresh.budget, fresh.approver_id, fresh.auto_approve_up_to) == (
        "Field sales West", None, None, D("0.00"))


def test_a_team_whose_approver_left_shows_them_so_saving_does_not_drop_them_unseen(client, login, session,
                                                                                     field_team):
    team, manager = field_team
    auth.update_user(session, manager, email=manager.email, name=manager.name, role="rep", active=True)
    login("admin")
    form = page(client.get(f"/admin/teams/{team.id}/edit"))
    assert selected(form, "approver_id") == str(manager.id) and "no longer an active manager" in form
    response = client.post(f"/admin/teams/{team.id}/edit", data=team_form(
        approver_id=str(manager.id), auto_approve_up_to="150"))
    assert response.status_code == 400
    assert "approver must be an active marketing manager" in error_beside(page(response), "approver_id")


def test_delete_asks_first_deletes_a_team_without_requests_and_refuses_one_with_in_words(
        client, login, session, make_user, make_item, field_team):
    used, _manager = field_team
    spare = teams.create_team(session, dict(name="Spare"))
    anna, ben = make_user("rep"), make_user("rep")
    teams.set_team(session, anna, used.id)
    teams.set_team(session, ben, spare.id)
    submission.submit(session, anna, [(make_item("PEN-1", on_hand=5), 1)], purpose="client_meeting",
                      needed_by=date.today() + timedelta(days=3))
    login("admin")
    ask = page(client.get(f"/admin/teams/{spare.id}/delete"))
    assert "Delete Spare?" in ask and "1 member will then be in no team" in ask
    assert session_count_teams() == 2  # asking deletes nothing
    assert client.post(f"/admin/teams/{spare.id}/delete").status_code == 302
    assert [team.name for team in teams.all_teams(session)] == ["Field sales"]
    assert session.get(User, ben.id).team_id is None
    refused = client.post(f"/admin/teams/{used.id}/delete")
    assert refused.status_code == 409
    assert "Field sales has 1 request: a team with requests cannot be deleted" in page(refused)
    assert session_count_teams() == 1 and session.get(User, anna.id).team_id == used.id


def test_the_teams_list_reads_the_same_number_of_statements_for_2_teams_or_20(client, login, session, make_user):
    login("admin")
    manager = make_user("manager")

    def statements():
        with count_queries(db.engine) as counted:
            assert client.get("/admin/teams").status_code == 200
        return counted.count

    for n in range(2):
        teams.create_team(session, dict(name=f"Team {n}", approver_id=manager.id, budget="100"))
    few = statements()
    for n in range(2, 20):
        team = teams.create_team(session, dict(name=f"Team {n}", approver_id=manager.id, budget="100"))
        teams.set_team(session, make_user("rep"), team.id)
    assert statements() == few


# The user form's Team select ----------------------------------------------------------------------------

def test_an_admin_puts_a_user_in_a_team_and_the_users_list_shows_it(client, login, session, make_user, field_team):
    team, _manager = field_team
    login("admin")
    rep = make_user("rep", name="Dana Rep")
    form = page(client.get(f"/admin/users/{rep.id}"))
    assert 'name="team_id"' in form and "Field sales" in form and selected(form, "team_id") in (None, "")
    response = client.post(f"/admin/users/{rep.id}", data={"email": rep.email, "name": "Dana Rep", "role": "rep",
                                                           "team_id": str(team.id), "active": "y"})
    assert response.status_code == 302
    db.session.rollback()
    assert session.get(User, rep.id).team_id == team.id
    listing = page(client.get("/admin/users"))
    assert re.search(r"Dana Rep</strong>\s*<small[^>]*>[^<]*Field sales", listing)
    # A new user, made in a team.
    response = client.post("/admin/users/new", data={"email": "new@example.com", "name": "New", "role": "rep",
                                                     "password": PASSWORD, "team_id": str(team.id), "active": "y"})
    assert response.status_code == 302
    assert session.scalars(select(User).where(User.email == "new@example.com")).one().team_id == team.id


def test_a_refused_user_form_keeps_every_typed_value_and_saves_neither_the_user_nor_the_team(
        client, login, session, make_user, field_team, monkeypatch):
    team, _manager = field_team
    login("admin")
    rep, other = make_user("rep", name="Dana Rep"), make_user("rep")
    typed = {"email": other.email, "name": "Dana Renamed", "role": "manager", "team_id": str(team.id), "active": "y"}
    response = client.post(f"/admin/users/{rep.id}", data=typed)
    assert response.status_code == 400
    html = page(response)
    assert "already exists" in html
    assert (value_of(html, "email"), value_of(html, "name")) == (other.email, "Dana Renamed")
    assert selected(html, "team_id") == str(team.id) and selected(html, "role") == "manager"
    db.session.rollback()
    fresh = session.get(User, rep.id)
    assert (fresh.name, fresh.role, fresh.team_id) == ("Dana Rep", "rep", None)

    # The team refused after the user was saved: one transaction, so the user is not saved either.
    from inventory.errors import NotFound

    def gone(_session, _user, team_id):
        raise NotFound(f"There is no team #{team_id}: choose one from the list.", about=(None, "team_id"))

    monkeypatch.setattr(teams, "set_team", gone)
    response = client.post(f"/admin/users/{rep.id}", data=dict(typed, email=rep.email))
    assert response.status_code == 400
    html = page(response)
    assert f"There is no team #{team.id}" in error_beside(html, "team_id")
    assert value_of(html, "name") == "Dana Renamed"
    db.session.rollback()
    fresh = session.get(User, rep.id)
    assert (fresh.name, fresh.role, fresh.team_id) == ("Dana Rep", "rep", None)
    # A team that is not in the list is refused beside the box.
    monkeypatch.undo()
    response = client.post(f"/admin/users/{rep.id}", data=dict(typed, email=rep.email, team_id="999"))
    assert response.status_code == 400
    assert "Choose the team from the list" in error_beside(page(response), "team_id")


def test_the_users_list_reads_the_same_number_of_statements_for_3_users_or_30(client, login, session, make_user,
                                                                                field_team):
    team, _manager = field_team
    login("admin")

    def statements():
        with count_queries(db.engine) as counted:
            assert client.get("/admin/users").status_code == 200
        return counted.count

    teams.set_team(session, make_user("rep"), team.id)
    few = statements()
    for n in range(27):
        user = make_user("rep")
        if n % 2:
            teams.set_team(session, user, teams.create_team(session, dict(name=f"Team {n}")).id)
    assert statements() == few


# CSV: teams and users ------------------------------------------------------------------------------------

TEAMS = ("name,budget,approver,auto_approve_up_to,second_approval_above\n"
         "Field sales,2500,{manager},200,\n"
         "Inside sales,800,,,\n"
         "Events,lots,,,\n"
         "Partners,100,nobody@example.com,,\n"
         "Gadgets,100,,50,\n"
         "inside SALES,900,,,\n")


def test_the_teams_dry_run_lists_changes_and_every_bad_row_and_writes_nothing(client, login, session,
                                                                               field_team):
    team, manager = field_team
    login("admin")
    response = client.post("/transfer/import/teams", data={"teams-text": TEAMS.format(manager=manager.email)})
    assert response.status_code == 200
    html = page(response)
    assert "Line 4</strong> · Events: The budget must be an amount of money" in html
    assert "Line 5</strong> · Partners: approver 'nobody@example.com': no user has that e-mail" in html
    assert "Line 6</strong> · Gadgets: A team without an approver cannot have approval limits" in html
    assert "Line 7</strong> · inside SALES: the team inside SALES is on line 3 too" in html
    assert "budget: 2000.00 → 2500.00" in html and "approved at once up to: 150.00 → 200.00" in html
    assert "Inside sales" in html and "budget 800.00; no approver" in html
    assert "nothing is imported until" in html and "Import 6 rows" not in html
    assert session_count_teams() == 1 and session.get(Team, team.id).budget == D("2000.00")
    # The good rows alone: checked, then imported.
    good = "\n".join(TEAMS.format(manager=manager.email).splitlines()[:3])
    response = client.post("/transfer/import/teams", data={"teams-text": good})
    html = page(response)
    assert "Import 2 rows" in html
    content = re.search(r'name="content" type="hidden" value="([^"]+)"|type="hidden" name="content" value="([^"]+)"',
                        response.get_data(as_text=True))
    packed = content.group(1) or content.group(2)
    assert session_count_teams() == 1
    done = client.post("/transfer/import/teams/confirm", data={"content": packed, "filename": "teams.csv"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/teams")
    db.session.rollback()
    assert {t.name: (t.budget, t.approver_id, t.auto_approve_up_to) for t in teams.all_teams(session)} == {
        "Field sales": (D("2500.00"), manager.id, D("200.00")), "Inside sales": (D("800.00"), None, D("0.00"))}


def test_a_teams_file_applies_all_or_nothing_and_exports_to_what_re_imports_unchanged(session, field_team):
    team, manager = field_team
    with pytest.raises(ImportRefused) as refused:
        people.import_teams(session, TEAMS.format(manager=manager.email))
    assert len(refused.value.report.bad_rows) == 4
    assert session_count_teams() == 1 and session.get(Team, team.id).budget == D("2000.00")
    report = people.import_teams(session, "name,budget\nField sales,3000\nNew team,\n")
    assert report.written and report.summary() == "1 new team(s), 1 changed, 0 unchanged"
    db.session.rollback()
    kept = session.get(Team, team.id)
    assert (kept.budget, kept.approver_id, kept.auto_approve_up_to) == (D("3000.00"), manager.id, D("150.00"))
    exported = people.team_import.teams_csv(session)
    again = people.import_teams(session, transfer.read_upload(exported.encode("utf-8-sig")), dry_run=True)
    assert again.ok and again.counts["unchanged"] == 2 and not again.changes


USERS = ("email,name,role,team,active,password\n"
         "dana@example.com,Dana Rep,rep,Field sales,yes,dana-secret-123\n"
         "{rep},,manager,,,\n"
         "nopass@example.com,No Pass,rep,,,\n"
         "short@example.com,Short,rep,,,abc\n"
         "ghost@example.com,Ghost,rep,Nowhere,,ghost-secret-1\n"
         "{admin},,rep,,,\n"
         "not-an-email,,,,,\n"
         "DANA@example.com,Dana again,,,,dana-secret-123\n"
         "king@example.com,King,emperor,,maybe,king-secret-12\n")


def test_the_users_dry_run_lists_every_bad_row_shows_no_password_and_writes_nothing(client, login, session,
                                                                                     make_user, field_team):
    admin = login("admin", email="boss@example.com")
    rep = make_user("rep", email="rep@example.com")
    response = client.post("/transfer/import/users", data={"users-text": USERS.format(rep=rep.email,
                                                                                       admin=admin.email)})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = page(response)
    bad = dict(re.findall(r"<strong>Line (\d+)</strong>[^:]*: ([^<]+)</li>", html))
    assert sorted(map(int, bad)) == [4, 5, 6, 7, 8, 9, 10]
    assert "a new user needs a password" in bad["4"] and "the password has 3 characters; 8 at least" in bad["5"]
    assert "team 'Nowhere': no team has that name" in bad["6"]
    assert "you cannot take away your own admin role" in bad["7"]
    assert "'not-an-email' is not an e-mail address" in bad["8"]
    assert "dana@example.com is on line 2 too" in bad["9"]
    assert "role 'emperor' is not one of" in bad["10"] and "active 'maybe' must be yes or no" in bad["10"]
    assert "Dana Rep; Sales rep; team Field sales; active; with the password in the file" in html
    assert "role: Sales rep → Marketing manager" in html and "team: (empty)" not in html
    assert "dana-secret-123" not in html and "ghost-secret-1" not in html
    assert count(session, User) == 3  # the admin, the rep, the team's manager
    assert session.get(User, rep.id).role == "rep"


def test_a_users_file_creates_users_who_can_log_in_changes_others_and_is_all_or_nothing(
        client, auth_client, login, session, make_user, field_team):
    team, _manager = field_team
    admin = login("admin", email="boss@example.com")
    rep = make_user("rep", email="rep@example.com")
    with pytest.raises(ImportRefused):
        people.import_users(session, USERS.format(rep=rep.email, admin=admin.email), admin)
    assert count(session, User) == 3
    text = ("email,name,role,team,active,password\n"
            "dana@example.com,Dana Rep,,Field sales,,dana-secret-123\n"
            "quiet@example.com,Quiet,staff,,no,quiet-secret-12\n"
            f"{rep.email},Renamed Rep,,Field sales,,ignored-for-existing\n")
    response = client.post("/transfer/import/users", data={"users-text": text})
    packed = re.search(r'value="([^"]+)"[^>]*name="content"|name="content"[^>]*value="([^"]+)"',
                       response.get_data(as_text=True))
    done = client.post("/transfer/import/users/confirm", data={"content": packed.group(1) or packed.group(2),
                                                               "filename": "users.csv"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/users")
    db.session.rollback()
    dana = session.scalars(select(User).where(User.email == "dana@example.com")).one()
    quiet = session.scalars(select(User).where(User.email == "quiet@example.com")).one()
    fresh = session.get(User, rep.id)
    assert (dana.name, dana.role, dana.team_id, dana.active) == ("Dana Rep", "rep", team.id, True)
    assert (quiet.role, quiet.active, quiet.team_id) == ("staff", False, None)
    assert (fresh.name, fresh.team_id) == ("Renamed Rep", team.id)
    auth_client.logout()
    assert auth_client.login("dana@example.com", "dana-secret-123").status_code == 302  # the file's password
    auth_client.logout()
    assert auth_client.login(rep.email, "ignored-for-existing").status_code != 302  # theirs is kept
    assert auth_client.login(rep.email, PASSWORD).status_code == 302
    # Exported (no passwords) and checked again: nothing to change.
    exported = people.user_import.users_csv(session)
    assert "secret" not in exported and "password" not in exported
    again = people.import_users(session, transfer.read_upload(exported.encode("utf-8-sig")), admin, dry_run=True)
    assert again.ok and not again.changes


def test_only_admins_import_teams_and_users(client, login, auth_client):
    for role in ("manager", "staff", "rep"):
        login(role)
        assert client.get("/transfer/people").status_code == 403
        assert client.post("/transfer/import/teams", data={"teams-text": "name\nX\n"}).status_code == 403
        assert client.post("/transfer/import/users/confirm", data={"content": ""}).status_code == 403
        assert client.get("/transfer/export/users.csv").status_code == 403
        auth_client.logout()
    login("admin")
    assert "Import teams" in page(client.get("/transfer/people"))
    assert client.get("/transfer/template/users.csv").get_data(as_text=True).startswith("\ufeffemail,name,role")
    assert session_count_teams() == 0


# An item's expected loss rate -----------------------------------------------------------------------------

def test_the_item_form_takes_an_expected_loss_rate_and_refuses_one_past_100_beside_the_box(client, login, session,
                                                                                           make_item):
    login("manager")
    make_item("BANNER-1", category="display", returnable=True)
    form = page(client.get("/i/BANNER-1/edit"))
    assert "Expected loss rate (%)" in form and value_of(form, "loss_rate") == "0"
    fields = {"unit": "each", "unit_cost": "95.00", "lead_time_days": "0", "reorder_point": "0",
              "reorder_quantity": "0", "returnable": "y", "notes": ""}
    response = client.post("/i/BANNER-1/edit", data=dict(fields, loss_rate="120", supplier="Banners Inc"))
    assert response.status_code == 400
    html = page(response)
    assert "must be from 0 to 100" in error_beside(html, "loss_rate")
    assert (value_of(html, "loss_rate"), value_of(html, "supplier")) == ("120", "Banners Inc")
    db.session.rollback()
    assert session.scalars(select(Item).where(Item.sku == "BANNER-1")).one().loss_rate == 0
    assert client.post("/i/BANNER-1/edit", data=dict(fields, loss_rate="15 %")).status_code == 302
    db.session.rollback()
    assert session.scalars(select(Item).where(Item.sku == "BANNER-1")).one().loss_rate == 15
    assert "Expected loss rate" in page(client.get("/i/BANNER-1")) and "15 %" in page(client.get("/i/BANNER-1"))
    # A new product with one.
    response = client.post("/catalog/new", data=dict(fields, name="Booth", category="display", sku="BOOTH-1",
                                                     loss_rate="5"))
    assert response.status_code == 302
    assert session.scalars(select(Item).where(Item.sku == "BOOTH-1")).one().loss_rate == 5


def test_the_items_csv_reads_and_writes_loss_rate(session, make_item):
    make_item("BANNER-1", category="display", returnable=True, loss_rate=10)
    header = "sku,product,category,returnable,loss_rate\n"
    report = transfer.import_items(session, header + "BANNER-1,Item BANNER-1,display,yes,25\n"
                                                      "BOOTH-1,Booth,display,yes,150\n"
                                                      "BOOTH-2,Booth two,display,yes,ten\n"
                                                      "BOOTH-3,Booth three,display,yes,5 %\n", dry_run=True)
    bad = {row.line: row.reason for row in report.bad_rows}
    assert "loss rate '150' must be from 0 to 100" in bad[3] and "loss rate 'ten' is not a whole percentage" in bad[4]
    assert any(("loss rate", "10", "25") in change.details for change in report.changes)
    transfer.import_items(session, header + "BANNER-1,Item BANNER-1,display,yes,25\nBOOTH-3,Booth three,display,yes,5\n")
    db.session.rollback()
    rates = dict(session.execute(select(Item.sku, Item.loss_rate)).tuples().all())
    assert rates == {"BANNER-1": 25, "BOOTH-3": 5}
    exported = exports.items_csv(session)
    assert "loss_rate" in exported.splitlines()[0]
    again = transfer.import_items(session, transfer.read_upload(exported.encode("utf-8-sig")), dry_run=True)
    assert again.ok and not again.changes


# The API --------------------------------------------------------------------------------------------------

def bearer(session, user):
    return {"Authorization": f"Bearer {auth.create_token(session, user, 'test')[1]}"}


def test_the_teams_api_gives_budget_committed_spent_and_left_for_the_period(client, session, make_user, make_item,
                                                                           field_team):
    team, manager = field_team
    other = teams.create_team(session, dict(name="Inside sales"))
    rep = make_user("rep")
    teams.set_team(session, rep, team.id)
    soon = date.today() + timedelta(days=1)
    period = budget_period(soon, "quarter")
    submission.submit(session, rep, [(make_item("PEN-1", on_hand=50, unit_cost="2.50"), 40)], purpose="client_meeting",
                      needed_by=soon)
    headers = bearer(session, manager)
    key = period_key(period, "quarter")
    listing = client.get(f"/api/v1/teams?period={key}", headers=headers)
    assert listing.status_code == 200
    data = listing.get_json()
    assert [t["name"] for t in data["teams"]] == ["Field sales", "Inside sales"] and data["total"] == 2
    field = data["teams"][0]
    assert (field["budget"], field["committed"], field["spent"], field["left"]) == ("2000.00", "100.00", "0.00",
                                                                                    "1900.00")
    assert field["period"] == {"kind": "quarter", "key": key, "name": field["period"]["name"],
                               "first_day": period.first.isoformat(), "last_day": period.last.isoformat()}
    assert field["approver"] == manager.email and field["members"] == 1 and field["currency"]
    assert field["limits"] == {"auto_approve_up_to": "150.00", "second_approval_above": None}
    one = client.get(f"/api/v1/teams/{other.id}?period={key}", headers=headers).get_json()
    assert (one["budget"], one["committed"], one["left"], one["approver"]) == (None, "0.00", None, None)
    # Another period: nothing committed in it.
    later = client.get(f"/api/v1/teams/{team.id}?period={period.first.year + 1}-Q1", headers=headers).get_json()
    assert later["committed"] == "0.00" and later["period"]["key"] == f"{period.first.year + 1}-Q1"


def test_the_teams_api_lets_a_rep_read_their_own_team_only_and_refuses_in_words(client, session, make_user,
                                                                               field_team):
    team, _manager = field_team
    other = teams.create_team(session, dict(name="Inside sales"))
    rep, loner = make_user("rep"), make_user("rep")
    teams.set_team(session, rep, team.id)
    mine = bearer(session, rep)
    assert [t["name"] for t in client.get("/api/v1/teams", headers=mine).get_json()["teams"]] == ["Field sales"]
    assert client.get(f"/api/v1/teams/{team.id}", headers=mine).status_code == 200
    refused = client.get(f"/api/v1/teams/{other.id}", headers=mine)
    assert refused.status_code == 403 and "only their own team" in refused.get_json()["error"]
    assert client.get("/api/v1/teams", headers=bearer(session, loner)).get_json()["teams"] == []
    staff = client.get("/api/v1/teams", headers=bearer(session, make_user("staff")))
    assert staff.status_code == 403 and staff.get_json()["error"]
    admin = bearer(session, make_user("admin"))
    missing = client.get("/api/v1/teams/999", headers=admin)
    assert missing.status_code == 404 and missing.get_json()["error"].startswith("No team has the id 999")
    bad = client.get("/api/v1/teams?period=next-year", headers=admin)
    assert bad.status_code == 400 and "Unknown budget period 'next-year'" in bad.get_json()["error"]
    assert client.get("/api/v1/teams").status_code == 401
