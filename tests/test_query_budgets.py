"""Query budgets: the busiest pages send a fixed number of SQL statements, however large the
stockroom. Each page is opened on a small stockroom and on one ten times larger (built by the
large demo seed at two scales), as the role that uses it; a count that grows with the data is
an N+1 (a query per row), and the test fails naming the page.

The two stockrooms are built once for this module, in the session's test database, and the
database is emptied again afterwards like after any test.
"""
from datetime import date

import pytest
from sqlalchemy import func, select

from inventory.auth import services as auth
from inventory.auth.models import User
from inventory.bins.models import Bin
from inventory.catalog.models import Item
from inventory.demo_large import seed_large
from inventory.extensions import db
from inventory.mail.alerts import queue_reorder_digest
from inventory.querycount import count_queries
from inventory.requests.emails import queue_return_reminders
from inventory.requests.models import HOLDING, Request, RequestLine
from inventory.stock.models import Movement, StockLevel
from inventory.stock.services import check_ledger
from inventory.timeutil import utcnow

from tests.conftest import empty_database, make_test_app

SMALL, LARGE = 0.01, 0.1  # 10 products / 2,000 ledger rows / 200 requests, and ten times that
PAGES = ["bin", "item", "item_on_loan", "bin_on_loan", "catalog_search", "my_requests", "queue", "reorders",
         "reorders_after_change", "scan_read", "find", "label_sheet", "api_reserve", "api_items", "send_alerts",
         "today_staff", "today_rep", "today_manager"]
# Statements a page may send at most (at any size): generous enough for honest changes, far
# below what a query per row would cost even on the small stockroom.
BUDGET = {"bin": 8, "item": 12, "item_on_loan": 14, "bin_on_loan": 8, "catalog_search": 6, "my_requests": 5, "queue": 6, "reorders": 11,
          "reorders_after_change": 12,  # the stored flags: read, not computed, after a change too
          "scan_read": 5, "find": 8, "label_sheet": 6, "api_reserve": 21, "api_items": 10, "send_alerts": 34,
          "today_staff": 9, "today_rep": 7, "today_manager": 11}  # the Today pages: one statement a section
# catalog_search: 5, and one for which products on the page have a file to share (6). item and
# item_on_loan: their current files are one more statement, within the room they had.
# today_rep: 6 statements, 7 with the rep's team budget line (the team and its spend in one
# statement; the measured rep is in a team, see _put_in_a_team). api_reserve: 17 with the
# requester's team read for the answer's `team` (16 before); 20 with the approval e-mail to the
# team's approver (the approver, their mail preference, the outbox row), so 21 keeps the one
# statement of room it had.
# send_alerts: 34 on a day when the seed's returns are due for a reminder (four statements more: the
# reminders already sent, the recipients, the reminder rows and the outbox row), 30 on other days.
# The Budgets page: the teams and their approvers, member counts, spend per team, spend per team and day.
PAGES.append("budgets")
BUDGET["budgets"] = 8
MAIL = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 2525, "MAIL_FROM": "stock@example.com",
        "BASE_URL": "https://stock.example.com", "ALERT_RECIPIENTS": ["marketing@example.com"]}


def _busiest_bin():
    return db.session.scalar(select(Bin.code).join(StockLevel, StockLevel.bin_id == Bin.id)
                             .where(Bin.code != "DISPATCH").group_by(Bin.code)
                             .order_by(func.count().desc(), Bin.code).limit(1))


def _busiest_item():
    return db.session.scalar(select(Item.sku).join(Movement, Movement.item_id == Item.id)
                             .where(Item.archived.is_(False)).group_by(Item.sku)
                             .order_by(func.count().desc(), Item.sku).limit(1))


