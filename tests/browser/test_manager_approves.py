"""A manager approves what is on screen, at 360 px in a real browser: the request page is one form,
so whichever button is pressed the quantities typed are the ones taken; a change that cannot be
held approves nothing and says why by its line; a rep sees asked against held on a small phone; the
queue approves a request in one tap."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.auth.models import User
from inventory.catalog.services import get_item
from inventory.extensions import db
from inventory.requests import queries, submission
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)


def submit(app, email, quantities):
    """A submitted request of `email` for {sku: quantity}, through the rule: (id, {sku: line id})."""
    with app.app_context():
        rep = db.session.scalar(select(User).where(User.email == email))
        lines = [(get_item(db.session, sku), quantity) for sku, quantity in quantities.items()]
        made = submission.submit(db.session, rep, lines, purpose="client_meeting",
                                 needed_by=date.today() + timedelta(days=5))
        return made.id, {line.item.sku: line.id for line in made.lines}


def state(app, request_id):
    """(status, {sku: (asked, held)}) as the database has it."""
    with app.app_context():
        shown = queries.get_request(db.session, request_id)
        return shown.status, {line.item.sku: (line.quantity, line.reserved) for line in shown.lines}


@pytest.fixture
def stockroom(data):
    data.bin("A-01", "Shelf A")
    data.user("rep", "rep@example.com", name="Riley Rep")
    data.user("manager", "manager@example.com", name="Morgan Manager")
    data.product("Ballpoint pen with a rather long name for a small phone", "PEN-1", category="promo",
                 on_hand=10, bin="A-01")
    data.product("Ceramic mug", "MUG-1", category="promo", on_hand=4, bin="A-01")
    request_id, lines = submit(data.app, "rep@example.com", {"PEN-1": 7, "MUG-1": 1})
    return request_id, lines


def quantity_box(page, line_id):
    return page.locator(f"#qty-{line_id}")


def test_manager_changes_7_to_5_and_approves_it_is_approved_with_5(live_server, data, stockroom, small_phone):
    request_id, lines = stockroom
    page = small_phone
    log_in(page, live_server.url, "manager@example.com")
    page.goto(f"{live_server.url}/requests/{request_id}")
    pen = page.locator(f"#line-{lines['PEN-1']}")
    expect(pen).to_contain_text("3 more free")
    assert_no_horizontal_scroll(page)
    pen.get_by_role("button", name="One less").tap()
    pen.get_by_role("button", name="One less").tap()
    expect(quantity_box(page, lines["PEN-1"])).to_have_value("5")
    page.get_by_role("button", name="Approve").tap()
    expect(page.get_by_role("status")).to_contain_text("Quantities saved and approved")
    assert state(data.app, request_id) == ("approved", {"PEN-1": (5, 5), "MUG-1": (1, 1)})
    expect(page.locator(f"#line-{lines['PEN-1']}")).to_contain_text("Held 5")
    assert_no_horizontal_scroll(page)


def test_more_than_is_free_approves_nothing_and_says_so_by_the_line(live_server, data, stockroom, small_phone):
    request_id, lines = stockroom
    page = small_phone
    log_in(page, live_server.url, "manager@example.com")
    page.goto(f"{live_server.url}/requests/{request_id}")
    quantity_box(page, lines["PEN-1"]).fill("6")
    quantity_box(page, lines["MUG-1"]).fill("9")
    page.get_by_role("button", name="Approve").tap()
    mug = page.locator(f"#line-{lines['MUG-1']}")
    expect(mug.locator(".line-error")).to_have_text("Only 4 free: asked 9.")
    expect(mug.locator(".line-error")).to_be_visible()
    expect(quantity_box(page, lines["MUG-1"])).to_have_value("9")
    expect(quantity_box(page, lines["PEN-1"])).to_have_value("6")
    expect(page.locator(f"#line-{lines['PEN-1']} .line-error")).to_have_count(0)
    expect(page.get_by_role("alert").first).to_contain_text("nothing was changed")
    assert state(data.app, request_id) == ("submitted", {"PEN-1": (7, 7), "MUG-1": (1, 1)})
    assert_no_horizontal_scroll(page)
    # An empty box is said in words, and still approves nothing.
    quantity_box(page, lines["MUG-1"]).fill("")
    page.get_by_role("button", name="Approve").tap()
    expect(page.locator(f"#line-{lines['MUG-1']} .line-error")).to_have_text("Enter how many, 0 to remove the line.")
    assert state(data.app, request_id)[0] == "submitted"


def test_reject_without_a_reason_keeps_the_quantities_typed(live_server, data, stockroom, small_phone):
    request_id, lines = stockroom
    page = small_phone
    log_in(page, live_server.url, "manager@example.com")
    page.goto(f"{live_server.url}/requests/{request_id}")
    quantity_box(page, lines["PEN-1"]).fill("4")
    page.get_by_text("Reject", exact=True).tap()  # the <summary> that opens the reason box
    page.get_by_role("button", name="Reject and release the stock").tap()
    expect(page.locator("#reason-error")).to_contain_text("Say why the request is rejected")
    expect(page.get_by_label("Reason (the rep sees it)")).to_be_visible()
    expect(quantity_box(page, lines["PEN-1"])).to_have_value("4")
    assert state(data.app, request_id)[0] == "submitted"
    assert_no_horizontal_scroll(page)
    page.get_by_label("Reason (the rep sees it)").fill("Use the webinar pens")
    page.get_by_role("button", name="Reject and release the stock").tap()
    expect(page.get_by_role("status")).to_contain_text("Rejected")
    assert state(data.app, request_id) == ("rejected", {"PEN-1": (7, 0), "MUG-1": (1, 0)})


def test_cancel_asks_first_and_a_no_changes_nothing(live_server, data, stockroom, small_phone):
    request_id, _lines = stockroom
    page = small_phone
    log_in(page, live_server.url, "manager@example.com")
    page.goto(f"{live_server.url}/requests/{request_id}")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.get_by_role("button", name="Cancel request").tap()
    expect(page.get_by_role("button", name="Cancel request")).to_be_visible()
    assert questions == ["Cancel this request? Its stock is released."]
    assert state(data.app, request_id)[0] == "submitted"
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name="Cancel request").tap()
    expect(page.get_by_role("status")).to_contain_text("Request cancelled")
    assert state(data.app, request_id)[0] == "cancelled"


def test_the_rep_sees_asked_and_held_on_a_small_phone(live_server, data, stockroom, small_phone):
    request_id, lines = stockroom
    page = small_phone
    log_in(page, live_server.url, "rep@example.com")
    page.goto(f"{live_server.url}/requests/{request_id}")
    for sku, line_id in lines.items():
        line = page.locator(f"#line-{line_id}")
        expect(line.get_by_text("Asked", exact=False)).to_be_visible()
        expect(line.get_by_text("Held", exact=False)).to_be_visible()
    expect(page.locator(f"#line-{lines['PEN-1']}")).to_contain_text("Asked 7")
    expect(page.locator(f"#line-{lines['PEN-1']}")).to_contain_text("Held 7")
    expect(page.locator("input[name^=qty-]")).to_have_count(0)
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.get_by_role("button", name="Save quantities")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel request")).to_be_visible()
    assert_no_horizontal_scroll(page)


def test_manager_approves_from_the_queue_in_one_tap(live_server, data, stockroom, small_phone):
    request_id, _lines = stockroom
    other_id, _ = submit(data.app, "rep@example.com", {"MUG-1": 2})
    page = small_phone
    log_in(page, live_server.url, "manager@example.com")
    page.goto(f"{live_server.url}/requests?status=submitted")
    number = f"R-{request_id:05d}"
    assert_no_horizontal_scroll(page)
    button = page.get_by_role("button", name=f"Approve {number}")
    box = button.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    button.tap()
    expect(page).to_have_url(f"{live_server.url}/requests?status=submitted")
    expect(page.get_by_role("status")).to_have_text(f"Approved {number}")
    expect(page.get_by_role("button", name=f"Approve {number}")).to_have_count(0)
    expect(page.get_by_role("button", name=f"Approve R-{other_id:05d}")).to_be_visible()
    assert state(data.app, request_id) == ("approved", {"PEN-1": (7, 7), "MUG-1": (1, 1)})
    assert state(data.app, other_id)[0] == "submitted"
