"""The forecast is reused until something it reads changes (inventory/forecast/freshness.py).

Each write to items, products, stock, requests, purchase orders or events bumps one counter in
the same transaction; /reorders and the API reuse the flags (and the rendered page) computed at
the same counter, and compute afresh as soon as it moves."""
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, insert, select, text

from inventory.auth.models import User
from inventory.auth.services import create_token
from inventory.catalog.models import Item
from inventory.database import touching
from inventory.errors import DomainError
from inventory.events.models import Event
from inventory.extensions import db
from inventory.forecast import freshness
from inventory.forecast import services as forecast
from inventory.forecast.models import ForecastChange, ForecastVersion
from inventory.purchasing import services as purchasing
from inventory.purchasing.models import PurchaseOrder, PurchaseOrderLine
from inventory.querycount import count_queries
from inventory.requests import services as requests
from inventory.stock import services as stock
from inventory.stock.models import StockLevel


def counter(session):
    session.rollback()  # a fresh read, not the snapshot of an open transaction
    return freshness.stamp(session)


@pytest.fixture
def low_pens(make_item):
    """20 pens on hand, a reorder point of 50: flagged "order now" until stock or an order covers it."""
    return make_item("PEN-1", name="Pen", on_hand=20, supplier="PenCo", lead_time_days=10, reorder_point=50,
                     reorder_quantity=200)


def test_writes_to_what_the_forecast_reads_move_the_counter_and_nothing_else_does(
        session, low_pens, make_bin, stock_user, make_user, client, login):
    start = counter(session)
    assert start is not None
    token, n = start
    stock.receive(session, low_pens, make_bin("B-01"), 5, stock_user())
    assert counter(session) == (token, n + 1)
    # A rule that refuses changes nothing, so the counter stays.
    with pytest.raises(DomainError):
        stock.adjust(session, low_pens, make_bin("B-02"), -1000, stock_user(), "lost")
    assert counter(session) == (token, n + 1)
    # Writes elsewhere (users, logins, tokens) and reading pages leave it alone.
    create_token(session, make_user("manager"), "t")
    login("manager")
    assert client.get("/reorders").status_code == 200
    assert client.get("/i/PEN-1").status_code == 200
    assert counter(session) == (token, n + 1)
    # A write the ORM does not see as an object (a bulk statement on the session) counts too.
    session.execute(text("UPDATE item SET reorder_point = 60 WHERE sku = 'PEN-1'"))
    session.commit()
    assert counter(session) == (token, n + 2)
    # And a transaction that wrote but rolled back does not.
    session.execute(text("UPDATE item SET reorder_point = 70 WHERE sku = 'PEN-1'"))
    session.rollback()
    assert counter(session) == (token, n + 2)


def test_an_emptied_database_gets_a_new_token_so_nothing_kept_from_before_matches(session, low_pens, stock_user,
                                                                                  make_bin):
    before = counter(session)
    session.execute(delete(ForecastVersion))
    session.commit()
    assert counter(session) is None
    # Without a counter nothing is kept: each call computes.
    assert forecast.current_flags(session, date.today()).key is None
    stock.receive(session, low_pens, make_bin("B-01"), 1, stock_user())
    token, n = counter(session)
    assert n == 1 and token != before[0]


def test_the_dashboard_reuses_its_flags_until_stock_or_an_order_changes(session, client, login, low_pens, make_bin,
                                                                        stock_user, make_user):
    login("manager")
    first = client.get("/reorders").get_data(as_text=True)
    assert "PEN-1" in first and "20 available now, under the reorder point of 50" in first
    with count_queries(db.engine) as again:
        assert client.get("/reorders").get_data(as_text=True) == first
    # The user, the counter and nothing of the forecast's own queries (stock, requests, orders).
    assert not [s for s in again.statements if "stock_level" in s or "request_line" in s]

    # 40 more received: 60 is over the reorder point, the flag goes at once.
    stock.receive(session, low_pens, make_bin("B-01"), 40, stock_user())
    assert "Nothing to order" in client.get("/reorders").get_data(as_text=True)

    # A rep reserves 30 of them: 30 left available, under 50 again.
    requests.submit(session, make_user("rep"), [(low_pens, 30)], purpose="client_meeting",
                    needed_by=date.today() + timedelta(days=3))
    html = client.get("/reorders").get_data(as_text=True)
    assert "30 available now (30 held for requests), under the reorder point of 50" in html

    # A purchase order for 100, ordered and due before the request needs its pens, covers it.
    order = PurchaseOrder(supplier="PenCo", status="ordered", expected_on=date.today() + timedelta(days=1),
                          created_by_id=make_user("manager").id, lines=[PurchaseOrderLine(item_id=low_pens.id,
                                                                                          quantity=100)])
    session.add(order)
    session.commit()
    assert "Nothing to order" in client.get("/reorders").get_data(as_text=True)


