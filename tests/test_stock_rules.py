"""The stock rules, tested directly: the ledger is the truth, no level is ever negative."""
import threading

import pytest
from sqlalchemy import select, text, update

from inventory.errors import InsufficientStock, InvalidInput
from inventory.extensions import db
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock
from inventory.stock.models import Movement, StockLevel


def test_receive_books_a_ledger_row_and_the_level(session, make_item, make_bin, make_user):
    item = make_item("PEN-1")
    bin = make_bin("A-01")
    staff = make_user("staff")
    movement = stock.receive(session, item, bin, 25, staff, reference="Delivery 7")
    assert stock_queries.level(session, item, bin) == 25
    assert (movement.kind, movement.quantity, movement.to_bin_id, movement.user_id) == ("receive", 25, bin.id, staff.id)
    assert movement.reference == "Delivery 7" and movement.created_at is not None
    assert stock.check_ledger(session) == []


@pytest.mark.parametrize("quantity", [0, -5, 2.5, "5", True, None])
def test_receive_refuses_a_quantity_that_is_not_a_positive_whole_number(session, make_item, make_bin, make_user,
                                                                         quantity):
    item, bin = make_item("PEN-1"), make_bin("A-01")
    with pytest.raises(InvalidInput):
        stock.receive(session, item, bin, quantity, make_user("staff"))
    assert session.scalar(select(Movement.id)) is None
    assert stock_queries.level(session, item, bin) == 0


def test_move_takes_from_one_bin_and_puts_into_another(session, make_item, make_bin, make_user):
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    source, target = make_bin("A-01"), make_bin("B-02")
    stock.move(session, item, source, target, 4, make_user("staff"), reason="tidy up")
    assert (stock_queries.level(session, item, source), stock_queries.level(session, item, target)) == (6, 4)
    assert stock.on_hand(session, [item.id]) == {item.id: 10}
    assert stock.check_ledger(session) == []


def test_moving_more_than_the_bin_holds_is_refused_with_a_clear_message(session, make_item, make_bin, make_user):
    item = make_item("PEN-1", on_hand=3, bin="A-01")
    source, target = make_bin("A-01"), make_bin("B-02")
    with pytest.raises(InsufficientStock, match="A-01 holds 3 of PEN-1; cannot take 5"):
        stock.move(session, item, source, target, 5, make_user("staff"))
    assert (stock_queries.level(session, item, source), stock_queries.level(session, item, target)) == (3, 0)
    assert session.scalar(select(Movement.id).where(Movement.kind == "move")) is None


def test_moving_to_the_same_bin_is_refused(session, make_item, make_bin, make_user):
    item = make_item("PEN-1", on_hand=3)
    with pytest.raises(InvalidInput):
        stock.move(session, item, make_bin("A-01"), make_bin("A-01"), 1, make_user("staff"))


def test_adjust_needs_a_reason_and_never_goes_below_zero(session, make_item, make_bin, make_user):
    item, bin, staff = make_item("MUG-1", on_hand=5), make_bin("A-01"), make_user("staff")
    with pytest.raises(InvalidInput, match="why"):
        stock.adjust(session, item, bin, -2, staff, reason="  ")
    with pytest.raises(InsufficientStock):
        stock.adjust(session, item, bin, -6, staff, reason="broken")
    with pytest.raises(InvalidInput):
        stock.adjust(session, item, bin, 0, staff, reason="nothing")
    assert stock_queries.level(session, item, bin) == 5
    stock.adjust(session, item, bin, -2, staff, reason="two broken in the box")
    stock.adjust(session, item, bin, 7, staff, reason="carton found")
    assert stock_queries.level(session, item, bin) == 10
    kinds = session.scalars(select(Movement.reason).where(Movement.kind == "adjust").order_by(Movement.id)).all()
    assert kinds == ["two broken in the box", "carton found"]


def test_count_books_every_difference_in_one_go(session, make_item, make_bin, make_user):
    bin = make_bin("A-01")
    pens, mugs, totes = make_item("PEN-1", on_hand=10), make_item("MUG-1", on_hand=4), make_item("TOTE-1")
    movements = stock.count(session, bin, {pens: 8, mugs: 4, totes: 3}, make_user("staff"))
    assert [stock_queries.level(session, i, bin) for i in (pens, mugs, totes)] == [8, 4, 3]
    by_sku = {m.item.sku: m for m in movements}
    assert (by_sku["PEN-1"].quantity, by_sku["PEN-1"].from_bin_id) == (2, bin.id)
    assert (by_sku["MUG-1"].quantity, by_sku["MUG-1"].counted) == (0, 4)  # counted as expected: still recorded
    assert (by_sku["TOTE-1"].quantity, by_sku["TOTE-1"].to_bin_id) == (3, bin.id)
    assert "expected 10" in by_sku["PEN-1"].reason
    assert stock.check_ledger(session) == []


