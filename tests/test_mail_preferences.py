"""Who gets which e-mail: each person's choices on the profile page, the managers' opt-in to the
reorder digest, the "shipped" and "due back" e-mails, and the admins' test e-mail, all delivered
by a real SMTP server (aiosmtpd on loopback)."""
import threading
from datetime import date, timedelta

import pytest
from mail_server import MailServer
from sqlalchemy import delete, select

from inventory.events.models import Event
from inventory.extensions import db
from inventory.mail import preferences
from inventory.mail import services as mail
from inventory.mail.models import MailPreference, OutboxMessage, ReturnReminder
from inventory.requests import emails, fulfilment, handover, review, submission
from inventory.timeutil import utcnow

TODAY = date.today()
BASE = "https://stock.example.com"


@pytest.fixture
def people(make_user):
    return {"rep": make_user("rep", email="rep@example.com", name="Rita Rep"),
            "manager": make_user("manager", email="boss@example.com"),
            "staff": make_user("staff", email="stock@example.com"),
            "admin": make_user("admin", email="admin@example.com")}


def deliver(session, app):
    return mail.send_pending(session, app.config, utcnow() + timedelta(seconds=1))


def outbox(session):
    session.expire_all()
    return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def handed_over(session, people, item, bin, *, handoff="pickup", ship_to="", return_by=None, note="", days=5):
    """A request taken through approval, picking and hand-over by the real rules."""
    details = {"return_by": return_by} if return_by else {}
    request = submission.submit(session, people["rep"], [(item, 2)], purpose="client_meeting",
                                needed_by=TODAY + timedelta(days=days), handoff=handoff, ship_to=ship_to, **details)
    review.approve(session, request.id, people["manager"])
    fulfilment.pick(session, request.id, bin, {request.lines[0].id: 2}, people["staff"])
    return handover.hand_over(session, request.id, people["staff"], note=note)


def link_in(message, path_start):
    text = MailServer.text(message)
    url = next(word for word in text.split() if word.startswith(BASE + path_start))
    assert f'href="{url}"' in MailServer.html(message)
    return url.removeprefix(BASE)


# --- choices -------------------------------------------------------------------------------

def test_defaults_request_mails_on_digest_off_and_each_role_sees_its_own_kinds(session, people):
    rep, manager = people["rep"], people["manager"]
    assert preferences.choices(session, rep) == {
        "request_approved": True, "request_rejected": True, "request_ready": True, "request_shipped": True,
        "return_reminder": True}
    assert preferences.choices(session, manager)["reorder_digest"] is False
    assert preferences.choices(session, manager)["rush_request"] is True
    assert "rush_request" not in preferences.choices(session, people["admin"])
    assert not preferences.wants(session, rep, "reorder_digest")  # not a rep's kind, whatever is stored


def test_saving_ignores_kinds_the_role_cannot_get(session, people):
    rep = people["rep"]
    preferences.save(session, rep, {"request_approved": False, "reorder_digest": True, "made_up": True})
    session.expire_all()
    stored = session.execute(select(MailPreference.kind, MailPreference.enabled)
                             .where(MailPreference.user_id == rep.id)).all()
    assert stored == [("request_approved", False)]
    preferences.save(session, rep, {"request_approved": True})
    assert preferences.wants(session, rep, "request_approved")


def test_a_rep_who_turned_approval_mails_off_gets_none_but_still_hears_of_a_rejection(app, session, smtp, people,
                                                                                   make_item):
    preferences.save(session, people["rep"], {"request_approved": False})
    item = make_item("PEN-1", on_hand=10)
    first = submission.submit(session, people["rep"], [(item, 1)], purpose="client_meeting",
                              needed_by=TODAY + timedelta(days=7))
    review.approve(session, first.id, people["manager"])
    second = submission.submit(session, people["rep"], [(item, 1)], purpose="client_meeting",
                               needed_by=TODAY + timedelta(days=7))
    review.reject(session, second.id, people["manager"], "Duplicate")
    assert [m.kind for m in outbox(session)] == ["request_rejected"]
    deliver(session, app)
    assert [m["Subject"] for m in smtp.messages] == [f"Rejected: {second.number}: Duplicate"]


