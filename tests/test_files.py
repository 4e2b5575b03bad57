"""Collateral files (inventory/files, inventory/blobs): types read from content, versions, the
bytes in the database in chunks, previews, share links (expiry, revocation, opens counted), the
reprint a new master offers, search by file names, and the pages that do it all. Product photos
live in the database too (migration 0022 moves them in)."""
import hashlib
import io
import os
import re
import zipfile
from datetime import date, timedelta

import flask_migrate
import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy import func, select

from conftest import make_test_app
from files_helpers import pdf_bytes, png_bytes, pptx_bytes
from inventory import MIGRATIONS
from inventory.blobs import storage
from inventory.blobs.models import CHUNK_BYTES, StoredFile, StoredFileChunk
from inventory.catalog import queries as catalog_queries
from inventory.catalog.models import Item, Product
from inventory.errors import Forbidden, Gone, InvalidInput, NotFound
from inventory.extensions import db
from inventory.files import links, services
from inventory.files.kinds import MARKUP, NOT_ACCEPTED, OFFICE_WITH_MACROS, sniff
from inventory.files.models import FileShare, FileShareOpen, ItemFile
from inventory.purchasing.models import PurchaseOrder
from inventory.timeutil import utcnow
from test_costs import empty_database_url  # noqa: F401  (a fixture: an empty database to migrate)


def counts(session):
    return (session.scalar(select(func.count()).select_from(StoredFile)),
            session.scalar(select(func.count()).select_from(ItemFile)))


def upload(session, item, user, data=None, name="Expo flyer.pdf", kind="shareable", **kwargs):
    return services.upload(session, item, user, kind=kind, stream=io.BytesIO(pdf_bytes() if data is None else data),
                           filename=name, **kwargs)


def post_file(client, sku, data, name="Expo flyer.pdf", **fields):
    return client.post(f"/i/{sku}/files", data={"kind": "shareable", "title": "", "note": "", **fields,
                                                 "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def office(*names):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return out.getvalue()


# --- what a file is, from its content -----------------------------------------------------------

@pytest.mark.parametrize("data, name", [
    (pdf_bytes(), "pdf"), (b"junk before it " + pdf_bytes(), "pdf"), (pptx_bytes(), "pptx"),
    (office("[Content_Types].xml", "word/document.xml"), "docx"), (png_bytes(), "png"),
])
def test_types_are_read_from_the_content(data, name):
    assert sniff(io.BytesIO(data)).name == name


def _image(fmt):
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (1, 2, 3)).save(out, fmt)
    return out.getvalue()


def test_jpeg_and_webp_are_images_whatever_they_are_called():
    assert sniff(io.BytesIO(_image("JPEG"))).name == "jpeg"
    assert sniff(io.BytesIO(_image("WEBP"))).name == "webp"


@pytest.mark.parametrize("data, words", [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', MARKUP),
    (b'<?xml version="1.0"?>\n<svg/>', MARKUP),
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", MARKUP),
    (b"\xef\xbb\xbf  <html><body>hi</body></html>", MARKUP),
    (b"MZ\x90\x00 an executable", NOT_ACCEPTED),
    (b"plain text, named flyer.pdf", NOT_ACCEPTED),
    (office("[Content_Types].xml", "ppt/presentation.xml", "ppt/vbaProject.bin"), OFFICE_WITH_MACROS),
    (office("just/a/zip.txt"), NOT_ACCEPTED),
    (b"PK\x03\x04 not really a zip", NOT_ACCEPTED),
    (b"", "That file is empty."),
])
def test_markup_macros_and_unknown_types_are_refused_in_words(data, words):
    with pytest.raises(InvalidInput) as refused:
        sniff(io.BytesIO(data))
    assert refused.value.message == words


def test_a_decompression_bomb_image_is_refused_before_it_is_decoded():
    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, "PNG")  # a small file of 144 megapixels
    assert len(out.getvalue()) < 200_000
    with pytest.raises(InvalidInput, match="too large: at most 40 megapixels"):
        sniff(io.BytesIO(out.getvalue()))


