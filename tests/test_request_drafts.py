"""The request being put together (drafts): the rules directly, and the request page through the
test client. Whatever button is pressed, the draft holds every quantity and detail posted; sending
it empties it in the same transaction as the reservation, once."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from inventory.errors import InvalidInput, ShortStock
from inventory.requests import drafts, submission
from inventory.requests.models import Request, RequestDraft

SOON = date.today() + timedelta(days=4)


def _send(session, rep, draft, **extra):
    items = {line.item.sku: line.item for line in drafts.page_lines(session, draft)}
    return submission.submit(session, rep, [(items[sku], q) for sku, q in draft.lines.items()], purpose="client_meeting",
                             needed_by=SOON, draft_generation=draft.generation, **extra)


def test_save_sets_removes_and_swaps_lines_in_their_order(session, make_user):
    rep = make_user("rep")
    assert drafts.get(session, rep).lines == {}
    drafts.save(session, rep, quantities={"PEN-1": 2, "MUG-1": 1, "CAP-M": 3})
    draft = drafts.save(session, rep, quantities={"MUG-1": 0, "PEN-1": 5})
    assert list(draft.lines.items()) == [("PEN-1", 5), ("CAP-M", 3)]
    draft = drafts.save(session, rep, replace={"CAP-M": "CAP-L"})
    assert list(draft.lines.items()) == [("PEN-1", 5), ("CAP-L", 3)]
    draft = drafts.save(session, rep, quantities={"CAP-M": 1})
    assert list(drafts.save(session, rep, replace={"CAP-M": "CAP-L"}).lines.items()) == [("PEN-1", 5), ("CAP-L", 4)]
    assert drafts.count(session, rep) == 9


def test_save_keeps_details_as_typed_and_only_known_lines_when_asked(session, make_user):
    rep = make_user("rep")
    drafts.save(session, rep, quantities={"PEN-1": 2})
    draft = drafts.save(session, rep, quantities={"PEN-1": 3, "NOT-ON-IT": 4}, only_known=True,
                        details={"needed_by": "2026-13-45", "note": "half typed", "other": "ignored"})
    assert draft.lines == {"PEN-1": 3}
    assert draft.details["needed_by"] == "2026-13-45" and draft.details["note"] == "half typed"
    assert "other" not in draft.details


def test_bad_quantities_and_too_many_lines_are_refused_and_change_nothing(session, make_user, monkeypatch):
    rep = make_user("rep")
    drafts.save(session, rep, quantities={"PEN-1": 2})
    for bad in (-1, "3", True, 2.5):
        with pytest.raises(InvalidInput):
            drafts.save(session, rep, quantities={"PEN-1": bad})
    monkeypatch.setattr(drafts, "MAX_LINES", 2)
    drafts.save(session, rep, quantities={"PEN-2": 1})
    with pytest.raises(InvalidInput, match="at most 2 different items"):
        drafts.save(session, rep, quantities={"PEN-3": 1})
    assert drafts.get(session, rep).lines == {"PEN-1": 2, "PEN-2": 1}


def test_sending_the_draft_empties_it_in_the_same_transaction_and_only_once(session, make_user, make_item):
    make_item("PEN-1", on_hand=10)
    rep = make_user("rep")
    draft = drafts.save(session, rep, quantities={"PEN-1": 4}, details={"note": "x"})
    made = _send(session, rep, draft)
    assert made.lines[0].reserved == 4
    after = drafts.get(session, rep)
    assert (after.lines, after.details, after.generation) == ({}, {}, draft.generation + 1)
    with pytest.raises(drafts.StaleDraft):  # a second tap, or the same page in another tab
        _send(session, rep, draft)
    with pytest.raises(drafts.StaleDraft):  # a late autosave from that page cannot bring it back
        drafts.save(session, rep, quantities={"PEN-1": 4}, generation=draft.generation)
    assert session.scalar(select(func.count(Request.id))) == 1
    assert drafts.get(session, rep).lines == {}


def test_a_short_send_holds_nothing_and_keeps_the_draft(session, make_user, make_item):
    make_item("MUG-1", on_hand=3)
    rep = make_user("rep")
    draft = drafts.save(session, rep, quantities={"MUG-1": 5})
    with pytest.raises(ShortStock):
        _send(session, rep, draft)
    assert session.scalar(select(func.count(Request.id))) == 0
    assert drafts.get(session, rep).lines == {"MUG-1": 5} and drafts.get(session, rep).generation == draft.generation


def test_page_lines_say_what_is_free_for_the_window_and_offer_sizes_that_have_it(session, make_user, make_product):
    polo = make_product(sizes={"S": 1, "M": 2, "L": 10, "XL": 6})
    rep = make_user("rep")
    draft = drafts.save(session, rep, quantities={"POLO-NAVY-M": 5, "POLO-NAVY-XL": 2})
    lines = {line.item.sku: line for line in drafts.page_lines(session, draft, drafts.window_of(SOON, None))}
    short = lines["POLO-NAVY-M"]
    assert (short.free, short.short, short.missing) == (2, True, 3)
    # L has enough; S has too few; XL is on the request already.
    assert [(item.sku, free) for item, free in short.siblings] == [("POLO-NAVY-L", 10)]
    assert not lines["POLO-NAVY-XL"].short and lines["POLO-NAVY-XL"].siblings == []
    assert {item.size for item in polo.items} == {"S", "M", "L", "XL"}


def test_page_lines_flag_what_cannot_be_reserved_at_all(session, make_user, make_item):
    make_item("FLYER-OLD", on_hand=50, category="print", do_not_use_after=date.today() - timedelta(days=1))
    rep = make_user("rep")
    [line] = drafts.page_lines(session, drafts.save(session, rep, quantities={"FLYER-OLD": 10}))
    assert "cannot be reserved" in line.problem and not line.short


def test_window_of_ignores_dates_that_cannot_make_a_window():
    assert drafts.window_of(None, None) is None
    assert drafts.window_of(date.max, None) is None
    assert drafts.window_of(SOON, SOON - timedelta(days=2)).end == SOON + timedelta(days=1)


# The request page through the test client ------------------------------------------------------

def _lines(session, rep):
    session.expire_all()
    return drafts.get(session, rep).lines


def test_every_button_on_the_request_page_saves_all_it_shows(client, login, make_item, session):
    make_item("PEN-1", on_hand=50)
    make_item("MUG-1", name="Mug", on_hand=7)
    rep = login("rep")
    client.post("/request/add", data={"qty-PEN-1": "1", "qty-MUG-1": "1"})
    generation = drafts.get(session, rep).generation
    page = {"qty-PEN-1": "5", "qty-MUG-1": "3", "needed_by": SOON.isoformat(), "purpose": "client_meeting",
            "handoff": "pickup", "note": "Acme", "generation": str(generation)}
    # Remove one line: the other line's new quantity and the details are saved with it.
    client.post("/request", data=dict(page, action="remove:MUG-1"))
    assert _lines(session, rep) == {"PEN-1": 5}
    assert drafts.get(session, rep).details["note"] == "Acme"
    # A quantity that cannot be taken is said next to its box; everything else is saved.
    client.post("/request/add", data={"qty-MUG-1": "2"})
    refused = client.post("/request", data=dict(page, **{"qty-PEN-1": "", "note": "Acme, 2 people"}))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Enter how many, or 0 to take it off." in html
    assert 'id="qty-PEN-1-error"' in html
    assert _lines(session, rep) == {"PEN-1": 5, "MUG-1": 3}
    assert drafts.get(session, rep).details["note"] == "Acme, 2 people"
    assert session.scalar(select(func.count(Request.id))) == 0
    # Submit takes the quantities on the page, not the ones saved before.
    client.post("/request", data=dict(page, **{"qty-PEN-1": "6", "qty-MUG-1": "2"}))
    made = session.scalar(select(Request))
    assert {line.item.sku: line.reserved for line in made.lines} == {"PEN-1": 6, "MUG-1": 2}
    assert made.note == "Acme" and _lines(session, rep) == {}


def test_take_what_is_free_and_backorder_are_answers_on_the_line(client, login, make_item, session):
    make_item("MUG-1", name="Mug", on_hand=7)
    rep = login("rep")
    added = client.post("/request/add", data={"qty-MUG-1": "30"}, follow_redirects=True)
    assert "Only 7 of Mug free now, 30 asked" in added.get_data(as_text=True)
    page = {"qty-MUG-1": "30", "needed_by": SOON.isoformat(), "note": "Booth",
            "generation": str(drafts.get(session, rep).generation)}
    shown = client.post("/request", data=dict(page, action="save"), follow_redirects=True).get_data(as_text=True)
    assert f"7 free for {SOON.strftime('%a %-d %b')}; 30 asked" in shown and "Take the 7 free" in shown
    client.post("/request", data=dict(page, action="take:MUG-1"))
    assert _lines(session, rep) == {"MUG-1": 7}
    client.post("/request", data=dict(page, action="backorder"))
    assert drafts.get(session, rep).details["allow_partial"] == "y"
    assert session.scalar(select(func.count(Request.id))) == 0


def test_autosave_answers_what_is_free_in_place(client, login, make_item, session):
    make_item("MUG-1", name="Mug", on_hand=7)
    rep = login("rep")
    client.post("/request/add", data={"qty-MUG-1": "2"})
    answer = client.post("/request/draft", data={"qty-MUG-1": "9", "needed_by": SOON.isoformat(), "note": "typing",
                                                 "generation": str(drafts.get(session, rep).generation)})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'id="status-MUG-1"' in html and 'hx-swap-oob="true"' in html
    assert "7 free for" in html and "9 asked" in html and 'data-free="7"' in html
    assert "<html" not in html  # a fragment, not a page
    assert _lines(session, rep) == {"MUG-1": 9} and drafts.get(session, rep).details["note"] == "typing"


def test_the_product_page_shows_and_sets_what_the_request_holds(client, login, make_product, session):
    polo = make_product(sizes={"S": 5, "M": 20})
    rep = login("rep")
    client.post("/request/add", data={"qty-POLO-NAVY-S": "2", "qty-POLO-NAVY-M": "3"})
    page = client.get(f"/catalog/p/{polo.id}").get_data(as_text=True)
    assert 'id="qty-POLO-NAVY-M" value="3"' in page and "Update my request" in page
    client.post("/request/add", data={"qty-POLO-NAVY-S": "0", "qty-POLO-NAVY-M": "4"})
    assert _lines(session, rep) == {"POLO-NAVY-M": 4}  # set, not added: what the boxes said


def test_a_cart_kept_in_the_session_cookie_before_the_upgrade_moves_into_the_draft(client, login, make_item, session):
    make_item("PEN-1", on_hand=5)
    rep = login("rep")
    with client.session_transaction() as cookie:
        cookie["request_cart"] = [["PEN-1", 3], ["GONE-1", 2]]
    assert 'value="3"' in client.get("/request").get_data(as_text=True)
    assert _lines(session, rep) == {"PEN-1": 3}
    with client.session_transaction() as cookie:
        assert "request_cart" not in cookie
    assert session.get(RequestDraft, rep.id) is not None


def test_the_request_page_and_its_autosave_send_as_many_statements_for_12_lines_as_for_2(
        app, client, login, make_item, session):
    """No query per line, returnables included (their bookings and units out are read for all at once)."""
    from inventory.querycount import count_queries

    for n in range(6):
        make_item(f"PEN-{n}", on_hand=10)
        make_item(f"BANNER-{n}", category="display", on_hand=2, returnable=True)
    rep = login("rep")
    counts = []
    for skus in (["PEN-0", "BANNER-0"], [f"{kind}-{n}" for kind in ("PEN", "BANNER") for n in range(6)]):
        client.post("/request/add", data={f"qty-{sku}": "1" for sku in skus})
        form = {f"qty-{sku}": "1" for sku in skus}
        form.update(needed_by=SOON.isoformat(), return_by=(SOON + timedelta(days=2)).isoformat(),
                    generation=str(drafts.get(session, rep).generation))
        client.get("/request")  # warm-up: first-use caches
        with count_queries(db_engine(app)) as page:
            assert client.get("/request").status_code == 200
        client.post("/request/draft", data=form)  # the details change once; then the same again
        with count_queries(db_engine(app)) as autosave:
            assert client.post("/request/draft", data=form).status_code == 200
        counts.append((page.count, autosave.count))
    assert counts[0] == counts[1], counts


def db_engine(app):
    from inventory.extensions import db

    with app.app_context():
        return db.engine


def test_a_product_page_left_open_changes_only_the_boxes_changed_on_it(client, login, make_product, session):
    """Each box says what it was drawn with: a page opened before the request was sent (or edited in
    another tab) cannot put back the quantities nobody touched on it."""
    make_product(sizes={"S": 5, "M": 20})
    rep = login("rep")
    client.post("/request/add", data={"qty-POLO-NAVY-S": "0", "was-POLO-NAVY-S": "0",
                                      "qty-POLO-NAVY-M": "3", "was-POLO-NAVY-M": "0"})
    draft = drafts.get(session, rep)
    client.post("/request", data={"needed_by": SOON.isoformat(), "generation": str(draft.generation)})
    assert session.scalar(select(func.count(Request.id))) == 1 and _lines(session, rep) == {}
    # The page still open from before the send: M drawn as 3 and untouched, S changed to 1.
    client.post("/request/add", data={"qty-POLO-NAVY-S": "1", "was-POLO-NAVY-S": "0",
                                      "qty-POLO-NAVY-M": "3", "was-POLO-NAVY-M": "3"})
    assert _lines(session, rep) == {"POLO-NAVY-S": 1}
    # Nothing changed on the page at all: nothing is written, and it says so.
    same = client.post("/request/add", data={"qty-POLO-NAVY-S": "1", "was-POLO-NAVY-S": "1"}, follow_redirects=True)
    assert "Nothing changed" in same.get_data(as_text=True) and _lines(session, rep) == {"POLO-NAVY-S": 1}
    untouched = client.post("/request/add", data={"qty-POLO-NAVY-M": "0", "was-POLO-NAVY-M": "0"},
                            follow_redirects=True)
    assert "Choose how many you need first." in untouched.get_data(as_text=True)


def test_switching_to_a_size_that_cannot_be_had_keeps_everything_typed(client, login, make_product, make_item,
                                                                        session):
    make_product(sizes={"S": 5, "M": 1})
    make_item("PEN-1", on_hand=5)
    rep = login("rep")
    client.post("/request/add", data={"qty-POLO-NAVY-M": "3", "qty-PEN-1": "1"})
    page = {"qty-POLO-NAVY-M": "4", "qty-PEN-1": "2", "note": "typed", "needed_by": SOON.isoformat(),
            "generation": str(drafts.get(session, rep).generation)}
    for target in ("NOPE-1", "PEN-1"):  # unknown, and not another size of the polo
        refused = client.post("/request", data=dict(page, action=f"switch:POLO-NAVY-M>{target}"))
        assert refused.status_code == 400
        assert f"{target} is not another size of this item" in refused.get_data(as_text=True)
        assert _lines(session, rep) == {"POLO-NAVY-M": 4, "PEN-1": 2}
        assert drafts.get(session, rep).details["note"] == "typed"
    client.post("/request", data=dict(page, action="switch:POLO-NAVY-M>POLO-NAVY-S"))
    assert _lines(session, rep) == {"POLO-NAVY-S": 4, "PEN-1": 2}


def test_a_draft_changed_between_its_save_and_its_send_is_not_sent_and_keeps_the_change(session, make_user,
                                                                                         make_item):
    pens = make_item("PEN-1", on_hand=10)
    make_item("MUG-1", on_hand=10)
    rep = make_user("rep")
    draft = drafts.save(session, rep, quantities={"PEN-1": 2})
    drafts.save(session, rep, quantities={"MUG-1": 1})  # another tab, just then
    with pytest.raises(drafts.DraftChanged):
        submission.submit(session, rep, [(pens, 2)], purpose="client_meeting", needed_by=SOON,
                          draft_generation=draft.generation)
    assert session.scalar(select(func.count(Request.id))) == 0
    assert drafts.get(session, rep).lines == {"PEN-1": 2, "MUG-1": 1}
