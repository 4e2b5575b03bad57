"""Configuration from environment variables (and a `.env` file), as docs/design.md ("Configuration") lists them."""
import os
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from .budgets.periods import period_kind
from .core.money import currency_code, locale_name


def _bool(value, default=False):
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value, default):
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        raise RuntimeError(f"expected a whole number, got {value!r}") from None


def _bounded(value, default, name, low, high):
    number = _int(value, default)
    if not low <= number <= high:
        raise RuntimeError(f"{name} must be between {low} and {high}, got {number}")
    return number


def _urls(value, name):
    """A comma-separated list of http(s) addresses, without trailing slashes. Anything else is
    refused at start-up: an address that can never match would silently do nothing."""
    urls = [u.strip().rstrip("/") for u in (value or "").split(",") if u.strip()]
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise RuntimeError(f"{name}: {url!r} is not an address like https://stock.example.com")
    return urls


def normalize_database_url(url):
    """Plain and Heroku-style PostgreSQL URLs name no driver (or the old one); we use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_environment(instance_path):
    """Build the configuration mapping from the process environment.

    DATABASE_URL defaults to SQLite in the instance folder (the embedded default).
    """
    env = os.environ
    default_db = "sqlite:///" + os.path.join(instance_path, "inventory.sqlite3")
    database_url = normalize_database_url(env.get("DATABASE_URL") or default_db)
    return {
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "EMBEDDED_DATABASE": not env.get("DATABASE_URL"),
        "BASE_URL": (env.get("BASE_URL") or "").rstrip("/"),
        # Addresses labels were printed with before BASE_URL moved: still scanned as ours, and
        # requests arriving on them are sent on to BASE_URL (labels are permanent).
        "PREVIOUS_BASE_URLS": _urls(env.get("PREVIOUS_BASE_URLS"), "PREVIOUS_BASE_URLS"),
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int(env.get("MAIL_PORT"), 25),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": env.get("MAIL_FROM", ""),
        # Seconds to wait for each answer of the SMTP server (RFC 5321 allows 10 minutes for the last).
        "MAIL_TIMEOUT": _int(env.get("MAIL_TIMEOUT"), 60),
        # Chat webhooks (inventory/chat) may point inside the network (private, loopback, link-local
        # addresses) only when this is set: otherwise an admin could make the server call them.
        "ALLOW_PRIVATE_WEBHOOKS": _bool(env.get("ALLOW_PRIVATE_WEBHOOKS")),
        "ALERT_RECIPIENTS": [a.strip() for a in env.get("ALERT_RECIPIENTS", "").split(",") if a.strip()],
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers we trust.
        "TRUSTED_PROXIES": _int(env.get("TRUSTED_PROXIES"), 0),
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE")),
        # Money is shown in CURRENCY (an ISO 4217 code), written as LOCALE writes numbers.
        "CURRENCY": currency_code(env.get("CURRENCY"), "CURRENCY"),
        "LOCALE": locale_name(env.get("LOCALE"), "LOCALE"),
        # PostgreSQL: how long a statement of a request may run, and connecting may take (seconds).
        "DATABASE_STATEMENT_TIMEOUT": _int(env.get("DATABASE_STATEMENT_TIMEOUT"), 15),
        "DATABASE_CONNECT_TIMEOUT": _int(env.get("DATABASE_CONNECT_TIMEOUT"), 5),
        "FORECAST_HORIZON_DAYS": _int(env.get("FORECAST_HORIZON_DAYS"), 120),
        "FORECAST_SAFETY_WORKING_DAYS": _int(env.get("FORECAST_SAFETY_WORKING_DAYS"), 5),
        "FORECAST_WARNING_DAYS": _int(env.get("FORECAST_WARNING_DAYS"), 14),
        "COUNT_EVERY_DAYS": _int(env.get("COUNT_EVERY_DAYS"), 90),
        # The period a team's budget covers: quarter, month or year.
        "BUDGET_PERIOD": period_kind(env.get("BUDGET_PERIOD")),
        # Collateral files: the largest upload, in MB, and how many days a share link lives.
        "MAX_FILE_MB": _bounded(env.get("MAX_FILE_MB"), 50, "MAX_FILE_MB", 1, 1024),
        "SHARE_LINK_DAYS": _bounded(env.get("SHARE_LINK_DAYS"), 7, "SHARE_LINK_DAYS", 1, 365),
    }


DEFAULTS = {
    "DATABASE_STATEMENT_TIMEOUT": 15,
    "DATABASE_CONNECT_TIMEOUT": 5,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session; phones keep tabs open for hours
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,  # photos from phone cameras
    "PAGE_SIZE": 25,
    # Failed logins within the window: this many for one e-mail from one address, or from one
    # address in all, refuse further tries from there; this many for one e-mail from anywhere
    # slow every try of it (the right password too) by LOGIN_SLOW_SECONDS, never lock it.
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "LOGIN_SLOW_AFTER_FAILURES": 5,
    "LOGIN_SLOW_SECONDS": 2.0,
    "LOGIN_FAILURE_WINDOW": timedelta(minutes=15),
    # The reorder forecast: how far ahead, the safety margin before a need, when "order soon" starts.
    "FORECAST_HORIZON_DAYS": 120,
    "FORECAST_SAFETY_WORKING_DAYS": 5,
    "FORECAST_WARNING_DAYS": 14,
    # The stockroom's Today page asks for a count of each bin holding stock not counted for this many days.
    "COUNT_EVERY_DAYS": 90,
    "BUDGET_PERIOD": "quarter",
    "MAX_FILE_MB": 50,
    "SHARE_LINK_DAYS": 7,
    "ALLOW_PRIVATE_WEBHOOKS": False,
}


def development_secret_key():
    return "dev-" + secrets.token_hex(16)