def test_renaming_an_item_or_an_event_shows_on_the_kept_page_at_once(session, client, login, low_pens, make_user):
    # Ships in 20 days; PenCo needs 10: 80 short, order within days.
    show = Event(name="Expo West", place="Anaheim", starts_on=date.today() + timedelta(days=22),
                 ends_on=date.today() + timedelta(days=23), ship_by=date.today() + timedelta(days=20))
    session.add(show)
    session.commit()
    requests.submit(session, make_user("rep"), [(low_pens, 100)], purpose="trade_show", needed_by=show.ship_by,
                    event_id=show.id, allow_partial=True)
    login("manager")
    assert "Expo West" in client.get("/reorders").get_data(as_text=True)
    show.name = "Expo East"
    low_pens.product.name = "Gel pen"
    session.commit()
    html = client.get("/reorders").get_data(as_text=True)
    assert "Expo East" in html and "Expo West" not in html and "Gel pen" in html


def test_the_api_answers_what_the_page_shows_and_follows_changes(session, client, low_pens, make_user, make_bin,
                                                                  stock_user):
    headers = {"Authorization": f"Bearer {create_token(session, make_user('manager'), 't')[1]}"}
    (row,) = client.get("/api/v1/reorders", headers=headers).get_json()["items"]
    assert (row["sku"], row["status"], row["name"], row["supplier"], row["lead_time_days"]) == (
        "PEN-1", "order_now", "Pen", "PenCo", 10)
    assert client.get("/api/v1/reorders", headers=headers).get_json()["items"] == [row]
    stock.receive(session, low_pens, make_bin("B-01"), 100, stock_user())
    assert client.get("/api/v1/reorders", headers=headers).get_json()["items"] == []


def test_the_kept_flags_are_what_flagged_computes(app, session):
    """current_flags (kept, with plain facts) and flagged (ORM items) agree on the demo stockroom."""
    from inventory.demo_large import seed_large

    seed_large(session, scale=0.02)
    today = date.today()
    fresh = forecast.flagged(session, today)
    kept = forecast.current_flags(session, today).flags
    assert fresh, "the demo stockroom flags something"
    assert [(f.item.id, f.item.sku, f.item.name, f.item.supplier, f.status, f.event.id if f.event else None,
             f.event.name if f.event else None, f.order_by, f.shortfall, f.suggested_quantity, f.reason)
            for f in fresh] == \
           [(f.item.id, f.item.sku, f.item.name, f.item.supplier, f.status, f.event.id if f.event else None,
             f.event.name if f.event else None, f.order_by, f.shortfall, f.suggested_quantity, f.reason)
            for f in kept]
    # flagged skips the items that cannot be flagged; projecting every item finds the same flags.
    every = sorted((f for r in forecast.forecast(session, today) for f in r.flags if f.status != forecast.OK),
                   key=lambda f: (forecast.URGENCY[f.status], f.order_by, f.item.sku))
    assert [(f.item.id, f.status, f.event.id if f.event else None, f.order_by, f.shortfall) for f in every] == \
           [(f.item.id, f.status, f.event.id if f.event else None, f.order_by, f.shortfall) for f in fresh]


