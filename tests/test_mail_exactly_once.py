"""Exactly once, for real: a sender renews and checks its claim before each message, a run never
outlives its claim, MAIL_TIMEOUT is read, and a message whose confirmation came too late is tried
once more with the same Message-ID, never a third time. Against a real SMTP server (aiosmtpd)."""
from datetime import datetime, timedelta

from sqlalchemy import select, update

from inventory.config import from_environment
from inventory.extensions import db
from inventory.mail import services as mail
from inventory.mail.models import QUEUED, SENDING, SENT, OutboxMessage

NOW = datetime(2027, 3, 1, 6, 0)


def queue(session, count=1):
    for n in range(count):
        mail.enqueue(session, "manager@example.com", f"Message {n}", "test", {"note": f"number {n}"}, kind="test")
    session.commit()


def rows(session):
    session.expire_all()
    return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_mail_timeout_is_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("MAIL_TIMEOUT", raising=False)
    assert from_environment(str(tmp_path))["MAIL_TIMEOUT"] == 60
    monkeypatch.setenv("MAIL_TIMEOUT", "90")
    assert from_environment(str(tmp_path))["MAIL_TIMEOUT"] == 90


def test_a_slow_server_within_the_timeout_gets_each_message_once(app, session, smtp):
    queue(session, 2)
    smtp.delay = 1
    app.config["MAIL_TIMEOUT"] = 4
    assert mail.send_pending(session, app.config, NOW).sent == 2
    assert len(smtp.messages) == 2 and {r.status for r in rows(session)} == {SENT}


def test_a_confirmation_too_late_is_tried_once_more_with_the_same_message_id_and_never_again(app, session, smtp):
    queue(session)
    smtp.delay = 2
    app.config["MAIL_TIMEOUT"] = 1
    first = mail.send_pending(session, app.config, NOW)
    assert (first.sent, first.retrying) == (0, 1)
    [row] = rows(session)
    assert row.status == QUEUED and row.last_error.startswith("maybe sent: ")
    second = mail.send_pending(session, app.config, NOW + timedelta(hours=1))
    assert second.sent == 1
    [row] = rows(session)
    assert row.status == SENT and "not sent again" in row.last_error
    assert mail.send_pending(session, app.config, NOW + timedelta(days=1)).sent == 0
    assert len(smtp.messages) == 2  # the one retry, no more
    ids = {m["Message-ID"] for m in smtp.messages}
    assert len(ids) == 1 and ids.pop().startswith(f"<outbox-{row.id}.")


def test_what_a_run_could_not_send_after_a_confirmation_too_late_is_no_maybe_sent(app, session, smtp, monkeypatch):
    """Only the message the server took without confirming is "maybe sent": the ones after it,
    put back when the server cannot be reached again, never got there (a later unconfirmed try
    must not mark them sent)."""
    queue(session, 2)
    smtp.delay = 2
    app.config["MAIL_TIMEOUT"] = 1
    monkeypatch.setattr(mail, "_reconnect_or_none", lambda config: None)
    assert mail.send_pending(session, app.config, NOW).retrying == 2
    first, second = rows(session)
    assert first.last_error.startswith("maybe sent: ")
    assert second.status == QUEUED and not second.last_error.startswith("maybe sent")


def test_a_refusal_after_the_message_is_not_taken_for_maybe_sent(app, session, smtp):
    """A server that answers 5xx to the message said no: that is not 'maybe sent'."""
    queue(session)

    async def refuse(server, session_, envelope):
        return "554 Transaction failed"

    smtp.handle_DATA = refuse
    result = mail.send_pending(session, app.config, NOW)
    assert result.retrying == 1
    assert not rows(session)[0].last_error.startswith("maybe sent")


def test_a_run_never_sends_a_message_whose_claim_another_sender_took(app, session, smtp):
    """While the first message is with the server, another sender takes over the second (this
    run's claim had gone stale): this run leaves it alone."""
    queue(session, 3)
    stolen = []

    def steal_the_next(_message):
        if stolen:
            return
        with app.app_context():
            second = db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)).all()[1]
            db.session.execute(update(OutboxMessage).where(OutboxMessage.id == second)
                               .values(claimed_by="other-host:1234", claimed_at=NOW + timedelta(minutes=20)))
            db.session.commit()
            db.session.remove()
            stolen.append(second)

    smtp.on_message = steal_the_next
    result = mail.send_pending(session, app.config, NOW)
    assert result.sent == 2 and len(smtp.messages) == 2
    taken = next(r for r in rows(session) if r.id == stolen[0])
    assert (taken.status, taken.claimed_by) == (SENDING, "other-host:1234")
    assert "Message 1" not in {m["Subject"] for m in smtp.messages}


def test_a_run_hands_back_what_it_did_not_get_to_before_its_time_is_up(app, session, smtp):
    queue(session, 3)
    smtp.delay = 1.2
    result = mail.send_pending(session, app.config, NOW, max_run=timedelta(seconds=1))
    assert result.sent == 1
    states = [(r.status, r.attempts, r.claimed_by) for r in rows(session)]
    assert states[0][0] == SENT and states[1:] == [(QUEUED, 0, None)] * 2
    smtp.delay = 0
    assert mail.send_pending(session, app.config, NOW + timedelta(seconds=5)).sent == 2
    assert len(smtp.messages) == 3


def test_a_recipient_refused_after_a_message_went_through_is_no_maybe_sent(app, session, smtp):
    """The 'handed over' mark is per message: a refusal at RCPT for the next one took nothing."""
    mail.enqueue(session, "good@example.com", "Good", "test", {"note": "x"}, kind="test")
    mail.enqueue(session, "bad@example.com", "Bad", "test", {"note": "x"}, kind="test")
    session.commit()

    async def refuse_bad(server, session_, envelope, address, rcpt_options):
        if address.startswith("bad@"):
            return "550 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp.handle_RCPT = refuse_bad
    result = mail.send_pending(session, app.config, NOW)
    assert (result.sent, result.retrying) == (1, 1)
    bad = next(r for r in rows(session) if r.to == "bad@example.com")
    assert bad.status == QUEUED and not bad.last_error.startswith("maybe sent")
    assert mail.send_pending(session, app.config, NOW + timedelta(hours=1)).sent == 0  # still refused, not "sent"
    assert [m["To"] for m in smtp.messages] == ["good@example.com"]


def test_maybe_sent_outlives_a_failure_of_another_kind_so_there_is_no_third_copy(app, session, smtp):
    queue(session)
    smtp.delay = 2
    app.config["MAIL_TIMEOUT"] = 1
    mail.send_pending(session, app.config, NOW)  # copy 1, unconfirmed
    smtp.stop()
    assert mail.send_pending(session, app.config, NOW + timedelta(hours=1)).retrying == 1  # server down
    [row] = rows(session)
    assert row.last_error.startswith("maybe sent: ") and "since then" in row.last_error
    smtp.start()
    mail.send_pending(session, app.config, NOW + timedelta(hours=2))  # copy 2, unconfirmed: no more
    smtp.delay = 0
    assert mail.send_pending(session, app.config, NOW + timedelta(days=1)).sent == 0
    assert len(smtp.messages) == 2 and rows(session)[0].status == SENT
