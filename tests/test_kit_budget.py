"""Reserving kits beyond an event's budget warns the manager first (budgets/kit_budget.py): the
rule with amounts worked out on paper, the refusal of events.kits.reserve_kit (nothing written),
the reserve-kit page (409 with everything typed kept, then reserved with "Reserve anyway") and
the API ("over_budget_ok": true). Events without a budget never warn; exactly at the budget is
not over. Amounts are USD in en_US (the tests' CURRENCY and LOCALE)."""
import re
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from inventory.auth.services import create_token
from inventory.budgets.event_spend import event_cost
from inventory.budgets.kit_budget import OverEventBudget, kit_budget, reservation_cost
from inventory.events import kits, services
from inventory.events.kits import KitShort
from inventory.extensions import db
from inventory.requests import submission
from inventory.requests.models import Request, RequestLine

TODAY = date.today()
D = Decimal

# On paper. One Booth kit: 4 pens at $12.50 (consumable: $50.00) and 1 banner at $300.00, a
# returnable losing 10 % (expected loss: $30.00): $80.00 a kit; 3 kits: $240.00.
# The event already holds 40 pens for a rep ($500.00): after 3 kits it is expected at $740.00.
PER_KIT = D("12.50") * 4 + D("300.00") * 10 / 100
THREE_KITS = D("240.00")
HELD_BEFORE = D("500.00")
AFTER_THREE = D("740.00")


def days(n):
    return TODAY + timedelta(days=n)


def count_requests(session):
    return session.scalar(select(func.count(Request.id)))


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="Morgan Manager")


@pytest.fixture
def stockroom(make_item):
    return {
        "pen": make_item("PEN-1", name="Logo pen", on_hand=100, unit_cost=D("12.50")),
        "banner": make_item("BANNER-1", name="Roll-up banner", category="display", on_hand=5, returnable=True,
                            unit_cost=D("300.00"), loss_rate=10),
    }


@pytest.fixture
def booth_kit(session, manager, stockroom):
    return kits.create_kit(session, manager, name="Booth kit", lines=[("PEN-1", 4), ("BANNER-1", 1)])


@pytest.fixture
def make_event(session, manager, make_user, stockroom):
    """An event (budget as typed, None: no budget) whose requests already hold 40 pens ($500.00)."""
    rep = make_user("rep", email="rep-for-events@example.com")

    def make(budget=None, name="Expo 2027"):
        event = services.create_event(session, manager, name=name, starts_on=days(14), ends_on=days(16),
                                      ship_by=days(10), return_by=days(18), budget=budget)
        submission.submit(session, rep, [(stockroom["pen"], 40)], purpose="trade_show", needed_by=days(10),
                          event_id=event.id)
        return event

    return make


# The rule ----------------------------------------------------------------------------------

def test_what_kits_cost_and_the_events_cost_after_them_on_paper(session, booth_kit, make_event):
    assert PER_KIT == D("80.00")
    assert reservation_cost(booth_kit, 1) == PER_KIT
    assert reservation_cost(booth_kit, 3) == THREE_KITS
    event = make_event(budget="700")
    check = kit_budget(session, event, booth_kit, 3)
    assert (check.cost, check.before.expected, check.after.expected) == (THREE_KITS, HELD_BEFORE, AFTER_THREE)
    assert check.over and check.over_by == D("40.00") and check.after.budget == D("700.00")
    assert check.words() == ("Reserving 3 × Booth kit ($240.00) takes Expo 2027 to $740.00, $40.00 over its "
                             "budget of $700.00.")
    two = kit_budget(session, event, booth_kit, 2)  # $660.00: $40.00 left
    assert (two.cost, two.after.expected, two.over, two.over_by, two.after.left) == (
        D("160.00"), D("660.00"), False, D("0"), D("40.00"))


def test_a_reservation_is_rounded_to_cents_once(session, manager, make_item):
    """A returnable at 15 ¢ losing 5 %: 0.75 ¢ a unit; 3 kits of one are 2.25 ¢, shown as $0.02
    (rounding each kit first would say $0.03)."""
    make_item("CLIP-1", category="display", on_hand=10, returnable=True, unit_cost=D("0.15"), loss_rate=5)
    kit = kits.create_kit(session, manager, name="Clips", lines=[("CLIP-1", 1)])
    assert reservation_cost(kit, 1) == D("0.01") and reservation_cost(kit, 3) == D("0.02")


def test_exactly_at_the_budget_is_not_over(session, manager, booth_kit, make_event):
    event = make_event(budget="740")
    check = kit_budget(session, event, booth_kit, 3)
    assert check.after.expected == check.after.budget == AFTER_THREE and not check.over
    made = kits.reserve_kit(session, manager, event.id, booth_kit.id, 3)
    assert made.kit_count == 3
    cost = event_cost(session, event)
    assert (cost.expected, cost.over, cost.left) == (AFTER_THREE, False, D("0.00"))


