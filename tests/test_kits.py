"""Kits: templates (lines by SKU, sizes one line each), availability for a date window, reserving
N kits for an event (exactly its components, all or nothing, naming the short component), the
booth-in-a-box booked by window like any returnable, the pages and the API."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from inventory.auth.services import create_token
from inventory.errors import Conflict, DuplicateCode, Forbidden, InvalidInput, ShortStock
from inventory.events import kits, services
from inventory.events.kits import KitShort
from inventory.events.models import KitTemplate
from inventory.requests import queries, submission
from inventory.requests.availability import Window, free_quantity
from inventory.requests.models import Request, RequestLine
from inventory.stock import services as stock

TODAY = date.today()


def days(n):
    return TODAY + timedelta(days=n)


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="Morgan Manager")


@pytest.fixture
def stockroom(make_item, make_product):
    """Brochures 450, pens 1000, polos M 7 / L 12 / XL 5, a roll-up banner x3 and one booth-in-a-box."""
    make_product("Navy polo", "POLO-NAVY", sizes={"M": 7, "L": 12, "XL": 5}, unit_cost=Decimal("14.50"))
    return {
        "bro": make_item("BRO-1", name="Atlas brochure", category="print", on_hand=450, unit_cost=Decimal("0.85")),
        "pen": make_item("PEN-1", name="Logo pen", on_hand=1000, unit_cost=Decimal("0.45")),
        "banner": make_item("BANNER-1", name="Roll-up banner", category="display", on_hand=3, returnable=True,
                            unit_cost=Decimal("95.00")),
        "booth": make_item("KIT-BOOTH", name="Booth-in-a-box", category="kit", on_hand=1, returnable=True,
                           unit_cost=Decimal("600.00")),
    }


STANDARD = [("BANNER-1", 1), ("BRO-1", 200), ("POLO-NAVY-M", 4), ("POLO-NAVY-L", 4), ("POLO-NAVY-XL", 2),
            ("PEN-1", 50)]


@pytest.fixture
def standard_kit(session, manager, stockroom):
    return kits.create_kit(session, manager, name="Trade show standard kit", description="One booth's worth",
                           lines=STANDARD)


@pytest.fixture
def make_event(session, manager):
    def make(name="Expo West", ship=10, starts=14, ends=16, back=18):
        return services.create_event(session, manager, name=name, starts_on=days(starts), ends_on=days(ends),
                                     ship_by=days(ship), return_by=days(back) if back is not None else None)

    return make


def held(session):
    """{sku: units held} over every request."""
    rows = session.execute(select(RequestLine).join(Request).where(Request.status != "cancelled")).scalars().all()
    totals = {}
    for line in rows:
        totals[line.item.sku] = totals.get(line.item.sku, 0) + line.reserved
    return totals


# Templates -----------------------------------------------------------------------------------

def test_a_kit_lists_sizes_one_line_each(session, standard_kit):
    assert [(line.item.sku, line.quantity) for line in standard_kit.lines] == STANDARD
    assert kits.kit_cost(standard_kit) == Decimal("95.00") + 200 * Decimal("0.85") + 10 * Decimal("14.50") + \
        50 * Decimal("0.45")


@pytest.mark.parametrize("lines, message", [
    ([("BRO-1", 10), ("bro-1", 5)], "in the kit twice"),
    ([("NOPE-1", 1)], "No item has the SKU"),
    ([("POLO-NAVY", 10)], "comes in sizes: list each size"),
    ([("BRO-1", 0)], "between 1 and"),
    ([("BRO-1", "3")], "whole number"),
    ([("", None), ("", None)], "at least one line"),
    ([("", 4)], "no SKU"),
])
def test_bad_kit_lines_are_refused_and_nothing_is_written(session, manager, stockroom, lines, message):
    with pytest.raises(InvalidInput, match=message):
        kits.create_kit(session, manager, name="Kit", lines=lines)
    assert session.scalar(select(func.count(KitTemplate.id))) == 0


def test_kit_names_are_unique_and_only_managers_keep_kits(session, manager, standard_kit, make_user):
    with pytest.raises(DuplicateCode):
        kits.create_kit(session, manager, name="trade show STANDARD kit", lines=[("BRO-1", 1)])
    with pytest.raises(Forbidden):
        kits.create_kit(session, make_user("rep"), name="Rep kit", lines=[("BRO-1", 1)])


def test_editing_a_kit_updates_keeps_and_drops_lines(session, manager, standard_kit):
    kits.update_kit(session, standard_kit.id, manager, name="Standard kit v2", description="",
                    lines=[("BRO-1", 250), ("PEN-1", 50), ("KIT-BOOTH", 1), ("", None)])
    session.expire_all()
    kit = kits.get_kit(session, standard_kit.id)
    assert kit.name == "Standard kit v2"
    assert [(line.item.sku, line.quantity) for line in kit.lines] == [("BRO-1", 250), ("PEN-1", 50), ("KIT-BOOTH", 1)]


def test_a_reserved_kit_can_be_archived_but_not_deleted(session, manager, standard_kit, make_event):
    kits.reserve_kit(session, manager, make_event().id, standard_kit.id, 1)
    with pytest.raises(Conflict, match="archive it"):
        kits.delete_kit(session, standard_kit.id, manager)
    kits.set_kit_archived(session, standard_kit.id, manager)
    assert kits.list_kits(session) == []
    spare = kits.create_kit(session, manager, name="Spare", lines=[("PEN-1", 1)])
    kits.delete_kit(session, spare.id, manager)
    assert session.get(KitTemplate, spare.id) is None


# Availability --------------------------------------------------------------------------------

def test_kit_availability_counts_whole_kits_and_names_the_first_short_component(session, standard_kit, make_event):
    event = make_event()
    available = kits.availability(session, standard_kit, kits.event_window(event))
    per_component = {c.item.sku: (c.free, c.kits) for c in available.components}
    assert per_component == {"BANNER-1": (3, 3), "BRO-1": (450, 2), "POLO-NAVY-M": (7, 1), "POLO-NAVY-L": (12, 3),
                             "POLO-NAVY-XL": (5, 2), "PEN-1": (1000, 20)}
    assert available.buildable == 1 and available.limiting.item.sku == "POLO-NAVY-M"
    assert available.window == Window(days(10), days(18))


def test_kit_availability_follows_the_window_for_returnables(session, manager, standard_kit, make_event, stockroom,
                                                             make_user):
    rep = make_user("rep")
    # Two of the three banners are out from day 5 up to day 12: they overlap a window from day 10.
    submission.submit(session, rep, [(stockroom["banner"], 2)], purpose="client_meeting", needed_by=days(5),
                      return_by=days(12))
    kit = kits.create_kit(session, manager, name="Banner only", lines=[("BANNER-1", 2)])
    assert kits.availability(session, kit, kits.event_window(make_event())).buildable == 0
    later = make_event("Later show", ship=12, starts=13, ends=14, back=15)  # starts the day they are back
    assert kits.availability(session, kit, kits.event_window(later)).buildable == 1
    assert kits.availability(session, kit, kits.event_window(later)).limiting.free == 3


# Reserving -----------------------------------------------------------------------------------

def test_reserving_kits_holds_exactly_their_components(session, manager, standard_kit, make_event, stockroom,
                                                        make_bin, stock_user):
    from inventory.catalog.services import get_item

    stock.receive(session, get_item(session, "POLO-NAVY-M"), make_bin("A-01"), 1, stock_user())  # 8: two kits
    event = make_event()
    made = kits.reserve_kit(session, manager, event.id, standard_kit.id, 2)
    request = queries.get_request(session, made.id)
    assert {line.item.sku: (line.quantity, line.reserved, line.backordered) for line in request.lines} == {
        sku: (qty * 2, qty * 2, 0) for sku, qty in STANDARD}
    assert (request.kit_id, request.kit_count, request.event_id, request.purpose) == (
        standard_kit.id, 2, event.id, "trade_show")
    assert (request.needed_by, request.return_by) == (event.ship_by, event.window_end)
    assert request.requester_id == manager.id and request.status == "submitted"
    assert held(session) == {sku: qty * 2 for sku, qty in STANDARD}
    # Nothing else is held: available = on hand - exactly what the two kits take.
    assert free_quantity(session, stockroom["bro"]) == 450 - 400
    assert free_quantity(session, stockroom["banner"], kits.event_window(event)) == 1
    assert stock.check_ledger(session) == []


def test_a_kit_that_cannot_be_built_whole_holds_nothing_and_names_the_short_component(session, manager,
                                                                                      standard_kit, make_event):
    event = make_event()
    with pytest.raises(KitShort) as refused:
        kits.reserve_kit(session, manager, event.id, standard_kit.id, 3)
    error = refused.value
    assert isinstance(error, ShortStock) and error.status == 409
    # 3 kits need 12 polos M (7 free: 1 kit), 600 brochures (450: 2 kits), 6 polos XL (5: 2 kits).
    assert (error.component.sku, error.component.requested, error.component.available) == ("POLO-NAVY-M", 12, 7)
    assert error.buildable == 1
    assert {s.sku for s in error.shortages} == {"POLO-NAVY-M", "BRO-1", "POLO-NAVY-XL"}
    assert "Navy polo — M (POLO-NAVY-M) is short" in error.message and "1 whole kit can be reserved" in error.message
    assert session.scalar(select(func.count(Request.id))) == 0 and held(session) == {}


def test_two_overlapping_bookings_of_the_booth_in_a_box_are_refused_touching_windows_are_fine(
        session, manager, stockroom, make_event, make_user):
    booth_kit = kits.create_kit(session, manager, name="Booth kit", lines=[("KIT-BOOTH", 1), ("BRO-1", 100)])
    first = make_event("Expo West", ship=10, starts=12, ends=14, back=16)        # booked [10, 16)
    overlapping = make_event("Dealer fair", ship=15, starts=16, ends=17, back=18)
    touching = make_event("Spring summit", ship=16, starts=17, ends=18, back=19)  # leaves the day it is back
    kits.reserve_kit(session, manager, first.id, booth_kit.id, 1)
    with pytest.raises(KitShort) as refused:
        kits.reserve_kit(session, manager, overlapping.id, booth_kit.id, 1)
    assert refused.value.component.sku == "KIT-BOOTH" and refused.value.buildable == 0
    assert "Not one whole kit" in refused.value.message
    # The physical kit is a returnable item: a plain request for it is refused the same way.
    with pytest.raises(ShortStock):
        submission.submit(session, make_user("rep"), [(stockroom["booth"], 1)], purpose="trade_show",
                          needed_by=days(13), return_by=days(20))
    made = kits.reserve_kit(session, manager, touching.id, booth_kit.id, 1)
    assert made.kit_count == 1
    assert session.scalar(select(func.count(Request.id))) == 2


@pytest.mark.parametrize("count, message", [(0, "between 1 and"), (1001, "between 1 and"), ("2", "whole number"),
                                            (True, "whole number")])
def test_bad_kit_counts_are_refused(session, manager, standard_kit, make_event, count, message):
    with pytest.raises(InvalidInput, match=message):
        kits.reserve_kit(session, manager, make_event().id, standard_kit.id, count)


def test_kits_are_not_reserved_for_cancelled_or_shipped_events_or_archived_kits(session, manager, standard_kit,
                                                                               make_event, make_user):
    event = make_event()
    services.cancel_event(session, event.id, manager)
    with pytest.raises(Conflict, match="cancelled"):
        kits.reserve_kit(session, manager, event.id, standard_kit.id, 1)
    gone = make_event("Shipped", ship=-1, starts=0, ends=1)
    with pytest.raises(InvalidInput, match="had to ship by"):
        kits.reserve_kit(session, manager, gone.id, standard_kit.id, 1)
    kits.set_kit_archived(session, standard_kit.id, manager)
    with pytest.raises(InvalidInput, match="archived"):
        kits.reserve_kit(session, manager, make_event("Other").id, standard_kit.id, 1)
    with pytest.raises(Forbidden):
        kits.reserve_kit(session, make_user("rep"), make_event("Third").id, standard_kit.id, 1)


def test_a_kit_of_consumables_only_needs_no_return_date(session, manager, stockroom, make_event):
    kit = kits.create_kit(session, manager, name="Handouts", lines=[("BRO-1", 100), ("PEN-1", 100)])
    made = kits.reserve_kit(session, manager, make_event(back=None).id, kit.id, 4)
    assert made.return_by is None and held(session) == {"BRO-1": 400, "PEN-1": 400}


# Pages ---------------------------------------------------------------------------------------

def test_kit_page_shows_sizes_together_and_availability_for_an_event(client, login, standard_kit, make_event):
    event = make_event()
    login("rep")
    html = client.get(f"/kits/{standard_kit.id}?event={event.id}").get_data(as_text=True)
    assert "Navy polo" in html and ">M</a> 4" in html and ">XL</a> 2" in html
    assert "whole kit" in html and "Runs out first: <strong>Navy polo — M</strong>" in html
    assert "booth-in-a-box" in html and "/catalog?category=kit" in html
    dated = client.get(f"/kits/{standard_kit.id}?out={days(3).isoformat()}&back={days(5).isoformat()}")
    assert dated.status_code == 200
    assert "Reserve for" not in html  # reps do not reserve kits
    assert client.get("/kits").status_code == 200


def test_manager_reserves_a_kit_from_the_event_page(client, login, session, standard_kit, make_event):
    event = make_event()
    login("manager")
    page = client.get(f"/events/{event.id}/kits?kit={standard_kit.id}")
    assert page.status_code == 200 and "Runs out first" in page.get_data(as_text=True)
    short = client.post(f"/events/{event.id}/kits", data={"kit_id": standard_kit.id, "count": 2, "handoff": "pickup"})
    assert short.status_code == 409 and "POLO-NAVY-M" in short.get_data(as_text=True)
    assert session.scalar(select(func.count(Request.id))) == 0
    response = client.post(f"/events/{event.id}/kits", data={"kit_id": standard_kit.id, "count": 1,
                                                              "handoff": "ship", "ship_to": "Hall B, Booth 214"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/events/{event.id}")
    made = session.scalar(select(Request))
    assert (made.kit_count, made.handoff, made.ship_to) == (1, "ship", "Hall B, Booth 214")
    html = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert f"1 × {standard_kit.name}" in html and f'href="/requests/{made.id}"' in html


def test_manager_creates_and_edits_a_kit_through_the_pages(client, login, session, stockroom):
    login("manager")
    form = {"name": "Polo kit", "description": "", "action": "save",
            "lines-0-sku": "polo-navy-m", "lines-0-quantity": "4", "lines-1-sku": "POLO-NAVY-L",
            "lines-1-quantity": "4", "lines-2-sku": "", "lines-2-quantity": ""}
    more = client.post("/kits/new", data=dict(form, action="more"))
    assert more.status_code == 200 and 'name="lines-7-sku"' in more.get_data(as_text=True)
    assert session.scalar(select(func.count(KitTemplate.id))) == 0
    bad = client.post("/kits/new", data=dict(form, **{"lines-2-sku": "POLO-NAVY", "lines-2-quantity": "2"}))
    assert bad.status_code == 400 and "comes in sizes" in bad.get_data(as_text=True)
    response = client.post("/kits/new", data=form)
    assert response.status_code == 302
    kit = session.scalar(select(KitTemplate))
    assert [(line.item.sku, line.quantity) for line in kit.lines] == [("POLO-NAVY-M", 4), ("POLO-NAVY-L", 4)]
    edit = client.get(f"/kits/{kit.id}/edit").get_data(as_text=True)
    assert 'value="POLO-NAVY-M"' in edit
    client.post(f"/kits/{kit.id}/edit", data=dict(form, **{"lines-1-quantity": "6", "lines-2-sku": "BRO-1",
                                                          "lines-2-quantity": "100"}))
    session.expire_all()
    assert [(line.item.sku, line.quantity) for line in kits.get_kit(session, kit.id).lines] == [
        ("POLO-NAVY-M", 4), ("POLO-NAVY-L", 6), ("BRO-1", 100)]
    assert client.post(f"/kits/{kit.id}/archive").status_code == 302
    assert kit.name not in client.get("/kits").get_data(as_text=True)
    assert client.post(f"/kits/{kit.id}/delete").status_code == 302
    assert session.scalar(select(func.count(KitTemplate.id))) == 0


@pytest.mark.parametrize("role", ["rep", "staff"])
def test_reps_and_staff_cannot_create_or_reserve_kits(client, login, standard_kit, make_event, role):
    event = make_event()
    login(role)
    for url in ["/kits/new", f"/kits/{standard_kit.id}/edit", f"/events/{event.id}/kits"]:
        assert client.get(url).status_code == 403, url
    for url in ["/kits/new", f"/kits/{standard_kit.id}/archive", f"/kits/{standard_kit.id}/delete",
                f"/events/{event.id}/kits"]:
        assert client.post(url, data={"kit_id": standard_kit.id, "count": 1}).status_code == 403, url
    assert client.get(f"/kits/{standard_kit.id}").status_code == 200


# API -----------------------------------------------------------------------------------------

def call(client, method, url, token, body=None):
    response = client.open(url, method=method, json=body, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.get_json()


def test_reserve_kits_through_the_api(client, session, manager, make_user, standard_kit, make_event):
    event = make_event()
    token = create_token(session, manager)[1]
    rep_token = create_token(session, make_user("rep"))[1]
    url = f"/api/v1/events/{event.id}/kits"
    assert call(client, "POST", url, rep_token, {"kit_id": standard_kit.id, "count": 1})[0] == 403
    status, body = call(client, "POST", url, token, {"kit_id": standard_kit.id, "count": 3})
    assert status == 409 and body["component"] == {"sku": "POLO-NAVY-M", "name": "Navy polo — M", "requested": 12,
                                                   "available": 7}
    assert body["buildable"] == 1 and "POLO-NAVY-M" in body["error"]
    assert session.scalar(select(func.count(Request.id))) == 0
    status, body = call(client, "POST", url, token, {"kit_id": standard_kit.id, "count": 1})
    assert status == 201 and body["kit_id"] == standard_kit.id and body["kit_count"] == 1
    assert {line["sku"]: line["reserved"] for line in body["lines"]} == dict(STANDARD)
    assert body["needed_by"] == event.ship_by.isoformat() and body["event_id"] == event.id
    for bad in [{"kit_id": standard_kit.id}, {"kit_id": "1", "count": 1}, {"count": 1}]:
        assert call(client, "POST", url, token, bad)[0] == 400, bad
    assert call(client, "POST", url, token, {"kit_id": 999, "count": 1})[0] == 404
    assert call(client, "POST", "/api/v1/events/999/kits", token, {"kit_id": standard_kit.id, "count": 1})[0] == 404
    status, one = call(client, "GET", f"/api/v1/events/{event.id}", rep_token)
    assert one["kits"] == [{"request_id": body["id"], "number": body["number"], "status": "submitted",
                            "kit_id": standard_kit.id, "kit": standard_kit.name, "count": 1}]
    assert len(one["requests"]) == 1 and one["requests"][0]["kit_count"] == 1


def test_kits_api_lists_and_says_what_can_be_built(client, session, manager, standard_kit, make_event):
    kits.create_kit(session, manager, name="Handouts", lines=[("PEN-1", 10)])
    event = make_event()
    token = create_token(session, manager)[1]
    status, body = call(client, "GET", "/api/v1/kits?per_page=1", token)
    assert status == 200 and body["total"] == 2 and [k["name"] for k in body["kits"]] == ["Handouts"]
    assert body["next"] and body["page"] == 1 and body["per_page"] == 1
    status, body = call(client, "GET", f"/api/v1/kits/{standard_kit.id}?event={event.id}", token)
    assert status == 200 and body["availability"]["buildable"] == 1
    assert body["availability"]["runs_out_first"] == "POLO-NAVY-M"
    assert [line["sku"] for line in body["lines"]] == [sku for sku, _ in STANDARD]


def test_the_kits_list_has_no_query_per_kit(client, login, session, manager, standard_kit):
    from inventory.extensions import db
    from inventory.querycount import count_queries

    login("rep")
    client.get("/kits")
    with count_queries(db.engine) as few:
        assert client.get("/kits").status_code == 200
    for n in range(4):
        kits.create_kit(session, manager, name=f"Kit {n}", lines=[("PEN-1", n + 1), ("BRO-1", 10)])
    client.get("/kits")
    with count_queries(db.engine) as many:
        html = client.get("/kits").get_data(as_text=True)
    assert "Kit 3" in html and many.count == few.count


def test_ids_beyond_an_integer_column_are_unknown_not_errors(client, session, manager, standard_kit, make_event):
    event = make_event()
    token = create_token(session, manager)[1]
    for kit_id in (2**31, 2**70):
        assert call(client, "POST", f"/api/v1/events/{event.id}/kits", token, {"kit_id": kit_id, "count": 1})[0] == 404
    for event_id in ("2147483648", "9" * 30):
        assert call(client, "GET", f"/api/v1/kits/{standard_kit.id}?event={event_id}", token)[0] == 404
    assert client.get("/events.ics?token=99999999999.abc").status_code == 404
    with pytest.raises(InvalidInput):
        services.create_event(session, manager, name="X", starts_on=days(3), ends_on=days(3), ship_by=days(2),
                              owner_id=2**40)


def test_a_short_kit_can_hold_what_is_there_and_backorder_the_rest(client, login, session, standard_kit,
                                                                   make_event):
    from inventory.forecast import stored

    event = make_event()
    login("manager")
    short = client.post(f"/events/{event.id}/kits", data={"kit_id": standard_kit.id, "count": 2,
                                                           "handoff": "pickup"})
    assert "Reserve what is there, backorder the rest" in short.get_data(as_text=True)
    done = client.post(f"/events/{event.id}/kits", data={"kit_id": standard_kit.id, "count": 2, "handoff": "pickup",
                                                          "partial": "1"}, follow_redirects=True)
    assert "backordered and show on Reorders" in done.get_data(as_text=True)
    made = session.scalar(select(Request))
    polo_m = next(line for line in made.lines if line.item.sku == "POLO-NAVY-M")
    assert (polo_m.quantity, polo_m.reserved, polo_m.backordered) == (8, 7, 1)
    stored.current(session)
    assert "POLO-NAVY-M" in {f.item.sku for f in stored.event_flags(session, event.id)}
    assert "POLO-NAVY-M" in client.get(f"/events/{event.id}").get_data(as_text=True)


def test_the_kits_api_can_backorder_a_short_kit(client, session, manager, standard_kit, make_event):
    from inventory.auth.services import create_token

    event = make_event()
    token = create_token(session, manager, "t")[1]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"kit_id": standard_kit.id, "count": 2}
    assert client.post(f"/api/v1/events/{event.id}/kits", json=body, headers=headers).status_code == 409
    assert client.post(f"/api/v1/events/{event.id}/kits", json=dict(body, allow_partial="yes"),
                       headers=headers).status_code == 400
    made = client.post(f"/api/v1/events/{event.id}/kits", json=dict(body, allow_partial=True), headers=headers)
    assert made.status_code == 201
