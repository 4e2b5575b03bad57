"""The reorder digest in chat channels (chat/digest.py through `flask send-alerts`): the same news
as the e-mail, once per situation, posted to a real HTTP receiver on loopback; chat alone needs
no mail settings; a channel about one event gets that event's lines only. The Expo West setup of
test_mail_alerts.py (brochures to order by 3 Mar 2027)."""
import json

import pytest
from chat_receiver import Receiver
from sqlalchemy import select

from inventory.chat import services as chat
from inventory.events.models import Event
from inventory.extensions import db
from inventory.mail.models import SENT, OutboxMessage
from test_mail_alerts import SHIP, expo, send_alerts  # noqa: F401  (expo: a fixture)


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def chat_app(app):
    app.config.update(ALLOW_PRIVATE_WEBHOOKS=True, CHAT_READ_TIMEOUT=2, CHAT_CONNECT_TIMEOUT=1,
                      BASE_URL="https://stock.example.com")
    return app


def channel(app, receiver, name="Marketing", kind="slack", **fields):
    return chat.create_channel(db.session, app.config, name=name, kind=kind, url=receiver.url(f"/hook/{name}"),
                               topics="digest", **fields)


def posted(receiver):
    return [(path, json.loads(body)) for path, _headers, body, answer in receiver.requests if answer == ("ok",)]


def test_the_digest_is_posted_once_beside_the_e_mail(chat_app, runner, smtp, expo, receiver):  # noqa: F811
    chat_app.config["ALERT_RECIPIENTS"] = ["buyer@example.com"]
    channel(chat_app, receiver)
    result = send_alerts(runner)
    assert result.exit_code == 0, result.output
    assert "Queued the digest for 1 chat channel" in result.output and "Posted 1 chat message" in result.output
    ((path, message),) = posted(receiver)
    assert path == "/hook/Marketing" and message["text"] == "Order by 3 Mar: 2 items for Expo West"
    text = json.dumps(message["blocks"])
    assert "Expo West" in text and text.index("BRO-EXPO") < text.index("TOTE-1")  # most urgent first
    # The pre-filled PO, as in the e-mail (Slack reads &amp; in a link as &).
    assert "/purchase-orders/new?supplier=PrintWorks&amp;line=BRO-EXPO%3A1000&amp;event_id=" in text
    assert len(smtp.messages) == 1  # and the e-mail, as before
    again = send_alerts(runner)
    assert again.exit_code == 0 and "Nothing new" in again.output
    assert len(posted(receiver)) == 1 and len(smtp.messages) == 1


def test_chat_alone_needs_no_mail_settings(chat_app, runner, session, expo, receiver):  # noqa: F811
    channel(chat_app, receiver, kind="teams")
    result = send_alerts(runner)
    assert result.exit_code == 0, result.output
    assert "Only the chat channels get the digest" in result.output
    ((_path, card),) = posted(receiver)
    assert card["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "BRO-EXPO" in json.dumps(card)
    sent = session.scalars(select(OutboxMessage)).all()
    assert [(m.kind, m.status) for m in sent] == [("chat", SENT)]  # no e-mail queued for nobody


def test_a_channel_about_another_event_gets_nothing(chat_app, runner, session, expo, receiver):  # noqa: F811
    other = Event(name="Summit", place="Berlin", starts_on=SHIP, ends_on=SHIP, ship_by=SHIP)
    session.add(other)
    session.commit()
    channel(chat_app, receiver, name="Summit-team", event_id=other.id)
    channel(chat_app, receiver, name="Expo-team", event_id=expo["event"].id)
    result = send_alerts(runner)
    assert result.exit_code == 0, result.output
    assert [path for path, _message in posted(receiver)] == ["/hook/Expo-team"]


def test_without_mail_settings_or_a_channel_the_alerts_still_refuse(app, runner, expo):  # noqa: F811
    result = send_alerts(runner)
    assert result.exit_code != 0 and ("MAIL_SERVER" in result.output or "BASE_URL" in result.output)
    assert not db.session.scalars(select(OutboxMessage)).all()


def test_an_admin_sets_up_a_channel_from_the_command_line(chat_app, runner, session, receiver):
    url = receiver.url("/hook/T000-B000-secretXy4Z")
    added = runner.invoke(args=["chat-channel", "add", "Marketing", "--kind", "webhook", "--topics", "digest,rush"],
                          input=url + "\n")
    assert added.exit_code == 0, added.output
    assert "Added Marketing (webhook, 127.0.0.1" in added.output and "Signing key" in added.output
    assert url not in added.output and "secret" not in added.output  # the URL is never printed whole
    listed = runner.invoke(args=["chat-channel", "list"])
    assert "Marketing: webhook" in listed.output and "digest,rush" in listed.output and url not in listed.output
    tested = runner.invoke(args=["chat-channel", "test", "Marketing"])
    assert tested.exit_code == 0 and "answered 200" in tested.output, tested.output
    ((_path, message),) = posted(receiver)
    assert message["event"] == "test" and message["channel"] == "Marketing"
    assert runner.invoke(args=["chat-channel", "test", "Nobody"]).exit_code != 0
    bad = runner.invoke(args=["chat-channel", "add", "Ops", "--kind", "slack"], input="http://example.com/hook\n")
    assert bad.exit_code != 0 and "https" in bad.output
    assert runner.invoke(args=["chat-channel", "remove", "Marketing"]).exit_code == 0
    assert "No chat channels." in runner.invoke(args=["chat-channel", "list"]).output