def test_an_event_without_a_budget_never_warns(session, manager, booth_kit, make_event):
    event = make_event(budget=None)
    check = kit_budget(session, event, booth_kit, 5)
    assert check.cost == D("400.00") and not check.has_budget and not check.over and check.over_by == 0
    made = kits.reserve_kit(session, manager, event.id, booth_kit.id, 5)
    assert made.kit_count == 5 and event_cost(session, event).budget is None


def test_kits_beyond_the_budget_are_refused_unless_told_to_go_ahead(session, manager, booth_kit, make_event):
    event = make_event(budget="700")
    lines_before = session.scalar(select(func.count(RequestLine.id)))
    with pytest.raises(OverEventBudget) as refused:
        kits.reserve_kit(session, manager, event.id, booth_kit.id, 3)
    error = refused.value
    assert error.status == 409
    assert error.message == ('Reserving 3 × Booth kit ($240.00) takes Expo 2027 to $740.00, $40.00 over its budget '
                             'of $700.00. Tick "Reserve anyway" to go ahead.')
    assert (error.cost, error.budget, error.expected_after, error.over_by) == (
        THREE_KITS, D("700.00"), AFTER_THREE, D("40.00"))
    # Nothing was written: not the request, not a line, not a backorder (allow_partial costs the same).
    with pytest.raises(OverEventBudget):
        kits.reserve_kit(session, manager, event.id, booth_kit.id, 3, allow_partial=True)
    assert count_requests(session) == 1 and session.scalar(select(func.count(RequestLine.id))) == lines_before
    assert event_cost(session, event).expected == HELD_BEFORE
    made = kits.reserve_kit(session, manager, event.id, booth_kit.id, 3, over_budget_ok=True)
    assert made.kit_count == 3 and count_requests(session) == 2
    cost = event_cost(session, event)
    assert (cost.expected, cost.over, cost.over_by) == (AFTER_THREE, True, D("40.00"))  # as the rule said


def test_budget_is_checked_before_stock_and_a_kit_worth_nothing_never_warns(session, manager, booth_kit,
                                                                            make_event, make_item):
    event = make_event(budget="100")  # $500.00 held already: over before any kit
    with pytest.raises(OverEventBudget):  # 6 kits need 6 banners (5 on hand): the budget speaks first
        kits.reserve_kit(session, manager, event.id, booth_kit.id, 6)
    with pytest.raises(KitShort):
        kits.reserve_kit(session, manager, event.id, booth_kit.id, 6, over_budget_ok=True)
    make_item("SAMPLE-1", on_hand=10)  # no unit cost
    free_kit = kits.create_kit(session, manager, name="Samples", lines=[("SAMPLE-1", 2)])
    assert kits.reserve_kit(session, manager, event.id, free_kit.id, 2).kit_count == 2


def test_kits_reserved_at_the_same_instant_are_counted_one_after_the_other(app, manager, make_user, booth_kit,
                                                                           make_event):
    """Four managers reserve 1 kit each at once for an event with room for two ($500.00 held, a
    $660.00 budget, $80.00 a kit): two are reserved, two refused, and the event is exactly at its
    budget (the event is locked before its cost is read, on PostgreSQL; SQLite serializes writers)."""
    event = make_event(budget="660")
    event_id, kit_id = event.id, booth_kit.id
    from inventory.auth.models import User

    managers = [manager.id] + [make_user("manager").id for _ in range(3)]
    db.session.remove()
    barrier = threading.Barrier(len(managers))
    outcomes = []

    def reserve(user_id):
        with app.app_context():
            user = db.session.get(User, user_id)
            barrier.wait()
            try:
                kits.reserve_kit(db.session, user, event_id, kit_id, 1)
                outcomes.append("reserved")
            except OverEventBudget:
                outcomes.append("over")
            finally:
                db.session.remove()

    workers = [threading.Thread(target=reserve, args=(user_id,)) for user_id in managers]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert sorted(outcomes) == ["over", "over", "reserved", "reserved"]
    cost = event_cost(db.session, db.session.get(type(event), event_id))
    assert (cost.expected, cost.over) == (D("660.00"), False)


# The page ----------------------------------------------------------------------------------

def _form(kit, **fields):
    return {"kit_id": kit.id, "shown_kit": kit.id, "count": "3", "handoff": "ship",
            "ship_to": "Hall B, Booth 214", "action": "reserve", **fields}


def test_the_page_shows_the_budget_line_and_warns_before_reserve_is_pressed(client, login, booth_kit, make_event):
    event = make_event(budget="700")
    login("manager")
    html = client.get(f"/events/{event.id}/kits?kit={booth_kit.id}").get_data(as_text=True)
    assert "Expected cost <strong>$500.00</strong> of its $700.00 budget:" in html and "$200.00 left" in html
    assert "1 × Booth kit: $80.00" in html and "$580.00 of its $700.00 budget ($120.00 left)" in html
    assert 'name="over_budget_ok"' not in html  # one kit fits
    shown = client.post(f"/events/{event.id}/kits", data=_form(booth_kit, action="show"))
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'name="over_budget_ok"' in html
    assert "Reserving 3 × Booth kit ($240.00) takes Expo 2027 to $740.00, $40.00 over its budget of $700.00." in html


