"""The files API under /api/v1, through the test client with real bearer tokens: an item's files
(managers see every version, others the current ones), uploads (managers, multipart, up to
MAX_FILE_MB: refusals write nothing), downloads (streamed, ETag, older versions for managers),
share links (made, opened without logging in and counted, read, revoked: 410) and the errors,
always JSON {"error": ...}."""
import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from conftest import make_test_app
from files_helpers import pdf_bytes, png_bytes, pptx_bytes
from inventory.auth import services as auth
from inventory.blobs.models import StoredFile, StoredFileChunk
from inventory.extensions import db
from inventory.files import services as file_rules
from inventory.files.kinds import MARKUP, NOT_ACCEPTED
from inventory.files.models import FileShare, FileShareOpen, ItemFile
from inventory.timeutil import utcnow

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


class Caller:
    """A user of the API with a fresh token of their own."""

    def __init__(self, client, user):
        self.client, self.user = client, user
        _row, self.token = auth.create_token(db.session, user, "tests")
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def get(self, path, headers=None, **kwargs):
        return self.client.get(path, headers={**self.headers, **(headers or {})}, **kwargs)

    def post(self, path, headers=None, **kwargs):
        return self.client.post(path, headers={**self.headers, **(headers or {})}, **kwargs)

    def upload(self, sku, content, filename="brochure.pdf", headers=None, **fields):
        data = {"file": (io.BytesIO(content), filename), **fields}
        return self.post(f"/api/v1/items/{sku}/files", data=data, content_type="multipart/form-data",
                         headers=headers)


@pytest.fixture
def api(client, make_user):
    def make(role="rep", user=None):
        return Caller(client, user or make_user(role))

    return make


