"""The requests API, and reservations under real concurrency through a multi-worker server."""
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from inventory.auth.services import create_token
from inventory.requests.models import Request, RequestLine
from inventory.stock import services as stock

SOON = (date.today() + timedelta(days=3)).isoformat()


@pytest.fixture
def token_for(session, make_user):
    def make(role="rep", **kwargs):
        user = make_user(role, **kwargs)
        return user, create_token(session, user, "test")[1]

    return make


def call(client, method, url, token, body=None):
    response = client.open(url, method=method, json=body, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.get_json()


def test_reserve_through_the_api(client, session, token_for, make_item):
    make_item("PEN-1", on_hand=10)
    _rep, token = token_for("rep")
    status, body = call(client, "POST", "/api/v1/requests", token, {
        "needed_by": SOON, "purpose": "client_meeting", "lines": [{"sku": "pen-1", "qty": 4}]})
    assert status == 201, body
    assert (body["status"], body["lines"][0]["sku"], body["lines"][0]["reserved"]) == ("submitted", "PEN-1", 4)
    status, got = call(client, "GET", f"/api/v1/requests/{body['id']}", token)
    assert status == 200 and got["number"] == body["number"]
    status, listed = call(client, "GET", "/api/v1/requests?mine=1&status=submitted", token)
    assert [r["id"] for r in listed["requests"]] == [body["id"]] and listed["total"] == 1
    status, items = call(client, "GET", "/api/v1/items/PEN-1", token)
    assert (items["reserved"], items["available"]) == (4, 6)
    status, cancelled = call(client, "POST", f"/api/v1/requests/{body['id']}/cancel", token)
    assert status == 200 and cancelled["status"] == "cancelled"


def test_short_stock_answers_409_with_availability_and_holds_nothing(client, session, token_for, make_item):
    make_item("PEN-1", on_hand=10)
    make_item("MUG-1", on_hand=2)
    _rep, token = token_for("rep")
    status, body = call(client, "POST", "/api/v1/requests", token, {
        "needed_by": SOON, "lines": [{"sku": "PEN-1", "qty": 4}, {"sku": "MUG-1", "qty": 5}]})
    assert status == 409
    assert body["lines"] == [{"sku": "MUG-1", "requested": 5, "available": 2}] and "error" in body
    assert session.scalar(select(func.count(Request.id))) == 0
    status, body = call(client, "POST", "/api/v1/requests", token, {
        "needed_by": SOON, "allow_partial": True, "lines": [{"sku": "MUG-1", "qty": 5}]})
    assert status == 201 and (body["lines"][0]["reserved"], body["lines"][0]["backordered"]) == (2, 3)


def test_the_answer_to_a_reservation_is_the_request_as_stored(client, token_for, make_item, make_product):
    """The 201 answer comes from the request as written, not read back: it says what a GET says,
    field for field (ids, trimmed texts, holds and backorders, the requester, the time)."""
    make_item("PEN-1", on_hand=10)
    make_item("MUG-1", on_hand=2)
    make_item("BANNER-1", category="display", on_hand=1, returnable=True)
    make_product("Navy polo", "POLO-NAVY", sizes={"S": 3, "M": 5})
    _rep, token = token_for("rep", name="Rita")
    out = date.today() + timedelta(days=4)
    status, made = call(client, "POST", "/api/v1/requests", token, {
        "needed_by": out.isoformat(), "return_by": (out + timedelta(days=3)).isoformat(), "allow_partial": True,
        "purpose": "trade_show", "handoff": "ship", "ship_to": "  Hall B, Booth 214 ", "note": " for the fair ",
        "lines": [{"sku": "MUG-1", "qty": 5}, {"sku": "pen-1", "qty": 4}, {"sku": "BANNER-1", "qty": 1},
                  {"sku": "POLO-NAVY-M", "qty": 2}]})
    assert status == 201, made
    status, stored = call(client, "GET", f"/api/v1/requests/{made['id']}", token)
    assert status == 200 and made == stored
    assert [(line["sku"], line["reserved"], line["backordered"]) for line in made["lines"]] == [
        ("MUG-1", 2, 3), ("PEN-1", 4, 0), ("BANNER-1", 1, 0), ("POLO-NAVY-M", 2, 0)]
    assert (made["ship_to"], made["note"], made["requester"]) == ("Hall B, Booth 214", "for the fair",
                                                                  stored["requester"])


@pytest.mark.parametrize("body, status", [
    ({"needed_by": SOON, "lines": []}, 400),
    ({"needed_by": SOON, "lines": [{"sku": "PEN-1", "qty": 0}]}, 400),
    ({"needed_by": SOON, "lines": [{"sku": "PEN-1", "qty": -2}]}, 400),
    ({"needed_by": SOON, "lines": [{"sku": "PEN-1", "qty": "2"}]}, 400),
    ({"needed_by": SOON, "lines": [{"sku": "NOPE", "qty": 1}]}, 404),
    ({"needed_by": "2020-01-01", "lines": [{"sku": "PEN-1", "qty": 1}]}, 400),
    ({"needed_by": "next week", "lines": [{"sku": "PEN-1", "qty": 1}]}, 400),
    ({"lines": [{"sku": "PEN-1", "qty": 1}]}, 400),
    ({"needed_by": SOON, "purpose": "party", "lines": [{"sku": "PEN-1", "qty": 1}]}, 400),
    ({"needed_by": SOON, "allow_partial": "yes", "lines": [{"sku": "PEN-1", "qty": 1}]}, 400),
    ({"needed_by": SOON, "lines": [{"sku": "PEN-1", "qty": 1}, {"sku": "pen-1", "qty": 2}]}, 400),
    ({"needed_by": SOON, "note": "x" * 1001, "lines": [{"sku": "PEN-1", "qty": 1}]}, 400),
    ({"needed_by": SOON, "handoff": "ship", "ship_to": "x" * 501, "lines": [{"sku": "PEN-1", "qty": 1}]}, 400),
])
def test_bad_requests_are_refused_and_nothing_is_written(client, session, token_for, make_item, body, status):
    make_item("PEN-1", on_hand=10)
    _rep, token = token_for("rep")
    got_status, got = call(client, "POST", "/api/v1/requests", token, body)
    assert got_status == status and "error" in got
    assert session.scalar(select(func.count(Request.id))) == 0


def test_returnables_need_a_window_that_does_not_overlap(client, token_for, make_item):
    make_item("BANNER-1", category="display", on_hand=1, returnable=True)
    _rep, token = token_for("rep")
    out, back = date.today() + timedelta(days=5), date.today() + timedelta(days=8)
    body = {"needed_by": out.isoformat(), "lines": [{"sku": "BANNER-1", "qty": 1}]}
    assert call(client, "POST", "/api/v1/requests", token, body)[0] == 400  # no return date
    body["return_by"] = (out - timedelta(days=1)).isoformat()
    assert call(client, "POST", "/api/v1/requests", token, body)[0] == 400  # back before out
    body["return_by"] = back.isoformat()
    assert call(client, "POST", "/api/v1/requests", token, body)[0] == 201
    assert call(client, "POST", "/api/v1/requests", token, body)[0] == 409
    body.update(needed_by=back.isoformat(), return_by=(back + timedelta(days=2)).isoformat())
    assert call(client, "POST", "/api/v1/requests", token, body)[0] == 201  # touching is fine


def test_roles_on_the_requests_api(client, token_for, make_item):
    make_item("PEN-1", on_hand=10)
    _rep, rep_token = token_for("rep")
    _other, other_token = token_for("rep")
    _manager, manager_token = token_for("manager")
    _status, made = call(client, "POST", "/api/v1/requests", rep_token,
                         {"needed_by": SOON, "lines": [{"sku": "PEN-1", "qty": 1}]})
    assert call(client, "GET", f"/api/v1/requests/{made['id']}", other_token)[0] == 403
    assert call(client, "POST", f"/api/v1/requests/{made['id']}/cancel", other_token)[0] == 403
    assert call(client, "POST", f"/api/v1/requests/{made['id']}/approve", rep_token)[0] == 403
    assert call(client, "GET", "/api/v1/requests", other_token)[1]["total"] == 0  # reps list only their own
    assert call(client, "GET", "/api/v1/requests", manager_token)[1]["total"] == 1
    assert call(client, "POST", f"/api/v1/requests/{made['id']}/reject", manager_token, {})[0] == 400
    status, rejected = call(client, "POST", f"/api/v1/requests/{made['id']}/reject", manager_token,
                            {"reason": "Out of season"})
    assert status == 200 and rejected["rejection_reason"] == "Out of season"
    assert call(client, "GET", "/api/v1/requests/999", manager_token)[0] == 404
    assert call(client, "GET", "/api/v1/requests?status=bogus", manager_token)[0] == 400


def test_the_api_lists_the_queue_as_its_page_does(client, session, login, token_for, make_item, make_user):
    """One query for the queue (queries.queue): the API's pages hold the requests the manager's
    queue page shows, in its order (soonest needed first), with the same totals and statuses."""
    from inventory.requests import review, submission

    items = [make_item(f"PEN-{n}", name=f"Pen {n}", on_hand=20) for n in range(3)]
    reps = [make_user("rep") for _ in range(2)]
    made = [submission.submit(session, reps[n % 2], [(items[n % 3], 1 + n % 2)], purpose="client_meeting",
                              needed_by=date.today() + timedelta(days=(7 * n) % 5 + 1)) for n in range(7)]
    manager, token = token_for("manager")
    review.approve(session, made[2].id, manager)
    review.cancel(session, made[4].id, made[4].requester)  # closed: in neither list
    login("manager")
    html = client.get("/requests").get_data(as_text=True)
    shown = sorted((r for r in made if r.number in html), key=lambda r: html.index(r.number))
    listed, url = [], "/api/v1/requests?per_page=2"
    while url:
        status, body = call(client, "GET", url, token)
        assert status == 200 and body["total"] == 6
        listed += body["requests"]
        url = body["next"]
    assert [r["number"] for r in listed] == [r.number for r in shown] and len(shown) == 6
    assert [r["needed_by"] for r in listed] == sorted(r["needed_by"] for r in listed)
    _status, approved = call(client, "GET", "/api/v1/requests?status=approved", token)
    assert [r["number"] for r in approved["requests"]] == [made[2].number] and approved["total"] == 1
    assert listed[0]["lines"][0]["sku"].startswith("PEN-") and listed[0]["requester"].endswith("@example.com")

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn_server(app, database_url, tmp_path):
    """The app under gunicorn with four worker processes, on the test database."""
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="test-secret")
    env.pop("TEST_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "4", "--bind", f"127.0.0.1:{port}", "--chdir", str(tmp_path),
         "--pythonpath", os.getcwd(), "inventory:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            break
        except OSError:  # not listening yet (refused, reset or timed out)
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode())
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(10)


def test_concurrent_reservations_through_a_multi_worker_server_never_oversell(gunicorn_server, session, token_for,
                                                                               make_item, runner):
    """Sixteen reps ask for 1 of the last 5 at once, through four gunicorn workers."""
    make_item("PEN-LAST", on_hand=5)
    tokens = [token_for("rep")[1] for _ in range(16)]
    session.remove()
    barrier = threading.Barrier(len(tokens))
    statuses = []

    def reserve(token):
        data = json.dumps({"needed_by": SOON, "lines": [{"sku": "PEN-LAST", "qty": 1}]}).encode()
        request = urllib.request.Request(gunicorn_server + "/api/v1/requests", data=data, method="POST", headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    threads = [threading.Thread(target=reserve, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [201] * 5 + [409] * 11
    assert session.scalar(select(func.sum(RequestLine.reserved))) == 5
    assert stock.availability(session, [session.scalar(select(RequestLine.item_id).limit(1))]).popitem()[1].available == 0
    assert runner.invoke(args=["check"]).exit_code == 0
