"""The transaction is opened at the edge (inventory/database.py, docs/design.md "Transactions"):
a rule is a unit of work that commits only when it is the outermost one; called inside another
unit it joins that transaction in a savepoint. So rules compose: two rules called as one are one
transaction, and a refusal caught by the caller undoes only the refused rule's writes.

Every check reads the outcome through a second connection (what another user would see), not
through the session that wrote it."""
import ast
import pathlib

import pytest
from sqlalchemy import create_engine

from inventory import database
from inventory.errors import DomainError
from inventory.extensions import db
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock

ROOT = pathlib.Path(__file__).resolve().parent.parent / "inventory"
# Entry points that seed a whole database in batches, committing as they go.
MAY_COMMIT = {"demo.py", "demo_large/__init__.py"}


@pytest.fixture
def others():
    """What another connection sees: the level of an item in a bin, committed."""
    engine = create_engine(db.engine.url.render_as_string(hide_password=False))

    def level(item, bin):
        connection = engine.raw_connection()  # a plain DB-API connection: no BEGIN IMMEDIATE of ours
        try:
            cursor = connection.cursor()
            cursor.execute(f"SELECT coalesce(sum(quantity), 0) FROM stock_level WHERE item_id = {int(item.id)} "
                           f"AND bin_id = {int(bin.id)}")
            return cursor.fetchone()[0]
        finally:
            connection.close()

    yield level
    engine.dispose()


@pytest.fixture
def staff(make_user):
    return make_user("staff")


def test_no_rule_opens_or_ends_a_transaction_itself():
    """Only database.py opens write transactions; rules never commit or begin one (a savepoint is
    fine: it ends inside the caller's transaction), the seed commands aside."""
    found = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative == "database.py" or relative.startswith("migrations/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id == "write_transaction":
                found.append(f"inventory/{relative}:{node.lineno} calls write_transaction()")
            elif (isinstance(func, ast.Attribute) and func.attr in ("commit", "begin")
                  and ast.unparse(func.value).endswith("session") and relative not in MAY_COMMIT):
                found.append(f"inventory/{relative}:{node.lineno} calls {ast.unparse(func)}()")
    assert not found, "\n".join(found)


def test_two_rules_in_one_unit_commit_together(session, make_item, make_bin, staff, others):
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    a, b, c = make_bin("A-01"), make_bin("A-02"), make_bin("A-03")
    seen_between = []

    @database.unit_of_work
    def both(s):
        stock.move(s, item, a, b, 2, staff)
        seen_between.append(others(item, b))  # the first rule has not committed
        stock.move(s, item, a, c, 3, staff)

    both(session)
    assert seen_between == [0]
    assert (others(item, a), others(item, b), others(item, c)) == (5, 2, 3)


def test_a_refusal_in_the_second_rule_rolls_back_the_first(session, make_item, make_bin, staff, others):
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    a, b = make_bin("A-01"), make_bin("A-02")

    @database.unit_of_work
    def both(s):
        stock.move(s, item, a, b, 2, staff)
        stock.move(s, item, a, b, 50, staff)  # more than is there

    with pytest.raises(DomainError):
        both(session)
    assert (others(item, a), others(item, b)) == (10, 0)
    session.expire_all()
    assert stock_queries.level(session, item, a) == 10


def test_a_caught_refusal_undoes_only_that_rule(session, make_item, make_bin, staff, others):
    """The inner rule ran in a savepoint: the caller may carry on, and what it kept commits."""
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    a, b, c = make_bin("A-01"), make_bin("A-02"), make_bin("A-03")

    @database.unit_of_work
    def careful(s):
        stock.move(s, item, a, b, 2, staff)
        try:
            stock.receive(s, item, c, 4, staff)
            stock.adjust(s, item, c, -99, staff, "lost")  # refused: the bin holds 4
        except DomainError:
            pass

    careful(session)
    assert (others(item, a), others(item, b), others(item, c)) == (8, 2, 4)


def test_an_entry_point_transaction_makes_rules_one(session, make_item, make_bin, staff, others):
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    a, b = make_bin("A-01"), make_bin("A-02")
    with pytest.raises(RuntimeError), database.transaction(session):
        stock.move(session, item, a, b, 4, staff)
        raise RuntimeError("the entry point fails after the rule")
    assert (others(item, a), others(item, b)) == (10, 0)
    with database.transaction(session):
        stock.move(session, item, a, b, 4, staff)
        stock.move(session, item, b, a, 1, staff)
    assert (others(item, a), others(item, b)) == (7, 3)


def test_a_rule_on_its_own_commits(session, make_item, make_bin, staff, others):
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    a, b = make_bin("A-01"), make_bin("A-02")
    stock.move(session, item, a, b, 4, staff)
    assert (others(item, a), others(item, b)) == (6, 4)


def test_the_item_form_saves_the_item_and_its_sizes_together_or_not_at_all(client, login, make_product, session,
                                                                             monkeypatch):
    """"Apply to every size" is two rules; a refusal in the second keeps the first from being saved."""
    from inventory.catalog import views as catalog_views
    from inventory.catalog.models import Item

    make_product(sizes={"S": 0, "M": 0})
    real = catalog_views.services.apply_to_all_sizes

    def apply_then_refuse(s, product, **fields):
        real(s, product, **fields)
        raise DomainError("Refused after the sizes were written.")

    monkeypatch.setattr(catalog_views.services, "apply_to_all_sizes", apply_then_refuse)
    login("manager")
    response = client.post("/i/POLO-NAVY-S/edit", data={
        "unit": "each", "supplier": "NewThreads", "unit_cost": "12.00", "lead_time_days": "20",
        "reorder_point": "4", "reorder_quantity": "30", "apply_to_all": "y",
    })
    assert response.status_code == 400 and "Refused after the sizes were written." in response.get_data(as_text=True)
    session.expire_all()
    suppliers = {item.sku: item.supplier for item in session.query(Item)}
    assert "NewThreads" not in suppliers.values(), suppliers


def test_a_user_created_inactive_is_created_inactive_or_not_at_all(client, login, session, monkeypatch):
    from inventory.auth import views as auth_views
    from inventory.auth.models import User

    def refuse(*_args, **_kwargs):
        raise DomainError("Refused while deactivating.")

    monkeypatch.setattr(auth_views.services, "update_user", refuse)
    login("admin")
    response = client.post("/admin/users/new", data={"email": "new@example.com", "name": "New Rep", "role": "rep",
                                                     "password": "first-password"})  # active unticked
    assert "Refused while deactivating." in response.get_data(as_text=True)
    session.expire_all()
    assert session.query(User).filter_by(email="new@example.com").count() == 0
