"""Request e-mails, queued in the request rules' own transactions and delivered by a real SMTP
server (aiosmtpd on loopback): approved, rejected with the reason, ready, and rush requests to
the managers. Without mail settings nothing is queued and the rules work as before."""
from datetime import date, timedelta

import pytest
from mail_server import MailServer
from sqlalchemy import select

from inventory.errors import Conflict
from inventory.mail import services as mail
from inventory.mail.models import QUEUED, OutboxMessage
from inventory.requests import fulfilment, review, submission
from inventory.timeutil import utcnow

TODAY = date.today()


@pytest.fixture
def people(make_user):
    return {"rep": make_user("rep", email="rep@example.com", name="Rita Rep"),
            "manager": make_user("manager", email="boss@example.com"),
            "staff": make_user("staff", email="stock@example.com")}


def submit(session, rep, item, quantity=5, days=7, **details):
    return submission.submit(session, rep, [(item, quantity)], purpose="client_meeting",
                             needed_by=TODAY + timedelta(days=days), **details)


def deliver(session, app):
    return mail.send_pending(session, app.config, utcnow() + timedelta(seconds=1))


def outbox(session):
    session.expire_all()
    return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_approval_mails_the_rep_with_a_link_that_opens_the_request(app, session, client, auth_client, smtp, people,
                                                                 make_item):
    request = submit(session, people["rep"], make_item("PEN-1", on_hand=10))
    assert outbox(session) == []  # needed in a week: not a rush
    review.approve(session, request.id, people["manager"])
    assert deliver(session, app).sent == 1
    (message,) = smtp.messages
    assert smtp.envelopes[0] == ["rep@example.com"]
    assert message["Subject"] == f"Approved: {request.number}, needed by {(TODAY + timedelta(days=7)).day} " \
                                 f"{TODAY + timedelta(days=7):%b}"
    text = MailServer.text(message)
    assert "5 x PEN-1" in text
    link = f"https://stock.example.com/requests/{request.id}"
    assert link in text and f'href="{link}"' in MailServer.html(message)
    auth_client.login(people["rep"])
    page = client.get(link.replace("https://stock.example.com", ""))
    assert page.status_code == 200 and request.number in page.get_data(as_text=True)


def test_rejection_mails_the_reason(app, session, smtp, people, make_item):
    request = submit(session, people["rep"], make_item("PEN-1", on_hand=10))
    review.reject(session, request.id, people["manager"], "Out of budget this quarter")
    deliver(session, app)
    (message,) = smtp.messages
    assert message["Subject"] == f"Rejected: {request.number}: Out of budget this quarter"
    assert "Reason: Out of budget this quarter" in MailServer.text(message)


def test_ready_mails_the_rep_once_the_last_line_is_picked(app, session, smtp, people, make_item, make_bin):
    request = submit(session, people["rep"], make_item("PEN-1", on_hand=10))
    review.approve(session, request.id, people["manager"])
    fulfilment.pick(session, request.id, make_bin("A-01"), {request.lines[0].id: 2}, people["staff"])
    assert [m.kind for m in outbox(session)] == ["request_approved"]
    fulfilment.pick(session, request.id, make_bin("A-01"), {request.lines[0].id: 3}, people["staff"])
    assert [m.kind for m in outbox(session)] == ["request_approved", "request_ready"]
    deliver(session, app)
    assert smtp.messages[-1]["Subject"] == f"Ready for pick-up: {request.number}"


def test_a_rush_request_mails_every_active_manager(app, session, smtp, people, make_user, make_item):
    make_user("manager", email="other-boss@example.com")
    make_user("admin", email="admin@example.com")
    request = submit(session, people["rep"], make_item("PEN-1", on_hand=10), days=1)
    deliver(session, app)
    (message,) = smtp.messages
    assert sorted(smtp.envelopes[0]) == ["boss@example.com", "other-boss@example.com"]
    assert message["Subject"].startswith(f"Rush request {request.number}: needed by")
    assert "Rita Rep" in message["Subject"]


def test_a_refused_rule_queues_no_mail(app, session, smtp, people, make_item):
    request = submit(session, people["rep"], make_item("PEN-1", on_hand=10))
    review.approve(session, request.id, people["manager"])
    with pytest.raises(Conflict):
        review.approve(session, request.id, people["manager"])
    assert [m.kind for m in outbox(session)] == ["request_approved"]


def test_without_mail_settings_nothing_is_queued(app, session, people, make_item):
    app.config.update(MAIL_SERVER="", MAIL_FROM="", BASE_URL="https://stock.example.com")
    request = submit(session, people["rep"], make_item("PEN-1", on_hand=10), days=1)
    review.approve(session, request.id, people["manager"])
    assert outbox(session) == []


def test_server_down_keeps_request_mail_queued_and_delivers_it_once_later(app, session, smtp, people, make_item):
    request = submit(session, people["rep"], make_item("PEN-1", on_hand=10))
    review.approve(session, request.id, people["manager"])
    smtp.stop()
    assert deliver(session, app).retrying == 1
    (row,) = outbox(session)
    assert (row.status, row.attempts) == (QUEUED, 1) and row.last_error
    smtp.start()
    assert mail.send_pending(session, app.config, utcnow() + timedelta(minutes=2)).sent == 1
    assert mail.send_pending(session, app.config, utcnow() + timedelta(hours=3)).sent == 0
    assert [m["Subject"] for m in smtp.messages] == [f"Approved: {request.number}, needed by "
                                                     f"{(TODAY + timedelta(days=7)).day} "
                                                     f"{TODAY + timedelta(days=7):%b}"]
