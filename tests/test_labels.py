"""Labels: QR images, label sheets (HTML and PDF) and the URLs they carry.

Every QR code on a generated sheet is read back with a real QR decoder (zxing-cpp): from the
sheet's SVG paths, and from the PDF rendered to pixels by PDFium, and each URL must open the
right bin page."""
import io
import re
from urllib.parse import urlsplit

import pypdfium2
import pytest
import zxingcpp
from PIL import Image, ImageDraw

from inventory.bins import services as bins
from inventory.errors import InvalidInput
from inventory.labels import qr, services as labels
from inventory.labels.sheets import SHEETS, get_sheet, layout
from tests.conftest import carry_session

BASE_URL = "https://stock.example.com"


# Reading QR codes back ------------------------------------------------------------------------

_RUN = re.compile(r"M(\d+) (\d+)\.5h(\d+)")


def rasterize_path(size, d, scale=8):
    """Pixels of one of our QR SVG paths: runs of dark modules, each a line "M x y.5 h w" through
    the middle of its row, drawn with a stroke one module wide."""
    assert _RUN.sub("", d) == "", "the path holds only horizontal runs"
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, width in _RUN.findall(d):
        x, y, width = int(x), int(y), int(width)
        draw.rectangle([x * scale, y * scale, (x + width) * scale - 1, (y + 1) * scale - 1], fill=0)
    return image


def decode(image):
    return [result.text for result in zxingcpp.read_barcodes(image)]


def sheet_svgs(html):
    """(size, d) of every inline QR code on an HTML sheet, in order."""
    return [(int(size), d) for size, d in re.findall(
        r'<svg class="qr" viewBox="0 0 (\d+) \1"[^>]*><path [^>]*d="([^"]+)"/></svg>', html)]


def pdf_pages(data, dpi=200):
    pdf = pypdfium2.PdfDocument(data)
    try:
        return [(page.get_width() / 72, page.get_height() / 72, page.render(scale=dpi / 72).to_pil())
                for page in pdf]
    finally:
        pdf.close()


def opens_bin_page(client, url, code):
    response = client.get(urlsplit(url).path)
    html = response.get_data(as_text=True)
    return response.status_code == 200 and f'<h1 class="bin-code">{code}' in html


@pytest.fixture
def stockroom(make_bin):
    """35 bins in two zones (more than one Avery 5160 sheet) and one archived bin."""
    for n in range(1, 36):
        make_bin(f"A-{n:02d}-{n % 3 + 1}", name=f"Shelf {n}", zone="Stockroom A" if n <= 20 else "Stockroom B")
    old = make_bin("OLD-1", name="Gone")
    return old


# QR images ------------------------------------------------------------------------------------

