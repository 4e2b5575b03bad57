"""The managers' view of spend: the Budgets page and its CSV (every team's budget, committed,
spent and left in a period, the requests of people in no team, a chart per week), and events
with budgets (the form's Budget box, the event page's expected cost, Reports and the API).
Amounts worked out on paper."""
import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from inventory.auth.services import create_token
from inventory.budgets import services as teams
from inventory.budgets.event_spend import event_cost, expected_costs
from inventory.budgets.overview import budgets_overview, weeks_of
from inventory.budgets.periods import budget_period, period_key, period_name, shifted
from inventory.events import services as events
from inventory.events.models import Event
from inventory.extensions import db
from inventory.querycount import count_queries
from inventory.requests import fulfilment, handover, review, submission

TODAY = date.today()
SOON = TODAY + timedelta(days=3)
PERIOD = budget_period(SOON, "quarter")
KEY, NAME = period_key(PERIOD, "quarter"), period_name(PERIOD, "quarter")


def D(text):
    return Decimal(text)


def read_csv(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def submit(session, user, lines, needed_by=SOON, **details):
    details.setdefault("purpose", "client_meeting")
    if any(item.returnable for item, _n in lines):
        details.setdefault("return_by", needed_by + timedelta(days=2))
    return submission.submit(session, user, lines, needed_by=needed_by, **details)


@pytest.fixture
def spend(session, make_user, make_item):
    """Two teams and a rep in none, in the quarter of SOON.

    Field sales (budget 2,000.00, approver Morgan): Anna asks 50 pens at 1.20 (60.00) and
    12 polos at 12.50 (150.00) -> 210.00 committed, 1,790.00 left.
    Inside sales (budget 100.00, no approver): Ben asks 100 pens (120.00) -> over by 20.00; a
    request of his for 40 pens is cancelled (counts nothing), one for 7 pens is needed next
    quarter (counts there).
    No team: Carl asks 10 pens -> 12.00.
    """
    morgan = make_user("manager", name="Morgan Marketing")
    field = teams.create_team(session, dict(name="Field sales", budget="2000", approver_id=morgan.id))
    inside = teams.create_team(session, dict(name="Inside sales", budget="100"))
    anna, ben, carl = make_user("rep", name="Anna"), make_user("rep", name="Ben"), make_user("rep", name="Carl")
    teams.set_team(session, anna, field.id)
    teams.set_team(session, ben, inside.id)
    pens = make_item("PEN-1", on_hand=1000, unit_cost="1.20")
    polos = make_item("POLO-1", on_hand=20, unit_cost="12.50")
    first = submit(session, anna, [(pens, 50), (polos, 12)])
    submit(session, ben, [(pens, 100)])
    cancelled = submit(session, ben, [(pens, 40)])
    review.cancel(session, cancelled.id, ben)
    later = submit(session, ben, [(pens, 7)], needed_by=PERIOD.last + timedelta(days=1))
    submit(session, carl, [(pens, 10)])
    return dict(morgan=morgan, field=field, inside=inside, anna=anna, ben=ben, pens=pens, polos=polos,
                first=first, later=later)


# The page's rule ------------------------------------------------------------------------------

def test_every_team_with_its_budget_committed_spent_and_left_and_those_in_no_team(session, spend):
    view = budgets_overview(session, "quarter", PERIOD, TODAY)
    rows = {row.name: row for row in view.rows}
    assert list(rows) == ["Field sales", "Inside sales"]
    field, inside = rows["Field sales"], rows["Inside sales"]
    assert (field.spend.budget, field.spend.committed, field.spend.spent, field.spend.left) == (
        D("2000.00"), D("210.00"), D("0.00"), D("1790.00"))
    assert (field.members, field.spend.used, field.over_by, field.bar) == (1, 10, D("0"), 10.0)
    assert (inside.spend.committed, inside.spend.left, inside.spend.over, inside.over_by, inside.bar) == (
        D("120.00"), D("-20.00"), True, D("20.00"), 100.0)
    assert (view.no_team.name, view.no_team.spend.committed, view.no_team.spend.budget) == (
        "Not in a team", D("12.00"), None)
    assert (view.total.budget, view.total.committed, view.total.left) == (D("2100.00"), D("330.00"), D("1770.00"))
    # The next quarter holds Ben's 7 pens (8.40) and nothing else.
    following = budgets_overview(session, "quarter", shifted(PERIOD, "quarter", 1), TODAY)
    assert [(row.name, row.spend.committed) for row in following.rows] == [
        ("Field sales", D("0.00")), ("Inside sales", D("8.40"))]


def test_the_weekly_chart_puts_each_request_in_the_week_of_its_needed_by_date(session, spend):
    view = budgets_overview(session, "quarter", PERIOD, TODAY)
    weeks = weeks_of(PERIOD)
    assert weeks[0].first == PERIOD.first and weeks[-1].last == PERIOD.last
    assert all(week.first.weekday() == 0 for week in weeks[1:]) and all(w.last.weekday() == 6 for w in weeks[:-1])
    soon_week = next(n for n, week in enumerate(weeks) if week.first <= SOON <= week.last)
    field = view.rows[0]
    assert field.weekly[soon_week] == D("210.00") and sum(field.weekly) == D("210.00")
    assert len(field.chart.columns) == len(weeks) and field.chart.top == D("210.00")
    assert field.chart.columns[soon_week].height == 100.0


def test_handed_over_counts_as_spent_and_released_units_leave_it(session, spend, stock_user, make_bin):
    first, morgan = spend["first"], spend["morgan"]
    review.approve(session, first.id, morgan)
    lines = {line.item_id: line for line in first.lines}
    # 50 pens and 10 of the 12 polos picked; the 2 polos not found are released short.
    polo_line = lines[spend["polos"].id].id
    fulfilment.pick(session, first.id, make_bin("A-01"), {lines[spend["pens"].id].id: 50, polo_line: 10},
                    stock_user())
    fulfilment.release_unpicked(session, first.id, [polo_line], stock_user())
    handover.hand_over(session, first.id, stock_user())
    field = budgets_overview(session, "quarter", PERIOD, TODAY).rows[0]
    # 60.00 + 10 x 12.50 = 185.00 spent, and that is all that is committed now.
    assert (field.spend.committed, field.spend.spent, field.spend.left) == (D("185.00"), D("185.00"), D("1815.00"))


# The page --------------------------------------------------------------------------------------

def test_the_page_shows_each_teams_numbers_and_over_in_words(client, login, spend):
    login("manager")
    response = client.get(f"/budgets?period={KEY}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    field = html.split('id="team-1"')[1].split("</section>")[0]
    assert "Field sales" in field and "$1,790.00 left" in field and "of $2,000.00" in field
    assert "$210.00" in field and "approver Morgan Marketing" in field and "1 person" in field
    assert 'aria-label="10 % of the budget committed"' in field and 'width="10.0"' in field
    inside = html.split('id="team-2"')[1].split("</section>")[0]
    assert "Over by $20.00" in inside and "no approver" in inside and 'width="100.0"' in inside
    no_team = html.split('id="team-3"')[1].split("</section>")[0]
    assert "Not in a team" in no_team and "$12.00" in no_team
    assert f"<small class=\"muted\">{NAME}</small>" in html
    # The period switch: the quarters either side, each a link that opens it.
    previous, following = shifted(PERIOD, "quarter", -1), shifted(PERIOD, "quarter", 1)
    assert f'href="/budgets?period={period_key(previous, "quarter")}"' in html
    assert f'href="/budgets?period={period_key(following, "quarter")}"' in html
    assert f'href="/budgets.csv?period={KEY}"' in html
    later = client.get(f"/budgets?period={period_key(following, 'quarter')}").get_data(as_text=True)
    assert "$8.40" in later and "$210.00" not in later


def test_the_csv_has_the_same_table(client, login, spend):
    login("admin")
    rows = read_csv(client.get(f"/budgets.csv?period={KEY}"))
    first, last = PERIOD.first.isoformat(), PERIOD.last.isoformat()
    assert rows == [
        ["team", "approver", "members", "period", "from", "to", "budget", "committed", "spent", "left", "over by",
         "used %"],
        ["Field sales", "Morgan Marketing", "1", NAME, first, last, "2000.00", "210.00", "0.00", "1790.00", "", "10"],
        ["Inside sales", "", "1", NAME, first, last, "100.00", "120.00", "0.00", "-20.00", "20.00", "120"],
        ["All teams", "", "2", NAME, first, last, "2100.00", "330.00", "0.00", "1770.00", "", "15"],
        ["Not in a team", "", "", NAME, first, last, "", "12.00", "0.00", "", "", ""],
    ]
    response = client.get(f"/budgets.csv?period={KEY}")
    assert f'filename="budgets_{KEY}.csv"' in response.headers["Content-Disposition"]


def test_a_team_name_that_looks_like_a_formula_arrives_as_text(client, login, session):
    login("manager")
    teams.create_team(session, dict(name='=HYPERLINK("http://evil.example")', budget="10"))
    rows = read_csv(client.get("/budgets.csv"))
    assert rows[1][0] == "'=HYPERLINK(\"http://evil.example\")"
    assert "=HYPERLINK(&#34;http://evil.example&#34;)" in client.get("/budgets").get_data(as_text=True)


@pytest.mark.parametrize("role", ["rep", "staff"])
def test_reps_and_staff_may_not_see_budgets(client, login, role):
    login(role)
    for url in ("/budgets", "/budgets.csv", f"/budgets?period={KEY}"):
        assert client.get(url).status_code == 403, url


def test_managers_and_admins_find_budgets_in_the_plan_menu_and_on_today(client, login):
    assert client.get("/budgets").status_code == 302  # not logged in: to the login page
    login("manager")
    today = client.get("/today").get_data(as_text=True)
    assert 'href="/budgets"' in today
    assert 'href="/budgets"' in client.get("/reports").get_data(as_text=True)
    client.post("/logout")
    login("rep")
    assert 'href="/budgets"' not in client.get("/today").get_data(as_text=True)


@pytest.mark.parametrize("period", ["2027-Q5", "Q1", "banana", "1999-Q4", "2026-12", "2026-Q1x"])
def test_a_bad_period_is_a_400_in_words(client, login, period):
    login("manager")
    response = client.get(f"/budgets?period={period}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    example = period_key(budget_period(TODAY, "quarter"), "quarter")
    assert f"Unknown budget period &#39;{period}&#39;: write it as {example}." in html and 'role="alert"' in html
    assert 'href="/budgets?period=' in html  # back to this period
    response = client.get(f"/budgets.csv?period={period}")
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert "write it as" in response.get_data(as_text=True)


def test_budget_period_month_names_months(client, login, app, spend):
    app.config["BUDGET_PERIOD"] = "month"
    login("manager")
    month = budget_period(SOON, "month")
    html = client.get(f"/budgets?period={month.first:%Y-%m}").get_data(as_text=True)
    assert f"{month.first:%B %Y}" in html and "$1,790.00 left" in html
    assert client.get(f"/budgets?period={KEY}").status_code == 400  # a quarter is no month
    app.config["BUDGET_PERIOD"] = "year"
    assert client.get(f"/budgets?period={SOON.year}").status_code == 200


def test_the_page_sends_as_many_statements_for_many_teams_as_for_one(client, login, session, make_user, make_item):
    manager = login("manager")
    pens = make_item("PEN-1", on_hand=1000, unit_cost="1.00")

    def add_team(n):
        team = teams.create_team(session, dict(name=f"Team {n}", budget="500", approver_id=manager.id))
        rep = make_user("rep")
        teams.set_team(session, rep, team.id)
        submit(session, rep, [(pens, 5)], needed_by=SOON + timedelta(days=n % 20))

    def statements():
        client.get(f"/budgets?period={KEY}")
        with count_queries(db.engine) as counted:
            assert client.get(f"/budgets?period={KEY}").status_code == 200
        with count_queries(db.engine) as csv_counted:
            assert client.get(f"/budgets.csv?period={KEY}").status_code == 200
        return counted.count, csv_counted.count

    add_team(0)
    few = statements()
    for n in range(1, 8):
        add_team(n)
    assert statements() == few


# Event budgets ----------------------------------------------------------------------------------

def _event_form(**changes):
    start = TODAY + timedelta(days=30)
    form = dict(name="Expo Nord", place="Hamburg", starts_on=start.isoformat(),
                ends_on=(start + timedelta(days=2)).isoformat(), ship_by=(start - timedelta(days=5)).isoformat(),
                return_by="", notes="Booth B-214", budget="5,000")
    form.update(changes)
    return form


@pytest.mark.parametrize("typed, words", [
    ("12.345", "The budget can have at most two decimals (cents)."),
    ("-5", "The budget cannot be negative."),
    ("lots", "The budget must be an amount of money, like 2,000 or 2000.50."),
    ("10000000.01", "The budget must be at most 10,000,000."),
    ("NaN", "The budget must be an amount of money"),
])
def test_a_refused_budget_says_why_next_to_the_box_and_keeps_what_was_typed(client, login, session, typed, words):
    login("manager")
    response = client.post("/events/new", data=_event_form(budget=typed, name="Expo <Nord>"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    box = html.split('for="budget"')[1].split("</label>")[0]
    assert words in box and 'class="field-error"' in box and 'aria-invalid="true"' in box
    assert f'value="{typed}"' in box
    assert 'value="Expo &lt;Nord&gt;"' in html and "Booth B-214" in html  # the rest as typed
    assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_a_budget_is_saved_as_typed_kept_when_the_event_changes_and_cleared_when_emptied(client, login, session):
    login("manager")
    response = client.post("/events/new", data=_event_form(budget="4,500.50"))
    assert response.status_code == 302
    event = session.scalars(select(Event)).one()
    assert event.budget == D("4500.50")
    edit = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert 'value="4500.50"' in edit.split('for="budget"')[1]
    # A bad budget on the edit form changes nothing, the name typed beside it included.
    response = client.post(f"/events/{event.id}/edit", data=_event_form(name="Expo Nord 2", budget="1.001"))
    assert response.status_code == 400 and 'value="Expo Nord 2"' in response.get_data(as_text=True)
    session.expire_all()
    assert (session.get(Event, event.id).name, session.get(Event, event.id).budget) == ("Expo Nord", D("4500.50"))
    assert client.post(f"/events/{event.id}/edit", data=_event_form(budget="")).status_code == 302
    session.expire_all()
    assert session.get(Event, event.id).budget is None


def test_the_rule_keeps_the_budget_unless_told_and_refuses_it_naming_the_box(session, make_user):
    manager = make_user("manager")
    fields = dict(name="Fair", starts_on=TODAY + timedelta(days=10), ends_on=TODAY + timedelta(days=10),
                  ship_by=TODAY + timedelta(days=8))
    event = events.create_event(session, manager, budget="750", **fields)
    events.update_event(session, event.id, manager, **dict(fields, name="Fair 2"))
    assert session.get(Event, event.id).budget == D("750.00")
    with pytest.raises(Exception, match="cannot be negative") as refused:
        events.update_event(session, event.id, manager, budget="-1", **fields)
    assert refused.value.about == (None, "budget")
    session.rollback()
    assert session.get(Event, event.id).budget == D("750.00")


@pytest.fixture
def show(session, make_user, make_item, make_bin, stock_user):
    """Expo Nord with a 500.00 budget: a kit-like request of a banner (400.00, 15 % loss: 60.00
    expected) and 200 brochures at 1.50 (300.00), handed over; a rep's 100 pens at 1.20 (120.00)
    held; a rejected request of 300 brochures counts nothing. Expected: 480.00, 20.00 left;
    then 50 more pens (60.00) put it over by 40.00."""
    manager, rep = make_user("manager"), make_user("rep")
    event = events.create_event(session, manager, name="Expo Nord", starts_on=TODAY + timedelta(days=10),
                                ends_on=TODAY + timedelta(days=11), ship_by=TODAY + timedelta(days=5),
                                return_by=TODAY + timedelta(days=14), budget="500")
    banner = make_item("BANNER-1", on_hand=2, unit_cost="400.00", returnable=True, loss_rate=15)
    brochures = make_item("BRO-1", on_hand=1000, unit_cost="1.50", category="print")
    pens = make_item("PEN-1", on_hand=1000, unit_cost="1.20")
    booth = submit(session, manager, [(banner, 1), (brochures, 200)], needed_by=event.ship_by,
                   return_by=event.return_by, purpose="trade_show", event_id=event.id)
    review.approve(session, booth.id, manager)
    fulfilment.pick(session, booth.id, make_bin("A-01"), {line.id: line.reserved for line in booth.lines}, stock_user())
    handover.hand_over(session, booth.id, stock_user())
    submit(session, rep, [(pens, 100)], needed_by=event.ship_by, purpose="trade_show", event_id=event.id)
    rejected = submit(session, rep, [(brochures, 300)], needed_by=event.ship_by, purpose="trade_show",
                      event_id=event.id)
    review.reject(session, rejected.id, manager, "Too many")
    return dict(event=event, rep=rep, pens=pens, manager=manager)


def test_an_events_expected_cost_is_what_its_requests_hold_and_handed_over(session, show):
    cost = event_cost(session, show["event"])
    assert (cost.budget, cost.expected, cost.left, cost.over, cost.used) == (
        D("500.00"), D("480.00"), D("20.00"), False, 96)
    other = events.create_event(session, show["manager"], name="Quiet show", starts_on=TODAY + timedelta(days=3),
                                ends_on=TODAY + timedelta(days=3), ship_by=TODAY + timedelta(days=1))
    assert expected_costs(session, [show["event"].id, other.id]) == {show["event"].id: D("480.00"),
                                                                    other.id: D("0.00")}
    assert event_cost(session, other).budget is None and not event_cost(session, other).over


def test_the_event_page_shows_expected_cost_against_budget_and_over_in_words(client, login, session, show):
    login("rep")
    html = client.get(f"/events/{show['event'].id}").get_data(as_text=True)
    part = html.split('id="cost-heading"')[1].split("</section>")[0]
    assert "$480.00" in part and "of its $500.00 budget" in part and "$20.00 left" in part
    assert 'aria-label="96 % of the budget"' in part
    submit(session, show["rep"], [(show["pens"], 50)], needed_by=show["event"].ship_by, purpose="trade_show",
           event_id=show["event"].id)
    part = client.get(f"/events/{show['event'].id}").get_data(as_text=True).split('id="cost-heading"')[1]
    assert "$540.00" in part and "over by $40.00" in re.sub(r"\s+", " ", part.split("</section>")[0])


def test_the_events_api_gives_budget_and_expected_cost_and_takes_a_budget(client, session, show):
    token = create_token(session, show["manager"])[1]
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/events", headers=headers).get_json()["events"]
    assert [(e["name"], e["budget"], e["expected_cost"], e["currency"]) for e in listed] == [
        ("Expo Nord", "500.00", "480.00", "USD")]
    one = client.get(f"/api/v1/events/{show['event'].id}", headers=headers).get_json()
    assert (one["budget"], one["expected_cost"]) == ("500.00", "480.00")
    start = TODAY + timedelta(days=40)
    body = dict(name="Summit", starts_on=start.isoformat(), ends_on=start.isoformat(), ship_by=start.isoformat())
    made = client.post("/api/v1/events", json=dict(body, budget="2,500.50"), headers=headers)
    assert made.status_code == 201 and made.get_json()["budget"] == "2500.50"
    assert made.get_json()["expected_cost"] == "0.00"
    for wrong, words in (("-3", "cannot be negative"), (True, "amount of money"), ([1], "amount of money"),
                         (12.345, "two decimals")):
        refused = client.post("/api/v1/events", json=dict(body, name="Other", budget=wrong), headers=headers)
        assert refused.status_code == 400 and words in refused.get_json()["error"], wrong
    assert client.post("/api/v1/events", json=dict(body, name="No budget"), headers=headers).get_json()["budget"] is None
    assert session.scalar(select(func.count()).select_from(Event)) == 3


# The demo ------------------------------------------------------------------------------------------

def test_the_demo_has_teams_with_budgets_so_a_fresh_install_shows_them(runner, client, session):
    from inventory.auth.models import User
    from inventory.requests.models import Request

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    client.post("/login", data={"email": "manager@example.com", "password": "demo-manager-2026"})
    html = client.get("/budgets").get_data(as_text=True)
    for name, budget in (("Field sales", "$2,000.00"), ("Partner sales", "$500.00"), ("Events and brand", "$3,000.00")):
        card = html.split(f">{name}</h2>")[1].split("</section>")[0]
        assert budget in card and "approver Morgan Marketing" in card and "1 person" in card
    riley = session.scalars(select(User).where(User.email == "rep@example.com")).one()
    stamped = session.scalars(select(Request.team_id).where(Request.requester_id == riley.id)).all()
    assert stamped and set(stamped) == {riley.team_id} and teams.get_team(session, riley.team_id).name == "Field sales"
    # Last month's partner day: 95.00 for the banner lost + 132.00 brochures + 58.00 polos
    # + 67.50 pens = 352.50 against its 300.00.
    past = session.scalars(select(Event).where(Event.name == "Autumn partner day")).one()
    page = re.sub(r"\s+", " ", client.get(f"/events/{past.id}").get_data(as_text=True))
    assert "$352.50 of its $300.00 budget: over by $52.50" in re.sub(r"<[^>]+>", "", page)


def test_the_large_seed_has_teams_with_budgets_and_requests_stamped_with_them(session):
    from inventory.auth.models import User
    from inventory.budgets.models import Team
    from inventory.demo_large import seed_large
    from inventory.requests.models import Request

    seed_large(session, scale=0.01)
    all_teams = session.scalars(select(Team).order_by(Team.id)).all()
    assert len(all_teams) >= 3 and sum(team.budget is not None for team in all_teams) >= 3
    assert all(team.approver is not None and team.approver.role == "manager" for team in all_teams)
    members = dict(session.execute(select(User.id, User.team_id).where(User.role == "rep")).tuples().all())
    assert set(members.values()) >= {team.id for team in all_teams}
    mismatched = session.scalar(select(func.count()).select_from(Request).join(User, Request.requester_id == User.id)
                                .where(User.role == "rep", Request.team_id.is_distinct_from(User.team_id)))
    assert mismatched == 0
    assert session.scalar(select(func.count()).select_from(Request).where(Request.team_id.is_not(None))) > 0
    view = budgets_overview(session, "quarter", budget_period(TODAY), TODAY)
    assert any(row.spend.committed > 0 for row in view.rows)
