"""The reorder forecast on hand-made cases, worked out on paper. `today` is injected.

Calendar used (2027): Mon 1 Mar is "today". Expo West ships on Wed 31 Mar. With a 21-day lead
time the stock must be ordered by 31 Mar - 21 days = Wed 10 Mar, minus 5 working days (Tue 9,
Mon 8, Fri 5, Thu 4, Wed 3) = Wed 3 Mar. With a 45-day lead time: 31 Mar - 45 days = Sun 14 Feb,
minus 5 working days (Fri 12, Thu 11, Wed 10, Tue 9, Mon 8) = Mon 8 Feb.
"""
from datetime import date

import pytest

from inventory import timeutil
from inventory.events.models import Event
from inventory.forecast import projection, stored
from inventory.forecast.models import EXPEDITE, NOW, PLANNED, SOON
from inventory.forecast.timing import subtract_working_days
from inventory.purchasing import services as purchasing
from inventory.requests import submission

TODAY = date(2027, 3, 1)
SHIP = date(2027, 3, 31)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    """The stored flags are projected for timeutil.today(): Mon 1 Mar 2027 here."""
    monkeypatch.setattr(timeutil, "today", lambda: TODAY)


@pytest.fixture
def event(session):
    def make(name="Expo West", ship_by=SHIP, starts_on=None, ends_on=None, return_by=None):
        starts_on = starts_on or ship_by
        row = Event(name=name, place="Anaheim", starts_on=starts_on, ends_on=ends_on or starts_on, ship_by=ship_by,
                    return_by=return_by)
        session.add(row)
        session.commit()
        return row

    return make


@pytest.fixture
def need(session, make_user):
    rep = make_user("rep")

    def make(item, quantity, event=None, needed_by=SHIP, return_by=None):
        return submission.submit(session, rep, [(item, quantity)], purpose="trade_show", needed_by=needed_by,
                                 return_by=return_by, event_id=event.id if event else None, allow_partial=True,
                                 today=TODAY)

    return make


def only_flag(session, item, today=TODAY):
    """The item's flags as the pages read them: stored, for TODAY (and then they must be what a
    fresh projection finds: the rules kept them current); computed, for another day."""
    if today != TODAY:
        return stored.as_rows(session, projection.compute(session, today, item_ids=[item.id]))
    stored.current(session, TODAY)
    assert stored.drift(session) == set(), "the stored flags are not what a fresh projection finds"
    return stored.item_flags(session, item.id)


def order(session, manager, item, quantity, expected_on, ordered=True):
    po = purchasing.create(session, manager, lines=[(item.sku, quantity, None)])
    if ordered:
        purchasing.mark_ordered(session, po.id, manager, expected_on, today=TODAY)
    return po


@pytest.fixture
def brochure(make_item):
    def make(lead=21, on_hand=500, reorder_point=0, reorder_quantity=1000):
        return make_item("BRO-EXPO", name="Expo brochure", category="print", on_hand=on_hand, supplier="PrintWorks",
                         lead_time_days=lead, reorder_point=reorder_point, reorder_quantity=reorder_quantity)

    return make


def test_working_days_are_counted_without_weekends():
    assert subtract_working_days(date(2027, 3, 10), 5) == date(2027, 3, 3)
    assert subtract_working_days(date(2027, 2, 14), 5) == date(2027, 2, 8)


@pytest.mark.parametrize("today, status", [
    (date(2027, 2, 1), PLANNED),     # order-by 3 Mar is 30 days away: known, planned, never "ok"
    (date(2027, 2, 20), SOON),       # 11 days away: within the 14-day warning window
    (date(2027, 3, 3), NOW),         # the order-by date is today
    (date(2027, 3, 4), EXPEDITE),    # it has passed: a normal reorder is too late
])
def test_short_for_an_event_with_a_21_day_lead_time(session, brochure, event, need, today, status):
    item = brochure(lead=21)
    expo = event()
    need(item, 700, expo)  # 500 held, 200 backordered
    (flag,) = only_flag(session, item, today)
    assert (flag.status, flag.event.id, flag.need_date, flag.order_by) == (status, expo.id, SHIP, date(2027, 3, 3))
    assert (flag.shortfall, flag.projected, flag.suggested_quantity) == (200, -200, 1000)
    assert flag.reason.startswith("200 short for Expo West on Wed 31 Mar (200 waiting on R-00001); "
                                  "PrintWorks needs 21 days")
    if status != EXPEDITE:
        assert flag.reason.endswith("order by Wed 3 Mar")