def test_writers_at_the_same_moment_each_count_once(app, session, make_item, make_bin, stock_user):
    """Two transactions that change stock at once both bump the counter: its row lock orders
    them (on PostgreSQL they really overlap; SQLite takes them one after the other)."""
    items = [make_item(f"CUP-{n}", on_hand=0) for n in range(2)]
    bins = [make_bin(f"C-0{n}") for n in range(2)]
    user = stock_user()
    item_ids, bin_ids, user_id = [i.id for i in items], [b.id for b in bins], user.id
    token, n = counter(session)
    barrier = threading.Barrier(2)
    errors = []

    def write(k):
        with app.app_context():
            try:
                local = db.session
                item, bin_, who = local.get(Item, item_ids[k]), local.get(type(bins[0]), bin_ids[k]), \
                    local.get(type(user), user_id)
                barrier.wait(timeout=10)
                for _ in range(5):
                    stock.receive(local, item, bin_, 1, who)
            except Exception as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert counter(session) == (token, n + 10)
    assert session.scalar(select(StockLevel.quantity).where(StockLevel.item_id == item_ids[0])) == 5


def test_a_bulk_insert_on_the_session_counts(session, low_pens, make_bin):
    token, n = counter(session)
    bin_ = make_bin("D-01")
    assert counter(session) == (token, n)  # a new bin is not something the forecast reads
    session.execute(insert(StockLevel), [{"item_id": low_pens.id, "bin_id": bin_.id, "quantity": 0}])
    session.commit()
    assert counter(session) == (token, n + 1)


def changes_since(session, since):
    """What the change log says changed after counter `since` (ids, or None for everything)."""
    now = counter(session)
    return freshness.changed_items(session, since[1], now[1]), now


def test_each_write_logs_the_items_it_changed(session, low_pens, make_item, make_bin, stock_user, make_user):
    cups = make_item("CUP-1", name="Cup", on_hand=10)
    manager, rep = make_user("manager"), make_user("rep")
    now = counter(session)
    # Stock through the Core upsert and conditional update (declared with database.touching).
    stock.receive(session, low_pens, make_bin("B-01"), 5, stock_user())
    changed, now = changes_since(session, now)
    assert changed == {low_pens.id}
    stock.receive(session, cups, make_bin("B-02"), 1, stock_user())
    changed, now = changes_since(session, now)
    assert changed == {cups.id}
    # A reservation (Core INSERTs of the request and its lines), then its cancellation (ORM:
    # the request changes, its lines are read at commit).
    request = requests.submit(session, rep, [(low_pens, 3), (cups, 2)], purpose="client_meeting",
                              needed_by=date.today() + timedelta(days=3))
    changed, now = changes_since(session, now)
    assert changed == {low_pens.id, cups.id}
    requests.cancel(session, request.id, rep)
    changed, now = changes_since(session, now)
    assert changed == {low_pens.id, cups.id}
    # An item edited through the ORM; a purchase order raised, then placed.
    low_pens.reorder_point = 55
    session.commit()
    changed, now = changes_since(session, now)
    assert changed == {low_pens.id}
    order = purchasing.create(session, manager, lines=[("CUP-1", 50, None)], supplier="CupCo")
    changed, now = changes_since(session, now)
    assert changed == {cups.id}
    # The draft's cup line replaced by a pen line: the orphaned line's item counts too.
    purchasing.update_draft(session, order.id, manager, lines=[("PEN-1", 10, None)], supplier="CupCo")
    changed, now = changes_since(session, now)
    assert changed == {cups.id, low_pens.id}
    purchasing.mark_ordered(session, order.id, manager, date.today() + timedelta(days=5))
    changed, now = changes_since(session, now)
    assert changed == {low_pens.id}
    # A new event changes no item; two steps at once are read together.
    show = Event(name="Expo", place="Here", starts_on=date.today() + timedelta(days=9),
                 ends_on=date.today() + timedelta(days=10), ship_by=date.today() + timedelta(days=7))
    session.add(show)
    session.commit()
    stock.receive(session, cups, make_bin("B-02"), 1, stock_user())
    changed, now = changes_since(session, now)
    assert changed == {cups.id}
    # What many flags show (an event's or a product's name), raw SQL, or a writer outside the
    # session (no log at all): everything.
    show.name = "Expo 2027"
    session.commit()
    assert changes_since(session, now)[0] is None
    now = counter(session)
    low_pens.product.name = "Gel pen"
    session.commit()
    assert changes_since(session, now)[0] is None
    now = counter(session)
    session.execute(text("UPDATE item SET reorder_point = 70 WHERE sku = 'CUP-1'"))
    session.commit()
    assert changes_since(session, now)[0] is None
    now = counter(session)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE forecast_version SET n = n + 1"))
    assert changes_since(session, now)[0] is None
    # touching() vouches for rows of its items, not for a Core write to an event beside them.
    now = counter(session)
    with touching([cups.id]):
        session.execute(text("UPDATE stock_level SET quantity = quantity + 1 WHERE item_id = :id"), {"id": cups.id})
    session.commit()
    changed, now = changes_since(session, now)
    assert changed == {cups.id}
    with touching([cups.id]):
        session.execute(text("UPDATE event SET place = 'There'"))
    session.commit()
    assert changes_since(session, now)[0] is None


