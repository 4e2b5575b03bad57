"""The successor on the pages: the item edit form's "Replaced by" box, the item page, the swap page
(managers only), the kit page's note, the API's item JSON and the item import and export."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from inventory.auth.models import User
from inventory.catalog import services as catalog
from inventory.catalog.models import Item
from inventory.events import kits
from inventory.requests import submission
from inventory.requests.models import Request
from inventory.stock import services as stock
from inventory.transfer import exports, services as transfer

TODAY = date.today()


def day(n):
    return TODAY + timedelta(days=n)


@pytest.fixture
def pieces(make_item, session):
    old = make_item("BRO-ATLAS-25", name="Atlas brochure 2025", category="print", on_hand=300,
                    do_not_use_after=day(10))
    new = make_item("BRO-ATLAS-26", name="Atlas brochure 2026", category="print", on_hand=500)
    catalog.update_item(session, old, replaced_by="BRO-ATLAS-26")
    return old, new


@pytest.fixture
def held(session, pieces, make_user):
    """A rep's request holds 40 of the old piece; a kit template lists 200 of it."""
    old, _new = pieces
    rep, manager = make_user("rep", name="Riley Rep"), make_user("manager", email="boss@example.com")
    request = submission.submit(session, rep, [(old, 40)], purpose="client_meeting", needed_by=day(5))
    kit = kits.create_kit(session, manager, name="Booth kit", lines=[("BRO-ATLAS-25", 200)])
    return request, kit


def edit_form(item, **changes):
    data = {"unit": item.unit, "supplier": item.supplier, "unit_cost": str(item.unit_cost),
            "lead_time_days": item.lead_time_days, "reorder_point": item.reorder_point,
            "reorder_quantity": item.reorder_quantity,
            "do_not_use_after": item.do_not_use_after.isoformat() if item.do_not_use_after else "", "notes": ""}
    data.update(changes)
    return data


# The edit form ----------------------------------------------------------------------------------

def test_the_edit_form_shows_the_successor_and_saves_a_new_one(client, login, session, pieces, make_item):
    old, _new = pieces
    make_item("BRO-ATLAS-27", category="print")
    login("manager")
    page = client.get("/i/BRO-ATLAS-25/edit").get_data(as_text=True)
    assert 'name="replaced_by"' in page and 'value="BRO-ATLAS-26"' in page and 'list="sku-options"' in page
    response = client.post("/i/BRO-ATLAS-25/edit", data=edit_form(old, replaced_by="bro-atlas-27"))
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Item, old.id).replaced_by.sku == "BRO-ATLAS-27"
    client.post("/i/BRO-ATLAS-25/edit", data=edit_form(old, replaced_by=""))
    session.expire_all()
    assert session.get(Item, old.id).replaced_by_id is None


