"""Bin rules and pages, and the stock pages staff use on their phones."""
import pytest
from sqlalchemy import func, select

from inventory.bins import services as bins
from inventory.errors import Conflict, DuplicateCode, InvalidInput, UnknownBin
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock
from inventory.stock.models import Movement


def test_bin_codes_are_unique_and_case_insensitive(session):
    bins.create_bin(session, "a-03-2", "Polos", "Stockroom A")
    assert bins.get_bin(session, "A-03-2").code == "A-03-2"
    assert bins.get_bin(session, " a-03-2 ").name == "Polos"
    with pytest.raises(DuplicateCode):
        bins.create_bin(session, "A-03-2")
    with pytest.raises(UnknownBin):
        bins.get_bin(session, "A-99")


@pytest.mark.parametrize("code", ["", "A 01", "A/01", "-A01", "X" * 21, "A-01-"])
def test_bad_bin_codes_are_refused(session, code):
    with pytest.raises(InvalidInput):
        bins.create_bin(session, code)


def test_a_bin_is_archived_only_when_empty(session, make_item, make_bin, make_user):
    item = make_item("PEN-1", on_hand=4, bin="A-01")
    bin = make_bin("A-01")
    with pytest.raises(Conflict, match="still holds 4"):
        bins.set_archived(session, bin)
    stock.move(session, item, bin, make_bin("A-02"), 4, make_user("staff"))
    bins.set_archived(session, bin)
    assert bins.search_bins(session, q="A-01").rows == []


def test_bin_label_url_shows_contents_and_history(client, login, make_item):
    make_item("PEN-1", name="Logo pen", on_hand=7, bin="A-01")
    login("rep")
    assert client.get("/b/a-01").headers["Location"].endswith("/b/A-01")
    html = client.get("/b/A-01").get_data(as_text=True)
    assert "Logo pen" in html and ">7<" in html and "Received" in html
    assert "Put away" not in html  # reps see, staff act


def test_unknown_bin_offers_to_search_and_staff_can_create_it(client, login):
    login("rep")
    response = client.get("/b/Q-77")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "No bin Q-77" in html and "Search bins" in html and "Create bin" not in html
    client.post("/logout")
    login("staff")
    html = client.get("/b/q-77").get_data(as_text=True)
    assert "/bins/new?code=Q-77" in html
    assert 'value="Q-77"' in client.get("/bins/new?code=Q-77").get_data(as_text=True)


def test_staff_creates_edits_and_archives_a_bin(client, login, session):
    login("staff")
    assert client.post("/bins/new", data={"code": "c-01", "name": "Kits", "zone": "Stockroom C"}).status_code == 302
    duplicate = client.post("/bins/new", data={"code": "C-01", "name": "Again"})
    assert duplicate.status_code == 400 and "already exists" in duplicate.get_data(as_text=True)
    assert client.post("/b/C-01/edit", data={"name": "Kits and boxes", "zone": "C"}).status_code == 302
    assert bins.get_bin(session, "C-01").name == "Kits and boxes"
    assert client.post("/b/C-01/archive").status_code == 302
    session.expire_all()
    assert bins.get_bin(session, "C-01").archived


def test_rep_cannot_change_bins_or_stock(client, login, make_item):
    make_item("PEN-1", on_hand=5, bin="A-01")
    login("rep")
    for url in ["/bins/new", "/stock/receive", "/stock/move", "/stock/adjust", "/stock/count/A-01"]:
        assert client.get(url).status_code == 403, url
    assert client.post("/stock/move", data={"sku": "PEN-1", "from_bin": "A-01", "to_bin": "A-02",
                                            "quantity": "1"}).status_code == 403


