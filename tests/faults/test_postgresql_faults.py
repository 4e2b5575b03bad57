"""PostgreSQL going away: a database that refuses connections, one that stops answering, and
backends terminated under load (a restart or a failover). Users get the app's own 503 page or
JSON, never a bare error; /healthz answers within its timeout; the app recovers by itself.

A TCP proxy (proxy.py) sits between the app and PostgreSQL so that the test can break the line.
These need PostgreSQL: they run in the PostgreSQL run (TEST_DATABASE_URL)."""
import os
import threading
import time

import pytest
from sqlalchemy import create_engine, func, make_url, select, text

from inventory.auth import services as auth
from inventory.config import normalize_database_url
from inventory.extensions import db
from inventory.stock.models import Movement
from tests.browser.conftest import serve
from tests.conftest import PASSWORD, make_test_app
from tests.faults.common import logged_in, receive
from tests.faults.proxy import FaultyProxy

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                reason="needs PostgreSQL: set TEST_DATABASE_URL (CI's second run does)")


@pytest.fixture
def proxied(app, database_url, tmp_path):
    """The app on the test database through a breakable proxy, with short timeouts."""
    url = make_url(normalize_database_url(database_url))
    proxy = FaultyProxy(url.host or "127.0.0.1", url.port or 5432)
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxied_app = make_test_app(through, tmp_path / "proxied", DATABASE_CONNECT_TIMEOUT=2,
                                DATABASE_STATEMENT_TIMEOUT=5, HEALTH_TIMEOUT=1)
    proxied_app.proxy = proxy
    yield proxied_app
    proxy.close()
    with proxied_app.app_context():
        db.engine.dispose()


@pytest.fixture
def staff(make_user, make_item, session):
    user = make_user("staff", email="sam@example.com")
    make_item("PEN-1", on_hand=10)
    return auth.create_token(session, user, "test")[1]


def test_a_database_that_refuses_connections_gets_a_clear_503_and_the_app_recovers(proxied, staff, session):
    client = logged_in(proxied)
    assert client.get("/catalog").status_code == 200
    before = session.scalar(select(func.count(Movement.id)))
    proxied.proxy.refuse()

    started = time.monotonic()
    page = client.get("/catalog")
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "The stock database is not answering. Nothing you entered was saved" in page.get_data(as_text=True)
    api = receive(client, staff)
    assert api.status_code == 503 and "not answering" in api.get_json()["error"]
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["database"].startswith("unreachable")
    assert time.monotonic() - started < 15  # each within the connect timeout, none hanging

    proxied.proxy.restore()
    assert client.get("/catalog").status_code == 200  # still logged in, first try
    assert receive(client, staff).status_code == 201
    session.expire_all()
    assert session.scalar(select(func.count(Movement.id))) == before + 1


def test_healthz_answers_within_its_timeout_when_the_database_hangs(proxied, staff):
    client = proxied.test_client()
    assert client.get("/healthz").status_code == 200
    proxied.proxy.blackhole()
    started = time.monotonic()
    health = client.get("/healthz")
    took = time.monotonic() - started
    assert health.status_code == 503 and "no answer within 1 s" in health.get_json()["database"]
    assert took < 3
    proxied.proxy.restore()
    deadline = time.monotonic() + 10
    while client.get("/healthz").status_code != 200:
        assert time.monotonic() < deadline, "the health check did not recover"
        time.sleep(0.2)


def _terminate_backends(database_url):
    url = make_url(normalize_database_url(database_url))
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        ended = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": url.database}).scalar()
    engine.dispose()
    return ended


