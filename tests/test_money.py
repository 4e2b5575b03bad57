"""Money shown with its currency: the CURRENCY and LOCALE settings, the one formatter (the `money`
filter and money()), and the pages that show amounts, in dollars and in euros. CSV and the API keep
plain numbers; the API names the currency."""
from decimal import Decimal

import pytest
from flask import render_template_string

from inventory import create_app
from inventory.auth.services import create_token
from inventory.config import from_environment
from inventory.core.money import MoneyFormatter, money
from inventory.events import kits
from inventory.extensions import db
from inventory.purchasing import services as purchasing
from tests.conftest import empty_database, make_test_app

NBSP = "\xa0"  # CLDR puts a no-break space between a German amount and its sign


def test_dollars_in_us_english_and_euros_in_german():
    assert MoneyFormatter("USD", "en_US")(Decimal("1234.5")) == "$1,234.50"
    assert MoneyFormatter("EUR", "de_DE")(Decimal("1234.5")) == f"1.234,50{NBSP}€"
    assert MoneyFormatter("EUR", "de_DE")(1234.5) == f"1.234,50{NBSP}€"
    assert MoneyFormatter("GBP", "en_GB")(0) == "£0.00"
    assert MoneyFormatter("USD", "en_US")(Decimal("-3")) == "-$3.00"
    # The currency's own decimals: yen have none.
    assert MoneyFormatter("JPY", "ja_JP")(Decimal("1450.00")) == "￥1,450"
    assert MoneyFormatter()(None) == ""  # no amount: nothing shown
    assert MoneyFormatter("EUR", "de_DE").number(1142) == "1.142"


def test_currency_and_locale_default_to_dollars_in_us_english(tmp_path, monkeypatch):
    monkeypatch.delenv("CURRENCY", raising=False)
    monkeypatch.delenv("LOCALE", raising=False)
    config = from_environment(str(tmp_path))
    assert (config["CURRENCY"], config["LOCALE"]) == ("USD", "en_US")
    monkeypatch.setenv("CURRENCY", " eur ")
    monkeypatch.setenv("LOCALE", "de-DE")
    config = from_environment(str(tmp_path))
    assert (config["CURRENCY"], config["LOCALE"]) == ("EUR", "de_DE")
    monkeypatch.setenv("LOCALE", "fr_FR.UTF-8")  # as LANG writes it
    assert from_environment(str(tmp_path))["LOCALE"] == "fr_FR"


@pytest.mark.parametrize("name, value, message", [
    ("CURRENCY", "EURO", "CURRENCY: 'EURO' is not an ISO 4217 currency code"),
    ("CURRENCY", "XYZ", "CURRENCY: 'XYZ' is not an ISO 4217 currency code"),
    ("CURRENCY", "$", "CURRENCY: '\\$' is not an ISO 4217 currency code"),
    ("LOCALE", "german", "LOCALE: 'german' is not a locale"),
    ("LOCALE", "xx_YY", "LOCALE: 'xx_YY' is not a locale"),
])
def test_a_bad_currency_or_locale_is_refused_at_start_up_by_name(tmp_path, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=message):
        from_environment(str(tmp_path))
    with pytest.raises(RuntimeError, match=message):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")})


def test_a_bad_currency_in_the_app_config_is_refused_too(tmp_path):
    with pytest.raises(RuntimeError, match="CURRENCY: 'EURO' is not an ISO 4217 currency code"):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "CURRENCY": "EURO"})


def test_the_filter_and_the_function_are_the_apps_one_formatter(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path / "instance", CURRENCY="EUR", LOCALE="de_DE")
    with app.test_request_context():
        assert app.jinja_env.filters["money"] is app.extensions["money"]
        assert money(Decimal("2250")) == f"2.250,00{NBSP}€"
        assert render_template_string("{{ 0.5|money }} · {{ 1142|number }}") == f"0,50{NBSP}€ · 1.142"
        assert render_template_string("{{ none|money }}") == ""


# The pages, once in dollars (the default) and once in euros written the German way.
SHOWN = {
    ("USD", "en_US"): {"unit": "$0.85", "total": "$2,250.00", "line": "$1,700.00", "stock": "$1,275.00",
                       "label": "Unit cost (USD)"},
    ("EUR", "de_DE"): {"unit": f"0,85{NBSP}€", "total": f"2.250,00{NBSP}€", "line": f"1.700,00{NBSP}€",
                       "stock": f"1.275,00{NBSP}€", "label": "Unit cost (EUR)"},
}


