"""Chat notifications through the outbox, against a real HTTP receiver on loopback
(tests/chat_receiver.py): each message delivered exactly once whatever the receiver does (429,
500, a hang, a cut answer, down), 4xx failed at once with the answer, Retry-After honoured, the
generic webhook signed, addresses checked, URLs encrypted."""
import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from chat_receiver import Receiver
from conftest import make_test_app
from inventory.chat import addresses, delivery
from inventory.chat import services as chat
from inventory.chat.models import ChatChannel
from inventory.chat.secrets import Undecryptable, decrypt
from inventory.chat.sender import send_chat_pending
from inventory.config import from_environment
from inventory.errors import Conflict, DomainError, InvalidInput
from inventory.extensions import db
from inventory.mail import services as mail
from inventory.mail.models import FAILED, QUEUED, SENT, OutboxMessage
from inventory.timeutil import utcnow

SLACK_PATH = "/services/T000/B000/secretXy4Z"


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def chat_app(app):
    app.config.update(ALLOW_PRIVATE_WEBHOOKS=True, CHAT_READ_TIMEOUT=0.5, CHAT_CONNECT_TIMEOUT=1)
    return app


def channel(app, receiver, name="Stockroom", kind="slack", topics="rush", path=SLACK_PATH, **fields):
    return chat.create_channel(db.session, app.config, name=name, kind=kind, url=receiver.url(path),
                               topics=topics, **fields)


def queue(session, target, count=1):
    messages = [chat.enqueue_chat(session, target, f"Rush {n}", {"text": f"rush request {n}", "n": n})
                for n in range(count)]
    session.commit()
    return [m.id for m in messages]


def rows(session):
    session.commit()  # a fresh read: other sessions (threads, another app) wrote since
    return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def accepted_once(receiver, ids):
    return receiver.accepted == {f"outbox-{i}": 1 for i in ids}


def test_a_message_is_posted_once_and_marked_sent(chat_app, session, receiver):
    target = channel(chat_app, receiver)
    ids = queue(session, target, 2)
    now = utcnow()
    result = send_chat_pending(session, chat_app.config, now)
    assert (result.sent, result.retrying, result.failed) == (2, 0, 0)
    assert accepted_once(receiver, ids)
    path, headers, body, _ = receiver.requests[0]
    assert path == SLACK_PATH and headers["Content-Type"] == "application/json"
    assert "X-Swag-Signature" not in headers
    assert json.loads(body) == {"text": "rush request 0", "n": 0}
    assert {(r.status, r.to, r.subject) for r in rows(session)} == {(SENT, "Stockroom", "Rush 0"),
                                                                   (SENT, "Stockroom", "Rush 1")}
    assert send_chat_pending(session, chat_app.config, now + timedelta(days=1)).sent == 0
    assert accepted_once(receiver, ids)


def test_enqueue_chat_only_adds_to_the_callers_transaction(chat_app, session, receiver):
    target = channel(chat_app, receiver)
    chat.enqueue_chat(session, target, "Rolled back", {"text": "x"})
    session.rollback()
    assert rows(session) == []


@pytest.mark.parametrize("fault", [
    ("status", 500, "upstream trouble"),
    ("status", 503, "try later"),
    ("hang", 2),
    ("cut",),
], ids=["500", "503", "hang", "cut"])
def test_after_a_fault_each_message_is_delivered_exactly_once(chat_app, session, receiver, fault):
    target = channel(chat_app, receiver)
    ids = queue(session, target, 3)
    receiver.mode = fault
    now = utcnow()
    first = send_chat_pending(session, chat_app.config, now)
    assert first.sent == 0 and first.retrying == 3 and first.failed == 0
    assert len(receiver.requests) == 1  # the channel's server failed: the rest of it waits this run
    queued = rows(session)
    assert {(r.status, r.attempts) for r in queued} == {(QUEUED, 1)}
    assert all(r.last_error and r.next_attempt_at >= now + mail.backoff(1) for r in queued)
    assert "127.0.0.1" in queued[0].last_error and SLACK_PATH not in queued[0].last_error
    receiver.mode = ("ok",)
    assert send_chat_pending(session, chat_app.config, now).sent == 0  # not due yet
    assert send_chat_pending(session, chat_app.config, now + timedelta(hours=1)).sent == 3
    assert accepted_once(receiver, ids)
    assert {r.status for r in rows(session)} == {SENT}


