"""The stored flags where a review found them wrong: rules after rules (each leaves the flags a
fresh projection finds), savepoints, returnables overdue or picked early, suggestions that add up,
far backorders, print pieces near their date, and the PostgreSQL races (two writers of related
rows, the day's refresh against an import, an event renamed while a reservation for it commits):
each must end without a deadlock and with the flags current. Dates are relative to today.""" 
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from inventory.catalog import services as catalog
from inventory.events import kits
from inventory.events import services as events
from inventory.forecast import stored, changes
from inventory.purchasing import services as purchasing
from inventory.requests import fulfilment, handover, queries, review, submission
from inventory.requests.successors import swap_successor
from inventory.stock import services as stock
from inventory.transfer import services as transfer

REAL = date.today()


def d(n):
    return REAL + timedelta(days=n)


@pytest.fixture
def rep(make_user):
    return make_user("rep", email="dana@example.com")


@pytest.fixture
def manager(make_user):
    return make_user("manager", email="morgan@example.com")


def fresh(session):
    stored.current(session)
    return stored.drift(session)


def ask(session, rep, items, needed_by, event=None, return_by=None, today=None):
    return submission.submit(session, rep, items, purpose="client_meeting", needed_by=needed_by,
                             return_by=return_by, event_id=event.id if event else None, allow_partial=True,
                             today=today)


def test_drift_after_every_rule(session, make_item, make_bin, stock_user, rep, manager):
    staff = stock_user()
    a1, b2 = make_bin("A-01"), make_bin("B-02")
    pens = make_item("PEN-1", on_hand=20, supplier="Pens", lead_time_days=5, reorder_point=10, reorder_quantity=50)
    caps = make_item("CAP-1", on_hand=5, supplier="Pens", lead_time_days=5, reorder_point=3, reorder_quantity=50)
    banner = make_item("BAN-1", on_hand=2, returnable=True, lead_time_days=10, reorder_point=1)
    fly = make_item("FLY-1", category="print", on_hand=30, do_not_use_after=d(7))
    make_item("FLY-2", category="print", on_hand=30)
    catalog.update_item(session, fly, replaced_by="FLY-2")
    expo = events.create_event(session, manager, name="Fair", starts_on=d(20), ends_on=d(21), ship_by=d(19))
    stored.current(session)
    results = {}

    def step(name, fn):
        fn()
        session.expire_all()
        results[name] = fresh(session)

    r1 = ask(session, rep, [(pens, 25), (caps, 3)], d(19), expo)
    results["submit"] = fresh(session)
    r2 = ask(session, rep, [(banner, 2)], d(3), return_by=d(6))
    ask(session, rep, [(fly, 10)], d(4))
    step("approve", lambda: review.approve(session, r1.id, manager))
    step("move", lambda: stock.move(session, caps, a1, b2, 1, staff))
    step("put_away", lambda: stock.put_away(session, caps, b2, a1, 1, staff))
    step("count", lambda: stock.count(session, a1, [(caps, 2)], staff))
    step("adjust+", lambda: stock.adjust(session, pens, a1, 3, staff, "found"))
    po = purchasing.create(session, manager, lines=[("PEN-1", 40, None), ("CAP-1", 10, None)])
    results["po_create"] = fresh(session)
    step("po_update", lambda: purchasing.update_draft(session, po.id, manager, lines=[("PEN-1", 30, None)]))
    step("po_order", lambda: purchasing.mark_ordered(session, po.id, manager, d(10)))
    step("po_resched", lambda: purchasing.reschedule(session, po.id, manager, d(25)))
    line = purchasing.find_line(session.get(type(po), po.id), sku="PEN-1")
    step("po_receive", lambda: purchasing.receive(session, po.id, line.id, a1, 5, staff))
    po2 = purchasing.create(session, manager, lines=[("CAP-1", 10, None)])
    step("po_cancel", lambda: purchasing.cancel(session, po2.id, manager))
    step("kit_create", lambda: kits.create_kit(session, manager, name="Basics", lines=[("FLY-1", 5), ("PEN-1", 1)]))
    kit = session.scalars(select(kits.KitTemplate)).first()
    step("kit_update", lambda: kits.update_kit(session, kit.id, manager, name="Basics 2", lines=[("FLY-1", 6)]))
    step("kit_archive", lambda: kits.set_kit_archived(session, kit.id, manager))
    step("kit_restore", lambda: kits.set_kit_archived(session, kit.id, manager, archived=False))
    step("event_update", lambda: events.update_event(session, expo.id, manager, name="Fair 2", starts_on=d(20),
                                                     ends_on=d(21), ship_by=d(19)))
    step("event_cancel", lambda: events.cancel_event(session, expo.id, manager))
    step("event_reinstate", lambda: events.reinstate_event(session, expo.id, manager))
    step("apply_all", lambda: catalog.apply_to_all_sizes(session, session.get(type(pens), pens.id).product,
                                                         lead_time_days=30))
    step("item_update", lambda: catalog.update_item(session, session.get(type(caps), caps.id), reorder_point=8))
    step("swap", lambda: swap_successor(session, session.get(type(fly), fly.id), manager, backorder_short=True))
    step("change_q", lambda: review.approve(session, r2.id, manager))
    step("pick", lambda: fulfilment.pick(session, r2.id, a1, {queries.get_request(session, r2.id).lines[0].id: 2},
                                         staff))
    step("hand_over", lambda: handover.hand_over(session, r2.id, staff))
    lid = queries.get_request(session, r2.id).lines[0].id
    step("check_in", lambda: fulfilment.check_in(session, r2.id, a1, {lid: {"returned": 1, "lost": 1}}, staff))
    step("cancel", lambda: review.cancel(session, r1.id, manager))
    csv = "sku,product,category,reorder_point,lead_time_days\nCAP-1,Item CAP-1,promo,40,3\n"
    step("import_items", lambda: transfer.import_items(session, csv))
    step("import_stock", lambda: transfer.import_stock(session, "sku,bin,quantity\nCAP-1,A-01,1\n", staff))
    step("archive", lambda: catalog.set_archived(session, item=session.get(type(caps), caps.id)))
    assert {k: v for k, v in results.items() if v} == {}


