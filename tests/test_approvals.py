"""Approvals (budgets/approvals.py): a request goes to the right approver by its team's rules and
its value, or is approved at once by rule; above the second amount a second approver (not the
first) approves too; over budget needs a manager with the right to exceed, who says why. Every
decision is an approval row and a request step. The rules directly, the request page and the
API through the test client, the approval e-mail through a real SMTP server.

Amounts worked out on paper. The team "Field sales": a budget of $2,000.00 a period, Ann its
approver, requests up to $50.00 approved at once, above $500.00 a second approver. Pens cost
$1.00, polos $12.50, a banner $400.00 (returnable, 15 % expected loss: $60.00 a banner lent).
"""
import re
from html import unescape
from datetime import date, timedelta

import pytest
from mail_server import MailServer
from sqlalchemy import func, select

from inventory.budgets import approvals, links
from inventory.budgets import services as teams
from inventory.errors import Forbidden, InvalidInput
from inventory.mail import services as mail
from inventory.requests import review, submission
from inventory.requests.models import Request, RequestApproval
from inventory.timeutil import utcnow

TODAY = date.today()
Level = approvals.Level


def text_of(html):
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def shop(session, make_user, make_item):
    ann = make_user("manager", email="ann@example.com", name="Ann Approver")
    bob = make_user("manager", email="bob@example.com", name="Bob Second")
    carl = make_user("manager", email="carl@example.com", name="Carl Exceeds")
    dan = make_user("manager", email="dan@example.com", name="Dan Manager")
    admin = make_user("admin", email="root@example.com", name="Alex Admin")
    teams.set_rights(session, bob, second_approver=True)
    teams.set_rights(session, carl, may_exceed_budget=True)
    team = teams.create_team(session, dict(name="Field sales", budget="2000", approver_id=ann.id,
                                           auto_approve_up_to="50", second_approval_above="500"))
    rep = make_user("rep", email="rita@example.com", name="Rita Rep")
    mate = make_user("rep", email="mate@example.com", name="Mo Mate")
    for user in (rep, mate):
        teams.set_team(session, user, team.id)
    items = dict(pen=make_item("PEN-1", name="Pen", on_hand=5000, unit_cost="1.00"),
                 polo=make_item("POLO-1", name="Polo", on_hand=100, unit_cost="12.50"),
                 banner=make_item("BANNER-1", name="Banner", category="display", on_hand=3, unit_cost="400.00",
                                  returnable=True, loss_rate=15))
    return dict(team=team, ann=ann, bob=bob, carl=carl, dan=dan, admin=admin, rep=rep, mate=mate, **items)


def submit(session, user, lines, needed_by=TODAY, **details):
    details.setdefault("purpose", "client_meeting")
    if any(item.returnable for item, _n in lines):
        details.setdefault("return_by", needed_by + timedelta(days=2))
    return submission.submit(session, user, lines, needed_by=needed_by, **details)


def rows(session, request_id):
    session.expire_all()
    return [(a.level, a.user.email if a.user else None, a.decision, a.note) for a in session.scalars(
        select(RequestApproval).where(RequestApproval.request_id == request_id).order_by(RequestApproval.id))]


def status(session, request_id):
    session.expire_all()
    return session.get(Request, request_id).status


# The rules ----------------------------------------------------------------------------------------

def test_a_request_up_to_the_teams_amount_is_approved_at_once_by_rule(session, shop):
    made = submit(session, shop["rep"], [(shop["pen"], 40)])  # $40.00, up to $50.00
    assert status(session, made.id) == "approved"
    ((level, who, decision, note),) = rows(session, made.id)
    assert (level, who, decision) == ("auto", None, "approved")
    assert "$40.00" in note and "$50.00" in note
    steps = [(step.action, step.user.email) for step in session.get(Request, made.id).steps]
    assert steps == [("submitted", "rita@example.com"), ("approved", "rita@example.com")]


def test_exactly_the_amount_is_approved_at_once_a_cent_more_waits(session, shop):
    assert status(session, submit(session, shop["rep"], [(shop["pen"], 50)]).id) == "approved"
    polo_and_pen = submit(session, shop["rep"], [(shop["polo"], 4)])  # 4 x 12.50 = $50.00
    assert status(session, polo_and_pen.id) == "approved"
    waiting = submit(session, shop["rep"], [(shop["pen"], 51)])  # $51.00
    assert status(session, waiting.id) == "submitted" and rows(session, waiting.id) == []


