"""Inputs that once took shared pages down or cost a worker (issue "Sessions you can end, and no
input that takes a page down"): each is refused with a 4xx and a message, and writes nothing;
and the largest values allowed, or extreme ones already stored by another program, keep
/reorders, the API's reorders, /events.ics, the kit pages and send-alerts working."""
import io
import struct
import zlib
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from inventory import timeutil
from inventory.auth.services import create_token
from inventory.catalog import services as catalog
from inventory.catalog.models import MAX_LEAD_TIME_DAYS, Item, Product
from inventory.catalog.photos import open_photo
from inventory.errors import InvalidInput
from inventory.events import kits
from inventory.events import services as events
from inventory.events.models import Event, KitTemplate
from inventory.extensions import db
from inventory.limits import MAX_LINES
from inventory.purchasing import services as purchasing
from inventory.purchasing.models import PurchaseOrder
from inventory.querycount import count_queries
from inventory.requests import submission
from inventory.requests.models import Request
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock
from inventory.stock.models import Movement
from inventory.transfer import services as transfer

TODAY = date.today()


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def manager(make_user):
    return make_user("manager", email="morgan@example.com")


@pytest.fixture
def api(client, session, make_user):
    """api("post", path, json=...) -> response, as a manager with a token."""
    token = create_token(session, make_user("manager", email="api-manager@example.com"), "t")[1]

    def call(method, path, **kwargs):
        return getattr(client, method)(path, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return call


# Lead time ------------------------------------------------------------------------------------

def test_the_catalog_rule_caps_lead_time_at_ten_years(session, make_item):
    with pytest.raises(InvalidInput, match="Lead time must be at most 3,650 days"):
        catalog.create_product(session, name="Mug", category="promo", sku="MUG-1", lead_time_days=800_000)
    assert count(session, Product) == 0
    item = make_item("MUG-1", lead_time_days=MAX_LEAD_TIME_DAYS)
    assert item.lead_time_days == 3650
    with pytest.raises(InvalidInput, match="at most 3,650 days"):
        catalog.update_item(session, item, lead_time_days=MAX_LEAD_TIME_DAYS + 1)
    session.expire_all()
    assert catalog.get_item(session, "MUG-1").lead_time_days == 3650


def test_the_item_form_refuses_a_lead_time_over_ten_years(client, login, session):
    login("manager")
    response = client.post("/catalog/new", data={"name": "Mug", "category": "promo", "sku": "MUG-1",
                                                 "lead_time_days": "800000"})
    assert response.status_code == 400
    assert "Lead time must be at most 3,650 days" in response.get_data(as_text=True)
    assert count(session, Product) == 0


def test_the_csv_import_refuses_a_lead_time_over_ten_years(session):
    text = ("sku,product,size,category,lead_time_days\n"
            "MUG-1,Mug,,promo,1000000\n"
            "PEN-1,Pen,,promo,3650\n")
    report = transfer.import_items(session, text, dry_run=True)
    bad = {row.line: row.reason for row in report.bad_rows}
    assert list(bad) == [2] and "lead time days 1,000,000 is more than 3,650" in bad[2]
    assert count(session, Item) == 0


# Events five years out -----------------------------------------------------------------------

def _event_fields(last):
    return dict(name="Far show", starts_on=last, ends_on=last, ship_by=last - timedelta(days=3))


def test_an_event_more_than_five_years_out_is_refused_by_the_rule(session, manager):
    limit = timeutil.plan_limit(TODAY)
    with pytest.raises(InvalidInput, match="too far ahead: plan events at most five years out"):
        events.create_event(session, manager, **_event_fields(limit + timedelta(days=1)))
    with pytest.raises(InvalidInput, match="9999-12-31 is too far ahead"):
        events.create_event(session, manager, **dict(_event_fields(limit), return_by=date.max))
    assert count(session, Event) == 0
    event = events.create_event(session, manager, **_event_fields(limit))
    with pytest.raises(InvalidInput, match="too far ahead"):
        events.update_event(session, event.id, manager, **_event_fields(date.max))
    session.expire_all()
    assert session.get(Event, event.id).ends_on == limit


def test_the_api_and_the_form_refuse_an_event_dated_9999_12_31(api, client, login, session):
    response = api("post", "/api/v1/events", json={"name": "Far show", "starts_on": "9999-12-31",
                                                   "ends_on": "9999-12-31", "ship_by": "9999-12-28"})
    assert response.status_code == 400
    assert "9999-12-31 is too far ahead" in response.get_json()["error"]
    login("manager")
    response = client.post("/events/new", data={"name": "Far show", "starts_on": "9999-12-31",
                                                "ends_on": "9999-12-31", "ship_by": "9999-12-28"})
    assert response.status_code == 400
    assert "9999-12-31 is too far ahead" in response.get_data(as_text=True)
    assert count(session, Event) == 0


# The largest allowed values, and extreme ones already stored --------------------------------------

@pytest.fixture
def far_plans(session, manager, make_item):
    """An item with the longest lead time allowed, short for an event at the furthest date allowed
    (a kit reserved for it, partly backordered), and another item under its reorder point."""
    mug = make_item("MUG-1", name="Mug", on_hand=10, lead_time_days=MAX_LEAD_TIME_DAYS, reorder_point=20,
                    reorder_quantity=50, supplier="Mugs Inc")
    make_item("BANNER-1", name="Banner", category="display", on_hand=1, returnable=True,
              lead_time_days=MAX_LEAD_TIME_DAYS)
    last = timeutil.plan_limit(TODAY)
    event = events.create_event(session, manager, name="Far show", starts_on=last - timedelta(days=2),
                                ends_on=last - timedelta(days=1), ship_by=last - timedelta(days=5), return_by=last)
    kit = kits.create_kit(session, manager, name="Far kit", lines=[("MUG-1", 5), ("BANNER-1", 1)])
    kits.reserve_kit(session, manager, event.id, kit.id, 4, allow_partial=True)
    return {"mug": mug, "event": event, "kit": kit}


def _shared_pages_work(app, client, api, login, runner, smtp, kit_id, event_id):
    app.config["ALERT_RECIPIENTS"] = ["buyer@example.com"]
    assert api("get", "/api/v1/reorders").status_code == 200
    assert api("get", "/api/v1/forecast/MUG-1").status_code == 200
    login("manager")
    for path in ("/reorders", "/events.ics", f"/events/{event_id}", f"/kits/{kit_id}",
                 f"/kits/{kit_id}?event={event_id}", "/i/MUG-1", "/i/BANNER-1"):
        assert client.get(path).status_code == 200, path
    result = runner.invoke(args=["send-alerts"])
    assert result.exit_code == 0, result.output


def test_the_longest_lead_time_and_the_furthest_event_keep_shared_pages_working(
        app, client, api, login, runner, smtp, far_plans):
    flags = api("get", "/api/v1/reorders").get_json()["items"]
    assert any(flag["sku"] == "MUG-1" and flag["lead_time_days"] == 3650 for flag in flags)
    _shared_pages_work(app, client, api, login, runner, smtp, far_plans["kit"].id, far_plans["event"].id)
    feed = client.get("/events.ics").get_data(as_text=True)
    assert "Far show" in feed


def test_extreme_values_written_by_another_program_keep_shared_pages_working(
        app, session, client, api, login, runner, smtp, far_plans):
    # What the rules refuse, written straight into the tables: no page may answer 500 for it.
    session.execute(update(Item).values(lead_time_days=800_000))
    session.execute(update(Event).values(starts_on=date.max, ends_on=date.max, ship_by=date.max, return_by=date.max))
    session.execute(update(Request).values(needed_by=date.max, return_by=date.max))
    session.commit()
    _shared_pages_work(app, client, api, login, runner, smtp, far_plans["kit"].id, far_plans["event"].id)
    session.execute(update(Event).values(starts_on=date.min, ends_on=date.min, ship_by=date.min, return_by=date.min))
    session.execute(update(Request).values(needed_by=date.min, return_by=date.min))
    session.commit()
    _shared_pages_work(app, client, api, login, runner, smtp, far_plans["kit"].id, far_plans["event"].id)


def test_add_days_holds_to_the_calendar_ends():
    assert timeutil.add_days(date(9999, 12, 30), 5) == date.max
    assert timeutil.add_days(date(1, 1, 2), -5) == date.min
    assert timeutil.add_days(date(2026, 1, 1), 10**12) == date.max
    assert timeutil.add_days(date(2026, 1, 31), 1) == date(2026, 2, 1)


# ?today=, ?out=, ?back= ------------------------------------------------------------------------

@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_forecast_api_refuses_a_today_off_the_calendar(api, make_item, day):
    make_item("MUG-1")
    for path in (f"/api/v1/reorders?today={day}", f"/api/v1/forecast/MUG-1?today={day}"):
        response = api("get", path)
        assert response.status_code == 400, path
        assert f"today {day} is out of range" in response.get_json()["error"]
    assert api("get", "/api/v1/reorders?today=soon").get_json()["error"] == "today must be a date like 2026-03-12."


@pytest.mark.parametrize("query", ["out=9999-12-31", "out=0001-01-01", "out=2026-06-01&back=9999-12-31"])
def test_kit_pages_refuse_a_window_off_the_calendar(client, login, session, manager, make_item, query):
    make_item("PEN-1", on_hand=5)
    kit = kits.create_kit(session, manager, name="Pens", lines=[("PEN-1", 1)])
    login("rep")
    response = client.get(f"/kits/{kit.id}?{query}")
    assert response.status_code == 400
    assert "is out of range: give a date between" in response.get_data(as_text=True)
    assert client.get(f"/kits/{kit.id}?out=not-a-date").status_code == 200  # today's window, as before


# Photos ------------------------------------------------------------------------------------------

def _png(width, height, mode="1"):
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_with_text(kind):
    """A 4 x 4 PNG with a compressed text chunk of 20 MB once inflated, written by hand after IHDR."""
    png = _png(4, 4, "RGB")
    text = zlib.compress(b"A" * 20_000_000, 9)
    data = b"Comment\x00\x00" + text if kind == b"zTXt" else b"Comment\x00\x01\x00\x00\x00" + text
    return png[:33] + _chunk(kind, data) + png[33:]  # signature (8) + IHDR (25)


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto 10 10 lineto stroke\nshowpage\n"
BAD_PHOTOS = {
    "12000x12000": (lambda: _png(12000, 12000), "too large: at most 40 megapixels"),
    "20000x20000": (lambda: _png(20000, 20000), "too large: at most 40 megapixels"),
    "zTXt": (lambda: _png_with_text(b"zTXt"), "too much embedded text"),
    "iTXt": (lambda: _png_with_text(b"iTXt"), "too much embedded text"),
    "eps": (lambda: EPS, "not a photo we can read"),
}


@pytest.mark.parametrize("name", BAD_PHOTOS)
def test_open_photo_refuses_bombs_text_bombs_and_postscript(name):
    make, message = BAD_PHOTOS[name]
    data = make()
    assert len(data) < 100_000  # small files: the harm was in what they declare
    with pytest.raises(InvalidInput, match=message):
        open_photo(io.BytesIO(data))


@pytest.mark.parametrize("name", BAD_PHOTOS)
def test_the_product_page_refuses_each_bad_photo_with_400(client, login, session, name):
    make, message = BAD_PHOTOS[name]
    login("manager")
    response = client.post("/catalog/new", data={
        "name": "Mug", "category": "promo", "sku": "MUG-2", "photo": (io.BytesIO(make()), "mug.png"),
    }, content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(session, Product) == 0


def test_a_photo_within_the_limits_is_kept(client, login, session):
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 2000), (10, 40, 120)).save(buffer, "JPEG")
    login("manager")
    response = client.post("/catalog/new", data={
        "name": "Mug", "category": "promo", "sku": "MUG-2", "photo": (io.BytesIO(buffer.getvalue()), "mug.jpg"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    product = session.scalar(select(Product))
    with Image.open(io.BytesIO(client.get(f"/photos/{product.photo_id}").data)) as stored:
        assert max(stored.size) == 1200


# Lines per count, request, kit and purchase order -------------------------------------------------

def test_every_rule_with_lines_takes_at_most_200(session, manager, make_item, make_bin, stock_user):
    pen = make_item("PEN-1", on_hand=10)
    too_many = MAX_LINES + 1
    with pytest.raises(InvalidInput, match="A count can have at most 200 lines"):
        stock.count(session, make_bin("A-01"), [(pen, 1)] * too_many, stock_user())
    with pytest.raises(InvalidInput, match="A request can have at most 200 lines"):
        submission.submit(session, manager, [(pen, 1)] * too_many, purpose="other", needed_by=TODAY)
    with pytest.raises(InvalidInput, match="A kit can have at most 200 lines"):
        kits.create_kit(session, manager, name="Huge", lines=[("PEN-1", 1)] * too_many)
    with pytest.raises(InvalidInput, match="A purchase order can have at most 200 lines"):
        purchasing.create(session, manager, lines=[("PEN-1", 1)] * too_many)
    assert count(session, Movement) == 1  # the factory's receipt
    assert (count(session, Request), count(session, KitTemplate), count(session, PurchaseOrder)) == (0, 0, 0)


def test_the_api_refuses_a_count_or_a_request_of_201_lines(api, session, make_item, make_bin):
    make_item("PEN-1", on_hand=10)
    make_bin("A-01")
    lines = [{"sku": "PEN-1", "counted": 1}] * (MAX_LINES + 1)
    response = api("post", "/api/v1/movements", json={"kind": "count", "bin": "A-01", "counts": lines})
    assert response.status_code == 400
    assert "A count can have at most 200 lines (this one has 201)" in response.get_json()["error"]
    lines = [{"sku": "PEN-1", "qty": 1}] * (MAX_LINES + 1)
    response = api("post", "/api/v1/requests", json={"lines": lines, "needed_by": TODAY.isoformat()})
    assert response.status_code == 400 and "A request can have at most 200 lines" in response.get_json()["error"]
    assert count(session, Movement) == 1 and count(session, Request) == 0


def test_a_count_refuses_the_same_sku_twice_in_any_case(api, session, make_item, make_bin, stock_user):
    pen = make_item("PEN-LOGO", on_hand=10)
    bin = make_bin("A-01")
    response = api("post", "/api/v1/movements", json={"kind": "count", "bin": "A-01", "counts": [
        {"sku": "PEN-LOGO", "counted": 3}, {"sku": "pen-logo", "counted": 9}]})
    assert response.status_code == 400
    assert response.get_json()["error"] == "PEN-LOGO is counted twice: give it one line."
    with pytest.raises(InvalidInput, match="PEN-LOGO is counted twice"):
        stock.count(session, bin, [(pen, 3), (catalog.get_item(session, "pen-logo"), 9)], stock_user())
    assert count(session, Movement) == 1 and stock_queries.level(session, pen, bin) == 10


def test_a_count_of_200_lines_books_every_line_in_a_few_statements(api, session, make_product, make_bin):
    sizes = {f"Z{n:03d}": (n % 3) for n in range(MAX_LINES)}
    make_product("Bulk pen", "BULK", sizes=sizes, category="promo")
    make_bin("A-01")
    body = {"kind": "count", "bin": "A-01",
            "counts": [{"sku": f"bulk-z{n:03d}", "counted": 2} for n in range(MAX_LINES)]}
    db.session.remove()
    with count_queries(db.engine) as counted:
        response = api("post", "/api/v1/movements", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.get_json()
    assert len(data["movements"]) == MAX_LINES
    assert {level["quantity"] for level in data["levels"]} == {2}
    # About one INSERT per movement and a handful of statements besides (over 1,000 before).
    assert counted.count < MAX_LINES + 40
    assert session.scalar(select(func.count(Movement.id)).where(Movement.kind == "count")) == MAX_LINES


def test_photos_are_read_strictly_even_after_a_label_pdf_was_made():
    """WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process at import; an
    upload's text bomb must still be refused (this failed only when the label tests ran first)."""
    import weasyprint  # noqa: F401  (its import sets the flag)
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    with pytest.raises(InvalidInput, match="too much embedded text"):
        open_photo(io.BytesIO(_png_with_text(b"zTXt")))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # put back for WeasyPrint
