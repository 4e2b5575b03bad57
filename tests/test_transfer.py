"""Import and export: the dry run reports every bad row and writes nothing; a confirmed import
writes all rows or none; Excel's CSV flavours read; exports re-import unchanged; the pages, their
roles and the commands."""
import io
import os
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from inventory.catalog.models import Item, Product
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock
from inventory.stock.models import Movement
from inventory.transfer import exports, services
from inventory.transfer.csvfile import escape, unescape
from inventory.transfer.report import ImportRefused

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "transfer")
ITEMS_HEADER = "sku,product,size,category,unit,supplier,unit_cost,lead_time_days,reorder_point,reorder_quantity,returnable"


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as file:
        return file.read()


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def bad_lines(report):
    return {bad.line: bad.reason for bad in report.bad_rows}


# Items: the rules -------------------------------------------------------------------------------

def test_dry_run_reports_every_bad_row_with_its_line_and_writes_nothing(session):
    report = services.import_items(session, services.read_upload(fixture("items_good_and_bad.csv")), dry_run=True)
    bad = bad_lines(report)
    assert sorted(bad) == [4, 5, 6, 7]
    assert "unknown category 'hats'" in bad[4]
    assert "duplicate SKU POLO-NAVY-S (also on line 2)" in bad[5]
    assert "reorder point 'ten' is not a whole number" in bad[6]
    assert "product name is missing" in bad[7]
    assert report.counts["new_products"] == 2 and report.counts["new_items"] == 3  # the good rows: polo S/M, brochure
    assert count(session, Item) == 0 and count(session, Product) == 0


def test_import_with_one_bad_row_refuses_the_whole_file(session, make_item):
    make_item("BRO-1", name="Expo brochure", category="print")
    text = fixture("items_good_and_bad.csv").decode()
    with pytest.raises(ImportRefused) as refused:
        services.import_items(session, text)
    assert len(refused.value.report.bad_rows) == 4
    assert count(session, Item) == 1 and count(session, Product) == 1
    only_one_bad = "\n".join([ITEMS_HEADER, "PEN-2,Pen,,promo,each,PenCo,0.40,7,100,500,no",
                              "PEN-3,Pen,,promo,each,PenCo,0.40,7,lots,500,no"])
    with pytest.raises(ImportRefused):
        services.import_items(session, only_one_bad)
    assert count(session, Item) == 1


def test_confirmed_import_writes_products_sizes_and_items(session):
    text = "\n".join([ITEMS_HEADER + ",do_not_use_after,notes,description",
                      "POLO-NAVY-S,Navy polo,S,apparel,each,Threadline,8.50,14,10,50,no,,,Navy polo with logo",
                      "POLO-NAVY-M,Navy polo,m,Apparel,each,Threadline,8.50,14,10,50,no,,,Navy polo with logo",
                      "BRO-1,Expo brochure,,print,,PrintWorks,0.35,21,200,1000,no,2027-12-31,Reprint yearly,",
                      "banner-1,Roll-up banner,,display,each,SignCo,120,21,1,1,yes,,,"])
    report = services.import_items(session, text)
    assert report.ok and report.written
    assert report.counts["new_products"] == 3 and report.counts["new_items"] == 4
    polo = session.scalar(select(Product).where(Product.name == "Navy polo"))
    assert [(i.sku, i.size) for i in polo.items] == [("POLO-NAVY-S", "S"), ("POLO-NAVY-M", "M")]
    assert polo.description == "Navy polo with logo" and polo.category == "apparel"
    brochure = session.scalar(select(Item).where(Item.sku == "BRO-1"))
    assert brochure.unit == "each" and brochure.unit_cost == Decimal("0.35")
    assert brochure.do_not_use_after == date(2027, 12, 31) and brochure.notes == "Reprint yearly"
    banner = session.scalar(select(Item).where(Item.sku == "BANNER-1"))
    assert banner.returnable and banner.unit_cost == Decimal("120.00")


