"""Request rules: reservations are whole or nothing, never oversell, backorders fill in order,
returnable bookings never overlap."""
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from inventory.errors import Conflict, Forbidden, InvalidInput, ShortStock
from inventory.extensions import db
from inventory.requests import fulfilment, handover, review, submission
from inventory.requests.availability import Window, free_quantities, free_quantity
from inventory.requests.models import Request, RequestLine
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock

TODAY = date.today()
SOON = TODAY + timedelta(days=5)


def day(n):
    return TODAY + timedelta(days=n)


def submit(session, user, lines, **details):
    details.setdefault("purpose", "client_meeting")
    details.setdefault("needed_by", SOON)
    return submission.submit(session, user, lines, **details)


def available(session, item):
    return stock.availability(session, [item.id])[item.id].available


def test_submitting_holds_every_line_at_once(session, make_user, make_item, make_product):
    rep = make_user("rep")
    polo = make_product(sizes={"S": 5, "M": 20, "L": 10})
    pens = make_item("PEN-1", on_hand=100)
    s, m, _l = polo.items
    request = submit(session, rep, [(s, 3), (m, 15), (pens, 40)])
    assert request.status == "submitted"
    assert [(line.quantity, line.reserved, line.backordered) for line in request.lines] == [(3, 3, 0), (15, 15, 0),
                                                                                           (40, 40, 0)]
    assert (available(session, s), available(session, m), available(session, pens)) == (2, 5, 60)
    assert stock.availability(session, [m.id])[m.id].on_hand == 20  # held, not moved
    assert "Held 3 × POLO-NAVY-S" in request.steps[0].note


def test_free_quantities_of_many_items_in_one_go_agree_with_free_quantity(session, make_user, make_item):
    """What submit reads under its locks: consumables' on hand - held in one statement, and the
    returnables' bookings within the window, as free_quantity works out each."""
    rep = make_user("rep")
    pens, mugs, empty = make_item("PEN-1", on_hand=100), make_item("MUG-1", on_hand=4), make_item("CAP-1")
    banner = make_item("BANNER-1", category="display", on_hand=2, returnable=True)
    submit(session, rep, [(pens, 30), (mugs, 4)])
    submit(session, rep, [(banner, 1)], needed_by=day(3), return_by=day(6))
    submit(session, rep, [(pens, 5), (mugs, 2)], allow_partial=True)  # mugs: 2 backordered, none held
    for window in (Window.of(day(4), day(5)), Window.of(day(7), day(9))):
        items = [pens, mugs, empty, banner]
        got = free_quantities(session, [item.id for item in items], window)
        assert got == {item.id: free_quantity(session, item, window) for item in items}
        assert got[pens.id] == 65 and got[mugs.id] == 0 and got[empty.id] == 0
    assert free_quantities(session, [banner.id], Window.of(day(4), day(5)))[banner.id] == 1
    assert free_quantities(session, [banner.id], Window.of(day(7), day(9)))[banner.id] == 2
    assert free_quantities(session, []) == {}


def test_a_short_line_holds_nothing_and_says_what_is_available(session, make_user, make_item):
    rep = make_user("rep")
    pens, mugs = make_item("PEN-1", on_hand=100), make_item("MUG-1", on_hand=4)
    with pytest.raises(ShortStock) as refused:
        submit(session, rep, [(pens, 10), (mugs, 6)])
    assert [(s.sku, s.requested, s.available) for s in refused.value.shortages] == [("MUG-1", 6, 4)]
    assert session.scalar(select(func.count(Request.id))) == 0
    assert available(session, pens) == 100


def test_partial_reserves_what_is_there_and_backorders_the_rest(session, make_user, make_item, make_bin):
    rep, staff = make_user("rep"), make_user("staff")
    mugs = make_item("MUG-1", on_hand=4)
    request = submit(session, rep, [(mugs, 6)], allow_partial=True)
    line = request.lines[0]
    assert (line.reserved, line.backordered) == (4, 2)
    assert available(session, mugs) == 0
    # A later request also waits; the receipt serves the older one first.
    later = submit(session, rep, [(mugs, 3)], allow_partial=True)
    stock.receive(session, mugs, make_bin("A-01"), 4, staff)
    session.expire_all()
    assert (line.reserved, line.backordered) == (6, 0)
    assert (later.lines[0].reserved, later.lines[0].backordered) == (2, 1)
    assert available(session, mugs) == 0
    assert stock.check_ledger(session) == []


