"""What the rep sees of values and budgets (budgets/standing.py): each line's value and the total
as the request is put together, the team's "$420.00 of $2,000.00 left this quarter" and what the
request would leave; the same on the request page and the Today page, and `value` and `team` in
the API's request JSON. The rules directly, the pages through the test client.

Amounts worked out on paper. The team "Field sales" has $2,000.00 a period; a teammate's request
for 1,580 pens at $1.00, needed today, leaves $420.00 this quarter."""
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from inventory.budgets import services as teams
from inventory.budgets import standing
from inventory.budgets.periods import budget_period, period_name, shifted
from inventory.budgets.spend import Spend
from inventory.catalog.models import Item
from inventory.extensions import db
from inventory.querycount import count_queries
from inventory.requests import drafts, submission
from inventory.requests.models import Request, RequestLine

TODAY = date.today()
THIS_QUARTER = budget_period(TODAY, "quarter")
NEXT_QUARTER = shifted(THIS_QUARTER, "quarter", 1)


def D(text):
    return Decimal(text)


def text_of(html):
    """The page's text as a reader sees it: tags out, spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" .", ".").replace(" :", ":")


def submit(session, user, lines, needed_by=TODAY, **details):
    details.setdefault("purpose", "client_meeting")
    if any(item.returnable for item, _n in lines):
        details.setdefault("return_by", needed_by + timedelta(days=2))
    return submission.submit(session, user, lines, needed_by=needed_by, **details)


@pytest.fixture
def shop(session, make_user, make_item):
    """A team with a budget of 2,000.00, a teammate who committed 1,580.00 of it this quarter,
    and items to ask for: polos at 12.50, pens at 1.00, a banner at 400.00 with a 15 % loss rate."""
    manager = make_user("manager", email="boss@example.com")
    team = teams.create_team(session, dict(name="Field sales", budget="2000", approver_id=manager.id))
    mate = make_user("rep", email="mate@example.com")
    teams.set_team(session, mate, team.id)
    items = dict(polo=make_item("POLO-1", name="Polo", on_hand=100, unit_cost="12.50"),
                 pen=make_item("PEN-1", name="Pen", on_hand=5000, unit_cost="1.00"),
                 banner=make_item("BANNER-1", name="Banner", category="display", on_hand=3, unit_cost="400.00",
                                  returnable=True, loss_rate=15))
    submit(session, mate, [(items["pen"], 1580)])
    return dict(team=team, manager=manager, mate=mate, **items)


@pytest.fixture
def rep_in_team(login, session, shop):
    rep = login("rep", email="riley@example.com")
    teams.set_team(session, rep, shop["team"].id)
    return rep


def _draft(session, rep, needed_by=None, **quantities):
    details = {"needed_by": needed_by.isoformat()} if needed_by else None
    return drafts.save(session, rep, quantities=quantities, details=details)


# Rules ---------------------------------------------------------------------------------------------

def test_the_period_is_named_this_quarter_when_it_is_todays_else_by_its_name():
    assert standing.period_words(THIS_QUARTER, "quarter", TODAY) == "this quarter"
    assert standing.period_words(NEXT_QUARTER, "quarter", TODAY) == "in " + period_name(NEXT_QUARTER, "quarter")
    assert standing.period_words(budget_period(date(2027, 2, 3), "quarter"), "quarter", date(2026, 11, 17)) == "in Q1 2027"
    assert standing.period_words(budget_period(TODAY, "month"), "month", TODAY) == "this month"
    assert standing.period_words(budget_period(date(2026, 3, 1), "month"), "month", date(2026, 11, 17)) == "in March 2026"
    assert standing.period_words(budget_period(TODAY, "year"), "year", TODAY) == "this year"


def test_the_day_a_draft_counts_in_is_its_needed_by_date_else_today():
    assert standing.budget_day(None, TODAY) == TODAY
    assert standing.budget_day(TODAY + timedelta(days=100), TODAY) == TODAY + timedelta(days=100)
    # A date no request may have (the form refuses it) is no period to show: today's instead.
    assert standing.budget_day(date(9999, 12, 31), TODAY) == TODAY


def test_a_teams_standing_is_its_budget_committed_and_left_in_one_statement(app, session, shop, make_user):
    team_id = shop["team"].id
    with count_queries(db.engine) as counted:
        found = standing.team_standing(session, team_id, TODAY, "quarter", TODAY)
    # (SQLite's BEGIN comes too when no transaction is open yet: not a statement of the rule's.)
    read = [statement for statement in counted.statements if statement.strip().upper() != "BEGIN"]
    assert len(read) == 1, counted.statements
    assert (found.team_name, found.budget, found.spend.committed, found.left, found.words) == (
        "Field sales", D("2000.00"), D("1580.00"), D("420.00"), "this quarter")
    assert found.bar == 79 and not found.spend.over
    # After a request worth 500.00: 80.00 over, the bar full.
    after = found.after(D("500"))
    assert (after.left, after.over_by, after.bar) == (D("-80.00"), D("80.00"), 100)
    # Next quarter nothing is committed yet; a team with no budget has none to leave.
    assert standing.team_standing(session, shop["team"].id, NEXT_QUARTER.first, "quarter", TODAY).left == D("2000.00")
    empty = teams.create_team(session, dict(name="Inside sales"))
    none = standing.team_standing(session, empty.id, TODAY, "quarter", TODAY)
    assert none.spend == Spend(None) and not none.has_budget and none.left is None
    assert standing.team_standing(session, None, TODAY, "quarter", TODAY) is None
    assert standing.team_standing(session, 99999, TODAY, "quarter", TODAY) is None


def test_draft_and_request_values_round_each_line_and_the_exact_total_once(session, shop, make_item, make_user):
    # 3 tablecloths at 2.50 with a 5 % loss: 0.375 (shown 0.38); 30 polos at 12.50: 375.00;
    # the total is 375.375, shown 375.38 (not 375.00 + 0.38).
    cloth = make_item("CLOTH-1", category="display", on_hand=5, unit_cost="2.50", returnable=True, loss_rate=5)
    values = standing.draft_values([("POLO-1", shop["polo"], 30), ("CLOTH-1", cloth, 3)])
    assert values.lines == {"POLO-1": D("375.00"), "CLOTH-1": D("0.38")} and values.total == D("375.38")
    # Submitted: 2 banners at 15 % of 400.00 = 120.00, and 12 polos of which 10 held, 2 waiting: 150.00.
    made = submit(session, make_user("rep"), [(shop["banner"], 2), (shop["polo"], 12)], allow_partial=True)
    lines = {line.item.sku: line.id for line in made.lines}
    values = standing.request_values(made)
    assert values.lines == {lines["BANNER-1"]: D("120.00"), lines["POLO-1"]: D("150.00")}
    assert values.total == D("270.00")


# The request being put together ----------------------------------------------------------------------

def test_the_draft_shows_each_lines_value_the_total_and_what_the_team_has_left(client, session, rep_in_team):
    _draft(session, rep_in_team, **{"POLO-1": 30, "PEN-1": 20})  # 375.00 + 20.00
    page = client.get("/request")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'id="value-POLO-1"[^>]*>\$375\.00<', html) and re.search(r'id="value-PEN-1"[^>]*>\$20\.00<', html)
    words = text_of(html)
    assert "Total $395.00" in words
    assert "Field sales: $420.00 of $2,000.00 left this quarter" in words  # no needed-by date yet: today's
    assert "After this request: $25.00 left" in words


def test_a_draft_over_the_budget_says_by_how_much_and_can_still_be_sent(client, session, rep_in_team):
    _draft(session, rep_in_team, **{"POLO-1": 40})  # 500.00: 80.00 over
    words = text_of(client.get("/request").get_data(as_text=True))
    assert "This request would go over the team's budget by $80.00" in words
    assert "After this request" not in words
    draft = drafts.get(session, rep_in_team)
    answer = client.post("/request", data={"qty-POLO-1": "40", "needed_by": TODAY.isoformat(),
                                           "purpose": "client_meeting", "handoff": "pickup",
                                           "generation": str(draft.generation), "action": "submit"})
    assert answer.status_code == 302  # no blocking: approvals come later
    assert session.scalar(select(Request).where(Request.requester_id == rep_in_team.id)).team_id is not None


def test_the_needed_by_date_chooses_the_period(client, session, rep_in_team):
    """A request needed next quarter counts against next quarter's budget, named by its name."""
    _draft(session, rep_in_team, needed_by=NEXT_QUARTER.first, **{"POLO-1": 8})  # 100.00
    words = text_of(client.get("/request").get_data(as_text=True))
    name = period_name(NEXT_QUARTER, "quarter")
    assert f"Field sales: $2,000.00 of $2,000.00 left in {name}" in words
    assert "After this request: $1,900.00 left" in words


