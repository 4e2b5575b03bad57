"""Scan-driven stock work: reading scanned codes, put away, move to a scanned bin, and counting,
from the bin's side and from the item's. A refused action says why and writes nothing."""
import pytest
from sqlalchemy import func, select

from inventory.bins import services as bins
from inventory.errors import InsufficientStock, InvalidInput
from inventory.labels.services import ForeignCode, LabelRef, read_label
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock
from inventory.stock.models import Movement
from tests.conftest import carry_session

BASE_URL = "https://stock.example.com"


def movements(session, kind=None):
    query = select(func.count(Movement.id))
    return session.scalar(query.where(Movement.kind == kind) if kind else query)


# Reading a scanned code -----------------------------------------------------------------------

@pytest.mark.parametrize("text, ref", [
    (f"{BASE_URL}/b/A-03-2", LabelRef("bin", "A-03-2")),
    (f"{BASE_URL}/b/a-03-2/", LabelRef("bin", "A-03-2")),
    ("http://stock.example.com/i/POLO-NAVY-M", LabelRef("item", "POLO-NAVY-M")),  # same label before HTTPS
    ("HTTPS://STOCK.EXAMPLE.COM:443/b/A-01", LabelRef("bin", "A-01")),
    ("http://10.0.0.5:5000/b/A-01", LabelRef("bin", "A-01")),  # the address the app is used on
])
def test_our_label_urls_are_read(text, ref):
    assert read_label(text, [BASE_URL, "http://10.0.0.5:5000/"]) == ref


@pytest.mark.parametrize("text", [
    "https://example.org/b/A-01",  # someone else's site, same path
    "https://stock.example.com.evil.example/b/A-01",
    "https://stock.example.com@evil.example/b/A-01",
    "https://stock.example.com/b/A-01/qr.svg",
    "https://stock.example.com/catalog",
    "https://stock.example.com/b/not%20a%20code",
    "http://10.0.0.5:8080/b/A-01",  # another port is another site
    "A-01",  # a plain-text QR code is not one of our labels
    "WIFI:T:WPA;S:guest;P:secret;;",
    "javascript:alert(1)",
    "https://[::1/b/A-01",
])
def test_foreign_codes_are_refused(text):
    with pytest.raises(ForeignCode, match="not one of our labels"):
        read_label(text, [BASE_URL, "http://10.0.0.5:5000/"])


def test_labels_under_a_path_prefix_are_read():
    assert read_label("https://example.com/stock/b/A-01", ["https://example.com/stock"]) == LabelRef("bin", "A-01")
    with pytest.raises(ForeignCode):
        read_label("https://example.com/b/A-01", ["https://example.com/stock"])


def test_the_scanner_asks_the_server_what_a_code_is(app, client, login, make_bin, make_item):
    make_bin("A-01", name="Polos")
    make_item("PEN-1", name="Logo pen")
    app.config["BASE_URL"] = BASE_URL
    login("rep")
    answer = client.get("/scan/read", query_string={"text": f"{BASE_URL}/b/a-01"})
    assert answer.status_code == 200
    assert answer.get_json() == {"kind": "bin", "code": "A-01", "name": "Polos", "url": "/b/A-01", "found": True}
    assert client.get("/scan/read", query_string={"text": "http://localhost/i/pen-1"}).get_json()["url"] == "/i/PEN-1"

    foreign = client.get("/scan/read", query_string={"text": "https://example.org/promo"})
    assert foreign.status_code == 400
    assert foreign.get_json() == {"error": "That QR code is not one of our labels: it points to https://example.org/promo"}

    unknown = client.get("/scan/read", query_string={"text": f"{BASE_URL}/b/Q-77"})
    assert unknown.status_code == 404
    assert unknown.get_json()["error"] == "No bin Q-77." and unknown.get_json()["url"] == "/b/Q-77"

    wrong_kind = client.get("/scan/read", query_string={"text": f"{BASE_URL}/i/PEN-1", "expect": "bin"})
    assert wrong_kind.status_code == 400
    assert wrong_kind.get_json()["error"] == "That is the label of item PEN-1; scan a bin label."
    assert client.get("/scan/read").status_code == 400


