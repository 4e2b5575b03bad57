"""`flask --app inventory send-alerts` against a real SMTP server: one digest grouped by event,
sent once per situation, again when worse, a "resolved" line when cleared, nothing lost while
the server is down. Dates as in test_forecast.py: Expo West ships Wed 31 Mar 2027; with
PrintWorks' 21-day lead time the brochures must be ordered by Wed 3 Mar."""
import threading
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from mail_server import MailServer
from sqlalchemy import select

from inventory.events.models import Event
from inventory.extensions import db
from inventory.mail import alerts
from inventory.mail import services as mail
from inventory.mail.models import QUEUED, SENT, Alert, OutboxMessage
from inventory.requests import review, submission
from inventory.timeutil import utcnow

TODAY = date(2027, 3, 1)
SHIP = date(2027, 3, 31)


@pytest.fixture
def smtp(smtp, app):
    """The shared SMTP server, with two alert recipients."""
    app.config["ALERT_RECIPIENTS"] = ["buyer@example.com", "marketing@example.com"]
    return smtp


@pytest.fixture
def expo(session, make_item, make_user):
    """Expo West needs 700 brochures (500 on hand) and 30 tote bags (10 on hand)."""
    event = Event(name="Expo West", place="Anaheim", starts_on=SHIP, ends_on=SHIP, ship_by=SHIP)
    session.add(event)
    session.commit()
    brochure = make_item("BRO-EXPO", name="Expo brochure", category="print", on_hand=500, supplier="PrintWorks",
                         lead_time_days=21, reorder_quantity=1000)
    tote = make_item("TOTE-1", name="Tote bag", on_hand=10, supplier="Bags & Co", lead_time_days=10,
                     reorder_quantity=50)
    rep = make_user("rep")
    request = submission.submit(session, rep, [(brochure, 700), (tote, 30)], purpose="trade_show", needed_by=SHIP,
                                event_id=event.id, allow_partial=True, today=TODAY)
    return {"event": event, "brochure": brochure, "tote": tote, "request": request, "rep": rep}


def send_alerts(runner, today=TODAY):
    return runner.invoke(args=["send-alerts", "--today", today.isoformat()])


def test_one_digest_with_the_flagged_items_and_nothing_on_a_second_run(app, runner, smtp, expo):
    result = send_alerts(runner)
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 1
    (message,) = smtp.messages
    assert smtp.envelopes[0] == ["buyer@example.com", "marketing@example.com"]
    assert message["Subject"] == "Order by 3 Mar: 2 items for Expo West"
    text = MailServer.text(message)
    assert "Expo West" in text and f"https://stock.example.com/events/{expo['event'].id}" in text
    # Most urgent first: the brochures' order-by (3 Mar) comes before the totes' (15 Mar).
    assert text.index("BRO-EXPO") < text.index("TOTE-1")
    assert "ORDER SOON: BRO-EXPO (Expo brochure)" in text
    assert "Shortfall: 200; suggested quantity: 1000" in text and "Supplier: PrintWorks" in text
    html = MailServer.html(message)
    po_link = next(part.split('"')[0] for part in html.split('href="')[1:] if "/purchase-orders/new" in part)
    query = parse_qs(urlsplit(po_link.replace("&amp;", "&")).query)
    assert po_link.startswith("https://stock.example.com/purchase-orders/new?")
    assert query == {"supplier": ["PrintWorks"], "line": ["BRO-EXPO:1000"], "event_id": [str(expo["event"].id)]}

    again = send_alerts(runner)
    assert again.exit_code == 0, again.output
    assert "Nothing new" in again.output
    assert len(smtp.messages) == 1


def test_the_po_link_opens_a_prefilled_purchase_order(app, client, login, runner, smtp, expo):
    send_alerts(runner)
    html = MailServer.html(smtp.messages[0])
    po_link = next(part.split('"')[0] for part in html.split('href="')[1:] if "/purchase-orders/new" in part)
    login("manager")
    page = client.get(po_link.replace("&amp;", "&").replace("https://stock.example.com", ""))
    assert page.status_code == 200
    assert "BRO-EXPO" in page.get_data(as_text=True)


def test_an_item_is_alerted_again_when_worse_and_resolved_once_cleared(app, session, runner, smtp, expo):
    send_alerts(runner)
    # Three days later the order-by date has passed for the brochures: worse, so alerted again.
    send_alerts(runner, TODAY + timedelta(days=3))
    assert len(smtp.messages) == 2
    text = MailServer.text(smtp.messages[1])
    assert smtp.messages[1]["Subject"].startswith("Expedite: 1 item for Expo West")
    assert "EXPEDITE: BRO-EXPO (Expo brochure) (was Order soon)" in text
    assert "TOTE-1" not in text  # unchanged: not repeated

    review.cancel(session, expo["request"].id, expo["rep"])
    send_alerts(runner, TODAY + timedelta(days=3))
    assert len(smtp.messages) == 3
    assert smtp.messages[2]["Subject"] == "Reorders: 2 items resolved"
    resolved = MailServer.text(smtp.messages[2])
    assert "Resolved" in resolved and "BRO-EXPO" in resolved and "TOTE-1" in resolved
    assert session.scalars(select(Alert)).all() == []
    send_alerts(runner, TODAY + timedelta(days=3))
    assert len(smtp.messages) == 3


def test_server_down_keeps_the_digest_queued_and_delivers_it_once_when_back(app, session, runner, smtp, expo):
    smtp.stop()
    result = send_alerts(runner)
    assert result.exit_code == 1
    assert "stay queued" in result.output
    row = session.scalars(select(OutboxMessage)).one()
    assert (row.status, row.attempts, row.kind) == (QUEUED, 1, "reorder_digest")
    assert "refused" in row.last_error.lower()
    again = send_alerts(runner)  # the digest waits for its back-off; the alert is not queued twice
    assert again.exit_code == 0 and "Nothing new" in again.output
    assert len(session.scalars(select(OutboxMessage)).all()) == 1

    smtp.start()
    assert mail.send_pending(session, app.config, utcnow() + timedelta(hours=1)).sent == 1
    assert runner.invoke(args=["send-mail"]).exit_code == 0
    assert len(smtp.messages) == 1
    session.expire_all()
    assert session.scalars(select(OutboxMessage)).one().status == SENT


@pytest.mark.parametrize("missing, named", [
    ({"MAIL_SERVER": ""}, "MAIL_SERVER"),
    ({"MAIL_FROM": ""}, "MAIL_FROM"),
    ({"ALERT_RECIPIENTS": []}, "ALERT_RECIPIENTS"),
    ({"BASE_URL": ""}, "BASE_URL"),
])
def test_missing_mail_settings_exit_non_zero_and_queue_nothing(app, session, runner, smtp, expo, missing, named):
    app.config.update(missing)
    result = send_alerts(runner)
    assert result.exit_code != 0
    assert named in result.output
    assert session.scalars(select(OutboxMessage)).all() == []
    assert session.scalars(select(Alert)).all() == []


def test_send_mail_without_settings_exits_non_zero(app, runner):
    app.config.update(MAIL_SERVER="", MAIL_FROM="")
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code != 0 and "MAIL_SERVER" in result.output


def test_two_hosts_running_the_alerts_at_once_queue_one_digest(app, smtp, expo):
    barrier = threading.Barrier(2)
    errors, digests = [], []

    def run():
        try:
            with app.app_context():
                barrier.wait()
                digests.append(alerts.queue_reorder_digest(db.session, app.config, TODAY, utcnow()))
                db.session.remove()
        except Exception as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len([d for d in digests if d is not None]) == 1
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 1
