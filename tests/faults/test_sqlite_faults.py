"""SQLite on a read-only file or a full disk: writes answer 503 saying so, nothing is half
written, reads keep working, /healthz says it, and the app recovers once the disk has room.

These use SQLite files of their own, so they run in both the SQLite and the PostgreSQL run."""
import os
import subprocess

import flask_migrate
import pytest
from sqlalchemy import func, select

from inventory import MIGRATIONS
from inventory.auth import services as auth
from inventory.bins import services as bins
from inventory.catalog import services as catalog
from inventory.extensions import db
from inventory.stock import services as stock
from inventory.stock.models import Movement
from tests.conftest import PASSWORD, make_test_app
from tests.faults.common import logged_in, receive


def _world(url, instance):
    """A migrated SQLite database with a staff user (and their API token), a bin and an item."""
    app = make_test_app(url, instance)
    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS)
        user = auth.create_user(db.session, "sam@example.com", "staff", PASSWORD)
        token = auth.create_token(db.session, user, "test")[1]
        shelf = bins.create_bin(db.session, "A-01", "", "Stockroom A")
        item = catalog.create_product(db.session, name="Pen", category="promo", sku="PEN-1").items[0]
        stock.receive(db.session, item, shelf, 10, user)
    return app, token


def _movements(app):
    with app.app_context():
        try:
            return db.session.scalar(select(func.count(Movement.id)))
        finally:
            db.session.remove()


def test_a_read_only_database_file_answers_writes_with_503_and_keeps_serving_reads(tmp_path):
    path = tmp_path / "stock.sqlite3"
    writable, token = _world(f"sqlite:///{path}", tmp_path / "rw")
    cookie = logged_in(writable).get_cookie("session").value
    with writable.app_context():
        db.engine.dispose()
    before = _movements(writable)

    read_only = make_test_app(f"sqlite:///file:{path}?mode=ro&uri=true", tmp_path / "ro")
    client = read_only.test_client()
    client.set_cookie("session", cookie)
    assert client.get("/catalog").status_code == 200  # reads work, signed in as before
    api_read = client.get("/api/v1/items", headers={"Authorization": f"Bearer {token}"})
    assert api_read.status_code == 200  # the token's last-used note is best effort

    answer = receive(client, token)
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert "cannot be written (disk full or read-only)" in answer.get_json()["error"]
    page = client.post("/stock/receive", data={"sku": "PEN-1", "bin": "A-01", "quantity": "3"})
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "cannot be written (disk full or read-only)" in html and "Try again in a moment" in html
    assert "Something went wrong" not in html
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["database"].startswith("not writable")
    assert _movements(writable) == before


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB file system of its own (tmpfs) for the database, which a test can fill up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True,
                            text=True)
    if result.returncode != 0:
        if os.environ.get("REQUIRE_FAULT_TESTS"):
            pytest.fail(f"cannot mount a tmpfs for the full-disk test: {result.stderr.strip()}")
        pytest.skip(f"mounting a small tmpfs needs root: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(directory):
    """Fill the file system up to the last byte; returns the filler file."""
    filler = directory / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 512, 1):
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(descriptor)
    return filler


def test_a_full_disk_answers_writes_with_503_and_recovers_when_there_is_room(small_disk, tmp_path):
    app, token = _world(f"sqlite:///{small_disk / 'stock.sqlite3'}", tmp_path / "instance")
    client = logged_in(app)
    assert receive(client, token).status_code == 201
    before = _movements(app)
    filler = _fill(small_disk)

    answers = [receive(client, token, quantity=n) for n in range(1, 4)]
    assert {a.status_code for a in answers} == {503}, [a.get_data(as_text=True)[:200] for a in answers]
    assert all("disk full or read-only" in a.get_json()["error"] for a in answers)
    assert client.get("/catalog").status_code == 200  # reading goes on
    assert client.get("/healthz").status_code == 503

    filler.unlink()  # space is back
    assert receive(client, token, quantity=7).status_code == 201
    assert _movements(app) == before + 1
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["check"]).exit_code == 0