def test_cancel_and_reject_release_the_stock(session, make_user, make_item):
    rep, other, manager = make_user("rep"), make_user("rep"), make_user("manager")
    pens = make_item("PEN-1", on_hand=10)
    first = submit(session, rep, [(pens, 6)])
    with pytest.raises(Forbidden):
        review.cancel(session, first.id, other)
    review.cancel(session, first.id, rep)
    assert available(session, pens) == 10
    second = submit(session, rep, [(pens, 6)])
    with pytest.raises(InvalidInput, match="why"):
        review.reject(session, second.id, manager, "  ")
    with pytest.raises(Forbidden):
        review.reject(session, second.id, rep, "no")
    review.reject(session, second.id, manager, "Use the new flyer instead")
    assert available(session, pens) == 10
    assert session.get(Request, second.id).rejection_reason == "Use the new flyer instead"


def test_a_rep_cannot_approve_and_cannot_cancel_once_picking_started(session, make_user, make_item, make_bin):
    rep, manager, staff = make_user("rep"), make_user("manager"), make_user("staff")
    pens = make_item("PEN-1", on_hand=10, bin="A-01")
    request = submit(session, rep, [(pens, 4)])
    with pytest.raises(Forbidden):
        review.approve(session, request.id, rep)
    review.approve(session, request.id, manager)
    fulfilment.pick(session, request.id, make_bin("A-01"), {request.lines[0].id: 2}, staff)
    with pytest.raises(Conflict, match="picking"):
        review.cancel(session, request.id, rep)


def test_manager_changes_quantities_before_approval_and_the_hold_follows(session, make_user, make_item):
    rep, manager = make_user("rep"), make_user("manager")
    pens = make_item("PEN-1", on_hand=10)
    request = submit(session, rep, [(pens, 4)])
    line_id = request.lines[0].id
    review.change_quantity(session, line_id, 7, manager)
    assert available(session, pens) == 3
    with pytest.raises(ShortStock):
        review.change_quantity(session, line_id, 11, manager)
    review.change_quantity(session, line_id, 2, manager)
    assert available(session, pens) == 8
    review.approve(session, request.id, manager)
    with pytest.raises(Conflict):
        review.change_quantity(session, line_id, 3, manager)


@pytest.mark.parametrize("details, message", [
    ({"needed_by": day(-1)}, "in the past"),
    ({"purpose": "party"}, "Purpose"),
    ({"handoff": "ship", "ship_to": ""}, "address"),
    ({"handoff": "drone"}, "Hand-off"),
])
def test_bad_request_details_are_refused_and_nothing_is_written(session, make_user, make_item, details, message):
    rep = make_user("rep")
    pens = make_item("PEN-1", on_hand=10)
    with pytest.raises(InvalidInput, match=message):
        submit(session, rep, [(pens, 1)], **details)
    assert session.scalar(select(func.count(Request.id))) == 0


@pytest.mark.parametrize("quantity", [0, -3, 1.5, "2"])
def test_bad_quantities_are_refused(session, make_user, make_item, quantity):
    rep = make_user("rep")
    pens = make_item("PEN-1", on_hand=10)
    with pytest.raises(InvalidInput):
        submit(session, rep, [(pens, quantity)])
    assert session.scalar(select(func.count(RequestLine.id))) == 0


def test_expired_and_archived_items_cannot_be_reserved(session, make_user, make_item):
    from inventory.catalog.services import set_archived

    rep = make_user("rep")
    old = make_item("BRO-25", category="print", on_hand=100, do_not_use_after=day(-1))
    with pytest.raises(InvalidInput, match="must not be used after"):
        submit(session, rep, [(old, 10)])
    gone = make_item("GONE-1", on_hand=5)
    set_archived(session, item=gone)
    with pytest.raises(InvalidInput, match="archived"):
        submit(session, rep, [(gone, 1)])


def test_returnable_bookings_never_overlap(session, make_user, make_item):
    rep = make_user("rep")
    banner = make_item("BANNER-1", category="display", on_hand=1, returnable=True)
    submit(session, rep, [(banner, 1)], needed_by=day(10), return_by=day(14))
    for out, back in [(day(12), day(16)), (day(8), day(11)), (day(9), day(20)), (day(10), day(10))]:
        with pytest.raises(ShortStock):
            submit(session, rep, [(banner, 1)], needed_by=out, return_by=back)
    # Touching (back the day the next goes out) and separate windows are fine.
    submit(session, rep, [(banner, 1)], needed_by=day(14), return_by=day(15))
    submit(session, rep, [(banner, 1)], needed_by=day(3), return_by=day(10))
    submit(session, rep, [(banner, 1)], needed_by=day(20), return_by=day(21))
    assert session.scalar(select(func.count(Request.id))) == 4