def test_the_period_follows_budget_period(app, client, session, rep_in_team):
    app.config["BUDGET_PERIOD"] = "year"
    _draft(session, rep_in_team, **{"PEN-1": 20})
    assert "$420.00 of $2,000.00 left this year" in text_of(client.get("/request").get_data(as_text=True))


def test_autosave_updates_the_values_the_total_and_the_budget_in_place(client, session, rep_in_team):
    draft = _draft(session, rep_in_team, **{"POLO-1": 30, "PEN-1": 5})
    answer = client.post("/request/draft", data={"qty-POLO-1": "20", "qty-PEN-1": "0", "needed_by": "",
                                                 "generation": str(draft.generation)})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<html" not in html
    assert re.search(r'id="value-POLO-1" hx-swap-oob="true">\$250\.00<', html)
    # The pen's box was set to 0: its line left the draft, and its value says it commits nothing.
    assert re.search(r'id="value-PEN-1" hx-swap-oob="true">\$0\.00<', html)
    assert re.search(r'id="draft-total" aria-live="polite" hx-swap-oob="true"', html)
    words = text_of(html)
    assert "Total $250.00" in words and "After this request: $170.00 left" in words
    assert drafts.get(session, rep_in_team).lines == {"POLO-1": 20}


def test_a_form_post_that_changes_a_quantity_shows_the_new_values(client, session, rep_in_team):
    draft = _draft(session, rep_in_team, **{"POLO-1": 30, "PEN-1": 5})
    answer = client.post("/request", data={"qty-POLO-1": "2", "qty-PEN-1": "5", "generation": str(draft.generation),
                                           "action": "save"}, follow_redirects=True)
    words = text_of(answer.get_data(as_text=True))
    assert "Total $30.00" in words and "After this request: $390.00 left" in words
    answer = client.post("/request", data={"qty-POLO-1": "2", "qty-PEN-1": "5", "generation": str(draft.generation),
                                           "action": "remove:POLO-1"}, follow_redirects=True)
    html = answer.get_data(as_text=True)
    assert 'id="value-POLO-1"' not in html and "Total $5.00" in text_of(html)