@pytest.mark.parametrize("typed, message", [
    ("BRO-NOPE", "No item has the SKU BRO-NOPE."),
    ("BRO-ATLAS-25", "BRO-ATLAS-25 cannot replace itself"),
    ("BRO-LOOP", "That would go round in a circle (BRO-ATLAS-25 → BRO-LOOP → BRO-ATLAS-25)"),
])
def test_a_bad_successor_is_refused_next_to_its_box_and_nothing_is_saved(client, login, session, pieces, make_item,
                                                                         typed, message):
    old, new = pieces
    loop = make_item("BRO-LOOP", category="print")
    catalog.update_item(session, loop, replaced_by="BRO-ATLAS-25")
    login("manager")
    response = client.post("/i/BRO-ATLAS-25/edit", data=edit_form(old, replaced_by=typed, notes="typed"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'<small id="replaced_by-error" class="field-error">{message}' in page.replace("&gt;", ">")
    assert 'aria-describedby="replaced_by-error"' in page and f'value="{typed}"' in page
    session.expire_all()
    assert session.get(Item, old.id).replaced_by_id == new.id and session.get(Item, old.id).notes == ""


def test_suggestions_for_the_replaced_by_box(client, login, pieces):
    login("manager")
    assert "BRO-ATLAS-26" in client.get("/stock/suggest/items?replaced_by=atlas-26").get_data(as_text=True)


# The item page ----------------------------------------------------------------------------------

def test_the_item_page_names_the_successor_and_warns_of_expiry(client, login, pieces, held):
    login("rep")
    page = client.get("/i/BRO-ATLAS-25").get_data(as_text=True)
    assert "Replaced by" in page and 'href="/i/BRO-ATLAS-26"' in page
    assert f"Expires {day(10):%a %-d %b}: reprint or retire" in page
    assert "/i/BRO-ATLAS-25/successor" not in page  # the swap is a manager's
    client.post("/logout")
    login("manager")
    page = client.get("/i/BRO-ATLAS-25").get_data(as_text=True)
    assert 'href="/i/BRO-ATLAS-25/successor"' in page and "Swap BRO-ATLAS-26 in" in page
    assert "1 open request and 1 kit template list BRO-ATLAS-25" in page


def test_a_far_expiry_is_a_plain_note_and_a_successor_nothing_holds_gets_no_button(client, login, session, pieces):
    old, _new = pieces
    catalog.update_item(session, old, do_not_use_after=day(60))
    login("manager")
    page = client.get("/i/BRO-ATLAS-25").get_data(as_text=True)
    assert "reprint or retire" not in page and f"Do not use after {day(60).isoformat()}" in page
    assert "Replaced by" in page and "/i/BRO-ATLAS-25/successor" not in page


# The swap page ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["rep", "staff"])
def test_the_swap_page_is_for_managers_only(client, login, session, pieces, held, role):
    login(role)
    assert client.get("/i/BRO-ATLAS-25/successor").status_code == 403
    assert client.post("/i/BRO-ATLAS-25/successor").status_code == 403
    request, _kit = held
    assert [line.item.sku for line in session.get(Request, request.id).lines] == ["BRO-ATLAS-25"]


def test_the_swap_page_lists_what_it_will_do_and_the_post_does_it(client, login, session, pieces, held):
    request, kit = held
    login("manager")
    page = client.get("/i/bro-atlas-25/successor", follow_redirects=True).get_data(as_text=True)
    assert request.number in page and "Riley Rep" in page and f"needed {day(5):%a %-d %b}" in page
    assert "40 held" in page and "Booth kit" in page
    assert '<strong id="successor-free">500</strong> free' in page
    assert "Swap BRO-ATLAS-26 into all 2" in page and "backorder what" not in page
    response = client.post("/i/BRO-ATLAS-25/successor")
    assert response.status_code == 302 and response.headers["Location"].endswith("/i/BRO-ATLAS-25")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Swapped BRO-ATLAS-26 for BRO-ATLAS-25 in 1 request and 1 kit template: 40 held." in page
    session.expire_all()
    assert [line.item.sku for line in session.get(Request, request.id).lines] == ["BRO-ATLAS-26"]
    assert "Swapped BRO-ATLAS-25 for BRO-ATLAS-26" in client.get(f"/requests/{request.id}").get_data(as_text=True)


def test_when_the_successor_is_short_the_page_says_so_and_offers_the_backorder_choice(
        client, login, session, pieces, held, make_bin, stock_user):
    _old, new = pieces
    request, _kit = held
    stock.adjust(session, new, make_bin("A-01"), -490, stock_user(), "most went to a show")
    login("manager")
    page = client.get("/i/BRO-ATLAS-25/successor").get_data(as_text=True)
    assert "Atlas brochure 2026 has 10 free; the open requests hold 40 of the old one." in page
    assert "Swap and backorder what BRO-ATLAS-26 cannot cover (30)" in page
    refused = client.post("/i/BRO-ATLAS-25/successor", follow_redirects=True).get_data(as_text=True)
    assert "Receive or count the new piece first" in refused
    session.expire_all()
    assert session.get(Request, request.id).lines[0].item.sku == "BRO-ATLAS-25"
    done = client.post("/i/BRO-ATLAS-25/successor", data={"backorder": "1"}, follow_redirects=True)
    assert "10 held, 30 backordered (BRO-ATLAS-26 was short)" in done.get_data(as_text=True)
    session.expire_all()
    line = session.get(Request, request.id).lines[0]
    assert (line.item.sku, line.reserved, line.backordered) == ("BRO-ATLAS-26", 10, 30)


def test_the_swap_page_explains_when_there_is_nothing_to_swap(client, login, session, make_item):
    make_item("PEN-1")
    login("manager")
    page = client.get("/i/PEN-1/successor").get_data(as_text=True)
    assert "PEN-1 names no successor" in page and "into all" not in page
    assert client.get("/i/NOPE/successor").status_code == 404


def test_the_swap_needs_a_csrf_token(app, client, login, session, pieces, held):
    login("manager")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/i/BRO-ATLAS-25/successor").status_code == 400
    request, _kit = held
    session.expire_all()
    assert session.get(Request, request.id).lines[0].item.sku == "BRO-ATLAS-25"


# The kit page -----------------------------------------------------------------------------------

def test_the_kit_page_notes_expiry_and_successor_with_a_swap_link_for_managers(client, login, session, pieces, held,
                                                                               make_item):
    _request, kit = held
    make_item("PEN-1", on_hand=5, do_not_use_after=day(40))  # beyond the warning window: no note
    make_item("CAP-1", on_hand=5, do_not_use_after=day(3))   # soon, and nothing named to replace it
    manager = session.scalar(select(User).where(User.email == "boss@example.com"))
    kits.update_kit(session, kit.id, manager, name="Booth kit",
                    lines=[("BRO-ATLAS-25", 200), ("PEN-1", 5), ("CAP-1", 2)])
    login("manager")
    page = client.get(f"/kits/{kit.id}").get_data(as_text=True)
    assert f"Expires {day(10):%-d %b} — replaced by" in page
    assert 'href="/i/BRO-ATLAS-25/successor">Swap</a>' in page
    assert 'data-note-for="PEN-1"' not in page
    assert f"Expires {day(3):%-d %b}: reprint or retire" in page and 'href="/i/CAP-1/edit"' in page
    client.post("/logout")
    login("rep")
    page = client.get(f"/kits/{kit.id}").get_data(as_text=True)
    assert "replaced by" in page and "/successor" not in page


# API, import and export ------------------------------------------------------------------------

def test_the_api_item_names_its_successor(client, session, pieces, make_user, runner):
    make_user("rep", email="api@example.com")
    token = runner.invoke(args=["create-token", "api@example.com"]).output.strip().split()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/items/BRO-ATLAS-25", headers=headers).get_json()["replaced_by"] == "BRO-ATLAS-26"
    rows = client.get("/api/v1/items", headers=headers).get_json()["items"]
    listed = {row["sku"]: row["replaced_by"] for row in rows}
    assert listed == {"BRO-ATLAS-25": "BRO-ATLAS-26", "BRO-ATLAS-26": None}


def test_the_items_export_has_the_successor_and_reimports_unchanged(session, pieces):
    exported = exports.items_csv(session)
    header, *rows = exported.lstrip("\ufeff").splitlines()
    assert header.split(",")[14] == "replaced_by"
    assert [row.split(",")[14] for row in rows] == ["BRO-ATLAS-26", ""]
    report = transfer.import_items(session, exported, dry_run=True)
    assert report.ok and report.changes == []


def test_the_import_names_successors_in_the_catalog_or_in_the_file(session, pieces):
    text = "\n".join(["sku,product,category,replaced_by",
                      "BRO-ATLAS-26,Atlas brochure 2026,print,BRO-ATLAS-27",
                      "BRO-ATLAS-27,Atlas brochure 2027,print,",
                      "BRO-ATLAS-25,Atlas brochure 2025,print,"])
    report = transfer.import_items(session, text, dry_run=True)
    assert report.ok, report.bad_rows
    described = {change.key: change.describe() for change in report.changes}
    assert described["BRO-ATLAS-26"] == "replaced by: (empty) → BRO-ATLAS-27"
    assert described["BRO-ATLAS-25"] == "replaced by: BRO-ATLAS-26 → (empty)"
    transfer.import_items(session, text)
    session.expire_all()
    by_sku = {item.sku: item.replaced_by.sku if item.replaced_by else None for item in session.scalars(select(Item))}
    assert by_sku == {"BRO-ATLAS-25": None, "BRO-ATLAS-26": "BRO-ATLAS-27", "BRO-ATLAS-27": None}


def test_the_import_refuses_successors_the_edit_form_refuses(session, pieces, make_item):
    gone = make_item("BRO-GONE", category="print")
    catalog.set_archived(session, item=gone)
    text = "\n".join(["sku,product,category,replaced_by",
                      "BRO-ATLAS-26,Atlas brochure 2026,print,BRO-ATLAS-25",   # 25 → 26 already: a circle
                      "NEW-1,New one,print,NEW-1",
                      "NEW-2,New two,print,BRO-NOPE",
                      "NEW-3,New three,print,BRO-GONE",
                      "NEW-4,New four,print,NEW-5",
                      "NEW-5,New five,print,not a sku"])
    report = transfer.import_items(session, text, dry_run=True)
    bad = {row.line: row.reason for row in report.bad_rows}
    assert "circle (BRO-ATLAS-26 → BRO-ATLAS-25 → BRO-ATLAS-26)" in bad[2]
    assert "NEW-1 cannot be replaced by itself" in bad[3]
    assert "replaced by BRO-NOPE: no item has that SKU" in bad[4]
    assert "BRO-GONE: it is archived" in bad[5]
    assert "'NOT A SKU' is not a valid SKU" in bad[7]
    assert "replaced by NEW-5: no item has that SKU" in bad[6]  # NEW-5's own row is bad
    assert session.scalar(select(Item).where(Item.sku == "NEW-1")) is None


def test_the_swap_page_says_backorders_are_served_from_what_the_successor_has_left(client, login, session, pieces,
                                                                                   make_user):
    old, _new = pieces
    request = submission.submit(session, make_user("rep"), [(old, 320)], purpose="client_meeting", needed_by=day(5),
                                allow_partial=True)
    login("manager")
    page = client.get("/i/BRO-ATLAS-25/successor").get_data(as_text=True)
    assert "300 held · 20 backordered" in page
    assert "What waits on backorder (20) then waits for BRO-ATLAS-26, and is held from the 200 it has left" in page
    client.post("/i/BRO-ATLAS-25/successor")
    session.expire_all()
    line = session.get(Request, request.id).lines[0]
    assert (line.item.sku, line.reserved, line.backordered) == ("BRO-ATLAS-26", 320, 0)
