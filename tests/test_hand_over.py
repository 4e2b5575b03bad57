"""Hand-over that records it: who collected it, or the carrier and tracking number; and the
manager's undo on the day, booked in the ledger, with everything the hand-over changed put back."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from inventory.errors import Forbidden, InvalidInput
from inventory.requests import handover
from inventory.requests import services as requests
from inventory.requests.models import Request, RequestStep
from inventory.reports import periods
from inventory.reports import services as reports
from inventory.stock import services as stock
from inventory.stock.models import Movement

TODAY = date.today()


@pytest.fixture
def people(make_user):
    return {"rep": make_user("rep", email="rep@example.com", name="Dana Rep"),
            "manager": make_user("manager", email="boss@example.com", name="Mia Manager"),
            "staff": make_user("staff", email="stock@example.com", name="Sam Staff")}


def ready(session, people, lines, *, handoff="pickup", return_by=None, bin=None):
    """A request taken through approval and picking by the real rules: ready to hand over."""
    details = {"return_by": return_by} if return_by else {}
    request = requests.submit(session, people["rep"], lines, purpose="client_meeting",
                              needed_by=TODAY + timedelta(days=3), handoff=handoff,
                              ship_to="Acme Corp, 1 Main St" if handoff == "ship" else "", **details)
    requests.approve(session, request.id, people["manager"])
    requests.pick(session, request.id, bin, {line.id: line.reserved for line in request.lines}, people["staff"])
    return request


def on_hand(session, item):
    return stock.availability(session, [item.id])[item.id]


# --- the rules ------------------------------------------------------------------------------

def test_a_pick_up_records_who_collected_it(session, people, make_item, make_bin):
    pens = make_item("PEN-1", on_hand=10)
    request = ready(session, people, [(pens, 4)], bin=make_bin("A-01"))
    handover.hand_over(session, request.id, people["staff"], collected_by="  Lee Colleague ", require=True)
    session.expire_all()
    request = session.get(Request, request.id)
    assert (request.status, request.handed_over_to, request.carrier, request.tracking) == (
        "handed_over", "Lee Colleague", "", "")
    assert request.handed_over_at is not None
    assert request.steps[-1].note == "Collected by Lee Colleague"


def test_without_a_name_the_rule_takes_the_requester_but_the_page_rule_refuses(session, people, make_item, make_bin):
    pens = make_item("PEN-1", on_hand=10)
    request = ready(session, people, [(pens, 4)], bin=make_bin("A-01"))
    with pytest.raises(InvalidInput) as refused:
        handover.hand_over(session, request.id, people["staff"], collected_by="  ", require=True)
    assert refused.value.about == "collected_by"
    assert session.get(Request, request.id).status == "ready"  # nothing written
    requests.hand_over(session, request.id, people["staff"])  # old callers: the requester collected it
    assert session.get(Request, request.id).handed_over_to == "Dana Rep"


def test_a_shipment_keeps_the_carrier_and_a_normalised_tracking_number_with_its_link(session, people, make_item,
                                                                                   make_bin):
    pens = make_item("PEN-1", on_hand=10)
    request = ready(session, people, [(pens, 2)], handoff="ship", bin=make_bin("A-01"))
    handover.hand_over(session, request.id, people["staff"], carrier="ups", tracking="1z 999-aa1 0123", require=True)
    request = session.get(Request, request.id)
    assert (request.carrier, request.tracking) == ("UPS", "1Z999-AA10123")
    assert handover.tracking_url(request.carrier, request.tracking) == "https://www.ups.com/track?tracknum=1Z999-AA10123"
    assert handover.tracking_url("Bike courier", "ABCD") is None
    assert request.steps[-1].note == "Shipped with UPS, tracking 1Z999-AA10123"


@pytest.mark.parametrize("carrier, tracking, about, message", [
    ("", "1Z999AA1", "carrier", "Choose the carrier"),
    ("Other", "1Z999AA1", "carrier", "Type the carrier's name"),
    ("x" * 41, "1Z999AA1", "carrier", "too long"),
    ("UPS", "", "tracking", "Enter the tracking number"),
    ("UPS", "1Z 9", "tracking", "4 to 40"),      # 3 characters once the space is gone
    ("UPS", "9" * 41, "tracking", "4 to 40"),
    ("UPS", "1Z99<9", "tracking", "only letters"),
])
def test_bad_shipping_details_are_refused_about_their_box_and_change_nothing(session, people, make_item, make_bin,
                                                                             carrier, tracking, about, message):
    pens = make_item("PEN-1", on_hand=10)
    request = ready(session, people, [(pens, 2)], handoff="ship", bin=make_bin("A-01"))
    with pytest.raises(InvalidInput, match=message) as refused:
        handover.hand_over(session, request.id, people["staff"], carrier=carrier, tracking=tracking, require=True)
    assert refused.value.about == about
    session.expire_all()
    assert session.get(Request, request.id).status == "ready"
    assert on_hand(session, pens).on_hand == 10  # still in DISPATCH: nothing issued
    assert handover.normal_carrier("Bike Courier Ltd") == "Bike Courier Ltd"  # another carrier, as typed


def test_undo_on_the_day_books_the_issues_back_and_everything_agrees_again(session, people, make_item, make_bin):
    """4 pens at 0.40 and 1 returnable banner at 150.00 go out, and come back by the undo:
    the ledger nets to zero for both, the lines are picked and held again, usage is nothing."""
    shelf = make_bin("A-01")
    pens = make_item("PEN-1", on_hand=10, unit_cost="0.40")
    banner = make_item("BANNER-1", category="display", on_hand=2, returnable=True, unit_cost="150.00")
    request = ready(session, people, [(pens, 4), (banner, 1)], return_by=TODAY + timedelta(days=6), bin=shelf)
    handover.hand_over(session, request.id, people["staff"], collected_by="Dana Rep", require=True)
    session.expire_all()
    assert (on_hand(session, pens).on_hand, on_hand(session, pens).available) == (6, 6)  # 10 - 4 out
    assert on_hand(session, banner).on_hand == 1
    around = periods.Period(TODAY - timedelta(days=1), TODAY + timedelta(days=7))
    assert reports.usage_by_item(session, around).total.issued == 5  # 4 pens + 1 banner out
    assert reports.service_level(session, around, TODAY).met == 1
    handover.undo_hand_over(session, request.id, people["manager"], "Wrong box given")
    session.expire_all()
    request = session.get(Request, request.id)
    assert request.status == "ready"
    assert (request.handed_over_to, request.carrier, request.tracking, request.handed_over_at) == ("", "", "", None)
    pen_line, banner_line = request.lines
    assert (pen_line.picked, pen_line.reserved, pen_line.issued, pen_line.issued_unit_cost) == (4, 4, 0, None)
    assert (banner_line.picked, banner_line.reserved, banner_line.issued) == (1, 1, 0)
    # Back on hand (in DISPATCH) and held again: 10 on hand, 6 free, as before the hand-over.
    assert (on_hand(session, pens).on_hand, on_hand(session, pens).available) == (10, 6)
    dispatch = requests.dispatch_bin(session)
    assert stock.level(session, pens, dispatch) == 4 and stock.level(session, banner, dispatch) == 1
    undone = session.scalars(select(Movement).where(Movement.kind == "undo_issue").order_by(Movement.id)).all()
    assert [(m.item_id, m.quantity, m.from_bin_id, m.to_bin_id, m.unit_cost) for m in undone] == [
        (pens.id, 4, None, dispatch.id, Decimal("0.40")), (banner.id, 1, None, dispatch.id, Decimal("150.00"))]
    assert stock.check_ledger(session) == []
    step = request.steps[-1]
    assert (step.action, step.user_id) == ("hand_over_undone", people["manager"].id)
    assert step.note.startswith("Wrong box given (was: Collected by Dana Rep")
    # Nothing is used or spent by an undone hand-over.
    assert reports.usage_by_item(session, around).total.issued == 0
    assert reports.usage_by_item(session, around).total.requests == 0
    level = reports.service_level(session, around, TODAY)
    assert (level.met, level.pending) == (0, 1)  # ready again, needed in 3 days: not handed over
    # Handed over again, it counts once, as it stands.
    handover.hand_over(session, request.id, people["staff"], collected_by="Dana Rep", require=True)
    session.expire_all()
    assert on_hand(session, pens).on_hand == 6 and stock.check_ledger(session) == []
    total = reports.usage_by_item(session, around).total
    assert (total.issued, total.requests, total.cost) == (5, 1, Decimal("1.60"))  # 4 x 0.40 used; banner still out


def test_undo_only_by_a_manager_on_the_day_and_before_check_in(session, people, make_item, make_bin):
    shelf = make_bin("A-01")
    banner = make_item("BANNER-1", category="display", on_hand=2, returnable=True)
    request = ready(session, people, [(banner, 1)], return_by=TODAY + timedelta(days=6), bin=shelf)
    handover.hand_over(session, request.id, people["staff"], collected_by="Dana Rep")
    with pytest.raises(Forbidden):
        handover.undo_hand_over(session, request.id, people["staff"], "oops")
    with pytest.raises(InvalidInput) as refused:
        handover.undo_hand_over(session, request.id, people["manager"], "  ")
    assert refused.value.about == "reason"
    with pytest.raises(handover.UndoRefused, match="Only on the day of the hand-over"):
        handover.undo_hand_over(session, request.id, people["manager"], "late", today=TODAY + timedelta(days=1))
    shown = session.get(Request, request.id)
    assert handover.undo_refusal(shown, people["manager"], TODAY + timedelta(days=1)) == "Only on the day of the hand-over."
    assert handover.undo_refusal(shown, people["manager"]) is None
    requests.check_in(session, request.id, shelf, {request.lines[0].id: {"returned": 1}}, people["staff"])
    with pytest.raises(handover.UndoRefused, match="returned, not handed over"):
        handover.undo_hand_over(session, request.id, people["manager"], "too late")
    assert session.scalar(select(Movement).where(Movement.kind == "undo_issue")) is None


def test_a_hand_over_from_yesterday_cannot_be_undone(session, people, make_item, make_bin):
    pens = make_item("PEN-1", on_hand=10)
    request = ready(session, people, [(pens, 4)], bin=make_bin("A-01"))
    handover.hand_over(session, request.id, people["staff"])
    shown = session.get(Request, request.id)
    shown.handed_over_at = datetime.combine(TODAY - timedelta(days=1), datetime.min.time()) + timedelta(hours=12)
    session.commit()
    with pytest.raises(handover.UndoRefused, match="Only on the day"):
        handover.undo_hand_over(session, request.id, people["manager"], "late")
    assert session.scalars(select(RequestStep.action).where(RequestStep.request_id == request.id)).all()[-1] == \
        "handed_over"