def test_a_team_whose_amount_is_0_asks_every_time(session, shop):
    teams.update_team(session, shop["team"], {"auto_approve_up_to": "0"})
    made = submit(session, shop["rep"], [(shop["pen"], 1)])
    assert status(session, made.id) == "submitted"


def test_the_teams_approver_approves_and_another_manager_is_told_whose_it_is(session, shop):
    made = submit(session, shop["rep"], [(shop["pen"], 60)])  # $60.00: the approver, one level
    with pytest.raises(Forbidden, match="Ann Approver") as refused:
        review.approve(session, made.id, shop["dan"])
    assert "Field sales's approver" in refused.value.message
    assert status(session, made.id) == "submitted" and rows(session, made.id) == []
    review.approve(session, made.id, shop["ann"], note="Fine")
    assert status(session, made.id) == "approved"
    assert rows(session, made.id) == [("approver", "ann@example.com", "approved", "Fine")]


def test_above_the_second_amount_a_second_approver_approves_too_and_never_the_first(session, shop):
    made = submit(session, shop["rep"], [(shop["polo"], 48)])  # 48 x 12.50 = $600.00 > $500.00
    with pytest.raises(Forbidden, match="for Ann Approver to approve"):
        review.approve(session, made.id, shop["bob"])  # the first level comes first
    review.approve(session, made.id, shop["ann"])
    assert status(session, made.id) == "submitted"
    step = session.get(Request, made.id).steps[-1]
    assert (step.action, step.note) == ("approval", "Approved as the approver; waiting for a second approver.")
    with pytest.raises(Forbidden, match="first approval: a second approver must be someone else"):
        review.approve(session, made.id, shop["ann"])
    with pytest.raises(Forbidden, match=r"worth \$600.00: it needs a second approver"):
        review.approve(session, made.id, shop["dan"])
    review.approve(session, made.id, shop["bob"])
    assert status(session, made.id) == "approved"
    assert [(level, who) for level, who, _d, _n in rows(session, made.id)] == [
        ("approver", "ann@example.com"), ("second", "bob@example.com")]


def test_exactly_the_second_amount_needs_one_approver(session, shop):
    made = submit(session, shop["rep"], [(shop["polo"], 40)])  # $500.00: not more than $500.00
    review.approve(session, made.id, shop["ann"])
    assert status(session, made.id) == "approved"


def test_over_budget_needs_a_manager_with_the_right_who_says_why(session, shop):
    submit(session, shop["mate"], [(shop["pen"], 1990)])  # $1,990.00 of $2,000.00 committed
    made = submit(session, shop["rep"], [(shop["pen"], 40)])  # $40.00 would be approved at once...
    assert status(session, made.id) == "submitted"  # ...but it takes the team $30.00 over budget
    need = approvals.needs(session, session.get(Request, made.id))
    assert need.levels == (Level.APPROVER, Level.BUDGET)
    assert "$30.00 over its budget of $2,000.00" in need.reasons[Level.BUDGET]
    review.approve(session, made.id, shop["ann"])  # Ann may not exceed: her level only
    assert status(session, made.id) == "submitted"
    with pytest.raises(Forbidden, match=r"over budget by \$30.00"):
        review.approve(session, made.id, shop["bob"])
    with pytest.raises(InvalidInput, match="say why") as missing:
        review.approve(session, made.id, shop["carl"], note="  ")
    assert missing.value.about == (None, "note")
    assert status(session, made.id) == "submitted"
    review.approve(session, made.id, shop["carl"], note="The Expo lead is worth it")
    assert status(session, made.id) == "approved"
    assert rows(session, made.id)[-1] == ("budget", "carl@example.com", "approved", "The Expo lead is worth it")
    assert "The Expo lead is worth it" in session.get(Request, made.id).steps[-1].note


def test_an_approver_with_the_right_to_exceed_fills_both_levels_at_once(session, shop):
    teams.set_rights(session, shop["ann"], may_exceed_budget=True)
    submit(session, shop["mate"], [(shop["pen"], 1990)])
    made = submit(session, shop["rep"], [(shop["banner"], 1)])  # $400.00 x 15 % = $60.00: $50.00 over
    with pytest.raises(InvalidInput, match="say why"):
        review.approve(session, made.id, shop["ann"])
    review.approve(session, made.id, shop["ann"], note="Booth banner")
    assert status(session, made.id) == "approved"
    assert [(level, who) for level, who, _d, _n in rows(session, made.id)] == [
        ("approver", "ann@example.com"), ("budget", "ann@example.com")]


