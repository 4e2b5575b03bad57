"""Reports: on a small history built by hand through the real rules, every number matches what
we work out on paper; pages are for managers only, download the same rows as CSV, and answer bad
dates with a message."""
import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from inventory.catalog.models import Item
from inventory.errors import InvalidInput
from inventory.events import kits
from inventory.events import services as events
from inventory.extensions import db
from inventory.reports import charts, periods
from inventory.reports.deliveries import service_level
from inventory.reports.downloads import cell
from inventory.reports.event_costs import usage_by_event
from inventory.reports.over_time import usage_over_time
from inventory.reports.shelf import expiring, slow_movers, stock_value
from inventory.reports.usage import usage_by_item, usage_by_rep
from inventory.requests import fulfilment, handover, review, submission
from inventory.requests.models import RequestStep
from inventory.stock import services as stock
from inventory.stock.models import Movement

Q1 = periods.Period(date(2026, 1, 1), date(2026, 3, 31))
Q1_ARGS = "from=2026-01-01&to=2026-03-31"
AS_OF = date(2026, 3, 20)   # "today" for the service level: later needed-by days are not due yet


def handed_over_at(session, request, moment):
    """Put a hand-over at a fixed moment in the past (the rules stamp it with now)."""
    session.execute(update(RequestStep).where(RequestStep.request_id == request.id,
                                              RequestStep.action == "handed_over").values(at=moment))
    session.commit()


def deliver(session, request, manager, staff, bin, moment, picks=None):
    """Approve, pick everything held (or `picks` {item: quantity}, releasing the rest) and hand
    over at `moment`."""
    review.approve(session, request.id, manager)
    quantities = {line.id: (picks or {}).get(line.item, line.reserved) for line in request.lines}
    fulfilment.pick(session, request.id, bin, quantities, staff)
    unpicked = [line.id for line in request.lines if line.to_pick > 0]
    if unpicked:
        fulfilment.release_unpicked(session, request.id, unpicked, staff)
    handover.hand_over(session, request.id, staff)
    handed_over_at(session, request, moment)