def test_excel_file_with_bom_semicolons_windows_line_ends_and_decimal_commas(session):
    report = services.import_items(session, services.read_upload(fixture("items_excel_semicolon_bom.csv")))
    assert report.ok, report.bad_rows
    red = session.scalar(select(Product).where(Product.name == "Rotes Polo"))
    assert [i.size for i in red.items] == ["S", "M"]
    small = red.items[0]
    assert small.supplier == "Textil Müller GmbH" and small.unit_cost == Decimal("8.50") and small.notes == "Größe S"
    flyer = session.scalar(select(Item).where(Item.sku == "FLY-MESSE"))
    assert flyer.do_not_use_after == date(2027, 12, 31) and flyer.notes == "Text; mit Semikolon"
    assert flyer.product.name == "Flyer Messe Köln"


def test_utf8_without_bom_and_rows_pasted_from_a_spreadsheet_with_tabs(session):
    data = "sku,product,category\r\nCAP-1,Casquette brodée,promo\r\n".encode()
    assert services.import_items(session, services.read_upload(data)).ok
    pasted = "SKU\tProduct\tCategory\tUnit cost\nMUG-1\tMug, white\tpromo\t4.20\nMUG-2\tMug; black\tpromo\t4.20"
    assert services.import_items(session, pasted).ok
    assert session.scalar(select(Item).where(Item.sku == "MUG-1")).product.name == "Mug, white"
    assert session.scalar(select(Item).where(Item.sku == "CAP-1")).product.name == "Casquette brodée"


@pytest.mark.parametrize("data, message", [
    ("sku;product;category\nX;Ü;promo\n".encode("latin-1"), "not UTF-8"),
    (b"", "empty"),
    (b"sku,product,category\n", "no rows"),
    (b"sku,bin,quantity\nA,B,1\n", "Column(s) missing: product, category"),
    (b"sku,product,category,colour\nA,B,promo,red\n", "Unknown column(s): 'colour'"),
    (b"hello,world\n1,2\n", "The first line must name the columns"),
])
def test_a_file_that_cannot_be_read_says_why(session, data, message):
    with pytest.raises(Exception) as error:
        services.import_items(session, services.read_upload(data), dry_run=True)
    assert message in str(error.value)


def test_reimporting_changes_only_what_differs_and_shows_old_and_new(session, make_product, make_item):
    make_product("Navy polo", "POLO-NAVY", sizes={"S": 0, "M": 0}, supplier="Threadline", unit_cost=8)
    make_item("BRO-1", name="Expo brochure", category="print", reorder_point=200)
    text = "\n".join(["sku,product,size,category,supplier,unit_cost,reorder_point",
                      "POLO-NAVY-S,Navy polo,S,apparel,Threadline,8.00,0",
                      "POLO-NAVY-M,Navy polo,M,apparel,Threadline,9.00,0",
                      "POLO-NAVY-XL,Navy polo,XL,apparel,Threadline,9.50,0",
                      "BRO-1,Expo brochure 2027,,print,,0,250"])
    report = services.import_items(session, text, dry_run=True)
    assert report.ok, report.bad_rows
    changes = {change.key: change for change in report.changes}
    assert changes["POLO-NAVY-M"].details == (("unit cost", "8.00", "9.00"),)
    assert changes["POLO-NAVY-XL"].action == "new" and "new size XL of Navy polo" in changes["POLO-NAVY-XL"].describe()
    assert changes["BRO-1"].details == (("product", "Expo brochure", "Expo brochure 2027"),
                                        ("reorder point", "200", "250"))
    assert report.counts["unchanged"] == 1 and "POLO-NAVY-S" not in changes
    services.import_items(session, text)
    polo = session.scalar(select(Product).where(Product.name == "Navy polo"))
    assert [i.size for i in polo.items] == ["S", "M", "XL"]
    assert polo.items[2].supplier == "Threadline" and polo.items[2].unit_cost == Decimal("9.50")
    assert session.scalar(select(Item).where(Item.sku == "BRO-1")).product.name == "Expo brochure 2027"


