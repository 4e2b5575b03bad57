"""A print piece names its successor, and a manager swaps the successor into the open requests and
kit templates that still hold the old piece: holds and backorders move, all or nothing, never
past what the successor has free; requests already picked keep the old piece."""
import re
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from inventory.catalog import services as catalog
from inventory.catalog.models import Item
from inventory.errors import Forbidden, InvalidInput, ShortStock
from inventory.events import kits
from inventory.events.models import KitLine
from inventory.extensions import db
from inventory.requests import fulfilment, queries, review, submission, successors
from inventory.requests.models import Request, RequestLine, RequestStep
from inventory.requests.successors import SuccessorShort
from inventory.stock import services as stock

TODAY = date.today()


def day(n):
    return TODAY + timedelta(days=n)


def available(session, item):
    return stock.availability(session, [item.id])[item.id].available


def lines_of(session, request_id):
    """[(sku, quantity, reserved, backordered)] of a request, read afresh."""
    session.expire_all()
    request = session.get(Request, request_id)
    return [(line.item.sku, line.quantity, line.reserved, line.backordered) for line in request.lines]


def submit(session, user, lines, needed_by=None, **details):
    return submission.submit(session, user, lines, purpose="client_meeting", needed_by=needed_by or day(5), **details)


@pytest.fixture
def pieces(make_item, session):
    """The 2025 Atlas brochure (300 on hand, last day of use in 10 days), replaced by the 2026 one (500)."""
    old = make_item("BRO-ATLAS-25", name="Atlas brochure 2025", category="print", on_hand=300,
                    do_not_use_after=day(10))
    new = make_item("BRO-ATLAS-26", name="Atlas brochure 2026", category="print", on_hand=500)
    catalog.update_item(session, old, replaced_by="bro-atlas-26")
    return old, new


@pytest.fixture
def people(make_user):
    return make_user("rep", name="Riley Rep"), make_user("manager", name="Morgan Manager"), make_user("staff")


# Naming the successor --------------------------------------------------------------------------

def test_an_item_names_its_successor_by_sku_and_an_empty_box_clears_it(session, pieces):
    old, new = pieces
    session.expire_all()
    assert session.get(Item, old.id).replaced_by.sku == "BRO-ATLAS-26"
    catalog.update_item(session, session.get(Item, old.id), replaced_by="  ")
    assert session.get(Item, old.id).replaced_by_id is None
    catalog.update_item(session, session.get(Item, old.id), replaced_by="BRO-ATLAS-26", notes="Reprint yearly")
    catalog.update_item(session, session.get(Item, old.id), notes="Still")  # left out: kept
    item = session.get(Item, old.id)
    assert (item.replaced_by.sku, item.notes) == ("BRO-ATLAS-26", "Still")


def test_a_successor_must_exist_not_be_the_item_not_be_archived_and_not_go_round(session, make_item):
    a, b, c = (make_item(sku, category="print") for sku in ("BRO-A", "BRO-B", "BRO-C"))
    gone = make_item("BRO-GONE", category="print")
    catalog.set_archived(session, item=gone)
    refusals = [("BRO-NOPE", "No item has the SKU BRO-NOPE"), ("bro-a", "BRO-A cannot replace itself"),
                ("BRO-GONE", "BRO-GONE is archived")]
    for sku, message in refusals:
        with pytest.raises(InvalidInput, match=message) as refused:
            catalog.update_item(session, session.get(Item, a.id), replaced_by=sku, notes="not saved")
        assert refused.value.about == (None, "replaced_by")
    catalog.update_item(session, session.get(Item, a.id), replaced_by="BRO-B")
    with pytest.raises(InvalidInput, match=re.escape("circle (BRO-B → BRO-A → BRO-B)")):
        catalog.update_item(session, session.get(Item, b.id), replaced_by="BRO-A")
    catalog.update_item(session, session.get(Item, b.id), replaced_by="BRO-C")
    with pytest.raises(InvalidInput, match=re.escape("BRO-C → BRO-A → BRO-B → BRO-C")):
        catalog.update_item(session, session.get(Item, c.id), replaced_by="BRO-A")
    session.expire_all()
    assert [(i.sku, i.replaced_by_id, i.notes) for i in session.scalars(select(Item).order_by(Item.id))] == [
        ("BRO-A", b.id, ""), ("BRO-B", c.id, ""), ("BRO-C", None, ""), ("BRO-GONE", None, "")]


def test_a_successor_archived_since_stays_while_other_settings_change(session, pieces):
    old, new = pieces
    catalog.set_archived(session, item=new)
    catalog.update_item(session, session.get(Item, old.id), replaced_by="BRO-ATLAS-26", reorder_point=50)
    session.expire_all()
    assert session.get(Item, old.id).reorder_point == 50 and session.get(Item, old.id).replaced_by_id == new.id