# --- the bytes in the database ------------------------------------------------------------------

def test_a_file_is_stored_in_chunks_and_streams_back_whole(app, session):
    data = os.urandom(2 * CHUNK_BYTES + 12345)
    stored = storage.store(session, io.BytesIO(data), "application/pdf")
    session.commit()
    assert (stored.size, stored.chunks, stored.sha256) == (len(data), 3, hashlib.sha256(data).hexdigest())
    sizes = session.scalars(select(func.length(StoredFileChunk.data)).where(StoredFileChunk.file_id == stored.id)
                            .order_by(StoredFileChunk.n)).all()
    assert sizes == [CHUNK_BYTES, CHUNK_BYTES, 12345]
    assert b"".join(storage.stream_chunks(db.engine, stored.id, stored.chunks)) == data


# --- versions -------------------------------------------------------------------------------------

def test_versions_count_up_per_item_and_kind_and_the_newest_is_current(app, session, make_item, make_user):
    manager = make_user("manager")
    item = make_item("FLY-1", name="Expo flyer", category="print")
    first = upload(session, item, manager, note="first run")
    master = upload(session, item, manager, name="print.pdf", kind="master")
    second = upload(session, item, manager, data=pptx_bytes(), name="C:\\Users\\me\\Expo deck.pptx")
    assert [(v.kind, v.version) for v in (first, master, second)] == [("shareable", 1), ("master", 1), ("shareable", 2)]
    assert second.filename == "Expo deck.pptx" and second.title == "Expo deck" and second.type_name == "pptx"
    assert {kind: v.id for kind, v in services.current(session, item).items()} == {"shareable": second.id,
                                                                                   "master": master.id}
    assert services.is_current(session, second) and not services.is_current(session, first)
    assert services.download_name(second) == "FLY-1-Expo-deck-v2.pptx"
    assert first.preview_id and master.preview_id and second.preview_id is None  # a deck has no preview
    assert storage.read_bytes(session, first.preview_id)[:3] == b"\xff\xd8\xff"  # the first page, a JPEG


def test_a_path_in_the_uploaded_name_is_only_ever_text(app, session, make_item, make_user):
    version = upload(session, make_item("FLY-1", category="print"), make_user("manager"), name="../../etc/passwd.pdf")
    assert version.filename == "passwd.pdf" and version.title == "passwd"


def test_a_refused_upload_writes_nothing(app, session, make_item, make_user):
    manager, item = make_user("manager"), make_item("FLY-1", category="print")
    for data, words in ((b"<svg/>", "SVG and HTML"), (b"%PDF-1.7 not really a PDF", "cannot be opened"),
                        (os.urandom(2 * 1024 * 1024), "not one we keep")):
        with pytest.raises(InvalidInput, match=words) as refused:
            upload(session, item, manager, data=data)
        assert refused.value.about == (None, "file")
    with pytest.raises(InvalidInput, match="too big: 1 MB at most"):
        upload(session, item, manager, data=pdf_bytes() + b"\n" * (1024 * 1024), max_mb=1)
    with pytest.raises(InvalidInput, match="title is too long"):
        upload(session, item, manager, title="x" * 121)
    assert counts(session) == (0, 0)


def test_only_managers_upload_and_only_managers_read_older_versions(app, session, make_item, make_user):
    manager, rep, item = make_user("manager"), make_user("rep"), make_item("FLY-1", category="print")
    with pytest.raises(Forbidden):
        upload(session, item, rep)
    old = upload(session, item, manager)
    upload(session, item, manager)
    assert services.may_read(session, manager, old) and not services.may_read(session, rep, old)
    with pytest.raises(Forbidden, match="only managers open older versions"):
        services.share(session, old, rep, 7)


def test_search_finds_an_item_by_its_files_title_and_name(app, session, make_item, make_user):
    make_item("PRT-7", name="Product sheet", category="print")
    item = session.scalar(select(Item).where(Item.sku == "PRT-7"))
    assert not catalog_queries.catalog_page(session, q="quantum widget")[0].rows
    upload(session, item, make_user("manager"), name="quantum_widget_onepager.pdf", title="Quantum widget flyer")
    assert [p.name for p in catalog_queries.catalog_page(session, q="quantum widget")[0].rows] == ["Product sheet"]
    assert catalog_queries.catalog_page(session, q="onepager")[0].rows