def test_labels_printed_before_base_url_moved_still_work(app, client, login, make_bin):
    """PREVIOUS_BASE_URLS: the addresses labels were printed with before. Scanned in the app they
    are ours; opened by a phone's camera app on the old address, the page moves to BASE_URL."""
    make_bin("A-01", name="Polos")
    app.config.update(BASE_URL="https://inventory.example.com",
                      PREVIOUS_BASE_URLS=[BASE_URL, "http://old.example.com/stock"])
    login("staff")
    carry_session(client, BASE_URL, "http://old.example.com/", "https://inventory.example.com", "http://10.0.0.5:5000")
    for old_label in (f"{BASE_URL}/b/A-01", "http://old.example.com/stock/b/a-01"):
        answer = client.get("/scan/read", query_string={"text": old_label})
        assert answer.status_code == 200 and answer.get_json()["code"] == "A-01", old_label
    # Another site's label is still foreign.
    assert client.get("/scan/read", query_string={"text": "https://elsewhere.example.com/b/A-01"}).status_code == 400

    moved = client.get("/b/A-01?from=label", base_url=BASE_URL)
    assert moved.status_code == 301 and moved.location == "https://inventory.example.com/b/A-01?from=label"
    under_prefix = client.get("/b/A-01", base_url="http://old.example.com/stock")
    assert under_prefix.status_code == 301 and under_prefix.location == "https://inventory.example.com/b/A-01"
    # On BASE_URL itself, or another address the app is used on, nothing moves; nor do POSTs.
    assert client.get("/b/A-01", base_url="https://inventory.example.com").status_code == 200
    assert client.get("/b/A-01", base_url="http://10.0.0.5:5000").status_code == 200
    out = client.post("/logout", base_url=BASE_URL)
    assert out.status_code == 302 and not out.location.startswith("https://inventory.example.com")


def test_nothing_moves_without_previous_base_urls(app, client, login, make_bin):
    make_bin("A-01", name="Polos")
    app.config.update(BASE_URL="https://inventory.example.com", PREVIOUS_BASE_URLS=[])
    login("staff")
    carry_session(client, BASE_URL)
    assert client.get("/b/A-01", base_url=BASE_URL).status_code == 200
    assert client.get("/scan/read", query_string={"text": f"{BASE_URL}/b/A-01"}).status_code == 400


def test_scan_page_is_one_tap_from_the_navigation_for_every_role(client, login):
    for role in ("rep", "staff", "manager", "admin"):
        login(role)
        html = client.get("/catalog").get_data(as_text=True)
        nav = html[html.index('<nav class="bottomnav"'):]
        assert 'href="/scan"' in nav and nav.count("<a ") <= 5, role
        scan = client.get("/scan").get_data(as_text=True)
        assert "data-scanner" in scan and 'action="/find"' in scan and "/static/scan.js" in scan
        assert "/static/vendor/zxing-wasm-3.1.3/zxing_reader.wasm" in scan
        client.post("/logout")


def test_the_qr_reader_is_served_from_static_and_allowed_by_the_csp(client):
    wasm = client.get("/static/vendor/zxing-wasm-3.1.3/zxing_reader.wasm")
    assert wasm.status_code == 200 and wasm.mimetype == "application/wasm" and wasm.data[:4] == b"\0asm"
    js = client.get("/static/vendor/barcode-detector-3.2.2/ponyfill.js")
    assert js.status_code == 200 and b"prepareZXingModule" in js.data
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert "script-src 'self' 'wasm-unsafe-eval';" in csp and "unsafe-eval'" not in csp.replace("wasm-unsafe-eval", "")