# The swap --------------------------------------------------------------------------------------

def test_the_swap_moves_holds_and_backorders_onto_the_successor_and_says_so_on_each_request(
        session, pieces, people, monkeypatch):
    old, new = pieces
    rep, manager, _staff = people
    changed = []
    monkeypatch.setattr(successors, "items_changed", lambda _session, ids: changed.extend(ids))
    first = submit(session, rep, [(old, 40)])
    second = submit(session, rep, [(old, 280)], allow_partial=True, needed_by=day(8))  # 260 held, 20 backordered
    review.approve(session, second.id, manager)
    assert (available(session, old), available(session, new)) == (0, 500)

    result = successors.swap_successor(session, old, manager)

    assert lines_of(session, first.id) == [("BRO-ATLAS-26", 40, 40, 0)]
    # The 20 that waited move onto the successor's backorder, which its 200 left over then fill.
    assert lines_of(session, second.id) == [("BRO-ATLAS-26", 280, 280, 0)]
    assert (available(session, old), available(session, new)) == (300, 180)
    assert (result.requests, result.kits, result.units_moved, result.units_backordered, result.backorders_moved,
            result.backorders_filled, result.left) == ((first.number, second.number), (), 300, 0, 20, 20, ())
    assert result.summary() == ("Swapped BRO-ATLAS-26 for BRO-ATLAS-25 in 2 requests and 0 kit templates: 300 held, "
                                "20 that waited on backorder now held.")
    steps = session.execute(select(RequestStep.action, RequestStep.note).where(RequestStep.request_id == second.id)
                            .order_by(RequestStep.id)).all()
    assert steps[-2:] == [("swapped", "Swapped BRO-ATLAS-25 for BRO-ATLAS-26: 260 held, 20 on backorder."),
                          ("backorder_filled", "20 × BRO-ATLAS-26 now held")]
    assert session.scalar(select(RequestStep.note).where(RequestStep.request_id == first.id,
                                                         RequestStep.action == "swapped")) == \
        "Swapped BRO-ATLAS-25 for BRO-ATLAS-26: 40 held."
    assert session.get(Request, second.id).status == "approved"
    assert sorted(set(changed)) == sorted({old.id, new.id})
    assert stock.check_ledger(session) == []


def test_a_request_that_lists_both_gets_one_line_of_the_successor(session, pieces, people):
    old, new = pieces
    rep, manager, _staff = people
    both = submit(session, rep, [(old, 10), (new, 5)])
    line_ids = {line.id for line in both.lines}
    successors.swap_successor(session, old, manager)
    assert lines_of(session, both.id) == [("BRO-ATLAS-26", 15, 15, 0)]
    assert {line.id for line in session.get(Request, both.id).lines} <= line_ids  # merged, nothing new
    assert available(session, new) == 485


def test_kit_templates_list_the_successor_instead_merged_where_they_list_both(session, pieces, people, make_item):
    old, new = pieces
    _rep, manager, _staff = people
    make_item("PEN-1", on_hand=10)
    plain = kits.create_kit(session, manager, name="Booth kit", lines=[("BRO-ATLAS-25", 200), ("PEN-1", 5)])
    both = kits.create_kit(session, manager, name="Road show kit", lines=[("BRO-ATLAS-25", 100), ("BRO-ATLAS-26", 50)])
    result = successors.swap_successor(session, old, manager)
    session.expire_all()
    contents = {kit.name: [(line.item.sku, line.quantity) for line in kits.get_kit(session, kit.id).lines]
                for kit in (plain, both)}
    assert contents == {"Booth kit": [("BRO-ATLAS-26", 200), ("PEN-1", 5)], "Road show kit": [("BRO-ATLAS-26", 150)]}
    assert result.kits == ("Booth kit", "Road show kit") and result.requests == ()
    assert session.scalar(select(func.count(KitLine.id)).where(KitLine.item_id == old.id)) == 0


@pytest.fixture
def short_successor(session, pieces, people, make_bin, stock_user):
    """The successor has 120 free; two requests hold 300 of the old piece, the later one needed first."""
    old, new = pieces
    rep, manager, _staff = people
    stock.adjust(session, new, make_bin("A-01"), -380, stock_user(), "damaged in transit")
    later = submit(session, rep, [(old, 200)], needed_by=day(9))
    sooner = submit(session, rep, [(old, 100)], needed_by=day(2))
    kits.create_kit(session, manager, name="Booth kit", lines=[("BRO-ATLAS-25", 200)])
    return old, new, later, sooner