@pytest.fixture(params=list(SHOWN), ids=lambda p: p[0])
def app(request, database_url, tmp_path):
    """The usual app (see conftest.py) in each currency of SHOWN."""
    currency, locale = request.param
    app = make_test_app(database_url, tmp_path / "instance", CURRENCY=currency, LOCALE=locale)
    app.shown = SHOWN[request.param]
    with app.app_context():
        empty_database()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def brochures(make_item):
    """1,500 brochures at 0.85 on hand (1,275.00), and a flyer at 0.11 (none on hand)."""
    brochure = make_item("BRO-ATLAS-26", name="Atlas brochure", category="print", on_hand=1500, bin="B-01",
                         supplier="PrintWorks Ltd", unit_cost=Decimal("0.85"))
    flyer = make_item("FLY-ATLAS", name="Atlas one-pager", category="print", supplier="PrintWorks Ltd",
                      unit_cost=Decimal("0.11"))
    return brochure, flyer


def test_the_po_page_shows_line_and_order_totals_in_the_currency(app, client, login, session, brochures):
    manager = login("manager")
    order = purchasing.create(session, manager, lines=[("BRO-ATLAS-26", 2000, None), ("FLY-ATLAS", 5000, "0.11")])
    html = client.get(f"/purchase-orders/{order.id}").get_data(as_text=True)
    assert f"{app.shown['unit']} each · {app.shown['line']}" in html  # 2,000 x 0.85
    assert f"Total <strong>{app.shown['total']}</strong>" in html
    form = client.get(f"/purchase-orders/{order.id}/edit").get_data(as_text=True)
    assert app.shown["label"] in form
    assert 'value="0.85"' in form  # typed as a plain number, whatever the locale


def test_the_item_page_shows_the_unit_cost_in_the_currency(app, client, login, brochures):
    login("manager")
    html = client.get("/i/BRO-ATLAS-26").get_data(as_text=True)
    assert f"<dt>Unit cost</dt><dd>{app.shown['unit']}</dd>" in html
    edit = client.get("/i/BRO-ATLAS-26/edit").get_data(as_text=True)
    assert app.shown["label"] in edit and 'value="0.85"' in edit


def test_the_reports_show_amounts_in_the_currency(app, client, login, brochures):
    login("manager")
    html = client.get("/reports").get_data(as_text=True)
    assert f"{app.shown['stock']} on hand now" in html
    value = client.get("/reports/stock-value").get_data(as_text=True)
    assert f'<span class="stat-value">{app.shown["stock"]}</span>' in value
    # The CSV keeps a plain number for spreadsheets, whatever the currency.
    csv = client.get("/reports/stock-value.csv").get_data(as_text=True)
    assert "1275.00" in csv and "€" not in csv and "$" not in csv


def test_the_api_keeps_plain_numbers_and_names_the_currency(app, client, session, make_user, brochures):
    manager = make_user("manager")
    token = create_token(session, manager, "test")[1]
    order = purchasing.create(session, manager, lines=[("BRO-ATLAS-26", 2000, None), ("FLY-ATLAS", 5000, "0.11")])
    headers = {"Authorization": f"Bearer {token}"}
    currency = app.extensions["money"].currency
    body = client.get(f"/api/v1/purchase-orders/{order.id}", headers=headers).get_json()
    assert (body["total_cost"], body["currency"]) == ("2250.00", currency)
    item = client.get("/api/v1/items/BRO-ATLAS-26", headers=headers).get_json()
    assert (item["unit_cost"], item["currency"]) == ("0.85", currency)



def test_the_kit_pages_show_what_a_kit_is_worth_in_the_currency(app, client, login, session, brochures):
    manager = login("manager")
    kit = kits.create_kit(session, manager, name="Handouts", lines=[("BRO-ATLAS-26", 2000), ("FLY-ATLAS", 10)])
    worth = {"USD": "$1,701.10", "EUR": f"1.701,10{NBSP}€"}[app.extensions["money"].currency]
    assert f"worth {worth} at unit cost" in client.get(f"/kits/{kit.id}").get_data(as_text=True)
    assert f"worth {worth}" in client.get("/kits").get_data(as_text=True)