def test_a_manager_who_turned_rush_mails_off_is_left_out(app, session, smtp, people, make_user, make_item):
    other = make_user("manager", email="other-boss@example.com")
    preferences.save(session, other, {"rush_request": False})
    submission.submit(session, people["rep"], [(make_item("PEN-1", on_hand=10), 1)], purpose="client_meeting",
                      needed_by=TODAY + timedelta(days=1))
    deliver(session, app)
    assert smtp.envelopes == [["boss@example.com"]]


def test_the_profile_page_saves_the_choices(session, client, auth_client, people):
    auth_client.login(people["rep"])
    page = client.get("/profile").get_data(as_text=True)
    assert "My request is approved" in page and "Reorder digest" not in page
    # Unticked boxes are not sent: everything but "shipped" is turned off. A manager-only kind
    # slipped into the form is ignored.
    response = client.post("/profile", data={"mail-save": "Save", "mail-request_shipped": "y",
                                             "mail-reorder_digest": "y"})
    assert response.status_code == 302
    assert preferences.choices(session, people["rep"]) == {
        "request_approved": False, "request_rejected": False, "request_ready": False, "request_shipped": True,
        "return_reminder": False}
    page = client.get("/profile").get_data(as_text=True)
    assert '<input checked id="mail-request_shipped"' in page and page.count("<input checked") == 1


def test_a_manager_opts_in_to_the_digest_on_the_profile_page(session, client, auth_client, people):
    auth_client.login(people["manager"])
    assert "Reorder digest" in client.get("/profile").get_data(as_text=True)
    client.post("/profile", data={"mail-save": "Save", "mail-reorder_digest": "y", "mail-rush_request": "y"})
    assert preferences.subscribers(session, "reorder_digest") == ["boss@example.com"]


# --- the reorder digest to opted-in managers -----------------------------------------------------

@pytest.fixture
def short_for_a_show(session, make_item, people):
    """A show in three weeks needs 30 tote bags; 10 are on hand and the supplier needs 30 days."""
    ship = TODAY + timedelta(days=21)
    event = Event(name="Spring Expo", place="Hall 4", starts_on=ship, ends_on=ship, ship_by=ship)
    session.add(event)
    session.commit()
    tote = make_item("TOTE-1", name="Tote bag", on_hand=10, supplier="Bags & Co", lead_time_days=30,
                     reorder_quantity=50)
    submission.submit(session, people["rep"], [(tote, 30)], purpose="trade_show", needed_by=ship, event_id=event.id,
                      allow_partial=True)
    return event


def test_send_alerts_mails_the_digest_to_opted_in_managers_only(app, runner, session, smtp, people, make_user,
                                                               short_for_a_show):
    make_user("manager", email="not-interested@example.com")
    preferences.save(session, people["manager"], {"reorder_digest": True})
    result = runner.invoke(args=["send-alerts"])
    assert result.exit_code == 0, result.output
    assert smtp.envelopes == [["boss@example.com"]]
    assert "Spring Expo" in smtp.messages[0]["Subject"]


def test_digest_recipients_join_alert_recipients_without_sending_twice(app, session, smtp, people):
    app.config["ALERT_RECIPIENTS"] = ["Boss@example.com", "buyer@example.com"]
    preferences.save(session, people["manager"], {"reorder_digest": True})
    from inventory.mail.alerts import digest_recipients
    assert digest_recipients(session, app.config) == ["Boss@example.com", "buyer@example.com"]


def test_send_alerts_with_nobody_to_tell_says_how_to_fix_it(app, runner, smtp, people, short_for_a_show):
    result = runner.invoke(args=["send-alerts"])
    assert result.exit_code != 0
    assert "ALERT_RECIPIENTS" in result.output and "profile" in result.output
    assert smtp.messages == []


# --- shipped -----------------------------------------------------------------------------------