def test_an_admin_stands_in_for_a_level_but_still_not_for_both_of_four_eyes(session, shop):
    made = submit(session, shop["rep"], [(shop["polo"], 48)])  # $600.00: two levels
    review.approve(session, made.id, shop["admin"])
    assert status(session, made.id) == "submitted"
    with pytest.raises(Forbidden, match="someone else"):
        review.approve(session, made.id, shop["admin"])
    review.approve(session, made.id, shop["bob"])
    assert status(session, made.id) == "approved"


def test_raising_quantities_past_the_second_amount_adds_the_second_level(session, shop):
    made = submit(session, shop["rep"], [(shop["polo"], 30)])  # $375.00: one level
    line_id = session.get(Request, made.id).lines[0].id
    review.approve(session, made.id, shop["ann"], quantities={line_id: 48})  # now $600.00
    assert status(session, made.id) == "submitted"
    assert [level for level, *_ in rows(session, made.id)] == ["approver"]


def test_a_rejection_is_a_decision_with_the_reason(session, shop):
    made = submit(session, shop["rep"], [(shop["polo"], 48)])
    review.approve(session, made.id, shop["ann"])
    review.reject(session, made.id, shop["dan"], "Not this quarter")
    assert rows(session, made.id)[-1] == ("second", "dan@example.com", "rejected", "Not this quarter")


def test_a_request_of_no_team_goes_to_any_manager_at_one_level(session, shop, make_user):
    loner = make_user("rep", email="loner@example.com")
    made = submit(session, loner, [(shop["polo"], 80)])  # $1,000.00, no team: no limits, no budget
    review.approve(session, made.id, shop["dan"])
    assert status(session, made.id) == "approved"


def test_approval_rights_are_for_managers_only(session, shop):
    with pytest.raises(InvalidInput, match="Only a marketing manager or an admin") as refused:
        teams.set_rights(session, shop["rep"], second_approver=True)
    assert refused.value.about == (None, "second_approver")
    session.expire_all()
    assert not shop["rep"].second_approver


def test_an_approval_link_names_its_request_approver_and_level_and_cannot_be_forged(app, shop):
    token = links.approval_token(12, shop["ann"].id, "approver")
    assert links.read_token(token) == (12, shop["ann"].id, "approver")
    assert links.read_token(token[:-2] + ("A" if token[-1] != "A" else "B")) is None
    assert links.read_token("nonsense") is None
    app.config["SECRET_KEY"] = "another key"
    assert links.read_token(token) is None


# The request page -----------------------------------------------------------------------------

def test_the_page_shows_who_approves_and_another_manager_sees_why_not(client, auth_client, session, shop):
    made = submit(session, shop["rep"], [(shop["polo"], 48)])
    auth_client.login(shop["dan"])
    page = text_of(client.get(f"/requests/{made.id}").get_data(as_text=True))
    assert "First approval" in page and "Ann Approver, Field sales's approver" in page
    assert "Second approval" in page and "more than $500.00" in page
    assert "for Ann Approver to approve" in page and ">Approve<" not in page
    refused = client.post(f"/requests/{made.id}/approve", data={"qty-%d" % made.lines[0].id: "48"})
    assert refused.status_code == 403 and "Nothing was approved" in refused.get_data(as_text=True)
    assert status(session, made.id) == "submitted"


def test_the_approver_approves_on_the_page_then_the_second_approver(client, auth_client, session, shop):
    made = submit(session, shop["rep"], [(shop["polo"], 48)])
    auth_client.login(shop["ann"])
    page = client.get(f"/requests/{made.id}").get_data(as_text=True)
    assert "Approve (first approval)" in page and "then it waits for a second approver" in page
    done = client.post(f"/requests/{made.id}/approve", follow_redirects=True).get_data(as_text=True)
    assert "It now waits for the next approver" in done
    auth_client.logout()
    auth_client.login(shop["bob"])
    assert ">Approve<" in client.get(f"/requests/{made.id}").get_data(as_text=True)
    client.post(f"/requests/{made.id}/approve")
    assert status(session, made.id) == "approved"


