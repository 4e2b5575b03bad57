"""The stored reorder flags on the cases that went wrong before (issue "Reorder flags you can
trust"), worked out on paper. Today is Mon 1 Mar 2027 (timeutil.today is fixed).

- A backorder for no event: 10 mugs on hand, 30 needed Thu 4 Mar, Mugs Inc needs 5 days. 20 are
  backordered; 4 Mar - 5 days = 27 Feb, minus 5 working days = Mon 22 Feb: passed, expedite.
- Under the reorder point and short: MUG-LOGO (reorder point 24, 18 days) with 10 on hand and 28
  needed Thu 11 Mar: 10 held, 18 backordered. 11 Mar - 18 days = 21 Feb, minus 5 working days =
  Mon 15 Feb: expedite, 18 short, and the reason says both.
- A shortfall 100 days ahead: Spring Expo ships Wed 9 Jun (100 days on); 21-day lead: 19 May
  minus 5 working days = Wed 12 May, 72 days away: planned (never "ok").
"""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from inventory import timeutil
from inventory.auth.services import create_token
from inventory.events import kits
from inventory.events import services as events
from inventory.forecast import stored
from inventory.forecast.models import EXPEDITE, PLANNED, RETIRE, RETIRING, SHORTFALL, SOON, ForecastState, ReorderFlag
from inventory.purchasing import services as purchasing
from inventory.requests import submission

TODAY = date(2027, 3, 1)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(timeutil, "today", lambda: TODAY)


@pytest.fixture
def api(client, session, make_user):
    token = create_token(session, make_user("manager", email="api-manager@example.com"), "t")[1]

    def get(path):
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    return get


@pytest.fixture
def rep(make_user):
    return make_user("rep", email="dana@example.com")


@pytest.fixture
def manager(make_user):
    return make_user("manager", email="morgan@example.com")


def ask(session, rep, item, quantity, needed_by, event=None):
    return submission.submit(session, rep, [(item, quantity)], purpose="client_meeting", needed_by=needed_by,
                             event_id=event.id if event else None, allow_partial=True, today=TODAY)


def flags_of(session, item):
    stored.current(session, TODAY)
    assert stored.drift(session) == set(), "stored flags differ from a fresh projection"
    return stored.item_flags(session, item.id)


def test_a_backorder_for_no_event_inside_the_lead_time_is_expedite(session, make_item, rep, api):
    mugs = make_item("MUG-1", name="Mug", on_hand=10, supplier="Mugs Inc", lead_time_days=5, reorder_quantity=50)
    request = ask(session, rep, mugs, 30, date(2027, 3, 4))
    assert request.lines[0].backordered == 20
    (row,) = [r for r in api("/api/v1/reorders")["items"] if r["sku"] == "MUG-1"]
    assert (row["status"], row["shortfall"], row["need_date"], row["order_by"], row["event_id"]) == (
        "expedite", 20, "2027-03-04", "2027-02-22", None)
    assert row["reason"].startswith(f"20 backordered for {request.number}, needed Thu 4 Mar; ")
    assert "Mugs Inc needs 5 days" in row["reason"] and row["reason"].endswith("expedite")
    assert row["suggested_qty"] == 50


def test_under_the_reorder_point_and_short_says_both_and_the_shortfall(session, make_item, rep, api):
    mug = make_item("MUG-LOGO", name="Logo mug", on_hand=10, supplier="Mugs Inc", lead_time_days=18,
                    reorder_point=24, reorder_quantity=144)
    ask(session, rep, mug, 28, date(2027, 3, 11))
    (flag,) = flags_of(session, mug)
    assert (flag.status, flag.shortfall, flag.order_by, flag.kind) == (
        EXPEDITE, 18, date(2027, 2, 15), SHORTFALL)
    assert "18 backordered for R-00001, needed Thu 11 Mar" in flag.reason
    assert "0 available now, under the reorder point of 24" in flag.reason
    # 18 short and back up to the reorder point of 24: 42, ordered as at least the reorder quantity.
    assert flag.suggested_quantity == 144
    timeline = api("/api/v1/forecast/MUG-LOGO")
    assert timeline["status"] == "expedite" and min(step["projected"] for step in timeline["timeline"]) == -18