def test_qr_svg_and_png_encode_the_permanent_label_url(app, client, make_bin):
    make_bin("A-03-2")
    app.config["BASE_URL"] = BASE_URL
    svg = client.get("/b/a-03-2/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.headers["Cache-Control"] == "public, max-age=86400"
    body = svg.get_data(as_text=True)
    size, d = re.search(r'viewBox="0 0 (\d+) \1".*<path fill="none" stroke="#000" stroke-width="1" d="([^"]+)"', body).groups()
    assert decode(rasterize_path(int(size), d)) == [f"{BASE_URL}/b/A-03-2"]
    png = client.get("/b/A-03-2/qr.png")
    assert png.mimetype == "image/png"
    assert decode(Image.open(io.BytesIO(png.data))) == [f"{BASE_URL}/b/A-03-2"]
    item_png = client.get("/i/polo-navy-m/qr.png?scale=3")
    assert Image.open(io.BytesIO(item_png.data)).size[0] == 3 * len(qr.matrix(f"{BASE_URL}/i/POLO-NAVY-M"))
    assert decode(Image.open(io.BytesIO(item_png.data))) == [f"{BASE_URL}/i/POLO-NAVY-M"]
    item_svg = client.get("/i/POLO-NAVY-M/qr.svg").get_data(as_text=True)
    size, d = re.search(r'viewBox="0 0 (\d+) \1".*<path fill="none" stroke="#000" stroke-width="1" d="([^"]+)"', item_svg).groups()
    assert decode(rasterize_path(int(size), d)) == [f"{BASE_URL}/i/POLO-NAVY-M"]


def test_qr_images_are_public_and_say_nothing_about_what_exists(client, make_bin):
    """Other documents embed them without our cookie; the image is computed from its URL alone."""
    make_bin("A-01")
    existing, missing = client.get("/b/A-01/qr.svg"), client.get("/b/Z-99/qr.svg")
    assert existing.status_code == missing.status_code == 200
    assert existing.headers["Cache-Control"] == "private, max-age=300"  # follows the request's host
    assert existing.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert client.get("/b/not%20a%20code/qr.svg").status_code == 404
    assert client.get("/i/" + "X" * 41 + "/qr.png").status_code == 404
    assert client.get("/b/A-01").status_code == 302  # the label URL itself still needs a login


def test_qr_codes_use_error_correction_level_q():
    import qrcode
    from qrcode.constants import ERROR_CORRECT_Q

    url = f"{BASE_URL}/b/A-03-2"
    reference = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=qr.QUIET_ZONE)
    reference.add_data(url)
    reference.make(fit=True)
    assert qr.matrix(url) == tuple(tuple(row) for row in reference.get_matrix())
    result = zxingcpp.read_barcodes(rasterize_path(*qr.svg_path(url)))[0]
    assert result.ec_level == "Q"


# Choosing what to print -----------------------------------------------------------------------

def test_bins_are_selected_by_all_zone_search_or_hand_picked(session, stockroom):
    bins.set_archived(session, stockroom)
    assert len(labels.select_bins(session, "all")) == 35  # archived bins are left out
    zone_b = labels.select_bins(session, "zone", zone="Stockroom B")
    assert [b.code for b in zone_b] == [f"A-{n:02d}-{n % 3 + 1}" for n in range(21, 36)]
    assert [b.code for b in labels.select_bins(session, "search", q="shelf 3")] == \
        ["A-03-1", "A-30-1", "A-31-2", "A-32-3", "A-33-1", "A-34-2", "A-35-3"]
    picked = labels.select_bins(session, "picked", codes=["a-05-3", "A-01-2, A-05-3\nold-1"])
    assert [b.code for b in picked] == ["A-05-3", "A-01-2", "OLD-1"]  # in the order given, once each
    with pytest.raises(labels.UnknownBin, match="No bin has the codes Q-1, Q-2"):
        labels.select_bins(session, "picked", codes=["A-01-2 Q-1 Q-2"])
    for by, kwargs in (("zone", {}), ("search", {"q": " "}), ("picked", {}), ("nonsense", {})):
        with pytest.raises(InvalidInput):
            labels.select_bins(session, by, **kwargs)


def test_items_are_selected_by_all_category_search_or_hand_picked(session, make_item, make_product):
    make_product("Navy polo", "POLO-NAVY", sizes={"S": 0, "M": 0})
    make_item("BRO-ATLAS", name="Atlas brochure", category="print")
    make_item("PEN-1", name="Logo pen")
    assert [i.sku for i in labels.select_items(session, "all")] == ["BRO-ATLAS", "PEN-1", "POLO-NAVY-S", "POLO-NAVY-M"]
    assert [i.sku for i in labels.select_items(session, "category", category="apparel")] == ["POLO-NAVY-S", "POLO-NAVY-M"]
    assert [i.sku for i in labels.select_items(session, "search", q="atlas")] == ["BRO-ATLAS"]
    assert [i.sku for i in labels.select_items(session, "picked", codes=["pen-1 polo-navy-m"])] == ["PEN-1", "POLO-NAVY-M"]
    with pytest.raises(labels.UnknownItem, match="NOPE"):
        labels.select_items(session, "picked", codes=["NOPE"])