def path_of(url):
    """The path of an _external URL the API gave (the test client is asked by path)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def file_rows():
    """The rows an upload writes, to prove a refusal wrote none."""
    db.session.rollback()  # what is committed now
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (ItemFile, StoredFile, StoredFileChunk, FileShare, FileShareOpen)}


def assert_json_error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.is_json, response.content_type
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}
    assert isinstance(body["error"], str) and body["error"]
    return body["error"]


@pytest.fixture
def pen(make_item):
    return make_item("PEN-1", name="Logo pen")


@pytest.fixture
def manager(api):
    return api("manager")


# Upload --------------------------------------------------------------------------------------

def test_a_manager_uploads_a_version_and_gets_its_json(manager, pen):
    content = pdf_bytes(pages=2)
    response = manager.upload("pen-1", content, filename="Expo_brochure 2026.pdf", note="For the expo")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["sku"] == "PEN-1" and body["kind"] == "shareable" and body["version"] == 1
    assert body["current"] is True
    assert body["title"] == "Expo brochure 2026"  # from the file's name when none is given
    assert body["filename"] == "Expo_brochure 2026.pdf"
    assert body["type"] == "pdf" and body["content_type"] == "application/pdf"
    assert body["size"] == len(content)
    import hashlib
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["note"] == "For the expo"
    assert body["uploaded_by"] == manager.user.email
    assert body["uploaded_at"].endswith("Z")
    assert body["download_url"] == f"http://localhost/api/v1/files/{body['id']}"
    assert response.headers["Location"] == body["download_url"]
    assert body["preview_url"] == f"http://localhost/files/{body['id']}/preview"  # a PDF has a first-page preview
    assert body["page_url"] == "http://localhost/i/PEN-1/files"
    row = db.session.get(ItemFile, body["id"])
    assert (row.item_id, row.kind, row.version, row.uploaded_by_id) == (pen.id, "shareable", 1, manager.user.id)


def test_versions_count_up_per_kind(manager, pen):
    first = manager.upload("PEN-1", pdf_bytes(), title="Flyer").get_json()
    second = manager.upload("PEN-1", pdf_bytes(pages=2), title="Flyer").get_json()
    master = manager.upload("PEN-1", pptx_bytes(), filename="deck.pptx", kind="master", title="Print deck")
    assert master.status_code == 201, master.get_data(as_text=True)
    master = master.get_json()
    assert (first["version"], second["version"], master["version"]) == (1, 2, 1)
    assert master["kind"] == "master" and master["type"] == "pptx" and master["preview_url"] is None
    listed = manager.get("/api/v1/items/PEN-1/files").get_json()
    assert [(f["kind"], f["version"], f["current"]) for f in listed["files"]] == [
        ("shareable", 2, True), ("shareable", 1, False), ("master", 1, True)]
    assert listed["current"] == {"shareable": second["id"], "master": master["id"]}


def test_search_finds_the_item_by_its_files_title(manager, pen, make_item):
    make_item("MUG-1", name="Logo mug")
    assert manager.upload("PEN-1", pdf_bytes(), title="Zanzibar roadshow leaflet").status_code == 201
    found = manager.get("/api/v1/items?q=zanzibar").get_json()
    assert [item["sku"] for item in found["items"]] == ["PEN-1"]


def test_an_image_upload(manager, pen):
    response = manager.upload("PEN-1", png_bytes(), filename="logo.png")
    assert response.status_code == 201
    assert response.get_json()["type"] == "png"
    assert response.get_json()["content_type"] == "image/png"


@pytest.mark.parametrize("content, filename, fields, message", [
    (SVG, "logo.svg", {}, MARKUP),
    (HTML, "page.pdf", {}, MARKUP),  # by its content, whatever its name says
    (b"\x00\x01just some bytes" * 50, "data.pdf", {}, NOT_ACCEPTED),
    (b"", "empty.pdf", {}, "That file is empty."),
    (b"%PDF-1.7\nthis is no PDF at all\n%%EOF", "broken.pdf", {}, "damaged"),
    (None, None, {"kind": "poster"}, "Choose which file this is"),
    (None, None, {"title": "x" * 121}, "The title is too long: at most 120 characters."),
    (None, None, {"note": "x" * 2001}, "The note is too long: at most 2,000 characters."),
])
def test_a_refused_upload_says_why_and_writes_nothing(manager, pen, content, filename, fields, message):
    manager.upload("PEN-1", pdf_bytes(), title="Current flyer")
    before = file_rows()
    response = manager.upload("PEN-1", pdf_bytes() if content is None else content, filename=filename or "a.pdf",
                              **fields)
    assert message in assert_json_error(response, 400)
    assert file_rows() == before


def test_an_upload_without_a_file_is_400_in_words(manager, pen):
    before = file_rows()
    message = assert_json_error(manager.post("/api/v1/items/PEN-1/files", data={"title": "No file"}), 400)
    assert "multipart/form-data" in message and "'file'" in message
    message = assert_json_error(manager.post("/api/v1/items/PEN-1/files", json={"file": "abc"}), 400)
    assert "'file'" in message
    as_text = manager.post("/api/v1/items/PEN-1/files", data={"file": "brochure.pdf"}, content_type="multipart/form-data")
    assert "'file' arrived as text, not as a file" in assert_json_error(as_text, 400)
    assert file_rows() == before


def test_an_upload_to_an_archived_item_is_refused(manager, pen, session):
    pen.archived = True
    session.commit()
    assert "archived" in assert_json_error(manager.upload("PEN-1", pdf_bytes()), 400)
    assert file_rows()["item_file"] == 0


@pytest.mark.parametrize("role", ["rep", "staff"])
def test_only_managers_upload(api, pen, role):
    caller = api(role)
    message = assert_json_error(caller.upload("PEN-1", pdf_bytes()), 403)
    assert message == f"Your role ({role}) cannot do this."
    assert file_rows()["item_file"] == 0


def test_an_admin_uploads_too(api, pen):
    assert api("admin").upload("PEN-1", pdf_bytes()).status_code == 201


def test_no_token_is_401(client, pen):
    response = client.post("/api/v1/items/PEN-1/files", data={"file": (io.BytesIO(pdf_bytes()), "a.pdf")})
    assert "Authorization: Bearer" in assert_json_error(response, 401)
    assert_json_error(client.get("/api/v1/items/PEN-1/files"), 401)


def test_an_upload_to_an_unknown_sku_is_404(manager):
    message = assert_json_error(manager.upload("NOPE-9", pdf_bytes()), 404)
    assert message.startswith("No item has the SKU NOPE-9.") and "/api/v1/items?q=" in message


def test_the_upload_view_carries_the_large_upload_mark(app):
    """room_for_files reads the mark from the function the URL map calls (api_roles' wrapper)."""
    assert getattr(app.view_functions["api.upload_item_file"], "large_upload", False) is True
    assert not getattr(app.view_functions["api.share_file"], "large_upload", False)


def big_pdf(megabytes):
    """A real PDF padded past `megabytes` MB (a comment after its end, which readers skip)."""
    content = pdf_bytes()
    return content + b"\n%" + b"0" * (int(megabytes * 1024 * 1024) - len(content))


def test_a_file_over_max_content_length_but_within_max_file_mb_is_taken(app, manager, pen):
    assert app.config["MAX_CONTENT_LENGTH"] == 8 * 1024 * 1024 and app.config["MAX_FILE_MB"] == 50
    content = big_pdf(9)
    response = manager.upload("PEN-1", content, filename="big.pdf")
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    assert response.get_json()["size"] == len(content) > app.config["MAX_CONTENT_LENGTH"] + 1024 * 1024
    download = manager.get(path_of(response.get_json()["download_url"]))
    assert download.status_code == 200 and download.data == content


def test_other_api_posts_keep_max_content_length(app, manager, pen):
    """Only the upload is marked: a 9 MB body elsewhere is still 413, in JSON."""
    version = file_rules.upload(db.session, pen, manager.user, kind="shareable", stream=io.BytesIO(pdf_bytes()),
                                filename="a.pdf")
    response = manager.post(f"/api/v1/files/{version.id}/share", data=b" " * (9 * 1024 * 1024),
                            content_type="application/json")
    assert "too large (8 MB at most)" in assert_json_error(response, 413)


@pytest.fixture
def one_mb_app(app, database_url, tmp_path):
    """The app with MAX_FILE_MB=1, on the same (emptied) database."""
    small = make_test_app(database_url, tmp_path / "small", MAX_FILE_MB=1)
    with small.app_context():
        yield small
        db.session.remove()


@pytest.mark.parametrize("megabytes, status", [(1.5, 400), (3, 413)])
def test_a_file_over_max_file_mb_is_refused_in_words(one_mb_app, make_user, pen, megabytes, status):
    """Within the request's limit (MAX_FILE_MB + 1 MB for the other fields) the rule refuses it
    (400); past it, the form parser does (413). Either way: JSON, the file's limit, nothing kept."""
    caller = Caller(one_mb_app.test_client(), make_user("manager"))
    before = file_rows()
    message = assert_json_error(caller.upload("PEN-1", big_pdf(megabytes)), status)
    assert "1 MB at most" in message
    assert file_rows() == before
    assert caller.upload("PEN-1", pdf_bytes()).status_code == 201  # a small one still goes in


# Listing -------------------------------------------------------------------------------------

@pytest.fixture
def flyers(manager, pen):
    """Version 1 and 2 of the shareable flyer, version 1 of the master: their JSON."""
    return [manager.upload("PEN-1", pdf_bytes(), title="Flyer").get_json(),
            manager.upload("PEN-1", png_bytes(), filename="flyer.png", title="Flyer").get_json(),
            manager.upload("PEN-1", pdf_bytes(), title="Print master", kind="master").get_json()]


@pytest.mark.parametrize("role", ["rep", "staff"])
def test_others_than_managers_see_the_current_version_of_each_kind(api, flyers, role):
    body = api(role).get("/api/v1/items/pen-1/files").get_json()
    assert body["sku"] == "PEN-1"
    assert [(f["id"], f["current"]) for f in body["files"]] == [(flyers[1]["id"], True), (flyers[2]["id"], True)]


def test_managers_see_every_version(manager, flyers):
    body = manager.get("/api/v1/items/PEN-1/files").get_json()
    assert [f["id"] for f in body["files"]] == [flyers[1]["id"], flyers[0]["id"], flyers[2]["id"]]
    assert [f["current"] for f in body["files"]] == [True, False, True]
    listed = body["files"][0]
    assert listed == {**flyers[1], "current": True}  # the same shape as the upload's answer


def test_an_item_without_files_lists_none(api, pen):
    assert api("rep").get("/api/v1/items/PEN-1/files").get_json() == {"sku": "PEN-1", "files": [], "current": {}}


def test_listing_an_unknown_sku_is_404_in_words(api):
    message = assert_json_error(api("rep").get("/api/v1/items/NOPE-1/files"), 404)
    assert "No item has the SKU NOPE-1." in message and "GET /api/v1/items?q=" in message


# Download ------------------------------------------------------------------------------------

def test_download_streams_the_bytes_with_its_headers(api, manager, pen):
    content = pdf_bytes(pages=3)
    body = manager.upload("PEN-1", content, title="Expo brochure").get_json()
    rep = api("rep")
    response = rep.get(path_of(body["download_url"]))
    assert response.status_code == 200
    assert response.data == content
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Length"] == str(len(content))
    assert response.headers["Content-Disposition"] == 'attachment; filename="PEN-1-Expo-brochure-v1.pdf"'
    assert response.headers["ETag"] == f'"{body["sha256"]}"'
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    again = rep.get(path_of(body["download_url"]), headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    other = rep.get(path_of(body["download_url"]), headers={"If-None-Match": '"not-it"'})
    assert other.status_code == 200 and other.data == content


def test_a_download_after_a_keyed_post_is_not_touched_by_idempotency(manager, pen):
    """The API's after_request keeps POST answers with their Idempotency-Key; a streamed file is
    never read by it (nor broken)."""
    content = pdf_bytes()
    body = manager.upload("PEN-1", content, headers={"Idempotency-Key": "upload-1"}).get_json()
    response = manager.get(path_of(body["download_url"]))
    assert response.status_code == 200 and response.is_streamed
    assert response.data == content


def test_an_older_version_is_for_managers(api, manager, flyers):
    old = path_of(flyers[0]["download_url"])
    message = assert_json_error(api("rep").get(old), 403)
    assert "Version 1 of this file has been replaced: only managers open older versions." in message
    assert_json_error(api("staff").get(old), 403)
    assert manager.get(old).status_code == 200
    assert api("rep").get(path_of(flyers[1]["download_url"])).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/files/999", "/api/v1/files/0", "/api/v1/files/2147483648",
                                  "/api/v1/files/abc"])