def test_a_shipped_request_mails_the_rep_with_the_address_note_and_a_working_link(app, session, client, auth_client,
                                                                              smtp, people, make_item, make_bin):
    request = handed_over(session, people, make_item("PEN-1", on_hand=10), make_bin("A-01"), handoff="ship",
                          ship_to="Acme Corp\n1 Main St, Springfield", note="UPS 1Z999")
    deliver(session, app)
    message = smtp.messages[-1]
    assert smtp.envelopes[-1] == ["rep@example.com"]
    assert message["Subject"] == f"Shipped: {request.number}"
    text = MailServer.text(message).replace("\r\n", "\n")
    assert "Acme Corp\n1 Main St, Springfield" in text and "UPS 1Z999" in text and "2 x PEN-1" in text
    auth_client.login(people["rep"])
    page = client.get(link_in(message, "/requests/"))
    assert page.status_code == 200 and request.number in page.get_data(as_text=True)


def test_a_pick_up_sends_no_shipped_mail_and_an_opted_out_rep_gets_none(app, session, smtp, people, make_item,
                                                                      make_bin):
    item, bin = make_item("PEN-1", on_hand=10), make_bin("A-01")
    handed_over(session, people, item, bin)
    preferences.save(session, people["rep"], {"request_shipped": False})
    handed_over(session, people, item, bin, handoff="ship", ship_to="Acme Corp")
    assert "request_shipped" not in [m.kind for m in outbox(session)]


# --- due back tomorrow / overdue ---------------------------------------------------------------

# A Wednesday at least three days ahead: weekends play no part in the tests below.
DUE = TODAY + timedelta(days=3 + (2 - (TODAY + timedelta(days=3)).weekday()) % 7)


@pytest.fixture
def loaned_banner(session, people, make_item, make_bin):
    """Two roll-up banners out to the rep, due back on Wednesday DUE."""
    banner = make_item("BANNER-1", name="Roll-up banner", category="display", on_hand=3, returnable=True)
    request = handed_over(session, people, banner, make_bin("A-01"), return_by=DUE, days=1)
    session.execute(delete(OutboxMessage))  # the rush, approved and ready e-mails: not what is tested here
    session.commit()
    return request


def run_alerts(runner, day):
    return runner.invoke(args=["send-alerts", "--today", day.isoformat()])


def test_due_back_tomorrow_and_overdue_are_each_mailed_once(app, runner, session, client, auth_client, smtp, people,
                                                            loaned_banner):
    app.config["ALERT_RECIPIENTS"] = ["buyer@example.com"]
    number = loaned_banner.number
    assert run_alerts(runner, DUE - timedelta(days=2)).exit_code == 0
    assert smtp.messages == []  # due the day after tomorrow: nothing yet

    assert run_alerts(runner, DUE - timedelta(days=1)).exit_code == 0
    assert run_alerts(runner, DUE - timedelta(days=1)).exit_code == 0  # twice: still one e-mail
    (reminder,) = smtp.messages
    assert reminder["Subject"] == f"Due back tomorrow: {number}"
    assert "2 x BANNER-1 (Roll-up banner)" in MailServer.text(reminder)
    auth_client.login(people["rep"])
    assert number in client.get(link_in(reminder, "/requests/")).get_data(as_text=True)

    assert run_alerts(runner, DUE).exit_code == 0  # due today: no e-mail
    assert run_alerts(runner, DUE + timedelta(days=2)).exit_code == 0
    assert run_alerts(runner, DUE + timedelta(days=3)).exit_code == 0
    assert [m["Subject"] for m in smtp.messages] == [
        f"Due back tomorrow: {number}", f"Overdue: {number}, due back {DUE.day} {DUE:%b}"]
    assert "2 days overdue" in MailServer.text(smtp.messages[-1])
    assert all(envelope == ["rep@example.com"] for envelope in smtp.envelopes)