def test_the_catalog_list_says_which_products_have_a_file_to_share(app, client, login, make_item, make_user, session):
    flyer, _pen = make_item("FLY-1", name="Expo flyer", category="print"), make_item("PEN-1", name="Expo pen")
    upload(session, flyer, make_user("manager"))
    login("rep")
    page = client.get("/catalog?q=expo").get_data(as_text=True)
    cards = {name: card for card in page.split('<li class="card">')[1:] for name in ("Expo flyer", "Expo pen")
             if f"<strong>{name}</strong>" in card}
    assert "file to share" in cards["Expo flyer"] and "file to share" not in cards["Expo pen"]


# --- share links ----------------------------------------------------------------------------------

def test_a_share_link_opens_until_it_expires_and_counts_each_open(app, session, make_item, make_user):
    rep = make_user("rep")
    version = upload(session, make_item("FLY-1", category="print"), make_user("manager"))
    share = services.share(session, version, rep, 7)
    assert share.expires_at - share.created_at == timedelta(days=7)
    assert links.read_token(links.share_token(share.id)) == share.id
    assert links.read_token(links.share_token(share.id)[:-2] + "xx") is None
    for _ in range(2):
        services.open_share(session, share.id)
    session.expire_all()
    share = session.get(FileShare, share.id)
    assert share.opens == 2 and share.first_opened_at <= share.last_opened_at
    assert session.scalar(select(func.count()).select_from(FileShareOpen)) == 2
    with pytest.raises(Gone, match="expired"):
        services.open_share(session, share.id, now=utcnow() + timedelta(days=7, seconds=1))
    with pytest.raises(NotFound):
        services.open_share(session, None)
    with pytest.raises(InvalidInput, match="1 to 365 days"):
        services.share(session, version, rep, 366)


def test_a_revoked_link_opens_nothing_and_only_its_maker_or_a_manager_revokes(app, session, make_item, make_user):
    rep, other, manager = make_user("rep"), make_user("rep"), make_user("manager")
    version = upload(session, make_item("FLY-1", category="print"), manager)
    share = services.share(session, version, rep, 7)
    with pytest.raises(Forbidden):
        services.revoke(session, share, other)
    services.revoke(session, share, rep)
    with pytest.raises(Gone, match="withdrawn"):
        services.open_share(session, share.id)
    assert session.get(FileShare, share.id).opens == 0


# --- the pages ------------------------------------------------------------------------------------

@pytest.fixture
def flyer(app, make_item):
    return make_item("FLY-1", name="Expo flyer", category="print", supplier="PrintCo", reorder_quantity=500)


def test_a_manager_uploads_through_the_page_and_a_rep_downloads_the_current_file(app, client, login, flyer, session):
    login("manager")
    response = post_file(client, "FLY-1", pdf_bytes(), note="Spring prices")
    assert response.status_code == 302 and response.headers["Location"].endswith("/i/FLY-1/files")
    newer = pdf_bytes(pages=2)
    assert post_file(client, "FLY-1", newer, name="Expo flyer v2.pdf").status_code == 302
    old, current = session.scalars(select(ItemFile).order_by(ItemFile.version)).all()
    client.post("/logout")
    login("rep")
    page = client.get("/i/FLY-1").get_data(as_text=True)
    assert f'data-file="{current.id}"' in page and f'data-file="{old.id}"' not in page
    assert f'/files/{current.id}/preview' in page and "Download" in page and "Share" in page
    download = client.get(f"/files/{current.id}")
    assert download.data == newer
    assert download.headers["Content-Disposition"] == 'attachment; filename="FLY-1-Expo-flyer-v2-v2.pdf"'
    assert download.headers["ETag"] == f'"{hashlib.sha256(newer).hexdigest()}"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    # The browser's PDF viewer may run (no object-src 'none'), but nobody may frame the file.
    assert download.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert client.get(f"/files/{current.id}", headers={"If-None-Match": download.headers["ETag"]}).status_code == 304
    assert client.get(f"/files/{current.id}?inline=1").headers["Content-Disposition"].startswith("inline")
    assert client.get(f"/files/{old.id}").status_code == 403  # replaced: for managers
    preview = client.get(f"/files/{current.id}/preview")
    assert preview.data[:3] == b"\xff\xd8\xff" and preview.headers["Content-Security-Policy"].endswith("sandbox")
    assert post_file(client, "FLY-1", pdf_bytes()).status_code == 403
    missing = client.get("/files/999999")
    assert missing.status_code == 404 and "No file #999999" in missing.get_data(as_text=True)


