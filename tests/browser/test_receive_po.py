"""Purchase orders in a real browser: a manager raises one from a pre-filled link (as the reorder
forecast makes) and marks it ordered; staff on a 360 px phone open the delivery, scan the label of
the bin a line goes into with Chromium's fake camera, say how many arrived, and see the
confirmation; a rep's backorder is filled first, and the ledger stays sound."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from inventory.auth.models import User
from inventory.catalog.services import get_item
from inventory.extensions import db
from inventory.requests import submission
from inventory.requests.models import RequestLine
from tests.browser.camera import camera_browser, label_video
from tests.browser.conftest import PHONE, TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)
SCAN_TIMEOUT_MS = 20_000  # the first scan loads and compiles the QR reader
ARRIVAL = (date.today() + timedelta(days=10)).isoformat()


@pytest.fixture
def stockroom(data, live_server):
    data.bin("B-01-1", "Brochures", zone="Stockroom B")
    data.bin("B-05-1", "Overflow", zone="Stockroom B")
    data.user("manager", "manager@example.com", name="Morgan Manager")
    data.user("staff", "staff@example.com", name="Sam Stockroom")
    data.user("rep", "rep@example.com", name="Riley Rep")
    data.product("Atlas product brochure 2026", "BRO-ATLAS-26", category="print", on_hand=100, bin="B-01-1",
                 supplier="PrintWorks Ltd", unit_cost=Decimal("0.85"), lead_time_days=21)
    data.product("Atlas one-pager", "FLY-ATLAS", category="print", supplier="PrintWorks Ltd",
                 unit_cost=Decimal("0.12"), lead_time_days=14)
    with live_server.app.app_context():  # a rep waits for 50 brochures
        rep = db.session.scalar(select(User).where(User.email == "rep@example.com"))
        waiting = submission.submit(db.session, rep, [(get_item(db.session, "BRO-ATLAS-26"), 150)],
                                    purpose="trade_show", needed_by=date.today() + timedelta(days=20),
                                    allow_partial=True)
        return waiting.id


def backorder(app, request_id):
    with app.app_context():
        line = db.session.scalar(select(RequestLine).where(RequestLine.request_id == request_id))
        return line.reserved, line.backordered


def test_manager_raises_a_po_and_staff_receive_it_by_scanning_the_bin(live_server, data, stockroom, browser,
                                                                      playwright_instance, tmp_path):
    base = live_server.url
    assert backorder(live_server.app, stockroom) == (100, 50)

    # The manager follows a pre-filled link (the forecast's "raise a PO"), saves, marks it ordered.
    laptop = browser.new_context(viewport={"width": 1280, "height": 900})
    manager = laptop.new_page()
    log_in(manager, base, "manager@example.com")
    manager.goto(f"{base}/purchase-orders/new?line=BRO-ATLAS-26:500&line=FLY-ATLAS:1000")
    expect(manager.get_by_label("Supplier")).to_have_value("PrintWorks Ltd")
    expect(manager.locator("#lines-0-quantity")).to_have_value("500")
    manager.get_by_role("button", name="Save draft").click()
    expect(manager.get_by_role("status")).to_contain_text("saved as a draft")
    number = manager.locator("h1").inner_text().split()[0]
    manager.get_by_label("Expected arrival").fill(ARRIVAL)
    manager.get_by_role("button", name="Mark ordered").click()
    expect(manager.get_by_role("status")).to_contain_text(f"{number} is ordered")
    laptop.close()

    # Staff, on a 360 px phone whose camera sees the label of bin B-05-1.
    camera = camera_browser(playwright_instance, label_video(f"{base}/b/B-05-1", tmp_path / "b-05-1.mjpeg"))
    try:
        options = dict(playwright_instance.devices[PHONE], viewport={"width": 360, "height": 740})
        context = camera.new_context(**options, permissions=["camera"])
        context.set_default_timeout(TIMEOUT_MS)
        staff = context.new_page()
        log_in(staff, base, "staff@example.com")
        # The delivery's paperwork names the PO: its number typed into the Scan page's code box opens it
        # (/find); here staff start from the list of deliveries on their way.
        staff.goto(f"{base}/purchase-orders")
        expect(staff.get_by_role("heading", name="Deliveries to receive")).to_be_visible()
        assert_no_horizontal_scroll(staff)
        staff.get_by_role("link", name=number).tap()
        expect(staff.get_by_text("500 to come")).to_be_visible()
        assert_no_horizontal_scroll(staff)
        staff.get_by_role("button", name="Receive Atlas product brochure 2026").tap()

        staff.get_by_role("button", name="Scan bin label").tap()
        expect(staff.get_by_label("Scan or type the bin it goes into")).to_have_value("B-05-1",
                                                                                  timeout=SCAN_TIMEOUT_MS)
        expect(staff.get_by_text("Scanned B-05-1")).to_be_visible()
        assert_no_horizontal_scroll(staff)
        staff.get_by_label("How many arrived?").fill("300")
        staff.get_by_role("button", name="Confirm received").tap()

        confirmation = staff.locator(".po-confirmation")
        expect(confirmation).to_contain_text("Received 300 × Atlas product brochure 2026")
        expect(confirmation).to_contain_text("into bin B-05-1")
        expect(staff.locator(".stat").filter(has_text="now in B-05-1")).to_contain_text("300")
        expect(staff.locator(".stat").filter(has_text="still to come")).to_contain_text("200")
        expect(staff.get_by_text("1000 × Atlas one-pager")).to_be_visible()  # the other line, still to come
        expect(staff.get_by_role("status").filter(has_text="now held for")).to_contain_text(
            "50 × BRO-ATLAS-26 now held for R-")
        assert_no_horizontal_scroll(staff)
        context.close()
    finally:
        camera.close()

    assert data.level("BRO-ATLAS-26", "B-05-1") == 300
    assert backorder(live_server.app, stockroom) == (150, 0)  # the waiting rep was served first
    assert data.ledger_drift() == []
