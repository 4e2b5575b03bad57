"""The outbox against a real SMTP server (aiosmtpd on loopback): written with the caller's
transaction, sent once, retried with back-off while the server is down, never lost."""
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from inventory.extensions import db
from inventory.mail import services as mail
from inventory.mail.models import FAILED, QUEUED, SENT, OutboxMessage
from inventory.timeutil import utcnow

from mail_server import MailServer

NOW = datetime(2027, 3, 1, 6, 0)


def queue(session, count=1, to="manager@example.com"):
    for n in range(count):
        mail.enqueue(session, to, f"Test message {n}", "test", {"note": f"number {n}"}, kind="test")
    session.commit()


def test_enqueue_only_adds_to_the_callers_transaction(app, session):
    app.config["BASE_URL"] = "https://stock.example.com"
    mail.enqueue(session, "a@example.com", "Rolled back", "test", {"note": "x"}, kind="test")
    session.rollback()
    assert session.scalar(select(func.count(OutboxMessage.id))) == 0
    message = mail.enqueue(session, "a@example.com", "Kept", "test", {"note": "x"}, kind="test")
    session.commit()
    assert (message.status, message.attempts) == (QUEUED, 0)
    assert "https://stock.example.com/reorders" in message.text_body
    assert 'href="https://stock.example.com/reorders"' in message.html_body


def test_links_fall_back_to_server_name_and_are_refused_without_either(app, session):
    app.config.update(BASE_URL="", SERVER_NAME="stock.example.org", PREFERRED_URL_SCHEME="https")
    message = mail.enqueue(session, "a@example.com", "Hello", "test", {"note": "x"}, kind="test")
    assert "https://stock.example.org/reorders" in message.text_body
    app.config.update(SERVER_NAME=None)
    with pytest.raises(mail.MailNotConfigured, match="BASE_URL"):
        mail.enqueue(session, "a@example.com", "Hello", "test", {"note": "x"}, kind="test")


def test_sends_text_and_html_parts_once_and_marks_them_sent(app, session, smtp):
    queue(session, 2)
    result = mail.send_pending(session, app.config, NOW)
    assert (result.sent, result.retrying, result.failed) == (2, 0, 0)
    assert sorted(m["Subject"] for m in smtp.messages) == ["Test message 0", "Test message 1"]
    message = smtp.messages[0]
    assert message["From"] == "Swag stock <stock@example.com>"
    assert smtp.envelopes[0] == ["manager@example.com"]
    assert "number" in MailServer.text(message) and "<p>" in MailServer.html(message)
    assert {row.status for row in session.scalars(select(OutboxMessage))} == {SENT}
    assert mail.send_pending(session, app.config, NOW + timedelta(hours=2)).sent == 0
    assert len(smtp.messages) == 2


def test_server_down_keeps_mail_queued_with_the_error_and_delivers_it_once_later(app, session, smtp):
    queue(session, 3)
    smtp.stop()
    result = mail.send_pending(session, app.config, NOW)
    assert (result.sent, result.retrying) == (0, 3)
    rows = session.scalars(select(OutboxMessage)).all()
    assert all(row.status == QUEUED and row.attempts == 1 for row in rows)
    assert all("Connection refused" in row.last_error or "ConnectionRefused" in row.last_error for row in rows)
    assert all(row.next_attempt_at == NOW + timedelta(minutes=1) for row in rows)

    # Not due yet: nothing is tried again before its back-off ends.
    assert mail.send_pending(session, app.config, NOW + timedelta(seconds=30)).retrying == 0
    # Still down a minute later: the back-off doubles.
    mail.send_pending(session, app.config, NOW + timedelta(minutes=1))
    session.expire_all()
    assert {(r.attempts, r.next_attempt_at) for r in session.scalars(select(OutboxMessage))} == \
        {(2, NOW + timedelta(minutes=3))}

    smtp.start()
    assert mail.send_pending(session, app.config, NOW + timedelta(minutes=3)).sent == 3
    assert mail.send_pending(session, app.config, NOW + timedelta(hours=5)).sent == 0
    assert sorted(m["Subject"] for m in smtp.messages) == [f"Test message {n}" for n in range(3)]
    session.expire_all()
    assert {(r.status, r.last_error) for r in session.scalars(select(OutboxMessage))} == {(SENT, "")}