def test_savepoint_forgets_marks(session, make_item):
    """A savepoint's commit fires after_commit, which forgets the outer transaction's marks."""
    from inventory.database import write_transaction
    from inventory.catalog.models import Item

    pens = make_item("PEN-S", on_hand=0)
    stored.current(session)
    with write_transaction(session):
        item = session.get(Item, pens.id)
        item.reorder_point = 10
        changes.items_changed(session, [item.id])
        with session.begin_nested():
            pass
    assert fresh(session) == set()


def _flags(session, item):
    stored.current(session)
    return [(f.kind, f.status, f.event_id, f.shortfall, f.suggested_quantity, f.reason)
            for f in stored.item_flags(session, item.id)]


def test_overdue_returnable_backorder_is_not_flagged(session, make_item, make_bin, stock_user, rep, manager):
    staff = stock_user()
    booth = make_item("BOOTH-1", on_hand=2, returnable=True, supplier="Booths", lead_time_days=30)
    past = ask(session, rep, [(booth, 2)], d(-9), return_by=d(-5), today=d(-10))
    review.approve(session, past.id, manager)
    line = queries.get_request(session, past.id).lines[0]
    fulfilment.pick(session, past.id, make_bin("A-01"), {line.id: 2}, staff)
    handover.hand_over(session, past.id, staff)   # 2 out, due back 5 days ago: overdue
    later = ask(session, rep, [(booth, 2)], d(3), return_by=d(6))
    _held, waiting = later.lines[0].reserved, later.lines[0].backordered
    assert waiting == 2
    assert _flags(session, booth), "2 backordered for a request in 3 days, 30-day lead: no flag at all"