@pytest.fixture
def history(session, make_user, make_item, make_bin):
    """Two shows and some loose requests in the first quarter of 2026.

    Items (unit cost, on hand at first): BRO-1 brochure 1.50 (500), POLO-M polo 12.00 (50),
    BANNER roll-up banner 150.00 returnable (3), PEN-1 pen 0.40 (1000), all in A-01.

    R1  2 x Booth kit (1 BANNER + 100 BRO-1 each) for Expo West, by the manager; needed 5 Feb,
        handed over 4 Feb; the banners come back 1 returned, 1 lost.
    R2  Alice, Expo West: 10 POLO-M, 100 PEN-1; needed 5 Feb, handed over 6 Feb (late).
    R3  Bob, Summit: 50 BRO-1, only 40 found (10 released short); needed 10 Mar, handed over 9 Mar.
    R4  Alice, no event: 20 PEN-1; needed 15 Jan, handed over 1 Jan 00:00 (first moment of Q1).
    R5  Bob: 30 PEN-1 needed 25 Mar, not handed over (not due on 20 Mar).
    R6  Bob: 5 POLO-M needed 12 Mar, approved, never handed over (a miss by 20 Mar).
    R7  Alice: 10 PEN-1 needed 1 Feb, cancelled.
    R8  Alice: 40 PEN-1 needed 1 Apr, handed over 1 Apr 00:00 (first moment after Q1).
    """
    manager, staff = make_user("manager", name="Maria Manager"), make_user("staff")
    alice, bob = make_user("rep", name="Alice"), make_user("rep", name="Bob")
    shelf = make_bin("A-01")
    brochure = make_item("BRO-1", name="Brochure", category="print", on_hand=500, unit_cost="1.50")
    polo = make_item("POLO-M", name="Polo", category="apparel", on_hand=50, unit_cost="12.00")
    banner = make_item("BANNER", name="Roll-up banner", category="display", on_hand=3, unit_cost="150.00",
                       returnable=True)
    pen = make_item("PEN-1", name="Pen", category="promo", on_hand=1000, unit_cost="0.40")
    expo = events.create_event(session, manager, name="Expo West", starts_on=date(2026, 2, 10),
                               ends_on=date(2026, 2, 12), ship_by=date(2026, 2, 5), return_by=date(2026, 2, 16))
    summit = events.create_event(session, manager, name="Summit", starts_on=date(2026, 3, 15),
                                 ends_on=date(2026, 3, 16), ship_by=date(2026, 3, 10))
    booth = kits.create_kit(session, manager, name="Booth kit", lines=[("BANNER", 1), ("BRO-1", 100)])

    def ask(user, lines, needed_by, **details):
        return submission.submit(session, user, lines, purpose="client_meeting", needed_by=needed_by,
                                 today=date(2026, 1, 1) if needed_by.year == 2026 else needed_by, **details)

    r1 = kits.reserve_kit(session, manager, expo.id, booth.id, 2, today=date(2026, 1, 20))
    deliver(session, r1, manager, staff, shelf, datetime(2026, 2, 4, 9, 0))
    banner_line = next(line for line in r1.lines if line.item_id == banner.id)
    fulfilment.check_in(session, r1.id, shelf, {banner_line.id: {"returned": 1, "lost": 1}}, staff)

    r2 = ask(alice, [(polo, 10), (pen, 100)], date(2026, 2, 5), event_id=expo.id)
    deliver(session, r2, manager, staff, shelf, datetime(2026, 2, 6, 16, 30))
    r3 = ask(bob, [(brochure, 50)], date(2026, 3, 10), event_id=summit.id)
    deliver(session, r3, manager, staff, shelf, datetime(2026, 3, 9, 11, 0), picks={brochure: 40})
    r4 = ask(alice, [(pen, 20)], date(2026, 1, 15))
    deliver(session, r4, manager, staff, shelf, datetime(2026, 1, 1, 0, 0))
    r5 = ask(bob, [(pen, 30)], date(2026, 3, 25))
    r6 = ask(bob, [(polo, 5)], date(2026, 3, 12))
    review.approve(session, r6.id, manager)
    r7 = ask(alice, [(pen, 10)], date(2026, 2, 1))
    review.cancel(session, r7.id, alice)
    r8 = ask(alice, [(pen, 40)], date(2026, 4, 1))
    deliver(session, r8, manager, staff, shelf, datetime(2026, 4, 1, 0, 0))
    return dict(manager=manager, alice=alice, bob=bob, expo=expo, summit=summit, booth=booth,
                requests=[r1, r2, r3, r4, r5, r6, r7, r8])


def usage_numbers(usage):
    return (usage.requests, usage.issued, usage.returned, usage.used, usage.lost, usage.damaged, usage.still_out,
            usage.cost)


# Usage -----------------------------------------------------------------------------------------

def test_cost_per_event_with_its_kits_matches_the_paper_sums(session, history):
    report = usage_by_event(session, Q1)
    assert [entry.name for entry in report.rows] == ["Expo West", "Summit", "Not for an event"]
    expo, summit, loose = report.rows
    # Expo West: R1 kits 2 x (1 banner + 100 brochures) = 2 banners + 200 brochures; R2 10 polos + 100 pens.
    # issued 202 + 110 = 312; returned 1 banner; used 200 + 10 + 100 = 310; lost 1 banner.
    # cost: 200 x 1.50 + 1 lost x 150.00 = 450.00 (kits) + 10 x 12.00 + 100 x 0.40 = 160.00 -> 610.00
    assert usage_numbers(expo.usage) == (2, 312, 1, 310, 1, 0, 0, Decimal("610.00"))
    assert expo.kit_cost == Decimal("450.00")
    assert [(kit.name, count) for kit, count in expo.kits] == [("Booth kit", 2)]
    # Summit: R3 handed over 40 of 50 brochures: 40 x 1.50 = 60.00
    assert usage_numbers(summit.usage) == (1, 40, 0, 40, 0, 0, 0, Decimal("60.00"))
    assert summit.kit_cost == Decimal("0.00") and summit.kits == []
    # No event: R4 20 pens x 0.40 = 8.00 (R8 was handed over after the quarter, R5-R7 never)
    assert loose.event is None
    assert usage_numbers(loose.usage) == (1, 20, 0, 20, 0, 0, 0, Decimal("8.00"))
    # 610.00 + 60.00 + 8.00 = 678.00 from 4 requests, 312 + 40 + 20 = 372 units
    assert usage_numbers(report.total) == (4, 372, 1, 370, 1, 0, 0, Decimal("678.00"))


