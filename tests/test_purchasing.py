"""Purchase orders: raising, ordering, cancelling and receiving them (partial receipts, refusals
that write nothing, backorders filled in request order, concurrent receipts), their pages by role,
and the API."""
import re
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from inventory.auth.services import create_token
from inventory.bins import services as bins
from inventory.catalog import services as catalog
from inventory.errors import Conflict, Forbidden, InvalidInput, NotFound, UnknownItem
from inventory.events.models import Event
from inventory.extensions import db
from inventory.purchasing import services as purchasing
from inventory.purchasing.models import PurchaseOrder, PurchaseOrderLine
from inventory.requests import submission
from inventory.requests.fulfilment import dispatch_bin
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock
from inventory.stock.models import Movement

TODAY = date.today()


def day(n):
    return TODAY + timedelta(days=n)


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="Morgan Manager")


@pytest.fixture
def staff(make_user):
    return make_user("staff", name="Sam Stockroom")


@pytest.fixture
def print_items(make_item):
    """Two print pieces from PrintWorks Ltd and a promo item from another supplier."""
    brochure = make_item("BRO-ATLAS-26", name="Atlas brochure", category="print", on_hand=100, bin="B-01",
                         supplier="PrintWorks Ltd", unit_cost=Decimal("0.85"), lead_time_days=21,
                         reorder_quantity=2000)
    flyer = make_item("FLY-ATLAS", name="Atlas one-pager", category="print", supplier="PrintWorks Ltd",
                      unit_cost=Decimal("0.12"), lead_time_days=14)
    pen = make_item("PEN-LOGO", name="Logo pen", supplier="PromoHub", unit_cost=Decimal("0.45"))
    return brochure, flyer, pen


@pytest.fixture
def ordered(session, manager, print_items, make_bin):
    """An ordered PO: 500 brochures and 1000 flyers, expected in 10 days."""
    make_bin("B-02")

    def make(lines=(("BRO-ATLAS-26", 500), ("FLY-ATLAS", 1000)), expected_on=None, today=None):
        order = purchasing.create(session, manager, lines=[(sku, qty, None) for sku, qty in lines])
        return purchasing.mark_ordered(session, order.id, manager, expected_on or day(10), today=today)

    return make


def counts(session):
    return (session.scalar(select(func.count(PurchaseOrder.id))),
            session.scalar(select(func.count(PurchaseOrderLine.id))),
            session.scalar(select(func.count(Movement.id))))