def test_over_budget_on_the_page_keeps_what_was_typed_until_the_reason_is_given(client, auth_client, session,
                                                                               shop):
    submit(session, shop["mate"], [(shop["pen"], 1990)])
    made = submit(session, shop["rep"], [(shop["pen"], 40)])
    review.approve(session, made.id, shop["ann"])
    line_id = made.lines[0].id
    auth_client.login(shop["carl"])
    page = client.get(f"/requests/{made.id}").get_data(as_text=True)
    assert "Why it may go over the budget" in page and "Approve over budget" in page
    refused = client.post(f"/requests/{made.id}/approve", data={f"qty-{line_id}": "30", "approval_note": ""})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "say why it may" in html and 'id="approval-note-error"' in html
    assert f'name="qty-{line_id}"' in html and 'value="30"' in html  # the typed quantity kept
    assert status(session, made.id) == "submitted"
    assert session.get(Request, made.id).lines[0].quantity == 40
    client.post(f"/requests/{made.id}/approve", data={f"qty-{line_id}": "30", "approval_note": "Worth it"})
    assert status(session, made.id) == "approved"
    assert session.get(Request, made.id).lines[0].quantity == 30


def test_the_rep_sees_who_their_request_waits_for(client, auth_client, session, shop):
    made = submit(session, shop["rep"], [(shop["pen"], 60)])
    auth_client.login(shop["rep"])
    page = text_of(client.get(f"/requests/{made.id}").get_data(as_text=True))
    assert "First approval" in page and "waiting" in page and "Ann Approver" in page


def test_the_approval_link_opens_the_request_for_its_approver_until_it_is_decided(client, auth_client, session,
                                                                                 shop):
    made = submit(session, shop["rep"], [(shop["pen"], 60)])
    path = links.approval_path(made.id, shop["ann"].id, "approver")
    assert client.get(path).status_code == 302  # to the login first
    auth_client.login(shop["dan"])
    assert client.get(path).status_code == 403
    auth_client.logout()
    auth_client.login(shop["ann"])
    opened = client.get(path)
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/requests/{made.id}#approval")
    assert "waits for your approval" in client.get(f"/requests/{made.id}").get_data(as_text=True)
    review.approve(session, made.id, shop["ann"])
    client.get(path)
    assert "This approval link has expired: it is approved." in client.get(f"/requests/{made.id}").get_data(
        as_text=True)
    assert client.get("/approvals/forged-token").status_code == 404


# The API ------------------------------------------------------------------------------------------

def _bearer(session, user):
    from inventory.auth import services as auth
    _row, token = auth.create_token(session, user, "test")
    return {"Authorization": f"Bearer {token}"}


def test_the_api_approves_by_the_same_rules_and_lists_the_approvals(client, session, shop):
    made = submit(session, shop["rep"], [(shop["polo"], 48)])
    refused = client.post(f"/api/v1/requests/{made.id}/approve", headers=_bearer(session, shop["dan"]))
    assert refused.status_code == 403 and "for Ann Approver to approve" in refused.get_json()["error"]
    first = client.post(f"/api/v1/requests/{made.id}/approve", json={"note": "ok by me"},
                        headers=_bearer(session, shop["ann"]))
    assert first.status_code == 200
    body = first.get_json()
    assert body["status"] == "submitted" and body["value"] == "600.00"
    ((approval),) = body["approvals"]
    assert (approval["level"], approval["approver"], approval["decision"], approval["note"]) == (
        "approver", "ann@example.com", "approved", "ok by me")
    assert approval["at"].endswith("Z")
    second = client.post(f"/api/v1/requests/{made.id}/approve", headers=_bearer(session, shop["bob"]))
    assert second.get_json()["status"] == "approved" and len(second.get_json()["approvals"]) == 2
    listed = client.get("/api/v1/requests", headers=_bearer(session, shop["ann"])).get_json()
    assert [a["approver"] for r in listed["requests"] if r["id"] == made.id for a in r["approvals"]] == [
        "ann@example.com", "bob@example.com"]


def test_the_api_refuses_over_budget_without_a_reason(client, session, shop):
    submit(session, shop["mate"], [(shop["pen"], 1990)])
    made = submit(session, shop["rep"], [(shop["pen"], 40)])
    review.approve(session, made.id, shop["ann"])
    headers = _bearer(session, shop["carl"])
    refused = client.post(f"/api/v1/requests/{made.id}/approve", headers=headers)
    assert refused.status_code == 400 and "say why" in refused.get_json()["error"]
    done = client.post(f"/api/v1/requests/{made.id}/approve", json={"note": "Key client"}, headers=headers)
    assert done.status_code == 200 and done.get_json()["approvals"][-1]["level"] == "budget"


