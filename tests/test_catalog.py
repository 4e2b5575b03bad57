"""Catalog rules and pages: products with sizes, search, archive, do-not-use-after."""
import io
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from inventory.catalog import queries as catalog_queries
from inventory.catalog import services as catalog
from inventory.catalog.models import Item, Product
from inventory.errors import DuplicateCode, InvalidInput
from inventory.requests import submission
from inventory.stock import services as stock


def test_a_product_with_sizes_gets_one_sku_per_size_in_wearing_order(session):
    product = catalog.create_product(session, name="Navy polo", category="apparel", sku="polo-navy",
                                     sizes=catalog.parse_sizes("xl, S m,L"), supplier="Threadline", unit_cost="14.5")
    assert [(i.sku, i.size) for i in product.items] == [
        ("POLO-NAVY-S", "S"), ("POLO-NAVY-M", "M"), ("POLO-NAVY-L", "L"), ("POLO-NAVY-XL", "XL")]
    assert all(i.supplier == "Threadline" and str(i.unit_cost) == "14.50" for i in product.items)
    assert product.items[1].name == "Navy polo — M"


def test_a_duplicate_sku_is_refused_and_nothing_is_written(session, make_item):
    make_item("POLO-NAVY-M")
    with pytest.raises(DuplicateCode, match="POLO-NAVY-M"):
        catalog.create_product(session, name="Navy polo", category="apparel", sku="POLO-NAVY", sizes=["S", "M"])
    assert session.scalar(select(func.count(Product.id))) == 1
    assert session.scalar(select(Item.id).where(Item.sku == "POLO-NAVY-S")) is None


@pytest.mark.parametrize("fields, message", [
    ({"name": "", "category": "promo", "sku": "X-1"}, "name"),
    ({"name": "Pen", "category": "food", "sku": "X-1"}, "Category"),
    ({"name": "Pen", "category": "promo", "sku": "has space"}, "SKU"),
    ({"name": "Pen", "category": "promo", "sku": "X-1", "unit_cost": "abc"}, "Unit cost"),
    ({"name": "Pen", "category": "promo", "sku": "X-1", "unit_cost": "-1"}, "negative"),
    ({"name": "Pen", "category": "promo", "sku": "X-1", "reorder_point": -3}, "negative"),
    ({"name": "Pen", "category": "promo", "sku": "X-1", "lead_time_days": "ten"}, "whole number"),
    ({"name": "Polo", "category": "apparel", "sku": "P", "sizes": ["M", "m"]}, "twice"),
])
def test_bad_catalog_input_is_refused_with_a_message(session, fields, message):
    with pytest.raises(InvalidInput, match=message):
        catalog.create_product(session, **fields)
    assert session.scalar(select(func.count(Product.id))) == 0


def test_add_size_copies_the_other_sizes_settings(session, make_product):
    product = make_product(sizes={"S": 0, "M": 0}, supplier="Threadline", reorder_point=5)
    item = catalog.add_size(session, product, "xxl")
    assert (item.sku, item.size, item.supplier, item.reorder_point) == ("POLO-NAVY-XXL", "XXL", "Threadline", 5)
    with pytest.raises(DuplicateCode):
        catalog.add_size(session, product, "M")


def test_search_matches_name_sku_and_supplier_and_filters_by_category(session, make_item, make_product):
    make_product()
    make_item("BRO-ATLAS", name="Atlas brochure", category="print", supplier="PrintWorks")
    make_item("PEN-1", name="Logo pen", category="promo")
    names = lambda **kw: [p.name for p in catalog_queries.search_products(session, **kw).rows]  # noqa: E731
    assert names(q="atlas") == ["Atlas brochure"]
    assert names(q="printworks") == ["Atlas brochure"]
    assert names(q="polo-navy-m") == ["Navy polo"]
    assert names(category="promo") == ["Logo pen"]
    assert names(q="pen", category="print") == []


def test_archived_products_leave_lists_but_keep_history(session, client, login, make_item):
    item = make_item("OLD-BRO", name="Old brochure", category="print", on_hand=5)
    catalog.set_archived(session, item=item)
    assert catalog_queries.search_products(session, q="old").rows == []
    assert [p.name for p in catalog_queries.search_products(session, archived=True).rows] == ["Old brochure"]
    login("rep")
    assert b"Old brochure" not in client.get("/catalog").data
    page = client.get("/i/OLD-BRO")
    assert page.status_code == 200 and b"archived" in page.data and b"Received" in page.data
    catalog.set_archived(session, item=item, archived=False)
    assert b"Old brochure" in client.get("/catalog").data