# Put away -------------------------------------------------------------------------------------

def test_put_away_from_the_bin_page_books_arriving_stock(client, login, make_item, make_bin, session):
    item = make_item("PEN-1")
    bin = make_bin("A-01")
    login("staff")
    page = client.get("/stock/put-away?bin=A-01").get_data(as_text=True)
    assert "Put away into A-01" in page and 'value="A-01"' in page and "Scan the item&#39;s label" in page
    response = client.post("/stock/put-away", data={"sku": "pen-1", "bin": "A-01", "quantity": "12"},
                           follow_redirects=True)
    assert response.request.path == "/b/A-01"
    assert "Put away 12 × PEN-1 into A-01; it now holds 12." in response.get_data(as_text=True)
    assert stock_queries.level(session, item, bin) == 12


def test_put_away_from_a_receiving_area_is_its_own_kind(client, login, make_item, make_bin, session):
    make_item("PEN-1", on_hand=20, bin="RECV")
    make_bin("A-01")
    login("staff")
    response = client.post("/stock/put-away?sku=PEN-1&back=item", data={
        "sku": "PEN-1", "bin": "http://localhost/b/a-01", "from_bin": "recv", "quantity": "15", "back": "item",
    }, follow_redirects=True)
    assert response.request.path == "/i/PEN-1"  # back where it started: the item page
    assert "Put away 15 × PEN-1 from RECV into A-01. A-01 now holds 15, RECV holds 5." in response.get_data(as_text=True)
    assert movements(session, "put_away") == 1
    assert stock.check_ledger(session) == []


def test_put_away_rule(session, make_item, make_bin, make_user):
    item, user = make_item("PEN-1", on_hand=4, bin="RECV"), make_user("staff")
    recv, shelf = make_bin("RECV"), make_bin("A-01")
    movement = stock.put_away(session, item, recv, shelf, 3, user)
    assert (movement.kind, movement.quantity, movement.from_bin_id, movement.to_bin_id) == ("put_away", 3, recv.id, shelf.id)
    assert (stock_queries.level(session, item, recv), stock_queries.level(session, item, shelf)) == (1, 3)
    with pytest.raises(InsufficientStock):
        stock.put_away(session, item, recv, shelf, 2, user)
    with pytest.raises(InvalidInput, match="already in A-01"):
        stock.put_away(session, item, shelf, shelf, 1, user)
    assert movements(session, "put_away") == 1


@pytest.mark.parametrize("data, message", [
    ({"sku": "NOPE-1"}, "No item has the SKU"),
    ({"bin": "ZZ-9"}, "No bin has the code"),
    ({"bin": "https://example.org/b/A-01"}, "not one of our labels"),
    ({"sku": "http://localhost/b/A-01"}, "That is the label of bin A-01; give an item."),
    ({"quantity": "0"}, "Number must be at least 1"),
    ({"quantity": "-3"}, "Number must be at least 1"),
    ({"from_bin": "RECV", "quantity": "99"}, "Bin RECV holds 5 of PEN-1; cannot take 99."),
    ({"from_bin": "A-01"}, "PEN-1 is already in A-01"),
])
def test_a_bad_put_away_is_refused_and_writes_nothing(client, login, make_item, make_bin, session, data, message):
    make_item("PEN-1", on_hand=5, bin="RECV")
    make_bin("A-01")
    login("staff")
    before = movements(session)
    response = client.post("/stock/put-away", data={"sku": "PEN-1", "bin": "A-01", "quantity": "2", **data})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert movements(session) == before


# Move -----------------------------------------------------------------------------------------