# The admin's user form ---------------------------------------------------------------------------

def test_an_admin_gives_a_manager_the_approval_rights_on_the_user_form(client, auth_client, session, shop):
    auth_client.login(shop["admin"])
    dan = shop["dan"]
    saved = client.post(f"/admin/users/{dan.id}", data={"email": dan.email, "name": dan.name, "role": "manager",
                                                        "team_id": "", "active": "y", "second_approver": "y",
                                                        "may_exceed_budget": "y"})
    assert saved.status_code == 302
    session.expire_all()
    assert dan.second_approver and dan.may_exceed_budget
    rep = shop["rep"]
    refused = client.post(f"/admin/users/{rep.id}", data={"email": rep.email, "name": rep.name, "role": "rep",
                                                          "team_id": str(shop["team"].id), "active": "y",
                                                          "second_approver": "y"})
    assert refused.status_code == 400 and "Only a marketing manager or an admin" in refused.get_data(as_text=True)
    session.expire_all()
    assert not rep.second_approver


# The e-mail, through a real SMTP server -------------------------------------------------------

def test_the_approvers_get_the_request_by_e_mail_each_with_their_own_link(app, client, auth_client, session, shop,
                                                                         smtp):
    made = submit(session, shop["rep"], [(shop["polo"], 48)], needed_by=TODAY + timedelta(days=7))
    assert mail.send_pending(session, app.config, utcnow() + timedelta(seconds=1)).sent == 1
    (first,) = smtp.messages
    assert smtp.envelopes[0] == ["ann@example.com"]
    assert first["Subject"].startswith(f"Approval needed: {made.number} for Rita Rep")
    text = MailServer.text(first)
    assert "Ann Approver, Field sales's approver" in text and "48 x POLO-1" in text
    link = re.search(r"https://stock\.example\.com(/approvals/\S+)", text).group(1)
    assert links.read_token(link.rsplit("/", 1)[1]) == (made.id, shop["ann"].id, "approver")
    assert f'href="https://stock.example.com{link}"' in MailServer.html(first)
    review.approve(session, made.id, shop["ann"])
    mail.send_pending(session, app.config, utcnow() + timedelta(seconds=1))
    assert smtp.envelopes[1] == ["bob@example.com"]  # the only one on the second approvers' list
    second_link = re.search(r"https://stock\.example\.com(/approvals/\S+)", MailServer.text(smtp.messages[1])).group(1)
    assert second_link != link
    auth_client.login(shop["bob"])
    assert client.get(second_link).headers["Location"].endswith(f"/requests/{made.id}#approval")
    assert session.scalar(select(func.count()).select_from(RequestApproval)) == 1


def test_an_approver_who_turned_the_e_mail_off_gets_none(app, session, shop, smtp):
    from inventory.mail import preferences
    preferences.save(session, shop["ann"], {"approval_needed": False})
    submit(session, shop["rep"], [(shop["pen"], 60)], needed_by=TODAY + timedelta(days=7))
    assert mail.send_pending(session, app.config, utcnow() + timedelta(seconds=1)).sent == 0



# The rep's request being put together ------------------------------------------------------------

@pytest.mark.parametrize("quantities, words", [
    ({"PEN-1": 40}, "Approved at once when you send it: Field sales approves requests up to $50.00 by rule."),
    ({"PEN-1": 60}, "It goes to Ann Approver for approval."),
    ({"POLO-1": 48}, "It goes to Ann Approver for approval, then to a second approver (it is worth more than "
                     "$500.00)."),
    ({"PEN-1": 2001}, "It goes to Ann Approver for approval, then to a second approver (it is worth more than "
                      "$500.00), and, as it goes over the budget, to a manager who may exceed it."),
])
def test_the_rep_sees_who_will_approve_before_sending(client, auth_client, session, shop, quantities, words):
    from inventory.requests import drafts
    drafts.save(session, shop["rep"], quantities=quantities, details={"needed_by": TODAY.isoformat()})
    auth_client.login(shop["rep"])
    page = text_of(client.get("/request").get_data(as_text=True))
    assert words in page