def test_an_unknown_file_is_404(api, path):
    assert_json_error(api("rep").get(path), 404)


# Share links ---------------------------------------------------------------------------------

def test_a_share_link_opens_without_logging_in_and_counts(app, api, manager, pen):
    content = pdf_bytes()
    version = manager.upload("PEN-1", content, title="Flyer").get_json()
    rep = api("rep")
    response = rep.post(f"/api/v1/files/{version['id']}/share")
    assert response.status_code == 201, response.get_data(as_text=True)
    share = response.get_json()
    assert share["url"].startswith("http://localhost/s/")
    assert response.headers["Location"] == f"http://localhost/api/v1/shares/{share['id']}"
    assert share["state"] == "open" and share["opens"] == 0 and share["first_opened_at"] is None
    assert share["created_by"] == rep.user.email
    assert share["file"] == {**version}
    row = db.session.get(FileShare, share["id"])
    assert row.expires_at - row.created_at == timedelta(days=app.config["SHARE_LINK_DAYS"])
    assert share["expires_at"] == row.expires_at.isoformat() + "Z"

    stranger = app.test_client()  # no token, no cookie
    opened = stranger.get(path_of(share["url"]))
    assert opened.status_code == 200 and opened.data == content
    stranger.get(path_of(share["url"]))
    read = rep.get(f"/api/v1/shares/{share['id']}").get_json()
    assert read["opens"] == 2 and read["state"] == "open"
    assert read["first_opened_at"] and read["last_opened_at"] >= read["first_opened_at"]
    assert len(read["recent_opens"]) == 2 and read["recent_opens"][0] == read["last_opened_at"]

    assert rep.post(f"/api/v1/shares/{share['id']}/revoke").get_json()["state"] == "revoked"
    gone = stranger.get(path_of(share["url"]))
    assert gone.status_code == 410
    assert "withdrawn" in gone.get_data(as_text=True)
    assert rep.get(f"/api/v1/shares/{share['id']}").get_json()["opens"] == 2  # a refused open is not counted