def test_a_new_counter_starts_a_new_log(session, low_pens, make_bin, stock_user):
    stock.receive(session, low_pens, make_bin("B-01"), 1, stock_user())
    assert session.scalar(select(func.count()).select_from(ForecastChange)) > 0
    session.execute(delete(ForecastVersion))
    session.commit()
    stock.receive(session, low_pens, make_bin("B-01"), 1, stock_user())
    token, n = counter(session)
    assert n == 1
    # Rows logged under the old counter are gone: their numbers would pass for the new one's.
    assert session.execute(select(ForecastChange.n, ForecastChange.item_id)).all() == [(1, low_pens.id)]


def test_after_a_change_only_its_items_are_projected_again_and_the_flags_are_what_a_full_forecast_finds(
        app, session, monkeypatch, make_bin, stock_user):
    from inventory.demo_large import seed_large

    seed_large(session, scale=0.02)
    today, settings = date.today(), forecast.Settings()
    projected = []
    full_flags = forecast._flags

    def spy(session, today, settings, item_ids=None):
        projected.append(item_ids)
        return full_flags(session, today, settings, item_ids)

    monkeypatch.setattr(forecast, "_flags", spy)

    def shown(flags):
        return [(f.item.id, f.item.sku, f.item.name, f.item.supplier, f.status, f.event and f.event.name,
                 f.need_date, f.order_by, f.projected, f.shortfall, f.suggested_quantity, f.reason) for f in flags]

    def full():
        flags, events = full_flags(session, today, settings)
        return shown(flag for item_flags in forecast._with_facts(session, flags, events).values()
                     for flag in item_flags)

    def check():
        current = forecast.current_flags(session, today, settings)
        assert shown(current.flags) == sorted(full(), key=lambda f: (forecast.URGENCY[f[4]], f[7], f[1]))
        return current

    first = check()
    assert projected == [None] and first.flags
    rep = session.scalars(select(User).where(User.role == "rep", User.active.is_(True))).first()
    flagged = session.get(Item, first.flags[0].item.id)
    # A calm consumable: in stock, not flagged; reserving all that is free puts it under its reorder point.
    calm = next(item for item in session.scalars(
        select(Item).where(Item.archived.is_(False), Item.returnable.is_(False), Item.reorder_point > 0,
                           Item.id.not_in(first.by_item)).order_by(Item.id))
        if requests.free_quantity(session, item) > 0)
    # Receiving plenty of the first flagged item: its flags go; only it is projected.
    stock.receive(session, flagged, make_bin("Z-01"), 5000, stock_user())
    second = check()
    assert projected[-1] == {flagged.id} and flagged.id not in second.by_item
    # A rep reserves all of the calm item for tomorrow: it is flagged now; only it is projected.
    requests.submit(session, rep, [(calm, requests.free_quantity(session, calm))], purpose="client_meeting",
                    needed_by=date.today() + timedelta(days=1))
    third = check()
    assert projected[-1] == {calm.id} and calm.id in third.by_item
    # Once a minute at most, a change recomputes everything all the same (a write that bypassed
    # the log is seen then); FULL_EVERY_S = 0 makes that now.
    monkeypatch.setattr(forecast, "FULL_EVERY_S", 0)
    stock.receive(session, calm, make_bin("Z-01"), 1, stock_user())
    fourth = check()
    assert projected[-1] is None
    monkeypatch.setattr(forecast, "FULL_EVERY_S", 60)
    # A reused stamp computes nothing; an event renamed recomputes everything.
    count = len(projected)
    assert forecast.current_flags(session, today, settings) is fourth and len(projected) == count
    event = session.scalars(select(Event).order_by(Event.id)).first()
    event.name += " (moved)"
    session.commit()
    check()
    assert projected[-1] is None