def test_returned_requests_get_no_reminder_and_opted_out_reps_get_none(app, runner, session, smtp, people,
                                                                       loaned_banner, make_bin):
    app.config["ALERT_RECIPIENTS"] = ["buyer@example.com"]
    preferences.save(session, people["rep"], {"return_reminder": False})
    assert run_alerts(runner, DUE - timedelta(days=1)).exit_code == 0
    assert smtp.messages == []
    # Recorded as done, so turning reminders back on never sends a stale one.
    assert session.scalars(select(ReturnReminder.kind)).all() == ["due_tomorrow"]
    line = loaned_banner.lines[0]
    fulfilment.check_in(session, loaned_banner.id, make_bin("A-01"), {line.id: {"returned": 2}}, people["staff"])
    preferences.save(session, people["rep"], {"return_reminder": True})
    assert run_alerts(runner, DUE + timedelta(days=9)).exit_code == 0
    assert smtp.messages == []


# --- the admin's test e-mail ---------------------------------------------------------------------

def test_an_admin_sends_a_test_email_through_the_real_server(app, client, auth_client, smtp, people):
    auth_client.login(people["admin"])
    page = client.get("/outbox").get_data(as_text=True)
    assert "Send test e-mail" in page and 'value="admin@example.com"' in page
    response = client.post("/outbox/test", data={"to": "it@example.com"}, follow_redirects=True)
    assert "Test e-mail sent to it@example.com" in response.get_data(as_text=True)
    (message,) = smtp.messages
    assert smtp.envelopes == [["it@example.com"]]
    assert message["Subject"] == "Test e-mail from Swag stock"
    assert "sent by admin@example.com" in MailServer.text(message)


def test_a_test_email_to_a_stopped_server_says_why(app, client, auth_client, smtp, people):
    smtp.stop()
    auth_client.login(people["admin"])
    response = client.post("/outbox/test", data={"to": "it@example.com"}, follow_redirects=True)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f"The mail server 127.0.0.1:{smtp.port} did not take the test e-mail" in body
    assert "ConnectionRefusedError" in body


def test_a_test_email_needs_an_address_and_mail_settings(app, client, auth_client, smtp, people):
    auth_client.login(people["admin"])
    body = client.post("/outbox/test", data={"to": "not an address"}, follow_redirects=True).get_data(as_text=True)
    assert "Enter an e-mail address like name@example.com." in body
    app.config["MAIL_SERVER"] = ""
    body = client.post("/outbox/test", data={"to": "it@example.com"}, follow_redirects=True).get_data(as_text=True)
    assert "Mail is not configured: set MAIL_SERVER" in body
    assert smtp.messages == []


def test_only_admins_send_test_emails(app, client, auth_client, smtp, people):
    auth_client.login(people["manager"])
    assert "Send test e-mail" not in client.get("/outbox").get_data(as_text=True)
    assert client.post("/outbox/test", data={"to": "it@example.com"}).status_code == 403
    assert smtp.messages == []


def test_on_a_friday_a_monday_return_is_reminded_before_the_weekend(app, runner, session, smtp, people, make_item,
                                                                     make_bin):
    app.config["ALERT_RECIPIENTS"] = ["buyer@example.com"]
    friday = TODAY + timedelta(days=(4 - TODAY.weekday()) % 7 or 7)
    monday = friday + timedelta(days=3)
    banner = make_item("BANNER-1", name="Roll-up banner", category="display", on_hand=3, returnable=True)
    request = handed_over(session, people, banner, make_bin("A-01"), return_by=monday, days=1)
    session.execute(delete(OutboxMessage))
    session.commit()
    assert run_alerts(runner, friday - timedelta(days=1)).exit_code == 0
    assert smtp.messages == []
    assert run_alerts(runner, friday).exit_code == 0
    assert [m["Subject"] for m in smtp.messages] == [f"Due back on Monday {monday.day} {monday:%b}: {request.number}"]