def test_a_share_for_some_days(manager, flyers):
    share = manager.post(f"/api/v1/files/{flyers[1]['id']}/share", json={"days": 30}).get_json()
    row = db.session.get(FileShare, share["id"])
    assert row.expires_at - row.created_at == timedelta(days=30)
    one = manager.post(f"/api/v1/files/{flyers[1]['id']}/share", json={"days": 365})
    assert one.status_code == 201


@pytest.mark.parametrize("body", [{"days": 0}, {"days": 366}, {"days": -3}, {"days": "7"}, {"days": 1.5},
                                  {"days": True}, {"days": 2**63}, [], "7"])
def test_a_share_with_days_out_of_range_is_400(manager, flyers, body):
    before = file_rows()
    message = assert_json_error(manager.post(f"/api/v1/files/{flyers[1]['id']}/share", json=body), 400)
    assert "365" in message or "JSON object" in message
    assert file_rows() == before


def test_an_expired_link_says_so(app, api, flyers):
    rep = api("rep")
    share = rep.post(f"/api/v1/files/{flyers[1]['id']}/share", json={"days": 1}).get_json()
    row = db.session.get(FileShare, share["id"])
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert rep.get(f"/api/v1/shares/{share['id']}").get_json()["state"] == "expired"
    gone = app.test_client().get(path_of(share["url"]))
    assert gone.status_code == 410 and "expired" in gone.get_data(as_text=True)