def test_catalog_page_shows_available_per_size_in_one_row(client, login, make_product):
    make_product(sizes={"S": 3, "M": 12, "L": 0})
    login("rep")
    html = client.get("/catalog?q=polo").get_data(as_text=True)
    assert "Navy polo" in html
    assert html.index('class="size">S<') < html.index('class="size">M<') < html.index('class="size">L<')
    assert '<span class="count">12</span>' in html


def test_catalog_list_paginates(client, login, make_item, app):
    app.config["PAGE_SIZE"] = 5
    for n in range(12):
        make_item(f"PEN-{n:02d}", name=f"Pen {n:02d}")
    login("rep")
    first = client.get("/catalog").get_data(as_text=True)
    assert "Page 1 of 3" in first and "Pen 00" in first and "Pen 05" not in first
    assert "Pen 10" in client.get("/catalog?page=3").get_data(as_text=True)
    assert client.get("/catalog?page=abc").status_code == 200


def test_catalog_page_reads_what_search_products_finds(session, make_item, make_product, make_user):
    """The list page's one-statement read: the same products, order, pages, totals and sizes
    (archived sizes kept for has_sizes, left out of the active ones), on hand per active size,
    and availability as stock.availability works it out (reservations of consumables and of a
    returnable booked today and later)."""
    navy = make_product(sizes={"S": 3, "M": 12, "L": 0})
    red = make_product(name="red polo", sku="POLO-RED", sizes={"XL": 1, "S": 2, "M": 0}, supplier="Polo & Co")
    catalog.set_archived(session, item=red.items[1])  # M
    pen = make_item("PEN-POLO", name="Pen", on_hand=7)
    banner = make_item("BAN-POLO", name="Banner", category="display", on_hand=2, returnable=True)
    rep, today = make_user("rep"), date.today()
    submission.submit(session, rep, [(navy.items[1], 5), (pen, 2)], purpose="client_meeting", needed_by=today + timedelta(days=3))
    submission.submit(session, rep, [(banner, 1)], purpose="trade_show", needed_by=today, return_by=today + timedelta(days=2))
    submission.submit(session, rep, [(banner, 1)], purpose="trade_show", needed_by=today + timedelta(days=5),
                      return_by=today + timedelta(days=6))
    make_item("BRO-1", name="Brochure polo", category="print", on_hand=4)
    make_item("MUG-1", name="Mug", supplier="POLOWARE")
    make_item("CAP-1", name="Cap")
    for q, category, per_page in [("polo", None, 25), ("polo", None, 2), ("", None, 3), ("polo", "apparel", 1),
                                  ("nothing", None, 5), ("", "kit", 5)]:
        for page in (1, 2, 3, 9):
            expected = catalog_queries.search_products(session, q=q, category=category, page=page, per_page=per_page)
            got, on_hand, held_ids = catalog_queries.catalog_page(session, q=q, category=category, page=page,
                                                                  per_page=per_page)
            assert (got.page, got.per_page, got.total) == (expected.page, expected.per_page, expected.total)
            assert [(p.id, p.name, p.category_label, p.photo_id, p.has_sizes) for p in got.rows] == [
                (p.id, p.name, p.category_label, p.photo_id, p.has_sizes) for p in expected.rows]
            assert [[(i.id, i.sku, i.size, i.unit, i.reorder_point, i.returnable, i.do_not_use_after, i.expired())
                     for i in p.active_items] for p in got.rows] == [
                [(i.id, i.sku, i.size, i.unit, i.reorder_point, i.returnable, i.do_not_use_after, i.expired())
                 for i in p.active_items] for p in expected.rows]
            active = [i.id for p in expected.rows for i in p.active_items]
            assert on_hand == stock.on_hand(session, active)
            assert stock.with_reservations(session, on_hand, held_ids) == stock.availability(session, active)
    page, on_hand, held_ids = catalog_queries.catalog_page(session, q="polo", per_page=25)
    assert page.total == 6 and sorted(held_ids) == sorted([navy.items[1].id, pen.id, banner.id])
    levels = stock.with_reservations(session, on_hand, held_ids)
    assert (levels[navy.items[1].id].available, levels[pen.id].available, levels[banner.id].available) == (7, 5, 1)