def test_staff_moves_stock_and_sees_the_new_quantities(client, login, make_item, make_bin, session):
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    make_bin("A-02")
    login("staff")
    form = client.get("/stock/move?sku=PEN-1&from=A-01").get_data(as_text=True)
    assert "holds <strong>10</strong>" in form
    response = client.post("/stock/move", data={"sku": "pen-1", "from_bin": "a-01", "to_bin": "a-02", "quantity": "4"},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Moved 4 × PEN-1 from A-01 to A-02. A-01 now holds 6, A-02 holds 4." in html
    assert stock_queries.level(session, item, bin=bins.get_bin(session, "A-02")) == 4


def test_a_suggestion_answered_after_a_move_does_not_wipe_its_confirmation(app, client, login, make_item, make_bin):
    """Typing or scanning the To bin fires a suggestion request (htmx, 250 ms later) that can still
    be running when the user taps Move. The browser keeps the session cookie of whichever answer
    comes last: had the suggestion sent back the session it started with, it would have dropped the
    "Moved …" confirmation that the move's redirect had just stored in the cookie."""
    make_item("PEN-1", on_hand=10, bin="A-01")
    make_bin("A-02")
    login("staff")
    cookie_before_the_move = client.get_cookie("session").value
    assert client.post("/stock/move", data={"sku": "PEN-1", "from_bin": "A-01", "to_bin": "A-02",
                                            "quantity": "3"}).status_code == 302
    suggesting = app.test_client()  # the same browser, but the request left before the move's answer came
    suggesting.set_cookie("session", cookie_before_the_move)
    for headers in ({"HX-Request": "true", "Sec-Fetch-Mode": "cors"}, {"HX-Request": "true"}):
        suggestion = suggesting.get("/stock/suggest/bins?to_bin=A-02", headers=headers)
        assert suggestion.status_code == 200 and "A-02" in suggestion.get_data(as_text=True)
        assert "Set-Cookie" not in suggestion.headers
    page = client.get("/b/A-01", headers={"Sec-Fetch-Mode": "navigate"})
    assert "Moved 3 × PEN-1 from A-01 to A-02. A-01 now holds 7, A-02 holds 3." in page.get_data(as_text=True)
    # A page load still renews the 14-day login, the session unchanged or not, as does any request
    # from a browser that sends no Sec-Fetch-Mode.
    for headers in ({"Sec-Fetch-Mode": "navigate"}, {}):
        assert "Expires=" in client.get("/b/A-02", headers=headers).headers["Set-Cookie"]


@pytest.mark.parametrize("data, message", [
    ({"quantity": "11"}, "A-01 holds 10 of PEN-1; cannot take 11"),
    ({"quantity": "-1"}, "Number must be at least 1"),
    ({"quantity": "ten"}, "Not a valid integer value"),
    ({"quantity": ""}, "How many?"),
    ({"to_bin": ""}, "Scan or type the bin code."),
    ({"sku": ""}, "Scan or type the item&#39;s SKU."),
    ({"to_bin": "ZZ-9"}, "No bin has the code ZZ-9."),
    ({"sku": "NOPE"}, "No item has the SKU"),
    ({"to_bin": "A-01"}, "Choose a different bin"),
])
def test_a_bad_move_is_refused_on_the_form_and_changes_nothing(client, login, make_item, make_bin, session, data,
                                                                message):
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    make_bin("A-02")
    login("staff")
    form = {"sku": "PEN-1", "from_bin": "A-01", "to_bin": "A-02", "quantity": "3", **data}
    response = client.post("/stock/move", data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert stock_queries.level(session, item, bins.get_bin(session, "A-01")) == 10
    assert session.scalar(select(func.count(Movement.id)).where(Movement.kind == "move")) == 0


def test_receive_and_adjust_pages(client, login, make_item, make_bin, session):
    item = make_item("PEN-1")
    bin = make_bin("A-01")
    login("staff")
    response = client.post("/stock/receive", data={"sku": "PEN-1", "bin": "A-01", "quantity": "50",
                                                   "reference": "PO-1"}, follow_redirects=True)
    assert "Received 50 × PEN-1 into A-01; it now holds 50." in response.get_data(as_text=True)
    refused = client.post("/stock/adjust", data={"sku": "PEN-1", "bin": "A-01", "change": "-5", "reason": ""})
    assert refused.status_code == 400 and "Say why" in refused.get_data(as_text=True)
    too_many = client.post("/stock/adjust", data={"sku": "PEN-1", "bin": "A-01", "change": "-60", "reason": "lost"})
    assert too_many.status_code == 400 and "cannot take 60" in too_many.get_data(as_text=True)
    done = client.post("/stock/adjust", data={"sku": "PEN-1", "bin": "A-01", "change": "-5", "reason": "damaged"},
                       follow_redirects=True)
    assert "by -5; it now holds 45" in done.get_data(as_text=True)
    assert stock_queries.level(session, item, bin) == 45


def test_count_page_books_differences_and_found_items(client, login, make_item, make_bin, session):
    pens, mugs = make_item("PEN-1", on_hand=10, bin="A-01"), make_item("MUG-1", on_hand=4, bin="A-01")
    totes = make_item("TOTE-1")
    bin = make_bin("A-01")
    login("staff")
    page = client.get("/stock/count/A-01").get_data(as_text=True)
    assert "expected 10" in page and "expected 4" in page
    response = client.post("/stock/count/A-01", data={
        f"count-{pens.id}": "9", f"count-{mugs.id}": "0", "extra_sku": ["tote-1", ""], "extra_count": ["2", ""],
    }, follow_redirects=True)
    assert "Count of A-01 booked (3 differences)" in response.get_data(as_text=True)
    assert [stock_queries.level(session, i, bin) for i in (pens, mugs, totes)] == [9, 0, 2]


def test_count_page_refuses_a_missing_or_bad_count_whole(client, login, make_item, make_bin, session):
    pens, mugs = make_item("PEN-1", on_hand=10, bin="A-01"), make_item("MUG-1", on_hand=4, bin="A-01")
    login("staff")
    response = client.post("/stock/count/A-01", data={f"count-{pens.id}": "8", f"count-{mugs.id}": "-2"})
    assert response.status_code == 400
    assert "MUG-1" in response.get_data(as_text=True)
    response = client.post("/stock/count/A-01", data={f"count-{pens.id}": "8", f"count-{mugs.id}": "3",
                                                      "extra_sku": "NOPE", "extra_count": "1"})
    assert response.status_code == 400 and "No item has the SKU" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Movement.id)).where(Movement.kind == "count")) == 0