def test_a_hang_and_a_cut_answer_are_described(chat_app, session, receiver):
    target = channel(chat_app, receiver)
    queue(session, target, 1)
    receiver.mode = ("hang", 2)
    send_chat_pending(session, chat_app.config, utcnow())
    assert "no answer" in rows(session)[0].last_error
    receiver.mode = ("cut",)
    send_chat_pending(session, chat_app.config, utcnow() + timedelta(hours=1))
    assert "closed the connection in the middle of its answer" in rows(session)[0].last_error


def test_nothing_is_delivered_while_the_server_is_down_and_all_of_it_after(chat_app, session, receiver):
    target = channel(chat_app, receiver)
    ids = queue(session, target, 3)
    receiver.stop()
    now = utcnow()
    for hours in range(3):
        result = send_chat_pending(session, chat_app.config, now + timedelta(hours=hours))
        assert result.sent == 0 and result.retrying == 3
    assert receiver.requests == []
    queued = rows(session)
    assert {(r.status, r.attempts) for r in queued} == {(QUEUED, 3)}
    assert all("cannot reach 127.0.0.1" in r.last_error for r in queued)
    receiver.start()
    assert send_chat_pending(session, chat_app.config, now + timedelta(hours=5)).sent == 3
    assert accepted_once(receiver, ids)


def test_a_4xx_fails_at_once_with_the_answer(chat_app, session, receiver):
    target = channel(chat_app, receiver)
    queue(session, target, 1)
    receiver.mode = ("status", 404, "no_service: " + "x" * 500)
    result = send_chat_pending(session, chat_app.config, utcnow())
    assert (result.sent, result.retrying, result.failed) == (0, 0, 1)
    [row] = rows(session)
    assert row.status == FAILED and row.attempts == 1
    assert row.last_error.startswith("127.0.0.1 answered 404 Not Found: no_service: xxx")
    assert len(row.last_error) < 400  # the first 300 characters of the body
    assert send_chat_pending(session, chat_app.config, utcnow() + timedelta(days=1)).sent == 0
    assert len(receiver.requests) == 1


def test_a_redirect_is_not_followed(chat_app, session, receiver):
    target = channel(chat_app, receiver)
    queue(session, target, 1)
    receiver.mode = ("status", 302, "", {"Location": "http://10.0.0.1/elsewhere"})
    assert send_chat_pending(session, chat_app.config, utcnow()).failed == 1
    assert "not followed" in rows(session)[0].last_error
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("retry_after, wait", [
    ("1200", timedelta(seconds=1200)),
    ("86400", timedelta(hours=1)),  # capped
], ids=["seconds", "capped"])
def test_429_waits_at_least_its_retry_after(chat_app, session, receiver, retry_after, wait):
    target = channel(chat_app, receiver)
    ids = queue(session, target, 2)
    receiver.mode = ("status", 429, "rate limited", {"Retry-After": retry_after})
    now = utcnow()
    result = send_chat_pending(session, chat_app.config, now)
    assert (result.sent, result.retrying) == (0, 2)
    assert len(receiver.requests) == 1  # the channel asked to slow down: the rest waits too
    for row in rows(session):
        assert row.status == QUEUED and "429" in row.last_error
        assert row.next_attempt_at >= now + wait
    receiver.mode = ("ok",)
    assert send_chat_pending(session, chat_app.config, now + wait - timedelta(seconds=5)).sent == 0
    assert send_chat_pending(session, chat_app.config, now + wait + timedelta(seconds=5)).sent == 2
    assert accepted_once(receiver, ids)