def test_a_45_day_lead_time_means_expedite(session, brochure, event, need):
    item = brochure(lead=45)
    need(item, 700, event())
    (flag,) = only_flag(session, item)
    assert (flag.status, flag.order_by) == (EXPEDITE, date(2027, 2, 8))
    assert "already too late: expedite" in flag.reason


def test_a_purchase_order_before_the_event_clears_the_flag_one_after_does_not(session, brochure, event, need,
                                                                                make_user):
    item = brochure()
    need(item, 700, event())
    manager = make_user("manager")
    po = order(session, manager, item, 200, date(2027, 4, 2))
    (flag,) = only_flag(session, item)  # arrives 2 Apr, after the 31 Mar shipping
    assert flag.shortfall == 200 and flag.suggested_quantity == 0  # the late order covers it: bring it forward
    assert "PO-00001 arrives Fri 2 Apr, after the need on Wed 31 Mar: bring it forward" in flag.reason
    purchasing.reschedule(session, po.id, manager, date(2027, 3, 20), today=TODAY)
    assert only_flag(session, item) == []
    (result,) = projection.forecast(session, TODAY, item_ids=[item.id])
    assert [(s.day, s.change, s.projected) for s in result.steps] == [
        (TODAY, -500, 0), (date(2027, 3, 20), 200, 200), (SHIP, -200, 0)]


def test_two_events_competing_for_the_same_stock(session, brochure, event, need):
    item = brochure(on_hand=500)
    early = event("Spring Summit", ship_by=date(2027, 3, 15))
    late = event("Expo West")
    need(item, 300, early)   # held 300
    need(item, 400, late)    # held 200, backordered 200
    flags = only_flag(session, item)
    assert [(f.event.name, f.shortfall) for f in flags] == [("Expo West", 200)]


def test_stock_promised_to_an_event_that_leaves_too_little_is_order_now(session, brochure, event, need):
    item = brochure(on_hand=500, reorder_point=300, reorder_quantity=1000)
    need(item, 400, event())  # all held: 100 available, under 300 (flagged once, not again for the event)
    (flag,) = only_flag(session, item)
    assert (flag.status, flag.event, flag.projected, flag.suggested_quantity) == (NOW, None, 100, 1000)
    assert flag.reason.startswith("100 available now (400 held for requests), under the reorder point of 300")


def test_a_returnable_short_for_an_event_after_it_crossed_the_reorder_point(session, make_item, event, need):
    banners = make_item("BANNER-2", name="Banner", category="display", on_hand=2, returnable=True,
                        reorder_point=0, lead_time_days=10)
    show = event("Dealer Day", ship_by=date(2027, 3, 20), return_by=date(2027, 3, 22))
    need(banners, 3, show, needed_by=show.ship_by, return_by=show.return_by)  # 2 held, 1 backordered
    (flag,) = only_flag(session, banners)
    assert (flag.event.name, flag.shortfall, flag.status) == ("Dealer Day", 1, SOON)


def test_stock_already_under_the_reorder_point_is_order_now(session, brochure):
    item = brochure(on_hand=50, reorder_point=100, reorder_quantity=500)
    (flag,) = only_flag(session, item)
    assert (flag.status, flag.event, flag.order_by, flag.suggested_quantity) == (NOW, None, TODAY, 500)
    assert flag.reason.startswith("50 available now, under the reorder point of 100")


def test_returnables_that_come_back_between_two_events_are_not_short(session, make_item, event, need):
    banner = make_item("BANNER-1", name="Roll-up banner", category="display", on_hand=1, returnable=True,
                       lead_time_days=14)
    first = event("Spring Summit", ship_by=date(2027, 3, 10), return_by=date(2027, 3, 14))
    second = event("Expo West", ship_by=date(2027, 3, 20), return_by=date(2027, 3, 25))
    need(banner, 1, first, needed_by=first.ship_by, return_by=first.return_by)
    need(banner, 1, second, needed_by=second.ship_by, return_by=second.return_by)
    assert only_flag(session, banner) == []
    # A third show overlapping the first cannot have the banner: it is short there.
    third = event("Dealer Day", ship_by=date(2027, 3, 12), return_by=date(2027, 3, 13))
    need(banner, 1, third, needed_by=third.ship_by, return_by=third.return_by)
    (flag,) = only_flag(session, banner)
    assert (flag.event.name, flag.shortfall) == ("Dealer Day", 1)