def test_a_count_with_one_bad_line_writes_nothing(session, make_item, make_bin, make_user):
    bin = make_bin("A-01")
    pens, mugs = make_item("PEN-1", on_hand=10), make_item("MUG-1", on_hand=4)
    with pytest.raises(InvalidInput):
        stock.count(session, bin, [(pens, 3), (mugs, -1)], make_user("staff"))
    assert [stock_queries.level(session, i, bin) for i in (pens, mugs)] == [10, 4]
    assert session.scalar(select(Movement.id).where(Movement.kind == "count")) is None


def test_archived_items_and_bins_take_no_new_stock(session, make_item, make_bin, make_user):
    from inventory.bins.services import set_archived as archive_bin
    from inventory.catalog.services import set_archived as archive_item

    item, staff = make_item("OLD-1"), make_user("staff")
    archive_item(session, item=item)
    with pytest.raises(InvalidInput, match="archived"):
        stock.receive(session, item, make_bin("A-01"), 5, staff)
    fresh = make_item("NEW-1")
    empty = make_bin("Z-99")
    archive_bin(session, empty)
    with pytest.raises(InvalidInput, match="archived"):
        stock.receive(session, fresh, empty, 5, staff)


def test_the_database_refuses_a_negative_level_even_if_a_rule_had_a_bug(session, make_item, make_bin):
    make_item("PEN-1", on_hand=2)
    with pytest.raises(Exception):
        session.execute(update(StockLevel).values(quantity=-1))
        session.commit()
    session.rollback()


def test_check_finds_drift_between_levels_and_ledger(session, runner, make_item, make_bin):
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    # Someone edits the cache behind the ledger's back.
    session.execute(text("UPDATE stock_level SET quantity = 7"))
    session.commit()
    drifts = stock.check_ledger(session)
    assert [(d.sku, d.bin_code, d.ledger, d.cached) for d in drifts] == [("PEN-1", "A-01", 10, 7)]
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "PEN-1 in A-01: ledger says 10, stock level says 7" in result.output
    assert item.sku == "PEN-1"


def test_check_lists_several_drifting_levels_by_sku_then_bin(session, runner, make_item, make_bin):
    """Two drifting levels once crashed `flask check` (the drifts could not be sorted)."""
    make_item("PEN-1", on_hand=10, bin="B-02")
    make_item("CAP-1", on_hand=5, bin="B-02")
    pen_a = make_item("PEN-2", on_hand=3, bin="A-01")
    session.execute(text("UPDATE stock_level SET quantity = quantity - 1"))
    session.commit()
    assert [(d.sku, d.bin_code) for d in stock.check_ledger(session)] == [
        ("CAP-1", "B-02"), ("PEN-1", "B-02"), (pen_a.sku, "A-01")]
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1 and "CAP-1 in B-02: ledger says 5, stock level says 4" in result.output


def test_check_finds_a_ledger_row_with_no_level(session, make_item, make_bin, make_user):
    item = make_item("PEN-1", on_hand=4, bin="A-01")
    session.execute(text("DELETE FROM stock_level"))
    session.commit()
    assert [(d.sku, d.ledger, d.cached) for d in stock.check_ledger(session)] == [("PEN-1", 4, 0)]
    assert item


def test_history_shows_who_what_when_why_newest_first(session, make_item, make_bin, make_user):
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    staff = make_user("staff", name="Sam")
    stock.move(session, item, make_bin("A-01"), make_bin("A-02"), 3, staff, reason="overflow")
    rows = stock_queries.history(session, item=item)
    assert [r.kind for r in rows] == ["move", "receive"]
    assert rows[0].user.name == "Sam" and rows[0].reason == "overflow"
    assert [r.kind for r in stock_queries.history(session, bin=make_bin("A-02"))] == ["move"]


def test_concurrent_takes_of_the_last_units_never_oversell(app, session, make_item, make_bin, make_user):
    """Eight people take 3 of the last 10 at the same moment: exactly three succeed."""
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    source, target = make_bin("A-01"), make_bin("B-01")
    staff = make_user("staff")
    item_id, source_id, target_id, staff_id = item.id, source.id, target.id, staff.id
    db.session.remove()  # each thread below gets its own session and connection
    barrier = threading.Barrier(8)
    outcomes = []

    def worker():
        with app.app_context():
            from inventory.auth.models import User
            from inventory.bins.models import Bin
            from inventory.catalog.models import Item

            s = db.session
            it, a, b, u = s.get(Item, item_id), s.get(Bin, source_id), s.get(Bin, target_id), s.get(User, staff_id)
            barrier.wait()
            try:
                stock.move(s, it, a, b, 3, u)
                outcomes.append("ok")
            except InsufficientStock:
                outcomes.append("short")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["ok"] * 3 + ["short"] * 5
    db.session.remove()
    assert (stock_queries.level(db.session, item, source), stock_queries.level(db.session, item, target)) == (1, 9)
    assert stock.check_ledger(db.session) == []