def test_usage_per_rep_and_per_item_add_up_to_the_same_total(session, history):
    by_rep = usage_by_rep(session, Q1)
    # Maria (kits, R1) 450.00; Alice R2 160.00 + R4 8.00 = 168.00, 110 + 20 = 130 units; Bob R3 60.00
    assert [(row.rep.name, row.usage.requests, row.usage.issued, row.usage.cost) for row in by_rep.rows] == [
        ("Maria Manager", 1, 202, Decimal("450.00")), ("Alice", 2, 130, Decimal("168.00")),
        ("Bob", 1, 40, Decimal("60.00"))]
    by_item = usage_by_item(session, Q1)
    # BRO-1 (200 + 40) x 1.50 = 360.00; BANNER 1 lost x 150.00 = 150.00 (1 returned: free);
    # POLO-M 10 x 12.00 = 120.00; PEN-1 (100 + 20) x 0.40 = 48.00
    assert [(row.item.sku, row.usage.requests, row.usage.issued, row.usage.returned, row.usage.lost, row.usage.cost)
            for row in by_item.rows] == [
        ("BRO-1", 2, 240, 0, 0, Decimal("360.00")), ("BANNER", 1, 2, 1, 1, Decimal("150.00")),
        ("POLO-M", 1, 10, 0, 0, Decimal("120.00")), ("PEN-1", 2, 120, 0, 0, Decimal("48.00"))]
    # 360 + 150 + 120 + 48 = 678.00, the same as per event
    assert by_rep.total.cost == by_item.total.cost == Decimal("678.00")
    assert by_rep.total.requests == by_item.total.requests == 4


def test_a_returnable_not_checked_in_is_still_out_and_not_costed(session, history, make_user, make_bin):
    manager, staff = history["manager"], make_user("staff")
    banner = session.query(Item).filter_by(sku="BANNER").one()
    # 2 banners on the shelf now (3 - 2 out + 1 back); Alice takes 1 and has not brought it back yet.
    request = submission.submit(session, history["alice"], [(banner, 1)], purpose="trade_show",
                                needed_by=date(2026, 3, 1), return_by=date(2026, 3, 5), today=date(2026, 2, 20))
    deliver(session, request, manager, staff, make_bin("A-01"), datetime(2026, 3, 2, 8, 0))
    row = next(row for row in usage_by_item(session, Q1).rows if row.item.sku == "BANNER")
    # issued 2 (R1) + 1 = 3; still out 1; cost unchanged: only R1's lost banner, 150.00
    assert (row.usage.issued, row.usage.returned, row.usage.lost, row.usage.still_out, row.usage.cost) == (
        3, 1, 1, 1, Decimal("150.00"))


def test_usage_over_a_quarter_is_weekly_and_every_week_is_there(session, history):
    size, buckets = usage_over_time(session, Q1)
    assert size == "week"
    # 1 Jan 2026 is a Thursday: Thu 1 - Sun 4 Jan, then 13 weeks from Mon 5 Jan; the last is Mon 30 - Tue 31 Mar.
    assert len(buckets) == 14
    assert (buckets[0].first, buckets[0].last) == (date(2026, 1, 1), date(2026, 1, 4))
    assert (buckets[-1].first, buckets[-1].last) == (date(2026, 3, 30), date(2026, 3, 31))
    costs = {bucket.first: bucket.usage.cost for bucket in buckets if bucket.usage.cost}
    # R4 (1 Jan) 8.00; R1 (Wed 4 Feb) 450.00 + R2 (Fri 6 Feb) 160.00 in the week of Mon 2 Feb; R3 (Mon 9 Mar) 60.00
    assert costs == {date(2026, 1, 1): Decimal("8.00"), date(2026, 2, 2): Decimal("610.00"),
                     date(2026, 3, 9): Decimal("60.00")}
    assert buckets[5].usage.requests == 2   # the week of 2 Feb: R1 and R2
    assert sum((b.usage.cost for b in buckets), Decimal("0")) == Decimal("678.00")