def test_the_first_position_leaves_used_labels_blank_and_pages_fill_on():
    sheet = get_sheet("avery-5160")
    pages = layout(range(40), sheet, first_position=5)
    assert [len(page) for page in pages] == [30, 14]
    assert pages[0][:4] == [None] * 4 and pages[0][4] == 0 and pages[1][-1] == 39
    assert layout(range(3), get_sheet("avery-l7160"), first_position=21)[1] == [1, 2]
    for bad in (0, 31, "3", None):
        with pytest.raises(InvalidInput):
            layout(range(3), sheet, first_position=bad)
    with pytest.raises(InvalidInput, match="empty"):
        layout([], sheet)


def test_sheet_geometry_matches_the_manufacturers_templates():
    avery = SHEETS["avery-5160"]
    assert (avery.per_page, avery.label_width, avery.label_height, avery.page_width, avery.page_height) == \
        (30, 2.625, 1, 8.5, 11)
    # Centred on the page, like the printed sheet: equal side margins, equal top and bottom.
    for sheet in SHEETS.values():
        used = sheet.columns * sheet.label_width + (sheet.columns - 1) * sheet.column_gap
        assert sheet.page_width - used == pytest.approx(2 * sheet.margin_left, abs=0.02)
        height = sheet.rows * sheet.label_height + (sheet.rows - 1) * sheet.row_gap
        assert sheet.page_height - height == pytest.approx(2 * sheet.margin_top, abs=0.02)
    l7160 = SHEETS["avery-l7160"]
    assert (l7160.per_page, l7160.label_width, l7160.label_height, l7160.unit) == (21, 63.5, 38.1, "mm")
    assert SHEETS["thermal-2x1"].per_page == 1


# Sheets as pages ------------------------------------------------------------------------------

def test_every_qr_on_an_html_sheet_opens_its_bin(app, client, login, stockroom):
    app.config["BASE_URL"] = BASE_URL
    login("staff")
    response = client.get("/labels/sheet?what=bins&bins_by=all&sheet=avery-5160&start=4")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    codes = re.findall(r'<div class="label" data-code="([^"]+)"', html)
    assert len(codes) == 36 and html.count('class="label skipped"') == 3
    assert len(re.findall(r'<section class="page"', html)) == 2  # 3 blank + 36 labels on 30 a page
    urls = [decode(rasterize_path(size, d)) for size, d in sheet_svgs(html)]
    assert urls == [[f"{BASE_URL}/b/{code}"] for code in codes]
    for [url], code in zip(urls, codes):
        assert opens_bin_page(client, url, code), url
    assert 'href="/labels/sheet.css"' in html and "Print at 100 %" in html


