"""Loans: returnable units out on a request, said where the item is (its page, its bins, its
label) and asked about when the same display is booked as arriving stock."""
from datetime import date, timedelta

import pytest

from inventory.bins.services import get_bin
from inventory.querycount import count_queries
from inventory.requests import loans as loan_rules
from inventory.requests import services as requests
from inventory.stock import services as stock


def d(days):
    return date.today() + timedelta(days=days)


@pytest.fixture
def people(make_user):
    return {"rep": make_user("rep", name="Dana Rep"), "manager": make_user("manager"),
            "staff": make_user("staff", email="staff@example.com", name="Sam Stock")}


@pytest.fixture
def lend(session, people, make_bin):
    """lend(item, units, bin="B-01", return_by=d(5), rep=None) -> the handed-over request."""

    def do(item, units=1, bin="B-01", return_by=None, rep=None, past=False):
        today = d(-10) if past else None
        made = requests.submit(session, rep or people["rep"], [(item, units)], purpose="trade_show",
                               needed_by=d(-9) if past else d(1), return_by=return_by or d(5), today=today)
        requests.approve(session, made.id, people["manager"])
        line = requests.get_request(session, made.id).lines[0]
        requests.pick(session, made.id, get_bin(session, bin), {line.id: units}, people["staff"])
        requests.hand_over(session, made.id, people["staff"])
        return requests.get_request(session, made.id)

    return do


# The rules ------------------------------------------------------------------------------------

def test_a_handed_over_returnable_is_a_loan_with_its_request_person_and_date(session, make_item, lend):
    booth = make_item("BOOTH-1", category="display", on_hand=3, bin="B-01", returnable=True)
    out = lend(booth, 2, return_by=d(4))
    [loan] = loan_rules.loans_of_item(session, booth)
    assert (loan.request_id, loan.number, loan.requester, loan.units, loan.return_by) == (
        out.id, f"R-{out.id:05d}", "Dana Rep", 2, d(4))
    assert loan.line_id == out.lines[0].id
    assert not loan.overdue and loan.due_words == "due back " + d(4).strftime("%a %-d %b")


def test_a_loan_past_its_date_says_how_many_days_overdue(session, make_item, lend):
    booth = make_item("BOOTH-1", category="display", on_hand=1, bin="B-01", returnable=True)
    lend(booth, 1, return_by=d(-3), past=True)
    [loan] = loan_rules.loans_of_item(session, booth)
    assert loan.overdue and loan.days_overdue == 3
    assert loan.due_words.startswith("3 days overdue (due back ")
    assert loan_rules.loans_of_item(session, booth, today=d(-4))[0].due_words == (
        "due back " + d(-3).strftime("%a %-d %b"))
    assert loan_rules.loans_of_item(session, booth, today=d(-3))[0].due_words == "due back today"
    assert loan_rules.loans_of_item(session, booth, today=d(-2))[0].due_words.startswith("1 day overdue")

def test_checked_in_reserved_and_consumable_lines_are_no_loans(session, make_item, make_bin, lend, people):
    booth = make_item("BOOTH-1", category="display", on_hand=2, bin="B-01", returnable=True)
    flyer = make_item("FLY-1", category="print", on_hand=50, bin="B-01")
    back = lend(booth, 1)
    lend(flyer, 10)
    requests.check_in(session, back.id, make_bin("B-01"), {back.lines[0].id: {"returned": 1}}, people["staff"])
    # Reserved for later, not handed over: booked, but not out.
    requests.submit(session, people["rep"], [(booth, 1)], purpose="trade_show", needed_by=d(20), return_by=d(25))
    assert loan_rules.loans_of_items(session, [booth.id, flyer.id]) == {}
    assert loan_rules.loans_of_item(session, flyer) == []


def test_loans_of_many_items_in_one_query_most_overdue_first(session, make_item, make_user, lend):
    booth = make_item("BOOTH-1", category="display", on_hand=3, bin="B-01", returnable=True)
    banner = make_item("BANNER-1", category="display", on_hand=1, bin="B-01", returnable=True)
    other = make_user("rep", email="lee@example.com")  # no name given: named after the e-mail
    late = lend(booth, 1, return_by=d(9))
    early = lend(booth, 2, return_by=d(3), rep=other)
    lend(banner, 1)
    ids = [booth.id, banner.id]
    with count_queries(session.get_bind()) as counted:
        found = loan_rules.loans_of_items(session, ids)
    assert counted.count == 1
    assert [(loan.request_id, loan.units, loan.requester) for loan in found[booth.id]] == [
        (early.id, 2, "lee"), (late.id, 1, "Dana Rep")]
    assert loan_rules.units_out(found[booth.id]) == 3 and loan_rules.units_out(found[banner.id]) == 1
    assert loan_rules.loan_for_check_in(found[booth.id]) is None
    assert loan_rules.loan_for_check_in(found[banner.id]).item_id == banner.id
    assert loan_rules.loan_for_check_in([]) is None
    assert loan_rules.loans_of_items(session, []) == {}


def test_the_usual_bin_is_the_shelf_it_was_picked_from(session, make_item, make_bin, lend, people):
    booth = make_item("BOOTH-1", category="display", on_hand=1, bin="B-07", returnable=True)
    assert loan_rules.usual_bin(session, booth).code == "B-07"  # received there
    lend(booth, 1, bin="B-07")  # picked from B-07 into DISPATCH, then issued
    assert loan_rules.usual_bin(session, booth).code == "B-07"
    fresh = make_item("BOOTH-2", category="display", returnable=True)
    assert loan_rules.usual_bin(session, fresh) is None


def test_the_usual_bin_skips_an_archived_shelf(session, make_item, make_bin, lend, people):
    from inventory.bins import services as bins

    booth = make_item("BOOTH-1", category="display", on_hand=1, bin="B-07", returnable=True)
    stock.move(session, booth, get_bin(session, "B-07"), make_bin("B-08"), 1, people["staff"])
    stock.move(session, booth, get_bin(session, "B-08"), get_bin(session, "B-07"), 1, people["staff"])
    stock.move(session, booth, get_bin(session, "B-07"), get_bin(session, "B-08"), 1, people["staff"])
    lend(booth, 1, bin="B-08")
    bins.set_archived(session, get_bin(session, "B-08"), archived=True)
    assert loan_rules.usual_bin(session, booth).code == "B-07"
