"""Events and kits in a real browser: a manager plans a show on a laptop and reserves a kit for it
(the month grid shows it); every events and kits page fits a 360 px phone, where the calendar is a
list grouped by month."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from inventory.auth.services import user_by_email
from inventory.catalog.services import get_item
from inventory.events import kits, services as events
from inventory.extensions import db
from inventory.requests import fulfilment, handover, queries, review, submission
from tests.browser.conftest import TIMEOUT_MS, assert_no_horizontal_scroll, log_in

expect.set_options(timeout=TIMEOUT_MS)
TODAY = date.today()


def on(n):
    return TODAY + timedelta(days=n)


@pytest.fixture
def show_floor(data, live_server):
    """A stockroom with a standard kit, a show in five weeks with the kit reserved, and a past fair with
    a banner returned and one lost. Returns {name: id}."""
    data.bin("B-01-1", "Brochures", zone="Stockroom B")
    data.bin("B-03-1", "Displays", zone="Stockroom B")
    data.user("manager", "manager@example.com", name="Morgan Manager")
    data.user("staff", "staff@example.com", name="Sam Stockroom")
    data.user("rep", "rep@example.com", name="Riley Rep")
    data.product("Navy polo", "POLO-NAVY", sizes={"M": 20, "L": 20, "XL": 10}, bin="B-01-1",
                 unit_cost=Decimal("14.50"))
    data.product("Atlas product brochure 2026 with a long name", "BRO-ATLAS-26", category="print", on_hand=900,
                 bin="B-01-1", unit_cost=Decimal("0.85"))
    data.product("Roll-up banner 2 m", "BANNER-ROLLUP", category="display", on_hand=3, bin="B-03-1",
                 returnable=True, unit_cost=Decimal("95.00"))
    with live_server.app.app_context():
        session = db.session
        manager = user_by_email(session, "manager@example.com")
        staff = user_by_email(session, "staff@example.com")
        rep = user_by_email(session, "rep@example.com")
        kit = kits.create_kit(session, manager, name="Trade show standard kit", description="One booth's worth.",
                              lines=[("BANNER-ROLLUP", 1), ("BRO-ATLAS-26", 200), ("POLO-NAVY-M", 4),
                                     ("POLO-NAVY-L", 4), ("POLO-NAVY-XL", 2)])
        expo = events.create_event(session, manager, name="Expo Nord 2027", place="Messe Nord, Hall B, Hamburg",
                                   starts_on=on(35), ends_on=on(37), ship_by=on(28), return_by=on(41),
                                   notes="Biggest show of the year.")
        kits.reserve_kit(session, manager, expo.id, kit.id, 1)
        submission.submit(session, rep, [(get_item(session, "BRO-ATLAS-26"), 50)], purpose="trade_show",
                          needed_by=expo.ship_by, event_id=expo.id)
        events.create_event(session, manager, name="Roadshow", place="Berlin", starts_on=on(6), ends_on=on(7),
                            ship_by=on(4))
        fair = events.create_event(session, manager, name="Autumn partner day", place="Leipzig",
                                   starts_on=on(-24), ends_on=on(-23), ship_by=on(-26), return_by=on(-20))
        went = submission.submit(session, rep, [(get_item(session, "BANNER-ROLLUP"), 2),
                                                (get_item(session, "BRO-ATLAS-26"), 120)],
                                 purpose="trade_show", needed_by=fair.ship_by, return_by=fair.return_by,
                                 event_id=fair.id, today=on(-30))
        review.approve(session, went.id, manager)
        for bin, picks in fulfilment.pick_list(session, queries.get_request(session, went.id)):
            fulfilment.pick(session, went.id, bin, {line.id: q for line, q in picks}, staff)
        handover.hand_over(session, went.id, staff)
        banner = next(line for line in went.lines if line.item.sku == "BANNER-ROLLUP")
        from inventory.bins.services import get_bin

        fulfilment.check_in(session, went.id, get_bin(session, "B-03-1"), {banner.id: {"returned": 1, "lost": 1}},
                            staff)
        return {"kit": kit.id, "expo": expo.id, "fair": fair.id}


def test_manager_plans_a_show_on_a_laptop_and_reserves_a_kit(live_server, data, show_floor, browser):
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        log_in(page, base, "manager@example.com")
        page.locator("nav.topnav summary", has_text="Plan").click()  # the top bar's Plan menu
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Events").first.click()
        expect(page.locator("table.month")).to_be_visible()
        page.get_by_role("button", name="New event").click()
        page.get_by_label("Name", exact=True).fill("Spring dealer fair")
        page.get_by_label("Place").fill("Hall 3, Hanover")
        page.get_by_label("First day", exact=True).fill(on(20).isoformat())
        page.get_by_label("Last day", exact=True).fill(on(21).isoformat())
        page.get_by_label("Ship by (leaves the stockroom)").fill(on(15).isoformat())
        page.get_by_label("Returnables back by").fill(on(23).isoformat())
        page.get_by_role("button", name="Create event").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Spring dealer fair")
        page.get_by_role("button", name="Reserve kits").click()
        expect(page.get_by_role("status")).to_contain_text("whole kit")
        page.get_by_label("How many kits").fill("2")
        page.get_by_role("button", name="Reserve Trade show standard kit").click()
        expect(page.locator(".flash-success")).to_contain_text("Reserved 2 × Trade show standard kit")
        kits_section = page.get_by_role("region", name="Kits")
        expect(kits_section.get_by_role("link", name="2 × Trade show standard kit")).to_be_visible()
        page.get_by_role("link", name="← Events").click()
        page.goto(f"{base}/events?month={on(20):%Y-%m}")
        expect(page.locator("table.month").get_by_role("link", name="Spring dealer fair").first).to_be_visible()
        page.screenshot(path=str(live_server.app.instance_path) + "/events-month.png")
    finally:
        context.close()


PHONE_PAGES = [
    ("events", "/events"),
    ("event", "/events/{expo}"),
    ("event-past", "/events/{fair}"),
    ("events-past", "/events/past"),
    ("event-new", "/events/new"),
    ("event-edit", "/events/{expo}/edit"),
    ("reserve-kit", "/events/{expo}/kits"),
    ("kits", "/kits"),
    ("kit", "/kits/{kit}?event={expo}"),
    ("kit-new", "/kits/new"),
    ("kit-edit", "/kits/{kit}/edit"),
]


def test_event_and_kit_pages_fit_a_360px_phone(live_server, data, show_floor, small_phone, tmp_path):
    base = live_server.url
    log_in(small_phone, base, "manager@example.com")
    for name, url in PHONE_PAGES:
        small_phone.goto(base + url.format(**show_floor))
        expect(small_phone.locator("h1")).to_be_visible()
        assert_no_horizontal_scroll(small_phone)
        small_phone.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    # On a phone the calendar is the list; the month grid is for laptops.
    small_phone.goto(base + "/events")
    expect(small_phone.locator("table.month")).to_be_hidden()
    expect(small_phone.locator(".event-list").get_by_text("Expo Nord 2027")).to_be_visible()
    # After the event: what was used, returned and lost, and what it cost (120 x 0.85 + 1 x 95.00).
    small_phone.goto(base + f"/events/{show_floor['fair']}")
    expect(small_phone.locator(".usage-list .total")).to_contain_text("197.00")
    expect(small_phone.locator(".usage-list")).to_contain_text("1 lost")


def test_a_rep_on_a_phone_sees_the_calendar_and_subscribes(live_server, data, show_floor, small_phone):
    base = live_server.url
    log_in(small_phone, base, "rep@example.com")
    small_phone.goto(base + "/events")
    small_phone.get_by_text("Subscribe in your calendar app").click()
    feed_url = small_phone.get_by_label("Your calendar feed address").input_value()
    assert "/events.ics?token=" in feed_url
    assert_no_horizontal_scroll(small_phone)
    small_phone.get_by_role("link", name="Expo Nord 2027").click()
    expect(small_phone.get_by_role("heading", level=1)).to_have_text("Expo Nord 2027")
    expect(small_phone.get_by_text("Reserve kits")).to_have_count(0)
    assert_no_horizontal_scroll(small_phone)