def test_move_to_a_scanned_bin_from_the_item_page(app, client, login, make_item, make_bin, session):
    app.config["BASE_URL"] = BASE_URL
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    make_bin("A-02")
    login("staff")
    item_page = client.get("/i/PEN-1").get_data(as_text=True)
    assert "/stock/move?sku=PEN-1&amp;back=item&amp;from=A-01" in item_page
    assert "/stock/count/A-01?sku=PEN-1&amp;back=item" in item_page
    form = client.get("/stock/move?sku=PEN-1&back=item&from=A-01").get_data(as_text=True)
    assert "Scan the label of the bin it goes to" in form and 'data-expect="bin"' in form
    response = client.post("/stock/move", data={"sku": "PEN-1", "from_bin": "A-01", "to_bin": f"{BASE_URL}/b/A-02",
                                                "quantity": "4", "back": "item"}, follow_redirects=True)
    assert response.request.path == "/i/PEN-1"
    assert "Moved 4 × PEN-1 from A-01 to A-02. A-01 now holds 6, A-02 holds 4." in response.get_data(as_text=True)
    assert stock_queries.level(session, item, bins.get_bin(session, "A-02")) == 4


@pytest.mark.parametrize("to_bin, message", [
    ("A-01", "Choose a different bin"),
    (f"{BASE_URL}/b/A-01", "Choose a different bin"),
    ("https://example.org/b/A-02", "That QR code is not one of our labels"),
    (f"{BASE_URL}/i/PEN-1", "That is the label of item PEN-1; give a bin."),
    ("Q-77", "No bin has the code"),
])
def test_a_move_to_the_same_or_a_foreign_bin_is_refused_and_writes_nothing(app, client, login, make_item, make_bin,
                                                                             session, to_bin, message):
    app.config["BASE_URL"] = BASE_URL
    item = make_item("PEN-1", on_hand=10, bin="A-01")
    make_bin("A-02")
    login("staff")
    response = client.post("/stock/move", data={"sku": "PEN-1", "from_bin": "A-01", "to_bin": to_bin, "quantity": "3"})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert movements(session, "move") == 0
    assert stock_queries.level(session, item, bins.get_bin(session, "A-01")) == 10


# Count ----------------------------------------------------------------------------------------

def test_a_count_books_exactly_the_differences(client, login, make_item, make_bin, session):
    pens, mugs, caps = (make_item("PEN-1", on_hand=10), make_item("MUG-1", on_hand=4), make_item("CAP-1", on_hand=3))
    totes = make_item("TOTE-1", on_hand=7, bin="B-01")  # elsewhere, and found in A-01 too
    bin = make_bin("A-01")
    login("staff")
    before = movements(session)
    response = client.post("/stock/count/A-01", data={
        f"count-{pens.id}": "9", f"count-{mugs.id}": "0", f"count-{caps.id}": "3",
        "extra_sku": ["http://localhost/i/tote-1", ""], "extra_count": ["2", ""],
    }, follow_redirects=True)
    assert response.request.path == "/b/A-01"
    assert ("Count of A-01 booked (3 differences): CAP-1 3 ✓, MUG-1 4 → 0, PEN-1 10 → 9, TOTE-1 0 → 2."
            in response.get_data(as_text=True))
    booked = session.scalars(select(Movement).where(Movement.kind == "count")).all()
    changes = {m.item.sku: m.signed_quantity_for(bin.id) for m in booked}
    assert changes == {"PEN-1": -1, "MUG-1": -4, "CAP-1": 0, "TOTE-1": 2}
    assert {m.item.sku: m.counted for m in booked} == {"PEN-1": 9, "MUG-1": 0, "CAP-1": 3, "TOTE-1": 2}
    assert movements(session) == before + 4
    assert [stock_queries.level(session, i, bin) for i in (pens, mugs, caps, totes)] == [9, 0, 3, 2]
    assert stock_queries.level(session, totes, bins.get_bin(session, "B-01")) == 7
    assert stock.check_ledger(session) == []


