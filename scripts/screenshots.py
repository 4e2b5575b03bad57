"""Phone screenshots of the main pages, for the docs.

Starts the app on a throw-away SQLite database filled with the demo (inventory.demo.seed), opens it
in headless Chromium at a Pixel 7's size, logs in through the real login form and saves PNGs:

    login.png          the login page
    today-rep.png, today-staff.png, today-manager.png   each role's Today page (their home)
    catalog.png        the catalog, as a sales rep
    product-sizes.png  Navy polo, stock per size, as a sales rep
    bin.png            bin A-01-1, as stockroom staff
    move.png           the move form, opened from bin A-01-1, as stockroom staff
    loan.png           the pop-up display's item page while it is out on loan, as stockroom staff
    hand-over.png      the hand-over's confirm step for a picked request, as stockroom staff
    request.png, my-requests.png          a rep's request (a short line with its choices) and their list
    review.png         a submitted request as the manager reviews it: quantities, Approve
    reorders.png, events.png, reports.png  the manager's Reorders, Events and Reports pages

Usage (from the repository root):  python scripts/screenshots.py [--out docs/screenshots] [--only today-rep.png ...]
Needs Chromium at /usr/bin/chromium (apt-get install chromium) and the `playwright` package
(pip install -r requirements-dev.txt); no Playwright browser download is used.
"""
import argparse
import os
import sys
import tempfile
import threading
from datetime import date, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import flask_migrate  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from inventory import MIGRATIONS, create_app  # noqa: E402
from inventory.demo import LOGINS, seed  # noqa: E402
from inventory.extensions import db  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DEVICE = "Pixel 7"
SCALE = 1.5  # sharper than 1x, much smaller files than the Pixel 7's 2.625x
PASSWORDS = {role: (email, password) for email, role, password, _name in LOGINS}


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


def start_app(workdir):
    """The app on a free local port, CSRF on, on a new SQLite database with the demo in it."""
    app = create_app({
        "SECRET_KEY": "screenshots",
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(workdir, "demo.sqlite3"),
        "INSTANCE_PATH": os.path.join(workdir, "instance"),
        "EMBEDDED_DATABASE": False,
        "SKIP_SCHEMA_CHECK": True,  # the schema is created just below, by the migrations
        "WTF_CSRF_ENABLED": True,
    })
    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS)
        seed(db.session)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def log_in(page, base_url, role):
    email, password = PASSWORDS[role]
    page.goto(base_url + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


ONLY = set()  # --only: save just these (the others are still visited, since later pages build on them)


def shoot(page, out, name):
    if ONLY and name not in ONLY:
        return
    path = os.path.join(out, name)
    page.mouse.move(0, 0)
    page.screenshot(path=path, animations="disabled", caret="hide")
    fits = page.evaluate("document.body.scrollWidth <= window.innerWidth")
    print(f"{path}  ({page.url}){'' if fits else '  WARNING: wider than the screen'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "screenshots"), help="where to save the PNGs")
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME.png", help="save only these screenshots")
    args = parser.parse_args()
    ONLY.update(args.only)
    if not os.path.exists(CHROMIUM):
        sys.exit(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="swag-screenshots-") as workdir:
        server, base_url = start_app(workdir)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                device = dict(playwright.devices[DEVICE], device_scale_factor=SCALE)

                def new_page():
                    context = browser.new_context(**device)
                    context.set_default_timeout(10_000)
                    return context, context.new_page()

                context, page = new_page()
                page.goto(base_url + "/login")
                page.get_by_label("E-mail").fill(PASSWORDS["rep"][0])
                shoot(page, args.out, "login.png")

                log_in(page, base_url, "rep")
                shoot(page, args.out, "today-rep.png")  # every role lands on its Today page
                page.goto(base_url + "/catalog")
                shoot(page, args.out, "catalog.png")
                search = page.get_by_role("searchbox", name="Search the catalog")
                search.fill("navy polo")
                search.press("Enter")
                page.get_by_role("link", name="Navy polo").click()
                page.get_by_role("heading", name="Navy polo").wait_for()
                shoot(page, args.out, "product-sizes.png")
                # XL asks more than is free: the request page shows that line's choices before submit.
                free_xl = int(page.locator("label[for=qty-POLO-NAVY-XL] small").inner_text().split()[0])
                for size, quantity in {"M": "10", "L": "10", "XL": str(free_xl + 3)}.items():
                    page.locator(f"#qty-POLO-NAVY-{size}").fill(quantity)
                page.get_by_role("button", name="Add to my request").click()
                page.get_by_role("heading", name="My request").wait_for()
                page.get_by_label("Needed by").fill((date.today() + timedelta(days=6)).isoformat())
                page.locator("#draft-state").get_by_text("Saved.").wait_for()  # the autosave answered
                page.evaluate("document.activeElement.blur()")
                page.locator("#line-POLO-NAVY-L").evaluate("line => window.scrollTo(0, line.offsetTop - 8)")
                shoot(page, args.out, "request.png")
                page.goto(base_url + "/requests/mine")
                shoot(page, args.out, "my-requests.png")
                context.close()

                context, page = new_page()
                log_in(page, base_url, "manager")
                shoot(page, args.out, "today-manager.png")
                page.goto(base_url + "/requests?status=submitted")
                page.locator("main a[href^='/requests/']").filter(has_text="R-").first.click()
                page.get_by_role("button", name="Approve").wait_for()
                shoot(page, args.out, "review.png")
                page.goto(base_url + "/reorders")
                shoot(page, args.out, "reorders.png")
                page.goto(base_url + "/events")
                shoot(page, args.out, "events.png")
                page.goto(base_url + "/reports?period=this-year")
                shoot(page, args.out, "reports.png")
                context.close()

                context, page = new_page()
                log_in(page, base_url, "staff")
                shoot(page, args.out, "today-staff.png")
                page.goto(base_url + "/b/A-01-1")
                shoot(page, args.out, "bin.png")
                row = page.locator("#bin-contents").get_by_role("listitem").filter(has_text="POLO-NAVY-M")
                row.get_by_role("button", name="Move").click()
                page.get_by_role("heading", name="Move stock").wait_for()
                page.get_by_label("To bin").fill("A-01-2")
                page.get_by_label("Quantity").fill("4")
                page.get_by_label("Why (optional)").fill("Shelf full")
                page.get_by_label("Why (optional)").blur()
                shoot(page, args.out, "move.png")
                page.goto(base_url + "/i/DISPLAY-POPUP?page=1")
                page.get_by_role("heading", name="Pop-up booth display 3 m").wait_for()
                shoot(page, args.out, "loan.png")
                page.goto(base_url + "/today")
                page.locator("main a[href$='/hand-over']").first.click()
                page.get_by_label("Collected by").wait_for()
                shoot(page, args.out, "hand-over.png")
                context.close()
                browser.close()
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