def test_the_manager_sees_every_version_and_the_rep_the_current_ones(app, client, login, flyer, session, make_user):
    manager = make_user("manager")
    for n in range(3):
        upload(session, flyer, manager, title=f"Flyer take {n + 1}")
    login("manager")
    page = client.get("/i/FLY-1/files").get_data(as_text=True)
    assert "Older versions" in page and "Flyer take 1" in page and "Flyer take 2" in page
    client.post("/logout")
    login("rep")
    page = client.get("/i/FLY-1/files").get_data(as_text=True)
    assert "Flyer take 3" in page and "Flyer take 1" not in page and "upload-form" not in page


def test_a_refused_upload_says_why_beside_the_box_and_keeps_what_was_typed(app, client, login, flyer, session):
    login("manager")
    response = post_file(client, "FLY-1", b"<svg onload=alert(1)/>", name="logo.svg", title="Logo for the booth",
                         note="new colours")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="file-error" class="field-error">SVG and HTML files are not accepted[^<]*'
                     r'Nothing was saved: choose the file again.', page)
    assert 'value="Logo for the booth"' in page and "new colours" in page
    assert counts(session) == (0, 0)


def test_a_file_over_the_limit_is_refused_in_words(database_url, tmp_path, make_user):
    app = make_test_app(database_url, tmp_path / "small", MAX_FILE_MB=1)
    with app.app_context():
        from conftest import empty_database
        empty_database()
        from inventory.catalog import services as catalog
        catalog.create_product(db.session, name="Expo flyer", category="print", sku="FLY-1")
        from inventory.auth import services as auth
        auth.create_user(db.session, "m@example.com", "manager", "a-long-password")
        client = app.test_client()
        client.post("/login", data={"email": "m@example.com", "password": "a-long-password"})
        nearly = post_file(client, "FLY-1", pdf_bytes() + b"\n" * (1024 * 1024 + 10))  # within the request's slack
        assert nearly.status_code == 400 and "That file is too big: 1 MB at most." in nearly.get_data(as_text=True)
        far = post_file(client, "FLY-1", pdf_bytes() + b"\n" * (3 * 1024 * 1024))
        assert far.status_code == 413 and "1 MB at most" in far.get_data(as_text=True)
        assert counts(db.session) == (0, 0)
        db.session.remove()
        db.engine.dispose()


def test_a_file_bigger_than_the_8_mb_request_limit_goes_in(app, client, login, flyer, session):
    login("manager")
    big = pdf_bytes() + b"%" + os.urandom(9 * 1024 * 1024)  # bytes after %%EOF: still a PDF
    assert post_file(client, "FLY-1", big).status_code == 302
    stored = session.scalar(select(StoredFile).order_by(StoredFile.size.desc()))
    assert stored.size == len(big) and stored.chunks == 10


