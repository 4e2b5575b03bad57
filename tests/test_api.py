"""The JSON API under /api/v1, through the test client: bearer tokens only, lists with pagination,
movements booked whole or not at all, and errors always JSON {"error": ...} with the right status."""
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from inventory.auth import services as auth
from inventory.auth.models import ApiToken
from inventory.bins import services as bins
from inventory.extensions import db
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock
from inventory.stock.models import Movement, StockLevel


@pytest.fixture
def api(client, make_user):
    """api("staff") -> a caller of the API with a fresh token of a new user of that role."""

    class Caller:
        def __init__(self, user, token):
            self.user, self.token = user, token
            self.headers = {"Authorization": f"Bearer {token}"}

        def get(self, path, **kwargs):
            return client.get(path, headers=self.headers, **kwargs)

        def post(self, path, **kwargs):
            return client.post(path, headers=self.headers, **kwargs)

        def open(self, path, method, **kwargs):
            return client.open(path, method=method, headers=self.headers, **kwargs)

    def make(role="staff", user=None):
        user = user or make_user(role)
        _row, token = auth.create_token(db.session, user, "tests")
        return Caller(user, token)

    return make


def ledger_state():
    """Every movement id and every stock level, to prove that a refused request wrote nothing."""
    db.session.rollback()  # read what is committed now, not a snapshot an earlier read left open
    movements = db.session.scalars(select(Movement.id).order_by(Movement.id)).all()
    levels = db.session.execute(
        select(StockLevel.item_id, StockLevel.bin_id, StockLevel.quantity).order_by(StockLevel.id)
    ).all()
    return movements, [tuple(row) for row in levels]


def assert_json_error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.content_type
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}
    assert isinstance(body["error"], str) and body["error"]
    return body["error"]


# Authentication ----------------------------------------------------------------------------

@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token inv_abc"])
def test_no_bearer_token_is_401(client, header):
    headers = {"Authorization": header} if header is not None else {}
    message = assert_json_error(client.get("/api/v1/items", headers=headers), 401)
    assert "Authorization: Bearer" in message


@pytest.mark.parametrize("token", ["nope", "inv_not-a-real-token", "inv_"])
def test_an_unknown_token_is_401(client, make_item, token):
    make_item("PEN-1", on_hand=2)
    for path in ["/api/v1/items", "/api/v1/items/PEN-1", "/api/v1/bins", "/api/v1/bins/A-01"]:
        assert_json_error(client.get(path, headers={"Authorization": f"Bearer {token}"}), 401)


def test_the_scheme_is_case_insensitive(api, client):
    caller = api("rep")
    assert client.get("/api/v1/items", headers={"Authorization": f"bearer {caller.token}"}).status_code == 200


def test_a_revoked_token_stops_working(api, session):
    caller = api("staff")
    assert caller.get("/api/v1/items").status_code == 200
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == caller.user.id))
    assert row.last_used_at is not None  # the profile page can show when it was last used
    auth.revoke_token(session, caller.user, row.id)
    message = assert_json_error(caller.get("/api/v1/items"), 401)
    assert "revoked" in message
    # Another token of the same user still works.
    assert api(user=caller.user).get("/api/v1/items").status_code == 200


def test_a_deactivated_users_token_is_401(api, session, make_item):
    make_item("PEN-1", on_hand=4)
    caller = api("staff")
    assert caller.get("/api/v1/items").status_code == 200
    user = caller.user
    auth.update_user(session, user, email=user.email, name=user.name, role=user.role, active=False)
    before = ledger_state()
    assert_json_error(caller.get("/api/v1/items"), 401)
    assert_json_error(caller.post("/api/v1/movements", json={"kind": "receive", "sku": "PEN-1", "bin": "A-01",
                                                             "quantity": 1}), 401)
    assert ledger_state() == before


def test_a_session_cookie_alone_is_not_accepted(client, login, make_item):
    make_item("PEN-1", on_hand=4)
    login("admin")
    assert client.get("/catalog").status_code == 200  # the cookie is good for pages...
    before = ledger_state()
    assert_json_error(client.get("/api/v1/items"), 401)  # ...but never for the API
    assert_json_error(client.get("/api/v1/bins/A-01"), 401)
    assert_json_error(client.post("/api/v1/movements", json={"kind": "receive", "sku": "PEN-1", "bin": "A-01",
                                                             "quantity": 5}), 401)
    assert ledger_state() == before