def test_sizes_and_products_that_contradict_the_catalog_are_bad_rows(session, make_product):
    make_product("Navy polo", "POLO-NAVY", sizes={"S": 0, "M": 0})
    text = "\n".join(["sku,product,size,category",
                      "POLO-NAVY-S,Navy polo,M,apparel",            # an existing item's size
                      "NAVY-M-2,Navy polo,M,apparel",               # a size the product has
                      "NAVY-L,Navy polo,L,print",                   # the product's category is apparel
                      "TEE-S,Tee,S,apparel", "TEE-S2,Tee,S,apparel"])  # one size twice in a new product
    bad = bad_lines(services.import_items(session, text, dry_run=True))
    assert "is size S in the catalog" in bad[2]
    assert "already has size M (SKU POLO-NAVY-M)" in bad[3]
    assert "Navy polo is apparel in the catalog; this row says print" in bad[4]
    assert "size S of Tee is also on line 5" in bad[6]
    assert 5 not in bad


def test_formula_cells_are_escaped_on_export_and_restored_on_import():
    for text in ["=SUM(A1:A9)", "+1", "-2", "@cmd", "'=already", "''", "'plain", "plain", "", "'"]:
        assert unescape(escape(text)) == text
    assert escape("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert escape("-10% off") == "'-10% off" and escape("Polo") == "Polo"


def test_export_then_import_changes_nothing(session, make_product, make_item):
    make_product("=HYPERLINK(\"http://evil\")", "POLO-NAVY", sizes={"S": 3, "M": 5}, supplier="-Threadline",
                 unit_cost=Decimal("8.5"), lead_time_days=14, reorder_point=10, reorder_quantity=50,
                 notes="'=quoted", description="Navy, with \"logo\"; washed\nat 40°")
    make_item("BRO-1", name="Expo brochure", category="print", on_hand=300, do_not_use_after=date(2027, 3, 31),
              supplier="@PrintWorks", notes="+reprint")
    make_item("BANNER-1", name="Roll-up banner", category="display", returnable=True, unit="piece")
    exported = exports.items_csv(session)
    assert exported.startswith("\ufeff") and "\r\n" in exported
    assert "'=HYPERLINK" in exported and "'-Threadline" in exported and "''=quoted" in exported
    report = services.import_items(session, exported, dry_run=True)
    assert report.ok and report.changes == [] and report.counts["unchanged"] == 4
    services.import_items(session, exported)
    assert exports.items_csv(session) == exported
    polo = session.scalar(select(Item).where(Item.sku == "POLO-NAVY-S"))
    assert polo.product.name == "=HYPERLINK(\"http://evil\")" and polo.notes == "'=quoted"


def test_items_export_has_on_hand_reserved_and_available(session, make_item):
    make_item("PEN-1", on_hand=10)
    lines = exports.items_csv(session).lstrip("\ufeff").splitlines()
    assert lines[0].endswith("on_hand,reserved,available")
    assert lines[1].startswith("PEN-1,Item PEN-1,,promo,each,,0.00,0,0,0,no,,,,") and lines[1].endswith(",10,0,10")


# Stock per bin ----------------------------------------------------------------------------------

@pytest.fixture
def manager(make_user):
    return make_user("manager", email="boss@example.com")


def test_stock_dry_run_reports_bad_rows_and_books_nothing(session, make_item, make_bin, manager):
    make_item("PEN-1")
    make_bin("A-01")
    text = "\n".join(["sku,bin,quantity", "PEN-1,A-01,10", "NOPE,A-01,5", "PEN-1,Z-99,5", "PEN-1,A-02,many",
                      "PEN-1,a-01,3", "PEN-1,A-03,"])
    report = services.import_stock(session, text, manager, dry_run=True)
    bad = bad_lines(report)
    assert sorted(bad) == [3, 4, 5, 6, 7]
    assert "unknown SKU NOPE" in bad[3] and "unknown bin Z-99" in bad[4]
    assert "quantity 'many' is not a whole number" in bad[5]
    assert "PEN-1 in bin A-01 is also on line 2" in bad[6] and "quantity is missing" in bad[7]
    assert count(session, Movement) == 0
    with pytest.raises(ImportRefused):
        services.import_stock(session, text, manager)
    assert count(session, Movement) == 0


def test_opening_stock_is_received_counted_and_bins_created_through_the_ledger(session, make_item, make_bin,
                                                                                manager):
    pen = make_item("PEN-1", on_hand=4, bin="A-01")
    cap = make_item("CAP-1")
    text = "\n".join(["sku,bin,quantity,bin_name,zone", "PEN-1,A-01,10,,", "PEN-1,B-01,5,Pens overflow,Stockroom B",
                      "CAP-1,B-01,7,,", "CAP-1,A-01,0,,"])
    with pytest.raises(ImportRefused):  # B-01 does not exist and may not be created
        services.import_stock(session, text, manager, dry_run=False)
    report = services.import_stock(session, text, manager, create_bins=True)
    assert report.counts == {"counted": 1, "received": 2, "unchanged": 1, "new_bins": 1}
    from inventory.bins.services import get_bin

    b01 = get_bin(session, "B-01")
    assert (b01.name, b01.zone) == ("Pens overflow", "Stockroom B")
    assert stock_queries.level(session, pen, get_bin(session, "A-01")) == 10
    assert stock_queries.level(session, pen, b01) == 5 and stock_queries.level(session, cap, b01) == 7
    assert stock.check_ledger(session) == []
    kinds = session.execute(select(Movement.kind, Movement.quantity, Movement.reason, Movement.user_id)
                            .where(Movement.user_id == manager.id).order_by(Movement.id)).all()
    assert [(k, q) for k, q, _r, _u in kinds] == [("count", 6), ("receive", 5), ("receive", 7)]
    assert kinds[1].reason == "opening stock"
    again = services.import_stock(session, text, manager, create_bins=True)
    assert again.counts["unchanged"] == 4 and count(session, Movement) == 4  # 1 by make_item + 3


def test_dispatch_changes_only_by_picking(session, make_item, make_bin, manager):
    make_item("PEN-1")
    make_item("CAP-1")
    make_bin("DISPATCH")
    report = services.import_stock(session, "sku,bin,quantity\nPEN-1,DISPATCH,0\nCAP-1,dispatch,4", manager,
                                   dry_run=True)
    assert report.counts["unchanged"] == 1 and "DISPATCH holds picked stock" in bad_lines(report)[3]


def test_stock_export_reimports_unchanged(session, make_item, make_product, manager):
    make_item("PEN-1", on_hand=4, bin="A-01")
    make_product("Navy polo", "POLO-NAVY", sizes={"S": 2, "M": 0}, bin="B-02")
    exported = exports.stock_csv(session)
    assert exported.lstrip("\ufeff").splitlines() == [
        "bin,bin_name,zone,sku,product,size,quantity", "A-01,,Stockroom A,PEN-1,Item PEN-1,,4",
        "B-02,,Stockroom A,POLO-NAVY-S,Navy polo,S,2"]
    report = services.import_stock(session, exported, manager)
    assert report.ok and report.changes == [] and report.counts["unchanged"] == 2


def test_stock_import_counted_short_moves_holds_to_backorder_and_fills_them_when_more_arrives(
        session, make_item, make_user, manager):
    from inventory.requests import submission
    from inventory.requests.models import RequestLine

    pen = make_item("PEN-1", on_hand=10, bin="A-01")
    rep = make_user("rep")
    submission.submit(session, rep, [(pen, 8)], purpose="client_meeting", needed_by=date.today() + timedelta(days=5))
    services.import_stock(session, "sku,bin,quantity\nPEN-1,A-01,5", manager)
    line = session.scalar(select(RequestLine))
    assert (line.reserved, line.backordered) == (5, 3)
    services.import_stock(session, "sku,bin,quantity\nPEN-1,A-01,20", manager)
    session.refresh(line)
    assert (line.reserved, line.backordered) == (8, 0)
    assert stock.check_ledger(session) == []


# Exports ----------------------------------------------------------------------------------------

def test_ledger_export_covers_the_date_range(session, make_item):
    make_item("PEN-1", on_hand=10, bin="A-01")
    today = date.today()
    text = "".join(exports.ledger_csv(session, today, today)).lstrip("\ufeff")
    lines = text.splitlines()
    assert lines[0].startswith("id,when_utc,kind,sku")
    assert re.match(r"\d+,\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,receive,PEN-1,Item PEN-1,,,A-01,10,,,,factory-staff@", lines[1])
    yesterday = today - timedelta(days=1)
    assert "".join(exports.ledger_csv(session, yesterday - timedelta(days=5), yesterday)).count("\n") == 1


# Pages ------------------------------------------------------------------------------------------

def upload(client, kind, data, name="items.csv", **extra):
    form = {f"{kind}-file": (io.BytesIO(data), name)}
    form.update({f"{kind}-{key}": value for key, value in extra.items()})
    return client.post(f"/transfer/import/{kind}", data=form, content_type="multipart/form-data")


def packed(page):
    return re.search(r'name="content" type="hidden" value="([^"]+)"', page).group(1)


def test_manager_checks_a_file_sees_every_bad_row_and_nothing_is_written(client, login, session):
    login("manager")
    page = client.get("/transfer").get_data(as_text=True)
    assert "Import items" in page and "Download the items template" in page
    response = upload(client, "items", fixture("items_good_and_bad.csv"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for line in (4, 5, 6, 7):
        assert f"Line {line}</strong>" in page
    assert "unknown category &#39;hats&#39;" in page and "4 bad rows" in page
    assert 'name="content"' not in page  # no confirm button while rows are bad
    assert count(session, Item) == 0


def test_manager_confirms_a_checked_file_and_everything_is_written(client, login, session):
    login("manager")
    page = upload(client, "items", fixture("items_excel_semicolon_bom.csv")).get_data(as_text=True)
    assert "3 new item(s) in 2 new product(s)" in page and "Import 3 rows" in page
    assert count(session, Item) == 0
    response = client.post("/transfer/import/items/confirm", data={"content": packed(page), "filename": "x.csv"})
    assert response.status_code == 302
    assert count(session, Item) == 3
    assert "Imported x.csv" in client.get("/transfer").get_data(as_text=True)


def test_confirm_checks_again_and_refuses_the_whole_file_for_one_bad_row(client, login, session, make_item):
    login("manager")
    text = "\n".join(["sku,product,category", "PEN-1,Pen,promo", "CAP-1,Cap,promo"])
    page = upload(client, "items", text.encode()).get_data(as_text=True)
    make_item("CAP-2", name="Cap")  # meanwhile: nothing wrong yet, the preview is just stale
    stale = services.pack(text + "\nMUG-1,Mug,cups")  # a tampered or stale file with one bad row
    response = client.post("/transfer/import/items/confirm", data={"content": stale, "filename": "x.csv"})
    assert response.status_code == 400
    assert "Nothing was imported: 1 bad row" in response.get_data(as_text=True)
    assert count(session, Item) == 1
    response = client.post("/transfer/import/items/confirm", data={"content": packed(page), "filename": "x.csv"})
    assert response.status_code == 302 and count(session, Item) == 3


def test_pasted_stock_with_create_bins_goes_through_the_pages(client, login, session, make_item):
    user = login("manager")
    make_item("PEN-1")
    response = client.post("/transfer/import/stock", data={"stock-text": "sku\tbin\tquantity\nPEN-1\tC-01\t12",
                                                           "stock-create_bins": "y"},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "receive 12 into C-01 (new bin)" in page
    response = client.post("/transfer/import/stock/confirm", data={"content": packed(page), "create_bins": "1",
                                                                   "filename": "pasted rows"})
    assert response.status_code == 302
    assert session.scalar(select(Movement.user_id)) == user.id


@pytest.mark.parametrize("data, message", [
    ("sku;product\nX;Ü\n".encode("latin-1"), "not UTF-8"),
    (b"sku,bin,quantity\nA,B,1\n", "Column(s) missing: product, category"),
])
def test_unreadable_files_get_a_clear_message(client, login, data, message):
    login("manager")
    response = upload(client, "items", data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_too_big_a_file_is_refused_in_words(client, login, app, monkeypatch):
    from inventory.transfer import csvfile

    login("manager")
    monkeypatch.setattr(csvfile, "MAX_IMPORT_BYTES", 1000)
    response = upload(client, "items", b"sku,product,category\n" + b"PEN-1,Pen,promo\n" * 100)
    assert response.status_code == 400 and "too big" in response.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = upload(client, "items", b"sku,product,category\n" + b"PEN-1,Pen,promo\n" * 200)
    assert response.status_code == 302
    assert "too big" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_templates_download_with_an_example_row(client, login):
    login("manager")
    response = client.get("/transfer/template/items.csv")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="items-template')
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("sku,product,size,category") and lines[1].startswith("POLO-NAVY-M,Navy polo,M,apparel")
    stock_lines = client.get("/transfer/template/stock.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert stock_lines == ["sku,bin,quantity,bin_name,zone", "POLO-NAVY-M,A-03-2,40,\"Polos, top shelf\",Stockroom A"]


def test_the_items_template_imports_as_it_is(session, client, login):
    login("manager")
    template = client.get("/transfer/template/items.csv").data
    assert services.import_items(session, services.read_upload(template), dry_run=True).ok


def test_exports_download_for_staff_and_managers(client, login, make_item):
    make_item("PEN-1", on_hand=3)
    login("staff")
    for url in ("/transfer", "/transfer/export/items.csv", "/transfer/export/stock.csv",
                "/transfer/export/ledger.csv?first_day=2026-01-01&last_day=2030-01-01"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "Import items" not in client.get("/transfer").get_data(as_text=True)
    assert "PEN-1" in client.get("/transfer/export/ledger.csv").get_data(as_text=True)
    assert client.get("/transfer/export/ledger.csv?first_day=2026-02-01&last_day=2026-01-01").status_code == 400
    assert client.get("/transfer/export/ledger.csv?first_day=yesterday").status_code == 400
    for query in ("last_day=9999-12-31", "first_day=9999-12-31&last_day=9999-12-31", "last_day=0001-01-05"):
        response = client.get(f"/transfer/export/ledger.csv?{query}")  # the day after / 30 days before overflowed
        assert response.status_code == 400, query
        assert "between the years" in response.get_data(as_text=True)
    for url in ("/transfer/export/requests.csv", "/transfer/export/purchase-orders.csv",
                "/transfer/template/items.csv"):
        assert client.get(url).status_code == 403, url
    assert upload(client, "items", b"sku,product,category\nA,B,promo\n").status_code == 403


def test_requests_and_purchase_orders_export_one_row_per_line(client, login, session, make_item):
    from inventory.purchasing import services as purchasing
    from inventory.requests import submission

    pen = make_item("PEN-1", on_hand=10)
    manager = login("manager")
    submission.submit(session, manager, [(pen, 4)], purpose="trade_show", needed_by=date.today() + timedelta(days=9),
                      note="=for the booth")
    purchasing.create(session, manager, lines=[("PEN-1", 100, Decimal("0.40"))], supplier="=PenCo")
    lines = client.get("/transfer/export/requests.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("request,created_utc,requester,status")
    assert ",PEN-1,Item PEN-1,,4,4,0,0,0,0,0,0,0,'=for the booth" in lines[1]
    lines = client.get("/transfer/export/purchase-orders.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[1].startswith("PO-") and ",'=PenCo,draft," in lines[1] and lines[1].endswith(",100,0,100,0.40,40.00")


@pytest.mark.parametrize("role, status", [("rep", 403), ("staff", 200), ("manager", 200), ("admin", 200)])
def test_who_may_open_the_import_and_export_page(client, login, role, status):
    login(role)
    assert client.get("/transfer").status_code == status
    assert client.get("/transfer/export/items.csv").status_code == status


def test_navigation_offers_import_export_on_the_laptop(client, login):
    login("manager")
    page = client.get("/transfer").get_data(as_text=True)
    assert re.search(r'<a href="/transfer" aria-current="page">Import/Export</a>', page)


def test_a_post_without_csrf_token_is_refused(database_url, tmp_path, make_user, session):
    """With CSRF on (as in production): the import views check the token themselves (after raising
    the form size limit), so a POST without it is refused and one with it goes through."""
    from tests.conftest import PASSWORD, make_test_app

    def token(page, name="csrf_token"):
        return re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page).group(1)

    user = make_user("manager")
    # No app context held across requests: each request gets its own `g`, as in production.
    client = make_test_app(database_url, tmp_path / "csrf", WTF_CSRF_ENABLED=True).test_client()
    login_page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token(login_page)})
    text = services.pack("sku,product,category\nPEN-1,Pen,promo")
    response = client.post("/transfer/import/items/confirm", data={"content": text})
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    response = client.post("/transfer/import/items", data={"items-text": "sku,product,category\nA,B,promo"})
    assert response.status_code == 400
    page = client.get("/transfer").get_data(as_text=True)
    response = client.post("/transfer/import/items", data={"items-text": "sku,product,category\nA,B,promo",
                                                           "items-csrf_token": token(page, "items-csrf_token")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    response = client.post("/transfer/import/items/confirm", data={"content": packed(page), "csrf_token": token(page)},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    session.rollback()  # end the read begun before the other app wrote
    assert count(session, Item) == 1


# Commands ---------------------------------------------------------------------------------------

def test_import_items_command_dry_run_then_import(runner, session, tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes(fixture("items_good_and_bad.csv"))
    result = runner.invoke(args=["import-items", str(path), "--dry-run"])
    assert result.exit_code == 1
    assert "line 4: CAP-1: unknown category 'hats'" in result.output and "nothing was imported" in result.output
    good = tmp_path / "good.csv"
    good.write_bytes(fixture("items_excel_semicolon_bom.csv"))
    result = runner.invoke(args=["import-items", str(good), "--dry-run"])
    assert result.exit_code == 0 and "Would import 3 row(s)" in result.output and count(session, Item) == 0
    result = runner.invoke(args=["import-items", str(good)])
    assert result.exit_code == 0 and "Imported 3 row(s)" in result.output and count(session, Item) == 3


def test_import_stock_command_creates_bins_as_the_given_user(runner, session, make_item, manager, tmp_path):
    make_item("PEN-1")
    path = tmp_path / "stock.csv"
    path.write_text("sku;bin;quantity\r\nPEN-1;D-01;9\r\n")
    result = runner.invoke(args=["import-stock", str(path), "--user", manager.email])
    assert result.exit_code == 1 and "unknown bin D-01" in result.output
    result = runner.invoke(args=["import-stock", str(path), "--user", manager.email, "--create-bins"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(Movement.user_id)) == manager.id


def test_a_returnable_out_on_loan_cannot_be_made_consumable(session, make_item, make_user, make_bin):
    from inventory.catalog import services as catalog
    from inventory.errors import InvalidInput
    from inventory.requests import fulfilment, handover, review, submission

    banner = make_item("BANNER-1", name="Roll-up banner", category="display", on_hand=3, returnable=True)
    rep, manager, staff = make_user("rep"), make_user("manager"), make_user("staff")
    loan = submission.submit(session, rep, [(banner, 2)], purpose="trade_show", needed_by=date.today(),
                             return_by=date.today() + timedelta(days=5))
    review.approve(session, loan.id, manager)
    fulfilment.pick(session, loan.id, make_bin("A-01"), {loan.lines[0].id: 2}, staff)
    handover.hand_over(session, loan.id, staff)

    text = "sku,product,category,returnable\nBANNER-1,Roll-up banner,display,no\n"
    report = services.import_items(session, text, dry_run=True)
    assert bad_lines(report) == {2: "2 of BANNER-1 are out on loan: check them in before making it consumable "
                                    "(a consumable cannot be checked back in)."}
    with pytest.raises(InvalidInput, match="2 of BANNER-1 are out on loan"):
        catalog.update_item(session, banner, returnable=False)
    with pytest.raises(InvalidInput, match="out on loan"):
        catalog.apply_to_all_sizes(session, banner.product, returnable=False)
    session.expire_all()
    assert session.get(Item, banner.id).returnable is True

    fulfilment.check_in(session, loan.id, make_bin("A-01"), {loan.lines[0].id: {"returned": 2}}, staff)
    assert services.import_items(session, text, dry_run=True).ok
    catalog.update_item(session, session.get(Item, banner.id), returnable=False)
    assert session.get(Item, banner.id).returnable is False