def test_over_time_buckets_are_days_for_a_month_and_months_for_a_year(session, history):
    size, buckets = usage_over_time(session, periods.Period(date(2026, 2, 1), date(2026, 2, 28)))
    assert size == "day" and len(buckets) == 28
    assert buckets[3].usage.cost == Decimal("450.00") and buckets[5].usage.cost == Decimal("160.00")
    size, buckets = usage_over_time(session, periods.preset("this-year", date(2026, 6, 1)))
    assert size == "month" and len(buckets) == 12
    # January 8.00; February 610.00; March 60.00; April: R8's 40 pens x 0.40 = 16.00
    assert [b.usage.cost for b in buckets[:5]] == [Decimal("8.00"), Decimal("610.00"), Decimal("60.00"),
                                                   Decimal("16.00"), Decimal("0.00")]


# Service level -------------------------------------------------------------------------------------

def test_service_level_is_the_share_handed_over_in_full_by_the_needed_by_day(session, history):
    level = service_level(session, Q1, AS_OF)
    # Due in Q1: R1 met, R2 late, R3 short, R4 met, R6 overdue and not handed over -> 2 of 5 = 40 %.
    # R5 (needed 25 Mar) is not due on 20 Mar; R7 is cancelled; R8 is needed in April.
    assert (level.due, level.met, level.late, level.short, level.not_handed_over, level.pending) == (5, 2, 1, 1, 1, 1)
    assert level.share == pytest.approx(0.4)
    assert level.percent == 40
    r = history["requests"]
    assert [(miss.request_id, miss.reasons) for miss in level.misses] == [
        (r[1].id, ["late: handed over 6 Feb 2026, needed by 5 Feb 2026"]),
        (r[2].id, ["short: 40 of 50 units handed over"]),
        (r[5].id, ["not handed over (needed by 12 Mar 2026)"]),
    ]
    # Once 25 March has passed, R5 is a miss too: 2 of 6.
    later = service_level(session, Q1, date(2026, 4, 2))
    assert (later.due, later.met, later.pending, later.percent) == (6, 2, 0, 33)   # 33.3 % rounded down


def test_service_level_with_nothing_due_has_no_share(session, history):
    level = service_level(session, periods.Period(date(2025, 1, 1), date(2025, 1, 31)), AS_OF)
    assert (level.due, level.share, level.misses) == (0, None, [])


# Stock value, slow movers, expiring print --------------------------------------------------------

def test_stock_value_on_hand_per_category(session, history):
    value = stock_value(session)
    by_category = {row.category: (row.items, row.units, row.value) for row in value.rows}
    # print:   BRO-1 500 - 200 - 40 = 260 x 1.50 = 390.00
    # apparel: POLO-M 50 - 10 = 40 x 12.00 = 480.00 (R6's 5 are held, still on hand)
    # display: BANNER 3 - 2 + 1 back = 2 x 150.00 = 300.00
    # promo:   PEN-1 1000 - 100 - 20 - 40 = 840 x 0.40 = 336.00
    assert by_category == {"print": (1, 260, Decimal("390.00")), "apparel": (1, 40, Decimal("480.00")),
                           "display": (1, 2, Decimal("300.00")), "promo": (1, 840, Decimal("336.00")),
                           "kit": (0, 0, Decimal("0.00"))}
    # 390 + 480 + 300 + 336 = 1506.00; 260 + 40 + 2 + 840 = 1142 units
    assert (value.total.items, value.total.units, value.total.value) == (4, 1142, Decimal("1506.00"))


def backdate_movements(session, item, moment, kinds=None):
    query = update(Movement).where(Movement.item_id == item.id)
    if kinds:
        query = query.where(Movement.kind.in_(kinds))
    session.execute(query.values(created_at=moment))
    session.commit()


