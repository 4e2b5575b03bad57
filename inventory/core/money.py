"""Money as people read it: an amount in the CURRENCY setting, written the way LOCALE writes it
("$1,234.50" for USD in en_US, "1.234,50 €" for EUR in de_DE), with Babel's CLDR data.

One formatter per app, made at start-up: parsing a locale is not free, and a report page formats
many amounts. Pages use the `money` filter, e-mails and commands `money(amount)`; both are
the same formatter. CSV files and the JSON API keep plain numbers: machines read those.
"""
from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal, is_currency
from flask import current_app

DEFAULT_CURRENCY = "USD"
DEFAULT_LOCALE = "en_US"


def currency_code(value, name="CURRENCY"):
    """An ISO 4217 code ("usd" reads as USD); anything else is refused, naming the setting, so a
    typo stops the app at start-up instead of printing amounts in a currency nobody meant."""
    code = (value or DEFAULT_CURRENCY).strip().upper()
    if not is_currency(code):
        raise RuntimeError(f"{name}: {value!r} is not an ISO 4217 currency code like USD, EUR or GBP")
    return code


def locale_name(value, name="LOCALE"):
    """A locale Babel knows, such as en_US or de_DE ("de-DE" and "de_DE.UTF-8", as LANG writes it,
    read as de_DE); anything else is refused, naming the setting."""
    text = (value or DEFAULT_LOCALE).strip().split(".", 1)[0].replace("-", "_")
    try:
        return str(Locale.parse(text))
    except (ValueError, TypeError, UnknownLocaleError):
        raise RuntimeError(f"{name}: {value!r} is not a locale like en_US or de_DE") from None


class MoneyFormatter:
    """Formats amounts in one currency for one locale. Made once per app (see init_app)."""

    def __init__(self, currency=DEFAULT_CURRENCY, locale=DEFAULT_LOCALE):
        self.currency = currency_code(currency)
        self.locale = Locale.parse(locale_name(locale))

    def __call__(self, amount):
        """'$1,234.50': the amount with its currency, rounded to the currency's own decimals. None
        (no amount) is shown as nothing."""
        if amount is None:
            return ""
        return format_currency(amount, self.currency, locale=self.locale)

    def number(self, value):
        """'1,234' in en_US, '1.234' in de_DE: a count written the way the amounts beside it are."""
        return format_decimal(value or 0, locale=self.locale)

    def __repr__(self):
        return f"<MoneyFormatter {self.currency} {self.locale}>"


def formatter(app=None):
    """The app's formatter (the current app's when none is given)."""
    return (app or current_app).extensions["money"]


def currency():
    """The current app's currency code, such as USD: what its amounts are in."""
    return formatter().currency


def money(amount):
    """An amount in the current app's currency and locale, for e-mails and commands; templates use
    the `money` filter, which is the same formatter."""
    return formatter()(amount)


def init_app(app):
    """Make the app's formatter from CURRENCY and LOCALE (checked again here: tests and callers may
    set them without the environment) and register the `money` and `number` filters."""
    money_formatter = MoneyFormatter(app.config.get("CURRENCY"), app.config.get("LOCALE"))
    app.config["CURRENCY"], app.config["LOCALE"] = money_formatter.currency, str(money_formatter.locale)
    app.extensions["money"] = money_formatter
    app.jinja_env.filters["money"] = money_formatter
    app.jinja_env.filters["number"] = money_formatter.number