def test_returnables_need_a_return_date_after_the_needed_by_date(session, make_user, make_item):
    rep = make_user("rep")
    banner = make_item("BANNER-1", category="display", on_hand=2, returnable=True)
    with pytest.raises(InvalidInput, match="return date"):
        submit(session, rep, [(banner, 1)], needed_by=day(5))
    with pytest.raises(InvalidInput, match="before the needed-by"):
        submit(session, rep, [(banner, 1)], needed_by=day(5), return_by=day(4))


def test_two_banners_serve_two_overlapping_bookings_but_not_three(session, make_user, make_item):
    rep = make_user("rep")
    banner = make_item("BANNER-1", category="display", on_hand=2, returnable=True)
    submit(session, rep, [(banner, 1)], needed_by=day(1), return_by=day(5))
    submit(session, rep, [(banner, 1)], needed_by=day(4), return_by=day(8))
    with pytest.raises(ShortStock):
        submit(session, rep, [(banner, 1)], needed_by=day(4), return_by=day(5))
    # Peak, not sum: day 6-7 only one banner is out, so a second fits there.
    submit(session, rep, [(banner, 1)], needed_by=day(5), return_by=day(7))


def test_pick_hand_over_and_check_in_a_whole_request(session, make_user, make_item, make_bin):
    rep, manager, staff = make_user("rep"), make_user("manager"), make_user("staff")
    pens = make_item("PEN-1", on_hand=30, bin="A-01")
    stock.receive(session, pens, make_bin("A-02"), 5, staff)
    banner = make_item("BANNER-1", category="display", on_hand=1, returnable=True, bin="B-01")
    request = submit(session, rep, [(pens, 32), (banner, 1)], needed_by=TODAY, return_by=day(3))
    review.approve(session, request.id, manager)
    plan = fulfilment.pick_list(session, request)
    assert [(b.code, [(line.item.sku, q) for line, q in lines]) for b, lines in plan] == [
        ("A-01", [("PEN-1", 30)]), ("A-02", [("PEN-1", 2)]), ("B-01", [("BANNER-1", 1)])]
    pen_line, banner_line = request.lines
    with pytest.raises(InvalidInput, match="only 32 left"):
        fulfilment.pick(session, request.id, make_bin("A-01"), {pen_line.id: 33}, staff)
    fulfilment.pick(session, request.id, make_bin("A-01"), {pen_line.id: 30}, staff)
    fulfilment.pick(session, request.id, make_bin("A-02"), {pen_line.id: 2}, staff)
    assert session.get(Request, request.id).status == "picking"
    fulfilment.pick(session, request.id, make_bin("B-01"), {banner_line.id: 1}, staff)
    assert session.get(Request, request.id).status == "ready"
    assert available(session, pens) == 3  # picked units are still held until handed over
    handover.hand_over(session, request.id, staff)
    session.expire_all()
    assert stock.availability(session, [pens.id])[pens.id].on_hand == 3 and available(session, pens) == 3
    assert (pen_line.issued, pen_line.reserved, banner_line.issued, banner_line.reserved) == (32, 0, 1, 1)
    # The banner is out: nobody else can book it over its window.
    with pytest.raises(ShortStock):
        submit(session, rep, [(banner, 1)], needed_by=day(1), return_by=day(2))
    with pytest.raises(InvalidInput, match="add up"):
        fulfilment.check_in(session, request.id, make_bin("B-01"), {banner_line.id: {"returned": 2}}, staff)
    fulfilment.check_in(session, request.id, make_bin("B-01"), {banner_line.id: {"returned": 1}}, staff)
    assert session.get(Request, request.id).status == "returned"
    submit(session, rep, [(banner, 1)], needed_by=day(1), return_by=day(2))
    assert stock.check_ledger(session) == []
    kinds = [m.kind for m in stock_queries.history(session, item=banner)]
    assert kinds[:3] == ["return", "issue", "pick"]