def test_find_goes_to_a_bin_an_item_or_a_label_url(client, login, make_item):
    make_item("PEN-1", on_hand=1, bin="A-01")
    login("staff")
    assert client.get("/find?code=a-01").headers["Location"].endswith("/b/A-01")
    assert client.get("/find?code=pen-1").headers["Location"].endswith("/i/PEN-1")
    assert client.get("/find?code=https://stock.example.com/b/A-01").headers["Location"].endswith("/b/A-01")
    missing = client.get("/find?code=zz-1")
    assert missing.status_code == 404 and "No bin or item has the code" in missing.get_data(as_text=True)


def test_suggestions_fill_the_code_boxes(client, login, make_item):
    make_item("PEN-1", name="Logo pen", on_hand=1, bin="A-01")
    login("staff")
    assert 'value="PEN-1"' in client.get("/stock/suggest/items?sku=logo").get_data(as_text=True)
    assert 'value="A-01"' in client.get("/stock/suggest/bins?to_bin=a-0").get_data(as_text=True)


def test_suggestions_take_wildcards_literally_and_survive_nul_characters(client, login, make_item, make_bin):
    make_item("PEN-1", name="Logo pen", on_hand=1, bin="A-01")
    make_bin("B-02", name="50% off shelf")
    make_item("MUG_1", name="100% mug", on_hand=1, bin="B-02")
    login("staff")
    items = client.get("/stock/suggest/items?sku=%25").get_data(as_text=True)
    assert 'value="MUG_1"' in items and 'value="PEN-1"' not in items
    bins = client.get("/stock/suggest/bins?bin=%25").get_data(as_text=True)
    assert 'value="B-02"' in bins and 'value="A-01"' not in bins
    assert client.get("/stock/suggest/items?sku=%00").status_code == 400  # refused before any query
    assert client.get("/stock/suggest/bins?bin=%00").status_code == 400
