"""Deadlocks never reach a user: writes lock items by id, then stock levels by (item, bin)
(inventory/database.py), and a deadlock or serialization failure that still happens is retried
around the whole rule (database.unit_of_work), then refused as Busy (503), never a 500.

The races (PostgreSQL only: SQLite's BEGIN IMMEDIATE serializes writers, so nothing can deadlock
there) make movements of the same rows in opposite orders meet, round after round, each worker
in its own thread, app context and session; every one must succeed and the stock add up. The
retry tests fake a deadlock (an OperationalError with SQLSTATE 40P01) and run on both databases.
"""
import logging
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from inventory import database
from inventory.auth import services as auth
from inventory.auth.models import User
from inventory.bins.models import Bin
from inventory.catalog.models import Item
from inventory.errors import Busy
from inventory.extensions import db
from inventory.forecast import stored
from inventory.requests import fulfilment, handover, queries, review, submission
from inventory.requests.models import Request
from inventory.stock import booking
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock
from inventory.stock.models import Movement

ROUNDS = 20
BUSY = "The stock database was busy and nothing was saved. Try again."


def d(n):
    return date.today() + timedelta(days=n)


def postgresql_only(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: on SQLite, BEGIN IMMEDIATE serializes writers, so no two can deadlock")


class Retries(logging.Handler):
    """Counts the deadlocks unit_of_work ran a rule again for (its log lines)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.seen = []

    def emit(self, record):
        self.seen.append(record.getMessage())


@pytest.fixture
def retries():
    handler, logger = Retries(), logging.getLogger("inventory.database")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    # The lock order, not the retry, must keep the races apart: a retried deadlock is a failure here
    # (the retry is the net for what the order misses, and it would hide a broken order).
    assert handler.seen == [], f"{len(handler.seen)} deadlocks had to be retried: the lock order is broken"


def race(app, *workers, rounds=ROUNDS):
    """Run the workers side by side `rounds` times, each in a thread with its own app context and
    session, released together; return what escaped them (repr of each exception)."""
    errors = []
    for round_ in range(rounds):
        barrier = threading.Barrier(len(workers))

        def run(work):
            with app.app_context():
                try:
                    prepared = work(db.session, round_)  # load what it needs, then go at once
                    barrier.wait(10)
                    prepared()
                except Exception as error:  # noqa: BLE001 - the test says what escaped
                    errors.append(repr(error)[:300])
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run, args=(work,)) for work in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return errors


def sound(session):
    """The app's `check`: every stock level is the sum of the ledger, the flags are current."""
    session.rollback()
    assert stock.check_ledger(session) == []
    stored.current(session)
    assert stored.drift(session) == set()


@pytest.fixture
def staff(make_user):
    return make_user("staff", email="sam@example.com")


@pytest.fixture
def manager(make_user):
    return make_user("manager", email="morgan@example.com")


def level(session, item_id, bin_id):
    return stock_queries.level(session, session.get(Item, item_id), session.get(Bin, bin_id))


# The races (PostgreSQL) ----------------------------------------------------------------------

def test_moves_between_two_bins_in_opposite_directions(app, session, make_item, make_bin, staff, retries):
    postgresql_only(session)
    item = make_item("TEE-M", on_hand=100, bin="A-01")
    a, b = make_bin("A-01"), make_bin("B-01")
    stock.receive(session, item, b, 100, staff)
    ids = dict(item=item.id, a=a.id, b=b.id, user=staff.id)
    db.session.remove()

    def mover(source, target, rule):
        def work(s, _round):
            item_, from_, to_, user = (s.get(Item, ids["item"]), s.get(Bin, ids[source]), s.get(Bin, ids[target]),
                                       s.get(User, ids["user"]))
            return lambda: rule(s, item_, from_, to_, 1, user)
        return work

    errors = race(app, mover("a", "b", stock.move), mover("b", "a", stock.move))
    errors += race(app, mover("a", "b", stock.put_away), mover("b", "a", stock.move), rounds=ROUNDS // 2)
    assert errors == []
    assert (level(session, ids["item"], ids["a"]), level(session, ids["item"], ids["b"])) == (100, 100)
    assert session.scalar(select(func.count()).select_from(Movement).where(Movement.kind.in_(("move", "put_away")))) \
        == 2 * ROUNDS + ROUNDS
    sound(session)


def test_a_move_into_a_bin_the_item_was_never_in_races_the_other_way(app, session, make_item, make_bin, staff,
                                                                     retries):
    """The destination row does not exist yet: the upsert inserts it in its turn."""
    postgresql_only(session)
    item = make_item("CAP-1", on_hand=0)
    bins = [make_bin(f"C-{n:02d}") for n in range(ROUNDS + 1)]
    stock.receive(session, item, bins[0], 50, staff)
    stock.receive(session, item, bins[-1], 50, staff)
    ids = dict(item=item.id, user=staff.id, bins=[b.id for b in bins])
    db.session.remove()

    def mover(forward):
        def work(s, round_):
            # forward: C-00 -> C-(r+1) (new); backward: C-last -> C-00, each round
            source, target = (ids["bins"][0], ids["bins"][round_ + 1]) if forward else (ids["bins"][-1], ids["bins"][0])
            args = (s.get(Item, ids["item"]), s.get(Bin, source), s.get(Bin, target), 1, s.get(User, ids["user"]))
            return lambda: stock.move(s, *args)
        return work

    assert race(app, mover(True), mover(False), rounds=ROUNDS - 1) == []
    assert sum(level(session, ids["item"], b) for b in ids["bins"]) == 100
    sound(session)


def test_counts_of_two_items_in_one_bin_in_opposite_orders(app, session, make_item, make_bin, staff, retries):
    postgresql_only(session)
    x, y = make_item("CNT-X", on_hand=10, bin="D-01"), make_item("CNT-Y", on_hand=10, bin="D-01")
    ids = dict(x=x.id, y=y.id, bin=make_bin("D-01").id, user=staff.id)
    db.session.remove()

    def counter(order):
        def work(s, round_):
            items = [s.get(Item, ids[key]) for key in order]
            counted = {"x": 100 + round_, "y": 200 + round_}
            pairs = [(item, counted[key]) for item, key in zip(items, order)]
            bin_, user = s.get(Bin, ids["bin"]), s.get(User, ids["user"])
            return lambda: stock.count(s, bin_, pairs, user)
        return work

    assert race(app, counter("xy"), counter("yx")) == []
    last = ROUNDS - 1
    assert (level(session, ids["x"], ids["bin"]), level(session, ids["y"], ids["bin"])) == (100 + last, 200 + last)
    sound(session)


def test_multi_line_requests_with_lines_in_opposite_orders(app, session, make_item, make_bin, make_user, manager,
                                                           staff, retries):
    """Two requests of X and Y, lines in opposite orders, each reserved, approved, picked from the
    same bin and handed over at the same moment; while a move takes X and Y between the bins."""
    postgresql_only(session)
    x, y = make_item("REQ-X", on_hand=500, bin="E-01"), make_item("REQ-Y", on_hand=500, bin="E-01")
    shelf, spare = make_bin("E-01"), make_bin("E-02")
    reps = [make_user("rep", email=f"rep{n}@example.com") for n in range(2)]
    ids = dict(x=x.id, y=y.id, shelf=shelf.id, spare=spare.id, staff=staff.id, manager=manager.id,
               reps=[r.id for r in reps])
    fulfilment.dispatch_bin(session)
    session.commit()
    db.session.remove()
    rounds = ROUNDS // 4
    made = {}

    def submitter(n, order):
        def work(s, round_):
            lines = [(s.get(Item, ids[key]), 1) for key in order]
            rep = s.get(User, ids["reps"][n])

            def go():
                made[n] = submission.submit(s, rep, lines, purpose="client_meeting", needed_by=d(3)).id
            return go
        return work

    def step(n, do):
        def work(s, _round):
            return lambda: do(s, made[n])
        return work

    def approve(s, request_id):
        review.approve(s, request_id, s.get(User, ids["manager"]))

    def pick(s, request_id):
        request = queries.get_request(s, request_id)
        picks = {line.id: line.to_pick for line in request.lines}
        fulfilment.pick(s, request_id, s.get(Bin, ids["shelf"]), picks, s.get(User, ids["staff"]))

    def hand_over(s, request_id):
        handover.hand_over(s, request_id, s.get(User, ids["staff"]))

    def shuffler(order):
        def work(s, round_):
            user = s.get(User, ids["staff"])
            shelf_, spare_ = s.get(Bin, ids["shelf"]), s.get(Bin, ids["spare"])
            items = [s.get(Item, ids[key]) for key in order]

            def go():
                for item in items:  # out to the spare bin and back: the shelf ends as it was
                    stock.move(s, item, shelf_, spare_, 1, user)
                    stock.move(s, item, spare_, shelf_, 1, user)
            return go
        return work

    errors = []
    for _ in range(rounds):
        errors += race(app, submitter(0, "xy"), submitter(1, "yx"), rounds=1)
        errors += race(app, step(0, approve), step(1, approve), rounds=1)
        errors += race(app, step(0, pick), step(1, pick), shuffler("yx"), rounds=1)
        errors += race(app, step(0, hand_over), step(1, hand_over), shuffler("xy"), rounds=1)
    assert errors == []
    assert session.scalars(select(Request.status).distinct()).all() == ["handed_over"]
    assert level(session, ids["x"], ids["shelf"]) == 500 - 2 * rounds
    assert level(session, ids["y"], ids["shelf"]) == 500 - 2 * rounds
    assert level(session, ids["x"], ids["spare"]) == level(session, ids["y"], ids["spare"]) == 0
    sound(session)


# The retry (both databases) ------------------------------------------------------------------

class FakeDeadlock(Exception):
    sqlstate = "40P01"


def deadlock():
    return OperationalError("UPDATE stock_level ...", {}, FakeDeadlock("deadlock detected"))


@pytest.fixture
def no_pause(monkeypatch):
    monkeypatch.setattr(database, "_JITTER", (0, 0))


def _failing(monkeypatch, times, target=booking, name="_record"):
    """Make `target.name` raise a fake deadlock its first `times` calls (after the rule wrote its
    stock levels, so the rollback has something to undo); returns the list of calls."""
    real, calls = getattr(target, name), []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise deadlock()
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)
    return calls


def test_a_deadlock_runs_the_whole_rule_again(session, make_item, make_bin, staff, monkeypatch, no_pause):
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    source, target = make_bin("A-01"), make_bin("A-02")
    calls = _failing(monkeypatch, 1)
    movement = stock.move(session, item, source, target, 4, staff)
    assert len(calls) == 2
    assert movement.id is not None
    assert (stock_queries.level(session, item, source), stock_queries.level(session, item, target)) == (6, 4)
    assert session.scalar(select(func.count()).select_from(Movement).where(Movement.kind == "move")) == 1
    sound(session)


def test_a_deadlock_at_commit_in_the_forecast_hook_is_retried_with_the_marks_again(
        session, make_item, make_bin, make_user, staff, monkeypatch, no_pause):
    """The reorder flags are projected in the before_commit hook; it fails once: the rollback
    drops the marks, the second attempt marks the item again and its flags are written."""
    item = make_item("LOW-1", on_hand=20, bin="A-01", reorder_point=5, supplier="S", lead_time_days=3)
    stored.current(session)
    calls = _failing(monkeypatch, 1, target=stored, name="reproject")
    stock.adjust(session, item, make_bin("A-01"), -18, staff, "damaged")
    assert len(calls) == 2
    assert stock_queries.level(session, item, make_bin("A-01")) == 2
    assert item.id in {flag.item_id for flag in stored.flags(session)}  # low now: flagged at that commit
    sound(session)


def test_a_deadlock_in_a_request_rule_is_retried(session, make_item, make_user, monkeypatch, no_pause):
    rep = make_user("rep")
    x, y = make_item("X-1", on_hand=5), make_item("Y-1", on_hand=5)
    calls = _failing(monkeypatch, 2, target=submission, name="_insert_request")
    request = submission.submit(session, rep, [(y, 2), (x, 3)], purpose="client_meeting", needed_by=d(2))
    assert len(calls) == 3
    assert session.scalar(select(func.count()).select_from(Request)) == 1
    assert sorted((line.item_id, line.reserved) for line in queries.get_request(session, request.id).lines) \
        == sorted([(x.id, 3), (y.id, 2)])
    sound(session)


def test_a_nested_rule_leaves_the_retry_to_the_outer_one(session, make_item, make_bin, staff, monkeypatch,
                                                         no_pause):
    """A rule called by another (reserve_kit calls submit) lets the deadlock reach the outer one,
    which runs everything again, its reads included."""
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    a, b = make_bin("A-01"), make_bin("A-02")
    runs = []

    @database.unit_of_work
    def outer(s):
        runs.append(stock_queries.level(s, item, a))
        return stock.move(s, item, a, b, 1, staff)

    calls = _failing(monkeypatch, 1)
    outer(session)
    assert runs == [10, 10] and len(calls) == 2  # the outer ran twice; the inner did not retry alone
    assert (stock_queries.level(session, item, a), stock_queries.level(session, item, b)) == (9, 1)
    sound(session)


def test_when_the_retries_are_used_up_the_rule_refuses_busy(session, make_item, make_bin, staff, monkeypatch,
                                                            no_pause):
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    source, target = make_bin("A-01"), make_bin("A-02")
    calls = _failing(monkeypatch, 99)
    with pytest.raises(Busy) as refused:
        stock.move(session, item, source, target, 4, staff)
    assert refused.value.status == 503 and refused.value.message == BUSY
    assert len(calls) == database.ATTEMPTS
    assert (stock_queries.level(session, item, source), stock_queries.level(session, item, target)) == (10, 0)


def test_busy_on_the_move_page_and_in_the_api(app, client, session, login, make_item, make_bin, monkeypatch,
                                              no_pause):
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    make_bin("A-02")
    user = login("staff")
    _failing(monkeypatch, 10 ** 6)
    response = client.post("/stock/move", data={"sku": "PEN-1", "from_bin": "A-01", "to_bin": "A-02",
                                                "quantity": "2"})
    assert response.status_code == 400
    assert BUSY in response.get_data(as_text=True)
    _row, token = auth.create_token(session, user, "tests")
    response = client.post("/api/v1/movements", headers={"Authorization": f"Bearer {token}"},
                           json={"kind": "move", "sku": "PEN-1", "from_bin": "A-01", "to_bin": "A-02", "quantity": 2})
    assert response.status_code == 503
    assert response.get_json() == {"error": BUSY}
    assert stock_queries.level(session, item, make_bin("A-01")) == 10


def test_other_database_errors_are_not_retried(session, make_item, make_bin, staff, monkeypatch, no_pause):
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise OperationalError("INSERT ...", {}, Exception("disk full"))

    monkeypatch.setattr(booking, "_record", broken)
    with pytest.raises(OperationalError):
        stock.move(session, item, make_bin("A-01"), make_bin("A-02"), 1, staff)
    assert len(calls) == 1
