"""Cost as it was: every movement records the unit cost of what moved at that moment (a PO
receipt: its line's cost), and what an event or a report says was spent is read from the issues'
recorded costs, so a later price change does not rewrite the past. Worked out on paper, through
the rules, the pages, the CSV downloads and the API; and the migration that gave the ledger's
older rows a cost."""
import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import flask_migrate
import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, make_url, select, text

from inventory import MIGRATIONS
from inventory.auth.services import create_token
from inventory.catalog import services as catalog
from inventory.config import normalize_database_url
from inventory.events import services as events
from inventory.extensions import db
from inventory.purchasing import services as purchasing
from inventory.reports import periods
from inventory.reports.event_costs import usage_by_event
from inventory.reports.over_time import usage_over_time
from inventory.reports.usage import usage_by_item, usage_by_rep
from inventory.requests import fulfilment, handover, queries, review, submission
from inventory.requests.models import RequestLine
from inventory.stock import services as stock
from inventory.stock.models import Movement
from inventory.timeutil import utcnow
from inventory.transfer import services as transfer

from tests.conftest import make_test_app

TODAY = date.today()
# The hand-overs below happen now, stamped in UTC: a period to tomorrow holds them in any time zone.
RECENT = periods.Period(TODAY - timedelta(days=30), TODAY + timedelta(days=1))
RECENT_ARGS = f"from={RECENT.first.isoformat()}&to={RECENT.last.isoformat()}"


def days(n):
    return TODAY + timedelta(days=n)


@pytest.fixture
def people(make_user):
    return make_user("manager", name="Morgan Manager"), make_user("staff"), make_user("rep", name="Riley Rep")


@pytest.fixture
def show(session, people, make_item):
    """A show that ended two days ago; brochures at 0.85 (500 on the shelf), a roll-up banner at
    95.00 (returnable, 3 of them)."""
    manager, _staff, _rep = people
    brochure = make_item("BRO-1", name="Atlas brochure", category="print", on_hand=500, unit_cost="0.85")
    banner = make_item("BANNER-1", name="Roll-up banner", category="display", on_hand=3, returnable=True,
                       unit_cost="95.00")
    event = events.create_event(session, manager, name="Autumn fair", starts_on=days(-4), ends_on=days(-2),
                                ship_by=days(-6), return_by=days(-1))
    return event, brochure, banner


def ask_and_hand_over(session, people, event, lines):
    """A rep's request for the show (made before it), approved, picked and handed over now."""
    manager, staff, rep = people
    request = submission.submit(session, rep, lines, purpose="trade_show", needed_by=event.ship_by,
                                return_by=event.return_by if any(item.returnable for item, _ in lines) else None,
                                event_id=event.id, today=days(-8))
    review.approve(session, request.id, manager)
    for bin, picks in fulfilment.pick_list(session, queries.get_request(session, request.id)):
        fulfilment.pick(session, request.id, bin, {line.id: qty for line, qty in picks}, staff)
    handover.hand_over(session, request.id, staff)
    return queries.get_request(session, request.id)


def change_price_on_the_page(client, sku, price):
    """The manager edits the item's unit cost on its page (the client is logged in as one)."""
    response = client.post(f"/i/{sku}/edit", data={"unit": "each", "supplier": "PrintWorks Ltd", "unit_cost": price})
    assert response.status_code == 302, response.get_data(as_text=True)


def event_usage(session, event):
    return events.usage(events.event_requests(session, event))


def csv_rows(response):
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def api_get(client, session, user, url):
    token = create_token(session, user, "test")[1]
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# Usage keeps the cost things went out at ---------------------------------------------------------

