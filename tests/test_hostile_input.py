"""Hostile input at every form and every API write endpoint (docs/design.md, invariant 6: bad input gets
a clear message and changes nothing), on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.

For each POST route in the URL map, hypothesis takes a valid submission (the fields of the page's
own <form>, filled in where a blank would be refused anyway; for the API, a valid JSON body) and
replaces one thing with a hostile value: a field, an id in the path, a query parameter, or the whole
body. Whatever it sends, the app must answer without a 5xx; a 4xx must be a JSON {"error": ...}
under /api/ and an HTML page elsewhere, and must leave every table's row count as it was and the
database consistent (`flask check`: stock levels equal the ledger, no negative stock, stored
reorder flags equal a fresh projection). GET pages get the same values in their query string.

A new POST route fails test_every_post_route_is_fuzzed until it is added to FORMS or API (a
multipart API upload: MULTIPART_API, with its own test), or to NOT_FUZZED, saying why.
"""
import io
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from conftest import PASSWORD
from files_helpers import pdf_bytes
from inventory.auth import services as auth
from inventory.bins import services as bins
from inventory.budgets import services as teams
from inventory.budgets.links import approval_token
from inventory.catalog import services as catalog
from inventory.events import kits
from inventory.events import services as events
from inventory.extensions import db
from inventory.files import services as file_rules
from inventory.forecast import stored
from inventory.mail.models import OutboxMessage
from inventory.purchasing import services as purchasing
from inventory.requests import drafts, fulfilment, handover, queries, review, submission
from inventory.stock import services as stock
from inventory.transfer import services as transfer

