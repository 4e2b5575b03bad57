"""Start-up, configuration, migrations, the health check and the operator commands."""
import os
import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from inventory import create_app
from inventory.core.schema import SchemaOutOfDate, ensure_schema
from inventory.extensions import db
from tests.conftest import PASSWORD


def test_healthz_says_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_gone(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"].startswith("unreachable")


def test_the_migrations_match_the_models(app):
    """A model change without a migration fails here."""
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SKIP_SCHEMA_CHECK": True})


def test_an_unmigrated_configured_database_is_refused_with_the_command_to_run(tmp_path, monkeypatch):
    url = "sqlite:///" + str(tmp_path / "empty.sqlite3")
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(SchemaOutOfDate, match="flask --app inventory db upgrade"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_the_embedded_default_database_migrates_itself_on_first_start(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith(os.path.join(str(tmp_path), "inventory.sqlite3"))
    with app.app_context():
        ensure_schema(app)  # at head now: nothing to do, no error
    assert app.test_client().get("/healthz").status_code == 200
    tables = {r[0] for r in sqlite3.connect(tmp_path / "inventory.sqlite3").execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"user", "item", "bin", "movement", "stock_level", "alembic_version"} <= tables


def test_database_url_accepts_plain_postgresql_urls(tmp_path, monkeypatch):
    from inventory.config import from_environment

    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/inventory")
    assert from_environment(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/inventory"


def test_previous_base_urls_are_a_comma_separated_list(tmp_path, monkeypatch):
    from inventory.config import from_environment

    monkeypatch.setenv("PREVIOUS_BASE_URLS", " https://stock.example.com/ ,, http://old.example.com/stock")
    assert from_environment(str(tmp_path))["PREVIOUS_BASE_URLS"] == ["https://stock.example.com",
                                                                      "http://old.example.com/stock"]
    monkeypatch.delenv("PREVIOUS_BASE_URLS")
    assert from_environment(str(tmp_path))["PREVIOUS_BASE_URLS"] == []
    # One that could never match is refused at start-up, by name.
    monkeypatch.setenv("PREVIOUS_BASE_URLS", "https://stock.example.com, stock.example.com")
    with pytest.raises(RuntimeError, match="PREVIOUS_BASE_URLS: 'stock.example.com' is not an address"):
        from_environment(str(tmp_path))


def test_seed_demo_fills_an_empty_database_and_a_second_run_prints_the_logins_again(runner, client):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "rep@example.com" in result.output and "demo-rep-2026" in result.output
    assert runner.invoke(args=["check"]).exit_code == 0
    with count_rows() as before:
        again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert again.output.startswith("Demo data already there; nothing changed.")
    assert "rep@example.com" in again.output and "demo-rep-2026" in again.output
    assert "manager@example.com" in again.output and "demo-manager-2026" in again.output
    assert before() == before.rows  # nothing seeded twice
    client.post("/login", data={"email": "rep@example.com", "password": "demo-rep-2026"})
    html = client.get("/catalog?q=navy").get_data(as_text=True)
    assert "Navy polo" in html and 'class="size">XXL<' in html
    assert client.get("/b/A-01-1").status_code == 200


def test_seed_demo_refuses_a_database_with_other_data_and_changes_nothing(runner, make_user):
    make_user("manager", email="boss@example.com")
    make_user("rep", email="rep@example.com")  # one demo address is not the demo
    with count_rows() as before:
        result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "already has data; seed-demo only fills an empty one" in result.output
    assert "demo-rep-2026" not in result.output
    assert before() == before.rows


class count_rows:
    """Rows per table before and after: `with count_rows() as before: ...; before() == before.rows`."""

    def __enter__(self):
        self.rows = self()
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self):
        from sqlalchemy import func, select

        from inventory.extensions import db
        db.session.rollback()
        return {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables}


def test_create_token_command_prints_a_working_token(runner, make_user, client):
    user = make_user("staff")
    result = runner.invoke(args=["create-token", user.email])
    assert result.exit_code == 0
    token = result.output.strip()
    assert client.get("/api/v1/items", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert runner.invoke(args=["create-token", "nobody@example.com"]).exit_code != 0


def test_backup_writes_a_consistent_copy_of_sqlite(app, runner, make_item, tmp_path):
    if db.engine.dialect.name != "sqlite":
        result = runner.invoke(args=["backup", str(tmp_path / "copy.sqlite3")])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    make_item("PEN-1", on_hand=3)
    target = tmp_path / "copy.sqlite3"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT sku FROM item").fetchall() == [("PEN-1",)]
    assert copy.execute("SELECT quantity FROM stock_level").fetchall() == [(3,)]
    assert runner.invoke(args=["backup", str(target)]).exit_code != 0  # never overwrites


def test_error_pages_are_friendly_not_tracebacks(client, login):
    login("rep")
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "Not found" in response.get_data(as_text=True)
    assert client.post("/catalog").status_code == 405
    assert PASSWORD


def test_ids_and_pages_past_what_the_database_holds_are_clean_refusals(client, login, session, make_user):
    from inventory.auth.services import create_token

    login("manager")
    assert client.get("/catalog/p/99999999999").status_code == 404
    assert client.get("/catalog?page=99999999999999").status_code == 200
    token = create_token(session, make_user("staff"), "t")[1]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/items?page=99999999999999", headers=headers).status_code == 400
    assert client.get("/api/v1/bins?page=99999999999999", headers=headers).status_code == 400


def test_an_upload_over_the_limit_gets_a_page_that_says_so(app, client, login):
    login("manager")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        response = client.post("/profile", data={"token-label": "x" * 5000})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 8 * 1024 * 1024
    assert response.status_code == 413
    assert "The upload is too large" in response.get_data(as_text=True)