def test_early_picked_returnable_backorder_is_not_flagged(session, make_item, make_bin, stock_user, rep, manager):
    staff = stock_user()
    booth = make_item("BOOTH-2", on_hand=1, returnable=True, supplier="Booths", lead_time_days=30)
    a = ask(session, rep, [(booth, 1)], d(10), return_by=d(12))
    review.approve(session, a.id, manager)
    fulfilment.pick(session, a.id, make_bin("A-01"), {queries.get_request(session, a.id).lines[0].id: 1}, staff)
    b = ask(session, rep, [(booth, 1)], d(1), return_by=d(3))
    assert b.lines[0].backordered == 1
    assert _flags(session, booth), "1 backordered, the only unit is picked for another request: no flag"


def test_two_events_suggestions_add_up(session, make_item, rep, manager):
    tees = make_item("TEE-9", on_hand=0, supplier="Thread", lead_time_days=10, reorder_quantity=10)
    e1 = events.create_event(session, manager, name="E1", starts_on=d(40), ends_on=d(41), ship_by=d(40))
    e2 = events.create_event(session, manager, name="E2", starts_on=d(50), ends_on=d(51), ship_by=d(50))
    ask(session, rep, [(tees, 40)], d(40), e1)
    ask(session, rep, [(tees, 40)], d(50), e2)
    flags = _flags(session, tees)
    assert [f[4] for f in flags] == [40, 40]  # 80 missing: 80 suggested, not 40 + 80
    purchasing.create(session, manager, lines=[("TEE-9", 40, None)])
    assert [f[4] for f in _flags(session, tees)] == [0, 40]  # the draft covers the first need


def test_backorder_past_the_horizon(session, make_item, rep):
    tees = make_item("TEE-H", on_hand=0, supplier="Thread", lead_time_days=10, reorder_quantity=10)
    ask(session, rep, [(tees, 40)], d(200))
    assert _flags(session, tees)


def test_retiring_item_is_also_told_to_reorder(session, make_item, rep):
    fly = make_item("FLY-R", category="print", on_hand=5, supplier="Print", lead_time_days=3, reorder_point=50,
                    reorder_quantity=500, do_not_use_after=d(5))
    flags = _flags(session, fly)
    assert not [f for f in flags if f[0] != "retire"], "a piece expiring in 5 days is told to reorder 500"


def test_po_receive_deadlocks_with_a_reservation(app, session, make_item, make_bin, stock_user, rep, manager,
                                                  monkeypatch):
    import threading
    import time

    from inventory.auth.models import User
    from inventory.bins.models import Bin
    from inventory.catalog.models import Item
    from inventory.extensions import db
    from inventory.purchasing import services as po_services
    from inventory.purchasing.models import PurchaseOrder

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    low = make_item("LOW-1", on_hand=5, supplier="S")
    high = make_item("HIGH-1", on_hand=5, supplier="S")
    assert low.id < high.id
    po = purchasing.create(session, manager, lines=[("LOW-1", 10, None), ("HIGH-1", 10, None)])
    purchasing.mark_ordered(session, po.id, manager, d(5))
    line_high = next(l for l in session.get(PurchaseOrder, po.id).lines if l.item_id == high.id)
    ids = dict(po=po.id, line=line_high.id, bin=make_bin("A-01").id, staff=stock_user().id, rep=rep.id,
               low=low.id, high=high.id)
    db.session.remove()
    locked, go, errors = threading.Event(), threading.Event(), []
    real_fill = po_services.fill_backorders

    def paused_fill(s, item):
        real_fill(s, item)
        locked.set()       # HIGH-1 is locked by receive; LOW-1 only marked
        go.wait(10)

    monkeypatch.setattr(po_services, "fill_backorders", paused_fill)

    def receiver():
        with app.app_context():
            try:
                purchasing.receive(db.session, ids["po"], ids["line"], db.session.get(Bin, ids["bin"]), 1,
                                   db.session.get(User, ids["staff"]))
            except Exception as error:  # noqa
                errors.append(("receive", repr(error)[:200]))
            finally:
                db.session.remove()

    def reserver():
        with app.app_context():
            try:
                submission.submit(db.session, db.session.get(User, ids["rep"]),
                                  [(db.session.get(Item, ids["low"]), 1), (db.session.get(Item, ids["high"]), 1)],
                                  purpose="client_meeting", needed_by=d(3))
            except Exception as error:  # noqa
                errors.append(("submit", repr(error)[:200]))
            finally:
                db.session.remove()

    r = threading.Thread(target=receiver)
    r.start()
    assert locked.wait(10)
    s = threading.Thread(target=reserver)
    s.start()
    time.sleep(0.5)  # the reservation has LOW-1 and waits for HIGH-1
    go.set()
    r.join(30)
    s.join(30)
    assert errors == []