def test_a_shortfall_a_hundred_days_ahead_is_planned_on_every_page_but_not_mailed(
        session, client, login, make_item, rep, manager, api, runner, smtp, app):
    brochures = make_item("BRO-SPRING", name="Spring brochure", category="print", on_hand=60, supplier="PrintWorks",
                          lead_time_days=21, reorder_quantity=500)
    expo = events.create_event(session, manager, name="Spring Expo", place="Utrecht", starts_on=date(2027, 6, 9),
                               ends_on=date(2027, 6, 10), ship_by=date(2027, 6, 9))
    ask(session, rep, brochures, 100, expo.ship_by, expo)
    (flag,) = flags_of(session, brochures)
    assert (flag.status, flag.shortfall, flag.event_id, flag.order_by) == (
        PLANNED, 40, expo.id, date(2027, 5, 12))
    assert flag.reason.startswith("40 short for Spring Expo on Wed 9 Jun")
    (row,) = [r for r in api("/api/v1/reorders")["items"] if r["sku"] == "BRO-SPRING"]
    assert (row["status"], row["shortfall"]) == ("planned", 40)
    login("manager")
    html = client.get("/reorders").get_data(as_text=True)
    assert "Planned" in html and "40 short for Spring Expo" in html
    page = client.get(f"/events/{expo.id}").get_data(as_text=True)
    assert "Planned" in page and "40 short for Spring Expo" in page and ">OK<" not in page
    app.config["ALERT_RECIPIENTS"] = ["buyer@example.com"]
    result = runner.invoke(args=["send-alerts", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert not [m for m in smtp.messages if "BRO-SPRING" in m.as_string()]
    # Moving the show closer brings the order-by date within the warning window: order soon, mailed.
    events.update_event(session, expo.id, manager, name="Spring Expo", place="Utrecht", starts_on=date(2027, 4, 7),
                        ends_on=date(2027, 4, 8), ship_by=date(2027, 4, 7))
    requests_of_expo = events.event_requests(session, expo)
    assert requests_of_expo[0].needed_by == date(2027, 6, 9)  # a request keeps its own date: still planned
    assert flags_of(session, brochures)[0].status == PLANNED


def test_a_draft_po_shows_on_the_flag_and_replaces_raise_po(session, client, login, make_item, rep, manager):
    tees = make_item("TEE-1", name="Tee", on_hand=0, supplier="Threadline", lead_time_days=10, reorder_quantity=100)
    ask(session, rep, tees, 40, date(2027, 4, 30))
    (flag,) = flags_of(session, tees)
    assert flag.suggested_quantity == 100 and not flag.orders
    draft = purchasing.create(session, manager, lines=[("TEE-1", 40, None)])
    (flag,) = flags_of(session, tees)
    assert flag.suggested_quantity == 0 and flag.shortfall == 40  # drafts are not supply: still short
    assert flag.reason.endswith(f"draft {draft.number} for 40, not ordered yet: order it")
    assert [(o.number, o.status, o.quantity) for o in flag.purchase_orders] == [(draft.number, "draft", 40)]
    login("manager")
    html = client.get("/reorders").get_data(as_text=True)
    assert "Open draft" in html and f"/purchase-orders/{draft.id}" in html and "Raise PO" not in html
    purchasing.update_draft(session, draft.id, manager, lines=[("TEE-1", 15, None)])
    (flag,) = flags_of(session, tees)
    assert flag.suggested_quantity == 85  # 100 less the 15 already drafted
    purchasing.mark_ordered(session, draft.id, manager, date(2027, 4, 1), today=TODAY)
    (flag,) = flags_of(session, tees)
    assert flag.shortfall == 25 and flag.suggested_quantity == 100  # 15 arrive in time; 25 still short


def test_an_ordered_po_after_the_need_says_expedite_it(session, make_item, rep, manager):
    caps = make_item("CAP-1", name="Cap", on_hand=0, supplier="Hats Ltd", lead_time_days=30, reorder_quantity=20)
    ask(session, rep, caps, 20, date(2027, 3, 12))
    po = purchasing.create(session, manager, lines=[("CAP-1", 20, None)])
    purchasing.mark_ordered(session, po.id, manager, date(2027, 3, 19), today=TODAY)
    (flag,) = flags_of(session, caps)
    assert flag.status == EXPEDITE and flag.suggested_quantity == 0
    assert f"{po.number} arrives Fri 19 Mar, after the need on Fri 12 Mar: expedite it" in flag.reason


def test_a_print_piece_near_its_date_is_retire_soon_with_its_stock_holds_and_kits(
        session, client, login, make_item, rep, manager, runner, smtp, app):
    flyer = make_item("FLY-WEB", name="Webinar flyer", category="print", on_hand=300, supplier="PrintWorks",
                      do_not_use_after=TODAY + timedelta(days=10))
    request = ask(session, rep, flyer, 50, TODAY + timedelta(days=5))
    kits.create_kit(session, manager, name="Booth basics", lines=[("FLY-WEB", 100)])
    (flag,) = flags_of(session, flyer)
    assert (flag.status, flag.kind, flag.need_date, flag.projected) == (
        RETIRE, RETIRING, date(2027, 3, 11), 300)
    assert flag.reason == (f"Do not use after Thu 11 Mar (in 10 days); 300 on hand; 50 held by {request.number}; "
                           "in kit Booth basics; no successor named: reprint, or name the piece that replaces it")
    login("manager")
    assert "Retire soon" in client.get("/reorders").get_data(as_text=True)
    app.config["ALERT_RECIPIENTS"] = ["buyer@example.com"]
    assert runner.invoke(args=["send-alerts", "--today", TODAY.isoformat()]).exit_code == 0
    (digest,) = [m for m in smtp.messages if "FLY-WEB" in m.as_string()]
    assert "Retire soon" in digest["Subject"]
    # Outside the window it is not flagged; nothing left of it, neither.
    later = make_item("FLY-LATER", name="Later flyer", category="print", on_hand=5,
                      do_not_use_after=TODAY + timedelta(days=40))
    assert flags_of(session, later) == []


def test_every_rule_keeps_the_stored_flags_current(session, make_item, make_bin, stock_user, rep, manager):
    """After each kind of change, the stored flags are what a fresh projection finds."""
    from inventory.catalog import services as catalog
    from inventory.stock import services as stock

    pens = make_item("PEN-9", name="Pen", on_hand=5, supplier="Pens Co", lead_time_days=5, reorder_point=10,
                     reorder_quantity=100)
    expo = events.create_event(session, manager, name="Fair", starts_on=date(2027, 3, 20), ends_on=date(2027, 3, 21),
                               ship_by=date(2027, 3, 19))
    steps = [
        lambda: ask(session, rep, pens, 8, date(2027, 3, 19), expo),
        lambda: stock.receive(session, pens, make_bin("A-01"), 2, stock_user()),
        lambda: catalog.update_item(session, pens, reorder_point=0),
        lambda: events.update_event(session, expo.id, manager, name="Big fair", starts_on=date(2027, 3, 20),
                                    ends_on=date(2027, 3, 21), ship_by=date(2027, 3, 19)),
        lambda: purchasing.create(session, manager, lines=[("PEN-9", 50, None)]),
        lambda: stock.adjust(session, pens, make_bin("A-01"), -3, stock_user(), "lost"),
        lambda: catalog.set_archived(session, item=pens),
    ]
    stored.current(session, TODAY)
    seen = []
    for step in steps:
        step()
        assert stored.drift(session) == set()
        seen.append([(f.status, f.shortfall, f.reason.split(";")[0]) for f in stored.item_flags(session, pens.id)])
    # Order by: 19 Mar - 5 days = 14 Mar, minus 5 working days = Mon 8 Mar, 7 days on: order soon.
    assert seen[0] == [("order_now", 0, "0 available now (5 held for requests), under the reorder point of 10"),
                       ("order_soon", 3, "3 short for Fair on Fri 19 Mar (3 waiting on R-00001)")]
    # 2 more received (held for the backorder: 1 still waits), no reorder point now, the event's new name.
    assert seen[3] == [("order_soon", 1, "1 short for Big fair on Fri 19 Mar (1 waiting on R-00001)")]
    # Archived while a request still waits: still flagged, not to be ordered, and says why.
    assert seen[-1] == [("order_soon", 4, "4 short for Big fair on Fri 19 Mar (4 waiting on R-00001)")]
    (archived,) = stored.item_flags(session, pens.id)
    assert archived.suggested_quantity == 0 and archived.reason.endswith(
        "the item is archived: restore it to order more, or release what waits for it")


def test_a_failed_change_leaves_the_flags_as_they_were(session, make_item, rep):
    pens = make_item("PEN-8", name="Pen", on_hand=0, reorder_point=10, reorder_quantity=100)
    before = [(f.status, f.reason) for f in flags_of(session, pens)]
    with pytest.raises(Exception):
        submission.submit(session, rep, [(pens, -3)], purpose="client_meeting", needed_by=date(2027, 3, 5),
                          today=TODAY)
    assert [(f.status, f.reason) for f in flags_of(session, pens)] == before


def test_the_first_read_of_a_new_day_projects_everything_again(session, make_item, rep, monkeypatch):
    mugs = make_item("MUG-2", name="Mug", on_hand=0, supplier="Mugs Inc", lead_time_days=5, reorder_quantity=10)
    ask(session, rep, mugs, 5, date(2027, 3, 22))
    assert flags_of(session, mugs)[0].status == SOON  # order by Mon 10 Mar... 17 Mar - 5 wd = 10 Mar
    monkeypatch.setattr(timeutil, "today", lambda: date(2027, 3, 11))
    assert stored.current(session) == date(2027, 3, 11)
    assert session.get(ForecastState, 1).as_of == date(2027, 3, 11)
    assert stored.item_flags(session, mugs.id)[0].status == EXPEDITE


def test_forecast_refresh_and_check_commands(session, make_item, rep, runner):
    mugs = make_item("MUG-3", name="Mug", on_hand=0, reorder_point=5, reorder_quantity=10)
    result = runner.invoke(args=["forecast-refresh"])
    assert result.exit_code == 0 and "Reorder flags projected again: 1 flag." in result.output
    assert "OK: the stored reorder flags are what a fresh projection finds." in runner.invoke(args=["check"]).output
    session.execute(ReorderFlag.__table__.delete())  # as if another program had emptied the table
    session.commit()
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1 and "MUG-3" in result.output and "forecast-refresh" in result.output
    assert runner.invoke(args=["forecast-refresh"]).exit_code == 0
    assert session.scalars(select(ReorderFlag.item_id)).all() == [mugs.id]


def test_writers_of_one_item_at_the_same_instant_leave_the_flags_a_fresh_projection_finds(
        app, make_user, make_item, make_bin, stock_user):
    """Reservations with backorders, receipts and draft POs of one item, eight at a time: each
    writer re-projects the item under its row lock, so the last commit's flags saw every other
    commit (on SQLite writers queue; on PostgreSQL the item's row lock orders them)."""
    import threading

    from inventory.auth.models import User
    from inventory.catalog.models import Item
    from inventory.extensions import db
    from inventory.stock import services as stock

    item = make_item("PEN-RUSH", on_hand=3, supplier="Pens Co", lead_time_days=5, reorder_point=5,
                     reorder_quantity=40)
    reps = [make_user("rep").id for _ in range(4)]
    manager_id, staff_id, bin_id = make_user("manager").id, stock_user().id, make_bin("A-01").id
    item_id = item.id
    stored.current(db.session, TODAY)  # flags for today before the writers: they keep them current, not a refresh
    db.session.remove()
    barrier, errors = threading.Barrier(8), []

    def work(k):
        from inventory.bins.models import Bin

        with app.app_context():
            try:
                it = db.session.get(Item, item_id)
                if k < 4:
                    rep = db.session.get(User, reps[k])
                    barrier.wait()
                    ask(db.session, rep, it, 2, date(2027, 3, 5 + k))
                elif k < 6:
                    staff, where = db.session.get(User, staff_id), db.session.get(Bin, bin_id)
                    barrier.wait()
                    stock.receive(db.session, it, where, 1, staff)
                else:
                    manager = db.session.get(User, manager_id)
                    barrier.wait()
                    purchasing.create(db.session, manager, lines=[("PEN-RUSH", 10, None)])
            except Exception as error:  # noqa: BLE001 — reported below
                errors.append(repr(error))
            finally:
                db.session.remove()

    workers = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    with app.app_context():
        assert db.session.get(ForecastState, 1).as_of == TODAY  # no refresh below: what the writers left
        assert stored.drift(db.session) == set()
        (flag,) = stored.item_flags(db.session, item_id)
        # 5 on hand, 8 asked: 3 wait; two drafts of 10 are on the flag, not counted as supply.
        assert (flag.status, flag.shortfall, len(flag.orders)) == (EXPEDITE, 3, 2)
        assert session_count(db.session) == 1


def session_count(session):
    return session.scalar(select(func.count()).select_from(ReorderFlag))


def test_a_database_that_takes_no_writes_shows_the_flags_it_has_and_says_from_when(
        session, client, login, make_item, monkeypatch):
    from sqlalchemy.exc import OperationalError

    make_item("MUG-4", name="Mug", on_hand=0, reorder_point=5, reorder_quantity=10)
    stored.current(session, TODAY)
    monkeypatch.setattr(timeutil, "today", lambda: TODAY + timedelta(days=1))

    def read_only(*args, **kwargs):
        raise OperationalError("UPDATE forecast_state ...", {}, Exception("attempt to write a readonly database"))

    monkeypatch.setattr(stored, "project_all", read_only)
    login("manager")
    response = client.get("/reorders")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "These flags are from Mon 1 Mar" in html and "MUG-4" in html


def test_a_retiring_piece_with_a_successor_offers_the_swap_and_the_swap_moves_the_flags(
        session, client, login, make_item, rep, manager):
    from inventory.catalog import services as catalog
    from inventory.requests.successors import swap_successor

    old = make_item("BRO-25", name="Brochure 2025", category="print", on_hand=100, supplier="PrintWorks",
                    lead_time_days=10, do_not_use_after=TODAY + timedelta(days=7))
    new = make_item("BRO-26", name="Brochure 2026", category="print", on_hand=30, supplier="PrintWorks",
                    lead_time_days=10, reorder_quantity=500)
    catalog.update_item(session, old, replaced_by=new.sku)
    request = ask(session, rep, old, 60, date(2027, 3, 29))
    (flag,) = flags_of(session, old)
    assert flag.reason.endswith("replaced by BRO-26: swap it in")
    login("manager")
    html = client.get("/reorders").get_data(as_text=True)
    assert "Swap in successor" in html and "/i/BRO-25/successor" in html
    swap_successor(session, session.get(type(old), old.id), manager, today=TODAY, backorder_short=True)
    assert flags_of(session, old)[0].reason.startswith("Do not use after Mon 8 Mar (in 7 days); 100 on hand")
    assert request.number not in flags_of(session, old)[0].reason  # no longer held by the request
    assert flags_of(session, old)[0].reason.endswith(
        "replaced by BRO-26; nothing holds it any more: recycle what is left")
    assert "Swap in successor" not in client.get("/reorders").get_data(as_text=True)
    (short,) = flags_of(session, new)  # 30 free of the 60 now asked: 30 wait for the new piece
    assert (short.kind, short.shortfall) == (SHORTFALL, 30)
    assert f"30 backordered for {request.number}" in short.reason


def test_the_item_page_says_what_the_forecast_says(session, client, login, make_item, rep):
    mugs = make_item("MUG-5", name="Mug", on_hand=10, supplier="Mugs Inc", lead_time_days=5, reorder_quantity=50)
    ask(session, rep, mugs, 30, date(2027, 3, 4))
    login("rep")
    html = client.get("/i/MUG-5").get_data(as_text=True)
    assert "Expedite" in html and "20 backordered for R-00001, needed Thu 4 Mar" in html
    assert "Raise PO" not in html  # reps see the flag, not the buying


def test_an_archived_item_s_timeline_starts_from_its_real_stock(session, make_item, api):
    from inventory.catalog import services as catalog

    pens = make_item("PEN-OLD", name="Old pen", on_hand=12)
    catalog.set_archived(session, item=pens)
    timeline = api("/api/v1/forecast/PEN-OLD")
    assert (timeline["start"], timeline["status"], timeline["flags"]) == (12, "ok", [])