def test_a_successor_without_enough_free_refuses_the_whole_swap_and_changes_nothing(session, short_successor, people):
    old, new, later, sooner = short_successor
    manager = people[1]
    steps = session.scalar(select(func.count(RequestStep.id)))
    with pytest.raises(SuccessorShort) as refused:
        successors.swap_successor(session, old, manager)
    assert str(refused.value) == ("Atlas brochure 2026 has 120 free; the open requests hold 300 of the old one. "
                                  "Receive or count the new piece first, or swap with the rest backordered.")
    assert refused.value.status == 409
    assert lines_of(session, later.id) == [("BRO-ATLAS-25", 200, 200, 0)]
    assert lines_of(session, sooner.id) == [("BRO-ATLAS-25", 100, 100, 0)]
    assert session.scalar(select(KitLine.item_id)) == old.id
    assert session.scalar(select(func.count(RequestStep.id))) == steps
    assert (available(session, old), available(session, new)) == (0, 120)


def test_the_backorder_variant_holds_what_is_free_needed_by_first_and_backorders_the_rest(
        session, short_successor, people):
    old, new, later, sooner = short_successor
    result = successors.swap_successor(session, old, people[1], backorder_short=True)
    assert result.summary() == ("Swapped BRO-ATLAS-26 for BRO-ATLAS-25 in 2 requests and 1 kit template: 120 held, "
                                "180 backordered (BRO-ATLAS-26 was short).")
    assert lines_of(session, sooner.id) == [("BRO-ATLAS-26", 100, 100, 0)]
    assert lines_of(session, later.id) == [("BRO-ATLAS-26", 200, 20, 180)]
    assert (result.units_moved, result.units_backordered, result.requests) == (120, 180, (sooner.number, later.number))
    assert (available(session, old), available(session, new)) == (300, 0)
    note = session.scalar(select(RequestStep.note).where(RequestStep.request_id == later.id,
                                                         RequestStep.action == "swapped"))
    assert note == "Swapped BRO-ATLAS-25 for BRO-ATLAS-26: 20 held, 180 backordered (not enough BRO-ATLAS-26 free)."
    assert session.scalar(select(KitLine.item_id)) == new.id


def test_requests_already_picked_keep_the_old_piece_and_are_named(session, pieces, people, make_bin):
    old, new = pieces
    rep, manager, staff = people
    waiting = submit(session, rep, [(old, 10)])
    picked = submit(session, rep, [(old, 30)])
    review.approve(session, picked.id, manager)
    fulfilment.pick(session, picked.id, make_bin("A-01"), {picked.lines[0].id: 30}, staff)
    result = successors.swap_successor(session, old, manager)
    assert result.left == (picked.number,) and result.requests == (waiting.number,)
    assert lines_of(session, picked.id) == [("BRO-ATLAS-25", 30, 30, 0)]
    assert session.get(Request, picked.id).status == "ready"
    assert "Not swapped, already picked: " + picked.number in result.summary()
    assert (available(session, old), available(session, new)) == (270, 490)


def test_a_swap_is_refused_without_a_usable_successor_or_by_anyone_but_a_manager(session, pieces, people, make_item):
    old, new = pieces
    rep, manager, staff = people
    submit(session, rep, [(old, 10)])
    for user in (rep, staff):
        with pytest.raises(Forbidden):
            successors.swap_successor(session, old, user)
    catalog.update_item(session, session.get(Item, new.id), do_not_use_after=day(-1))
    with pytest.raises(InvalidInput, match="BRO-ATLAS-26 must not be used after"):
        successors.swap_successor(session, session.get(Item, old.id), manager)
    catalog.set_archived(session, item=session.get(Item, new.id))
    with pytest.raises(InvalidInput, match="BRO-ATLAS-26 is archived"):
        successors.swap_successor(session, session.get(Item, old.id), manager)
    banner = make_item("BANNER-26", category="display", returnable=True, on_hand=2)
    catalog.update_item(session, session.get(Item, old.id), replaced_by=banner.sku)
    with pytest.raises(InvalidInput, match="BRO-ATLAS-25 is consumable and BANNER-26 is returnable"):
        successors.swap_successor(session, session.get(Item, old.id), manager)
    catalog.update_item(session, session.get(Item, old.id), replaced_by="")
    with pytest.raises(InvalidInput, match="names no successor"):
        successors.swap_successor(session, session.get(Item, old.id), manager)
    assert lines_of(session, session.scalar(select(Request.id))) == [("BRO-ATLAS-25", 10, 10, 0)]


def test_nothing_to_swap_says_so(session, pieces, people):
    old, _new = pieces
    with pytest.raises(InvalidInput, match="Nothing holds BRO-ATLAS-25 that can be swapped"):
        successors.swap_successor(session, old, people[1])