def test_slow_movers_had_nothing_in_or_out_for_n_days(session, make_item, make_bin, stock_user):
    now = datetime.combine(date.today(), datetime.min.time())
    shelf, other = make_bin("A-01"), make_bin("B-02")
    old = make_item("OLD-1", on_hand=10, unit_cost="2.00")
    backdate_movements(session, old, now - timedelta(days=300))
    moved = make_item("MOVED-1", on_hand=5, unit_cost="3.00")
    backdate_movements(session, moved, now - timedelta(days=200))
    stock.move(session, moved, shelf, other, 2, stock_user(), reason="tidy up")   # a move is not use
    stock.count_one(session, moved, other, 2, stock_user())                        # nor is a count
    fresh = make_item("FRESH-1", on_hand=7, unit_cost="1.00")
    backdate_movements(session, fresh, now - timedelta(days=200))
    stock.receive(session, fresh, shelf, 3, stock_user())                          # received today
    only_adjusted = make_item("ADJ-OLD", unit_cost="1.00")
    stock.adjust(session, only_adjusted, shelf, 4, stock_user(), reason="found")
    session.execute(update(Item).where(Item.id == only_adjusted.id).values(created_at=now - timedelta(days=150)))
    new = make_item("ADJ-NEW", unit_cost="1.00")
    stock.adjust(session, new, shelf, 4, stock_user(), reason="found")              # in the catalog since today
    make_item("EMPTY-1", unit_cost="9.00")                                           # nothing on hand
    session.commit()

    page, totals = slow_movers(session, 90, date.today())
    # OLD-1 (300 days), MOVED-1 (200 days; the move and count do not count), ADJ-OLD (never, added 150 days ago)
    assert [(row.item.sku, row.on_hand, row.value) for row in page.rows] == [
        ("OLD-1", 10, Decimal("20.00")), ("MOVED-1", 5, Decimal("15.00")), ("ADJ-OLD", 4, Decimal("4.00"))]
    assert page.rows[2].last_moved is None
    # 10 x 2.00 + 5 x 3.00 + 4 x 1.00 = 39.00
    assert (totals.items, totals.units, totals.value) == (3, 19, Decimal("39.00"))
    page, totals = slow_movers(session, 250, date.today())
    assert [row.item.sku for row in page.rows] == ["OLD-1"]
    second, _ = slow_movers(session, 90, date.today(), page=2, per_page=2)
    assert [row.item.sku for row in second.rows] == ["ADJ-OLD"] and second.total == 3


def test_expiring_print_lists_past_and_near_dates_with_stock(session, make_item, make_bin, make_user, stock_user):
    today = date.today()
    old = make_item("FLY-OLD", category="print", on_hand=60, unit_cost="0.50", do_not_use_after=today - timedelta(10))
    stock.receive(session, old, make_bin("B-02"), 40, stock_user())
    soon = make_item("FLY-SOON", category="print", on_hand=40, unit_cost="1.00",
                     do_not_use_after=today + timedelta(20))
    make_item("FLY-LATER", category="print", on_hand=10, unit_cost="1.00", do_not_use_after=today + timedelta(60))
    make_item("FLY-GONE", category="print", unit_cost="1.00", do_not_use_after=today - timedelta(5))
    make_item("PEN-1", on_hand=10)
    submission.submit(session, make_user("rep"), [(soon, 15)], purpose="client_meeting",
                      needed_by=today + timedelta(3))

    page, expired, soon_totals = expiring(session, 30, today)
    assert [(row.item.sku, row.days_left(today), row.on_hand, row.held, row.bins, row.value) for row in page.rows] == [
        ("FLY-OLD", -10, 100, 0, [("A-01", 60), ("B-02", 40)], Decimal("50.00")),   # 100 x 0.50
        ("FLY-SOON", 20, 40, 15, [("A-01", 40)], Decimal("40.00")),                 # 40 x 1.00
    ]
    assert (expired.items, expired.units, expired.value) == (1, 100, Decimal("50.00"))
    assert (soon_totals.items, soon_totals.units, soon_totals.value) == (1, 40, Decimal("40.00"))
    page, _expired, soon_totals = expiring(session, 90, today)
    assert [row.item.sku for row in page.rows] == ["FLY-OLD", "FLY-SOON", "FLY-LATER"]
    assert soon_totals.value == Decimal("50.00")   # 40.00 + 10 x 1.00