def test_retry_after_as_an_http_date():
    now = utcnow().replace(microsecond=0)
    from datetime import timezone
    from email.utils import format_datetime

    when = format_datetime((now + timedelta(minutes=20)).replace(tzinfo=timezone.utc), usegmt=True)
    assert delivery.retry_after(when, now) == timedelta(minutes=20)
    assert delivery.retry_after("soon", now) is None
    assert delivery.retry_after("999999", now) == timedelta(hours=1)


def test_a_generic_webhook_is_signed(chat_app, session, receiver):
    target = channel(chat_app, receiver, kind="webhook", path="/incoming", secret="shared-key")
    ids = queue(session, target, 1)
    assert send_chat_pending(session, chat_app.config, utcnow()).sent == 1
    assert accepted_once(receiver, ids)
    _, headers, body, _ = receiver.requests[0]
    timestamp = headers["X-Swag-Timestamp"]
    expected = "sha256=" + hmac.new(b"shared-key", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Swag-Signature"], expected)
    assert abs(int(timestamp) - int(utcnow().timestamp())) < 3600 * 24  # unix seconds


def test_a_generic_webhook_without_a_secret_gets_a_random_one(chat_app, receiver):
    target = channel(chat_app, receiver, kind="webhook", path="/incoming")
    secret = chat.channel_secret(chat_app.config, target)
    assert secret and len(secret) >= 32


@pytest.mark.parametrize("url, words", [
    ("http://hooks.example.com/x", "https://"),
    ("ftp://hooks.example.com/x", "https://"),
    ("https:///x", "looks like"),
    ("https://10.0.0.1/x", "a private address"),
    ("https://169.254.169.254/latest/meta-data", "a link-local address"),
    ("https://localhost/x", "a loopback address"),
    ("http://127.0.0.1:9/x", "a loopback address"),
    ("https://0.0.0.0/x", "unspecified"),
    ("https://224.0.0.1/x", "multicast"),
    ("https://[::1]/x", "a loopback address"),
    ("https://[::ffff:10.0.0.1]/x", "a private address"),
    ("https://user:pw@hooks.example.com/x", "user name"),
])
def test_addresses_that_are_refused(url, words):
    with pytest.raises(InvalidInput, match=words):
        addresses.check_url(url, allow_private=False)


def test_a_public_name_resolving_to_loopback_is_refused(monkeypatch):
    def resolve(host, port, *args, **kwargs):
        ip = "127.0.0.1" if host == "rebind.example.com" else "93.184.216.34"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(InvalidInput, match="loopback"):
        addresses.check_url("https://rebind.example.com/hook", allow_private=False)
    checked = addresses.check_url("https://hooks.example.com/services/A/B?x=1", allow_private=False)
    assert (checked.ip, checked.host, checked.port, checked.target) == ("93.184.216.34", "hooks.example.com",
                                                                        443, "/services/A/B?x=1")


def test_private_addresses_pass_with_allow_private_webhooks(monkeypatch, tmp_path):
    assert addresses.check_url("https://10.0.0.1/x", allow_private=True).ip == "10.0.0.1"
    assert addresses.check_url("http://localhost:9/x", allow_private=True).ip in ("127.0.0.1", "::1")
    with pytest.raises(InvalidInput, match="https://"):
        addresses.check_url("http://10.0.0.1/x", allow_private=True)  # http only to loopback
    monkeypatch.delenv("ALLOW_PRIVATE_WEBHOOKS", raising=False)
    assert from_environment(str(tmp_path))["ALLOW_PRIVATE_WEBHOOKS"] is False
    monkeypatch.setenv("ALLOW_PRIVATE_WEBHOOKS", "1")
    assert from_environment(str(tmp_path))["ALLOW_PRIVATE_WEBHOOKS"] is True


def test_an_unresolvable_host_is_refused_in_words():
    with pytest.raises(InvalidInput, match="cannot be found"):
        addresses.check_url("https://no-such-host.invalid/x", allow_private=False)


def test_the_connection_goes_to_the_checked_address_with_the_urls_host_name(receiver):
    """Pinned against DNS rebinding: the name is not resolved again when connecting."""
    checked = addresses.Checked(url=urlsplit(f"http://chat.invalid:{receiver.port}/hook"), ip="127.0.0.1")
    outcome = delivery.post(checked, b"{}", {"Content-Type": "application/json"})
    assert outcome.result == delivery.SENT
    assert receiver.requests[0][1]["Host"] == f"chat.invalid:{receiver.port}"


def test_saving_a_channel_checks_the_address(app, receiver):
    with pytest.raises(InvalidInput, match="loopback"):
        channel(app, receiver)  # ALLOW_PRIVATE_WEBHOOKS is off
    with pytest.raises(InvalidInput, match="https://"):
        chat.create_channel(db.session, app.config, name="x", kind="slack", url="http://hooks.slack.com/a",
                            topics="rush")
    assert db.session.scalars(select(ChatChannel)).all() == []


def test_a_private_address_refused_at_send_time_fails_at_once(chat_app, session, receiver):
    target = channel(chat_app, receiver)
    queue(session, target, 1)
    chat_app.config["ALLOW_PRIVATE_WEBHOOKS"] = False
    assert send_chat_pending(session, chat_app.config, utcnow()).failed == 1
    assert "loopback" in rows(session)[0].last_error
    assert receiver.requests == []


def test_channel_rules_check_name_kind_and_topics(chat_app, receiver):
    channel(chat_app, receiver, name="Ops")
    with pytest.raises(Conflict, match="named Ops"):
        channel(chat_app, receiver, name=" Ops ")
    with pytest.raises(InvalidInput, match="one of slack, teams, webhook"):
        channel(chat_app, receiver, name="Other", kind="irc")
    with pytest.raises(InvalidInput, match="Unknown topic gossip"):
        channel(chat_app, receiver, name="Other", topics="rush,gossip")
    with pytest.raises(InvalidInput, match="a name"):
        channel(chat_app, receiver, name="  ")


def test_channels_for_a_topic_event_and_team(chat_app, session, receiver):
    from inventory.budgets.models import Team
    from inventory.events.models import Event

    everything = channel(chat_app, receiver, name="All", topics=["digest", "rush"])
    team = Team(name="Field")
    session.add(team)
    session.commit()
    team_only = channel(chat_app, receiver, name="Field team", topics="rush", team_id=team.id)
    quiet = channel(chat_app, receiver, name="Off", topics="rush")
    chat.update_channel(session, chat_app.config, quiet.id, active=False)
    assert [c.name for c in chat.channels_for(session, "rush")] == ["All"]
    assert [c.name for c in chat.channels_for(session, "rush", team_id=team.id)] == ["All", "Field team"]
    assert [c.name for c in chat.channels_for(session, "digest", team_id=team.id)] == ["All"]
    assert chat.channels_for(session, "approvals") == []
    assert everything.topics == "digest,rush" and team_only.team_id == team.id
    with pytest.raises(DomainError, match="No event"):
        chat.update_channel(session, chat_app.config, everything.id, event_id=999)
    assert Event  # the model exists for the event filter


def test_the_url_is_stored_encrypted_and_shown_only_as_a_hint(chat_app, session, receiver):
    target = channel(chat_app, receiver)
    url = receiver.url(SLACK_PATH)
    raw = session.execute(select(ChatChannel.__table__)).one()._mapping
    assert all(url not in str(value) and "secretXy4Z" not in str(value).replace("…Xy4Z", "")
               for key, value in raw.items() if key != "url_hint")
    assert target.url_hint == "127.0.0.1/…Xy4Z"
    assert decrypt(chat_app.config, target.url_encrypted) == url
    with pytest.raises(Undecryptable, match="SECRET_KEY"):
        decrypt({"SECRET_KEY": "another key"}, target.url_encrypted)


def test_a_url_undecryptable_with_another_secret_key_fails_in_words(chat_app, session, receiver, database_url,
                                                                     tmp_path):
    target = channel(chat_app, receiver)
    queue(session, target, 1)
    other = make_test_app(database_url, tmp_path / "other", SECRET_KEY="another secret",
                          ALLOW_PRIVATE_WEBHOOKS=True)
    with other.app_context():
        result = send_chat_pending(db.session, other.config, utcnow())
        db.session.remove()
    assert result.failed == 1
    [row] = rows(session)
    assert row.status == FAILED and "cannot be decrypted with this SECRET_KEY" in row.last_error
    assert receiver.requests == []


def test_an_inactive_or_deleted_channels_messages_fail_with_the_reason(chat_app, session, receiver):
    inactive = channel(chat_app, receiver, name="Sleepy")
    deleted = channel(chat_app, receiver, name="Gone")
    queue(session, inactive, 1)
    queue(session, deleted, 1)
    chat.update_channel(session, chat_app.config, inactive.id, active=False)
    chat.delete_channel(session, deleted.id)
    result = send_chat_pending(session, chat_app.config, utcnow())
    assert result.failed == 1  # the deleted one failed when deleted
    first, second = rows(session)
    assert (first.status, first.last_error) == (FAILED, "the channel Sleepy is inactive")
    assert (second.status, second.last_error, second.channel_id) == (FAILED, "the channel Gone was deleted", None)
    # Sent again, the deleted channel's message is not taken for an e-mail.
    mail.resend(session, second.id, utcnow())
    assert send_chat_pending(session, chat_app.config, utcnow()).failed == 1
    assert rows(session)[1].last_error == "the channel Gone was deleted"
    assert receiver.requests == []


def test_e_mail_and_chat_are_sent_by_their_own_senders(chat_app, session, receiver, smtp):
    target = channel(chat_app, receiver)
    ids = queue(session, target, 1)
    mail.enqueue(session, "manager@example.com", "An e-mail", "test", {"note": "x"}, kind="test")
    session.commit()
    assert mail.send_pending(session, chat_app.config, utcnow()).sent == 1
    assert len(smtp.messages) == 1 and receiver.requests == []
    assert send_chat_pending(session, chat_app.config, utcnow()).sent == 1
    assert accepted_once(receiver, ids) and len(smtp.messages) == 1


def test_send_test_posts_at_once_and_reports_the_answer(chat_app, session, receiver):
    target = channel(chat_app, receiver)
    assert "answered 200" in chat.send_test(chat_app.config, target)
    assert "Test message" in receiver.payloads()[0]["text"]
    receiver.mode = ("status", 403, "invalid_token")
    with pytest.raises(DomainError, match="403 Forbidden: invalid_token") as refused:
        chat.send_test(chat_app.config, target)
    assert SLACK_PATH not in str(refused.value) and "127.0.0.1/…Xy4Z" in str(refused.value)
    assert rows(session) == []  # not through the outbox


@pytest.mark.parametrize("command", ["send-outbox", "send-mail"])
def test_send_outbox_and_its_alias_post_chat_without_mail_settings(chat_app, session, receiver, runner, command):
    chat_app.config.update(MAIL_SERVER="", MAIL_FROM="")
    target = channel(chat_app, receiver)
    ids = queue(session, target, 2)
    result = runner.invoke(args=[command])
    assert result.exit_code == 0, result.output
    assert "Posted 2 chat message(s)" in result.output
    assert accepted_once(receiver, ids)


@pytest.mark.parametrize("command", ["send-outbox", "send-mail"])
def test_send_outbox_and_its_alias_send_both(chat_app, session, receiver, runner, smtp, command):
    target = channel(chat_app, receiver)
    queue(session, target, 1)
    mail.enqueue(session, "manager@example.com", "An e-mail", "test", {"note": "x"}, kind="test")
    session.commit()
    result = runner.invoke(args=[command])
    assert result.exit_code == 0, result.output
    assert "Sent 1 e-mail(s)" in result.output and "Posted 1 chat message(s)" in result.output
    assert len(smtp.messages) == 1 and len(receiver.requests) == 1


def test_send_outbox_exits_non_zero_when_chat_stays_queued(chat_app, session, receiver, runner):
    chat_app.config.update(MAIL_SERVER="", MAIL_FROM="")
    target = channel(chat_app, receiver)
    queue(session, target, 1)
    receiver.stop()
    result = runner.invoke(args=["send-outbox"])
    assert result.exit_code == 1 and "stay queued" in result.output


def test_two_senders_at_once_on_postgresql_deliver_each_message_once(chat_app, session, receiver):
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serializes writers; the SKIP LOCKED claim race is PostgreSQL's (TEST_DATABASE_URL)")
    target = channel(chat_app, receiver)
    ids = queue(session, target, 30)
    barrier = threading.Barrier(2)
    errors = []
    now = utcnow()

    def sender():
        try:
            with chat_app.app_context():
                barrier.wait()
                while send_chat_pending(db.session, chat_app.config, now, batch=3).sent:
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
    assert accepted_once(receiver, ids)
    assert len(receiver.requests) == 30
    assert {r.status for r in rows(session)} == {SENT}


def _self_signed(tmp_path, host):
    from datetime import datetime, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    start = datetime.now(timezone.utc) - timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_https_goes_to_the_pinned_address_with_the_host_name_for_sni_and_the_certificate(tmp_path):
    import ssl

    cert_file, key_file = _self_signed(tmp_path, "hooks.chat.test")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    seen = {}

    def sni(sock, name, context):
        seen["sni"] = name

    server_context.sni_callback = sni
    receiver = Receiver().start(server_context)
    try:
        client_context = ssl.create_default_context(cafile=str(cert_file))
        connection = addresses.PinnedHTTPSConnection("hooks.chat.test", "127.0.0.1", receiver.port, 2, 2,
                                                     context=client_context)
        connection.request("POST", "/hook", body=b"{}", headers={"Content-Type": "application/json"})
        assert connection.getresponse().status == 200
        connection.close()
        assert seen["sni"] == "hooks.chat.test"
        assert receiver.requests[0][1]["Host"] == f"hooks.chat.test:{receiver.port}"
        # The certificate is checked against the URL's host name, not the address connected to.
        wrong = addresses.PinnedHTTPSConnection("other.chat.test", "127.0.0.1", receiver.port, 2, 2,
                                                context=client_context)
        with pytest.raises(ssl.SSLCertVerificationError):
            wrong.request("POST", "/hook", body=b"{}")
        wrong.close()
    finally:
        receiver.stop()


def test_the_outbox_page_lists_a_chat_message_by_channel_and_title_never_its_url(chat_app, session, receiver,
                                                                                client, login):
    target = channel(chat_app, receiver)
    queue(session, target, 1)
    login("manager")
    page = client.get("/outbox").get_data(as_text=True)
    assert "Rush 0" in page and "to Stockroom" in page
    assert SLACK_PATH not in page and "secretXy4Z" not in page


def test_a_huge_answer_is_not_read_whole(chat_app, session, receiver):
    target = channel(chat_app, receiver)
    queue(session, target, 2)
    receiver.script = [("status", 200, "y" * 500_000), ("status", 400, "z" * 500_000)]
    result = send_chat_pending(session, chat_app.config, utcnow())
    assert (result.sent, result.failed) == (1, 1)
    assert len(rows(session)[1].last_error) < 400
