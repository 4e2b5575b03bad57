"""Budgets: the value rule with amounts worked out on paper, each team's spend over a period,
money and percent input, and the team rules' refusals."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from inventory.budgets import services as teams
from inventory.budgets.models import Team
from inventory.budgets.periods import budget_period, parse_period, period_key, period_kind, period_name, shifted
from inventory.budgets.spend import Spend, spend_by_team, team_spend
from inventory.budgets.values import asked_value, cents, handed_expression, line_value, open_expression
from inventory.catalog import services as catalog
from inventory.catalog.models import Item
from inventory.errors import Conflict, InvalidInput
from inventory.limits import money_amount, percent
from inventory.requests import fulfilment, handover, review, submission
from inventory.requests.models import RequestLine

TODAY = date.today()
SOON = TODAY + timedelta(days=3)
PERIOD = budget_period(SOON, "quarter")


def D(text):
    return Decimal(text)


def submit(session, user, lines, **details):
    details.setdefault("purpose", "client_meeting")
    details.setdefault("needed_by", SOON)
    if any(item.returnable for item, _n in lines):
        details.setdefault("return_by", SOON + timedelta(days=2))
    return submission.submit(session, user, lines, **details)


@pytest.fixture
def team_of(session, make_user):
    def make(name="Field sales", budget="2000", **fields):
        manager = make_user("manager")
        return teams.create_team(session, dict(name=name, budget=budget, approver_id=manager.id, **fields))
    return make


# Input -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, amount", [("2000", D("2000.00")), ("2,000", D("2000.00")), ("2,000.50", D("2000.50")),
                                          ("1500,5", D("1500.50")), ("€ 1 200", D("1200.00")), ("0", D("0.00")),
                                          ("", None), (None, None), (12, D("12.00"))])
def test_money_amounts_are_read_as_people_write_them(text, amount):
    assert money_amount(text, "The budget") == amount


@pytest.mark.parametrize("text, words", [("-5", "cannot be negative"), ("10000000.01", "at most 10,000,000"),
                                         ("12.345", "two decimals"), ("lots", "amount of money"),
                                         ("NaN", "amount of money"), ("1e400", "at most"), (True, "amount of money")])
def test_money_amounts_refused_in_words(text, words):
    with pytest.raises(InvalidInput, match=words):
        money_amount(text, "The budget")


@pytest.mark.parametrize("value, ok", [(0, 0), ("15", 15), ("15 %", 15), (100, 100)])
def test_loss_rates_are_whole_percentages(value, ok):
    assert percent(value, "The loss rate") == ok


@pytest.mark.parametrize("value", [-1, 101, "ten", 2.5, True])
def test_loss_rates_outside_0_to_100_are_refused(value):
    with pytest.raises(InvalidInput, match="The loss rate"):
        percent(value, "The loss rate")


def test_budget_periods():
    assert budget_period(date(2026, 11, 17), "quarter") == budget_period(date(2026, 10, 1))
    q4 = budget_period(date(2026, 11, 17))
    assert (q4.first, q4.last) == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_name(q4, "quarter") == "Q4 2026" and period_key(q4, "quarter") == "2026-Q4"
    month = budget_period(date(2026, 2, 10), "month")
    assert (month.first, month.last, period_name(month, "month")) == (date(2026, 2, 1), date(2026, 2, 28), "February 2026")
    year = budget_period(date(2026, 2, 10), "year")
    assert (year.first, year.last, period_key(year, "year")) == (date(2026, 1, 1), date(2026, 12, 31), "2026")
    assert shifted(q4, "quarter", 1) == budget_period(date(2027, 1, 1))
    assert shifted(q4, "quarter", -4) == budget_period(date(2025, 10, 1))
    assert parse_period("2027-Q1", "quarter", date(2026, 11, 17)) == budget_period(date(2027, 2, 1))
    assert parse_period("", "month", date(2026, 11, 17)) == budget_period(date(2026, 11, 1), "month")
    for wrong in ("2027-Q5", "Q1", "2027-13", "banana"):
        with pytest.raises(InvalidInput, match="write it as"):
            parse_period(wrong, "quarter" if "Q" in wrong or wrong == "banana" else "month", date(2026, 11, 17))
    assert period_kind(None) == "quarter" and period_kind("Month") == "month"
    with pytest.raises(RuntimeError, match="BUDGET_PERIOD"):
        period_kind("fortnight")


# The value rule ------------------------------------------------------------------------------------

def _item(cost, returnable=False, loss_rate=0):
    return Item(unit_cost=D(cost), returnable=returnable, loss_rate=loss_rate)


def _line(**counts):
    fields = dict(quantity=0, reserved=0, backordered=0, picked=0, issued=0, returned=0, consumed=0, lost=0,
                  damaged=0, short=0, issued_unit_cost=None)
    fields.update(counts)
    return RequestLine(**fields)


def test_a_consumable_line_is_worth_its_open_units_at_todays_cost_and_its_issued_ones_at_their_cost():
    # 30 polos at 12.50: 20 held, 10 waiting -> 30 x 12.50 = 375.00 open.
    value = line_value(_line(quantity=30, reserved=20, backordered=10), _item("12.50"))
    assert (value.open, value.handed) == (D("375.00"), D("0"))
    # Handed over 25 when they cost 11.00, 5 released at picking: 25 x 11.00 = 275.00, nothing open.
    value = line_value(_line(quantity=30, issued=25, short=5, issued_unit_cost=D("11.00")), _item("12.50"))
    assert (value.open, value.handed) == (D("0"), D("275.00"))


def test_a_returnable_line_is_worth_its_expected_loss_until_it_comes_back():
    # A booth banner at 400.00 with a 15 % loss rate, 2 booked: 2 x 400 x 15 % = 120.00 open.
    banner = _item("400.00", returnable=True, loss_rate=15)
    assert line_value(_line(quantity=2, reserved=2), banner).open == D("120.00")
    # Out at the show (issued 2, still booked): 120.00 handed over, nothing open.
    out = line_value(_line(quantity=2, reserved=2, issued=2, issued_unit_cost=D("400.00")), banner)
    assert (out.open, out.handed) == (D("0"), D("120.00"))
    # Checked in: 1 back, 1 damaged -> the damaged one at full cost, 400.00.
    back = line_value(_line(quantity=2, issued=2, returned=1, damaged=1, issued_unit_cost=D("400.00")), banner)
    assert (back.open, back.handed) == (D("0"), D("400.00"))
    # A 0 % loss rate (the default): a loan is worth nothing until something does not come back.
    assert line_value(_line(quantity=2, reserved=2), _item("400.00", returnable=True)).total == 0


def test_fractions_of_a_cent_are_rounded_once_where_shown():
    # 1 tablecloth at 2.50 with a 5 % loss: 0.125, shown as 0.13.
    value = line_value(_line(quantity=1, reserved=1), _item("2.50", returnable=True, loss_rate=5))
    assert value.open == D("0.125") and cents(value.open) == D("0.13")
    assert asked_value(_item("2.50", returnable=True, loss_rate=5), 1) == D("0.125")
    assert asked_value(_item("12.50"), 30) == D("375.00")


_counts = st.integers(min_value=0, max_value=50)


@pytest.fixture
def one_line(session, make_user, make_item):
    """A real request line and its item, whose counts each example writes over."""
    item = make_item("CASE-1", on_hand=5, returnable=True)
    request = submit(session, make_user("rep"), [(item, 1)])
    return request.lines[0].id, item.id


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reserved=_counts, backordered=_counts, issued=_counts, returned=_counts, kept=_counts,
       returnable=st.booleans(), loss_rate=st.integers(min_value=0, max_value=100),
       cost=st.decimals(min_value=0, max_value=500, places=2),
       at_issue=st.one_of(st.none(), st.decimals(min_value=0, max_value=500, places=2)))
def test_the_sql_sums_follow_the_python_rule(session, one_line, reserved, backordered, issued, returned, kept,
                                            returnable, loss_rate, cost, at_issue):
    """The one rule, twice: the expressions spend.py sums give what line_value gives, on the database."""
    line_id, item_id = one_line
    if returnable:  # as the rules leave a returnable: out units stay booked, check-in ends the booking
        issued = max(issued, returned + kept)
        reserved = issued - returned - kept if issued else reserved
    else:
        returned = kept = 0
    counts = dict(reserved=reserved, backordered=backordered, issued=issued, returned=returned, lost=kept,
                  issued_unit_cost=at_issue)
    session.execute(update(RequestLine).where(RequestLine.id == line_id).values(**counts))
    session.execute(update(Item).where(Item.id == item_id).values(unit_cost=cost, returnable=returnable,
                                                                  loss_rate=loss_rate))
    open_sql, handed_sql = session.execute(select(open_expression(), handed_expression()).select_from(RequestLine)
                                           .join(Item, RequestLine.item_id == Item.id)
                                           .where(RequestLine.id == line_id)).one()
    expected = line_value(_line(**counts), _item(str(cost), returnable, loss_rate))
    # Exact on PostgreSQL's numeric; SQLite computes in floating point, a millionth of a cent off at most.
    assert abs(Decimal(str(open_sql)) - expected.open) < D("0.000001")
    assert abs(Decimal(str(handed_sql)) - expected.handed) < D("0.000001")
    session.rollback()


# Spend over a period -------------------------------------------------------------------------------

def test_committed_counts_what_is_held_and_handed_over_and_left_is_the_budget_less_it(
        session, make_user, make_item, team_of, stock_user, make_bin):
    team = team_of(budget="2000")
    rep = make_user("rep")
    teams.set_team(session, rep, team.id)
    pens = make_item("PEN-1", on_hand=100, unit_cost="1.20")
    polos = make_item("POLO-1", on_hand=10, unit_cost="12.50")
    banner = make_item("BANNER-1", on_hand=2, unit_cost="400.00", returnable=True, loss_rate=15)
    # 50 pens (60.00) + 12 polos, 10 held and 2 waiting (150.00) + 2 banners at 15 % (120.00) = 330.00.
    first = submit(session, rep, [(pens, 50), (polos, 12), (banner, 2)], allow_partial=True)
    assert first.team_id == team.id
    spend = team_spend(session, team, PERIOD)
    assert (spend.budget, spend.committed, spend.spent, spend.left) == (D("2000.00"), D("330.00"), D("0.00"),
                                                                        D("1670.00"))
    # Handed over: 50 pens, 10 polos (the 2 waiting stay open) and the banners out.
    manager = team.approver
    review.approve(session, first.id, manager)
    staff = stock_user()
    bin_ = make_bin("A-01")
    lines = {line.item_id: line for line in first.lines}
    fulfilment.pick(session, first.id, bin_, {lines[pens.id].id: 50, lines[polos.id].id: 10,
                                              lines[banner.id].id: 2}, staff)
    handover.hand_over(session, first.id, staff)
    spend = team_spend(session, team, PERIOD)
    # Spent: 60.00 + 125.00 + 120.00 = 305.00; the hand-over released the 2 polos still waiting,
    # so nothing else is committed.
    assert (spend.committed, spend.spent, spend.left) == (D("305.00"), D("305.00"), D("1695.00"))
    # The banners back, one damaged: 400.00 instead of 120.00 -> 585.00.
    fulfilment.check_in(session, first.id, bin_, {lines[banner.id].id: {"returned": 1, "damaged": 1}}, staff)
    spend = team_spend(session, team, PERIOD)
    assert (spend.committed, spend.spent, spend.left) == (D("585.00"), D("585.00"), D("1415.00"))


def test_released_and_cancelled_requests_leave_the_spend_and_other_teams_and_periods_do_not_count(
        session, make_user, make_item, team_of):
    field, inside = team_of("Field sales"), team_of("Inside sales", budget="500")
    anna, ben, carl = make_user("rep"), make_user("rep"), make_user("rep")
    teams.set_team(session, anna, field.id)
    teams.set_team(session, ben, inside.id)
    pens = make_item("PEN-1", on_hand=1000, unit_cost="1.00")
    kept = submit(session, anna, [(pens, 100)])
    cancelled = submit(session, anna, [(pens, 40)])
    review.cancel(session, cancelled.id, anna)
    submit(session, anna, [(pens, 7)], needed_by=PERIOD.last + timedelta(days=1))  # the next period
    submit(session, ben, [(pens, 30)])
    submit(session, carl, [(pens, 9)])  # in no team
    spends = spend_by_team(session, [field, inside], PERIOD, no_team=True)
    assert spends[field.id].committed == D("100.00") and spends[inside.id].committed == D("30.00")
    assert spends[None] == Spend(None, D("9.00"), D("0.00"))
    assert spend_by_team(session, [field], shifted(PERIOD, "quarter", 1))[field.id].committed == D("7.00")
    # A rep moved to another team: what they submitted stays with the team it was submitted in.
    teams.set_team(session, anna, inside.id)
    assert team_spend(session, field, PERIOD).committed == D("100.00")
    assert kept.team_id == field.id


def test_spend_words():
    assert Spend(D("100"), D("120"), D("0")).over and Spend(D("100"), D("120"), D("0")).left == D("-20")
    assert Spend(D("2000"), D("500"), D("0")).used == 25
    assert Spend(None, D("5"), D("0")).left is None and not Spend(None, D("5"), D("0")).over
    assert Spend(D("0"), D("5"), D("0")).used == 100 and Spend(D("0"), D("0"), D("0")).used == 0
    assert Spend(D("100"), D("20"), D("0")).with_extra(D("0.125")).committed == D("20.13")


# Teams -----------------------------------------------------------------------------------------------

def test_team_rules_refuse_in_words_and_change_nothing(session, make_user, team_of):
    manager, rep = make_user("manager"), make_user("rep")
    team = team_of("Field sales")
    with pytest.raises(Conflict, match="already a team called Field sales") as refused:
        teams.create_team(session, dict(name="field SALES"))
    assert refused.value.about == (None, "name")
    with pytest.raises(InvalidInput, match="without an approver cannot have approval limits") as refused:
        teams.create_team(session, dict(name="Events", auto_approve_up_to="100"))
    assert refused.value.about == (None, "auto_approve_up_to")
    with pytest.raises(InvalidInput, match="approver must be an active marketing manager"):
        teams.create_team(session, dict(name="Events", approver_id=rep.id))
    with pytest.raises(InvalidInput, match="must not be below"):
        teams.update_team(session, team, dict(auto_approve_up_to="500", second_approval_above="200"))
    with pytest.raises(InvalidInput, match="two decimals"):
        teams.update_team(session, team, dict(budget="10.001"))
    with pytest.raises(InvalidInput, match="Give the team a name"):
        teams.update_team(session, team, dict(name="  "))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Team)) == 1
    fresh = session.get(Team, team.id)
    assert (fresh.name, fresh.budget, fresh.auto_approve_up_to, fresh.second_approval_above) == (
        "Field sales", D("2000.00"), D("0.00"), None)
    changed = teams.update_team(session, fresh, dict(approver_id=manager.id, auto_approve_up_to="150",
                                                     second_approval_above="1,000"))
    assert (changed.approver_id, changed.auto_approve_up_to, changed.second_approval_above) == (
        manager.id, D("150.00"), D("1000.00"))


def test_a_team_with_requests_cannot_be_deleted_one_without_can_and_its_members_are_then_in_none(
        session, make_user, make_item, team_of):
    used, empty = team_of("Field sales"), team_of("Inside sales")
    anna, ben = make_user("rep"), make_user("rep")
    teams.set_team(session, anna, used.id)
    teams.set_team(session, ben, empty.id)
    submit(session, anna, [(make_item("PEN-1", on_hand=5), 1)])
    with pytest.raises(Conflict, match="has 1 request: a team with requests cannot be deleted"):
        teams.delete_team(session, used)
    teams.delete_team(session, empty)
    assert [team.name for team in teams.all_teams(session)] == ["Field sales"]
    assert session.get(type(ben), ben.id).team_id is None
    assert teams.member_counts(session) == {used.id: 1}
    with pytest.raises(Exception, match="no team #999"):
        teams.set_team(session, ben, 999)


def test_an_items_loss_rate_is_kept_and_refused_outside_0_to_100(session, make_item):
    banner = make_item("BANNER-1", returnable=True, loss_rate="15")
    assert banner.loss_rate == 15
    with pytest.raises(InvalidInput, match="expected loss rate must be from 0 to 100") as refused:
        catalog.update_item(session, banner, loss_rate=120)
    assert refused.value.about == (None, "loss_rate")
    session.rollback()
    assert session.get(Item, banner.id).loss_rate == 15