# Periods, charts, CSV cells -----------------------------------------------------------------------

@pytest.mark.parametrize("name, today, first, last", [
    ("this-quarter", date(2026, 11, 27), date(2026, 10, 1), date(2026, 12, 31)),
    ("this-quarter", date(2026, 2, 14), date(2026, 1, 1), date(2026, 3, 31)),
    ("last-quarter", date(2026, 2, 14), date(2025, 10, 1), date(2025, 12, 31)),
    ("last-quarter", date(2026, 8, 1), date(2026, 4, 1), date(2026, 6, 30)),
    ("this-year", date(2026, 8, 1), date(2026, 1, 1), date(2026, 12, 31)),
    ("last-30-days", date(2026, 3, 10), date(2026, 2, 9), date(2026, 3, 10)),
])
def test_period_presets(name, today, first, last):
    period = periods.from_args({"period": name}, today)
    assert (period.first, period.last, period.preset) == (first, last, name)


@pytest.mark.parametrize("args, message", [
    ({"from": "2026-13-01", "to": "2026-03-01"}, "is not a date"),
    ({"from": "2026-03-01", "to": "2026-01-01"}, "ends"),
    ({"from": "2026-03-01"}, "both"),
    ({"from": "1990-01-01", "to": "2026-01-01"}, "at most five years"),
    ({"from": "9999-12-30", "to": "9999-12-31"}, "out of range"),
    ({"period": "next-decade"}, "Unknown period"),
])
def test_bad_periods_are_refused_with_a_message(args, message):
    with pytest.raises(InvalidInput, match=message):
        periods.from_args(args, date(2026, 5, 1))


def test_bars_scale_to_the_largest_and_show_small_values():
    bars = charts.bars([("A", Decimal("200"), None, False), ("B", Decimal("50"), None, False),
                        ("C", Decimal("0.01"), None, False), ("D", Decimal("0"), None, True)])
    assert [bar.length for bar in bars] == [100.0, 25.0, 0.6, 0.0]
    chart = charts.columns([(str(i), f"day {i}", i) for i in range(14)], max_labels=7)
    assert chart.width == 140 and chart.columns[-1].height == 100.0
    assert [c.label for c in chart.columns if c.label] == ["0", "2", "4", "6", "8", "10", "12"]


def test_csv_cells_never_start_a_formula():
    assert [cell(v) for v in ["=1+1", "+1", "-1", "@SUM(A1)", "Alice", 5, Decimal("1.5"), None]] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "Alice", 5, "1.50", ""]


# Pages -------------------------------------------------------------------------------------------