def test_terminated_backends_cost_at_most_the_requests_in_flight(database_url, tmp_path):
    """Four clients read and write through a threaded server while every backend of the app is
    terminated three times. Every answer is the app's own (200/201, or its 503 JSON), only
    requests in flight at a termination fail, and every 201 is in the database."""
    served = serve(make_test_app(database_url, tmp_path / "served"))
    # serve() empties the database first: set the world up again through the served app.
    live = next(served)
    try:
        with live.app.app_context():
            from inventory.auth.models import User
            user = auth.create_user(db.session, "lee@example.com", "staff", PASSWORD)
            token = auth.create_token(db.session, user, "load")[1]
            from inventory.bins import services as bins
            from inventory.catalog import services as catalog
            bins.create_bin(db.session, "A-01", "", "Stockroom A")
            catalog.create_product(db.session, name="Pen", category="promo", sku="PEN-1")
            assert db.session.scalar(select(func.count(User.id))) == 1
            db.session.remove()
        import json
        import urllib.error
        import urllib.request

        answers = []
        stop = threading.Event()

        def client(n):
            while not stop.is_set():
                write = n % 2 == 0
                data = json.dumps({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 1}).encode()
                request = urllib.request.Request(
                    live.url + ("/api/v1/movements" if write else "/api/v1/items"),
                    data=data if write else None, method="POST" if write else "GET",
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(request, timeout=20) as response:
                        answers.append((response.status, response.headers.get("Content-Type", ""), ""))
                except urllib.error.HTTPError as error:
                    body = error.read()
                    answers.append((error.code, error.headers.get("Content-Type", ""),
                                    json.loads(body)["error"] if body.startswith(b"{") else body.decode()))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        terminated = 0
        for _ in range(3):
            time.sleep(0.7)
            terminated += _terminate_backends(database_url)
        time.sleep(0.7)
        stop.set()
        for thread in threads:
            thread.join(30)
        assert terminated >= 3
        statuses = [status for status, _, _ in answers]
        assert set(statuses) <= {200, 201, 503}, statuses
        assert all(kind.startswith("application/json") for _, kind, _ in answers), answers
        assert statuses.count(503) <= 3 * 4  # at most the requests in flight at each termination
        after = urllib.request.Request(live.url + "/api/v1/items", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(after, timeout=10) as response:
            assert response.status == 200  # recovered by itself
        with live.app.app_context():
            booked = db.session.scalar(select(func.coalesce(func.sum(Movement.quantity), 0)))
            # Every 201 is in the database; a write that failed after its commit says it may
            # have been saved, and only those may be in it without a 201.
            maybe = sum(1 for status, _, error in answers if status == 503 and "may have been saved" in error)
            assert statuses.count(201) <= booked <= statuses.count(201) + maybe
            assert live.app.test_cli_runner().invoke(args=["check"]).exit_code == 0
            db.session.remove()
    finally:
        served.close()


def test_a_page_read_whose_connection_drops_under_it_is_read_again(proxied, staff, session):
    """The proxy cuts the line just as the catalog page sends its first query: the page is
    read once more on a new connection and the rep sees it, not an error."""
    from sqlalchemy import event

    client = logged_in(proxied)
    assert client.get("/catalog").status_code == 200
    with proxied.app_context():
        engine = db.engine
    cuts, seen = [], []

    def cut_once(_connection, _cursor, statement, *_args):
        seen.append(statement[:80])
        if not cuts and statement.lstrip().startswith("WITH found"):  # the catalog query
            cuts.append(statement)
            proxied.proxy.cut()

    event.listen(engine, "before_cursor_execute", cut_once)
    try:
        page = client.get("/catalog")
    finally:
        event.remove(engine, "before_cursor_execute", cut_once)
    assert cuts, f"the line was never cut: {seen}"
    assert page.status_code == 200 and "PEN-1" in page.get_data(as_text=True)
    # A write is not run twice: it answers 503 and says nothing was saved.
    cuts.clear()

    def cut_write(_connection, _cursor, statement, *_args):
        if not cuts and statement.lstrip().startswith("INSERT INTO stock_level"):
            cuts.append(statement)
            proxied.proxy.cut()

    before = session.scalar(select(func.count(Movement.id)))
    event.listen(engine, "before_cursor_execute", cut_write)
    try:
        answer = receive(client, staff)
    finally:
        event.remove(engine, "before_cursor_execute", cut_write)
    assert cuts and answer.status_code == 503
    assert "Nothing you entered was saved" in answer.get_json()["error"]
    session.expire_all()
    assert session.scalar(select(func.count(Movement.id))) == before


def test_a_statement_past_the_timeout_is_stopped_and_the_user_told(app, database_url, tmp_path, staff):
    """A page that would wait on a lock longer than DATABASE_STATEMENT_TIMEOUT answers 503 in
    about that time, instead of holding a worker until gunicorn kills it."""
    slow = make_test_app(database_url, tmp_path / "slow", DATABASE_STATEMENT_TIMEOUT=1)
    client = logged_in(slow)
    holder = create_engine(make_url(normalize_database_url(database_url)))
    with holder.connect() as connection:
        connection.execute(text("LOCK TABLE stock_level IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        page = client.get("/catalog")
        took = time.monotonic() - started
        connection.rollback()
    holder.dispose()
    assert page.status_code == 503 and "took too long and was stopped" in page.get_data(as_text=True)
    assert took < 5
    assert client.get("/catalog").status_code == 200  # and the next one is fine
    with slow.app_context():
        db.engine.dispose()


def test_connections_carry_the_timeouts_and_keepalives(app):
    """What keeps a request inside gunicorn's worker timeout when the network drops packets:
    libpq's keepalives and TCP user timeout, and the server's statement timeout."""
    with db.engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "15s"
        parameters = connection.connection.driver_connection.info.get_parameters()
    assert parameters["connect_timeout"] == "5" and parameters["tcp_user_timeout"] == "10000"
    assert parameters["keepalives"] == "1" and parameters["keepalives_idle"] == "10"
