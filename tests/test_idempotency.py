"""Idempotency-Key on the API's POSTs: a retry gets the first answer and writes nothing new,
even when two copies race; a key reused for another request is refused."""
import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from inventory.api.idempotency import IdempotencyKey
from inventory.auth.services import create_token
from inventory.extensions import db
from inventory.stock.models import Movement
from inventory.timeutil import utcnow
from tests.browser.conftest import serve
from tests.conftest import make_test_app

RECEIVE = {"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 3}


@pytest.fixture
def token(session, make_user, make_item, make_bin):
    make_bin("A-01")
    make_item("PEN-1")
    return create_token(session, make_user("staff"), "script")[1]


def post(client, token, body, key=None, url="/api/v1/movements"):
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(url, json=body, headers=headers)


def movements(session):
    session.expire_all()
    return session.scalar(select(func.count(Movement.id)))


def test_a_retry_with_the_same_key_gets_the_first_answer_and_writes_nothing(client, session, token):
    first = post(client, token, RECEIVE, key="7b1f-receive-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = post(client, token, RECEIVE, key="7b1f-receive-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert movements(session) == 1
    # Without a key, or with a new one, the same body is a new receipt.
    assert post(client, token, RECEIVE).status_code == 201
    assert post(client, token, RECEIVE, key="7b1f-receive-2").status_code == 201
    assert movements(session) == 3


def test_the_same_key_for_another_request_is_refused(client, session, token):
    assert post(client, token, RECEIVE, key="k-1").status_code == 201
    other = post(client, token, dict(RECEIVE, quantity=4), key="k-1")
    assert other.status_code == 422 and "different request" in other.get_json()["error"]
    assert movements(session) == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 201, "é"])
def test_a_malformed_key_is_refused(client, session, token, key):
    answer = post(client, token, RECEIVE, key=key)
    assert answer.status_code == 400 and "Idempotency-Key" in answer.get_json()["error"]
    assert movements(session) == 0


def test_keys_belong_to_their_token(client, session, token, make_user):
    other = create_token(session, make_user("staff"), "other script")[1]
    assert post(client, token, RECEIVE, key="shared").status_code == 201
    assert "Idempotent-Replayed" not in post(client, other, RECEIVE, key="shared").headers
    assert movements(session) == 2


def test_a_refused_request_keeps_no_key(client, session, token):
    bad = post(client, token, dict(RECEIVE, sku="NOPE-1"), key="retry-me")
    assert bad.status_code == 404
    assert session.scalar(select(func.count(IdempotencyKey.id))) == 0
    assert post(client, token, RECEIVE, key="other").status_code == 201


def test_a_key_whose_answer_was_lost_says_so(client, session, token):
    assert post(client, token, RECEIVE, key="lost").status_code == 201
    session.execute(update(IdempotencyKey).values(status=None, body=None))  # the worker died after its commit
    session.commit()
    answer = post(client, token, RECEIVE, key="lost")
    assert answer.status_code == 409 and "answer was lost" in answer.get_json()["error"]
    assert movements(session) == 1


def test_keys_are_kept_for_a_day(client, session, token):
    assert post(client, token, RECEIVE, key="old").status_code == 201
    session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    session.commit()
    assert "Idempotent-Replayed" not in post(client, token, RECEIVE, key="old").headers
    assert movements(session) == 2
    assert session.scalar(select(func.count(IdempotencyKey.id))) == 1  # the stale one cleared away


def test_a_request_made_through_the_requests_api_is_kept_too(client, session, token, make_user, make_item):
    rep_token = create_token(session, make_user("rep"), "rep script")[1]
    make_item("MUG-1", on_hand=5)
    body = {"needed_by": (utcnow().date() + timedelta(days=10)).isoformat(), "lines": [{"sku": "MUG-1", "qty": 2}]}
    first = post(client, rep_token, body, key="req-1", url="/api/v1/requests")
    again = post(client, rep_token, body, key="req-1", url="/api/v1/requests")
    assert first.status_code == 201 and again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]


def test_two_copies_racing_write_once(database_url, tmp_path):
    """Two copies of one POST at the same moment through a threaded server: one receipt."""
    served = serve(make_test_app(database_url, tmp_path / "served"))
    live = next(served)
    try:
        from inventory.auth import services as auth
        from inventory.bins import services as bins
        from inventory.catalog import services as catalog
        with live.app.app_context():
            user = auth.create_user(db.session, "sam@example.com", "staff", "correct-horse-42")
            secret = create_token(db.session, user, "race")[1]
            bins.create_bin(db.session, "A-01", "", "Stockroom A")
            catalog.create_product(db.session, name="Pen", category="promo", sku="PEN-1")
            db.session.remove()
        for round_ in range(5):
            barrier = threading.Barrier(2)
            answers = []

            def send():
                request = urllib.request.Request(
                    live.url + "/api/v1/movements", method="POST", data=json.dumps(RECEIVE).encode(),
                    headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json",
                             "Idempotency-Key": f"race-{round_}"})
                barrier.wait()
                try:
                    with urllib.request.urlopen(request, timeout=20) as response:
                        answers.append(response.status)
                except urllib.error.HTTPError as error:
                    answers.append(error.code)

            threads = [threading.Thread(target=send) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert sorted(answers) in ([201, 201], [201, 409]), answers
        with live.app.app_context():
            assert db.session.scalar(select(func.count(Movement.id))) == 5
            db.session.remove()
    finally:
        served.close()


def test_a_rule_retried_after_a_deadlock_still_keeps_its_key(client, session, token, monkeypatch):
    """The first try fails at commit (a deadlock in the reorder flags' hook) after the key was
    added to its transaction; the retry must add it again, or a replay would book twice."""
    from inventory import database
    from inventory.forecast import stored
    from tests.test_lock_order import _failing

    monkeypatch.setattr(database, "_JITTER", (0, 0))
    calls = _failing(monkeypatch, 1, target=stored, name="reproject")
    first = post(client, token, RECEIVE, key="after-deadlock")
    assert first.status_code == 201 and len(calls) >= 2
    again = post(client, token, RECEIVE, key="after-deadlock")
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert movements(session) == 1
