"""Edges of the stockroom's day: loans on Today counted by what has to come back, the hand-over
page of a returnable without a return date, the undo keeping the ledger and flags, and the
counts-due query reading an index, not the ledger."""
from datetime import date, timedelta

import pytest

from inventory.catalog import queries as catalog_queries
from inventory.catalog import services as catalog
from inventory.forecast import stored
from inventory.requests import fulfilment, handover, review, submission
from inventory.requests.models import Request
from inventory.stock import services as stock
from inventory.today import services as today_rules
from tests import test_hand_over as hand_over_tests

TODAY = date.today()


# The people and the ready-to-hand-over request of the hand-over tests.
people, ready = hand_over_tests.people, hand_over_tests.ready


def names(session, q):
    return [product.name for product in catalog_queries.search_products(session, q=q).rows]


# --- Today -------------------------------------------------------------------------------------

def test_today_due_back_counts_only_the_lines_that_must_come_back(session, people, make_item, make_bin):
    """A request with a returnable banner and 200 consumable brochures: only the banner has to
    come back, so the rep's "Due back" and the stockroom's "Returns due" say "1 line out"."""
    shelf = make_bin("A-01")
    banner = make_item("BANNER-1", category="display", on_hand=2, returnable=True)
    brochures = make_item("BRO-1", category="print", on_hand=500)
    request = ready(session, people, [(banner, 1), (brochures, 200)], return_by=TODAY + timedelta(days=3), bin=shelf)
    handover.hand_over(session, request.id, people["staff"], collected_by="Dana Rep", require=True)
    shown = session.get(Request, request.id)
    shown.return_by = TODAY  # the day it is due back has come
    session.commit()
    rows, _total = today_rules.my_loans(session, people["rep"], TODAY)
    assert [(row.id, row.lines) for row in rows] == [(request.id, 1)]
    rows, _total = today_rules.returns_due(session, TODAY)
    assert [(row.id, row.lines) for row in rows] == [(request.id, 1)]


# --- hand-over page ----------------------------------------------------------------------------

def test_hand_over_page_of_a_returnable_line_without_return_date_is_no_500(
        client, auth_client, session, people, make_item, make_bin):
    """An item made returnable after the request was submitted (the catalog allows it): the
    request has no return date, and the hand-over page says so instead of failing."""
    shelf = make_bin("A-01")
    stand = make_item("STAND-1", category="display", on_hand=3)
    request = ready(session, people, [(stand, 1)], bin=shelf)
    catalog.update_item(session, stand, returnable=True)
    auth_client.login(people["staff"])
    response = client.get(f"/requests/{request.id}/hand-over")
    assert response.status_code == 200, response.status_code


# --- undo and the forecast ---------------------------------------------------------------------

def test_undo_keeps_ledger_and_stored_flags_current(session, people, make_item, make_bin):
    shelf = make_bin("A-01")
    pens = make_item("PEN-1", on_hand=10, reorder_point=8, reorder_quantity=20, lead_time_days=5)
    banner = make_item("BANNER-1", category="display", on_hand=2, returnable=True)
    request = ready(session, people, [(pens, 4), (banner, 1)], return_by=TODAY + timedelta(days=6), bin=shelf)
    stored.current(session, TODAY)
    handover.hand_over(session, request.id, people["staff"], collected_by="Lee", require=True)
    assert stored.drift(session) == set()
    handover.undo_hand_over(session, request.id, people["manager"], "wrong box")
    assert stock.check_ledger(session) == []
    assert stored.drift(session) == set()


# --- queries -----------------------------------------------------------------------------------

def test_counts_due_does_not_scan_the_whole_ledger(session, make_item, make_bin, stock_user):
    """The stockroom's Today (every staff member's home) finds each bin's last count through the
    partial index of count movements (migration 0019), not by scanning the ledger (on a large
    stockroom, 210,000 rows: the scan alone took 66 ms)."""
    from sqlalchemy import event

    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    make_item("PEN-1", on_hand=5, bin="A-01")
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        today_rules.counts_due(session, TODAY, 90)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    sql, params = seen[-1]
    plan = [row[3] for row in session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()]
    assert "SCAN movement" not in plan, plan


def test_a_request_whose_returnable_was_short_picked_is_no_loan_on_today(session, people, make_item, make_bin):
    """The banner could not be found at picking (released as short), the brochures went out:
    nothing has to come back, so no Today list (the rep's, the stockroom's, Marketing's) shows
    the request as due back or overdue, as the item and bin pages (loans.py) show no loan."""
    shelf = make_bin("A-01")
    banner = make_item("BANNER-1", category="display", on_hand=2, returnable=True)
    brochures = make_item("BRO-1", category="print", on_hand=500)
    request = submission.submit(session, people["rep"], [(banner, 1), (brochures, 200)], purpose="client_meeting",
                                needed_by=TODAY + timedelta(days=1), return_by=TODAY + timedelta(days=3))
    review.approve(session, request.id, people["manager"])
    banner_line, brochure_line = request.lines
    fulfilment.pick(session, request.id, shelf, {brochure_line.id: 200}, people["staff"])
    fulfilment.release_unpicked(session, request.id, [banner_line.id], people["staff"])
    assert session.get(Request, request.id).status == "ready"
    handover.hand_over(session, request.id, people["staff"], collected_by="Dana Rep", require=True)
    shown = session.get(Request, request.id)
    shown.return_by = TODAY - timedelta(days=1)  # a day later than it was due
    session.commit()
    from inventory.requests import loans
    assert loans.loans_of_item(session, banner) == []  # the loan view: nothing out
    assert today_rules.my_loans(session, people["rep"], TODAY)[1] == 0
    assert today_rules.returns_due(session, TODAY)[1] == 0
    assert today_rules.returns_due(session, TODAY, overdue_only=True)[1] == 0


def test_a_request_all_on_backorder_is_not_on_the_pick_list_until_stock_comes(session, people, make_item, make_bin):
    shelf = make_bin("A-01")
    usb = make_item("USB-1", category="promo", on_hand=0)
    request = submission.submit(session, people["rep"], [(usb, 20)], purpose="client_meeting",
                                needed_by=TODAY + timedelta(days=5), allow_partial=True)
    review.approve(session, request.id, people["manager"])
    assert today_rules.to_pick(session, TODAY)[1] == 0  # nothing on a shelf to pick
    stock.receive(session, usb, shelf, 20, people["staff"])  # fills the backorder
    rows, total = today_rules.to_pick(session, TODAY)
    assert total == 1 and rows[0].id == request.id and rows[0].to_pick == 20