@pytest.mark.parametrize("sku", ["POLO-NAVY-M", "A.B_C-1", "lower-case", "with space", "a/b", "x%y", "ünï", "?#"])
def test_item_url_is_url_for(app, sku):
    from flask import url_for

    from inventory.catalog.views import item_url

    with app.test_request_context("/catalog", base_url="http://example.com/prefix"):
        assert item_url(sku) == url_for("catalog.item", sku=sku)
        assert item_url(sku) == url_for("catalog.item", sku=sku)  # twice: the cached prefix


def test_product_page_shows_each_size_with_totals(client, login, make_product):
    product = make_product(sizes={"S": 3, "M": 12, "L": 0})
    login("rep")
    html = client.get(f"/catalog/p/{product.id}").get_data(as_text=True)
    assert "POLO-NAVY-S" in html and "POLO-NAVY-L" in html
    assert "<strong>15</strong>" in html  # available over all sizes


def test_item_label_url_shows_bins_and_is_case_insensitive(client, login, make_item):
    make_item("PEN-1", name="Logo pen", on_hand=9, bin="A-05")
    login("rep")
    assert client.get("/i/pen-1").headers["Location"].endswith("/i/PEN-1")
    html = client.get("/i/PEN-1").get_data(as_text=True)
    assert "A-05" in html and "Logo pen" in html


def test_unknown_sku_gets_a_friendly_404_that_offers_search(client, login):
    login("manager")
    response = client.get("/i/NOPE-1")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "No item NOPE-1" in html and "Search the catalog" in html and "Add a new item" in html


def test_expired_print_piece_is_flagged(client, login, make_item):
    make_item("BRO-25", name="Brochure 2025", category="print", on_hand=50,
              do_not_use_after=date.today() - timedelta(days=1))
    login("rep")
    assert "Do not use: this piece expired" in client.get("/i/BRO-25").get_data(as_text=True)
    assert "do not use: expired" in client.get("/catalog").get_data(as_text=True)


def _photo_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 40, 120)).save(buffer, "PNG")
    return buffer.getvalue()


def test_manager_creates_a_sized_product_with_a_photo_through_the_page(client, login, session):
    login("manager")
    response = client.post("/catalog/new", data={
        "name": "Black polo", "category": "apparel", "sku": "polo-black", "sizes": "S, M, L",
        "unit": "each", "supplier": "Threadline", "unit_cost": "14.50", "lead_time_days": "15",
        "reorder_point": "8", "reorder_quantity": "40",
        "photo": (io.BytesIO(_photo_bytes()), "polo.png"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    product = session.scalar(select(Product).where(Product.name == "Black polo"))
    assert [i.sku for i in product.items] == ["POLO-BLACK-S", "POLO-BLACK-M", "POLO-BLACK-L"]
    assert product.photo_id and client.get(f"/photos/{product.photo_id}").status_code == 200


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_created(client, login, session):
    login("manager")
    response = client.post("/catalog/new", data={
        "name": "Mug", "category": "promo", "sku": "MUG-2", "photo": (io.BytesIO(b"not an image"), "mug.png"),
    }, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "not a photo" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Product.id))) == 0


def test_new_item_page_shows_field_errors(client, login, session):
    login("manager")
    response = client.post("/catalog/new", data={"name": "", "category": "promo", "sku": "X", "reorder_point": "lots"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This field is required" in html and "Not a valid integer value" in html
    assert session.scalar(select(func.count(Product.id))) == 0


def test_manager_edits_an_item_and_applies_settings_to_every_size(client, login, make_product, session):
    make_product(sizes={"S": 0, "M": 0})
    login("manager")
    response = client.post("/i/POLO-NAVY-S/edit", data={
        "unit": "each", "supplier": "NewThreads", "unit_cost": "12.00", "lead_time_days": "20",
        "reorder_point": "4", "reorder_quantity": "30", "apply_to_all": "y",
    })
    assert response.status_code == 302
    m = catalog.get_item(session, "POLO-NAVY-M")
    session.refresh(m)
    assert (m.supplier, m.lead_time_days, m.reorder_quantity) == ("NewThreads", 20, 30)
    assert m.reorder_point == 0  # reorder points stay per size


def test_reps_and_staff_cannot_edit_the_catalog(client, login, make_item):
    make_item("PEN-1")
    for role in ("rep", "staff"):
        login(role)
        assert client.get("/catalog/new").status_code == 403
        assert client.post("/i/PEN-1/edit", data={"supplier": "x"}).status_code == 403
        assert client.post("/i/PEN-1/archive").status_code == 403
        client.post("/logout")
