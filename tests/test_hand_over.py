"""Hand-over that records it: who collected it, or the carrier and tracking number; and the
manager's undo on the day, booked in the ledger, with everything the hand-over changed put back."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from inventory.errors import Forbidden, InvalidInput
from inventory.requests import carriers, fulfilment, handover, review, submission
from inventory.requests.models import Request, RequestStep
from inventory.reports import periods
from inventory.reports.deliveries import service_level
from inventory.reports.usage import usage_by_item
from inventory.stock import queries as stock_queries
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
    request = submission.submit(session, people["rep"], lines, purpose="client_meeting",
                                needed_by=TODAY + timedelta(days=3), handoff=handoff,
                                ship_to="Acme Corp, 1 Main St" if handoff == "ship" else "", **details)
    review.approve(session, request.id, people["manager"])
    fulfilment.pick(session, request.id, bin, {line.id: line.reserved for line in request.lines}, people["staff"])
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
    handover.hand_over(session, request.id, people["staff"])  # old callers: the requester collected it
    assert session.get(Request, request.id).handed_over_to == "Dana Rep"


def test_a_shipment_keeps_the_carrier_and_a_normalised_tracking_number_with_its_link(session, people, make_item,
                                                                                   make_bin):
    pens = make_item("PEN-1", on_hand=10)
    request = ready(session, people, [(pens, 2)], handoff="ship", bin=make_bin("A-01"))
    handover.hand_over(session, request.id, people["staff"], carrier="ups", tracking="1z 999-aa1 0123", require=True)
    request = session.get(Request, request.id)
    assert (request.carrier, request.tracking) == ("UPS", "1Z999-AA10123")
    assert carriers.tracking_url(request.carrier, request.tracking) == "https://www.ups.com/track?tracknum=1Z999-AA10123"
    assert carriers.tracking_url("Bike courier", "ABCD") is None
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
    assert carriers.normal_carrier("Bike Courier Ltd") == "Bike Courier Ltd"  # another carrier, as typed


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
    assert usage_by_item(session, around).total.issued == 5  # 4 pens + 1 banner out
    assert service_level(session, around, TODAY).met == 1
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
    dispatch = fulfilment.dispatch_bin(session)
    assert stock_queries.level(session, pens, dispatch) == 4 and stock_queries.level(session, banner, dispatch) == 1
    undone = session.scalars(select(Movement).where(Movement.kind == "undo_issue").order_by(Movement.id)).all()
    assert [(m.item_id, m.quantity, m.from_bin_id, m.to_bin_id, m.unit_cost) for m in undone] == [
        (pens.id, 4, None, dispatch.id, Decimal("0.40")), (banner.id, 1, None, dispatch.id, Decimal("150.00"))]
    assert stock.check_ledger(session) == []
    step = request.steps[-1]
    assert (step.action, step.user_id) == ("hand_over_undone", people["manager"].id)
    assert step.note.startswith("Wrong box given (was: Collected by Dana Rep")
    # Nothing is used or spent by an undone hand-over.
    assert usage_by_item(session, around).total.issued == 0
    assert usage_by_item(session, around).total.requests == 0
    level = service_level(session, around, TODAY)
    assert (level.met, level.pending) == (0, 1)  # ready again, needed in 3 days: not handed over
    # Handed over again, it counts once, as it stands.
    handover.hand_over(session, request.id, people["staff"], collected_by="Dana Rep", require=True)
    session.expire_all()
    assert on_hand(session, pens).on_hand == 6 and stock.check_ledger(session) == []
    total = usage_by_item(session, around).total
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
    fulfilment.check_in(session, request.id, shelf, {request.lines[0].id: {"returned": 1}}, people["staff"])
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


# --- the pages ------------------------------------------------------------------------------

def test_staff_confirm_a_hand_over_with_who_collected_it_and_the_page_shows_it(client, auth_client, session, people,
                                                                              make_item, make_bin):
    pens = make_item("PEN-1", on_hand=10)
    request = ready(session, people, [(pens, 4)], bin=make_bin("A-01"))
    auth_client.login(people["staff"])
    shown = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Hand over…" in shown and f'href="/requests/{request.id}/hand-over"' in shown
    confirm = client.get(f"/requests/{request.id}/hand-over").get_data(as_text=True)
    assert 'value="Dana Rep"' in confirm and "Item PEN-1" in confirm and "<strong>4</strong>" in confirm
    refused = client.post(f"/requests/{request.id}/hand-over", data={"collected_by": "  ", "note": "at the desk"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="collected_by-error"' in body and "Say who collected it." in body
    assert 'value="at the desk"' in body  # typed input is never lost
    assert session.get(Request, request.id).status == "ready"
    done = client.post(f"/requests/{request.id}/hand-over", data={"collected_by": "Lee <b>Colleague</b>"},
                       follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "Collected by <strong>Lee &lt;b&gt;Colleague&lt;/b&gt;</strong> on " in page
    assert "(handed over by Sam Staff)" in page and "Handed over <strong>4</strong>" in page
    assert "Undo hand-over" not in page  # staff cannot undo


def test_a_post_without_the_confirm_pages_boxes_hands_nothing_over(client, auth_client, session, people,
                                                                  make_item, make_bin):
    """A script (or an old page's one-tap button) posting no name is refused like the page."""
    pens = make_item("PEN-1", on_hand=10)
    request = ready(session, people, [(pens, 4)], bin=make_bin("A-01"))
    auth_client.login(people["staff"])
    refused = client.post(f"/requests/{request.id}/hand-over")
    assert refused.status_code == 400 and "Say who collected it." in refused.get_data(as_text=True)
    assert session.get(Request, request.id).status == "ready"


def test_a_shipment_needs_carrier_and_tracking_and_shows_the_tracking_link(client, auth_client, session, people,
                                                                          make_item, make_bin):
    pens = make_item("PEN-1", on_hand=10)
    request = ready(session, people, [(pens, 2)], handoff="ship", bin=make_bin("A-01"))
    auth_client.login(people["staff"])
    assert "Ship…" in client.get(f"/requests/{request.id}").get_data(as_text=True)
    other = client.post(f"/requests/{request.id}/hand-over", data={"carrier": "Other", "carrier_other": "",
                                                                  "tracking": "AB-1234"})
    assert other.status_code == 400 and 'id="carrier_other-error"' in other.get_data(as_text=True)
    assert 'value="AB-1234"' in other.get_data(as_text=True)
    short = client.post(f"/requests/{request.id}/hand-over", data={"carrier": "DHL", "tracking": "12"})
    body = short.get_data(as_text=True)
    assert short.status_code == 400 and 'id="tracking-error"' in body and "<option selected>DHL</option>" in body
    client.post(f"/requests/{request.id}/hand-over", data={"carrier": "UPS", "tracking": "1z999aa10123456784"})
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Shipped with <strong>UPS</strong>" in page
    assert 'href="https://www.ups.com/track?tracknum=1Z999AA10123456784"' in page


def test_a_manager_undoes_a_hand_over_on_the_day_with_a_reason(client, auth_client, session, people, make_item,
                                                              make_bin):
    pens = make_item("PEN-1", on_hand=10)
    request = ready(session, people, [(pens, 4)], bin=make_bin("A-01"))
    handover.hand_over(session, request.id, people["staff"], collected_by="Dana Rep")
    auth_client.login(people["rep"])
    assert client.post(f"/requests/{request.id}/undo-hand-over", data={"reason": "x"}).status_code == 403
    assert client.get(f"/requests/{request.id}/hand-over").status_code == 403  # reps cannot hand over
    auth_client.logout()
    auth_client.login(people["staff"])
    assert client.post(f"/requests/{request.id}/undo-hand-over", data={"reason": "x"}).status_code == 403
    auth_client.logout()
    auth_client.login(people["manager"])
    assert "Undo hand-over" in client.get(f"/requests/{request.id}").get_data(as_text=True)
    blank = client.post(f"/requests/{request.id}/undo-hand-over", data={"reason": " "})
    assert blank.status_code == 400 and 'id="undo-reason-error"' in blank.get_data(as_text=True)
    page = client.post(f"/requests/{request.id}/undo-hand-over", data={"reason": "Wrong size"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Hand-over undone" in page and "Hand over undone" in page and "Wrong size" in page
    session.expire_all()
    assert session.get(Request, request.id).status == "ready"


def test_a_hand_over_of_yesterday_says_why_it_cannot_be_undone(client, auth_client, session, people, make_item,
                                                              make_bin):
    pens = make_item("PEN-1", on_hand=10)
    request = ready(session, people, [(pens, 4)], bin=make_bin("A-01"))
    handover.hand_over(session, request.id, people["staff"])
    session.get(Request, request.id).handed_over_at -= timedelta(days=1)
    session.commit()
    auth_client.login(people["manager"])
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Undo hand-over: Only on the day of the hand-over." in page and 'name="reason"' not in page.split(
        "Hand-over")[-1]
    refused = client.post(f"/requests/{request.id}/undo-hand-over", data={"reason": "late"})
    assert refused.status_code == 409 and "Only on the day of the hand-over" in refused.get_data(as_text=True)


def test_after_check_in_the_page_says_what_came_back_not_out(client, auth_client, session, people, make_item,
                                                            make_bin):
    shelf = make_bin("A-01")
    banner = make_item("BANNER-1", category="display", on_hand=2, returnable=True)
    request = ready(session, people, [(banner, 2)], return_by=TODAY + timedelta(days=6), bin=shelf)
    handover.hand_over(session, request.id, people["staff"])
    fulfilment.check_in(session, request.id, shelf, {request.lines[0].id: {"returned": 1, "lost": 1}}, people["staff"])
    auth_client.login(people["staff"])
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert "Out <strong>" not in page
    assert "Back <strong>1</strong>" in page and "Lost <strong>1</strong>" in page


# --- the API and the e-mail -----------------------------------------------------------------

def test_the_api_hands_over_and_undoes_with_the_details_in_the_json(client, session, people, make_item, make_bin):
    from inventory.auth.services import create_token

    def call(user, url, body):
        token = create_token(session, user, "test")[1]
        return client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})

    pens = make_item("PEN-1", on_hand=10)
    request = ready(session, people, [(pens, 2)], handoff="ship", bin=make_bin("A-01"))
    url = f"/api/v1/requests/{request.id}"
    assert call(people["rep"], url + "/hand-over", {}).status_code == 403
    missing = call(people["staff"], url + "/hand-over", {"carrier": "UPS"})
    assert missing.status_code == 400 and "tracking number" in missing.get_json()["error"]
    done = call(people["staff"], url + "/hand-over", {"carrier": "fedex", "tracking": "7489 1234 5678"})
    body = done.get_json()
    assert done.status_code == 200 and body["status"] == "handed_over"
    assert (body["carrier"], body["tracking"], body["handed_over_to"]) == ("FedEx", "748912345678", "")
    assert body["tracking_url"] == "https://www.fedex.com/fedextrack/?trknbr=748912345678"
    assert call(people["staff"], url + "/undo-hand-over", {"reason": "x"}).status_code == 403
    assert call(people["manager"], url + "/undo-hand-over", {}).status_code == 400
    undone = call(people["manager"], url + "/undo-hand-over", {"reason": "Wrong box"}).get_json()
    assert (undone["status"], undone["carrier"], undone["tracking"], undone["tracking_url"]) == ("ready", "", "", None)