def test_a_price_change_does_not_change_what_a_past_show_cost(client, auth_client, session, people, show):
    manager, _staff, _rep = people
    event, brochure, _banner = show
    ask_and_hand_over(session, people, event, [(brochure, 100)])   # 100 x 0.85 = 85.00
    auth_client.login(manager)
    change_price_on_the_page(client, "BRO-1", "1.20")
    assert catalog.get_item(session, "BRO-1").unit_cost == Decimal("1.20")

    # The rules: the event and every usage report still say 85.00.
    usage = event_usage(session, event)
    (row,) = usage.rows
    assert (row.issued, row.used, row.unit_cost, row.cost) == (100, 100, Decimal("0.85"), Decimal("85.00"))
    assert usage.cost == Decimal("85.00")
    (entry,) = usage_by_event(session, RECENT).rows
    assert (entry.event.id, entry.usage.cost) == (event.id, Decimal("85.00"))
    (item_row,) = usage_by_item(session, RECENT).rows
    assert (item_row.usage.unit_cost, item_row.usage.cost) == (Decimal("0.85"), Decimal("85.00"))
    assert usage_by_rep(session, RECENT).total.cost == Decimal("85.00")
    assert sum((b.usage.cost for b in usage_over_time(session, RECENT)[1]), Decimal("0")) == Decimal("85.00")

    # The pages, the downloads and the API say the same.
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "$85.00" in page and "$0.85 each" in page and "$120.00" not in page
    assert "$85.00" in client.get(f"/reports/events?{RECENT_ARGS}").get_data(as_text=True)
    items_page = client.get(f"/reports/items?{RECENT_ARGS}").get_data(as_text=True)
    assert "$85.00" in items_page and "$0.85" in items_page and "$1.20" not in items_page
    header, *rows = csv_rows(client.get(f"/reports/items.csv?{RECENT_ARGS}"))
    line = dict(zip(header, rows[0]))
    assert (line["sku"], line["unit cost"], line["cost"]) == ("BRO-1", "0.85", "85.00")
    header, *rows = csv_rows(client.get(f"/reports/events.csv?{RECENT_ARGS}"))
    assert dict(zip(header, rows[0]))["cost"] == "85.00"
    body = api_get(client, session, manager, f"/api/v1/events/{event.id}")
    assert body["usage"]["cost"] == "85.00"
    (item,) = body["usage"]["items"]
    assert {k: item[k] for k in ("sku", "used", "unit_cost", "unit_costs", "cost")} == {
        "sku": "BRO-1", "used": 100, "unit_cost": "0.85", "unit_costs": ["0.85"], "cost": "85.00"}


def test_a_new_issue_after_the_change_costs_the_new_price(client, auth_client, session, people, show):
    manager, _staff, _rep = people
    event, brochure, _banner = show
    ask_and_hand_over(session, people, event, [(brochure, 100)])        # 100 x 0.85 = 85.00
    catalog.update_item(session, brochure, unit_cost="1.20")
    ask_and_hand_over(session, people, event, [(brochure, 50)])         # 50 x 1.20 = 60.00
    issues = session.execute(select(Movement.quantity, Movement.unit_cost).where(Movement.kind == "issue")
                             .order_by(Movement.id)).all()
    assert issues == [(100, Decimal("0.85")), (50, Decimal("1.20"))]
    # Each line keeps the cost its issue recorded, beside how many it issued.
    lines = session.execute(select(RequestLine.issued, RequestLine.issued_unit_cost).order_by(RequestLine.id)).all()
    assert lines == [(100, Decimal("0.85")), (50, Decimal("1.20"))]

    (row,) = event_usage(session, event).rows
    # 85.00 + 60.00 = 145.00; on average 145.00 / 150 = 0.9667 -> 0.97 a unit
    assert (row.issued, row.cost, row.unit_costs, row.unit_cost) == (
        150, Decimal("145.00"), {Decimal("0.85"), Decimal("1.20")}, Decimal("0.97"))
    (item_row,) = usage_by_item(session, RECENT).rows
    assert (item_row.usage.cost, item_row.usage.unit_cost, item_row.usage.several_costs) == (
        Decimal("145.00"), Decimal("0.97"), True)
    assert usage_by_event(session, RECENT).total.cost == Decimal("145.00")

    auth_client.login(manager)
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "$145.00" in page and "$0.97 each on average ($0.85, $1.20)" in page
    assert "avg. $0.97" in client.get(f"/reports/items?{RECENT_ARGS}").get_data(as_text=True)
    body = api_get(client, session, manager, f"/api/v1/events/{event.id}")
    (item,) = body["usage"]["items"]
    assert (item["cost"], item["unit_cost"], item["unit_costs"]) == ("145.00", "0.97", ["0.85", "1.20"])
    assert body["usage"]["cost"] == "145.00"