# Reproducible in CI: no example database, the same examples on every run.
FUZZ = settings(max_examples=10, deadline=None, derandomize=True, database=None, print_blob=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# The input classes, as text (what a form or a query string carries) -----------------------------
NUL = ["PEN\x001", "\x00"]
SURROGATE = ["\ud800", "A\udfff"]  # a form sends them as the (invalid) UTF-8 bytes ED A0 80
UNICODE_DIGITS = ["²", "٣", "١٢", "𝟗"]
HUGE_NUMBERS = ["2147483648", "9223372036854775808", "-9223372036854775809", "800000", "1e400", "-1"]
DATES = ["0001-01-01", "9999-12-31", "20261220", "2026-W51-1", "2026-02-30"]
class Long(str):
    """100 KB of text that prints short in a failure report."""

    def __repr__(self):
        return f"'x' * {len(self)}"


LONG_TEXT = [Long("x" * 100_000)]
TEXT_VALUES = NUL + SURROGATE + UNICODE_DIGITS + HUGE_NUMBERS + DATES + LONG_TEXT + [" "]
# One of each class, sent to every field (or query parameter) at once on every route, before the
# random single-field changes: a failure is then narrowed to the one field that breaks alone.
EACH_CLASS = ["PEN\x001", "\ud800", "²", "٣", "9223372036854775808", "-1", "0001-01-01", "9999-12-31", "2026-W51-1",
              LONG_TEXT[0]]
ID_VALUES = ["2147483648", "9223372036854775808", "²", "٣", "0"]
# The query parameters the probe named, and the others the pages and the API read.
QUERY_PARAMS = ["today", "out", "event", "zone", "sku", "line", "bin", "page", "per_page", "q", "status", "month",
                "from", "to", "kit", "back", "next", "days", "code", "restore", "supplier", "archived", "category",
                "upcoming", "text", "submitted", "seen", "period", "mine", "expect", "event_id", "limit", "scale"]
MANY = 500  # lines in one count, request, kit or purchase order

# ... and as JSON values (the API's fields)
JSON_VALUES = ([None, True, False, [], {}, 1.5, "1", "", 2**31, 2**63, -(2**63) - 1, 10**30, 800000]
               + TEXT_VALUES)
JSON_BODIES = [b"[" * 100_000, b"[]", b'"text"', b"null", b"17", b'{"a": 1e400}', b"\xff\xfe",
               b'{"lines": "\\ud800"}', b"{" + b'"a":{' * 5000]


def _today(days=0):
    return (date.today() + timedelta(days=days)).isoformat()


# The seeded world ----------------------------------------------------------------------------------
@pytest.fixture
def world(app):
    """A small stockroom with one of everything a route can name: users of every role, bins with
    stock, a polo in sizes, a returnable banner, events (one cancelled), kits (one archived),
    requests in each state a page acts on, purchase orders (draft and ordered), an outbox message,
    an API token and a draft request. Returns the ids and codes the URLs need."""
    s = db.session
    users = {role: auth.create_user(s, f"{role}@example.com", role, PASSWORD) for role in
             ("rep", "staff", "manager", "admin")}
    staff, manager, admin = users["staff"], users["manager"], users["admin"]
    shelf = bins.create_bin(s, "A-01", "Shelf", "Stockroom A")
    bins.create_bin(s, "B-01", "Back room", "Stockroom B")
    polo = catalog.create_product(s, name="Navy polo", category="apparel", sku="POLO", sizes=["S", "M", "L"],
                                  unit_cost=Decimal("14.50"))
    pen = catalog.create_product(s, name="Logo pen", category="promo", sku="PEN-1", unit_cost=Decimal("0.45")).items[0]
    banner = catalog.create_product(s, name="Roll-up banner", category="display", sku="BANNER-1", returnable=True,
                                    unit_cost=Decimal("95.00")).items[0]
    for item, quantity in [(pen, 500), (banner, 3)] + [(size, 20) for size in polo.items]:
        stock.receive(s, item, shelf, quantity, staff)
    event = events.create_event(s, manager, name="Expo", place="Hall 3", starts_on=date.fromisoformat(_today(30)),
                                ends_on=date.fromisoformat(_today(32)), ship_by=date.fromisoformat(_today(25)),
                                return_by=date.fromisoformat(_today(35)))
    cancelled = events.create_event(s, manager, name="Old fair", starts_on=date.fromisoformat(_today(40)),
                                    ends_on=date.fromisoformat(_today(41)), ship_by=date.fromisoformat(_today(38)))
    events.cancel_event(s, cancelled.id, manager)
    kit = kits.create_kit(s, manager, name="Booth kit", lines=[("PEN-1", 10), ("BANNER-1", 1)])
    old_kit = kits.create_kit(s, manager, name="Old kit", lines=[("PEN-1", 5)])
    kits.set_kit_archived(s, old_kit.id, manager)
    team = teams.create_team(s, dict(name="Field sales", budget="2000", approver_id=manager.id))
    teams.set_team(s, users["rep"], team.id)  # its requests below: a team that cannot be deleted

    def ask(lines, **fields):
        return submission.submit(s, users["rep"], lines, purpose="client_meeting",
                                 needed_by=date.fromisoformat(_today(fields.pop("days", 10))), **fields)

    def pick_all(request_id):
        for bin_, picks in fulfilment.pick_list(s, queries.get_request(s, request_id)):
            fulfilment.pick(s, request_id, bin_, {line.id: quantity for line, quantity in picks}, staff)

    submitted = ask([(pen, 5), (polo.items[1], 2)])
    approved = ask([(pen, 3)])
    review.approve(s, approved.id, manager)
    ready = ask([(pen, 4)])
    review.approve(s, ready.id, manager)
    pick_all(ready.id)
    out = ask([(banner, 1)], days=1, return_by=date.fromisoformat(_today(5)))
    review.approve(s, out.id, manager)
    pick_all(out.id)
    handover.hand_over(s, out.id, staff)
    draft_po = purchasing.create(s, manager, lines=[("PEN-1", 100, None)], supplier="Acme")
    ordered_po = purchasing.create(s, manager, lines=[("PEN-1", 100, None), ("POLO-S", 10, "12.00")], supplier="Acme")
    purchasing.mark_ordered(s, ordered_po.id, manager, date.fromisoformat(_today(7)))
    token_row, token = auth.create_token(s, admin, "fuzz")
    flyer = file_rules.upload(s, pen, manager, kind="shareable", stream=io.BytesIO(pdf_bytes()), filename="Pen flyer.pdf")
    share = file_rules.share(s, flyer, manager, 7)
    drafts.save(s, admin, quantities={"PEN-1": 2})
    message = OutboxMessage(to="rep@example.com", subject="Hello", text_body="Hi", html_body="<p>Hi</p>",
                            kind="test", status="failed", attempts=5, last_error="refused")
    s.add(message)
    s.commit()
    return {
        "users": {role: user.id for role, user in users.items()}, "token": token, "token_id": token_row.id,
        "event": event.id, "cancelled_event": cancelled.id, "kit": kit.id, "old_kit": old_kit.id,
        "product": polo.id, "submitted": submitted.id, "approved": approved.id, "ready": ready.id, "out": out.id,
        "draft_po": draft_po.id, "ordered_po": ordered_po.id,
        "ordered_line": ordered_po.lines[0].id, "ready_line": ready.lines[0].id, "approved_line": approved.lines[0].id,
        "out_line": out.lines[0].id, "message": message.id, "team": team.id,
        "file": flyer.id, "share": share.id,
    }


# What every answer must satisfy ------------------------------------------------------------------
def row_counts():
    """Every table's row count, in one query on a fresh connection (what is committed)."""
    tables = list(db.metadata.sorted_tables)
    query = select(*[select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables])
    with db.engine.connect() as connection:
        return dict(connection.execute(query).one()._mapping)


def consistency_problems():
    """What `flask --app inventory check` would complain about (the same two functions)."""
    db.session.rollback()
    problems = [f"ledger drift: {d}" for d in stock.check_ledger(db.session)]
    differ = stored.drift(db.session)  # None: the flags are from another day, projected on next read
    if differ:
        problems.append(f"stored reorder flags differ from a fresh projection for items {sorted(differ)}")
    db.session.rollback()
    return problems


def describe(method, url, what):
    shown = repr(what)
    return f"{method} {url[:200]} with {shown[:200]}{'...' if len(shown) > 200 else ''}"


JSON_PAGES = {"/scan/read"}  # not under /api/, but answered in JSON for the scanner's script
FILES = (".csv", ".ics", ".svg", ".png", ".pdf", ".css")  # downloads: a plain-text 4xx is fine


def first_lines(error):
    """One line per distinct failure hypothesis found."""
    if isinstance(error, BaseExceptionGroup):
        return [line for sub in error.exceptions for line in first_lines(sub)]
    return [str(error).splitlines()[0]]


def send(client, method, url, what, *, api, body=None, headers=None, check_writes=True):
    """Send one request and assert the contract for hostile input. `what` names the mutation."""
    before = row_counts() if check_writes else None
    try:
        response = client.open(url, method=method, data=body, headers=headers or {})
    except Exception as error:  # TESTING propagates exceptions: a 500 in production
        db.session.rollback()
        raise AssertionError(f"500: {describe(method, url, what)} raised {type(error).__name__}: "
                             f"{str(error)[:300]}") from error
    status = response.status_code
    api = api or urllib.parse.urlsplit(url).path in JSON_PAGES
    assert status < 500, f"{status}: {describe(method, url, what)}"
    if 400 <= status < 500:
        if api:
            payload = response.get_json(silent=True)
            assert isinstance(payload, dict) and isinstance(payload.get("error"), str), \
                f"{status} without a JSON error: {describe(method, url, what)}: {response.get_data()[:200]!r}"
        elif urllib.parse.urlsplit(url).path.endswith(FILES):
            assert response.data, f"{status} with an empty body: {describe(method, url, what)}"
        else:
            assert response.mimetype == "text/html" and b"<" in response.data, \
                f"{status} is not an HTML page ({response.mimetype}): {describe(method, url, what)}"
        if check_writes:
            db.session.rollback()
            after = row_counts()
            changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
            assert not changed, f"{status} but rows were written {changed}: {describe(method, url, what)}"
            problems = consistency_problems()
            assert not problems, f"{status} left the database inconsistent {problems}: {describe(method, url, what)}"
    return response


# Reading a page's form ---------------------------------------------------------------------------
class FormReader(HTMLParser):
    """The POST forms of a page: their action, their buttons' formactions, and the fields with the
    values the page would send (checked boxes only, selected or first option, textarea text)."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select, self._textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(), "actions": {a.get("action") or ""},
                          "fields": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "button" or (tag == "input" and a.get("type") in ("submit", "image")):
            if a.get("formaction"):
                self._form["actions"].add(a["formaction"])
        elif tag == "input" and a.get("name") and a.get("type") not in ("file", "radio", "checkbox"):
            self._form["fields"].append([a["name"], a.get("value") or ""])
        elif tag == "input" and a.get("name") and a.get("type") in ("radio", "checkbox"):
            if "checked" in a or (a.get("type") == "radio" and a["name"] not in dict(self._form["fields"])):
                self._form["fields"].append([a["name"], a.get("value") or "on"])
        elif tag == "select" and a.get("name"):
            self._select = [a["name"], None]
            self._form["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            if self._select[1] is None or "selected" in a:
                self._select[1] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]
            self._form["fields"].append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(client, page, action):
    """The fields of the form on `page` that posts to `action` (a path), as [name, value] pairs."""
    response = client.get(page)
    assert response.status_code == 200, f"harness: GET {page} answered {response.status_code}"
    reader = FormReader()
    reader.feed(response.get_data(as_text=True))
    for form in reader.forms:
        targets = {urllib.parse.urlsplit(a or page).path for a in form["actions"]}
        if form["method"] == "post" and action in targets:
            return [list(pair) for pair in form["fields"]]
    raise AssertionError(f"harness: no form on {page} posts to {action}")


def encode_form(pairs):
    """A urlencoded body; lone surrogates go out as the invalid UTF-8 a hostile client can send."""
    return urllib.parse.urlencode([(k, v) for k, v in pairs], encoding="utf-8", errors="surrogatepass")


# The HTML forms ----------------------------------------------------------------------------------
@dataclass
class Form:
    url: str                          # the POST URL, formatted with the world
    page: str | None = None           # the page that holds its form (default: the URL itself)
    data: dict = field(default_factory=dict)  # values set over the page's defaults
    many: str | None = None           # a "lines-{n}-..." prefix or a repeated field to send MANY of
    fields_from_page: bool = True


KIT_LINE = {"lines-0-sku": "PEN-1", "lines-0-quantity": "2"}
FORMS = {
    "auth.login": Form("/login", data={"email": "admin@example.com", "password": PASSWORD}),
    "auth.new_user": Form("/admin/users/new", data={"email": "new@example.com", "name": "New", "role": "rep",
                                                    "password": PASSWORD}),
    "auth.edit_user": Form("/admin/users/{users[rep]}"),
    "auth.profile": Form("/profile", data={"token-label": "phone"}, fields_from_page=False),
    "auth.revoke_token": Form("/profile/tokens/{token_id}/revoke", page="/profile"),
    "auth.end_other_sessions": Form("/profile/sessions/end-others", fields_from_page=False),  # a button only
    # Not the session the test posts in (that would log it out): a session that is not there.
    "auth.end_session": Form("/profile/sessions/999999/end", fields_from_page=False),
    "auth.sign_out_user": Form("/admin/users/{users[rep]}/sign-out", fields_from_page=False),  # a button only
    "events.new_feed_link": Form("/events/feed/new-link", page="/events"),
    "bins.new": Form("/bins/new", data={"code": "C-01", "name": "New", "zone": "Z"}),
    "bins.edit": Form("/b/A-01/edit"),
    "bins.archive": Form("/b/B-01/archive", page="/b/B-01"),
    "catalog.new": Form("/catalog/new", data={"name": "Mug", "category": "promo", "sku": "MUG-1"}),
    "catalog.edit_product": Form("/catalog/p/{product}/edit"),
    "catalog.add_size": Form("/catalog/p/{product}/sizes", page="/catalog/p/{product}", data={"size": "XL"}),
    "catalog.archive_product": Form("/catalog/p/{product}/archive", page="/catalog/p/{product}"),
    "catalog.edit_item": Form("/i/PEN-1/edit"),
    "catalog.archive_item": Form("/i/PEN-1/archive", page="/i/PEN-1"),
    # A form post carries no file: the upload is refused by its box, whatever else is sent.
    "files.item_files": Form("/i/PEN-1/files", data={"kind": "shareable", "title": "Pen flyer"}),
    "files.new_print_run": Form("/i/PEN-1/reprint", data={"sku": "PEN-1-V2", "name": "Logo pen (v2)"}),
    "files.share": Form("/files/{file}/share", fields_from_page=False),
    "files.revoke_share": Form("/shares/{share}/revoke", page="/shares/{share}"),
    "catalog.swap_successor": Form("/i/PEN-1/successor", data={"backorder": "1"}, fields_from_page=False),
    "events.new": Form("/events/new", data={"name": "Fair", "place": "Hall", "starts_on": _today(20),
                                            "ends_on": _today(21), "ship_by": _today(15), "return_by": _today(23)}),
    "events.edit": Form("/events/{event}/edit"),
    "events.cancel": Form("/events/{event}/cancel", page="/events/{event}"),
    "events.cancel_requests": Form("/events/{cancelled_event}/cancel-requests", fields_from_page=False),
    "events.reinstate": Form("/events/{cancelled_event}/reinstate", page="/events/{cancelled_event}"),
    "events.reserve_kit": Form("/events/{event}/kits", data={"kit_id": "{kit}", "count": "1", "action": "reserve"}),
    "events.new_kit": Form("/kits/new", data={"name": "New kit", "action": "save", **KIT_LINE}, many="lines"),
    "events.edit_kit": Form("/kits/{kit}/edit", data={"action": "save"}, many="lines"),
    "events.archive_kit": Form("/kits/{kit}/archive", page="/kits/{kit}"),
    "events.delete_kit": Form("/kits/{kit}/delete", page="/kits/{kit}"),
    "events.restore_kit": Form("/kits/{old_kit}/restore", page="/kits/{old_kit}"),
    "mail.send_test": Form("/outbox/test", page="/outbox"),
    "mail.resend": Form("/outbox/{message}/resend", fields_from_page=False),  # a button only
    "purchasing.new": Form("/purchase-orders/new", data={"supplier": "Acme", "lines-0-sku": "PEN-1",
                                                         "lines-0-quantity": "10", "lines-0-unit_cost": "0.40"},
                           many="lines"),
    "purchasing.edit": Form("/purchase-orders/{draft_po}/edit", many="lines"),
    "purchasing.order": Form("/purchase-orders/{draft_po}/order", page="/purchase-orders/{draft_po}"),
    "purchasing.cancel": Form("/purchase-orders/{ordered_po}/cancel", page="/purchase-orders/{ordered_po}"),
    "purchasing.reschedule": Form("/purchase-orders/{ordered_po}/reschedule", page="/purchase-orders/{ordered_po}"),
    "purchasing.receive_line": Form("/purchase-orders/{ordered_po}/receive/{ordered_line}",
                                    data={"bin": "A-01", "quantity": "5"}),
    "requests.new": Form("/request", data={"purpose": "client_meeting", "needed_by": _today(10),
                                           "handoff": "pickup", "action": "submit"}),
    "requests.add": Form("/request/add", page="/i/PEN-1"),
    "requests.autosave": Form("/request/draft", data={"qty-PEN-1": "3", "needed_by": _today(10)},
                              fields_from_page=False),
    "requests.approve": Form("/requests/{submitted}/approve", page="/requests/{submitted}"),
    "requests.change": Form("/requests/{submitted}/quantities", page="/requests/{submitted}"),
    "requests.reject": Form("/requests/{approved}/reject", page="/requests/{approved}",
                            data={"reason": "No budget"}),
    "requests.cancel": Form("/requests/{submitted}/cancel", page="/requests/{submitted}"),
    "requests.pick": Form("/requests/{approved}/pick", data={"bin": "A-01"}),
    "requests.pick_bin": Form("/requests/{approved}/pick/A-01"),
    "requests.release": Form("/requests/{approved}/release", page="/requests/{approved}/pick",
                             data={"line": "{approved_line}"}),
    "requests.put_back": Form("/requests/{ready}/put-back", page="/requests/{ready}",
                              data={"line": "{ready_line}", "quantity": "1", "bin": "A-01"}),
    "requests.hand_over": Form("/requests/{ready}/hand-over", data={"collected_by": "Dana Rep"}),
    "requests.undo_hand_over": Form("/requests/{out}/undo-hand-over", page="/requests/{out}",
                                    data={"reason": "Wrong box"}),
    "requests.check_in": Form("/requests/{out}/check-in", data={"bin": "A-01"}),
    "stock.receive": Form("/stock/receive", data={"sku": "PEN-1", "bin": "A-01", "quantity": "5"}),
    "stock.put_away": Form("/stock/put-away", data={"sku": "PEN-1", "from_bin": "A-01", "bin": "B-01",
                                                    "quantity": "5"}),
    "stock.move": Form("/stock/move", data={"sku": "PEN-1", "from_bin": "A-01", "to_bin": "B-01", "quantity": "5"}),
    "stock.adjust": Form("/stock/adjust", data={"sku": "PEN-1", "bin": "A-01", "change": "-1",
                                                "reason": "damaged"}),
    "stock.count": Form("/stock/count/A-01", data={"count-*": "20", "extra_sku": "POLO-S"}, many="extra_sku"),
    "transfer.check": Form("/transfer/import/items", page="/transfer",
                           data={"items-text": "sku,product,category\nMUG-2,Mug,promo\n"}),
    "teams.new": Form("/admin/teams/new", data={"name": "Events", "budget": "500"}),
    "teams.edit": Form("/admin/teams/{team}/edit"),
    "teams.delete": Form("/admin/teams/{team}/delete"),
    "transfer.check_people": Form("/transfer/import/teams", page="/transfer/people",
                                  data={"teams-text": "name,budget\nEvents,500\n"}),
    "transfer.confirm_people": Form("/transfer/import/teams/confirm", fields_from_page=False,
                                    data={"content": transfer.pack("name,budget\nEvents,500\n"),
                                          "filename": "teams.csv", "create_bins": ""}),
    "transfer.confirm": Form("/transfer/import/items/confirm", fields_from_page=False,
                             data={"content": transfer.pack("sku,product,category\nMUG-2,Mug,promo\n"),
                                   "filename": "items.csv", "create_bins": "0"}),
}

# API POST routes that take multipart/form-data, not JSON: fuzzed by their own test.
MULTIPART_API = {"api.upload_item_file": "test_hostile_api_upload"}

# POST routes no hostile input can reach, with the reason.
NOT_FUZZED = {
    "auth.logout": "takes no input, and would end the session the other routes are posted in",
}


def _format(template, w):
    return template.format(**w)


def admin_client(app, w):
    client = app.test_client()
    response = client.post("/login", data={"email": "admin@example.com", "password": PASSWORD})
    assert response.status_code == 302, "harness: the admin could not log in"
    return client


def base_submission(client, form, w):
    """[name, value] pairs a browser would send from the page, with the route's own values."""
    url = _format(form.url, w)
    pairs = []
    if form.fields_from_page:
        pairs = form_fields(client, _format(form.page or form.url, w), urllib.parse.urlsplit(url).path)
    for name, value in form.data.items():
        if name.endswith("*"):  # every field of the page named so: the count of each line
            pairs = [[k, _format(value, w) if k.startswith(name[:-1]) else v] for k, v in pairs]
        else:
            pairs = [p for p in pairs if p[0] != name] + [[name, _format(value, w)]]
    return url, pairs


def many_lines(pairs, prefix):
    """MANY lines: numbered "lines-N-..." fields, or the same field name MANY times; SKUs that differ
    in case only (a count of "pen-1" and "PEN-1" in one go)."""
    if prefix == "lines":
        template = {m.group(2): v for k, v in pairs if (m := re.match(r"lines-(\d+)-(\w+)$", k)) and m.group(1) == "0"}
        rest = [p for p in pairs if not p[0].startswith("lines-")]
        lines = [[f"lines-{n}-{key}", (value.lower() if key == "sku" and n % 2 else value)]
                 for n in range(MANY) for key, value in template.items()]
        return rest + lines
    value = dict(pairs).get(prefix, "")
    paired = {"extra_sku": "extra_count"}.get(prefix)
    rest = [p for p in pairs if p[0] not in (prefix, paired)]
    out = []
    for n in range(MANY):
        out.append([prefix, value.lower() if n % 2 else value])
        if paired:
            out.append([paired, "1"])
    return rest + out


@st.composite
def form_mutations(draw, names, has_many):
    """One hostile change to a form submission."""
    kinds = ["field"] * 3 + ["query", "extra"] + (["many"] if has_many else [])
    kind = draw(st.sampled_from(kinds if names else ["query", "extra"] + (["many"] if has_many else [])))
    if kind == "field":
        return kind, draw(st.sampled_from(names)), draw(st.sampled_from(TEXT_VALUES))
    if kind == "query":
        return kind, draw(st.sampled_from(QUERY_PARAMS)), draw(st.sampled_from(TEXT_VALUES))
    if kind == "extra":  # a field the form does not have, or an id field set twice
        return kind, draw(st.sampled_from(["id", "line", "qty-PEN-1", "seen", "bin"])), draw(st.sampled_from(TEXT_VALUES))
    return kind, None, None


def mutate_form(url, pairs, mutation, many):
    kind, name, value = mutation
    if kind == "all":
        return url, [[k, value] for k, _ in pairs]
    if kind == "field":
        return url, [[k, value if k == name else v] for k, v in pairs]
    if kind == "query":
        separator = "&" if "?" in url else "?"
        return url + separator + encode_form([(name, value)]), pairs
    if kind == "extra":
        return url, pairs + [[name, value]]
    return url, many_lines(pairs, many)


def narrowed(post, mutation, names):
    """Send `mutation`; when one that sets every field fails, say which field fails alone."""
    try:
        post(mutation)
    except AssertionError:
        if mutation[0] == "all":
            for name in names:
                post(("field", name, mutation[2]))
        raise


@pytest.mark.parametrize("endpoint", sorted(FORMS))
def test_hostile_form_input(app, world, endpoint):
    form = FORMS[endpoint]
    client = app.test_client() if endpoint == "auth.login" else admin_client(app, world)
    url, pairs = base_submission(client, form, world)
    names = sorted({name for name, _ in pairs})

    @FUZZ
    @given(mutation=form_mutations(names, form.many is not None))
    def probe(mutation):
        def post(mutation):
            target, body = mutate_form(url, pairs, mutation, form.many)
            send(client, "POST", target, mutation, api=False, body=encode_form(body),
                 headers={"Content-Type": "application/x-www-form-urlencoded"},
                 check_writes=endpoint != "auth.login")  # a refused login is recorded, for the throttle

        narrowed(post, mutation, names)

    for value in EACH_CLASS:
        probe = example(mutation=("all", None, value))(probe)
    probe()


# The JSON API ------------------------------------------------------------------------------------
@dataclass
class Api:
    url: str
    body: dict | None = None
    many: tuple | None = None   # the path of the list to send MANY entries of


REQUEST_BODY = {"lines": [{"sku": "PEN-1", "qty": 2}], "purpose": "client_meeting", "needed_by": _today(10),
                "return_by": None, "handoff": "pickup", "ship_to": "", "note": "", "event_id": "{event}",
                "allow_partial": False}
API = {
    "api.create_event": Api("/api/v1/events", {"name": "Fair", "place": "Hall", "starts_on": _today(20),
                                               "ends_on": _today(21), "ship_by": _today(15),
                                               "return_by": _today(23), "notes": "", "owner": "manager@example.com"}),
    "api.reserve_kit": Api("/api/v1/events/{event}/kits", {"kit_id": "{kit}", "count": 1, "handoff": "pickup",
                                                           "ship_to": "", "note": "", "allow_partial": False}),
    "api.create_movement:receive": Api("/api/v1/movements", {"kind": "receive", "sku": "PEN-1", "bin": "A-01",
                                                             "quantity": 5, "reason": "", "reference": "PO"}),
    "api.create_movement:move": Api("/api/v1/movements", {"kind": "move", "sku": "PEN-1", "from_bin": "A-01",
                                                          "to_bin": "B-01", "quantity": 5, "reason": ""}),
    "api.create_movement:put_away": Api("/api/v1/movements", {"kind": "put_away", "sku": "PEN-1", "from_bin": "A-01",
                                                              "bin": "B-01", "quantity": 5, "reason": ""}),
    "api.create_movement:adjust": Api("/api/v1/movements", {"kind": "adjust", "sku": "PEN-1", "bin": "A-01",
                                                            "change": -1, "reason": "damaged"}),
    "api.create_movement:count": Api("/api/v1/movements", {"kind": "count", "bin": "A-01", "reason": "",
                                                           "counts": [{"sku": "PEN-1", "counted": 480}]},
                                     many=("counts",)),
    "api.create_purchase_order": Api("/api/v1/purchase-orders", {"supplier": "Acme", "note": "", "event_id": "{event}",
                                                                 "lines": [{"sku": "PEN-1", "quantity": 10,
                                                                            "unit_cost": "0.40"}]},
                                     many=("lines",)),
    "api.order_purchase_order": Api("/api/v1/purchase-orders/{draft_po}/order", {"expected_on": _today(7)}),
    "api.cancel_purchase_order": Api("/api/v1/purchase-orders/{ordered_po}/cancel", {"reason": "late"}),
    "api.receive_purchase_order": Api("/api/v1/purchase-orders/{ordered_po}/receive",
                                      {"line_id": "{ordered_line}", "sku": "PEN-1", "bin": "A-01", "quantity": 5}),
    "api.create_request": Api("/api/v1/requests", REQUEST_BODY, many=("lines",)),
    "api.approve_request": Api("/api/v1/requests/{submitted}/approve", {}),
    "api.reject_request": Api("/api/v1/requests/{submitted}/reject", {"reason": "No budget"}),
    "api.cancel_request": Api("/api/v1/requests/{submitted}/cancel", {}),
    "api.hand_over_request": Api("/api/v1/requests/{ready}/hand-over", {"collected_by": "Dana Rep"}),
    "api.undo_hand_over_request": Api("/api/v1/requests/{out}/undo-hand-over", {"reason": "Wrong box"}),
    "api.share_file": Api("/api/v1/files/{file}/share", {"days": 7}),
    "api.revoke_share": Api("/api/v1/shares/{share}/revoke", {}),
}


def _fill(value, w):
    """The body with {placeholders} replaced by the world's ids (as numbers where they are ids)."""
    if isinstance(value, dict):
        return {k: _fill(v, w) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, w) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\{\w+\}", value):
        return w[value[1:-1]]
    return value


def field_paths(body, prefix=()):
    paths = []
    for key, value in body.items():
        paths.append(prefix + (key,))
        if isinstance(value, list) and value and isinstance(value[0], dict):
            paths.extend(field_paths(value[0], prefix + (key, 0)))
    return paths


def set_path(body, path, value):
    body = json.loads(json.dumps(body))
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return body


@st.composite
def api_mutations(draw, paths, id_params, many):
    kinds = ["field"] * 4 + ["body", "query"] + (["id"] if id_params else []) + (["many"] if many else [])
    kind = draw(st.sampled_from(kinds if paths else [k for k in kinds if k != "field"]))
    if kind == "field":
        return kind, draw(st.sampled_from(paths)), draw(st.sampled_from(JSON_VALUES))
    if kind == "body":
        return kind, None, draw(st.sampled_from(JSON_BODIES))
    if kind == "query":
        return kind, draw(st.sampled_from(QUERY_PARAMS)), draw(st.sampled_from(TEXT_VALUES))
    if kind == "id":
        return kind, draw(st.sampled_from(id_params)), draw(st.sampled_from(ID_VALUES))
    return kind, many, draw(st.sampled_from(["same", "case"]))


def api_request(url, body, mutation, w, template):
    kind, where, value = mutation
    if kind == "all":
        return url, json.dumps({k: value for k in body}).encode()
    if kind == "field":
        return url, json.dumps(set_path(body, where, value)).encode()  # ensure_ascii: "\ud800" stays an escape
    if kind == "body":
        return url, value
    if kind == "query":
        return url + "?" + encode_form([(where, value)]), json.dumps(body).encode()
    if kind == "id":
        return template.replace("{" + where + "}", urllib.parse.quote(value)).format(**w), json.dumps(body).encode()
    entries = body[where[0]]
    lines = [dict(entries[0]) for _ in range(MANY)]
    if value == "case":  # the same SKU in another case on every other line
        for n, line in enumerate(lines):
            line["sku"] = line["sku"].lower() if n % 2 else line["sku"]
    return url, json.dumps(dict(body, **{where[0]: lines})).encode()


@pytest.mark.parametrize("endpoint", sorted(API))
def test_hostile_api_input(app, world, endpoint):
    spec = API[endpoint]
    client = app.test_client()
    url = _format(spec.url, world)
    body = _fill(spec.body or {}, world)
    id_params = re.findall(r"\{(\w+)\}", spec.url)
    headers = {"Authorization": f"Bearer {world['token']}", "Content-Type": "application/json"}

    @FUZZ
    @given(mutation=api_mutations(field_paths(body), id_params, spec.many))
    def probe(mutation):
        def post(mutation):
            target, raw = api_request(url, body, mutation, world, spec.url)
            send(client, "POST", target, mutation, api=True, body=raw, headers=headers)

        narrowed(post, mutation, [(name,) for name in body])

    for value in EACH_CLASS:
        probe = example(mutation=("all", None, value))(probe)
    probe = example(mutation=("body", None, JSON_BODIES[0]))(probe)  # "[" * 100000
    probe()


# The API's multipart upload ----------------------------------------------------------------------
# What a file can be that is no file we keep, or one that lies about itself.
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HOSTILE_FILES = [b"", b" ", b"\x00" * 64, b"%PDF-1.7\nno PDF at all\n%%EOF", b"%PDF-", b"PK\x03\x04" + b"\x00" * 40,
                 b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"\xff\xd8\xff" + b"\x00" * 40, b"RIFF\x00\x00\x00\x00WEBPVP8 ",
                 SVG, b"<!doctype html><script>alert(1)</script>", b"\xef\xbb\xbf<svg onload=alert(1)>", b"GIF89a" + b"\x00" * 40]
HOSTILE_FILENAMES = ["", "../../../etc/passwd", "C:\\Users\\me\\flyer.pdf", "a\x00b.pdf", "\ud800.pdf", "x" * 1000 + ".pdf",
                     "flyer.pdf\x1b[31m", ".pdf", "CON", "%2e%2e%2fflyer.pdf", "²٣.pdf"]
UPLOAD_FIELDS = {"kind": "shareable", "title": "Pen flyer", "note": "For the expo"}


def encode_multipart(fields, files):
    """A multipart/form-data body and its Content-Type, written by hand so that a hostile client's
    bytes go out as sent: lone surrogates as invalid UTF-8, NULs, odd file names."""
    boundary = "fuzz-boundary-7d1f0c"
    out = io.BytesIO()

    def text(value):
        return value.encode("utf-8", "surrogatepass")

    for name, value in fields:
        out.write(text(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'))
    for name, filename, content in files:
        quoted = filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        out.write(text(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{quoted}"\r\n'
                       "Content-Type: application/octet-stream\r\n\r\n"))
        out.write(content + b"\r\n")
    out.write(text(f"--{boundary}--\r\n"))
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


@st.composite
def upload_mutations(draw):
    kind = draw(st.sampled_from(["field"] * 3 + ["file"] * 3 + ["filename"] * 2 + ["sku", "query", "twice", "no file"]))
    if kind == "field":
        return kind, draw(st.sampled_from(sorted(UPLOAD_FIELDS))), draw(st.sampled_from(TEXT_VALUES))
    if kind == "file":
        return kind, None, draw(st.sampled_from(HOSTILE_FILES))
    if kind == "filename":
        return kind, None, draw(st.sampled_from(HOSTILE_FILENAMES))
    if kind == "sku":
        return kind, None, draw(st.sampled_from(ID_VALUES + NUL + SURROGATE))
    if kind == "query":
        return kind, draw(st.sampled_from(QUERY_PARAMS)), draw(st.sampled_from(TEXT_VALUES))
    return kind, None, None


def test_hostile_api_upload(app, world):
    """POST /api/v1/items/<sku>/files takes multipart, which the JSON fuzzer cannot send: the same
    contract, with hostile form fields, file contents, file names, SKUs in the path, and fields
    sent twice. A refusal is a JSON error that writes nothing."""
    client = app.test_client()
    content = pdf_bytes()

    @FUZZ
    @given(mutation=upload_mutations())
    def probe(mutation):
        kind, name, value = mutation
        fields = dict(UPLOAD_FIELDS)
        files = [("file", "Pen flyer.pdf", content)]
        url = "/api/v1/items/PEN-1/files"
        if kind == "all":
            fields = {key: value for key in fields}
        elif kind == "field":
            fields[name] = value
        elif kind == "file":
            files = [("file", "Pen flyer.pdf", value)]
        elif kind == "filename":
            files = [("file", value, content)]
        elif kind == "sku":
            url = "/api/v1/items/" + urllib.parse.quote(value, safe="", errors="surrogatepass") + "/files"
        elif kind == "query":
            url += "?" + encode_form([(name, value)])
        elif kind == "twice":  # two kinds, two files: the first of each counts
            files.append(("file", "flyer.svg", SVG))
        elif kind == "no file":
            files = []
        pairs = list(fields.items()) + ([("kind", "master")] if kind == "twice" else [])
        body, content_type = encode_multipart(pairs, files)
        send(client, "POST", url, mutation, api=True, body=body,
             headers={"Authorization": f"Bearer {world['token']}", "Content-Type": content_type})

    for value in EACH_CLASS:
        probe = example(mutation=("all", None, value))(probe)
    probe()


# Query strings and path values on GET pages --------------------------------------------------------
def get_urls(app, w):
    """Every GET route with the world's ids in it (paths with a value in the world only)."""
    values = {"code": "A-01", "sku": "PEN-1", "product_id": w["product"], "event_id": w["event"], "kit_id": w["kit"],
              "order_id": w["ordered_po"], "request_id": w["out"], "user_id": w["users"]["rep"], "kind": "items",
              "movement_id": 1, "message_id": w["message"], "line_id": w["ordered_line"], "token_id": w["token_id"],
              "team_id": w["team"], "file_id": w["file"], "share_id": w["share"],
              # An approval link (budgets/links.py) for the request, as an e-mail carries it.
              "token": approval_token(w["out"], 1, "approver")}
    urls = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "catalog.photo"):
            continue
        if rule.endpoint in ("purchasing.received",):  # needs a receipt's movement id of that PO
            continue
        urls[rule.endpoint] = (rule.rule, {arg: values[arg] for arg in rule.arguments})
    return urls


GET_FUZZ = settings(FUZZ, max_examples=6)
# 100 KB in each of 33 parameters is a 3 MB URL, which no server takes (nor should the test wait
# for): query strings get 4 KB of text instead.
QUERY_VALUES = [v for v in TEXT_VALUES if v not in LONG_TEXT] + ["x" * 4000]


def test_hostile_query_on_get_pages(app, world):
    """Every GET page and API read, with hostile values in its query string and path. Pages only
    read, so one world serves them all; the failures of all routes are reported together."""
    failures = []
    for endpoint, (rule, values) in sorted(get_urls(app, world).items()):
        api = rule.startswith("/api/")
        client = app.test_client() if api else admin_client(app, world)
        headers = {"Authorization": f"Bearer {world['token']}"} if api else {}
        path_args = sorted(values)

        @GET_FUZZ
        @given(value=st.sampled_from(QUERY_VALUES),
               names=st.just(QUERY_PARAMS) | st.lists(st.sampled_from(QUERY_PARAMS), min_size=1, max_size=3),
               path_value=st.none() | st.tuples(st.sampled_from(path_args or ["-"]),
                                                st.sampled_from(ID_VALUES + NUL + SURROGATE)))
        def probe(value, names, path_value):
            args = dict(values)
            if path_value and path_args:
                args[path_value[0]] = path_value[1]
            path = re.sub(r"<(?:[^:<>]+:)?(\w+)>",
                          lambda m: urllib.parse.quote(str(args[m.group(1)]), safe="", errors="surrogatepass"), rule)

            def get(names):
                query = {name: value for name in names}
                send(client, "GET", path + "?" + encode_form(query.items()), (query, path_value), api=api,
                     headers=headers, check_writes=False)

            try:
                get(names)  # every parameter at once, or a few
            except AssertionError:
                for name in names if len(names) > 1 else ():
                    get([name])  # name the parameter that breaks the page, when one alone does
                raise

        for value in EACH_CLASS[:-1] + [QUERY_VALUES[-1]]:
            probe = example(value=value, names=QUERY_PARAMS, path_value=None)(probe)
        try:
            probe()
        except Exception as error:  # collect: one broken page must not hide the next
            failures.extend(f"{endpoint}: {line}" for line in first_lines(error))
    assert not failures, "\n".join(failures)


# Coverage ----------------------------------------------------------------------------------------
def test_every_post_route_is_fuzzed(app):
    """A new POST route must be fuzzed (FORMS or API) or say in NOT_FUZZED why not."""
    covered = set(FORMS) | {name.split(":")[0] for name in API} | set(NOT_FUZZED) | set(MULTIPART_API)
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if {"POST", "PUT", "PATCH", "DELETE"} & rule.methods}
    assert posts - covered == set(), "POST routes nobody throws hostile input at"
    assert covered - posts == set(), "FORMS/API/NOT_FUZZED name routes that no longer exist"
