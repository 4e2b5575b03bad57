"""Two app hosts on one PostgreSQL serve each other's files: a file's bytes live in the database
(blobs/), never on one host's disk.

Two gunicorn servers run the app as separate processes, each in its own working directory with
its own instance folder (nothing on disk in common), on the test database with the same
SECRET_KEY, as two hosts behind a load balancer would. A manager logs in on A and uploads a
PDF through A's files page (the real multipart form, CSRF token and all); a rep logs in on B and
downloads it, its preview too, from B: the same bytes and the same ETag as A serves, and B answers
A's ETag with a 304. A share link made on A opens on B for a client with no cookies, and the open
is counted once.

PostgreSQL only: on SQLite both processes would open the one database file on one disk, so the
test would prove nothing about separate hosts."""
import hashlib
import os
import re
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from files_helpers import pdf_bytes
from inventory import ROOT
from inventory.files.models import FileShare, ItemFile

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="PostgreSQL only (set TEST_DATABASE_URL): two hosts share a database server, not a disk; "
           "on SQLite both processes would read the one database file on this disk, which proves nothing")
SECRET = "two-hosts-secret"
PASSWORD = "correct-horse-42"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Host:
    """The app under gunicorn (two workers) in its own folder, with its own instance folder."""

    def __init__(self, name, database_url, folder):
        self.name, self.port = name, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.instance = folder / "instance"
        folder.mkdir()
        env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY=SECRET, PYTHONPATH=ROOT)
        for name_ in ("TEST_DATABASE_URL", "BASE_URL", "FLASK_DEBUG"):
            env.pop(name_, None)
        self.log = open(folder / "gunicorn.log", "w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{self.port}",
             "--config", os.path.join(ROOT, "gunicorn.conf.py"),
             f"inventory:create_app({{'INSTANCE_PATH': {str(self.instance)!r}}})"],
            cwd=folder, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"host {name} did not start:\n{self.output()}")
            time.sleep(0.2)

    def output(self):
        self.log.seek(0)
        return self.log.read()[-3000:]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()


def csrf_token(html):
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def logged_in(host, email):
    """A requests session logged in on `host` through its login form."""
    browser = requests.Session()
    token = csrf_token(browser.get(host.url + "/login").text)
    response = browser.post(host.url + "/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                            allow_redirects=False)
    assert response.status_code == 302, response.text[:500]
    return browser


@pytest.fixture
def hosts(app, database_url, tmp_path):
    """Hosts A and B, started after the test's data is written."""
    started = []

    def start():
        for name in ("a", "b"):
            started.append(Host(name, database_url, tmp_path / f"host-{name}"))
        return started

    yield start
    for host in started:
        host.stop()


def test_a_file_uploaded_on_one_host_is_served_by_another(app, session, make_user, make_item, hosts):
    make_user("manager", email="manager@example.com")
    make_user("rep", email="rep@example.com")
    make_item("FLY-EXPO", name="Expo flyer", category="print")
    session.remove()
    host_a, host_b = hosts()
    assert host_a.instance != host_b.instance
    content = pdf_bytes(pages=3)

    # On A: the manager uploads the flyer through the files page's form.
    manager = logged_in(host_a, "manager@example.com")
    page = manager.get(host_a.url + "/i/FLY-EXPO/files")
    assert page.status_code == 200
    response = manager.post(host_a.url + "/i/FLY-EXPO/files", allow_redirects=False,
                            data={"csrf_token": csrf_token(page.text), "kind": "shareable", "title": "Expo flyer 2026",
                                  "note": "Uploaded on host A"},
                            files={"file": ("expo-flyer.pdf", content, "application/pdf")})
    assert response.status_code == 302, response.text[:2000]
    version = session.scalar(select(ItemFile).where(ItemFile.title == "Expo flyer 2026"))
    assert version is not None and version.version == 1 and version.preview_id is not None
    file_id = version.id
    session.remove()
    from_a = manager.get(f"{host_a.url}/files/{file_id}")
    assert from_a.status_code == 200 and from_a.content == content
    etag = from_a.headers["ETag"]
    assert etag == f'"{hashlib.sha256(content).hexdigest()}"'

    # Nothing was written to either host's instance folder (no file, no preview, no database).
    assert os.listdir(host_a.instance) == [] and os.listdir(host_b.instance) == []

    # On B: a rep, logged in there, downloads it and its preview.
    rep = logged_in(host_b, "rep@example.com")
    item_page = rep.get(host_b.url + "/i/FLY-EXPO")
    assert item_page.status_code == 200 and f"/files/{file_id}/preview" in item_page.text
    from_b = rep.get(f"{host_b.url}/files/{file_id}")
    assert from_b.status_code == 200, from_b.status_code
    assert from_b.content == content
    assert from_b.headers["ETag"] == etag
    assert from_b.headers["Content-Length"] == str(len(content))
    assert from_b.headers["Content-Disposition"].startswith('attachment; filename="FLY-EXPO-Expo-flyer-2026-v1.pdf"')
    again = rep.get(f"{host_b.url}/files/{file_id}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    preview_a = manager.get(f"{host_a.url}/files/{file_id}/preview")
    preview_b = rep.get(f"{host_b.url}/files/{file_id}/preview")
    assert preview_b.status_code == 200 and preview_b.headers["Content-Type"] == "image/jpeg"
    assert preview_b.content == preview_a.content and preview_b.content[:3] == b"\xff\xd8\xff"
    assert preview_b.headers["ETag"] == preview_a.headers["ETag"]

    # A share link made on A (the Share button's request) opens on B, for a client without cookies.
    shared = manager.post(f"{host_a.url}/files/{file_id}/share", headers={"Accept": "application/json"},
                          data={"csrf_token": csrf_token(manager.get(host_a.url + "/i/FLY-EXPO").text)})
    assert shared.status_code == 200, shared.text[:500]
    link = urlsplit(shared.json()["url"])
    assert link.netloc == f"127.0.0.1:{host_a.port}" and link.path.startswith("/s/")
    client = requests.get(f"{host_b.url}{link.path}", allow_redirects=False)
    assert client.status_code == 200, client.status_code
    assert client.content == content and client.headers["ETag"] == etag
    assert client.headers["Content-Disposition"].startswith("inline;")
    assert [(row.item_file_id, row.opens) for row in session.scalars(select(FileShare))] == [(file_id, 1)]
    session.remove()
    # A link whose signature is not the hosts' SECRET_KEY's opens nothing on either.
    forged = link.path[:-4] + ("AAAA" if not link.path.endswith("AAAA") else "BBBB")
    assert requests.get(f"{host_b.url}{forged}").status_code == 404
