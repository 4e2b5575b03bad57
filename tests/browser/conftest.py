"""Browser fixtures: the real app served over HTTP (CSRF on, as in production) and headless Chromium
at a phone's size. Data is set up through the app's own rules, never by writing tables directly.

Chromium must be at /usr/bin/chromium (no Playwright browser download). Without it the browser tests
are skipped, unless REQUIRE_BROWSER_TESTS is set, in which case they fail."""
import os
import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from inventory.auth import services as auth
from inventory.bins import services as bins
from inventory.catalog import services as catalog
from inventory.extensions import db
from inventory.stock import queries as stock_queries
from inventory.stock import services as stock
from tests.conftest import PASSWORD, empty_database, make_test_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PHONE = "Pixel 7"
TIMEOUT_MS = 5_000


@dataclass
class LiveServer:
    url: str
    app: object


class _QuietHandler(WSGIRequestHandler):
    """No access-log line per request (errors are still logged)."""

    def log_request(self, code="-", size="-"):
        pass


@pytest.fixture
def live_server(database_url, tmp_path):
    """The app on a real port, on an emptied test database, with CSRF protection on."""
    yield from serve(make_test_app(database_url, tmp_path / "instance", WTF_CSRF_ENABLED=True))


def serve(app):
    """Serve `app` on a free port in a thread, on an emptied database; yields a LiveServer."""
    with app.app_context():
        empty_database()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def playwright_instance():
    if not os.path.exists(CHROMIUM):
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER_TESTS"):
            pytest.fail(message + "; REQUIRE_BROWSER_TESTS is set, so the browser tests may not be skipped.",
                        pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _page(browser, **context_options):
    context = browser.new_context(**context_options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.fixture
def phone(browser, playwright_instance):
    """A page in a Pixel 7 (412 px wide, mobile, touch)."""
    context, page = _page(browser, **playwright_instance.devices[PHONE])
    yield page
    context.close()


@pytest.fixture
def small_phone(browser, playwright_instance):
    """A page in the narrowest phone the design promises to support: 360 px wide."""
    options = dict(playwright_instance.devices[PHONE])
    options["viewport"] = {"width": 360, "height": 740}
    context, page = _page(browser, **options)
    yield page
    context.close()


# Helpers ---------------------------------------------------------------------------------------

# Elements sticking out past the right edge of the screen, ignoring those inside their own
# scrolling box (such as the category chips, which scroll sideways on purpose).
_OVERFLOWING = """() => {
  const limit = window.innerWidth + 1;
  const scrolls = (el) => {
    for (let p = el.parentElement; p && p !== document.body && p !== document.documentElement; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.right <= limit || scrolls(el)) continue;
    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
             (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
             ' right=' + Math.round(box.right));
  }
  return out.slice(0, 10);
}"""


def assert_no_horizontal_scroll(page):
    """The page fits the phone's width: no sideways scrolling, and nothing hidden off the right edge
    (app.css sets overflow-x: hidden on html and body, which would otherwise mask an overflow)."""
    # Measured once the page and its stylesheets have loaded: on a busy machine a page measured
    # before app.css applies is wider than the screen for a moment (seen once in CI on PostgreSQL).
    page.wait_for_load_state("load")
    viewport = page.viewport_size["width"]
    sizes = page.evaluate("({inner: window.innerWidth, scroll: document.documentElement.scrollWidth,"
                          " body: document.body.scrollWidth})")
    # A mobile browser zooms out to fit content that is too wide, which widens innerWidth.
    assert sizes["inner"] == viewport, f"{page.url}: zoomed out to {sizes['inner']} px for a {viewport} px screen"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
        f"{page.url} scrolls sideways: {sizes}"
    assert sizes["body"] <= sizes["inner"], f"{page.url} body is wider than the screen: {sizes}"
    assert page.evaluate(_OVERFLOWING) == [], f"{page.url}: elements stick out past {viewport} px"


def log_in(page, base_url, email, password=PASSWORD):
    """Log in through the real /login form."""
    page.goto(base_url + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


@pytest.fixture
def data(live_server):
    """Factories that go through the app's own rules, each in its own app context."""
    return DataFactory(live_server.app)


class DataFactory:
    STOCK_BOOKER = "stock-booker@example.com"

    def __init__(self, app):
        self.app = app

    def user(self, role, email=None, password=PASSWORD, name=""):
        email = email or f"{role}@example.com"
        with self.app.app_context():
            auth.create_user(db.session, email, role, password, name=name)
        return email

    def _booker(self):
        """The staff member that set-up stock is booked as (the ledger always says who)."""
        from inventory.auth.models import User

        user = db.session.scalar(select(User).where(User.email == self.STOCK_BOOKER))
        return user or auth.create_user(db.session, self.STOCK_BOOKER, "staff", PASSWORD, name="Stock booker")

    def bin(self, code, name="", zone="Stockroom A"):
        with self.app.app_context():
            return bins.create_bin(db.session, code, name, zone).code

    def product(self, name, sku, category="apparel", sizes=None, bin=None, on_hand=0, **fields):
        """A product with one item per size (sizes={"S": 3, "M": 12}), or a single item with `on_hand`,
        its stock received into `bin`. Returns the product id."""
        sizes = sizes or {}
        with self.app.app_context():
            product = catalog.create_product(db.session, name=name, category=category, sku=sku,
                                             sizes=list(sizes), **fields)
            product_id = product.id
            for item in product.items:
                quantity = sizes[item.size] if item.size else on_hand
                if quantity:
                    stock.receive(db.session, item, bins.get_bin(db.session, bin), quantity, self._booker())
        return product_id

    def level(self, sku, code):
        with self.app.app_context():
            return stock_queries.level(db.session, catalog.get_item(db.session, sku), bins.get_bin(db.session, code))

    def ledger_drift(self):
        with self.app.app_context():
            return stock.check_ledger(db.session)
