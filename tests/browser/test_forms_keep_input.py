"""What is on screen is what is saved, in a real browser at 360 px: on every stockroom and
planning form, each button (the secondary ones too: More lines, Show availability, Release) keeps
every value typed; a bad value is refused with the message next to its box while the rest stays
as typed; and what is finally saved equals what the page showed."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.auth.models import User
from inventory.bins.services import get_bin
from inventory.catalog.services import get_item
from inventory.events.kits import create_kit, get_kit
from inventory.events.models import Event, KitTemplate
from inventory.extensions import db
from inventory.purchasing.models import PurchaseOrder
from inventory.requests import fulfilment, handover, review, submission
from inventory.requests.models import Request
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)


def _user(email):
    return db.session.scalar(select(User).where(User.email == email))


def _error_of(page, box_id):
    """The message shown for a box: the element its aria-describedby names, right under it."""
    box = page.locator(f"#{box_id}")
    expect(box).to_have_attribute("aria-invalid", "true")
    return page.locator("#" + box.get_attribute("aria-describedby").split()[0])


def _submit(page, name, **options):
    with page.expect_navigation():
        page.get_by_role("button", name=name, **options).click()


@pytest.fixture
def people(data):
    data.user("staff", "staff@example.com", name="Sam Stockroom")
    data.user("manager", "manager@example.com", name="Morgan Manager")
    data.user("rep", "rep@example.com", name="Riley Rep")


# Count a bin -----------------------------------------------------------------------------------

def test_a_count_with_an_empty_box_says_so_next_to_it_and_keeps_the_rest(live_server, data, people, small_phone):
    data.bin("A-01")
    data.bin("B-09")
    data.product("Logo pen", "PEN-1", category="promo", on_hand=10, bin="A-01")
    data.product("Mug", "MUG-1", category="promo", on_hand=4, bin="A-01")
    data.product("Tote", "TOTE-1", category="promo", on_hand=7, bin="B-09")
    with live_server.app.app_context():
        pen, mug = get_item(db.session, "PEN-1").id, get_item(db.session, "MUG-1").id
    page = small_phone
    log_in(page, live_server.url, "staff@example.com")
    page.goto(f"{live_server.url}/stock/count/A-01")
    page.locator(f"#count-{pen}").fill("9")  # MUG-1 left empty
    page.locator("#extra_sku-1").fill("tote-1")
    page.locator("#extra_count-1").fill("2")
    page.locator("#extra_sku-2").fill("NOPE-7")
    page.locator("#extra_count-2").fill("1")
    _submit(page, "Book count")

    expect(_error_of(page, f"count-{mug}")).to_have_text("Enter what you see: 0 if the bin has none.")
    expect(_error_of(page, "extra_sku-2")).to_have_text("No item has the SKU NOPE-7.")
    expect(page.get_by_text("is not a count")).to_have_count(0)
    for box, typed in [(f"count-{pen}", "9"), (f"count-{mug}", ""), ("extra_sku-1", "tote-1"),
                       ("extra_count-1", "2"), ("extra_sku-2", "NOPE-7"), ("extra_count-2", "1")]:
        expect(page.locator(f"#{box}")).to_have_value(typed)
    assert_no_horizontal_scroll(page)
    assert (data.level("PEN-1", "A-01"), data.level("MUG-1", "A-01"), data.level("TOTE-1", "A-01")) == (10, 4, 0)

    page.locator(f"#count-{mug}").fill("0")
    page.locator("#extra_sku-2").fill("")
    page.locator("#extra_count-2").fill("")
    _submit(page, "Book count")
    expect(page).to_have_url(f"{live_server.url}/b/A-01")
    assert (data.level("PEN-1", "A-01"), data.level("MUG-1", "A-01"), data.level("TOTE-1", "A-01")) == (9, 0, 2)
    assert data.ledger_drift() == []


# Stock adjust ----------------------------------------------------------------------------------

def test_adjust_takes_stock_away_with_the_sign_button_and_keeps_a_typed_minus(live_server, data, people,
                                                                               small_phone):
    data.bin("A-01")
    data.product("Logo pen", "PEN-1", category="promo", on_hand=10, bin="A-01")
    page = small_phone
    log_in(page, live_server.url, "staff@example.com")
    page.goto(f"{live_server.url}/stock/adjust?sku=PEN-1&bin=A-01")
    change = page.get_by_label("Change (+ found, − lost or damaged)")
    # No digits-only pattern on a box that needs a minus; the numeric keypad plus a sign button.
    assert change.get_attribute("pattern") is None and change.get_attribute("type") == "text"
    toggle = page.get_by_role("button", name="Switch between adding and taking away (−/+)")
    box = toggle.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    change.fill("3")
    toggle.tap()
    expect(change).to_have_value("-3")
    toggle.tap()
    expect(change).to_have_value("3")
    toggle.tap()
    expect(change).to_be_focused()
    assert_no_horizontal_scroll(page)
    _submit(page, "Book adjustment")  # no reason: refused, everything kept
    expect(_error_of(page, "reason")).to_have_text("Say why the stock is adjusted.")
    expect(change).to_have_value("-3")
    expect(page.get_by_label("Item (SKU)")).to_have_value("PEN-1")
    assert data.level("PEN-1", "A-01") == 10

    page.get_by_label("Reason").fill("Three broken in the box")
    _submit(page, "Book adjustment")
    expect(page).to_have_url(f"{live_server.url}/b/A-01")
    assert data.level("PEN-1", "A-01") == 7

    # A keyboard user types the minus; an empty box starts a negative number with the button.
    page.goto(f"{live_server.url}/stock/adjust?sku=PEN-1&bin=A-01")
    change = page.get_by_label("Change (+ found, − lost or damaged)")
    page.get_by_role("button", name="Switch between adding and taking away (−/+)").tap()
    page.keyboard.type("2")
    expect(change).to_have_value("-2")
    change.fill("-1")
    page.get_by_label("Reason").fill("Given away at the desk")
    _submit(page, "Book adjustment")
    assert data.level("PEN-1", "A-01") == 6


# Picking -----------------------------------------------------------------------------------------

@pytest.fixture
def approved(live_server, data, people):
    """An approved request for 6 pens (A-01 holds 4, A-02 holds 5) and 2 mugs (A-01)."""
    data.bin("A-01")
    data.bin("A-02")
    data.product("Logo pen", "PEN-1", category="promo", on_hand=4, bin="A-01")
    data.product("Mug", "MUG-1", category="promo", on_hand=2, bin="A-01")
    with live_server.app.app_context():
        from inventory.stock import services as stock
        stock.receive(db.session, get_item(db.session, "PEN-1"), get_bin(db.session, "A-02"), 5,
                      _user("staff@example.com"))
        made = submission.submit(db.session, _user("rep@example.com"),
                                 [(get_item(db.session, "PEN-1"), 6), (get_item(db.session, "MUG-1"), 2)],
                                 purpose="client_meeting", needed_by=date.today() + timedelta(days=4))
        review.approve(db.session, made.id, _user("manager@example.com"))
        return made.id, {line.item.sku: line.id for line in made.lines}


def _lines(app, request_id):
    with app.app_context():
        made = db.session.get(Request, request_id)
        return made.status, {line.item.sku: (line.picked, line.short) for line in made.lines}


def test_the_pick_list_keeps_the_typed_bin_code_whatever_button_is_pressed(live_server, approved, small_phone):
    request_id, lines = approved
    page = small_phone
    log_in(page, live_server.url, "staff@example.com")
    page.goto(f"{live_server.url}/requests/{request_id}/pick")
    assert page.locator("main form[method=post]").count() == 1  # the bin box and release: one form
    _submit(page, "Open")
    expect(_error_of(page, "bin")).to_have_text("Scan or type the bin code.")
    page.locator("#bin").fill("a-99")
    _submit(page, "Open")
    expect(_error_of(page, "bin")).to_have_text("No bin has the code A-99.")
    expect(page.locator("#bin")).to_have_value("a-99")
    assert_no_horizontal_scroll(page)

    # Release the mugs while a bin code is typed: the code comes back with the page.
    page.locator("#bin").fill("A-02")
    page.get_by_text("Can't find everything?").click()
    page.once("dialog", lambda dialog: dialog.accept())
    _submit(page, "Release 2 × Mug")
    expect(page.get_by_role("status")).to_contain_text("released")
    expect(page.locator("#bin")).to_have_value("A-02")
    assert _lines(live_server.app, request_id)[1]["MUG-1"] == (0, 2)
    _submit(page, "Open")
    expect(page).to_have_url(f"{live_server.url}/requests/{request_id}/pick/A-02")


def test_picking_from_a_bin_keeps_what_was_typed_and_says_what_is_wrong_next_to_it(live_server, approved,
                                                                                    small_phone):
    request_id, lines = approved
    page = small_phone
    log_in(page, live_server.url, "staff@example.com")
    page.goto(f"{live_server.url}/requests/{request_id}/pick/A-01")
    pen, mug = f"pick-{lines['PEN-1']}", f"pick-{lines['MUG-1']}"
    page.locator(f"#{pen}").fill("9")
    page.locator(f"#{mug}").fill("")
    _submit(page, "Confirm picked")
    expect(_error_of(page, mug)).to_have_text("Enter how many you picked: 0 if none.")
    expect(page.locator(f"#{pen}")).to_have_value("9")
    expect(page.locator(f"#{mug}")).to_have_value("")

    page.locator(f"#{mug}").fill("1")
    _submit(page, "Confirm picked")  # 9 pens: the rule refuses, next to the pens' box
    expect(_error_of(page, pen)).to_contain_text("only 6 left to pick")
    expect(page.locator(f"#{pen}")).to_have_value("9")
    expect(page.locator(f"#{mug}")).to_have_value("1")
    assert_no_horizontal_scroll(page)
    assert _lines(live_server.app, request_id)[1] == {"PEN-1": (0, 0), "MUG-1": (0, 0)}

    page.locator(f"#{pen}").fill("4")
    _submit(page, "Confirm picked")
    expect(page).to_have_url(f"{live_server.url}/requests/{request_id}/pick")
    assert _lines(live_server.app, request_id) == ("picking", {"PEN-1": (4, 0), "MUG-1": (1, 0)})


# Check-in of returns ---------------------------------------------------------------------------

def test_check_in_keeps_every_outcome_and_the_bin_on_a_refusal(live_server, data, people, small_phone):
    data.bin("B-01")
    data.product("Booth banner", "BANNER-1", category="display", on_hand=2, bin="B-01", returnable=True)
    with live_server.app.app_context():
        staff = _user("staff@example.com")
        made = submission.submit(db.session, _user("rep@example.com"), [(get_item(db.session, "BANNER-1"), 2)],
                                 purpose="trade_show", needed_by=date.today() + timedelta(days=1),
                                 return_by=date.today() + timedelta(days=6))
        review.approve(db.session, made.id, _user("manager@example.com"))
        fulfilment.pick(db.session, made.id, get_bin(db.session, "B-01"), {made.lines[0].id: 2}, staff)
        handover.hand_over(db.session, made.id, staff)
        request_id, line = made.id, made.lines[0].id
    page = small_phone
    log_in(page, live_server.url, "staff@example.com")
    page.goto(f"{live_server.url}/requests/{request_id}/check-in")
    page.locator(f"#returned-{line}").fill("1")
    page.locator(f"#lost-{line}").fill("x")
    page.locator("#bin").fill("Q-77")
    _submit(page, "Check in")
    expect(_error_of(page, f"lost-{line}")).to_have_text("Enter a whole number, 0 or more.")
    expect(_error_of(page, "bin")).to_have_text("No bin has the code Q-77.")
    expect(page.locator(f"#returned-{line}")).to_have_value("1")
    expect(page.locator(f"#lost-{line}")).to_have_value("x")
    expect(page.locator("#bin")).to_have_value("Q-77")

    page.locator(f"#lost-{line}").fill("0")
    page.locator("#bin").fill("B-01")
    _submit(page, "Check in")  # 1 + 0 is not the 2 that went out: said next to the line
    expect(page.locator(f"#line-{line}-error")).to_have_text(
        "2 went out, but these add up to 1: say what happened to each one.")
    expect(page.locator("#bin")).to_have_value("B-01")
    assert_no_horizontal_scroll(page)

    page.locator(f"#damaged-{line}").fill("1")
    _submit(page, "Check in")
    expect(page).to_have_url(f"{live_server.url}/requests/{request_id}")
    with live_server.app.app_context():
        checked = db.session.get(Request, request_id).lines[0]
        assert (checked.returned, checked.consumed, checked.lost, checked.damaged) == (1, 0, 0, 1)
    assert data.level("BANNER-1", "B-01") == 1


# Purchase order edit ---------------------------------------------------------------------------

def _values(page, names):
    return [page.locator(f"[name='{name}']").input_value() for name in names]


def test_po_more_lines_keeps_everything_and_a_bad_line_is_marked_where_it_is(live_server, data, people,
                                                                             small_phone):
    data.product("Atlas brochure", "BRO-ATLAS-26", category="print", supplier="PrintWorks Ltd",
                 unit_cost=Decimal("0.85"), lead_time_days=21)
    data.product("Atlas one-pager", "FLY-ATLAS", category="print", supplier="PrintWorks Ltd",
                 unit_cost=Decimal("0.12"), lead_time_days=14)
    page = small_phone
    log_in(page, live_server.url, "manager@example.com")
    page.goto(f"{live_server.url}/purchase-orders/new")
    typed = {"supplier": "PrintWorks Ltd", "note": "For the big show",
             "lines-0-sku": "bro-atlas-26", "lines-0-quantity": "2000", "lines-0-unit_cost": "",
             "lines-1-sku": "NOPE-9", "lines-1-quantity": "5", "lines-1-unit_cost": "1.10",
             "lines-2-sku": "FLY-ATLAS", "lines-2-quantity": "1-", "lines-2-unit_cost": "0.11"}
    for name, value in typed.items():
        page.locator(f"[name='{name}']").fill(value)
    _submit(page, "More lines")
    assert _values(page, typed) == list(typed.values())
    expect(page.locator("[name='lines-7-sku']")).to_have_value("")
    assert_no_horizontal_scroll(page)

    _submit(page, "Save draft")  # the unparsable quantity, then the unknown SKU: each on its line
    expect(page.locator("[name='lines-2-quantity']")).to_have_attribute("aria-invalid", "true")
    assert _values(page, typed) == list(typed.values())
    page.locator("[name='lines-2-quantity']").fill("5000")
    _submit(page, "Save draft")
    line = page.locator("li.po-line-edit").nth(1)
    expect(line.locator(".field-error")).to_have_text("No item has the SKU NOPE-9.")
    expect(page.locator("[name='lines-1-sku']")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[name='lines-2-quantity']")).to_have_value("5000")
    with live_server.app.app_context():
        assert db.session.scalar(select(PurchaseOrder)) is None

    page.locator("[name='lines-1-sku']").fill("")
    page.locator("[name='lines-1-quantity']").fill("")
    page.locator("[name='lines-1-unit_cost']").fill("")
    _submit(page, "Save draft")
    with live_server.app.app_context():
        order = db.session.scalar(select(PurchaseOrder))
        assert (order.supplier, order.note, [(l.item.sku, l.quantity, str(l.unit_cost)) for l in order.lines]) == (
            "PrintWorks Ltd", "For the big show", [("BRO-ATLAS-26", 2000, "0.85"), ("FLY-ATLAS", 5000, "0.11")])


# Kit edit --------------------------------------------------------------------------------------

def test_kit_more_lines_keeps_everything_and_a_bad_line_is_marked_where_it_is(live_server, data, people,
                                                                              small_phone):
    data.product("Navy polo", "POLO-NAVY", sizes={"M": 0, "L": 0})
    data.product("Brochure", "BRO-1", category="print")
    page = small_phone
    log_in(page, live_server.url, "manager@example.com")
    page.goto(f"{live_server.url}/kits/new")
    typed = {"name": "Booth kit", "description": "Standard booth",
             "lines-0-sku": "polo-navy-m", "lines-0-quantity": "4",
             "lines-1-sku": "POLO-NAVY", "lines-1-quantity": "2",
             "lines-2-sku": "BRO-1", "lines-2-quantity": "2x"}
    for name, value in typed.items():
        page.locator(f"[name='{name}']").fill(value)
    _submit(page, "More lines")
    assert _values(page, typed) == list(typed.values())
    expect(page.locator("[name='lines-9-sku']")).to_have_value("")
    assert_no_horizontal_scroll(page)

    _submit(page, "Create kit")  # "2x" is not a number: kept, marked on its line
    expect(page.locator("#lines-2-quantity")).to_have_attribute("aria-invalid", "true")
    assert _values(page, typed) == list(typed.values())
    page.locator("#lines-2-quantity").fill("200")
    _submit(page, "Create kit")  # POLO-NAVY comes in sizes: said on that line
    expect(_error_of(page, "lines-1-sku")).to_contain_text("POLO-NAVY comes in sizes")
    expect(page.locator("#lines-2-quantity")).to_have_value("200")
    with live_server.app.app_context():
        assert db.session.scalar(select(KitTemplate)) is None

    page.locator("#lines-1-sku").fill("POLO-NAVY-L")
    _submit(page, "Create kit")
    with live_server.app.app_context():
        kit = get_kit(db.session, db.session.scalar(select(KitTemplate.id)))
        assert (kit.name, kit.description, [(l.item.sku, l.quantity) for l in kit.lines]) == (
            "Booth kit", "Standard booth", [("POLO-NAVY-M", 4), ("POLO-NAVY-L", 2), ("BRO-1", 200)])


# Reserve kits ----------------------------------------------------------------------------------

def test_reserve_kits_keeps_the_count_and_ship_to_when_another_kit_is_chosen(live_server, data, people,
                                                                             small_phone):
    data.bin("A-01")
    data.product("Brochure", "BRO-1", category="print", on_hand=500, bin="A-01")
    data.product("Pen", "PEN-1", category="promo", on_hand=500, bin="A-01")
    with live_server.app.app_context():
        manager = _user("manager@example.com")
        first = create_kit(db.session, manager, name="Brochure kit", lines=[("BRO-1", 100)]).id
        second = create_kit(db.session, manager, name="Pen kit", lines=[("PEN-1", 50)]).id
        start = date.today() + timedelta(days=20)
        event = Event(name="Expo West", place="Hall B", starts_on=start, ends_on=start + timedelta(days=2),
                      ship_by=start - timedelta(days=3))
        db.session.add(event)
        db.session.commit()
        event_id = event.id
    page = small_phone
    log_in(page, live_server.url, "manager@example.com")
    page.goto(f"{live_server.url}/events/{event_id}/kits?kit={first}")
    assert page.locator("main form").count() == 1
    page.get_by_label("How many kits").fill("3")
    page.get_by_role("radio", name="Ship to an address").check()
    page.locator("#ship_to").fill("Booth 214, Hall B")
    page.locator("#kit_id").select_option(str(second))
    _submit(page, "Reserve Brochure kit")  # the kit box says Pen kit: nothing is reserved
    expect(_error_of(page, "kit_id")).to_contain_text("You chose another kit")
    expect(page.get_by_role("heading", name="Pen kit")).to_be_visible()
    expect(page.get_by_label("How many kits")).to_have_value("3")
    expect(page.locator("#ship_to")).to_have_value("Booth 214, Hall B")
    page.locator("#kit_id").select_option(str(first))
    _submit(page, "Show availability")
    expect(page.get_by_role("heading", name="Brochure kit")).to_be_visible()
    expect(page.get_by_label("How many kits")).to_have_value("3")
    expect(page.get_by_role("radio", name="Ship to an address")).to_be_checked()
    assert_no_horizontal_scroll(page)
    with live_server.app.app_context():
        assert db.session.scalar(select(Request)) is None
    _submit(page, "Reserve Brochure kit")
    expect(page).to_have_url(f"{live_server.url}/events/{event_id}")
    with live_server.app.app_context():
        made = db.session.scalar(select(Request))
        assert (made.kit_id, made.kit_count, made.handoff, made.ship_to) == (first, 3, "ship", "Booth 214, Hall B")
        assert [(line.item.sku, line.quantity) for line in made.lines] == [("BRO-1", 300)]