def test_reserve_without_the_tick_reserves_nothing_and_keeps_what_was_typed(client, login, session, booth_kit,
                                                                           make_event):
    event = make_event(budget="700")
    login("manager")
    refused = client.post(f"/events/{event.id}/kits", data=_form(booth_kit, partial="1"))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and count_requests(session) == 1
    # The warning is beside the box, which it describes; nothing is said at the top of the page.
    warning = re.search(r'<div class="warn-box budget-warning" id="budget-warning" role="alert">(.*?)</div>', html,
                        re.S)
    assert warning, html
    assert "Nothing was reserved." in warning.group(1) and "$40.00 over its budget of $700.00" in warning.group(1)
    box = re.search(r'<input[^>]*name="over_budget_ok"[^>]*>', warning.group(1)).group(0)
    assert 'aria-describedby="budget-warning-words"' in box and 'value="1"' in box and "checked" not in box
    assert "Reserve anyway (over the event&#39;s budget)" in warning.group(1)
    assert 'class="flash flash-error"' not in html
    # Every typed value is kept: the kit, the count, the hand-off, ship-to, and the partial choice.
    assert re.search(r'<option selected value="%d">Booth kit</option>' % booth_kit.id, html)
    assert re.search(r'<input[^>]*name="count"[^>]*value="3"', html)
    assert re.search(r'<input checked[^>]*value="ship"', html)
    assert re.search(r'name="ship_to"[^>]*>\s*Hall B, Booth 214</textarea>', html)
    assert re.search(r'<button type="submit" name="partial" value="1">Reserve what is there', html)
    assert html.index('id="budget-warning"') < html.index('value="reserve"')  # next to the Reserve button


def test_reserve_with_the_tick_reserves_and_says_how_far_over(client, login, session, booth_kit, make_event):
    event = make_event(budget="700")
    login("manager")
    done = client.post(f"/events/{event.id}/kits", data=_form(booth_kit, over_budget_ok="1"))
    assert done.status_code == 302 and count_requests(session) == 2
    made = session.scalar(select(Request).where(Request.kit_id == booth_kit.id))
    assert (made.kit_count, made.handoff, made.ship_to) == (3, "ship", "Hall B, Booth 214")
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Reserved 3 × Booth kit for Expo 2027" in html and "Expo 2027 is now over its budget by $40.00." in html


def test_the_tick_is_kept_when_the_kits_are_short(client, login, session, booth_kit, make_event):
    event = make_event(budget="700")
    login("manager")
    short = client.post(f"/events/{event.id}/kits", data=_form(booth_kit, count="6", over_budget_ok="1"))
    html = short.get_data(as_text=True)
    assert short.status_code == 409 and "BANNER-1" in html and count_requests(session) == 1
    assert re.search(r'<input[^>]*\bchecked[^>]*name="over_budget_ok"', html)


def test_the_page_for_an_event_without_a_budget_is_unchanged(client, login, session, booth_kit, make_event):
    event = make_event(budget=None)
    login("manager")
    html = client.get(f"/events/{event.id}/kits?kit={booth_kit.id}").get_data(as_text=True)
    assert "Expected cost" not in html and "over_budget_ok" not in html and "× Booth kit:" not in html
    done = client.post(f"/events/{event.id}/kits", data=_form(booth_kit, count="5"), follow_redirects=True)
    assert "Reserved 5 × Booth kit" in done.get_data(as_text=True) and "over its budget" not in done.get_data(
        as_text=True)
    assert count_requests(session) == 2


# The API -----------------------------------------------------------------------------------

def test_the_api_asks_for_over_budget_ok(client, session, manager, booth_kit, make_event):
    event = make_event(budget="700")
    headers = {"Authorization": f"Bearer {create_token(session, manager)[1]}"}
    url = f"/api/v1/events/{event.id}/kits"
    refused = client.post(url, json={"kit_id": booth_kit.id, "count": 3}, headers=headers)
    assert refused.status_code == 409 and count_requests(session) == 1
    assert refused.get_json() == {
        "error": 'Reserving 3 × Booth kit ($240.00) takes Expo 2027 to $740.00, $40.00 over its budget of $700.00. '
                 'Send "over_budget_ok": true to go ahead.',
        "cost": "240.00", "budget": "700.00", "expected_after": "740.00", "over_by": "40.00", "currency": "USD"}
    bad = client.post(url, json={"kit_id": booth_kit.id, "count": 3, "over_budget_ok": "yes"}, headers=headers)
    assert bad.status_code == 400 and "over_budget_ok" in bad.get_json()["error"]
    fits = client.post(url, json={"kit_id": booth_kit.id, "count": 2}, headers=headers)  # $660.00
    assert fits.status_code == 201
    made = client.post(url, json={"kit_id": booth_kit.id, "count": 1, "over_budget_ok": True}, headers=headers)
    assert made.status_code == 201 and made.get_json()["kit_count"] == 1 and count_requests(session) == 3