def test_kit_edit_deadlocks_with_a_swap(app, session, make_item, rep, manager, monkeypatch):
    import threading
    import time

    from inventory.auth.models import User
    from inventory.catalog.models import Item
    from inventory.extensions import db

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    old = make_item("FLY-OLD", category="print", on_hand=50, do_not_use_after=d(5))
    make_item("FLY-NEW", category="print", on_hand=50)
    catalog.update_item(session, old, replaced_by="FLY-NEW")
    kit = kits.create_kit(session, manager, name="K", lines=[("FLY-OLD", 5)])
    ids = dict(kit=kit.id, manager=manager.id, old=old.id)
    db.session.remove()
    paused, go, errors = threading.Event(), threading.Event(), []
    real = stored.reproject
    first = []

    def slow(s, item_ids, *a, **k):
        if not first:
            first.append(1)
            paused.set()
            go.wait(10)
        return real(s, item_ids, *a, **k)

    monkeypatch.setattr(stored, "reproject", slow)

    def editor():
        with app.app_context():
            try:
                kits.update_kit(db.session, ids["kit"], db.session.get(User, ids["manager"]), name="K",
                                lines=[("FLY-OLD", 7)])
            except Exception as error:  # noqa
                errors.append(("kit", repr(error)[:120]))
            finally:
                db.session.remove()

    def swapper():
        with app.app_context():
            try:
                swap_successor(db.session, db.session.get(Item, ids["old"]), db.session.get(User, ids["manager"]))
            except Exception as error:  # noqa
                errors.append(("swap", repr(error)[:120]))
            finally:
                db.session.remove()

    k = threading.Thread(target=editor)
    k.start()
    assert paused.wait(10)
    s = threading.Thread(target=swapper)
    s.start()
    time.sleep(0.5)
    go.set()
    k.join(30)
    s.join(30)
    assert errors == []


def test_import_deadlocks_with_the_day_refresh(app, session, make_item, monkeypatch):
    """An item import updates item rows, then (everything_changed) locks forecast_state; the first read
    of a day holds forecast_state and locks every item."""
    import threading
    import time

    from inventory.extensions import db

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    make_item("IMP-1", on_hand=1, reorder_point=5)
    stored.current(session)
    db.session.remove()
    paused, go, errors = threading.Event(), threading.Event(), []
    real_lock = stored._lock_items
    calls = []

    def slow_lock(s, item_ids=None):
        if not calls:   # the refresh: it holds forecast_state; pause before it locks the items
            calls.append(1)
            paused.set()
            go.wait(10)
        return real_lock(s, item_ids)

    monkeypatch.setattr(stored, "_lock_items", slow_lock)

    def refresher():
        with app.app_context():
            try:
                stored.refresh(db.session, d(1))
            except Exception as error:  # noqa
                errors.append(("refresh", repr(error)[:120]))
            finally:
                db.session.remove()

    def importer():
        with app.app_context():
            try:
                transfer.import_items(db.session, "sku,product,category,reorder_point\nIMP-1,Item IMP-1,promo,9\n")
            except Exception as error:  # noqa
                errors.append(("import", repr(error)[:120]))
            finally:
                db.session.remove()

    t = threading.Thread(target=refresher)
    t.start()
    assert paused.wait(10)
    i = threading.Thread(target=importer)
    i.start()
    time.sleep(0.7)   # the import has updated IMP-1 and waits for forecast_state
    go.set()
    t.join(30)
    i.join(30)
    assert errors == []