def value_of(page, name):
    """The value of the input called `name` in a page."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert match, f"no input {name}"
    found = re.search(r'value="([^"]*)"', match.group(0))
    return found.group(1) if found else None


def line_of(order, sku):
    return next(line for line in order.lines if line.item.sku == sku)


# Raising and editing ------------------------------------------------------------------------------

def test_a_draft_takes_the_items_supplier_and_unit_costs_unless_given(session, manager, print_items):
    order = purchasing.create(session, manager, lines=[("bro-atlas-26", 2000, None), ("FLY-ATLAS", 5000, "0.10")],
                              note="For Expo West")
    assert (order.status, order.supplier, order.number) == ("draft", "PrintWorks Ltd", f"PO-{order.id:05d}")
    assert [(line.item.sku, line.quantity, line.unit_cost, line.received) for line in order.lines] == [
        ("BRO-ATLAS-26", 2000, Decimal("0.85"), 0), ("FLY-ATLAS", 5000, Decimal("0.10"), 0)]
    assert purchasing.total_cost(order) == Decimal("2200.00")
    assert order.expected_on is None and order.created_by_id == manager.id


def test_the_supplier_must_be_named_when_the_items_have_different_ones(session, manager, print_items):
    with pytest.raises(InvalidInput, match="Say which supplier"):
        purchasing.create(session, manager, lines=[("BRO-ATLAS-26", 10, None), ("PEN-LOGO", 10, None)])
    order = purchasing.create(session, manager, supplier="  Mixed Supplies  ",
                              lines=[("BRO-ATLAS-26", 10, None), ("PEN-LOGO", 10, None)])
    assert order.supplier == "Mixed Supplies"


@pytest.mark.parametrize("lines, error, message", [
    ([], InvalidInput, "at least one line"),
    ([("NOPE-1", 10, None)], UnknownItem, "NOPE-1"),
    ([("BRO-ATLAS-26", 0, None)], InvalidInput, "more than zero"),
    ([("BRO-ATLAS-26", -5, None)], InvalidInput, "more than zero"),
    ([("BRO-ATLAS-26", "5", None)], InvalidInput, "whole number"),
    ([("BRO-ATLAS-26", True, None)], InvalidInput, "whole number"),
    ([("BRO-ATLAS-26", 10_000_000, None)], InvalidInput, "at most"),
    ([("BRO-ATLAS-26", 10, None), ("bro-atlas-26", 5, None)], InvalidInput, "twice"),
    ([("BRO-ATLAS-26", 10, "-1")], InvalidInput, "negative"),
    ([("BRO-ATLAS-26", 10, "cheap")], InvalidInput, "must be a number"),
    ([("BRO-ATLAS-26", 10, "0.085")], InvalidInput, "2 decimals"),
    ([("BRO-ATLAS-26", 10, "NaN")], InvalidInput, "must be a number"),
    ([("FLY-ATLAS", 10, None), ("NOPE-2", 5, None)], UnknownItem, "NOPE-2"),
])
def test_bad_lines_are_refused_whole_and_write_nothing(session, manager, print_items, lines, error, message):
    with pytest.raises(error, match=message):
        purchasing.create(session, manager, lines=lines)
    assert counts(session)[:2] == (0, 0)


def test_archived_items_unknown_events_and_non_managers_are_refused(session, manager, staff, print_items):
    _brochure, flyer, _pen = print_items
    catalog.set_archived(session, item=flyer)
    with pytest.raises(InvalidInput, match="archived"):
        purchasing.create(session, manager, lines=[("FLY-ATLAS", 10, None)])
    with pytest.raises(NotFound, match="No event #999"):
        purchasing.create(session, manager, lines=[("BRO-ATLAS-26", 10, None)], event_id=999)
    with pytest.raises(Forbidden):
        purchasing.create(session, staff, lines=[("BRO-ATLAS-26", 10, None)])
    assert counts(session)[:2] == (0, 0)


def test_a_draft_can_be_edited_until_it_is_ordered(session, manager, print_items):
    order = purchasing.create(session, manager, lines=[("BRO-ATLAS-26", 2000, None), ("FLY-ATLAS", 5000, None)])
    kept_line_id = line_of(order, "BRO-ATLAS-26").id
    purchasing.update_draft(session, order.id, manager, supplier="PrintWorks Ltd", note="Rush job",
                            lines=[("BRO-ATLAS-26", 2500, "0.80"), ("PEN-LOGO", 300, None)])
    order = session.get(PurchaseOrder, order.id)
    assert [(line.item.sku, line.quantity, line.unit_cost) for line in order.lines] == [
        ("BRO-ATLAS-26", 2500, Decimal("0.80")), ("PEN-LOGO", 300, Decimal("0.45"))]
    assert line_of(order, "BRO-ATLAS-26").id == kept_line_id and order.note == "Rush job"
    assert session.scalar(select(func.count(PurchaseOrderLine.id))) == 2  # the flyer line is gone
    purchasing.mark_ordered(session, order.id, manager, day(20))
    with pytest.raises(Conflict, match="ordered; it cannot be changed"):
        purchasing.update_draft(session, order.id, manager, supplier="X", lines=[("PEN-LOGO", 1, None)])


# Ordering, rescheduling, cancelling ----------------------------------------------------------------

def test_marking_ordered_needs_an_arrival_date_that_is_not_in_the_past(session, manager, print_items):
    order = purchasing.create(session, manager, lines=[("BRO-ATLAS-26", 2000, None)])
    with pytest.raises(InvalidInput, match="Say when the delivery is expected"):
        purchasing.mark_ordered(session, order.id, manager, None)
    with pytest.raises(InvalidInput, match="in the past"):
        purchasing.mark_ordered(session, order.id, manager, day(-1))
    assert session.get(PurchaseOrder, order.id).status == "draft"
    purchasing.mark_ordered(session, order.id, manager, TODAY)
    order = session.get(PurchaseOrder, order.id)
    assert (order.status, order.expected_on) == ("ordered", TODAY) and order.ordered_at is not None
    assert "Morgan Manager: ordered, expected" in order.note
    with pytest.raises(Conflict, match="cannot be marked ordered"):
        purchasing.mark_ordered(session, order.id, manager, day(3))


def test_the_date_an_order_is_placed_on_is_injected_not_read_from_the_clock(session, manager, print_items):
    order = purchasing.create(session, manager, lines=[("BRO-ATLAS-26", 2000, None)])
    purchasing.mark_ordered(session, order.id, manager, day(-3), today=day(-20))
    assert session.get(PurchaseOrder, order.id).expected_on == day(-3)


def test_a_new_arrival_date_is_logged_with_its_reason(session, manager, ordered):
    order = ordered()
    purchasing.reschedule(session, order.id, manager, day(17), "printer's press broke")
    order = session.get(PurchaseOrder, order.id)
    assert order.expected_on == day(17)
    assert f"expected date {day(10).isoformat()} → {day(17).isoformat()} (printer's press broke)." in order.note
    with pytest.raises(InvalidInput, match="in the past"):
        purchasing.reschedule(session, order.id, manager, day(-1))
    with pytest.raises(InvalidInput, match="already expected"):
        purchasing.reschedule(session, order.id, manager, day(17))


def test_cancelling_is_refused_once_anything_was_received(session, manager, staff, ordered, make_bin):
    draft = purchasing.create(session, manager, lines=[("PEN-LOGO", 100, None)])
    assert purchasing.cancel(session, draft.id, manager).status == "cancelled"
    with pytest.raises(Conflict, match="cancelled; it cannot be marked ordered"):
        purchasing.mark_ordered(session, draft.id, manager, day(5))

    untouched = ordered()
    purchasing.cancel(session, untouched.id, manager, "Event called off")
    assert "cancelled: Event called off" in session.get(PurchaseOrder, untouched.id).note

    started = ordered()
    purchasing.receive(session, started.id, line_of(started, "FLY-ATLAS").id, make_bin("B-02"), 10, staff)
    with pytest.raises(Conflict, match=r"10 × FLY-ATLAS already received"):
        purchasing.cancel(session, started.id, manager)
    assert session.get(PurchaseOrder, started.id).status == "ordered"
    with pytest.raises(Forbidden):
        purchasing.cancel(session, started.id, staff)


# Receiving ---------------------------------------------------------------------------------------

def test_partial_receipts_then_complete_lines_receive_the_order(session, staff, ordered, print_items, make_bin):
    brochure, flyer, _pen = print_items
    order = ordered()
    b01, b02 = make_bin("B-01"), make_bin("B-02")

    receipt = purchasing.receive(session, order.id, line_of(order, "BRO-ATLAS-26").id, b01, 300, staff)
    assert (receipt.quantity, receipt.bin_quantity, receipt.backorders_filled) == (300, 400, [])
    assert (receipt.movement.kind, receipt.movement.reference) == ("receive", order.number)
    assert receipt.movement.to_bin_id == b01.id and receipt.movement.user_id == staff.id
    assert "PrintWorks Ltd" in receipt.movement.reason
    order = session.get(PurchaseOrder, order.id)
    assert (line_of(order, "BRO-ATLAS-26").received, line_of(order, "BRO-ATLAS-26").outstanding) == (300, 200)
    assert order.status == "ordered"

    purchasing.receive(session, order.id, line_of(order, "BRO-ATLAS-26").id, b02, 200, staff)
    purchasing.receive(session, order.id, line_of(order, "FLY-ATLAS").id, b02, 1000, staff)
    order = session.get(PurchaseOrder, order.id)
    assert order.status == "received"
    assert [line.outstanding for line in order.lines] == [0, 0]
    assert (stock_queries.level(session, brochure, b01), stock_queries.level(session, brochure, b02)) == (400, 200)
    assert stock_queries.level(session, flyer, b02) == 1000
    assert stock.check_ledger(session) == []


def _refusal_cases():
    return {
        "zero": (0, InvalidInput, "more than zero"),
        "negative": (-5, InvalidInput, "more than zero"),
        "text": ("5", InvalidInput, "whole number"),
        "over": (501, InvalidInput, r"Only 500 × BRO-ATLAS-26 still to come .* cannot receive 501"),
    }


@pytest.mark.parametrize("case", list(_refusal_cases()))
def test_bad_quantities_are_refused_and_write_nothing(session, staff, ordered, make_bin, case):
    quantity, error, message = _refusal_cases()[case]
    order = ordered()
    before = counts(session)
    with pytest.raises(error, match=message):
        purchasing.receive(session, order.id, line_of(order, "BRO-ATLAS-26").id, make_bin("B-01"), quantity, staff)
    assert counts(session) == before
    assert [line.received for line in session.get(PurchaseOrder, order.id).lines] == [0, 0]
    assert stock.check_ledger(session) == []


def test_over_receipt_after_a_partial_one_says_what_is_still_to_come(session, staff, ordered, make_bin):
    order = ordered()
    line_id = line_of(order, "BRO-ATLAS-26").id
    purchasing.receive(session, order.id, line_id, make_bin("B-01"), 450, staff)
    with pytest.raises(InvalidInput, match=r"Only 50 .* \(450 of 500 received\); cannot receive 60"):
        purchasing.receive(session, order.id, line_id, make_bin("B-01"), 60, staff)
    assert session.get(PurchaseOrderLine, line_id).received == 450


def test_receiving_a_draft_cancelled_or_received_order_is_refused(session, manager, staff, ordered, make_bin):
    bin = make_bin("B-01")
    draft = purchasing.create(session, manager, lines=[("PEN-LOGO", 100, None)])
    with pytest.raises(Conflict, match="is a draft: mark it ordered"):
        purchasing.receive(session, draft.id, draft.lines[0].id, bin, 10, staff)
    purchasing.cancel(session, draft.id, manager)
    with pytest.raises(Conflict, match="cancelled; it cannot be received"):
        purchasing.receive(session, draft.id, draft.lines[0].id, bin, 10, staff)
    done = ordered(lines=[("FLY-ATLAS", 10)])
    purchasing.receive(session, done.id, done.lines[0].id, bin, 10, staff)
    with pytest.raises(Conflict, match="fully received already"):
        purchasing.receive(session, done.id, done.lines[0].id, bin, 1, staff)
    assert session.scalar(select(func.count(Movement.id)).where(Movement.reference == draft.number)) == 0


def test_archived_bins_and_items_dispatch_and_unknown_lines_are_refused(session, manager, staff, ordered,
                                                                         print_items, make_bin):
    brochure, _flyer, _pen = print_items
    order = ordered()
    line_id = line_of(order, "BRO-ATLAS-26").id
    shelf = bins.set_archived(session, make_bin("Z-99"))
    before = counts(session)
    with pytest.raises(InvalidInput, match="Bin Z-99 is archived; restore it before putting stock in it."):
        purchasing.receive(session, order.id, line_id, shelf, 10, staff)
    with pytest.raises(InvalidInput, match="DISPATCH holds picked requests"):
        purchasing.receive(session, order.id, line_id, dispatch_bin(session), 10, staff)
    with pytest.raises(NotFound, match="has no line #999"):
        purchasing.receive(session, order.id, 999, make_bin("B-01"), 10, staff)
    with pytest.raises(NotFound, match="No purchase order #999"):
        purchasing.receive(session, 999, line_id, make_bin("B-01"), 10, staff)
    catalog.set_archived(session, item=brochure)
    with pytest.raises(InvalidInput, match="BRO-ATLAS-26 is archived; restore it before booking stock into it."):
        purchasing.receive(session, order.id, line_id, make_bin("B-01"), 10, staff)
    after = counts(session)
    assert (after[0], after[2]) == (before[0], before[2])
    assert session.get(PurchaseOrderLine, line_id).received == 0


def test_receiving_fills_backorders_first_in_request_order(session, make_user, staff, manager, make_item, make_bin):
    """Three reps wait for mugs; each receipt serves the oldest request first."""
    mug = make_item("MUG-1", name="Mug", on_hand=5, bin="A-01", supplier="PromoHub")
    first, second, third = make_user("rep"), make_user("rep"), make_user("rep")
    one = submission.submit(session, first, [(mug, 8)], purpose="client_meeting", needed_by=day(5), allow_partial=True)
    two = submission.submit(session, second, [(mug, 4)], purpose="client_meeting", needed_by=day(2),
                            allow_partial=True)
    three = submission.submit(session, third, [(mug, 2)], purpose="client_meeting", needed_by=day(1),
                              allow_partial=True)
    assert [r.lines[0].backordered for r in (one, two, three)] == [3, 4, 2]
    order = purchasing.create(session, manager, lines=[("MUG-1", 10, None)])
    purchasing.mark_ordered(session, order.id, manager, day(7))
    line_id = order.lines[0].id

    receipt = purchasing.receive(session, order.id, line_id, make_bin("A-01"), 6, staff)
    assert [(f.request_number, f.quantity) for f in receipt.backorders_filled] == [(one.number, 3), (two.number, 3)]
    lines = [session.get(type(r.lines[0]), r.lines[0].id) for r in (one, two, three)]
    assert [(line.reserved, line.backordered) for line in lines] == [(8, 0), (3, 1), (0, 2)]

    receipt = purchasing.receive(session, order.id, line_id, make_bin("A-02"), 4, staff)
    assert [(f.request_number, f.quantity) for f in receipt.backorders_filled] == [(two.number, 1), (three.number, 2)]
    assert [(session.get(type(line), line.id).reserved, line.backordered) for line in lines] == [(8, 0), (4, 0), (2, 0)]
    assert stock.availability(session, [mug.id])[mug.id].available == 15 - 14
    assert stock.check_ledger(session) == []


def test_people_receiving_the_same_line_at_once_never_receive_past_it(app, manager, staff, ordered, make_bin):
    """Eight phones confirm 1 of the last 3 units at the same instant: exactly 3 are booked."""
    order = ordered(lines=[("FLY-ATLAS", 3)])
    order_id, line_id, bin_id, staff_id = order.id, order.lines[0].id, make_bin("B-02").id, staff.id
    db.session.remove()
    barrier = threading.Barrier(8)
    outcomes = []

    def receive():
        with app.app_context():
            from inventory.auth.models import User
            from inventory.bins.models import Bin

            user, bin = db.session.get(User, staff_id), db.session.get(Bin, bin_id)
            barrier.wait()
            try:
                purchasing.receive(db.session, order_id, line_id, bin, 1, user)
                outcomes.append("received")
            except (InvalidInput, Conflict):
                outcomes.append("refused")
            finally:
                db.session.remove()

    workers = [threading.Thread(target=receive) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert sorted(outcomes) == ["received"] * 3 + ["refused"] * 5
    assert db.session.get(PurchaseOrderLine, line_id).received == 3
    assert db.session.get(PurchaseOrder, order_id).status == "received"
    assert db.session.scalar(select(func.sum(Movement.quantity)).where(Movement.reference == order.number)) == 3
    assert stock.check_ledger(db.session) == []


# Pages -------------------------------------------------------------------------------------------

def test_reps_cannot_see_purchase_orders_and_staff_cannot_raise_them(client, login, session, manager, ordered):
    order = ordered()
    login("rep")
    for url in ("/purchase-orders", "/purchase-orders/new", f"/purchase-orders/{order.id}",
                f"/purchase-orders/{order.id}/receive/{order.lines[0].id}"):
        assert client.get(url).status_code == 403, url
    client.post("/logout")
    login("staff")
    assert client.get("/purchase-orders").status_code == 200
    assert client.get(f"/purchase-orders/{order.id}").status_code == 200
    assert client.get("/purchase-orders/new").status_code == 403
    raised = client.post("/purchase-orders/new", data={"lines-0-sku": "PEN-LOGO", "lines-0-quantity": "5"})
    assert raised.status_code == 403
    assert client.post(f"/purchase-orders/{order.id}/cancel").status_code == 403
    assert client.post(f"/purchase-orders/{order.id}/reschedule", data={"expected_on": day(20)}).status_code == 403
    assert session.get(PurchaseOrder, order.id).status == "ordered"
    assert session.scalar(select(func.count(PurchaseOrder.id))) == 1


def test_the_forecast_link_prefills_a_new_order(client, login, session, manager, print_items):
    event = Event(name="Expo West", starts_on=day(40), ends_on=day(42), ship_by=day(37))
    session.add(event)
    session.commit()
    login("manager")
    page = client.get(f"/purchase-orders/new?supplier=PrintWorks%20Ltd&line=BRO-ATLAS-26:2000"
                      f"&line=FLY-ATLAS:5000&event_id={event.id}").get_data(as_text=True)
    assert value_of(page, "supplier") == "PrintWorks Ltd"
    assert [value_of(page, f"lines-{n}-{name}") for n in (0, 1) for name in ("sku", "quantity", "unit_cost")] == [
        "BRO-ATLAS-26", "2000", "0.85", "FLY-ATLAS", "5000", "0.12"]
    assert value_of(page, "lines-2-sku") == ""
    assert f'<option selected value="{event.id}">Expo West' in page
    assert "Atlas brochure · PrintWorks Ltd · 21 days lead time" in page
    # No supplier given: the one the items share. Unknown SKUs stay, with a message.
    page = client.get("/purchase-orders/new?line=FLY-ATLAS:5000&line=NOPE-9:10&line=BRO-ATLAS-26")
    page = page.get_data(as_text=True)
    assert value_of(page, "supplier") == "PrintWorks Ltd" and "No item has the SKU NOPE-9." in page
    assert value_of(page, "lines-1-sku") == "NOPE-9"
    assert value_of(page, "lines-2-quantity") == "2000"  # no quantity given: the item's reorder quantity


def test_a_manager_raises_edits_and_orders_a_po_through_the_pages(client, login, session, print_items):
    login("manager")
    form = {"supplier": "", "event_id": "", "note": "For the big show",
            "lines-0-sku": "bro-atlas-26", "lines-0-quantity": "2000", "lines-0-unit_cost": "",
            "lines-1-sku": "FLY-ATLAS", "lines-1-quantity": "5000", "lines-1-unit_cost": "0.11",
            "lines-2-sku": "", "lines-2-quantity": "", "lines-2-unit_cost": ""}
    more = client.post("/purchase-orders/new", data={**form, "more": "1"})
    assert more.status_code == 200 and value_of(more.get_data(as_text=True), "lines-5-sku") == ""
    assert session.scalar(select(func.count(PurchaseOrder.id))) == 0
    response = client.post("/purchase-orders/new", data=form)
    order = session.scalar(select(PurchaseOrder))
    assert response.headers["Location"] == f"/purchase-orders/{order.id}"
    assert (order.supplier, [(line.item.sku, line.quantity, str(line.unit_cost)) for line in order.lines]) == (
        "PrintWorks Ltd", [("BRO-ATLAS-26", 2000, "0.85"), ("FLY-ATLAS", 5000, "0.11")])
    page = client.get(f"/purchase-orders/{order.id}").get_data(as_text=True)
    assert "Mark ordered" in page and "$2,250.00" in page and "Edit lines" in page

    edit = client.get(f"/purchase-orders/{order.id}/edit").get_data(as_text=True)
    assert (value_of(edit, "lines-0-sku"), value_of(edit, "lines-0-unit_cost")) == ("BRO-ATLAS-26", "0.85")
    client.post(f"/purchase-orders/{order.id}/edit", data={**form, "lines-1-quantity": "4000"})
    assert line_of(session.get(PurchaseOrder, order.id), "FLY-ATLAS").quantity == 4000

    past = client.post(f"/purchase-orders/{order.id}/order", data={"expected_on": day(-1).isoformat()},
                       follow_redirects=True)
    assert "in the past" in past.get_data(as_text=True) and session.get(PurchaseOrder, order.id).status == "draft"
    done = client.post(f"/purchase-orders/{order.id}/order", data={"expected_on": day(12).isoformat()},
                       follow_redirects=True).get_data(as_text=True)
    assert "is ordered, expected" in done and "Change the expected date" in done
    assert session.get(PurchaseOrder, order.id).status == "ordered"
    assert client.get(f"/purchase-orders/{order.id}/edit").status_code == 302  # no editing once ordered


def test_bad_form_lines_are_shown_and_nothing_is_written(client, login, session, print_items):
    login("manager")
    for data, message in [
        ({"lines-0-sku": "NOPE-1", "lines-0-quantity": "5"}, "No item has the SKU"),
        ({"lines-0-sku": "PEN-LOGO", "lines-0-quantity": ""}, "How many?"),
        ({"lines-0-sku": "", "lines-0-quantity": "5"}, "Which item?"),
        ({"lines-0-sku": "PEN-LOGO", "lines-0-quantity": "x"}, "Not a valid integer value"),
        ({"lines-0-sku": "PEN-LOGO", "lines-0-quantity": "0"}, "At least 1."),
        ({"lines-0-sku": "PEN-LOGO", "lines-0-quantity": "5", "lines-0-unit_cost": "-2"}, "cannot be negative"),
        ({"lines-0-sku": "", "lines-0-quantity": ""}, "Add at least one line"),
    ]:
        response = client.post("/purchase-orders/new", data=data)
        assert response.status_code == 400 and message in response.get_data(as_text=True), message
    assert session.scalar(select(func.count(PurchaseOrder.id))) == 0


def test_the_list_puts_open_orders_first_and_marks_the_overdue(client, login, session, manager, staff, ordered,
                                                               make_bin):
    later = ordered(expected_on=day(10))
    late = ordered(expected_on=day(-2), today=day(-30))
    draft = purchasing.create(session, manager, lines=[("PEN-LOGO", 100, None)])
    done = ordered(lines=[("PEN-LOGO", 5)])
    purchasing.receive(session, done.id, done.lines[0].id, make_bin("A-09"), 5, staff)
    login("manager")
    page = client.get("/purchase-orders").get_data(as_text=True)
    positions = [page.index(order.number) for order in (late, later, draft)]
    assert positions == sorted(positions) and done.number not in page  # open ones only by default
    assert page.count("Overdue") == 1 and "2 days late" in page
    everything = client.get("/purchase-orders?status=all").get_data(as_text=True)
    assert everything.index(draft.number) < everything.index(done.number)
    client.post("/logout")
    login("staff")
    page = client.get("/purchase-orders").get_data(as_text=True)
    assert late.number in page and later.number in page and draft.number not in page
    assert "New purchase order" not in page
    assert late.number not in client.get("/purchase-orders?supplier=Nobody").get_data(as_text=True)


def test_staff_receive_a_line_and_see_the_bin_and_what_is_still_to_come(client, login, session, ordered, make_bin):
    order = ordered()
    make_bin("B-01")
    line = line_of(order, "BRO-ATLAS-26")
    login("staff")
    page = client.get(f"/purchase-orders/{order.id}").get_data(as_text=True)
    assert f'/purchase-orders/{order.id}/receive/{line.id}' in page and "Mark ordered" not in page
    form_page = client.get(f"/purchase-orders/{order.id}/receive/{line.id}").get_data(as_text=True)
    assert 'data-scan-open="receive-scanner"' in form_page and 'data-target="bin"' in form_page
    assert "B-01 <small>(100)</small>" in form_page  # where it is kept now, one tap to choose

    url = f"/purchase-orders/{order.id}/receive/{line.id}"
    for data, message in [({"bin": "Q-77", "quantity": "10"}, "No bin has the code"),
                          ({"bin": "B-01", "quantity": "900"}, "Only 500 × BRO-ATLAS-26 still to come"),
                          ({"bin": "B-01", "quantity": "0"}, "1 or more"),
                          ({"bin": "", "quantity": "5"}, "Scan or type the bin"),
                          ({"bin": "http://localhost/i/BRO-ATLAS-26", "quantity": "5"}, "label of item")]:
        refused = client.post(url, data=data)
        assert refused.status_code == 400 and message in refused.get_data(as_text=True), message
    assert session.scalar(select(func.count(Movement.id)).where(Movement.reference == order.number)) == 0

    response = client.post(url, data={"bin": "http://localhost/b/b-01", "quantity": "300"})  # a scanned label URL
    movement = session.scalar(select(Movement).where(Movement.reference == order.number))
    assert response.headers["Location"] == f"/purchase-orders/{order.id}/receipts/{movement.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Received 300 × Atlas brochure" in page and "into bin" in page
    assert re.search(r'stat-value">400</span><span class="stat-label">now in <span[^>]*>B-01<', page)
    assert "200 × Atlas brochure" in page and "1000 × Atlas one-pager" in page  # still to come
    assert client.get(f"/purchase-orders/{order.id}/receipts/{movement.id + 100}").status_code == 404


def test_receiving_the_last_line_ends_on_fully_received(client, login, session, ordered, make_bin):
    order = ordered(lines=[("FLY-ATLAS", 40)])
    make_bin("B-02")
    login("staff")
    response = client.post(f"/purchase-orders/{order.id}/receive/{order.lines[0].id}",
                           data={"bin": "b-02", "quantity": "40"}, follow_redirects=True)
    assert "is fully received" in response.get_data(as_text=True)
    again = client.get(f"/purchase-orders/{order.id}/receive/{order.lines[0].id}", follow_redirects=True)
    assert "fully received already" in again.get_data(as_text=True)


def test_the_po_number_on_a_delivery_note_finds_the_order(client, login, ordered):
    order = ordered()
    login("staff")
    for typed in (order.number, order.number.lower(), f"PO{order.id}"):
        assert client.get(f"/find?code={typed}").headers["Location"] == f"/purchase-orders/{order.id}"
    assert client.get("/find?code=PO-99999").status_code == 404
    client.post("/logout")
    login("rep")
    assert client.get(f"/find?code={order.number}").status_code == 404  # reps do not see purchase orders


def test_the_demo_has_an_order_on_its_way_one_overdue_and_one_received(runner, session):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    orders = session.scalars(select(PurchaseOrder).order_by(PurchaseOrder.id)).all()
    assert [(o.status, o.supplier) for o in orders] == [
        ("ordered", "PrintWorks Ltd"), ("ordered", "TechSwag"), ("received", "Threadline Apparel")]
    assert orders[0].expected_on == day(10) and orders[1].expected_on < TODAY
    assert all(line.outstanding == 0 for line in orders[2].lines)
    assert runner.invoke(args=["check"]).exit_code == 0


def test_a_manager_cancels_and_reschedules_from_the_po_page(client, login, session, ordered):
    order, other = ordered(), ordered()
    login("manager")
    client.post(f"/purchase-orders/{order.id}/reschedule", data={"expected_on": day(30).isoformat(),
                                                                  "reason": "Paper shortage"})
    assert session.get(PurchaseOrder, order.id).expected_on == day(30)
    page = client.post(f"/purchase-orders/{other.id}/cancel", data={"reason": "Show cancelled"},
                       follow_redirects=True).get_data(as_text=True)
    assert "is cancelled" in page and "Show cancelled" in page
    assert session.get(PurchaseOrder, other.id).status == "cancelled"
    assert client.get("/purchase-orders/999").status_code == 404


def test_numbers_too_big_for_an_id_answer_404_not_a_database_error(client, login, session, manager, ordered,
                                                                  token_for):
    """PostgreSQL's INTEGER ids stop at 2**31 - 1; a bigger number in a URL or a body names nothing."""
    order, huge = ordered(), 2**40
    login("manager")
    for url in (f"/purchase-orders/{huge}", f"/purchase-orders/{order.id}/receive/{huge}",
                f"/purchase-orders/{order.id}/receipts/{huge}", f"/purchase-orders/{huge}/edit"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/purchase-orders/new?line=PEN-LOGO:5&event_id={huge}").status_code == 200
    assert client.get(f"/purchase-orders?page={huge}").status_code == 200
    with pytest.raises(NotFound):
        purchasing.create(session, manager, lines=[("PEN-LOGO", 5, None)], event_id=huge)
    token = token_for("manager")
    assert call(client, "GET", f"/api/v1/purchase-orders/{huge}", token)[0] == 404
    assert call(client, "GET", f"/api/v1/purchase-orders?page={huge}", token)[0] == 400
    assert call(client, "GET", "/api/v1/purchase-orders?supplier=Print%00Works", token)[0] == 400  # NUL: refused
    assert client.get("/purchase-orders?supplier=Print%00Works").status_code == 400
    assert call(client, "POST", "/api/v1/purchase-orders", token,
                {"lines": [{"sku": "PEN-LOGO", "quantity": 5}], "event_id": huge})[0] == 404
    assert call(client, "POST", f"/api/v1/purchase-orders/{order.id}/receive", token,
                {"line_id": huge, "bin": "B-01", "quantity": 1})[0] == 404


def test_item_suggestions_name_the_supplier_and_cost(client, login, print_items):
    login("manager")
    html = client.get("/purchase-orders/suggest/items?lines-0-sku=atlas").get_data(as_text=True)
    assert '<option value="BRO-ATLAS-26">Atlas brochure · PrintWorks Ltd · $0.85 each</option>' in html


# API ---------------------------------------------------------------------------------------------

@pytest.fixture
def token_for(session, make_user):
    def make(role):
        user = make_user(role)
        return create_token(session, user, "test")[1]

    return make


def call(client, method, url, token, body=None):
    response = client.open(url, method=method, json=body, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.get_json()


def test_the_api_raises_orders_and_receives_a_po(client, session, token_for, print_items, make_bin, make_user):
    make_bin("B-02")
    manager, staff = token_for("manager"), token_for("staff")
    status, body = call(client, "POST", "/api/v1/purchase-orders", manager, {
        "lines": [{"sku": "BRO-ATLAS-26", "quantity": 2000},
                  {"sku": "FLY-ATLAS", "quantity": 5000, "unit_cost": "0.11"}],
        "note": "Expo West"})
    assert status == 201, body
    assert (body["status"], body["supplier"], body["total_cost"]) == ("draft", "PrintWorks Ltd", "2250.00")
    order_id = body["id"]
    status, body = call(client, "POST", f"/api/v1/purchase-orders/{order_id}/order", manager,
                        {"expected_on": day(14).isoformat()})
    assert status == 200 and (body["status"], body["expected_on"]) == ("ordered", day(14).isoformat())

    status, body = call(client, "POST", f"/api/v1/purchase-orders/{order_id}/receive", staff,
                        {"sku": "bro-atlas-26", "bin": "B-01", "quantity": 1500})
    assert status == 201, body
    assert body["level"] == {"sku": "BRO-ATLAS-26", "bin": "B-01", "quantity": 1600}
    assert body["movement"]["kind"] == "receive" and body["movement"]["reference"] == f"PO-{order_id:05d}"
    assert body["purchase_order"]["lines"][0]["outstanding"] == 500 and body["backorders_filled"] == []
    line_id = body["purchase_order"]["lines"][1]["id"]
    status, body = call(client, "POST", f"/api/v1/purchase-orders/{order_id}/receive", staff,
                        {"line_id": line_id, "bin": "b-02", "quantity": 5000})
    assert status == 201 and body["purchase_order"]["status"] == "ordered"

    status, body = call(client, "GET", f"/api/v1/purchase-orders/{order_id}", staff)
    assert status == 200 and [line["received"] for line in body["lines"]] == [1500, 5000]
    assert stock.check_ledger(session) == []


def test_the_api_lists_purchase_orders_with_filters_and_pages(client, session, token_for, manager, ordered):
    first, second = ordered(), ordered()
    purchasing.create(session, manager, lines=[("PEN-LOGO", 100, None)])
    staff = token_for("staff")
    status, body = call(client, "GET", "/api/v1/purchase-orders?per_page=2", staff)
    assert status == 200 and body["total"] == 3 and len(body["purchase_orders"]) == 2
    assert body["next"] == "/api/v1/purchase-orders?page=2&per_page=2"
    status, body = call(client, "GET", "/api/v1/purchase-orders?status=ordered&supplier=printworks%20ltd", staff)
    assert [o["id"] for o in body["purchase_orders"]] == [second.id, first.id] or \
        [o["id"] for o in body["purchase_orders"]] == [first.id, second.id]
    assert body["total"] == 2 and body["next"] is None
    status, body = call(client, "GET", "/api/v1/purchase-orders?status=draft", staff)
    assert [o["supplier"] for o in body["purchase_orders"]] == ["PromoHub"]
    assert call(client, "GET", "/api/v1/purchase-orders?status=lost", staff)[0] == 400
    assert call(client, "GET", "/api/v1/purchase-orders/999", staff) == (404, {"error": "No purchase order #999."})


@pytest.mark.parametrize("role, method, path, body, status", [
    ("rep", "GET", "/api/v1/purchase-orders", None, 403),
    ("rep", "GET", "/api/v1/purchase-orders/{id}", None, 403),
    ("staff", "POST", "/api/v1/purchase-orders", {"lines": [{"sku": "PEN-LOGO", "quantity": 5}]}, 403),
    ("staff", "POST", "/api/v1/purchase-orders/{id}/order", {"expected_on": "2099-01-01"}, 403),
    ("rep", "POST", "/api/v1/purchase-orders/{id}/receive", {"sku": "FLY-ATLAS", "bin": "B-02", "quantity": 1}, 403),
    ("manager", "POST", "/api/v1/purchase-orders", {"lines": []}, 400),
    ("manager", "POST", "/api/v1/purchase-orders", {"lines": [{"sku": "NOPE", "quantity": 5}]}, 404),
    ("manager", "POST", "/api/v1/purchase-orders", {"lines": [{"sku": "PEN-LOGO", "quantity": "5"}]}, 400),
    ("manager", "POST", "/api/v1/purchase-orders", {"lines": [{"sku": "PEN-LOGO", "quantity": 5, "unit_cost": True}]},
     400),
    ("manager", "POST", "/api/v1/purchase-orders", {"lines": [{"sku": "PEN-LOGO", "quantity": 5}], "event_id": "3"},
     400),
    ("manager", "POST", "/api/v1/purchase-orders/{id}/order", {"expected_on": "2099-01-01"}, 409),
    ("staff", "POST", "/api/v1/purchase-orders/{id}/receive", {"sku": "FLY-ATLAS", "bin": "B-02", "quantity": 1001},
     400),
    ("staff", "POST", "/api/v1/purchase-orders/{id}/receive", {"sku": "FLY-ATLAS", "bin": "B-02", "quantity": 0}, 400),
    ("staff", "POST", "/api/v1/purchase-orders/{id}/receive", {"sku": "FLY-ATLAS", "bin": "NOPE", "quantity": 1}, 404),
    ("staff", "POST", "/api/v1/purchase-orders/{id}/receive", {"sku": "PEN-LOGO", "bin": "B-02", "quantity": 1}, 404),
    ("staff", "POST", "/api/v1/purchase-orders/{id}/receive", {"line_id": "1", "bin": "B-02", "quantity": 1}, 400),
    ("staff", "POST", "/api/v1/purchase-orders/{id}/receive", {"bin": "B-02", "quantity": 1}, 400),
    ("staff", "POST", "/api/v1/purchase-orders/{id}/receive", ["not", "an", "object"], 400),
    ("staff", "POST", "/api/v1/purchase-orders/999/receive", {"sku": "FLY-ATLAS", "bin": "B-02", "quantity": 1}, 404),
])
def test_api_refusals_answer_the_right_status_and_write_nothing(client, session, token_for, ordered, role, method,
                                                                path, body, status):
    order = ordered()
    before = counts(session)
    got, answer = call(client, method, path.format(id=order.id), token_for(role), body)
    assert got == status, answer
    assert set(answer) == {"error"} and answer["error"]
    assert counts(session) == before
    assert session.get(PurchaseOrder, order.id).status == "ordered"


def test_the_api_refuses_to_receive_a_draft_and_to_order_in_the_past(client, session, token_for, manager,
                                                                       print_items):
    draft = purchasing.create(session, manager, lines=[("PEN-LOGO", 100, None)])
    status, body = call(client, "POST", f"/api/v1/purchase-orders/{draft.id}/receive", token_for("staff"),
                        {"sku": "PEN-LOGO", "bin": "B-01", "quantity": 1})
    assert status == 409 and "draft" in body["error"]
    token = token_for("manager")
    status, body = call(client, "POST", f"/api/v1/purchase-orders/{draft.id}/order", token,
                        {"expected_on": day(-1).isoformat()})
    assert status == 400 and "in the past" in body["error"]
    status, body = call(client, "POST", f"/api/v1/purchase-orders/{draft.id}/order", token, {"expected_on": "soon"})
    assert status == 400 and "date" in body["error"]
    status, body = call(client, "POST", f"/api/v1/purchase-orders/{draft.id}/cancel", token, {"reason": "Not needed"})
    assert status == 200 and body["status"] == "cancelled" and "Not needed" in body["note"]