def test_back_off_doubles_up_to_an_hour_and_gives_up_after_max_attempts(app, session, smtp):
    assert [mail.backoff(n) for n in (1, 2, 3, 4, 7, 8, 12)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 60, 60, 60)]
    queue(session, 1)
    smtp.stop()
    now = NOW
    for _ in range(mail.MAX_ATTEMPTS):
        mail.send_pending(session, app.config, now)
        now += timedelta(hours=2)
    row = session.scalars(select(OutboxMessage)).one()
    session.refresh(row)
    assert (row.status, row.attempts) == (FAILED, mail.MAX_ATTEMPTS)
    assert row.last_error


def test_missing_settings_are_refused_before_anything_is_claimed(app, session):
    app.config.update(BASE_URL="https://stock.example.com", MAIL_SERVER="", MAIL_FROM="")
    queue(session, 1)
    with pytest.raises(mail.MailNotConfigured, match="MAIL_SERVER and MAIL_FROM"):
        mail.send_pending(session, app.config, NOW)
    assert session.scalars(select(OutboxMessage)).one().status == QUEUED


def test_two_senders_at_once_send_each_message_once(app, session, smtp):
    queue(session, 40)
    barrier = threading.Barrier(2)
    errors = []

    def sender():
        try:
            with app.app_context():
                barrier.wait()
                while mail.send_pending(db.session, app.config, NOW, batch=3).sent:
                    pass
                db.session.remove()
        except Exception as error:  # surfaced below: a thread's exception would be lost
            errors.append(error)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    subjects = [m["Subject"] for m in smtp.messages]
    assert sorted(subjects) == sorted(f"Test message {n}" for n in range(40))
    session.expire_all()
    rows = session.scalars(select(OutboxMessage)).all()
    assert {row.status for row in rows} == {SENT}
    assert len({row.claimed_by for row in rows}) >= 1


def test_managers_see_the_outbox_and_resend_a_failed_email(app, session, client, login, smtp):
    queue(session, 2)
    failed = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).first()
    failed.status, failed.attempts, failed.last_error = FAILED, mail.MAX_ATTEMPTS, "SMTPDataError: 554 no"
    session.commit()
    login("manager")
    queued = client.get("/outbox").get_data(as_text=True)
    assert "Test message 1" in queued and "Test message 0" not in queued
    page = client.get("/outbox?status=failed").get_data(as_text=True)
    assert "Test message 0" in page and "SMTPDataError: 554 no" in page and "Send again" in page

    response = client.post(f"/outbox/{failed.id}/resend")
    assert response.status_code == 302
    session.refresh(failed)
    assert (failed.status, failed.attempts) == (QUEUED, 0)
    assert mail.send_pending(session, app.config, utcnow() + timedelta(days=1)).sent == 2
    assert "only a failed one" in client.post(f"/outbox/{failed.id}/resend", follow_redirects=True) \
        .get_data(as_text=True)
    assert "Test message 0" in client.get("/outbox?status=sent").get_data(as_text=True)


def test_the_outbox_is_for_managers_only(app, client, login):
    login("rep")
    assert client.get("/outbox").status_code == 403
    assert client.post("/outbox/1/resend").status_code == 403


def test_a_message_that_cannot_be_built_fails_alone_and_the_rest_go_out(app, session, smtp):
    broken = mail.enqueue(session, "a@example.com", "Two\nlines", "test", {"note": "x"}, kind="test")
    fine = mail.enqueue(session, "b@example.com", "One line", "test", {"note": "y"}, kind="test")
    session.commit()
    result = mail.send_pending(session, app.config, utcnow() + timedelta(seconds=1))
    assert (result.sent, result.failed, result.retrying) == (1, 1, 0)
    session.expire_all()
    assert session.get(OutboxMessage, broken.id).status == FAILED
    assert "linefeed" in session.get(OutboxMessage, broken.id).last_error
    assert session.get(OutboxMessage, fine.id).status == SENT
    assert [m["Subject"] for m in smtp.messages] == ["One line"]