def test_flagged_lists_everything_to_act_on_by_urgency_and_groups_by_event(session, brochure, make_item, event,
                                                                           need):
    item = brochure(lead=45)
    expo = event()
    need(item, 700, expo)
    pens = make_item("PEN-1", name="Pen", on_hand=10, reorder_point=50, reorder_quantity=500)
    stored.current(session, TODAY)
    flags = stored.flags(session)
    assert [(f.item.sku, f.status) for f in flags] == [("BRO-EXPO", "expedite"), ("PEN-1", "order_now")]
    assert [(e.name if e else None, [f.item.sku for f in group]) for e, group in stored.by_event(flags)] == [
        ("Expo West", ["BRO-EXPO"]), (None, ["PEN-1"])]
    assert pens.sku == "PEN-1"


def test_dashboard_page_and_api(client, login, session, brochure, event, need, make_user):
    from datetime import timedelta

    from inventory.auth.services import create_token

    item = brochure(lead=45)
    show = event("Expo West", ship_by=TODAY + timedelta(days=30))
    submission.submit(session, make_user("rep"), [(item, 700)], purpose="trade_show", needed_by=show.ship_by,
                      event_id=show.id, allow_partial=True, today=TODAY)
    login("manager")
    html = client.get("/reorders").get_data(as_text=True)
    assert "Expo West" in html and "Expo brochure" in html and "Expedite" in html and "200 short for Expo West" in html
    token = create_token(session, make_user("manager"), "t")[1]
    headers = {"Authorization": f"Bearer {token}"}
    (row,) = client.get("/api/v1/reorders", headers=headers).get_json()["items"]
    assert (row["sku"], row["status"], row["shortfall"], row["suggested_qty"], row["event_id"]) == (
        "BRO-EXPO", "expedite", 200, 1000, show.id)
    timeline = client.get("/api/v1/forecast/bro-expo", headers=headers).get_json()
    assert timeline["start"] == 500 and timeline["timeline"][-1]["projected"] == -200
    assert client.get("/api/v1/forecast/bro-expo?today=soon", headers=headers).status_code == 400
    rep_token = create_token(session, make_user("rep"), "t")[1]
    assert client.get("/api/v1/reorders", headers={"Authorization": f"Bearer {rep_token}"}).status_code == 403
    client.post("/logout")
    login("rep")
    assert client.get("/reorders").status_code == 403


def test_stock_on_order_counts_towards_the_reorder_point(session, brochure, make_user):
    item = brochure(on_hand=50, reorder_point=100, reorder_quantity=500)
    manager = make_user("manager")
    order(session, manager, item, 30, date(2027, 3, 20))
    (flag,) = only_flag(session, item)  # 50 + 30 on order is still under 100
    assert flag.reason.startswith("50 available now (30 on order), under the reorder point of 100")
    order(session, manager, item, 30, date(2027, 3, 22))
    assert only_flag(session, item) == []  # 50 + 60 on order: covered


def test_consumables_on_a_request_with_a_return_date_do_not_come_back(session, brochure, make_item, event,
                                                                       make_user):
    item = brochure(on_hand=500)
    banner = make_item("BANNER-9", category="display", on_hand=1, returnable=True)
    show = event("Expo West", ship_by=date(2027, 3, 20), return_by=date(2027, 3, 25))
    submission.submit(session, make_user("rep"), [(item, 300), (banner, 1)], purpose="trade_show",
                      needed_by=show.ship_by, return_by=show.return_by, event_id=show.id, today=TODAY)
    (result,) = projection.forecast(session, TODAY, item_ids=[item.id])
    assert [(s.day, s.change, s.projected) for s in result.steps] == [(TODAY, -300, 200)]  # held now
    (banner_result,) = projection.forecast(session, TODAY, item_ids=[banner.id])
    assert [s.change for s in banner_result.steps] == [-1, 1]


def test_raise_po_links_are_what_url_for_builds(app):
    """raise_po_url builds its query string by hand (url_for once per request): the same URL."""
    from types import SimpleNamespace

    from flask import url_for

    from inventory.forecast.views import raise_po_url

    def flag(sku, supplier, quantity):
        return SimpleNamespace(item=SimpleNamespace(sku=sku, supplier=supplier), suggested_quantity=quantity)

    cases = [([flag("PEN-1", "Pens & Co / Ltd", 200), flag("CUP-Ø", "Pens & Co / Ltd", 5)], SimpleNamespace(id=7)),
             ([flag("TEE-M", None, 12)], None),
             ([flag("A:B?C#D", "Ünï ;code'$!@", 1)], None)]
    with app.test_request_context("/reorders", base_url="https://stock.example.com/app"):
        for flags, event in cases:
            expected = url_for("purchasing.new", supplier=flags[0].item.supplier or None,
                               line=[f"{f.item.sku}:{f.suggested_quantity}" for f in flags],
                               event_id=event.id if event is not None else None)
            assert raise_po_url(flags, event) == expected
        assert raise_po_url([], None) is None