def test_a_rep_cannot_share_an_older_version(api, flyers):
    before = file_rows()
    message = assert_json_error(api("rep").post(f"/api/v1/files/{flyers[0]['id']}/share"), 403)
    assert "only managers open older versions" in message
    assert file_rows() == before


def test_a_link_is_read_and_ended_by_its_maker_or_a_manager(api, manager, flyers):
    maker, other = api("rep"), api("rep")
    share = maker.post(f"/api/v1/files/{flyers[1]['id']}/share").get_json()
    assert "Only whoever made a share link" in assert_json_error(other.get(f"/api/v1/shares/{share['id']}"), 403)
    assert_json_error(other.post(f"/api/v1/shares/{share['id']}/revoke"), 403)
    assert db.session.get(FileShare, share["id"]).revoked_at is None
    assert manager.get(f"/api/v1/shares/{share['id']}").status_code == 200
    ended = manager.post(f"/api/v1/shares/{share['id']}/revoke")
    assert ended.status_code == 200 and ended.get_json()["state"] == "revoked"
    db.session.rollback()
    row = db.session.get(FileShare, share["id"])
    assert row.revoked_at is not None and row.revoked_by_id == manager.user.id
    assert manager.post(f"/api/v1/shares/{share['id']}/revoke").get_json()["revoked_at"] == ended.get_json()["revoked_at"]


@pytest.mark.parametrize("path", ["/api/v1/shares/999", "/api/v1/shares/0", "/api/v1/shares/2147483648"])
def test_an_unknown_share_is_404(api, path):
    assert_json_error(api("rep").get(path), 404)
    assert_json_error(api("manager").post(path + "/revoke"), 404)


def test_sharing_an_unknown_file_is_404(api):
    assert_json_error(api("rep").post("/api/v1/files/999/share"), 404)
    assert file_rows()["file_share"] == 0


# Idempotency-Key on an upload ------------------------------------------------------------------

def test_an_upload_sent_again_with_its_key_is_kept_once(manager, pen):
    content = pdf_bytes()  # the same bytes: a PDF's ID differs each time one is made
    first = manager.upload("PEN-1", content, title="Flyer", headers={"Idempotency-Key": "flyer-1"})
    again = manager.upload("PEN-1", content, title="Flyer", headers={"Idempotency-Key": "flyer-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == first.get_json()
    assert file_rows()["item_file"] == 1


def test_the_same_key_with_another_file_is_422(manager, pen):
    """The fingerprint reads the upload's contents (the form is parsed before the view runs, so
    the raw body is gone): another file under the same key is another request."""
    content = pdf_bytes()
    assert manager.upload("PEN-1", content, headers={"Idempotency-Key": "k-1"}).status_code == 201
    other = manager.upload("PEN-1", png_bytes(), filename="brochure.pdf", headers={"Idempotency-Key": "k-1"})
    assert "different request" in assert_json_error(other, 422)
    retitled = manager.upload("PEN-1", content, title="Other", headers={"Idempotency-Key": "k-1"})
    assert_json_error(retitled, 422)
    assert file_rows()["item_file"] == 1