@pytest.mark.parametrize("counts, message", [
    ({"pen": "-2", "mug": "4"}, "Enter how many you see as a whole number, 0 or more."),
    ({"pen": "", "mug": "4"}, "Enter what you see: 0 if the bin has none."),
    ({"pen": "3", "mug": "4", "extra_sku": "NOPE-1", "extra_count": "1"}, "No item has the SKU"),
    ({"pen": "3", "mug": "4", "extra_sku": "https://example.org/i/PEN-9", "extra_count": "1"}, "not one of our labels"),
    ({"pen": "3", "mug": "4", "extra_sku": "TOTE-1", "extra_count": "-1"},
     "Enter how many you see as a whole number, 0 or more."),
    ({"pen": "3", "mug": "4", "extra_sku": "PEN-1", "extra_count": "5"}, "PEN-1 is already on the list above"),
])
def test_a_bad_count_is_refused_whole_and_writes_nothing(client, login, make_item, make_bin, session, counts, message):
    pens, mugs = make_item("PEN-1", on_hand=10), make_item("MUG-1", on_hand=4)
    make_item("TOTE-1")
    login("staff")
    data = {f"count-{pens.id}": counts["pen"], f"count-{mugs.id}": counts["mug"]}
    if "extra_sku" in counts:
        data.update(extra_sku=counts["extra_sku"], extra_count=counts["extra_count"])
    before = movements(session)
    response = client.post("/stock/count/A-01", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="%s"' % counts["pen"] in html  # what was typed is kept
    assert movements(session) == before
    assert stock_queries.level(session, pens, bins.get_bin(session, "A-01")) == 10


def test_counting_one_item_from_the_item_page(client, login, make_item, make_bin, session):
    pens, mugs = make_item("PEN-1", on_hand=10), make_item("MUG-1", on_hand=4)
    login("staff")
    page = client.get("/stock/count/A-01?sku=pen-1&back=item").get_data(as_text=True)
    assert "Count PEN-1 in A-01" in page and "expected 10" in page and "MUG-1" not in page
    response = client.post("/stock/count/A-01?sku=pen-1&back=item", data={f"count-{pens.id}": "12"},
                           follow_redirects=True)
    assert response.request.path == "/i/PEN-1"
    assert "Count of A-01 booked (1 difference): PEN-1 10 → 12." in response.get_data(as_text=True)
    assert stock_queries.level(session, mugs, bins.get_bin(session, "A-01")) == 4  # not counted, not touched
    # An item the bin is not expected to hold is counted from its expected zero.
    make_bin("B-02")
    assert "expected 0" in client.get("/stock/count/B-02?sku=PEN-1").get_data(as_text=True)
    assert client.get("/stock/count/A-01?sku=NOPE").status_code == 404


def test_an_unknown_bin_offers_to_scan_again(client, login):
    login("staff")
    response = client.get("/b/Q-77")
    assert response.status_code == 404
    assert ">Scan again</a>" in response.get_data(as_text=True)
    assert ">Scan again</a>" in client.get("/i/NOPE-9").get_data(as_text=True)
    assert client.get("/stock/count/Q-77").status_code == 404


def test_api_books_a_put_away(client, make_user, make_item, make_bin, session):
    from inventory.auth.services import create_token

    make_item("PEN-1", on_hand=6, bin="RECV")
    make_bin("A-01")
    _, token = create_token(session, make_user("staff"), "scanner")
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post("/api/v1/movements", headers=headers, json={
        "kind": "put_away", "sku": "PEN-1", "from_bin": "RECV", "bin": "A-01", "quantity": 4})
    assert response.status_code == 201
    body = response.get_json()
    assert body["movements"][0]["kind"] == "put_away"
    assert body["levels"] == [{"sku": "PEN-1", "bin": "RECV", "quantity": 2}, {"sku": "PEN-1", "bin": "A-01", "quantity": 4}]
    refused = client.post("/api/v1/movements", headers=headers, json={
        "kind": "put_away", "sku": "PEN-1", "from_bin": "RECV", "bin": "A-01", "quantity": 3})
    assert refused.status_code == 409
    assert movements(session, "put_away") == 1