def read_csv(response):
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_the_overview_answers_what_each_show_cost_this_quarter(client, login, history):
    login("manager")
    page = client.get(f"/reports?{Q1_ARGS}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Cost per event" in html and "<svg" in html
    for text in ("Expo West", "$610.00", "Summit", "$60.00", "Not for an event", "$678.00", "2 × Booth kit",
                 "$1,506.00"):
        assert text in html, text
    # Seen today (after 25 March) R5 is overdue too: 2 of 6 met
    assert "33 % in full and on time (2 of 6)" in html
    assert 'href="/reports/events.csv?from=2026-01-01&amp;to=2026-03-31"' in html


def test_every_report_page_and_csv_opens_for_a_manager(client, login, history):
    login("admin")
    for url in ("/reports", "/reports/events", "/reports/reps", "/reports/items", "/reports/stock-value",
                "/reports/slow-movers", "/reports/expiring", "/reports/service-level", "/reports/reports.css",
                "/reports?period=last-quarter", "/reports/items?period=this-year&page=2"):
        assert client.get(url).status_code == 200, url
    for url in ("/reports/events.csv", "/reports/reps.csv", "/reports/items.csv", "/reports/stock-value.csv",
                "/reports/slow-movers.csv", "/reports/expiring.csv", "/reports/service-level.csv",
                "/reports/over-time.csv"):
        assert len(read_csv(client.get(url))) >= 1, url


def test_the_navigation_offers_reports_to_managers_only(client, login, app):
    login("manager")
    assert 'href="/reports"' in client.get("/events").get_data(as_text=True)
    client.post("/logout")
    login("rep")
    assert 'href="/reports"' not in client.get("/events").get_data(as_text=True)


@pytest.mark.parametrize("role", ["rep", "staff"])
def test_reps_and_staff_may_not_see_reports(client, login, role):
    login(role)
    for url in ("/reports", "/reports/events.csv", "/reports/service-level", "/reports/slow-movers"):
        assert client.get(url).status_code == 403, url


def test_csv_downloads_have_the_page_rows(client, login, session, history):
    login("manager")
    history["expo"].budget = Decimal("500.00")
    session.commit()
    rows = read_csv(client.get(f"/reports/events.csv?{Q1_ARGS}"))
    assert rows[0][:5] == ["event", "starts on", "ends on", "place", "kits"]
    assert rows[0][-5:] == ["cost", "of which kits", "budget", "expected cost", "over budget by"]
    assert rows[1][:5] == ["Expo West", "2026-02-10", "2026-02-12", "", "2 x Booth kit"]
    # Its budget against what it is expected to cost in all: 300.00 brochures + 150.00 the lost banner
    # + 120.00 polos + 40.00 pens = 610.00, over a 500.00 budget by 110.00.
    assert rows[1][5:] == ["2", "312", "1", "310", "1", "0", "0", "610.00", "450.00", "500.00", "610.00", "110.00"]
    assert rows[2][0] == "Summit" and rows[2][-3:] == ["", "60.00", ""]  # no budget; 40 brochures went out
    assert rows[-1][0] == "Total" and rows[-1][-5:] == ["678.00", "450.00", "", "", ""]
    page = client.get(f"/reports/events?{Q1_ARGS}").get_data(as_text=True)
    assert "$610.00 expected: over by $110.00" in page
    items = read_csv(client.get(f"/reports/items.csv?{Q1_ARGS}"))
    assert [row[0] for row in items[1:]] == ["BRO-1", "BANNER", "POLO-M", "PEN-1", "Total"]
    level = read_csv(client.get(f"/reports/service-level.csv?{Q1_ARGS}"))
    r = history["requests"]
    # By needed-by day; seen today (after 25 March) R5 is overdue too.
    assert [(row[0], row[1], row[8], row[9]) for row in level[1:]] == [
        (r[3].number, "2026-01-15", "met", ""), (r[0].number, "2026-02-05", "met", ""),
        (r[1].number, "2026-02-05", "missed", "late: handed over 6 Feb 2026, needed by 5 Feb 2026"),
        (r[2].number, "2026-03-10", "missed", "short: 40 of 50 units handed over"),
        (r[5].number, "2026-03-12", "missed", "not handed over (needed by 12 Mar 2026)"),
        (r[4].number, "2026-03-25", "missed", "not handed over (needed by 25 Mar 2026)")]
    value = read_csv(client.get("/reports/stock-value.csv"))
    assert value[-1] == ["Total", "4", "1142", "1506.00"]


def test_csv_neutralises_names_that_look_like_formulas(client, login, session, make_user, make_item, make_bin):
    manager = login("manager")
    staff = make_user("staff")
    sneaky = make_user("rep", name='=HYPERLINK("http://evil.example","click")')
    pens = make_item("PEN-1", on_hand=10, unit_cost="1.00")
    request = submission.submit(session, sneaky, [(pens, 2)], purpose="client_meeting", needed_by=date.today())
    deliver(session, request, manager, staff, make_bin("A-01"), datetime.combine(date.today(), datetime.min.time()))
    rows = read_csv(client.get("/reports/reps.csv?period=last-30-days"))
    assert rows[1][0] == '\'=HYPERLINK("http://evil.example","click")'
    html = client.get("/reports/reps?period=last-30-days").get_data(as_text=True)
    assert "=HYPERLINK(&#34;http://evil.example&#34;" in html


def test_names_in_charts_are_escaped(client, login, session, make_user, make_item, make_bin):
    manager = login("manager")
    event = events.create_event(session, manager, name="<b>Launch</b>", starts_on=date.today() + timedelta(5),
                                ends_on=date.today() + timedelta(5), ship_by=date.today() + timedelta(1))
    pens = make_item("PEN-1", on_hand=10, unit_cost="1.00")
    request = submission.submit(session, make_user("rep"), [(pens, 2)], purpose="trade_show",
                                needed_by=date.today() + timedelta(1), event_id=event.id)
    deliver(session, request, manager, make_user("staff"), make_bin("A-01"),
            datetime.combine(date.today(), datetime.min.time()))
    html = client.get("/reports?period=last-30-days").get_data(as_text=True)
    assert "&lt;b&gt;Launch&lt;/b&gt;" in html and "<b>Launch</b>" not in html


@pytest.mark.parametrize("url, message", [
    ("/reports?from=2026-02-30&to=2026-03-01", "is not a date"),
    ("/reports/events?from=2026-03-01&to=2026-01-01", "ends (1 Jan 2026) before it starts (1 Mar 2026)"),
    ("/reports/service-level?period=whenever", "Unknown period"),
    ("/reports/slow-movers?days=soon", "Days without movement must be a whole number"),
    ("/reports/expiring?days=-3", "Days ahead must be a whole number"),
    ("/reports/expiring?days=%C2%B2", "Days ahead must be a whole number"),
    ("/reports/slow-movers?days=" + "9" * 5000, "Days without movement must be a whole number"),
    ("/reports/slow-movers?days=0", "from 1 to 3650"),
])
def test_bad_dates_get_a_clear_message_not_an_error(client, login, url, message):
    login("manager")
    response = client.get(url)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and 'role="alert"' in html
    assert "Reports" in html   # the page, with its menu, to try again


def test_a_bad_period_in_a_csv_link_answers_in_plain_text(client, login):
    login("manager")
    response = client.get("/reports/events.csv?from=yesterday&to=today")
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert "'yesterday' is not a date" in response.get_data(as_text=True)


def test_report_pages_send_as_many_statements_for_a_long_history_as_for_a_short_one(
        client, login, session, make_user, make_item, make_bin):
    """Every report is a fixed handful of aggregate queries: a query per row (N+1) would grow here."""
    from inventory.querycount import count_queries

    manager, staff, shelf = login("manager"), make_user("staff"), make_bin("A-01")
    today = date.today()
    now = datetime.combine(today, datetime.min.time())

    def add_a_show(n):
        """A show with its own rep, a handed-over request of two items (one returnable, checked
        in), a print piece expiring soon and an item nobody has touched for 200 days."""
        show = events.create_event(session, manager, name=f"Show {n}", starts_on=today, ends_on=today, ship_by=today)
        pens = make_item(f"PEN-{n}", on_hand=50, unit_cost="1.00")
        flag = make_item(f"FLAG-{n}", on_hand=2, unit_cost="40.00", returnable=True)
        request = submission.submit(session, make_user("rep"), [(pens, 10), (flag, 1)], purpose="trade_show",
                                    needed_by=today, return_by=today, event_id=show.id)
        deliver(session, request, manager, staff, shelf, now)
        line = next(line for line in request.lines if line.item_id == flag.id)
        fulfilment.check_in(session, request.id, shelf, {line.id: {"returned": 1}}, staff)
        make_item(f"FLY-{n}", category="print", on_hand=30, unit_cost="0.50", do_not_use_after=today + timedelta(9))
        backdate_movements(session, make_item(f"OLD-{n}", on_hand=3, unit_cost="2.00"), now - timedelta(days=200))

    urls = [f"{path}?period=last-30-days" for path in (
        "/reports", "/reports/events", "/reports/reps", "/reports/items", "/reports/service-level",
        "/reports/events.csv", "/reports/items.csv", "/reports/over-time.csv")] + [
        "/reports/stock-value", "/reports/slow-movers", "/reports/expiring", "/reports/slow-movers.csv",
        "/reports/expiring.csv"]

    def statements():
        counts = {}
        for url in urls:
            client.get(url)   # once to warm up, then counted
            with count_queries(db.engine) as counted:
                assert client.get(url).status_code == 200, url
            counts[url] = counted.count
        return counts

    add_a_show(1)
    one_show = statements()
    for n in range(2, 6):
        add_a_show(n)
    assert statements() == one_show
    assert max(one_show.values()) <= 25