def _lend_a_returnable(rep):
    """Hand one unit of a returnable that has two or more in a bin to `rep` (through the rules),
    so that both stockrooms have a loan to show (the small seed hands none over): (SKU, bin)."""
    from datetime import timedelta

    from inventory.errors import DomainError
    from inventory.requests import fulfilment, handover, queries, review, submission

    # An admin approves: the large seed's reps are in teams whose approver is another manager,
    # and an admin may stand in for every approval level (budgets/approvals.py); the note is
    # the reason a request over its team's budget needs.
    manager = db.session.scalar(select(User).where(User.role == "admin", User.active).order_by(User.id).limit(1))
    staff = db.session.scalar(select(User).where(User.email == "staff@example.com"))
    candidates = db.session.execute(
        select(Item, Bin).join(StockLevel, StockLevel.item_id == Item.id).join(Bin, StockLevel.bin_id == Bin.id)
        .where(Item.returnable.is_(True), Item.archived.is_(False), Bin.code != "DISPATCH", Bin.archived.is_(False),
               StockLevel.quantity >= 2)
        .order_by(StockLevel.quantity.desc(), Item.sku, Bin.code)).all()
    today = date.today()
    for item, bin in candidates:
        try:
            made = submission.submit(db.session, rep, [(item, 1)], purpose="trade_show", needed_by=today,
                                     return_by=today + timedelta(days=3))
            review.approve(db.session, made.id, manager, note="A loan for the query budget tests.")
            line = queries.get_request(db.session, made.id).lines[0]
            fulfilment.pick(db.session, made.id, bin, {line.id: 1}, staff)
            handover.hand_over(db.session, made.id, staff)
        except DomainError:
            continue
        return item.sku, bin.code
    raise AssertionError("no returnable could be lent")


def _put_in_a_team(rep):
    """The rep in a team with a budget, their requests counted against it (as if submitted in
    it), so that their Today page shows its budget line."""
    from sqlalchemy import update

    from inventory.budgets import services as teams

    manager = db.session.scalar(select(User).where(User.email == "manager@example.com"))
    team = teams.create_team(db.session, dict(name="Field sales", budget="20000", approver_id=manager.id))
    teams.set_team(db.session, rep, team.id)
    db.session.execute(update(Request).where(Request.requester_id == rep.id).values(team_id=team.id))
    db.session.commit()


def _busiest_rep():
    return db.session.scalar(select(User.email).join(Request, Request.requester_id == User.id)
                             .where(User.role == "rep").group_by(User.email)
                             .order_by(func.count().desc(), User.email).limit(1))


def _measure(app):
    """{page: statements} on the stockroom in the database now."""
    with app.app_context():
        engine = db.engine
        bin_code, sku, rep_email = _busiest_bin(), _busiest_item(), _busiest_rep()
        rep = db.session.scalar(select(User).where(User.email == rep_email))
        _put_in_a_team(rep)
        loaned_sku, loaned_bin = _lend_a_returnable(rep)
        _row, token = auth.create_token(db.session, rep, "budget")
        db.session.remove()
    clients = {}

    def client(email, password):
        if email not in clients:
            clients[email] = app.test_client()
            response = clients[email].post("/login", data={"email": email, "password": password})
            assert response.status_code == 302, f"login as {email} failed"
        return clients[email]

    staff = lambda: client("staff@example.com", "demo-staff-2026")  # noqa: E731
    manager = lambda: client("manager@example.com", "demo-manager-2026")  # noqa: E731
    rep_client = lambda: client(rep_email, "demo-rep-2026")  # noqa: E731
    bearer = {"Authorization": f"Bearer {token}"}
    reserve = {"lines": [{"sku": sku, "qty": 1}], "needed_by": date.today().isoformat(), "allow_partial": True,
               "return_by": date.today().isoformat()}
    requests = {
        "bin": lambda: staff().get(f"/b/{bin_code}"),
        "item": lambda: staff().get(f"/i/{sku}"),
        "item_on_loan": lambda: staff().get(f"/i/{loaned_sku}?page=1"),
        "bin_on_loan": lambda: staff().get(f"/b/{loaned_bin}"),
        "catalog_search": lambda: rep_client().get("/catalog?q=polo"),
        "my_requests": lambda: rep_client().get("/requests/mine"),
        "queue": lambda: manager().get("/requests"),
        "reorders": lambda: manager().get("/reorders"),
        "scan_read": lambda: staff().get(f"/scan/read?text=https://stock.example.com/b/{bin_code}"),
        "find": lambda: staff().get(f"/find?code={sku}"),
        "label_sheet": lambda: staff().get("/labels/sheet?what=bins&bins_by=all&sheet=avery-5160&start=1"),
        "api_reserve": lambda: app.test_client().post("/api/v1/requests", json=reserve, headers=bearer),
        "api_items": lambda: app.test_client().get("/api/v1/items?q=polo", headers=bearer),
        "today_staff": lambda: staff().get("/today"),
        "today_rep": lambda: rep_client().get("/today"),
        "today_manager": lambda: manager().get("/today"),
    }
    requests["budgets"] = lambda: manager().get("/budgets")
    counts = {}
    for page, request in requests.items():
        request()  # once to warm up (first-use caches, the DISPATCH bin), then counted
        with count_queries(engine) as counted:
            response = request()
        assert response.status_code in (200, 201, 302), f"{page}: {response.status_code}"
        counts[page] = counted.count
    # /reorders right after a reservation (not counted): it projects again only the reserved item.
    assert requests["api_reserve"]().status_code == 201
    with count_queries(engine) as counted:
        assert manager().get("/reorders").status_code == 200
    assert any("reorder_flag" in statement for statement in counted.statements), "not the stored flags"
    counts["reorders_after_change"] = counted.count
    with app.app_context():
        today, now = date.today(), utcnow()
        with count_queries(engine) as counted:
            queue_return_reminders(db.session, today)
            queue_reorder_digest(db.session, app.config, today, now)
        counts["send_alerts"] = counted.count
        db.session.remove()
    return counts


