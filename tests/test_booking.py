"""The booking primitive (booking.book, booking.book_many): every refusal in one place, directly and
through each rule that books stock (receive, put-away, move, adjust, count, PO receipt, pick,
put-back, check-in, the opening-stock import), the API and the receive page. A refusal writes
nothing: no ledger row, no stock level changed."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from inventory.bins import services as bins
from inventory.bins.models import Bin
from inventory.catalog import services as catalog
from inventory.database import write_transaction
from inventory.errors import InsufficientStock, InvalidInput
from inventory.extensions import db
from inventory.purchasing import services as purchasing
from inventory.requests import fulfilment, review, submission
from inventory.stock import booking
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock
from inventory.stock.models import Movement, StockLevel
from inventory.transfer import services as transfer
from inventory.transfer.report import ImportRefused

SOON = date.today() + timedelta(days=3)
INTO_DISPATCH = "DISPATCH holds picked requests waiting for hand-over; receive into a stock bin."


def ledger(session):
    """Every movement and stock level now, to prove a refusal wrote nothing."""
    session.rollback()
    return (session.scalar(select(func.count(Movement.id))),
            sorted(tuple(row) for row in session.execute(
                select(StockLevel.item_id, StockLevel.bin_id, StockLevel.quantity))))


@pytest.fixture
def shelf(session, make_item, make_bin, make_user):
    """10 pens in A-01, an empty A-02, the DISPATCH bin, a staff user."""
    pens = make_item("PEN-1", on_hand=10, bin="A-01")
    return pens, make_bin("A-01"), make_bin("A-02"), fulfilment.dispatch_bin(session), make_user("staff")


def booked(session, kind, item, **how):
    with write_transaction(session):
        return booking.book(session, kind, item, **how)


# book, directly -----------------------------------------------------------------------------

@pytest.mark.parametrize("quantity, message", [
    (0, "Quantity must be more than zero."),
    (-3, "Quantity must be more than zero."),
    (1.5, "Quantity must be a whole number."),
    ("4", "Quantity must be a whole number."),
    (True, "Quantity must be a whole number."),
    (stock.MAX_QUANTITY + 1, f"Quantity must be at most {stock.MAX_QUANTITY:,}."),
])
def test_book_refuses_a_quantity_that_is_not_a_positive_whole_number_in_range(session, shelf, quantity, message):
    pens, a01, a02, _dispatch, staff = shelf
    before = ledger(session)
    for how in [{"to_bin": a02}, {"from_bin": a01, "to_bin": a02}, {"from_bin": a01}]:
        with pytest.raises(InvalidInput) as refused:
            booked(session, "move" if len(how) == 2 else "adjust", pens, quantity=quantity, user=staff, **how)
        assert refused.value.message == message
    assert ledger(session) == before


@pytest.mark.parametrize("kind, how, message, about", [
    ("receive", {"to": "dispatch"}, INTO_DISPATCH, "bin"),
    ("adjust", {"to": "dispatch"}, "DISPATCH holds picked stock for requests", "bin"),
    ("count", {"to": "dispatch"}, "DISPATCH holds picked stock for requests", "bin"),
    ("move", {"from": "a01", "to": "dispatch"}, "To put picked stock back on a shelf, use 'Put back'", "bin"),
    ("put_away", {"from": "a01", "to": "dispatch"}, "DISPATCH holds picked stock for requests", "bin"),
    ("return", {"to": "dispatch"}, "Put returned units into a stock bin, not DISPATCH.", "bin"),
    ("issue", {"to": "dispatch"}, "DISPATCH holds picked stock", "bin"),
    ("move", {"from": "dispatch", "to": "a02"}, "To put picked stock back on a shelf, use 'Put back'", "from_bin"),
    ("put_away", {"from": "dispatch", "to": "a02"}, "DISPATCH holds picked stock", "from_bin"),
    ("pick", {"from": "dispatch", "to": "a02"}, "Pick from a stock bin, not from DISPATCH.", "from_bin"),
])
def test_book_refuses_dispatch_except_by_picking(session, shelf, kind, how, message, about):
    pens, a01, a02, dispatch, staff = shelf
    bins_ = {"a01": a01, "a02": a02, "dispatch": dispatch}
    before = ledger(session)
    with pytest.raises(InvalidInput, match=re.escape(message)) as refused:
        booked(session, kind, pens, quantity=1, user=staff, from_bin=bins_.get(how.get("from")),
               to_bin=bins_.get(how.get("to")))
    assert refused.value.about == about
    assert ledger(session) == before


def test_book_lets_the_request_kinds_through_dispatch(session, shelf):
    """Pick in, put back out, issue out, undo an issue in; a count or an adjustment may find picked
    stock missing there (down), never put stock there (up)."""
    pens, a01, a02, dispatch, staff = shelf
    booked(session, "pick", pens, from_bin=a01, to_bin=dispatch, quantity=5, user=staff)
    booked(session, "move", pens, from_bin=dispatch, to_bin=a02, quantity=1, user=staff, put_back=True)
    booked(session, "issue", pens, from_bin=dispatch, quantity=2, user=staff)
    booked(session, "undo_issue", pens, to_bin=dispatch, quantity=2, user=staff)
    booked(session, "adjust", pens, from_bin=dispatch, quantity=1, user=staff)
    stock.count(session, dispatch, {pens: 2}, staff)
    with pytest.raises(InvalidInput, match="DISPATCH holds picked stock"):
        stock.count(session, dispatch, {pens: 3}, staff)
    session.expire_all()
    assert [stock_queries.level(session, pens, each) for each in (a01, a02, dispatch)] == [5, 1, 2]
    assert stock.check_ledger(session) == []


def test_book_refuses_archived_bins_and_new_stock_of_archived_items(session, shelf, make_item, make_bin):
    pens, a01, a02, _dispatch, staff = shelf
    old_bin = bins.set_archived(session, make_bin("Z-99"))
    before = ledger(session)
    for kind, how in [("receive", {}), ("adjust", {}), ("return", {}), ("move", {"from_bin": a01}),
                      ("put_away", {"from_bin": a01})]:
        with pytest.raises(InvalidInput, match="Bin Z-99 is archived; restore it before putting stock in it.") \
                as refused:
            booked(session, kind, pens, to_bin=old_bin, quantity=1, user=staff, **how)
        assert refused.value.about == "bin"
    catalog.set_archived(session, item=pens)
    pens = catalog.get_item(session, "PEN-1")
    for kind, how in [("receive", {}), ("adjust", {}), ("put_away", {"from_bin": a01})]:
        with pytest.raises(InvalidInput, match="PEN-1 is archived; restore it before booking stock into it."):
            booked(session, kind, pens, to_bin=a02, quantity=1, user=staff, **how)
    assert ledger(session) == before
    # What is there of an archived item can still be moved out and taken away.
    booked(session, "move", pens, from_bin=a01, to_bin=a02, quantity=4, user=staff)
    booked(session, "adjust", pens, from_bin=a01, quantity=6, user=staff)
    assert stock.check_ledger(session) == []


def test_book_never_takes_a_level_below_zero(session, shelf):
    pens, a01, a02, _dispatch, staff = shelf
    before = ledger(session)
    with pytest.raises(InsufficientStock, match="Bin A-01 holds 10 of PEN-1; cannot take 11."):
        booked(session, "move", pens, from_bin=a01, to_bin=a02, quantity=11, user=staff)
    with pytest.raises(InsufficientStock, match="Bin A-02 holds 0 of PEN-1; cannot take 1."):
        booked(session, "adjust", pens, from_bin=a02, quantity=1, user=staff)
    assert ledger(session) == before


def test_book_writes_the_ledger_row_with_the_cost_given_or_the_items_cost_now(session, shelf):
    pens, a01, a02, _dispatch, staff = shelf
    moved = booked(session, "move", pens, from_bin=a01, to_bin=a02, quantity=3, user=staff, reason="tidy",
                   reference="R-1")
    received = booked(session, "receive", pens, to_bin=a02, quantity=2, user=staff, unit_cost="1.25")
    assert (moved.kind, moved.from_bin_id, moved.to_bin_id, moved.quantity, moved.reason, moved.reference) == (
        "move", a01.id, a02.id, 3, "tidy", "R-1")
    assert str(received.unit_cost) == "1.25"
    assert [stock_queries.level(session, pens, each) for each in (a01, a02)] == [7, 5]
    assert stock.check_ledger(session) == []


# book_many ------------------------------------------------------------------------------------

def test_book_many_refuses_the_whole_batch_for_one_bad_row(session, shelf, make_item):
    pens, a01, a02, dispatch, staff = shelf
    mugs = make_item("MUG-1", on_hand=4, bin="A-01")
    before = ledger(session)
    batches = [
        ([booking.Booking("receive", pens, 5, to_bin=a02), booking.Booking("receive", mugs, 5, to_bin=dispatch)],
         InvalidInput, INTO_DISPATCH),
        ([booking.Booking("receive", pens, 5, to_bin=a02), booking.Booking("receive", mugs, 0, to_bin=a02)],
         InvalidInput, "Quantity must be more than zero."),
        ([booking.Booking("move", pens, 6, from_bin=a01, to_bin=a02), booking.Booking("move", pens, 6, from_bin=a01,
                                                                                 to_bin=a02)],
         InsufficientStock, "Bin A-01 holds 10 of PEN-1; cannot take 12."),
        ([booking.Booking("count", pens, 1, to_bin=a01, counted=stock.MAX_QUANTITY + 1)],
         InvalidInput, "A counted quantity must be at most"),
    ]
    for bookings, error, message in batches:
        with pytest.raises(error, match=re.escape(message)), write_transaction(session):
            booking.book_many(session, bookings, staff)
        assert ledger(session) == before


def test_book_many_reads_archived_bins_as_they_are_now(session, shelf, make_bin):
    pens, _a01, _a02, _dispatch, staff = shelf
    stale = make_bin("Z-99")
    db.session.execute(Bin.__table__.update().where(Bin.id == stale.id).values(archived=True))
    assert stale.archived is False  # the object still says it is in use
    with pytest.raises(InvalidInput, match="Bin Z-99 is archived"), write_transaction(session, expire=False):
        booking.book_many(session, [booking.Booking("receive", pens, 1, to_bin=stale)], staff)


# Through each rule ----------------------------------------------------------------------------

def test_each_stock_rule_refuses_dispatch_as_a_destination(session, shelf):
    pens, a01, _a02, dispatch, staff = shelf
    before = ledger(session)
    calls = [
        lambda: stock.receive(session, pens, dispatch, 1, staff),
        lambda: stock.put_away(session, pens, a01, dispatch, 1, staff),
        lambda: stock.move(session, pens, a01, dispatch, 1, staff),
        lambda: stock.adjust(session, pens, dispatch, 1, staff, "found"),
        lambda: stock.count(session, dispatch, {pens: 1}, staff),
        lambda: stock.count_one(session, pens, dispatch, 1, staff),
    ]
    for call in calls:
        with pytest.raises(InvalidInput, match="DISPATCH") as refused:
            call()
        assert refused.value.about == "bin"
        assert ledger(session) == before


@pytest.mark.parametrize("quantity", [0, -1, 2.5, stock.MAX_QUANTITY + 1])
def test_each_stock_rule_refuses_a_bad_quantity(session, shelf, quantity):
    pens, a01, a02, _dispatch, staff = shelf
    before = ledger(session)
    for call in [lambda: stock.receive(session, pens, a02, quantity, staff),
                 lambda: stock.put_away(session, pens, a01, a02, quantity, staff),
                 lambda: stock.move(session, pens, a01, a02, quantity, staff)]:
        with pytest.raises(InvalidInput, match="Quantity must be"):
            call()
    assert ledger(session) == before


def test_each_stock_rule_refuses_archived_bins_and_items(session, shelf, make_bin):
    pens, a01, a02, _dispatch, staff = shelf
    old = bins.set_archived(session, make_bin("Z-99"))
    before = ledger(session)
    for call in [lambda: stock.receive(session, pens, old, 1, staff),
                 lambda: stock.put_away(session, pens, a01, old, 1, staff),
                 lambda: stock.move(session, pens, a01, old, 1, staff),
                 lambda: stock.adjust(session, pens, old, 1, staff, "found"),
                 lambda: stock.count(session, old, {pens: 1}, staff)]:
        with pytest.raises(InvalidInput, match="Bin Z-99 is archived"):
            call()
    catalog.set_archived(session, item=pens)
    pens = catalog.get_item(session, "PEN-1")
    for call in [lambda: stock.receive(session, pens, a02, 1, staff),
                 lambda: stock.put_away(session, pens, a01, a02, 1, staff),
                 lambda: stock.adjust(session, pens, a02, 1, staff, "found")]:
        with pytest.raises(InvalidInput, match="PEN-1 is archived"):
            call()
    assert ledger(session) == before


def test_each_stock_rule_refuses_to_take_more_than_the_bin_holds(session, shelf):
    pens, a01, a02, _dispatch, staff = shelf
    before = ledger(session)
    for call in [lambda: stock.put_away(session, pens, a01, a02, 11, staff),
                 lambda: stock.move(session, pens, a01, a02, 11, staff),
                 lambda: stock.adjust(session, pens, a01, -11, staff, "lost")]:
        with pytest.raises(InsufficientStock, match="cannot take 11"):
            call()
    assert ledger(session) == before


def test_a_po_receipt_goes_through_the_same_refusals(session, shelf, make_user, make_bin):
    _pens, _a01, a02, dispatch, staff = shelf
    manager = make_user("manager")
    order = purchasing.create(session, manager, lines=[("PEN-1", 20, None)], supplier="PromoHub")
    order = purchasing.mark_ordered(session, order.id, manager, SOON + timedelta(days=10))
    line_id = order.lines[0].id
    old = bins.set_archived(session, make_bin("Z-99"))
    before = ledger(session)
    with pytest.raises(InvalidInput, match=re.escape(INTO_DISPATCH)):
        purchasing.receive(session, order.id, line_id, dispatch, 5, staff)
    with pytest.raises(InvalidInput, match="Bin Z-99 is archived"):
        purchasing.receive(session, order.id, line_id, old, 5, staff)
    assert ledger(session) == before
    receipt = purchasing.receive(session, order.id, line_id, a02, 5, staff)
    assert (receipt.movement.kind, receipt.movement.reference, receipt.bin_quantity) == ("receive", order.number, 5)


def test_request_rules_book_through_dispatch_and_no_further(session, shelf, make_user, make_bin):
    pens, a01, a02, dispatch, staff = shelf
    rep, manager = make_user("rep"), make_user("manager")
    request = submission.submit(session, rep, [(pens, 4)], purpose="client_meeting", needed_by=SOON)
    review.approve(session, request.id, manager)
    line_id = request.lines[0].id
    with pytest.raises(InvalidInput, match="Pick from a stock bin, not from DISPATCH."):
        fulfilment.pick(session, request.id, dispatch, {line_id: 4}, staff)
    fulfilment.pick(session, request.id, a01, {line_id: 4}, staff)
    with pytest.raises(InvalidInput, match="Put picked stock back into a stock bin."):
        fulfilment.put_back(session, request.id, line_id, dispatch, 1, staff)
    fulfilment.put_back(session, request.id, line_id, a02, 1, staff)
    session.expire_all()
    assert [stock_queries.level(session, pens, each) for each in (a01, a02, dispatch)] == [6, 1, 3]
    kinds = session.scalars(select(Movement.kind).where(Movement.reference == request.number)
                            .order_by(Movement.id)).all()
    assert kinds == ["pick", "move"]
    assert stock.check_ledger(session) == []


def test_the_stock_import_refuses_what_a_booking_refuses(session, shelf, make_bin, make_user):
    manager = make_user("manager")
    bins.set_archived(session, make_bin("Z-99"))
    before = ledger(session)
    with pytest.raises(ImportRefused) as refused:
        transfer.import_stock(session, "sku,bin,quantity\nPEN-1,Z-99,4\nPEN-1,DISPATCH,2\n", manager)
    problems = {bad.line: bad.reason for bad in refused.value.report.bad_rows}
    assert problems[2] == "Bin Z-99 is archived; restore it before putting stock in it"
    assert "DISPATCH holds picked stock" in problems[3]
    assert ledger(session) == before


def test_the_stock_import_books_through_book_many(session, shelf, make_user):
    pens, a01, _a02, _dispatch, _staff = shelf
    manager = make_user("manager")
    transfer.import_stock(session, "sku,bin,quantity\nPEN-1,A-01,7\nPEN-1,B-09,3\n", manager, create_bins=True)
    session.expire_all()
    rows = session.execute(select(Movement.kind, Movement.quantity, Movement.counted, Movement.reference)
                           .where(Movement.user_id == manager.id).order_by(Movement.id)).all()
    assert sorted(tuple(row) for row in rows) == [("count", 3, 7, "CSV import"), ("receive", 3, None, "CSV import")]
    assert stock_queries.level(session, pens, a01) == 7
    assert stock.check_ledger(session) == []


def error_for(html, box_id):
    """The message under box `box_id` (the element its aria-describedby names)."""
    box = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{re.escape(box_id)}"[^>]*>', html)
    assert box, f"no box #{box_id}"
    described = re.search(r'aria-describedby="([^"]+)"', box.group(0))
    assert described and 'aria-invalid="true"' in box.group(0), f"#{box_id} is not marked as refused"
    return re.search(rf'id="{re.escape(described.group(1))}"[^>]*>([^<]*)<', html).group(1).strip()


def value_of(html, box_id):
    box = re.search(rf'<input[^>]*\bid="{re.escape(box_id)}"[^>]*>', html)
    return re.search(r'value="([^"]*)"', box.group(0)).group(1)


# The API and the page -------------------------------------------------------------------------

@pytest.fixture
def token(session, make_user):
    from inventory.auth import services as auth

    _row, secret = auth.create_token(db.session, make_user("staff"), "tests")
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("body", [
    {"kind": "receive", "sku": "PEN-1", "bin": "DISPATCH", "quantity": 3},
    {"kind": "put_away", "sku": "PEN-1", "from_bin": "A-01", "bin": "DISPATCH", "quantity": 3},
    {"kind": "move", "sku": "PEN-1", "from_bin": "A-01", "to_bin": "DISPATCH", "quantity": 3},
    {"kind": "adjust", "sku": "PEN-1", "bin": "DISPATCH", "change": 3, "reason": "found"},
    {"kind": "count", "bin": "DISPATCH", "counts": [{"sku": "PEN-1", "counted": 3}]},
])
@pytest.mark.usefixtures("shelf")
def test_the_api_answers_400_for_stock_into_dispatch_and_writes_nothing(client, session, token, body):
    before = ledger(session)
    response = client.post("/api/v1/movements", json=body, headers=token)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert set(response.get_json()) == {"error"} and "DISPATCH" in response.get_json()["error"]
    if body["kind"] == "receive":
        assert response.get_json()["error"] == INTO_DISPATCH
    assert ledger(session) == before


def test_the_receive_page_says_why_not_dispatch_next_to_the_bin_box_and_keeps_the_input(client, login, session,
                                                                                         shelf):
    login("staff")
    before = ledger(session)
    response = client.post("/stock/receive", data={"sku": "PEN-1", "bin": "DISPATCH", "quantity": "7",
                                                   "reference": "PO-77"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert error_for(html, "bin") == INTO_DISPATCH
    assert (value_of(html, "sku"), value_of(html, "bin"), value_of(html, "quantity"), value_of(html, "reference")) == (
        "PEN-1", "DISPATCH", "7", "PO-77")
    assert ledger(session) == before