def test_a_refused_quantity_keeps_the_value_of_what_is_saved(client, session, rep_in_team):
    draft = _draft(session, rep_in_team, **{"POLO-1": 4})
    answer = client.post("/request", data={"qty-POLO-1": "lots", "generation": str(draft.generation),
                                           "action": "save"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and 'value="lots"' in html
    assert re.search(r'id="value-POLO-1"[^>]*>\$50\.00<', html)


@pytest.mark.parametrize("team", ["none", "no budget"])
def test_a_rep_in_no_team_or_a_team_without_a_budget_sees_the_total_only(client, session, login, shop, team):
    rep = login("rep", email="solo@example.com")
    if team == "no budget":
        teams.set_team(session, rep, teams.create_team(session, dict(name="Inside sales")).id)
    _draft(session, rep, **{"POLO-1": 2})
    words = text_of(client.get("/request").get_data(as_text=True))
    assert "Total $25.00" in words
    assert "left" not in words.split("Total $25.00", 1)[1].split("Details", 1)[0]
    assert "After this request" not in words and "Field sales" not in words


# The request page ----------------------------------------------------------------------------------------

@pytest.fixture
def sent(session, rep_in_team, shop):
    """The rep's request: 12 polos (150.00) and 1 banner (60.00), needed today: 210.00; the team
    has 2,000.00 - 1,580.00 - 210.00 = 210.00 left."""
    return submit(session, rep_in_team, [(shop["polo"], 12), (shop["banner"], 1)])


def test_the_request_page_shows_values_the_total_and_the_team_left_to_its_rep(client, sent):
    html = client.get(f"/requests/{sent.id}").get_data(as_text=True)
    lines = {line.item.sku: line.id for line in sent.lines}
    assert re.search(rf'id="value-{lines["POLO-1"]}">Value <strong>\$150\.00<', html)
    assert re.search(rf'id="value-{lines["BANNER-1"]}">Value <strong>\$60\.00<', html)
    words = text_of(html)
    assert "Total $210.00" in words and "Field sales: $210.00 of $2,000.00 left this quarter" in words


def test_managers_see_the_team_line_and_the_stockroom_the_values_only(app, session, sent, shop, make_user):
    from tests.conftest import AuthActions

    staff = make_user("staff", email="stock@example.com")
    for user, sees_team in ((shop["manager"], True), (staff, False)):
        client = app.test_client()
        assert AuthActions(client).login(user).status_code == 302
        words = text_of(client.get(f"/requests/{sent.id}").get_data(as_text=True))
        assert "Total $210.00" in words
        assert ("$210.00 of $2,000.00 left this quarter" in words) is sees_team, user.role


def test_a_cancelled_request_is_worth_nothing_and_gives_its_amount_back(client, session, sent):
    from inventory.requests import review

    review.cancel(session, sent.id, sent.requester)
    words = text_of(client.get(f"/requests/{sent.id}").get_data(as_text=True))
    assert "Total $0.00" in words and "$420.00 of $2,000.00 left this quarter" in words


def test_the_request_page_keeps_the_team_it_was_submitted_in(client, session, sent, rep_in_team):
    """The rep moved to a team without a budget: the request still counts against Field sales."""
    teams.set_team(session, rep_in_team, teams.create_team(session, dict(name="Inside sales")).id)
    assert "Field sales: $210.00 of $2,000.00 left" in text_of(client.get(f"/requests/{sent.id}").get_data(as_text=True))


# Today ---------------------------------------------------------------------------------------------

def test_todays_budget_line_and_bar(client, sent):
    html = client.get("/today").get_data(as_text=True)
    assert "Field sales: $210.00 of $2,000.00 left this quarter" in text_of(html)
    assert re.search(r'<progress class="budget-bar" max="100" value="89"', html)  # 1,790 of 2,000


def test_today_shows_no_budget_line_to_a_rep_in_no_team(client, login, shop):
    login("rep", email="solo@example.com")
    html = client.get("/today").get_data(as_text=True)
    assert client.get("/today").status_code == 200 and "budget-line" not in html and "left this quarter" not in html


def test_the_budget_line_costs_today_one_statement(app, client, session, sent, rep_in_team):
    """However many requests the team has: one statement, and none for a rep in no team."""
    def statements():
        client.get("/today")
        with count_queries(db.engine) as counted:
            assert client.get("/today").status_code == 200
        return counted.count

    with_team = statements()
    for _ in range(3):
        submit(session, rep_in_team, [(session.get(Item, sent.lines[0].item_id), 1)])
    assert statements() == with_team
    teams.set_team(session, rep_in_team, None)
    assert statements() == with_team - 1


# The API -----------------------------------------------------------------------------------------------

@pytest.fixture
def api(app, session):
    from inventory.auth import services as auth

    def headers(user):
        _row, token = auth.create_token(session, user, "test")
        return {"Authorization": f"Bearer {token}"}
    return headers


def test_request_json_has_its_value_each_lines_value_and_its_team(client, session, sent, rep_in_team, api, shop):
    data = client.get(f"/api/v1/requests/{sent.id}", headers=api(rep_in_team)).get_json()
    assert data["value"] == "210.00" and data["currency"] == "USD"
    assert data["team"] == {"id": shop["team"].id, "name": "Field sales"}
    assert {line["sku"]: line["value"] for line in data["lines"]} == {"POLO-1": "150.00", "BANNER-1": "60.00"}
    # Someone in no team: null.
    made = client.post("/api/v1/requests", headers=api(shop["manager"]),
                       json={"needed_by": TODAY.isoformat(), "lines": [{"sku": "PEN-1", "qty": 3}]}).get_json()
    assert (made["team"], made["value"], made["lines"][0]["value"]) == (None, "3.00", "3.00")


def test_the_requests_list_reads_the_teams_with_the_lines_not_per_request(app, client, session, shop, api, make_user):
    manager = shop["manager"]
    headers = api(manager)

    def statements():
        client.get("/api/v1/requests", headers=headers)
        with count_queries(db.engine) as counted:
            answer = client.get("/api/v1/requests", headers=headers)
        assert answer.status_code == 200
        return counted.count, answer.get_json()["requests"]

    first, rows = statements()
    assert [row["team"]["name"] for row in rows] == ["Field sales"]
    for n in range(3):
        other = teams.create_team(session, dict(name=f"Team {n}", budget="100"))
        rep = teams.set_team(session, make_user("rep"), other.id)
        submit(session, rep, [(shop["pen"], 1)])
    count, rows = statements()
    assert count == first and sorted(row["team"]["name"] for row in rows) == ["Field sales", "Team 0", "Team 1", "Team 2"]


def test_an_events_requests_carry_their_team_without_a_statement_per_request(
        app, client, session, shop, api, make_user):
    from inventory.events import services as events

    event = events.create_event(session, shop["manager"], name="Expo", place="Hall 1",
                                starts_on=TODAY + timedelta(days=10), ends_on=TODAY + timedelta(days=11),
                                ship_by=TODAY + timedelta(days=8), return_by=TODAY + timedelta(days=14))
    headers = api(shop["manager"])
    statements = []

    def answer():
        client.get(f"/api/v1/events/{event.id}", headers=headers)
        with count_queries(db.engine) as counted:
            data = client.get(f"/api/v1/events/{event.id}", headers=headers).get_json()
        statements.append(counted.statements)
        return counted.count, [(r["team"] and r["team"]["name"], r["value"]) for r in data["requests"]]

    submit(session, shop["mate"], [(shop["pen"], 2)], needed_by=TODAY + timedelta(days=8), event_id=event.id)
    first, rows = answer()
    assert rows == [("Field sales", "2.00")]
    for n in range(3):
        rep = teams.set_team(session, make_user("rep"), teams.create_team(session, dict(name=f"Team {n}")).id)
        submit(session, rep, [(shop["polo"], 1)], needed_by=TODAY + timedelta(days=8), event_id=event.id)
    submit(session, make_user("rep"), [(shop["pen"], 1)], needed_by=TODAY + timedelta(days=8), event_id=event.id)
    count, rows = answer()
    assert count == first, "\n".join(st.split("FROM")[1][:60] for st in statements[-1])
    assert sorted(rows, key=str) == sorted([("Field sales", "2.00"), ("Team 0", "12.50"), ("Team 1", "12.50"),
                                            ("Team 2", "12.50"), (None, "1.00")], key=str)


def test_line_values_sum_to_what_the_lines_hold(session, sent):
    """The page's and the API's values come from the one rule: the request's committed spend."""
    from inventory.budgets.spend import team_spend

    line_rows = session.scalars(select(RequestLine).where(RequestLine.request_id == sent.id)).all()
    assert len(line_rows) == 2
    spend = team_spend(session, sent.team, budget_period(sent.needed_by))
    assert spend.committed == D("1580.00") + standing.request_values(sent).total