def test_the_reps_e_mail_has_the_carrier_tracking_number_and_link(app, session, smtp, people, make_item, make_bin):
    from tests.mail_server import MailServer

    from inventory.mail import services as mail
    from inventory.timeutil import utcnow

    pens = make_item("PEN-1", on_hand=10)
    request = ready(session, people, [(pens, 2)], handoff="ship", bin=make_bin("A-01"))
    handover.hand_over(session, request.id, people["staff"], carrier="DHL", tracking="JD0146 0000 1234")
    collected = ready(session, people, [(pens, 1)], bin=make_bin("A-01"))
    handover.hand_over(session, collected.id, people["staff"], collected_by="Lee Colleague")
    mine = ready(session, people, [(pens, 1)], bin=make_bin("A-01"))
    handover.hand_over(session, mine.id, people["staff"], collected_by="Dana Rep")  # she was there: no e-mail
    mail.send_pending(session, app.config, utcnow() + timedelta(seconds=1))
    got = {m["Subject"]: MailServer.text(m).replace("\r\n", "\n") for m in smtp.messages}
    shipped = got[f"Shipped: {request.number}"]
    assert "Carrier: DHL" in shipped and "Tracking number: JD014600001234" in shipped
    assert "https://www.dhl.com/global-en/home/tracking.html?tracking-id=JD014600001234" in shipped
    assert f"Collected: {collected.number} by Lee Colleague" in got
    assert not any(mine.number in subject and subject.startswith(("Collected", "Shipped")) for subject in got)