def test_create_token_command_prints_a_token_that_works(runner, client, make_user, make_item):
    make_item("PEN-1", on_hand=2)
    user = make_user("staff")
    result = runner.invoke(args=["create-token", user.email])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("inv_") and "\n" not in token
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/items/PEN-1", headers=headers).get_json()["on_hand"] == 2
    response = client.post("/api/v1/movements", headers=headers,
                           json={"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 3})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["movements"][0]["user"] == user.email
    assert client.get("/api/v1/items/PEN-1", headers=headers).get_json()["on_hand"] == 5
    label = db.session.scalar(select(ApiToken.label).where(ApiToken.user_id == user.id))
    assert label == "command line"


def test_create_token_command_refuses_an_unknown_user(runner):
    result = runner.invoke(args=["create-token", "nobody@example.com"])
    assert result.exit_code != 0 and "nobody@example.com" in result.output


# Items -------------------------------------------------------------------------------------

def test_items_list_on_hand_reserved_and_available(api, make_item, make_bin, session, stock_user):
    pen = make_item("PEN-1", name="Logo pen", on_hand=10, bin="A-01", supplier="Pens Ltd", unit_cost="0.35")
    stock.receive(session, pen, make_bin("B-02"), 5, stock_user())
    make_item("MUG-1", name="Mug", on_hand=0)
    response = api("rep").get("/api/v1/items")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["page"], body["per_page"], body["total"], body["next"]) == (1, 50, 2, None)
    by_sku = {row["sku"]: row for row in body["items"]}
    assert [row["sku"] for row in body["items"]] == ["MUG-1", "PEN-1"]  # by SKU
    assert (by_sku["PEN-1"]["on_hand"], by_sku["PEN-1"]["reserved"], by_sku["PEN-1"]["available"]) == (15, 0, 15)
    assert (by_sku["MUG-1"]["on_hand"], by_sku["MUG-1"]["reserved"], by_sku["MUG-1"]["available"]) == (0, 0, 0)
    assert by_sku["PEN-1"] == {
        "sku": "PEN-1", "name": "Logo pen", "product": "Logo pen", "product_id": pen.product_id, "size": None,
        "category": "promo", "unit": "each", "supplier": "Pens Ltd", "unit_cost": "0.35", "currency": "USD",
        "lead_time_days": 0, "reorder_point": 0, "reorder_quantity": 0, "returnable": False, "do_not_use_after": None,
        "replaced_by": None, "archived": False, "on_hand": 15, "reserved": 0, "available": 15,
    }


def test_reserved_is_what_requests_hold_and_available_is_the_rest(api, make_item, make_user, session):
    from datetime import date, timedelta

    from inventory.requests import submission

    pen = make_item("PEN-1", on_hand=10)
    submission.submit(session, make_user("rep"), [(pen, 4)], purpose="client_meeting",
                      needed_by=date.today() + timedelta(days=5))
    caller = api("rep")
    listed = caller.get("/api/v1/items?sku=PEN-1").get_json()["items"][0]
    detail = caller.get("/api/v1/items/PEN-1").get_json()
    for body in (listed, detail):
        assert (body["on_hand"], body["reserved"], body["available"]) == (10, 4, 6)
    assert detail["bins"] == [{"code": "A-01", "quantity": 10}]  # held, not moved


def test_items_filter_by_sku_text_and_category(api, make_item, make_product):
    make_item("PEN-1", name="Logo pen", supplier="Pens Ltd")
    make_item("BRO-ATLAS", name="Atlas brochure", category="print")
    make_product("Navy polo", "POLO-NAVY", sizes={"S": 3, "M": 5})
    caller = api("rep")

    def skus(query):
        response = caller.get("/api/v1/items" + query)
        assert response.status_code == 200, response.get_json()
        return [row["sku"] for row in response.get_json()["items"]]

    assert skus("?sku=pen-1") == ["PEN-1"]  # exact SKU, any case
    assert skus("?sku=PEN") == []
    assert skus("?q=navy") == ["POLO-NAVY-M", "POLO-NAVY-S"]  # product name
    assert skus("?q=pens") == ["PEN-1"]  # supplier
    assert skus("?q=atlas") == ["BRO-ATLAS"]
    assert skus("?category=apparel") == ["POLO-NAVY-M", "POLO-NAVY-S"]
    assert skus("?category=print&q=atlas") == ["BRO-ATLAS"]
    assert skus("?category=print&q=navy") == []
    body = caller.get("/api/v1/items?q=navy").get_json()
    assert body["total"] == 2
    sizes = {row["sku"]: (row["size"], row["product"], row["on_hand"]) for row in body["items"]}
    assert sizes == {"POLO-NAVY-S": ("S", "Navy polo", 3), "POLO-NAVY-M": ("M", "Navy polo", 5)}


def test_items_list_leaves_out_archived_items(api, make_item, session):
    from inventory.catalog import services as catalog

    make_item("PEN-1")
    old = make_item("PEN-OLD")
    catalog.set_archived(session, item=old)
    assert [row["sku"] for row in api("rep").get("/api/v1/items").get_json()["items"]] == ["PEN-1"]


def test_an_unknown_category_is_400(api, make_item):
    make_item("PEN-1")
    message = assert_json_error(api("rep").get("/api/v1/items?category=hats"), 400)
    assert "category must be one of" in message and "apparel" in message


def test_items_are_paginated_and_next_keeps_the_filters(api, make_item):
    for n in range(5):
        make_item(f"BRO-{n}", category="print")
    make_item("PEN-1")
    caller = api("rep")
    seen, url, pages = [], "/api/v1/items?category=print&per_page=2", 0
    while url:
        body = caller.get(url).get_json()
        pages += 1
        assert body["per_page"] == 2 and body["total"] == 5 and body["page"] == pages
        assert len(body["items"]) == (2 if pages < 3 else 1)
        seen += [row["sku"] for row in body["items"]]
        url = body["next"]
        if url:
            parts = urlsplit(url)
            assert parts.path == "/api/v1/items" and not parts.netloc  # a path relative to the server
            assert parse_qs(parts.query) == {"category": ["print"], "per_page": ["2"], "page": [str(pages + 1)]}
    assert pages == 3 and seen == [f"BRO-{n}" for n in range(5)]
    beyond = caller.get("/api/v1/items?page=9&per_page=2").get_json()
    assert (beyond["items"], beyond["page"], beyond["total"], beyond["next"]) == ([], 9, 6, None)
    assert caller.get("/api/v1/items?per_page=200").status_code == 200


@pytest.mark.parametrize("query, message", [
    ("per_page=201", "per_page must be between 1 and 200."),
    ("per_page=0", "per_page must be between 1 and 200."),
    ("per_page=ten", "per_page must be a whole number."),
    ("page=abc", "page must be a whole number."),
    ("page=1.5", "page must be a whole number."),
    ("page=0", "page must be between 1 and 100000."),
    ("page=-2", "page must be between 1 and 100000."),
])
def test_bad_pagination_is_400(api, make_item, make_bin, query, message):
    make_item("PEN-1")
    caller = api("rep")
    assert assert_json_error(caller.get(f"/api/v1/items?{query}"), 400) == message
    assert assert_json_error(caller.get(f"/api/v1/bins?{query}"), 400) == message


def test_item_detail_any_case_lists_its_bins(api, make_item, make_bin, session, stock_user):
    pen = make_item("PEN-1", on_hand=10, bin="B-02")
    stock.receive(session, pen, make_bin("A-01"), 4, stock_user())
    make_bin("C-03")  # empty bins are not listed
    for sku in ["PEN-1", "pen-1", "Pen-1"]:
        response = api("rep").get(f"/api/v1/items/{sku}")
        assert response.status_code == 200
        body = response.get_json()
        assert (body["sku"], body["on_hand"], body["reserved"], body["available"]) == ("PEN-1", 14, 0, 14)
        assert body["bins"] == [{"code": "A-01", "quantity": 4}, {"code": "B-02", "quantity": 10}]


def test_item_detail_leaves_out_bins_emptied_by_a_move(api, make_item, make_bin):
    make_item("PEN-1", on_hand=3, bin="A-01")
    make_bin("B-02")
    caller = api("staff")
    assert caller.post("/api/v1/movements", json={"kind": "move", "sku": "PEN-1", "from_bin": "A-01",
                                                  "to_bin": "B-02", "quantity": 3}).status_code == 201
    assert caller.get("/api/v1/items/PEN-1").get_json()["bins"] == [{"code": "B-02", "quantity": 3}]


def test_an_unknown_sku_is_a_json_404(api):
    assert assert_json_error(api("rep").get("/api/v1/items/NOPE-9"), 404) == "No item has the SKU NOPE-9."


# Bins --------------------------------------------------------------------------------------

def test_bins_list_with_totals_filters_and_pages(api, make_item, make_bin, session):
    make_item("PEN-1", on_hand=7, bin="A-01")
    make_item("MUG-1", on_hand=2, bin="A-01")
    make_bin("A-02", name="Mugs", zone="Stockroom A")
    make_bin("B-01", name="Banners", zone="Stockroom B")
    bins.set_archived(session, make_bin("Z-99"))
    caller = api("rep")
    body = caller.get("/api/v1/bins").get_json()
    assert (body["page"], body["per_page"], body["total"], body["next"]) == (1, 50, 3, None)
    assert body["bins"] == [
        {"code": "A-01", "name": "", "zone": "Stockroom A", "archived": False, "total_quantity": 9},
        {"code": "A-02", "name": "Mugs", "zone": "Stockroom A", "archived": False, "total_quantity": 0},
        {"code": "B-01", "name": "Banners", "zone": "Stockroom B", "archived": False, "total_quantity": 0},
    ]
    assert [b["code"] for b in caller.get("/api/v1/bins?zone=Stockroom%20B").get_json()["bins"]] == ["B-01"]
    assert [b["code"] for b in caller.get("/api/v1/bins?q=mug").get_json()["bins"]] == ["A-02"]
    assert [b["code"] for b in caller.get("/api/v1/bins?q=a-0").get_json()["bins"]] == ["A-01", "A-02"]
    first = caller.get("/api/v1/bins?per_page=2&zone=Stockroom%20A").get_json()
    assert [b["code"] for b in first["bins"]] == ["A-01", "A-02"] and first["total"] == 2 and first["next"] is None
    first = caller.get("/api/v1/bins?per_page=2").get_json()
    assert first["total"] == 3 and parse_qs(urlsplit(first["next"]).query) == {"page": ["2"], "per_page": ["2"]}
    second = caller.get(first["next"]).get_json()
    assert [b["code"] for b in second["bins"]] == ["B-01"] and second["next"] is None


def test_bin_detail_lists_its_contents_any_case(api, make_item, make_product, make_bin):
    make_item("PEN-1", name="Logo pen", on_hand=7, bin="A-01")
    make_product("Navy polo", "POLO-NAVY", sizes={"S": 3, "M": 0, "L": 2}, bin="A-01")
    make_item("MUG-1", on_hand=5, bin="B-02")
    response = api("rep").get("/api/v1/bins/a-01")
    assert response.status_code == 200
    assert response.get_json() == {
        "code": "A-01", "name": "", "zone": "Stockroom A", "archived": False,
        "contents": [  # by product name, then size order; nothing listed at zero
            {"sku": "PEN-1", "name": "Logo pen", "quantity": 7},
            {"sku": "POLO-NAVY-S", "name": "Navy polo — S", "quantity": 3},
            {"sku": "POLO-NAVY-L", "name": "Navy polo — L", "quantity": 2},
        ],
    }
    assert api("rep").get("/api/v1/bins/C-09").status_code == 404
    assert make_bin("C-09") and api("rep").get("/api/v1/bins/C-09").get_json()["contents"] == []


def test_an_unknown_bin_is_a_json_404(api):
    assert assert_json_error(api("rep").get("/api/v1/bins/Q-77"), 404) == "No bin has the code Q-77."


# Movements: what works ---------------------------------------------------------------------

def test_staff_receives_stock(api, make_item, make_bin, runner):
    make_item("PEN-1", on_hand=2, bin="A-01", unit_cost="0.35")
    caller = api("staff")
    response = caller.post("/api/v1/movements", json={
        "kind": "receive", "sku": "pen-1", "bin": "a-01", "quantity": 25, "reference": "Delivery 7",
        "reason": "restock",
    })
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["levels"] == [{"sku": "PEN-1", "bin": "A-01", "quantity": 27}]
    (movement,) = body["movements"]
    assert {k: v for k, v in movement.items() if k not in ("id", "created_at")} == {
        "kind": "receive", "sku": "PEN-1", "from_bin": None, "to_bin": "A-01", "quantity": 25, "counted": None,
        "reason": "restock", "reference": "Delivery 7", "user": caller.user.email,
        "unit_cost": "0.35",  # the item's unit cost as it was when it moved
    }
    assert isinstance(movement["id"], int) and movement["created_at"].endswith("Z")
    assert caller.get("/api/v1/items/PEN-1").get_json()["on_hand"] == 27
    # Receiving into a bin that never held the item starts a new level.
    make_bin("B-02")
    response = caller.post("/api/v1/movements", json={"kind": "receive", "sku": "PEN-1", "bin": "B-02",
                                                      "quantity": 3})
    assert response.status_code == 201 and response.get_json()["levels"] == [
        {"sku": "PEN-1", "bin": "B-02", "quantity": 3}]
    assert response.get_json()["movements"][0]["reference"] == ""
    assert runner.invoke(args=["check"]).exit_code == 0


def test_staff_moves_stock_between_bins(api, make_item, make_bin, session):
    pen = make_item("PEN-1", on_hand=10, bin="A-01")
    make_bin("B-02")
    caller = api("staff")
    response = caller.post("/api/v1/movements", json={"kind": "move", "sku": "PEN-1", "from_bin": "A-01",
                                                      "to_bin": "b-02", "quantity": 4, "reason": "tidy up"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["levels"] == [{"sku": "PEN-1", "bin": "A-01", "quantity": 6},
                              {"sku": "PEN-1", "bin": "B-02", "quantity": 4}]
    assert body["movements"][0]["from_bin"] == "A-01" and body["movements"][0]["to_bin"] == "B-02"
    assert body["movements"][0]["reason"] == "tidy up"
    assert (stock_queries.level(session, pen, make_bin("A-01")), stock_queries.level(session, pen, make_bin("B-02"))) == (6, 4)
    assert caller.get("/api/v1/items/PEN-1").get_json()["on_hand"] == 10  # a move does not change the total


def test_staff_adjusts_stock_up_and_down_with_a_reason(api, make_item):
    make_item("MUG-1", on_hand=5, bin="A-01")
    caller = api("staff")
    down = caller.post("/api/v1/movements", json={"kind": "adjust", "sku": "MUG-1", "bin": "A-01", "change": -2,
                                                  "reason": "broken in transit"})
    assert down.status_code == 201, down.get_json()
    assert down.get_json()["levels"] == [{"sku": "MUG-1", "bin": "A-01", "quantity": 3}]
    (movement,) = down.get_json()["movements"]
    assert (movement["quantity"], movement["from_bin"], movement["to_bin"]) == (2, "A-01", None)
    up = caller.post("/api/v1/movements", json={"kind": "adjust", "sku": "MUG-1", "bin": "A-01", "change": 4,
                                                "reason": "found behind the shelf"})
    assert up.status_code == 201 and up.get_json()["levels"][0]["quantity"] == 7
    assert caller.get("/api/v1/items/MUG-1").get_json()["on_hand"] == 7


def test_staff_counts_a_bin(api, make_item, runner):
    make_item("PEN-1", on_hand=10, bin="A-01")
    make_item("MUG-1", on_hand=4, bin="A-01")
    make_item("CAP-1", on_hand=0)
    caller = api("staff")
    response = caller.post("/api/v1/movements", json={"kind": "count", "bin": "A-01", "counts": [
        {"sku": "PEN-1", "counted": 8}, {"sku": "mug-1", "counted": 4}, {"sku": "CAP-1", "counted": 2},
    ]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["levels"] == [{"sku": "PEN-1", "bin": "A-01", "quantity": 8},
                              {"sku": "MUG-1", "bin": "A-01", "quantity": 4},
                              {"sku": "CAP-1", "bin": "A-01", "quantity": 2}]
    found = [(m["sku"], m["kind"], m["quantity"], m["counted"], m["from_bin"], m["to_bin"]) for m in body["movements"]]
    assert found == [("PEN-1", "count", 2, 8, "A-01", None), ("MUG-1", "count", 0, 4, None, "A-01"),
                     ("CAP-1", "count", 2, 2, None, "A-01")]
    assert body["movements"][0]["reason"] == "counted 8, expected 10"
    assert caller.get("/api/v1/bins/A-01").get_json()["contents"] == [
        {"sku": "CAP-1", "name": "Item CAP-1", "quantity": 2},
        {"sku": "MUG-1", "name": "Item MUG-1", "quantity": 4},
        {"sku": "PEN-1", "name": "Item PEN-1", "quantity": 8},
    ]
    assert runner.invoke(args=["check"]).exit_code == 0


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_may_book_movements_too(api, make_item, role):
    make_item("PEN-1", on_hand=1)
    response = api(role).post("/api/v1/movements", json={"kind": "receive", "sku": "PEN-1", "bin": "A-01",
                                                          "quantity": 1})
    assert response.status_code == 201 and response.get_json()["levels"][0]["quantity"] == 2


def test_check_passes_after_a_day_of_api_movements(api, make_item, make_bin, runner, session):
    make_item("PEN-1", on_hand=10, bin="A-01")
    make_item("MUG-1", on_hand=6, bin="A-01")
    make_bin("B-02")
    caller = api("staff")
    bodies = [
        {"kind": "receive", "sku": "PEN-1", "bin": "B-02", "quantity": 12, "reference": "PO-1"},
        {"kind": "move", "sku": "PEN-1", "from_bin": "A-01", "to_bin": "B-02", "quantity": 10},
        {"kind": "move", "sku": "MUG-1", "from_bin": "A-01", "to_bin": "B-02", "quantity": 99},  # refused, 409
        {"kind": "adjust", "sku": "MUG-1", "bin": "A-01", "change": -1, "reason": "chipped"},
        {"kind": "count", "bin": "B-02", "counts": [{"sku": "PEN-1", "counted": 21}, {"sku": "MUG-1", "counted": 0}]},
        {"kind": "count", "bin": "A-01", "counts": [{"sku": "MUG-1", "counted": 5}, {"sku": "PEN-1", "counted": -1}]},
    ]
    statuses = [caller.post("/api/v1/movements", json=body).status_code for body in bodies]
    assert statuses == [201, 201, 409, 201, 201, 400]
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    assert stock.check_ledger(session) == []
    pen = caller.get("/api/v1/items/PEN-1").get_json()
    assert pen["on_hand"] == 21 and pen["bins"] == [{"code": "B-02", "quantity": 21}]
    assert caller.get("/api/v1/items/MUG-1").get_json()["bins"] == [{"code": "A-01", "quantity": 5}]


# Movements: what is refused, and that nothing is written -----------------------------------

@pytest.fixture
def stocked(make_item, make_bin):
    """PEN-1: 10 in A-01; empty bin B-02."""
    make_item("PEN-1", on_hand=10, bin="A-01")
    make_bin("B-02")


def test_a_rep_cannot_book_movements(api, stocked):
    before = ledger_state()
    caller = api("rep")
    for body in [{"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 5},
                 {"kind": "move", "sku": "PEN-1", "from_bin": "A-01", "to_bin": "B-02", "quantity": 5},
                 {"kind": "count", "bin": "A-01", "counts": [{"sku": "PEN-1", "counted": 0}]},
                 {}]:
        assert assert_json_error(caller.post("/api/v1/movements", json=body), 403) == "Your role (rep) cannot do this."
    assert assert_json_error(caller.get("/api/v1/movements"), 403)
    assert ledger_state() == before
    assert caller.get("/api/v1/items/PEN-1").get_json()["on_hand"] == 10


BAD_BODIES = [
    # receive
    ({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": -5}, "Quantity must be more than zero."),
    ({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 0}, "Quantity must be more than zero."),
    ({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": "5"}, "'quantity' must be a whole number."),
    ({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 2.5}, "'quantity' must be a whole number."),
    ({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 5.0}, "'quantity' must be a whole number."),
    ({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": True}, "'quantity' must be a whole number."),
    ({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": [5]}, "'quantity' must be a whole number."),
    ({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 2**31}, "Quantity must be at most 1,000,000."),
    ({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 2**70}, "Quantity must be at most 1,000,000."),
    ({"kind": "receive", "sku": "PEN-1", "bin": "A-01"}, "'quantity' is required."),
    ({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": None}, "'quantity' is required."),
    ({"kind": "receive", "bin": "A-01", "quantity": 5}, "'sku' is required."),
    ({"kind": "receive", "sku": "", "bin": "A-01", "quantity": 5}, "'sku' is required."),
    ({"kind": "receive", "sku": "PEN-1", "quantity": 5}, "'bin' is required."),
    ({"kind": "receive", "sku": 7, "bin": "A-01", "quantity": 5}, "'sku' must be a string."),
    ({"kind": "receive", "sku": "PEN-\u00001", "bin": "A-01", "quantity": 5}, "'sku' must not contain NUL characters."),
    ({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 5, "reference": "x" * 81},
     "A reference can be at most 80 characters."),
    ({"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 5, "reason": "\u0000"},
     "'reason' must not contain NUL characters."),
    # move
    ({"kind": "move", "sku": "PEN-1", "from_bin": "A-01", "to_bin": "B-02", "quantity": -1},
     "Quantity must be more than zero."),
    ({"kind": "move", "sku": "PEN-1", "from_bin": "A-01", "to_bin": "B-02", "quantity": "3"},
     "'quantity' must be a whole number."),
    ({"kind": "move", "sku": "PEN-1", "from_bin": "A-01", "quantity": 3}, "'to_bin' is required."),
    ({"kind": "move", "sku": "PEN-1", "to_bin": "B-02", "quantity": 3}, "'from_bin' is required."),
    ({"kind": "move", "sku": "PEN-1", "from_bin": "A-01", "to_bin": "a-01", "quantity": 3},
     "Choose a different bin to move to."),
    # adjust
    ({"kind": "adjust", "sku": "PEN-1", "bin": "A-01", "change": -2}, "'reason' is required."),
    ({"kind": "adjust", "sku": "PEN-1", "bin": "A-01", "change": -2, "reason": "   "},
     "Say why the stock is adjusted (damaged, found, given away, ...)."),
    ({"kind": "adjust", "sku": "PEN-1", "bin": "A-01", "change": 0, "reason": "oops"},
     "An adjustment of zero changes nothing."),
    ({"kind": "adjust", "sku": "PEN-1", "bin": "A-01", "change": "-2", "reason": "oops"},
     "'change' must be a whole number."),
    ({"kind": "adjust", "sku": "PEN-1", "bin": "A-01", "quantity": 2, "reason": "oops"}, "'change' is required."),
    ({"kind": "adjust", "sku": "PEN-1", "bin": "A-01", "change": -(2**40), "reason": "oops"},
     "An adjustment must be at most 1,000,000 either way."),
    # count
    ({"kind": "count", "bin": "A-01"}, "'counts' must be a list of {\"sku\": ..., \"counted\": ...}."),
    ({"kind": "count", "bin": "A-01", "counts": []}, "'counts' must be a list of {\"sku\": ..., \"counted\": ...}."),
    ({"kind": "count", "bin": "A-01", "counts": {"PEN-1": 3}},
     "'counts' must be a list of {\"sku\": ..., \"counted\": ...}."),
    ({"kind": "count", "counts": [{"sku": "PEN-1", "counted": 3}]}, "'bin' is required."),
    ({"kind": "count", "bin": "A-01", "counts": [{"sku": "PEN-1", "counted": 2**40}]},
     "A counted quantity must be at most 1,000,000."),
    # kind
    ({"sku": "PEN-1", "bin": "A-01", "quantity": 5}, "'kind' must be one of: receive, put_away, move, adjust, count."),
    ({"kind": "steal", "sku": "PEN-1", "bin": "A-01", "quantity": 5},
     "'kind' must be one of: receive, put_away, move, adjust, count."),
    ({"kind": "pick", "sku": "PEN-1", "bin": "A-01", "quantity": 5},
     "'kind' must be one of: receive, put_away, move, adjust, count."),
    ({"kind": "RECEIVE", "sku": "PEN-1", "bin": "A-01", "quantity": 5},
     "'kind' must be one of: receive, put_away, move, adjust, count."),
]


@pytest.mark.parametrize("body, message", BAD_BODIES)
def test_bad_input_is_refused_whole_with_400(api, stocked, body, message):
    caller = api("staff")
    before = ledger_state()
    assert assert_json_error(caller.post("/api/v1/movements", json=body), 400) == message
    assert ledger_state() == before
    assert caller.get("/api/v1/items/PEN-1").get_json()["bins"] == [{"code": "A-01", "quantity": 10}]


@pytest.mark.parametrize("data, content_type", [
    ("kind=receive&sku=PEN-1&bin=A-01&quantity=5", "application/x-www-form-urlencoded"),
    ('{"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 5}', "text/plain"),
    ('{"kind": "receive", "sku": "PEN-1", "bin": "A-01", "quantity": 5', "application/json"),
    ("", "application/json"),
    ("[1, 2]", "application/json"),
    ('"receive"', "application/json"),
    ("null", "application/json"),
])
def test_a_body_that_is_not_a_json_object_is_400(api, stocked, data, content_type):
    before = ledger_state()
    response = api("staff").post("/api/v1/movements", data=data, content_type=content_type)
    assert assert_json_error(response, 400) == "Send a JSON object with Content-Type: application/json."
    assert ledger_state() == before


@pytest.mark.parametrize("body, message", [
    ({"kind": "receive", "sku": "NOPE-1", "bin": "A-01", "quantity": 5}, "No item has the SKU NOPE-1."),
    ({"kind": "receive", "sku": "PEN-1", "bin": "Q-77", "quantity": 5}, "No bin has the code Q-77."),
    ({"kind": "move", "sku": "PEN-1", "from_bin": "A-01", "to_bin": "Q-77", "quantity": 5},
     "No bin has the code Q-77."),
    ({"kind": "move", "sku": "PEN-1", "from_bin": "Q-77", "to_bin": "A-01", "quantity": 5},
     "No bin has the code Q-77."),
    ({"kind": "move", "sku": "NOPE-1", "from_bin": "A-01", "to_bin": "B-02", "quantity": 5},
     "No item has the SKU NOPE-1."),
    ({"kind": "adjust", "sku": "NOPE-1", "bin": "A-01", "change": 1, "reason": "found"},
     "No item has the SKU NOPE-1."),
    ({"kind": "adjust", "sku": "PEN-1", "bin": "Q-77", "change": 1, "reason": "found"}, "No bin has the code Q-77."),
    ({"kind": "count", "bin": "Q-77", "counts": [{"sku": "PEN-1", "counted": 1}]}, "No bin has the code Q-77."),
])
def test_an_unknown_bin_or_sku_is_404(api, stocked, body, message):
    before = ledger_state()
    assert assert_json_error(api("staff").post("/api/v1/movements", json=body), 404) == message
    assert ledger_state() == before


@pytest.mark.parametrize("body", [
    {"kind": "move", "sku": "PEN-1", "from_bin": "A-01", "to_bin": "B-02", "quantity": 11},
    {"kind": "move", "sku": "PEN-1", "from_bin": "B-02", "to_bin": "A-01", "quantity": 1},  # B-02 holds none
    {"kind": "adjust", "sku": "PEN-1", "bin": "A-01", "change": -11, "reason": "lost"},
])
def test_taking_more_than_the_bin_holds_is_409_and_changes_nothing(api, stocked, session, body):
    caller = api("staff")
    before = ledger_state()
    message = assert_json_error(caller.post("/api/v1/movements", json=body), 409)
    assert "cannot take" in message
    assert ledger_state() == before
    assert caller.get("/api/v1/items/PEN-1").get_json()["bins"] == [{"code": "A-01", "quantity": 10}]
    assert caller.get("/api/v1/bins/B-02").get_json()["contents"] == []


def test_the_409_message_says_what_the_bin_holds(api, stocked):
    response = api("staff").post("/api/v1/movements", json={"kind": "move", "sku": "PEN-1", "from_bin": "A-01",
                                                            "to_bin": "B-02", "quantity": 11})
    assert assert_json_error(response, 409) == "Bin A-01 holds 10 of PEN-1; cannot take 11."


@pytest.mark.parametrize("bad_line, status", [
    ({"sku": "NOPE-1", "counted": 1}, 404),
    ({"sku": "MUG-1", "counted": -1}, 400),
    ({"sku": "MUG-1", "counted": "1"}, 400),
    ({"sku": "MUG-1", "counted": 1.5}, 400),
    ({"sku": "MUG-1"}, 400),
    ({"counted": 1}, 400),
    ("MUG-1", 400),
    (None, 400),
])
def test_a_count_with_one_bad_line_writes_nothing(api, stocked, make_item, bad_line, status):
    make_item("MUG-1", on_hand=4, bin="A-01")
    before = ledger_state()
    response = api("staff").post("/api/v1/movements", json={"kind": "count", "bin": "A-01", "counts": [
        {"sku": "PEN-1", "counted": 0}, bad_line, {"sku": "MUG-1", "counted": 9},
    ]})
    assert_json_error(response, status)
    assert ledger_state() == before


def test_a_count_refused_half_way_through_rolls_back_the_lines_before(api, make_item, make_bin, session):
    """The first line is booked inside the transaction before the second is refused (more stock
    into an archived bin): the refusal must undo the first line too."""
    make_item("PEN-1")
    make_item("MUG-1")
    bins.set_archived(session, make_bin("X-01"))
    before = ledger_state()
    response = api("staff").post("/api/v1/movements", json={"kind": "count", "bin": "X-01", "counts": [
        {"sku": "PEN-1", "counted": 0}, {"sku": "MUG-1", "counted": 3},
    ]})
    assert "archived" in assert_json_error(response, 400)
    assert ledger_state() == before


def test_archived_bins_and_items_take_no_new_stock(api, make_item, make_bin, session):
    from inventory.catalog import services as catalog

    make_item("PEN-1", on_hand=2, bin="A-01")
    old = make_item("PEN-OLD")
    bins.set_archived(session, make_bin("X-01"))
    catalog.set_archived(session, item=old)
    caller = api("staff")
    before = ledger_state()
    for body in [{"kind": "receive", "sku": "PEN-1", "bin": "X-01", "quantity": 1},
                 {"kind": "move", "sku": "PEN-1", "from_bin": "A-01", "to_bin": "X-01", "quantity": 1},
                 {"kind": "receive", "sku": "PEN-OLD", "bin": "A-01", "quantity": 1}]:
        assert "archived" in assert_json_error(caller.post("/api/v1/movements", json=body), 400)
    assert ledger_state() == before


# Movement history --------------------------------------------------------------------------

def test_staff_reads_the_movement_history(api, make_item, make_bin):
    make_item("PEN-1", on_hand=5, bin="A-01")
    make_item("MUG-1", on_hand=2, bin="B-02")
    caller = api("staff")
    assert caller.post("/api/v1/movements", json={"kind": "move", "sku": "PEN-1", "from_bin": "A-01",
                                                  "to_bin": "B-02", "quantity": 2}).status_code == 201
    everything = caller.get("/api/v1/movements").get_json()["movements"]
    assert [(m["kind"], m["sku"]) for m in everything] == [("move", "PEN-1"), ("receive", "MUG-1"),
                                                           ("receive", "PEN-1")]  # newest first
    assert [m["kind"] for m in caller.get("/api/v1/movements?sku=pen-1").get_json()["movements"]] == [
        "move", "receive"]
    assert [m["sku"] for m in caller.get("/api/v1/movements?bin=B-02").get_json()["movements"]] == ["PEN-1", "MUG-1"]
    assert len(caller.get("/api/v1/movements?limit=1").get_json()["movements"]) == 1
    assert assert_json_error(caller.get("/api/v1/movements?limit=201"), 400) == "limit must be between 1 and 200."
    assert assert_json_error(caller.get("/api/v1/movements?sku=NOPE"), 404) == "No item has the SKU NOPE."
    assert assert_json_error(caller.get("/api/v1/movements?bin=Q-1"), 404) == "No bin has the code Q-1."


# Errors are always JSON --------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/items/PEN-1/bins", "/api/v1/", "/api/v2/items"])
def test_an_unknown_api_path_is_a_json_404(api, client, path):
    assert assert_json_error(client.get(path), 404) == "Not found."
    assert assert_json_error(api("staff").get(path), 404) == "Not found."


def test_a_wrong_method_is_a_json_405(api, make_item):
    make_item("PEN-1")
    caller = api("staff")
    assert_json_error(caller.post("/api/v1/items", json={}), 405)
    assert_json_error(caller.post("/api/v1/bins/A-01", json={}), 405)
    assert_json_error(caller.open("/api/v1/items/PEN-1", "DELETE"), 405)


def test_search_takes_wildcards_literally_and_nul_characters_never_crash(client, make_item, make_user, session):
    from inventory.auth.services import create_token

    make_item("PEN-1", name="Logo pen", on_hand=1)
    make_item("MUG_1", name="100% mug", on_hand=1)
    token = create_token(session, make_user("rep"), "t")[1]
    headers = {"Authorization": f"Bearer {token}"}
    assert [i["sku"] for i in client.get("/api/v1/items?q=%25", headers=headers).get_json()["items"]] == ["MUG_1"]
    assert [i["sku"] for i in client.get("/api/v1/items?q=_", headers=headers).get_json()["items"]] == ["MUG_1"]
    # A NUL character is refused before any query (PostgreSQL cannot compare text with NUL).
    assert client.get("/api/v1/items/PEN-1%00", headers=headers).status_code == 400
    assert client.get("/api/v1/bins/A-01%00", headers=headers).status_code == 400
    assert client.get("/api/v1/items?q=%00", headers=headers).status_code == 400