@pytest.mark.parametrize("sheet, inches, per_page", [
    ("avery-5160", (8.5, 11), 30), ("avery-l7160", (210 / 25.4, 297 / 25.4), 21), ("thermal-2x1", (2, 1), 1),
])
def test_every_qr_in_a_pdf_sheet_decodes_and_opens_its_bin(app, client, login, make_bin, sheet, inches, per_page):
    app.config["BASE_URL"] = BASE_URL
    codes = [f"B-{n:02d}" for n in range(1, 24)] if per_page > 1 else ["B-01", "LONG-CODE-2026.X1", "C-7"]
    for code in codes:
        make_bin(code, name=f"Shelf for {code} with a name long enough to wrap onto a second line")
    login("staff")
    response = client.get(f"/labels/sheet.pdf?what=bins&bins_by=all&sheet={sheet}&start={2 if per_page > 1 else 1}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f'filename="labels-{sheet}.pdf"' in response.headers["Content-Disposition"]
    pages = pdf_pages(response.data)
    assert len(pages) == -(-(len(codes) + (1 if per_page > 1 else 0)) // per_page)
    found = []
    for width, height, image in pages:
        assert (width, height) == (pytest.approx(inches[0], abs=0.01), pytest.approx(inches[1], abs=0.01))
        found += decode(image)
    assert sorted(found) == sorted(f"{BASE_URL}/b/{code}" for code in codes)
    for url in found:
        assert opens_bin_page(client, url, url.rsplit("/", 1)[1]), url


def test_item_labels_carry_item_urls(app, client, login, make_item):
    make_item("BRO-ATLAS", name="Atlas brochure", category="print")
    login("manager")
    html = client.get("/labels/sheet?what=items&items_by=picked&item=bro-atlas&sheet=thermal-2x1").get_data(as_text=True)
    assert "Atlas brochure" in html and "Print" in html
    [(size, d)] = sheet_svgs(html)
    assert decode(rasterize_path(size, d)) == ["http://localhost/i/BRO-ATLAS"]


def test_a_bad_selection_is_refused_on_the_labels_page(client, login, stockroom):
    login("staff")
    for query, message in [
        ("what=bins&bins_by=picked&bin_codes=A-01-2+NOPE-1", "No bin has the code NOPE-1"),
        ("what=bins&bins_by=zone&zone=Nowhere", "No labels to print"),
        ("what=bins&bins_by=all&sheet=avery-l7160&start=22", "a number from 1 to 21"),
        ("what=bins&bins_by=all&sheet=letterhead", "Not a valid choice"),
        ("what=items&items_by=search&item_q=", "Type what to search items for"),
    ]:
        for endpoint in ("/labels/sheet", "/labels/sheet.pdf"):
            response = client.get(f"{endpoint}?{query}")
            assert response.status_code == 400, (query, endpoint)
            assert message in response.get_data(as_text=True), (query, endpoint)


def test_labels_page_is_for_staff_and_managers(client, login, stockroom):
    login("rep")
    for url in ("/labels", "/labels/sheet?bins_by=all", "/labels/sheet.pdf?bins_by=all"):
        assert client.get(url).status_code == 403, url
    client.post("/logout")
    login("manager")
    html = client.get("/labels").get_data(as_text=True)
    assert "A-01-2 Shelf 1" in html and "Stockroom B" in html and "Avery L7160" in html


# BASE_URL -------------------------------------------------------------------------------------

def test_labels_use_base_url_when_set(app, client, login, make_bin):
    make_bin("A-01")
    app.config["BASE_URL"] = BASE_URL
    login("manager")
    html = client.get("/labels").get_data(as_text=True)
    assert f"Labels point at <strong>{BASE_URL}</strong>" in html and "phones cannot open" not in html


def test_labels_printed_from_localhost_are_warned_about(client, login, make_bin):
    make_bin("A-01")
    login("manager")
    carry_session(client, "http://127.0.0.1:5000/")
    for host in ("http://localhost/", "http://127.0.0.1:5000/"):
        html = client.get("/labels", base_url=host).get_data(as_text=True)
        assert "phones cannot open them" in html and "Set BASE_URL" in html, host
        sheet = client.get("/labels/sheet?bins_by=all", base_url=host).get_data(as_text=True)
        assert "phones cannot open them" in sheet  # on the printable sheet too (not printed)


def test_without_base_url_labels_carry_the_address_in_use(client, login, make_bin):
    make_bin("A-01")
    login("manager")
    host = "http://192.168.1.20:5000/"
    carry_session(client, host)
    html = client.get("/labels", base_url=host).get_data(as_text=True)
    assert "BASE_URL is not set" in html and "phones cannot open" not in html
    sheet = client.get("/labels/sheet?bins_by=all&sheet=thermal-2x1", base_url=host).get_data(as_text=True)
    [(size, d)] = sheet_svgs(sheet)
    assert decode(rasterize_path(size, d)) == ["http://192.168.1.20:5000/b/A-01"]
    png = client.get("/b/A-01/qr.png", base_url=host)
    assert decode(Image.open(io.BytesIO(png.data))) == ["http://192.168.1.20:5000/b/A-01"]