def test_a_short_pick_can_keep_or_release_the_rest(session, make_user, make_item, make_bin):
    rep, manager, staff = make_user("rep"), make_user("manager"), make_user("staff")
    pens = make_item("PEN-1", on_hand=10, bin="A-01")
    request = submit(session, rep, [(pens, 8)])
    review.approve(session, request.id, manager)
    line = request.lines[0]
    fulfilment.pick(session, request.id, make_bin("A-01"), {line.id: 5}, staff)
    assert session.get(Request, request.id).status == "picking"
    assert available(session, pens) == 2  # the rest stays reserved
    fulfilment.release_unpicked(session, request.id, {line.id}, staff)
    session.expire_all()
    assert (line.reserved, line.picked, line.short) == (5, 5, 3)
    assert session.get(Request, request.id).status == "ready"
    assert available(session, pens) == 5


def test_counting_short_moves_the_newest_holds_to_backorder(session, make_user, make_item, make_bin):
    rep, staff = make_user("rep"), make_user("staff")
    pens = make_item("PEN-1", on_hand=10, bin="A-01")
    older = submit(session, rep, [(pens, 6)])
    newer = submit(session, rep, [(pens, 4)])
    stock.count(session, make_bin("A-01"), {pens: 7}, staff)
    session.expire_all()
    assert (older.lines[0].reserved, newer.lines[0].reserved, newer.lines[0].backordered) == (6, 1, 3)
    assert available(session, pens) == 0
    stock.adjust(session, pens, make_bin("A-01"), 5, staff, "carton found")
    session.expire_all()
    assert (newer.lines[0].reserved, newer.lines[0].backordered) == (4, 0)
    assert available(session, pens) == 2


@pytest.mark.parametrize("threads, units", [(10, 4)])
def test_many_reps_reserving_the_last_units_at_once_never_oversell(app, make_user, make_item, threads, units):
    """Ten reps ask for 1 of the last 4 at the same instant: exactly 4 are held."""
    item = make_item("PEN-LAST", on_hand=units)
    reps = [make_user("rep") for _ in range(threads)]
    item_id, rep_ids = item.id, [rep.id for rep in reps]
    db.session.remove()
    barrier = threading.Barrier(threads)
    outcomes = []

    def reserve(rep_id):
        with app.app_context():
            from inventory.auth.models import User
            from inventory.catalog.models import Item

            it, rep = db.session.get(Item, item_id), db.session.get(User, rep_id)
            barrier.wait()
            try:
                submit(db.session, rep, [(it, 1)])
                outcomes.append("held")
            except ShortStock:
                outcomes.append("short")
            finally:
                db.session.remove()

    workers = [threading.Thread(target=reserve, args=(rep_id,)) for rep_id in rep_ids]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert sorted(outcomes) == ["held"] * units + ["short"] * (threads - units)
    assert db.session.scalar(select(func.sum(RequestLine.reserved))) == units
    assert free_quantity(db.session, db.session.get(type(item), item_id)) == 0
    assert stock.check_ledger(db.session) == []
    assert Window.of(TODAY).end == day(1)


def test_picked_stock_leaves_dispatch_only_by_hand_over_or_put_back(session, make_user, make_item, make_bin):
    rep, manager, staff = make_user("rep"), make_user("manager"), make_user("staff")
    pens = make_item("PEN-1", on_hand=10, bin="A-01")
    request = submit(session, rep, [(pens, 4)])
    review.approve(session, request.id, manager)
    line_id = request.lines[0].id
    fulfilment.pick(session, request.id, make_bin("A-01"), {line_id: 4}, staff)
    dispatch = fulfilment.dispatch_bin(session)
    with pytest.raises(InvalidInput, match="DISPATCH"):
        stock.move(session, pens, dispatch, make_bin("A-02"), 4, staff)
    with pytest.raises(InvalidInput, match="DISPATCH"):
        stock.move(session, pens, make_bin("A-01"), dispatch, 1, staff)
    with pytest.raises(InvalidInput, match="Only 4"):
        fulfilment.put_back(session, request.id, line_id, make_bin("A-02"), 5, staff)
    fulfilment.put_back(session, request.id, line_id, make_bin("A-02"), 3, staff)
    session.expire_all()
    assert (request.status, request.lines[0].picked, request.lines[0].reserved) == ("picking", 1, 4)
    assert stock_queries.level(session, pens, make_bin("A-02")) == 3
    assert available(session, pens) == 6
    assert stock.check_ledger(session) == []