def test_returnables_move_within_each_requests_dates(session, make_item, people):
    """Two banners v2; three bookings of v1: two in overlapping windows, one later. Only two fit at once."""
    rep, manager, _staff = people
    old = make_item("BANNER-25", category="display", returnable=True, on_hand=3)
    make_item("BANNER-26", category="display", returnable=True, on_hand=2)
    catalog.update_item(session, old, replaced_by="BANNER-26")
    first = submit(session, rep, [(old, 1)], needed_by=day(2), return_by=day(6))
    second = submit(session, rep, [(old, 2)], needed_by=day(4), return_by=day(8))
    later = submit(session, rep, [(old, 2)], needed_by=day(10), return_by=day(12))
    with pytest.raises(SuccessorShort, match="for those requests' dates"):
        successors.swap_successor(session, old, manager)
    successors.swap_successor(session, old, manager, backorder_short=True)
    assert lines_of(session, first.id) == [("BANNER-26", 1, 1, 0)]
    assert lines_of(session, second.id) == [("BANNER-26", 2, 1, 1)]
    assert lines_of(session, later.id) == [("BANNER-26", 2, 2, 0)]


# Concurrency -----------------------------------------------------------------------------------

def _at_once(app, jobs):
    """Run each job (a function of the session) in its own thread and app context, all released at
    the same instant; returns what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)

    def run(index, job):
        with app.app_context():
            try:
                barrier.wait()
                outcomes[index] = job(db.session)
            except Exception as error:  # noqa: BLE001  (the outcome is what the test asserts)
                outcomes[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_a_swap_and_reps_reserving_the_successor_at_once_never_oversell(app, session, pieces, people, make_user,
                                                                        make_bin, stock_user):
    old, new = pieces
    rep, manager, _staff = people
    stock.adjust(session, new, make_bin("A-01"), -490, stock_user(), "most went to a show")  # 10 left
    submit(session, rep, [(old, 6)])
    reps = [make_user("rep").id for _ in range(6)]
    old_id, new_id, manager_id = old.id, new.id, manager.id
    db.session.remove()

    def swap(s):
        from inventory.auth.models import User
        return successors.swap_successor(s, s.get(Item, old_id), s.get(User, manager_id), backorder_short=True)

    def reserve(rep_id):
        def job(s):
            from inventory.auth.models import User
            return submit(s, s.get(User, rep_id), [(s.get(Item, new_id), 1)])
        return job

    outcomes = _at_once(app, [swap] + [reserve(rep_id) for rep_id in reps])
    assert not any(isinstance(o, Exception) and not isinstance(o, ShortStock) for o in outcomes), outcomes
    new = db.session.get(Item, new_id)
    held = db.session.scalar(select(func.sum(RequestLine.reserved)).where(RequestLine.item_id == new_id))
    assert held == 10 and available(db.session, new) == 0
    swapped = outcomes[0]
    assert swapped.units_moved + swapped.units_backordered == 6
    assert swapped.units_moved + sum(1 for o in outcomes[1:] if isinstance(o, Request)) == 10


def test_a_manager_approving_a_request_while_it_is_swapped_waits_and_approves_the_new_line(
        app, session, pieces, people, monkeypatch):
    """The approval reads the request (old line) while the swap holds the locks; once the swap is
    done it finds the line moved onto the successor, locks that too, and approves it."""
    old, new = pieces
    rep, manager, _staff = people
    request = submit(session, rep, [(old, 10)])
    request_id, old_id, manager_id = request.id, old.id, manager.id
    db.session.remove()
    locked = threading.Event()
    plan = successors._plan

    def slow_plan(*args, **kwargs):
        found = plan(*args, **kwargs)
        if kwargs.get("lock"):  # the rule's plan, under its locks: let the approval start now
            locked.set()
            time.sleep(0.5)
        return found

    monkeypatch.setattr(successors, "_plan", slow_plan)

    def swap(s):
        from inventory.auth.models import User
        return successors.swap_successor(s, s.get(Item, old_id), s.get(User, manager_id))

    def approve(s):
        from inventory.auth.models import User
        assert locked.wait(10)
        assert [line.item_id for line in queries.get_request(s, request_id).lines] == [old_id]  # the page's read
        return review.approve(s, request_id, s.get(User, manager_id), note="ok")

    outcomes = _at_once(app, [swap, approve])
    assert not any(isinstance(o, BaseException) for o in outcomes), outcomes
    assert lines_of(db.session, request_id) == [("BRO-ATLAS-26", 10, 10, 0)]
    assert db.session.get(Request, request_id).status == "approved"