def test_digest_drops_the_retire_flag_of_an_item_also_flagged_for_general_stock(app, session, make_item, rep,
                                                                              runner, smtp):
    from mail_server import MailServer
    make_item("FLY-D", category="print", on_hand=5, supplier="Print", lead_time_days=3, reorder_point=50,
                    reorder_quantity=500, do_not_use_after=d(5))
    stored.current(session)
    app.config["ALERT_RECIPIENTS"] = ["buyer@example.com"]
    result = runner.invoke(args=["send-alerts"])
    assert result.exit_code == 0, result.output
    (message,) = smtp.messages
    text = MailServer.text(message)
    assert "Do not use after" in text


def test_a_far_shortfall_under_the_reorder_point_now_is_order_now_by_today(session, make_item, rep):
    mug = make_item("MUG-M", on_hand=10, supplier="Mugs", lead_time_days=10, reorder_point=20, reorder_quantity=50)
    ask(session, rep, [(mug, 30)], d(90))
    stored.current(session)
    (flag,) = stored.item_flags(session, mug.id)
    assert (flag.status, flag.order_by, flag.need_date, flag.shortfall) == ("order_now", REAL, d(90), 20)
    assert flag.reason.endswith("Mugs needs 10 days: order now")


def test_an_archived_item_that_requests_wait_for_stays_flagged_and_says_why(session, make_item, rep):
    tees = make_item("TEE-A", on_hand=0, supplier="Thread", lead_time_days=10, reorder_quantity=1)
    ask(session, rep, [(tees, 5)], d(3))
    catalog.set_archived(session, item=session.get(type(tees), tees.id))
    assert fresh(session) == set()
    (flag,) = stored.item_flags(session, tees.id)
    assert (flag.shortfall, flag.suggested_quantity) == (5, 0) and "the item is archived" in flag.reason


def test_event_rename_races_a_reservation_for_it(app, session, make_item, rep, manager, monkeypatch):
    import threading

    from inventory.auth.models import User
    from inventory.catalog.models import Item
    from inventory.extensions import db

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    x = make_item("X-1", on_hand=0, supplier="S", lead_time_days=5)
    z = make_item("Z-1", on_hand=0, supplier="S", lead_time_days=5)
    show = events.create_event(session, manager, name="Old name", starts_on=d(30), ends_on=d(31), ship_by=d(30))
    ask(session, rep, [(x, 5)], d(30), show)
    stored.current(session)
    ids = dict(show=show.id, manager=manager.id, rep=rep.id, z=z.id)
    db.session.remove()
    paused, go, errors = threading.Event(), threading.Event(), []
    real = stored.reproject
    first = []

    def slow(s, item_ids, *a, **k):
        if not first:
            first.append(1)
            paused.set()
            go.wait(10)
        return real(s, item_ids, *a, **k)

    monkeypatch.setattr(stored, "reproject", slow)

    def renamer():
        with app.app_context():
            try:
                events.update_event(db.session, ids["show"], db.session.get(User, ids["manager"]), name="New name",
                                    starts_on=d(30), ends_on=d(31), ship_by=d(30))
            except Exception as error:  # noqa
                errors.append(repr(error)[:150])
            finally:
                db.session.remove()

    t = threading.Thread(target=renamer)
    t.start()
    assert paused.wait(10)
    with app.app_context():
        submission.submit(db.session, db.session.get(User, ids["rep"]), [(db.session.get(Item, ids["z"]), 5)],
                          purpose="client_meeting", needed_by=d(30), event_id=ids["show"], allow_partial=True)
        db.session.remove()
    go.set()
    t.join(30)
    with app.app_context():
        stored.current(db.session)
        assert stored.drift(db.session) == set()


def test_digest_subject_for_a_merged_flag_says_order_by_today(app, session, make_item, rep, runner, smtp):
    mug = make_item("MUG-M2", on_hand=10, supplier="Mugs", lead_time_days=10, reorder_point=20, reorder_quantity=50)
    ask(session, rep, [(mug, 30)], d(90))
    app.config["ALERT_RECIPIENTS"] = ["buyer@example.com"]
    assert runner.invoke(args=["send-alerts"]).exit_code == 0
    (message,) = smtp.messages
    assert message["Subject"].startswith(f"Order by {REAL.day} {REAL:%b}: 1 item")