def test_lost_and_damaged_returnables_cost_what_they_cost_when_they_went_out(session, people, show, make_bin):
    _manager, staff, _rep = people
    event, _brochure, banner = show
    request = ask_and_hand_over(session, people, event, [(banner, 3)])   # out at 95.00
    catalog.update_item(session, banner, unit_cost="120.00")              # the price goes up while they are out
    (line,) = request.lines
    fulfilment.check_in(session, request.id, make_bin("A-01"), {line.id: {"returned": 1, "lost": 1, "damaged": 1}},
                        staff)
    catalog.update_item(session, banner, unit_cost="150.00")              # and again afterwards

    (row,) = event_usage(session, event).rows
    # 1 lost + 1 damaged, at the 95.00 they went out at (not 120.00 at check-in, not 150.00 now)
    assert (row.returned, row.lost, row.damaged, row.unit_cost, row.cost) == (
        1, 1, 1, Decimal("95.00"), Decimal("190.00"))
    (entry,) = usage_by_event(session, RECENT).rows
    assert (entry.usage.lost, entry.usage.damaged, entry.usage.cost) == (1, 1, Decimal("190.00"))
    # The one that came back was booked in at what a banner cost at check-in.
    returned = session.scalar(select(Movement).where(Movement.kind == "return"))
    assert (returned.quantity, returned.unit_cost) == (1, Decimal("120.00"))


def test_a_returnable_not_checked_in_yet_is_still_out_and_not_costed(session, people, show):
    event, _brochure, banner = show
    ask_and_hand_over(session, people, event, [(banner, 2)])
    catalog.update_item(session, banner, unit_cost="120.00")
    (row,) = event_usage(session, event).rows
    assert (row.still_out, row.cost, row.unit_cost) == (2, Decimal("0.00"), Decimal("95.00"))


# What each movement records ------------------------------------------------------------------------

def test_every_movement_records_the_items_unit_cost_at_that_moment(session, people, make_item, make_bin):
    _manager, staff, _rep = people
    shelf, other = make_bin("A-01"), make_bin("A-02")
    pen = make_item("PEN-1", unit_cost="0.40")
    stock.receive(session, pen, shelf, 50, staff)
    catalog.update_item(session, pen, unit_cost="0.45")
    stock.move(session, pen, shelf, other, 10, staff)
    stock.put_away(session, pen, other, shelf, 5, staff)
    catalog.update_item(session, pen, unit_cost="0.50")
    stock.adjust(session, pen, shelf, -2, staff, "damaged in the box")
    stock.count_one(session, pen, shelf, 40, staff)
    recorded = session.execute(select(Movement.kind, Movement.unit_cost).where(Movement.item_id == pen.id)
                               .order_by(Movement.id)).all()
    assert recorded == [("receive", Decimal("0.40")), ("move", Decimal("0.45")), ("put_away", Decimal("0.45")),
                        ("adjust", Decimal("0.50")), ("count", Decimal("0.50"))]


def test_picks_issues_and_returns_record_the_cost_of_their_moment(session, people, show, make_bin):
    _manager, staff, _rep = people
    event, brochure, banner = show
    request = ask_and_hand_over(session, people, event, [(brochure, 10), (banner, 1)])
    catalog.update_item(session, banner, unit_cost="99.00")
    banner_line = next(line for line in request.lines if line.item_id == banner.id)
    fulfilment.check_in(session, request.id, make_bin("A-01"), {banner_line.id: {"returned": 1}}, staff)
    recorded = session.execute(
        select(Movement.kind, Movement.item_id, Movement.unit_cost)
        .where(Movement.reference == request.number).order_by(Movement.id)).all()
    assert sorted(recorded) == sorted([
        ("pick", brochure.id, Decimal("0.85")), ("pick", banner.id, Decimal("95.00")),
        ("issue", brochure.id, Decimal("0.85")), ("issue", banner.id, Decimal("95.00")),
        ("return", banner.id, Decimal("99.00"))])