@pytest.fixture(scope="module")
def budgets(database_url, tmp_path_factory):
    """{page: (statements on the small stockroom, statements on the ten-times-larger one)}."""
    app = make_test_app(database_url, tmp_path_factory.mktemp("budget-instance"), **MAIL)
    measured, broken = [], []
    for scale in (SMALL, LARGE):
        with app.app_context():
            empty_database()
            seed_large(db.session, scale=scale)
            broken.extend(_broken_invariants(scale))
            db.session.remove()
        measured.append(_measure(app))
    with app.app_context():
        empty_database()
        db.session.remove()
        db.engine.dispose()
    counts = {page: (measured[0][page], measured[1][page]) for page in PAGES}
    counts["broken invariants"] = broken
    return counts


def _broken_invariants(scale):
    """What the large seed got wrong, in words: ledger drift, holds beyond stock, lines in
    states the rules never leave them in."""
    problems = [f"scale {scale}: ledger drift {drift}" for drift in check_ledger(db.session)]
    on_hand = dict(db.session.execute(select(StockLevel.item_id, func.sum(StockLevel.quantity))
                                      .group_by(StockLevel.item_id)).all())
    held = db.session.execute(
        select(RequestLine.item_id, func.sum(RequestLine.reserved)).join(Request).join(Item)
        .where(Request.status.in_(HOLDING), Item.returnable.is_(False)).group_by(RequestLine.item_id)).all()
    problems += [f"scale {scale}: item #{item_id} holds {n} of {on_hand.get(item_id) or 0}"
                 for item_id, n in held if n > (on_hand.get(item_id) or 0)]
    lines = db.session.execute(select(Request.status, RequestLine).join(Request)).all()
    problems += [f"scale {scale}: {status} line #{line.id} holds {line.reserved}, picked {line.picked}"
                 for status, line in lines
                 if line.picked > line.reserved or (status in ("cancelled", "rejected", "returned") and line.reserved)
                 or (status == "ready" and line.picked != line.reserved)]
    return problems


def test_the_large_seed_keeps_the_invariants(budgets):
    """No ledger drift, no stock held twice, request lines as the rules leave them."""
    assert budgets["broken invariants"] == []


@pytest.mark.parametrize("page", PAGES)
def test_statements_per_page_do_not_grow_with_the_data(budgets, page):
    small, large = budgets[page]
    assert large <= small, f"{page}: {small} statements on the small stockroom, {large} on one ten times larger"
    assert large <= BUDGET[page], f"{page}: {large} statements, over its budget of {BUDGET[page]}"




def test_seed_demo_large_refuses_a_database_with_data(runner, make_user):
    make_user("admin", email="someone@example.com")
    result = runner.invoke(args=["seed-demo", "--scale", "large"])
    assert result.exit_code != 0
    assert "only fills an empty one" in result.output
