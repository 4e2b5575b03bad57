"""Fixtures: a migrated database (SQLite by default, PostgreSQL when TEST_DATABASE_URL is set),
emptied before every test, an app and client per test, and factories with sensible defaults."""
import os

import flask_migrate
import pytest
from sqlalchemy import create_engine, make_url, text

from inventory import MIGRATIONS, create_app
from inventory.auth import services as auth
from inventory.bins import services as bins
from inventory.bins.models import Bin
from inventory.catalog import services as catalog
from inventory.config import normalize_database_url
from inventory.extensions import db
from inventory.stock import services as stock
from mail_server import MailServer

PASSWORD = "correct-horse-42"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """argon2id with tiny costs: the same algorithm and code path, hundreds of times faster.
    Production keeps argon2-cffi's recommended parameters."""
    from argon2 import PasswordHasher

    from inventory.auth import services as auth_services

    original = auth_services._hasher
    auth_services._hasher = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    yield
    auth_services._hasher = original


def _scratch_postgres_database(url):
    """A fresh database for this run beside the one TEST_DATABASE_URL names, so that two runs on
    one server never share tables. Falls back to the named database when we may not create one."""
    url = make_url(normalize_database_url(url))
    name = f"{url.database}_run_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # no CREATEDB right: use the named database itself
        return url.render_as_string(hide_password=False), lambda: None
    finally:
        admin.dispose()

    def drop():
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """One database per test run, built by the real migrations (so they are tested too)."""
    if os.environ.get("TEST_DATABASE_URL"):
        url, drop = _scratch_postgres_database(os.environ["TEST_DATABASE_URL"])
    else:
        url, drop = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3"), (lambda: None)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test",
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance"))})
    with app.app_context():
        with db.engine.begin() as connection:
            db.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        flask_migrate.upgrade(directory=MIGRATIONS)
        db.engine.dispose()
    yield url
    drop()


def empty_database():
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            # A foreign key made after both tables (use_alter: team.approver_id, in a cycle with
            # user.team_id) is left out of the tables' order: empty it first.
            for table in db.metadata.sorted_tables:
                for key in table.foreign_keys:
                    if key.use_alter:
                        connection.execute(text(f'UPDATE "{table.name}" SET "{key.parent.name}" = NULL'))
            for table in tables:
                connection.execute(text(f'DELETE FROM "{table}"'))


def make_test_app(database_url, instance_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "INSTANCE_PATH": str(instance_path),
        "EMBEDDED_DATABASE": False,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path / "instance")
    with app.app_context():
        empty_database()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    counter = {"n": 0}

    def make(role="rep", email=None, password=PASSWORD, name=""):
        counter["n"] += 1
        email = email or f"{role}{counter['n']}@example.com"
        return auth.create_user(db.session, email, role, password, name=name)

    return make


@pytest.fixture
def make_bin(app):
    def make(code="A-01", name="", zone="Stockroom A"):
        existing = db.session.query(Bin).filter_by(code=code.upper()).first()
        return existing or bins.create_bin(db.session, code, name, zone)

    return make


@pytest.fixture
def stock_user(make_user):
    """The staff member factories book stock as."""
    cache = {}

    def get():
        if "user" not in cache:
            cache["user"] = make_user("staff", email="factory-staff@example.com")
        return cache["user"]

    return get


@pytest.fixture
def make_item(app, make_bin, stock_user):
    """make_item(sku="PEN-1", on_hand=10, bin="A-01") -> Item, with stock received into the bin."""

    def make(sku="PEN-1", name=None, category="promo", on_hand=0, bin="A-01", **fields):
        product = catalog.create_product(db.session, name=name or f"Item {sku}", category=category, sku=sku, **fields)
        item = product.items[0]
        if on_hand:
            stock.receive(db.session, item, make_bin(bin), on_hand, stock_user())
        return item

    return make


@pytest.fixture
def make_product(app, make_bin, stock_user):
    """make_product("Navy polo", "POLO-NAVY", sizes={"S": 3, "M": 5}) -> Product, stock in bin A-01."""

    def make(name="Navy polo", sku="POLO-NAVY", sizes=None, category="apparel", bin="A-01", **fields):
        sizes = sizes or {"S": 0, "M": 0, "L": 0}
        product = catalog.create_product(db.session, name=name, category=category, sku=sku, sizes=list(sizes),
                                         **fields)
        for item in product.items:
            if sizes[item.size]:
                stock.receive(db.session, item, make_bin(bin), sizes[item.size], stock_user())
        return product

    return make


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, user_or_email, password=PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        return self.client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth_client(client):
    return AuthActions(client)


def carry_session(client, *base_urls):
    """Send the logged-in test client's session cookie to these other addresses too: the test
    client keeps cookies per host, as a browser does, and a login on localhost is not one on
    127.0.0.1. (For tests that ask the same app under several addresses.)"""
    from urllib.parse import urlsplit

    value = client.get_cookie("session").value
    for url in base_urls:
        client.set_cookie("session", value, domain=urlsplit(url).hostname)


@pytest.fixture
def login(client, make_user):
    """login("staff") -> the user, with the test client logged in as a new user of that role."""

    def do(role="rep", **kwargs):
        user = make_user(role, **kwargs)
        response = AuthActions(client).login(user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return do


@pytest.fixture
def smtp(app):
    """A real SMTP server (aiosmtpd on loopback) that the app sends to, with links built from
    https://stock.example.com and no ALERT_RECIPIENTS; `smtp.messages` holds what arrived."""
    server = MailServer()
    server.start()
    app.config.update(server.config(), BASE_URL="https://stock.example.com", ALERT_RECIPIENTS=[])
    yield server
    server.stop()