def test_a_po_receipt_records_the_po_lines_cost_not_the_catalogs(client, session, people, make_item, make_bin):
    manager, staff, _rep = people
    make_item("BRO-2", name="Nimbus brochure", category="print", supplier="PrintWorks Ltd", unit_cost="0.85")
    shelf = make_bin("B-01")
    order = purchasing.create(session, manager, lines=[("BRO-2", 1000, "0.70")])
    purchasing.mark_ordered(session, order.id, manager, days(10))
    (line,) = order.lines
    receipt = purchasing.receive(session, order.id, line.id, shelf, 400, staff)
    assert receipt.movement.unit_cost == Decimal("0.70")
    # Through the API too: the receipt's movement says what it cost.
    token = create_token(session, staff, "test")[1]
    response = client.post(f"/api/v1/purchase-orders/{order.id}/receive", json={"sku": "BRO-2", "bin": "B-01",
                                                                                "quantity": 100},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["movement"]["unit_cost"] == "0.70"
    listed = client.get("/api/v1/movements?sku=BRO-2", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [(m["kind"], m["quantity"], m["unit_cost"]) for m in listed["movements"]] == [
        ("receive", 100, "0.70"), ("receive", 400, "0.70")]
    # An ordinary receipt (no PO) is booked at the item's unit cost.
    assert stock.receive(session, catalog.get_item(session, "BRO-2"), shelf, 5, staff).unit_cost == Decimal("0.85")


def test_opening_stock_and_the_ledger_export_carry_the_unit_cost(client, login, session, people, make_item,
                                                                 make_bin):
    manager, _staff, _rep = people
    make_item("PEN-1", unit_cost="0.40")
    make_item("CAP-1", on_hand=3, unit_cost="6.00")
    make_bin("A-01")
    transfer.import_stock(session, "sku,bin,quantity\nPEN-1,A-01,10\nCAP-1,A-01,5\n", manager)
    booked = session.execute(select(Movement.reference, Movement.kind, Movement.unit_cost)
                             .where(Movement.user_id == manager.id).order_by(Movement.id)).all()
    assert [(kind, cost) for _ref, kind, cost in booked] == [("receive", Decimal("0.40")), ("count", Decimal("6.00"))]
    login("manager")
    header, *rows = csv_rows(client.get(f"/transfer/export/ledger.csv?first_day={days(-1)}&last_day={days(1)}"))
    assert header[-1] == "unit_cost" and {(r[header.index("sku")], r[-1]) for r in rows} == {
        ("PEN-1", "0.40"), ("CAP-1", "6.00")}


# The migration -----------------------------------------------------------------------------------

@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """An empty database of the kind under test, for migrating step by step."""
    if not database_url.startswith("postgresql"):
        yield "sqlite:///" + str(tmp_path / "migrate.sqlite3")
        return
    url = make_url(normalize_database_url(database_url))
    name = f"{url.database}_migrate"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _rows_as_0012_kept_them(connection, user_id, bin_id, pen_id, mug_id):
    """A ledger and requests as 0012 kept them, without costs: written with plain INSERTs (the
    models have the new columns already). R-00001 handed over 30 pens; R-00002 holds 5 mugs."""
    table = lambda name, *columns: sa.table(name, *(sa.column(c) for c in columns))  # noqa: E731
    movement = table("movement", "kind", "item_id", "from_bin_id", "to_bin_id", "quantity", "reason", "reference",
                     "user_id", "created_at")
    request = table("request", "id", "requester_id", "purpose", "needed_by", "handoff", "ship_to", "note", "status",
                    "rejection_reason", "kit_count", "created_at", "updated_at")
    line = table("request_line", "request_id", "item_id", "quantity", "reserved", "backordered", "picked",
                 "issued", "returned", "consumed", "lost", "damaged", "short")
    now = utcnow()
    row = dict(reason="", user_id=user_id, created_at=now)
    connection.execute(sa.insert(movement), [
        dict(row, kind="receive", item_id=pen_id, from_bin_id=None, to_bin_id=bin_id, quantity=100, reference=""),
        dict(row, kind="issue", item_id=pen_id, from_bin_id=bin_id, to_bin_id=None, quantity=30,
             reference="R-00001"),
        dict(row, kind="receive", item_id=mug_id, from_bin_id=None, to_bin_id=bin_id, quantity=12, reference="")])
    details = dict(requester_id=user_id, purpose="other", needed_by=TODAY, handoff="pickup", ship_to="", note="",
                   rejection_reason="", kit_count=0, created_at=now, updated_at=now)
    connection.execute(sa.insert(request), [dict(details, id=1, status="handed_over"),
                                            dict(details, id=2, status="submitted")])
    counts = dict(backordered=0, picked=0, returned=0, consumed=0, lost=0, damaged=0, short=0)
    connection.execute(sa.insert(line), [
        dict(counts, request_id=1, item_id=pen_id, quantity=30, reserved=0, issued=30),
        dict(counts, request_id=2, item_id=mug_id, quantity=5, reserved=5, issued=0)])


def test_upgrading_to_0013_gives_the_ledgers_rows_the_items_cost_at_upgrade_time(empty_database_url, tmp_path):
    app = make_test_app(empty_database_url, tmp_path / "instance")
    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS, revision="0012")
        # Bins and items are as 0012 kept them, so the rules can make those; users have grown a
        # column since (0015), so the user is written as 0012 kept it.
        from inventory.bins import services as bins

        db.session.execute(sa.text('INSERT INTO "user" (email, name, role, password_hash, active, created_at) '
                                   "VALUES ('old@example.com', 'old', 'staff', 'x', :yes, :at)"),
                           {"yes": True, "at": utcnow()})
        db.session.commit()
        user = SimpleNamespace(id=db.session.scalar(sa.text('SELECT id FROM "user"')))
        shelf = bins.create_bin(db.session, "A-01", "", "")
        # Products too (keywords and search words came with 0018): the pen and the mug as 0012 kept them.
        for sku, name, cost in (("PEN-1", "Pen", "0.40"), ("MUG-1", "Mug", "3.20")):
            db.session.execute(sa.text("INSERT INTO product (name, category, description, archived, created_at) "
                                       "VALUES (:name, 'promo', '', :no, :at)"), {"name": name, "no": False, "at": utcnow()})
            db.session.execute(sa.text(
                "INSERT INTO item (sku, product_id, size_rank, unit, supplier, unit_cost, lead_time_days, reorder_point,"
                " reorder_quantity, returnable, notes, archived, created_at) SELECT :sku, max(id), 0, 'each', '', :cost,"
                " 0, 0, 0, :no, '', :no, :at FROM product"), {"sku": sku, "cost": cost, "no": False, "at": utcnow()})
        db.session.commit()
        pen_id, mug_id = (db.session.scalar(sa.text("SELECT id FROM item WHERE sku = :sku"), {"sku": sku})
                          for sku in ("PEN-1", "MUG-1"))
        user_id = user.id
        shelf_id = shelf.id
        db.session.remove()
        with db.engine.begin() as connection:
            _rows_as_0012_kept_them(connection, user_id, shelf_id, pen_id, mug_id)
            # The price when the upgrade runs.
            connection.execute(sa.text("UPDATE item SET unit_cost = 0.55 WHERE id = :id"), {"id": pen_id})

        flask_migrate.upgrade(directory=MIGRATIONS)
        recorded = db.session.execute(select(Movement.kind, Movement.item_id, Movement.unit_cost)
                                      .order_by(Movement.id)).all()
        assert recorded == [("receive", pen_id, Decimal("0.55")), ("issue", pen_id, Decimal("0.55")),
                            ("receive", mug_id, Decimal("3.20"))]
        # The line handed over gets the same cost; the one not handed over yet has none.
        lines = db.session.execute(select(RequestLine.request_id, RequestLine.issued_unit_cost)
                                   .order_by(RequestLine.request_id)).all()
        assert lines == [(1, Decimal("0.55")), (2, None)]
        # Every movement has one now, and the column is required from here on.
        column = next(c for c in sa.inspect(db.engine).get_columns("movement") if c["name"] == "unit_cost")
        assert column["nullable"] is False
        # The reports read the backfilled cost: 30 pens handed over at 0.55 = 16.50.
        period = periods.Period(TODAY - timedelta(days=1), TODAY + timedelta(days=1))
        db.session.execute(sa.text("INSERT INTO request_step (request_id, user_id, action, note, at) "
                                   "VALUES (1, :user, 'handed_over', '', :at)"), {"user": user_id, "at": utcnow()})
        assert usage_by_item(db.session, period).total.cost == Decimal("16.50")
        db.session.rollback()
        db.session.remove()

        flask_migrate.downgrade(directory=MIGRATIONS, revision="0012")  # and back, for a rollback
        inspector = sa.inspect(db.engine)
        assert "unit_cost" not in {c["name"] for c in inspector.get_columns("movement")}
        assert "issued_unit_cost" not in {c["name"] for c in inspector.get_columns("request_line")}
        flask_migrate.upgrade(directory=MIGRATIONS)
        db.session.remove()
        db.engine.dispose()