def test_a_rejection_reason_with_line_breaks_still_reaches_the_rep(app, session, smtp, people, make_item):
    """The reason goes into the subject: a line break there (a reason pasted into the form or
    sent by the API) made the message unsendable, and the rep never heard of the rejection."""
    item = make_item("PEN-1", on_hand=10)
    request = submission.submit(session, people["rep"], [(item, 1)], purpose="client_meeting",
                                needed_by=TODAY + timedelta(days=7))
    review.reject(session, request.id, people["manager"], "Duplicate\r\nBcc: someone@example.org\nsee R-1")
    result = deliver(session, app)
    assert result.sent == 1 and result.retrying == 0
    assert [m["Subject"] for m in smtp.messages] == [
        f"Rejected: {request.number}: Duplicate Bcc: someone@example.org see R-1"]
    assert "someone@example.org" not in smtp.messages[0].get("Bcc", "")


def run_two_at_once(app, first, second, first_paused, second_done):
    """Run `first` and `second` in two threads with their own sessions; `second` starts once
    `first` has paused (first_paused), and says when it is done (second_done). Returns the
    errors either raised."""
    errors = []

    def run(work, is_second):
        try:
            with app.app_context():
                if is_second:
                    first_paused.wait(10)
                work()
                db.session.remove()
        except Exception as error:  # surfaced by the caller
            errors.append(error)
        finally:
            if is_second:
                second_done.set()

    threads = [threading.Thread(target=run, args=(first, False)), threading.Thread(target=run, args=(second, True))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_two_hosts_queueing_return_reminders_at_once_queue_one_and_neither_fails(app, session, smtp, people,
                                                                                 loaned_banner, monkeypatch):
    """send-alerts runs on every host: the second must wait for the first and find the reminder
    done, not crash on the unique reminder row (which also skipped its digest and sending)."""
    first_paused, second_done = threading.Event(), threading.Event()
    real_wanting, calls = preferences.wanting, []

    def slow_wanting(session, key, user_ids):  # the first run pauses after reading what was done
        calls.append(key)
        if len(calls) == 1:
            first_paused.set()
            second_done.wait(2)  # with the fix the second run waits for this one: time out, go on
        return real_wanting(session, key, user_ids)

    monkeypatch.setattr(preferences, "wanting", slow_wanting)
    queued = []

    def queue():
        queued.append(emails.queue_return_reminders(db.session, DUE - timedelta(days=1)))

    assert run_two_at_once(app, queue, queue, first_paused, second_done) == []
    assert calls == ["return_reminder", "return_reminder"]
    assert sorted(queued) == [0, 1]
    session.expire_all()
    assert [m.kind for m in outbox(session)] == ["return_reminder"]
    assert session.scalars(select(ReturnReminder.kind)).all() == ["due_tomorrow"]


def test_two_saves_of_the_same_choice_at_once_both_succeed(app, session, people):
    """A double click on the profile page: both saves read "no row yet" on PostgreSQL and the
    second failed on the unique (user, kind) row."""
    first_paused, second_done = threading.Event(), threading.Event()
    user_id = people["rep"].id
    session.commit()

    class PausingSession:  # the first save stops after its first statement, the second runs meanwhile
        def __init__(self, real):
            self.real, self.paused = real, False

        def __getattr__(self, name):
            attribute = getattr(self.real, name)
            if name not in ("execute", "scalars", "scalar"):
                return attribute

            def call(*args, **kwargs):
                result = attribute(*args, **kwargs)
                if not self.paused:
                    self.paused = True
                    result = result.all() if name == "scalars" else result
                    first_paused.set()
                    second_done.wait(2)  # the fixed save makes the second wait: time out, go on
                return result
            return call

    def save(session_of=lambda real: real):
        user = db.session.get(type(people["rep"]), user_id)
        preferences.save(session_of(db.session()), user, {"request_ready": False})

    errors = run_two_at_once(app, lambda: save(PausingSession), save, first_paused, second_done)
    assert errors == []
    session.expire_all()
    assert preferences.choices(session, people["rep"])["request_ready"] is False
    assert len(session.scalars(select(MailPreference).where(MailPreference.user_id == user_id)).all()) == 1