def test_only_a_manager_may_send_more_than_the_usual_request_limit(app, client, login, flyer, session):
    """Nobody else makes the server take MAX_FILE_MB into a temporary file: a rep, a visitor and a
    rep's API token get the usual 8 MB limit before anything of the body is read."""
    from inventory.auth.services import create_token

    big = pdf_bytes() + b"%" + os.urandom(9 * 1024 * 1024)
    anonymous = post_file(app.test_client(), "FLY-1", big)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]  # the body left unread
    rep = login("rep")
    assert post_file(client, "FLY-1", big).status_code == 413
    assert post_file(client, "FLY-1", pdf_bytes()).status_code == 403  # small: refused by role, as before
    token = create_token(session, rep, "phone")[1]
    api = app.test_client().post("/api/v1/items/FLY-1/files", data={"file": (io.BytesIO(big), "f.pdf")},
                                 headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")
    assert api.status_code == 403 and "cannot" in api.get_json()["error"]  # refused before the body is read
    assert counts(session) == (0, 0)


def test_sharing_without_script_shows_the_link_and_a_client_opens_it_without_logging_in(
        app, client, login, flyer, session, make_user):
    version = upload(session, flyer, make_user("manager"))
    login("rep")
    response = client.post(f"/files/{version.id}/share")
    share = session.scalar(select(FileShare))
    assert response.headers["Location"].endswith(f"/shares/{share.id}")
    page = client.get(f"/shares/{share.id}").get_data(as_text=True)
    url = re.search(r'id="share-url" type="url" value="([^"]+)"', page).group(1)
    assert "/s/" in url and "Opened 0 times" in page
    outsider = app.test_client()
    opened = outsider.get(url.replace("http://localhost", ""))
    assert opened.status_code == 200 and opened.data.startswith(b"%PDF")
    assert opened.headers["Content-Disposition"].startswith("inline") and opened.headers["Referrer-Policy"] == "no-referrer"
    assert "Opened 1 time" in client.get(f"/shares/{share.id}").get_data(as_text=True)
    client.post("/logout")
    login("rep")  # another rep: not their link
    assert client.get(f"/shares/{share.id}").status_code == 403
    assert client.post(f"/shares/{share.id}/revoke").status_code == 403
    assert outsider.get(url.replace("http://localhost", "")).status_code == 200


def test_an_ended_or_expired_link_answers_410_and_a_made_up_one_404(app, client, login, flyer, session, make_user):
    manager = make_user("manager")
    version = upload(session, flyer, manager)
    ended, expired = services.share(session, version, manager, 7), services.share(session, version, manager, 7)
    session.execute(sa.update(FileShare).where(FileShare.id == expired.id)
                    .values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    login("manager")
    assert client.post(f"/shares/{ended.id}/revoke").status_code == 302
    outsider = app.test_client()
    gone = outsider.get(f"/s/{links.share_token(ended.id)}")
    assert gone.status_code == 410 and "withdrawn" in gone.get_data(as_text=True)
    late = outsider.get(f"/s/{links.share_token(expired.id)}")
    assert late.status_code == 410 and "expired" in late.get_data(as_text=True)
    made_up = outsider.get("/s/MQ.not-a-signature")
    assert made_up.status_code == 404 and "not one of ours" in made_up.get_data(as_text=True)
    assert session.get(FileShare, ended.id).opens == 0


# --- a new master retires the old print -------------------------------------------------------

def test_a_new_master_asks_about_the_print_then_retires_it_with_a_successor_and_a_po(
        app, client, login, flyer, session, make_user):
    upload(session, flyer, make_user("manager"), kind="master", name="flyer 2026.pdf")
    login("manager")
    unanswered = post_file(client, "FLY-1", pdf_bytes(pages=2), name="flyer 2027.pdf", kind="master")
    assert unanswered.status_code == 400
    assert "Say whether the printed stock is still good" in unanswered.get_data(as_text=True)
    assert counts(session)[1] == 1
    last_day = date.today() + timedelta(days=3)
    answered = post_file(client, "FLY-1", pdf_bytes(pages=2), name="flyer 2027.pdf", kind="master",
                         still_good="no", last_day=last_day.isoformat(), reprint="y")
    assert answered.headers["Location"].endswith("/i/FLY-1/reprint")
    session.expire_all()
    assert session.scalar(select(Item.do_not_use_after).where(Item.sku == "FLY-1")) == last_day
    form = client.get("/i/FLY-1/reprint").get_data(as_text=True)
    assert 'value="FLY-1-V2"' in form and 'value="Expo flyer (v2)"' in form and 'value="500"' in form
    done = client.post("/i/FLY-1/reprint", data={"sku": "FLY-1-V2", "name": "Expo flyer (v2)", "order": "y",
                                                 "quantity": "500"})
    order = session.scalar(select(PurchaseOrder))
    assert done.headers["Location"].endswith(f"/purchase-orders/{order.id}")
    session.expire_all()
    old, new = (session.scalar(select(Item).where(Item.sku == sku)) for sku in ("FLY-1", "FLY-1-V2"))
    assert old.replaced_by_id == new.id and new.supplier == "PrintCo" and new.product.category == "print"
    assert (order.status, order.supplier, [(line.item_id, line.quantity) for line in order.lines]) == \
        ("draft", "PrintCo", [(new.id, 500)])
    master = services.current(session, new)["master"]
    assert master.filename == "flyer 2027.pdf" and master.file_id == services.current(session, old)["master"].file_id


def test_a_master_that_leaves_the_print_good_changes_nothing_else(app, client, login, flyer, session, make_user):
    upload(session, flyer, make_user("manager"), kind="master")
    login("manager")
    response = post_file(client, "FLY-1", pdf_bytes(), kind="master", still_good="yes")
    assert response.headers["Location"].endswith("/i/FLY-1/files")
    session.expire_all()
    assert session.scalar(select(Item.do_not_use_after).where(Item.sku == "FLY-1")) is None
    assert session.scalar(select(func.count()).select_from(Item)) == 1


def test_the_reprint_refuses_a_taken_sku_beside_its_box(app, client, login, flyer, make_item, session):
    make_item("FLY-1-V2", category="print")
    login("manager")
    response = client.post("/i/FLY-1/reprint", data={"sku": "fly-1-v2", "name": "Expo flyer (v2)", "order": "y",
                                                     "quantity": "500"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and re.search(r'id="sku-error" class="field-error">SKU FLY-1-V2 is already', page)
    assert session.scalar(select(func.count()).select_from(PurchaseOrder)) == 0


# --- photos in the database -----------------------------------------------------------------------

def test_photos_are_served_from_the_database_and_no_other_file_is(app, client, login, flyer, session, make_user):
    version = upload(session, flyer, make_user("manager"))
    login("rep")
    assert client.get(f"/photos/{version.file_id}").status_code == 404  # a file, not a photo


def test_upgrading_to_0022_moves_each_photo_into_the_database(empty_database_url, tmp_path):  # noqa: F811
    app = make_test_app(empty_database_url, tmp_path / "instance")
    photo = _image("JPEG")
    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS, revision="0021")
        os.makedirs(os.path.join(app.instance_path, "photos"), exist_ok=True)
        with open(os.path.join(app.instance_path, "photos", "abc.jpg"), "wb") as out:
            out.write(photo)
        with db.engine.begin() as connection:
            for name, photo_name in (("Mug", "abc.jpg"), ("Cap", "lost.jpg"), ("Pen", None)):
                connection.execute(sa.text("INSERT INTO product (name, category, description, keywords, search_words,"
                                           " photo, archived, created_at) VALUES (:name, 'promo', '', '', '', :photo,"
                                           " :no, :at)"), {"name": name, "photo": photo_name, "no": False, "at": utcnow()})
        flask_migrate.upgrade(directory=MIGRATIONS)
        photos = dict(db.session.execute(select(Product.name, Product.photo_id)).all())
        assert photos["Cap"] is None and photos["Pen"] is None
        assert storage.read_bytes(db.session, photos["Mug"]) == photo
        assert db.session.get(StoredFile, photos["Mug"]).sha256 == hashlib.sha256(photo).hexdigest()
        db.session.remove()
        flask_migrate.downgrade(directory=MIGRATIONS, revision="0021")  # and back: the photo is a file again
        with db.engine.connect() as connection:
            name = connection.scalar(sa.text("SELECT photo FROM product WHERE name = 'Mug'"))
        with open(os.path.join(app.instance_path, "photos", name), "rb") as back:
            assert back.read() == photo
        flask_migrate.upgrade(directory=MIGRATIONS)
        db.session.remove()
        db.engine.dispose()
