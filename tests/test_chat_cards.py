"""The chat messages (inventory/chat/cards.py): the digest built from the real digest rule's groups
(mail/alerts.queue_reorder_digest, as test_mail_alerts.py sets it up: Expo West ships Wed 31 Mar
2027, the brochures must be ordered by 3 Mar, the totes by 15 Mar), said as the e-mail says it, in
Slack, Teams and generic JSON; the services' size limits with "and N more"; escaping."""
import json
import re
from datetime import date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from inventory.catalog.models import Item, Product
from inventory.chat import cards
from inventory.chat.cards import OverdueRow, RequestSummary, digest_message, overdue_message, request_message
from inventory.events.models import Event
from inventory.forecast.models import RETIRE, RETIRING, SHORTFALL, SOON, ReorderFlag
from inventory.mail import alerts
from inventory.mail.alerts import DigestLine, ResolvedLine
from inventory.requests import submission

TODAY = date(2027, 3, 1)
SHIP = date(2027, 3, 31)
BASE = "https://stock.example.com"
REORDERS = f"{BASE}/reorders"


@pytest.fixture
def digest(app, session, make_item, make_user, monkeypatch):
    """The real digest rule's subject, groups and resolved lines for two events: Expo West (the
    brochures, then the totes) and, shipping later, Summit (polos named "<b>Polo & co</b>")."""
    expo = Event(name="Expo West", place="Anaheim", starts_on=SHIP, ends_on=SHIP, ship_by=SHIP)
    summit = Event(name="Summit", place=None, starts_on=date(2027, 4, 9), ends_on=date(2027, 4, 9),
                   ship_by=date(2027, 4, 9))
    session.add_all([expo, summit])
    session.commit()
    brochure = make_item("BRO-EXPO", name="Expo brochure", category="print", on_hand=500, supplier="PrintWorks",
                         lead_time_days=21, reorder_quantity=1000)
    tote = make_item("TOTE-1", name="Tote bag", on_hand=10, supplier="Bags & Co", lead_time_days=10,
                     reorder_quantity=50)
    polo = make_item("POLO-1", name="<b>Polo & co</b>", on_hand=5, supplier="Shirts <Ltd>", lead_time_days=30,
                     reorder_quantity=100)
    rep = make_user("rep")
    submission.submit(session, rep, [(brochure, 700), (tote, 30)], purpose="trade_show", needed_by=SHIP,
                      event_id=expo.id, allow_partial=True, today=TODAY)
    submission.submit(session, rep, [(polo, 40)], purpose="trade_show", needed_by=summit.ship_by,
                      event_id=summit.id, allow_partial=True, today=TODAY)
    captured = {}

    def enqueue(session, recipients, subject, template, context, kind):
        captured.update(context, subject=subject)
        return object()

    monkeypatch.setattr(alerts, "enqueue", enqueue)
    app.config.update(BASE_URL=BASE, ALERT_RECIPIENTS=["buyer@example.com"])
    assert alerts.queue_reorder_digest(session, app.config, TODAY, datetime(2027, 3, 1, 7)) is not None
    assert [event.name for event, _lines in captured["groups"]] == ["Expo West", "Summit"]
    captured.update(expo=expo, summit=summit)
    return captured


def slack_texts(message):
    for block in message["blocks"]:
        if block["type"] in ("section", "header"):
            if "text" in block:
                yield block["text"]["text"]
            for field in block.get("fields", ()):
                yield field["text"]
        elif block["type"] == "context":
            for element in block["elements"]:
                yield element["text"]


def teams_texts(value):
    """Every text of a card, depth first, in order."""
    if isinstance(value, dict):
        if value.get("type") == "TextBlock":
            yield value["text"]
        for fact in value.get("facts", ()):
            yield f"{fact['title']}: {fact['value']}"
        for key in ("attachments", "content", "body", "items"):
            if key in value:
                yield from teams_texts(value[key])
    elif isinstance(value, list):
        for item in value:
            yield from teams_texts(item)


def card(message):
    (attachment,) = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content = attachment["content"]
    assert content["type"] == "AdaptiveCard" and content["version"] == "1.4"
    assert content["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    return content


def size(message):
    """The largest of the usual serialisations: the default separators, non-ASCII escaped."""
    return max(len(json.dumps(message)), len(json.dumps(message, ensure_ascii=False).encode()))


def test_slack_digest_says_what_the_email_says(digest):
    message = digest_message("slack", digest["subject"], digest["groups"], digest["resolved"], REORDERS)
    assert message["text"] == "Order by 3 Mar: 3 items for Expo West and Summit" == digest["subject"]
    blocks = message["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": digest["subject"], "emoji": True}}
    texts = list(slack_texts(message))
    whole = "\n".join(texts[1:])  # past the subject, which names the events too
    expo, summit = digest["expo"], digest["summit"]
    # Grouped by event, in the digest's order, a divider between the groups; the brochures (order
    # by 3 Mar) before the totes (15 Mar).
    assert texts[1] == f"*<{BASE}/events/{expo.id}|Expo West>*, Anaheim (ships 31 Mar 2027)"
    assert f"*<{BASE}/events/{summit.id}|Summit>* (ships 9 Apr 2027)" in texts
    assert whole.index("Expo West") < whole.index("BRO-EXPO") < whole.index("TOTE-1") < whole.index("Summit") \
        < whole.index("POLO-1")
    assert [block["type"] for block in blocks].count("divider") == 1
    assert blocks[[b["type"] for b in blocks].index("divider") + 1]["text"]["text"].startswith("*<")
    brochure = next(text for text in texts if "BRO-EXPO" in text)
    lines = brochure.split("\n")
    assert lines[0] == f"*Order soon*: <{BASE}/i/BRO-EXPO|BRO-EXPO> (Expo brochure)"
    assert lines[1:4] == ["Order by: 3 Mar 2027", "Shortfall: 200; suggested quantity: 1000", "Supplier: PrintWorks"]
    flag = digest["groups"][0][1][0].flag
    assert lines[4] == f"Why: {flag.reason}" and "Expo West" in flag.reason
    # The action links to the pre-filled purchase order, its & escaped as Slack wants.
    link = re.fullmatch(r"<([^|]+)\|Raise the purchase order>", lines[5])
    assert link, lines[5]
    po_url = link[1].replace("&amp;", "&")
    assert po_url == digest["groups"][0][1][0].po_url
    assert parse_qs(urlsplit(po_url).query) == {"supplier": ["PrintWorks"], "line": ["BRO-EXPO:1000"],
                                                 "event_id": [str(expo.id)]}
    assert "Supplier: Bags &amp; Co" in whole
    assert texts[-1] == f"<{REORDERS}|All reorders>"
    assert "more" not in texts[-1]


def test_names_are_escaped(digest):
    slack = digest_message("slack", digest["subject"], digest["groups"], digest["resolved"], REORDERS)
    polo = next(text for text in slack_texts(slack) if "POLO-1" in text)
    assert f"<{BASE}/i/POLO-1|POLO-1> (&lt;b&gt;Polo &amp; co&lt;/b&gt;)" in polo
    assert "Supplier: Shirts &lt;Ltd&gt;" in polo
    # No < or > left but the links' own.
    assert not re.sub(r"<https://[^|>]+\|[^<>]*>", "", polo).count("<")
    teams = digest_message("teams", digest["subject"], digest["groups"], digest["resolved"], REORDERS)
    texts = list(teams_texts(teams))
    line = next(text for text in texts if "POLO-1" in text)
    assert line == f"**Order soon**: [POLO-1]({BASE}/i/POLO-1) (\\<b\\>Polo & co\\</b\\>)"
    assert "Supplier: Shirts \\<Ltd\\>" in texts
    assert cards.teams_escape("[x](http://evil) *bold* _it_") == "\\[x\\]\\(http://evil\\) \\*bold\\* \\_it\\_"
    assert cards.teams_escape("1. first\n- dash") == "1\\. first\n\\- dash"
    assert cards.slack_escape("<!channel> & co") == "&lt;!channel&gt; &amp; co"


def test_teams_digest_says_what_the_email_says(digest):
    message = digest_message("teams", digest["subject"], digest["groups"], digest["resolved"], REORDERS)
    assert message["type"] == "message"
    content = card(message)
    assert content["actions"] == [{"type": "Action.OpenUrl", "title": "Open Reorders", "url": REORDERS}]
    texts = list(teams_texts(message))
    whole = "\n".join(texts[1:])
    expo = digest["expo"]
    assert texts[0] == digest["subject"]
    assert texts[1] == f"[Expo West]({BASE}/events/{expo.id}), Anaheim \\(ships 31 Mar 2027\\)"
    assert whole.index("BRO-EXPO") < whole.index("TOTE-1") < whole.index("Summit") < whole.index("POLO-1")
    assert "Order by: 3 Mar 2027" in texts and "Shortfall: 200" in texts and "Suggested quantity: 1000" in texts
    assert "Supplier: PrintWorks" in texts and "Supplier: Bags & Co" in texts
    po_url = digest["groups"][0][1][0].po_url
    assert f"[Raise the purchase order]({po_url})" in texts
    # The second group is set apart.
    summit = next(block for block in content["body"] if block.get("text", "").startswith("[Summit]"))
    assert summit["separator"] is True
    assert not any("more" in text for text in texts)


def test_generic_json_round_trips(digest):
    message = digest_message("webhook", digest["subject"], digest["groups"], digest["resolved"], REORDERS)
    assert json.loads(json.dumps(message)) == message
    assert message["event"] == "reorder_digest" and message["subject"] == digest["subject"]
    assert message["url"] == REORDERS and message["resolved"] == [] and message["more"] == 0
    expo, summit = message["groups"]
    assert expo["event"] == {"id": digest["expo"].id, "name": "Expo West", "place": "Anaheim",
                             "ship_by": "2027-03-31", "url": f"{BASE}/events/{digest['expo'].id}"}
    assert [line["sku"] for line in expo["lines"]] == ["BRO-EXPO", "TOTE-1"]
    brochure = expo["lines"][0]
    assert {key: brochure[key] for key in ("sku", "name", "status", "order_by", "action", "item_url")} == {
        "sku": "BRO-EXPO", "name": "Expo brochure", "status": "order_soon", "order_by": "2027-03-03",
        "action": "Raise the purchase order", "item_url": f"{BASE}/i/BRO-EXPO"}
    assert "Expo West" in brochure["reason"] and brochure["action_url"].startswith(f"{BASE}/purchase-orders/new?")
    assert summit["lines"][0]["name"] == "<b>Polo & co</b>"  # JSON needs no escaping


def test_a_print_piece_to_retire_and_a_line_with_nothing_to_order():
    item = Item(sku="FLY-OLD", supplier=None, product=Product(name="Old flyer"))
    retire = ReorderFlag(item=item, event=None, kind=RETIRING, status=RETIRE, rank=3, need_date=date(2099, 5, 4),
                         order_by=date(2099, 5, 4), projected=40, shortfall=0, suggested_quantity=0, orders=[],
                         stored_reason="40 on hand must not be used after Mon 4 May")
    lines = [DigestLine(retire, None, f"{BASE}/i/FLY-OLD", f"{BASE}/i/FLY-OLD", "See the item"),
             DigestLine(retire, "expedite", None, f"{BASE}/i/FLY-OLD")]
    slack = digest_message("slack", "Retire soon: 1 item near their do-not-use-after date", [(None, lines)], [],
                           REORDERS)
    texts = list(slack_texts(slack))
    assert texts[1] == "*General stock*"
    assert texts[2] == (f"*Retire soon*: <{BASE}/i/FLY-OLD|FLY-OLD> (Old flyer)\n"
                        "Do not use after: 4 May 2099; on hand: 40\n"
                        f"Why: 40 on hand must not be used after Mon 4 May\n<{BASE}/i/FLY-OLD|See the item>")
    assert texts[3].startswith("*Retire soon (was Expedite)*: ") and texts[3].endswith("Mon 4 May")
    teams = list(teams_texts(digest_message("teams", "s", [(None, lines)], [], REORDERS)))
    assert "Do not use after: 4 May 2099" in teams and "On hand: 40" in teams
    assert teams.count(f"[See the item]({BASE}/i/FLY-OLD)") == 1
    webhook = digest_message("webhook", "s", [(None, lines)], [], REORDERS)
    assert webhook["groups"][0]["lines"][1]["action_url"] is None
    assert webhook["groups"][0]["lines"][0]["kind"] == "retire"


# Many lines: the limits ---------------------------------------------------------------------------

def many(count, resolved=0):
    """`count` flagged lines (made directly, as the digest makes them) in two events and general
    stock, and `resolved` resolved lines."""
    events = [Event(id=number, name=f"Event {number}", place="Hall & <B>", ship_by=date(2027, 4, number),
                    starts_on=date(2027, 4, number), ends_on=date(2027, 4, number)) for number in (1, 2)]
    groups = {1: [], 2: [], None: []}
    for number in range(count):
        event = events[number % 2] if number % 3 else None
        item = Item(sku=f"SKU-{number:04d}", supplier="PrintWorks & Sons",
                    product=Product(name=f"Product {number} with a long descriptive name & <b>tags</b> " + "x" * 60))
        flag = ReorderFlag(item=item, event=event, kind=SHORTFALL, status=SOON, rank=2, need_date=SHIP,
                           order_by=TODAY, projected=10, shortfall=5, suggested_quantity=50, orders=[],
                           stored_reason=f"Short by 5 for {'⟨event⟩' if event else 'stock'}: " + "why " * 40)
        groups[event.id if event else None].append(
            DigestLine(flag, None, f"{BASE}/purchase-orders/new?supplier=PrintWorks&line={item.sku}:50",
                       f"{BASE}/i/{item.sku}"))
    extra = [ResolvedLine(Item(sku=f"OLD-{n}", product=Product(name=f"Old {n}")), None, f"{BASE}/i/OLD-{n}")
             for n in range(resolved)]
    return [(events[0], groups[1]), (events[1], groups[2]), (None, groups[None])], extra


def test_slack_cuts_at_50_blocks_with_and_n_more():
    groups, resolved = many(200, resolved=5)
    message = digest_message("slack", "Order by 1 Mar: 200 items", groups, resolved, REORDERS)
    blocks = message["blocks"]
    assert len(blocks) <= 50
    assert all(len(text) <= 3000 for text in slack_texts(message))
    assert len(blocks[0]["text"]["text"]) <= 150
    shown = [text for text in slack_texts(message) if re.search(r"\|SKU-\d{4}>", text)]
    # Header, the first group's heading, its lines, the "and N more" at the end.
    assert len(shown) == 47
    more = blocks[-1]
    assert more["type"] == "context"
    assert more["elements"][0]["text"] == f"and {205 - 47} more: <{REORDERS}|see them all on Reorders>"
    # Most urgent first: the first lines of the first group, in their order.
    assert [re.search(r"SKU-\d{4}", text)[0] for text in shown] == [line.flag.item.sku for line in groups[0][1][:47]]


def test_slack_section_text_at_most_3000_and_header_150():
    groups, _resolved = many(3)
    groups[0][1][0].flag.stored_reason = "very long reason " * 400
    groups[0][1][0].flag.item.product.name = "N" * 5000
    message = digest_message("slack", "S" * 400, groups, [], REORDERS)
    assert len(message["blocks"][0]["text"]["text"]) == 150
    assert all(len(text) <= 3000 for text in slack_texts(message))
    assert message["blocks"][-1]["elements"][0]["text"] == f"<{REORDERS}|All reorders>"


def test_teams_cuts_at_28_kb_with_and_n_more():
    groups, resolved = many(200, resolved=5)
    message = digest_message("teams", "Order by 1 Mar: 200 items", groups, resolved, REORDERS)
    assert size(message) <= 28_000
    texts = list(teams_texts(message))
    shown = [text for text in texts if re.search(r"\[SKU-\d{4}\]", text)]
    assert 5 < len(shown) < 200
    assert texts[-1] == f"and {205 - len(shown)} more: [see them all on Reorders]({REORDERS})"
    assert card(message)["actions"][0]["url"] == REORDERS
    # It took as many as fit: one more line (about 1 KB) would not have.
    assert size(message) > 27_000


def test_a_short_list_is_not_cut():
    groups, resolved = many(6, resolved=2)
    slack = digest_message("slack", "s", groups, resolved, REORDERS)
    texts = list(slack_texts(slack))
    assert not any("more:" in text for text in texts)
    assert texts[-3:-1] == [f"\u2022 <{BASE}/i/OLD-0|OLD-0> (Old 0)", f"\u2022 <{BASE}/i/OLD-1|OLD-1> (Old 1)"]
    assert "*Resolved (no longer flagged)*" in texts
    teams = digest_message("teams", "s", groups, resolved, REORDERS)
    assert not any("more:" in text for text in teams_texts(teams))
    webhook = digest_message("webhook", "s", groups, resolved, REORDERS)
    assert [len(group["lines"]) for group in webhook["groups"]] == [2, 2, 2]
    assert webhook["groups"][2]["event"] is None
    assert webhook["resolved"][0] == {"sku": "OLD-0", "name": "Old 0", "event": None, "item_url": f"{BASE}/i/OLD-0"}
    assert json.loads(json.dumps(webhook)) == webhook


def test_generic_json_cut_at_256_kb():
    groups, _resolved = many(2000)
    message = digest_message("webhook", "s", groups, [], REORDERS)
    assert 250_000 < size(message) <= 256_000
    shown = [line["sku"] for group in message["groups"] for line in group["lines"]]
    assert message["more"] == 2000 - len(shown) > 0
    assert shown == [line.flag.item.sku for _event, lines in groups for line in lines][:len(shown)]
    assert json.loads(json.dumps(message)) == message


# Requests ----------------------------------------------------------------------------------------

REQUEST = RequestSummary(number="R-00042", requester="Ann <Rep>", team="Marketing & Events",
                         needed_by=date(2027, 3, 2), value="$420.00", line_count=5,
                         lines=("25 × Navy polo — M", "10 × Tote bag", "3 × Booth display"),
                         url=f"{BASE}/requests/42", level="second approver", why="it is over $300")


def test_rush_request():
    slack = request_message("slack", "rush", REQUEST)
    assert slack["text"] == "Rush request R-00042: needed by 2 Mar for Ann &lt;Rep&gt;"
    texts = list(slack_texts(slack))
    assert "Ann &lt;Rep&gt; needs request R-00042 by 2 Mar." in texts
    assert "*Team*\nMarketing &amp; Events" in texts and "*Value*\n$420.00" in texts
    assert "*Needed by*\n2 Mar 2027" in texts and "*Lines*\n5" in texts
    assert "\u2022 25 × Navy polo — M\n\u2022 10 × Tote bag\n\u2022 3 × Booth display\nand 2 more lines" in texts
    assert texts[-1] == f"<{BASE}/requests/42|Open the request>"
    teams = request_message("teams", "rush", REQUEST)
    content = card(teams)
    assert content["actions"] == [{"type": "Action.OpenUrl", "title": "Open the request", "url": f"{BASE}/requests/42"}]
    texts = list(teams_texts(teams))
    assert texts[0] == "Rush request R-00042: needed by 2 Mar for Ann \\<Rep\\>"
    assert "Value: $420.00" in texts and "Team: Marketing & Events" in texts
    webhook = request_message("webhook", "rush", REQUEST)
    assert json.loads(json.dumps(webhook)) == webhook
    assert webhook["event"] == "rush_request" and webhook["url"] == f"{BASE}/requests/42"
    assert webhook["request"]["lines"][0] == "25 × Navy polo — M" and webhook["request"]["needed_by"] == "2027-03-02"


def test_approval_request():
    slack = request_message("slack", "approval", REQUEST)
    assert slack["text"] == "Approval needed: R-00042 for Ann &lt;Rep&gt;, needed by 2 Mar"
    assert "Ann &lt;Rep&gt;'s request R-00042 waits for approval (second approver).\nWhy: it is over $300." \
        in slack_texts(slack)
    teams = request_message("teams", "approval", REQUEST)
    assert any("waits for approval \\(second approver\\)" in text for text in teams_texts(teams))
    webhook = request_message("webhook", "approval", REQUEST)
    assert webhook["event"] == "approval_needed" and webhook["request"]["level"] == "second approver"
    with pytest.raises(ValueError):
        request_message("slack", "other", REQUEST)
    with pytest.raises(ValueError):
        request_message("email", "rush", REQUEST)


# Overdue lists -----------------------------------------------------------------------------------

def overdue_rows(count):
    return [OverdueRow(title=f"R-{n:05d} · Booth <display> & stand", who="Ann", due=date(2027, 2, 20),
                       days_overdue=9 if n else 1, url=f"{BASE}/requests/{n}") for n in range(count)]


def test_returns_overdue():
    rows = overdue_rows(3)
    slack = overdue_message("slack", "returns_overdue", rows, f"{BASE}/today")
    assert slack["text"] == "Returns overdue: 3 requests"
    texts = list(slack_texts(slack))
    assert texts[1] == (f"<{BASE}/requests/0|R-00000 · Booth &lt;display&gt; &amp; stand> \u2014 Ann \u00b7 "
                        "due back 20 Feb 2027 \u00b7 1 day overdue")
    assert texts[2].endswith("9 days overdue")
    assert texts[-1] == f"<{BASE}/today|Open the loans>"
    teams = overdue_message("teams", "deliveries_overdue",
                            [OverdueRow("PO-00017 · PrintWorks Ltd", "Bo", date(2027, 2, 26), 3, f"{BASE}/po/17")],
                            f"{BASE}/purchase-orders")
    texts = list(teams_texts(teams))
    assert texts == ["Deliveries overdue: 1 purchase order",
                     f"[PO-00017 · PrintWorks Ltd]({BASE}/po/17) \u2014 Bo · expected 26 Feb 2027 · 3 days overdue"]
    webhook = overdue_message("webhook", "returns_overdue", rows, f"{BASE}/today", total=10)
    assert json.loads(json.dumps(webhook)) == webhook
    assert webhook["count"] == 10 and webhook["more"] == 7 and webhook["rows"][0]["due"] == "2027-02-20"


def test_overdue_lists_are_cut():
    rows = overdue_rows(300)
    slack = overdue_message("slack", "returns_overdue", rows, f"{BASE}/today", total=320)
    assert len(slack["blocks"]) == 50
    assert slack["blocks"][-1]["elements"][0]["text"] == f"and {320 - 48} more: <{BASE}/today|see them all on the list>"
    teams = overdue_message("teams", "deliveries_overdue", rows, f"{BASE}/purchase-orders")
    assert size(teams) <= 28_000
    texts = list(teams_texts(teams))
    shown = len(texts) - 2
    assert texts[-1] == f"and {300 - shown} more: [see them all on the list]({BASE}/purchase-orders)"
    # The caller passed only the first rows of more: the rest are "more" even when all fit.
    slack = overdue_message("slack", "returns_overdue", rows[:2], f"{BASE}/today", total=5)
    assert slack["blocks"][-1]["elements"][0]["text"].startswith("and 3 more: ")


def test_test_message():
    slack = cards.test_message("slack", "#swag", "Mia", BASE + "/")
    assert slack["text"] == "Test message from Swag stock to #swag"
    assert "This is a test message from Swag stock to the channel #swag, sent by Mia." in slack_texts(slack)
    teams = cards.test_message("teams", "Marketing", "Mia", BASE)
    assert card(teams)["actions"][0] == {"type": "Action.OpenUrl", "title": "Open Reorders", "url": REORDERS}
    webhook = cards.test_message("webhook", "ops", "Mia", BASE)
    assert webhook == {"event": "test", "subject": "Test message from Swag stock to ops",
                       "text": "This is a test message from Swag stock to the channel ops, sent by Mia.",
                       "channel": "ops", "sent_by": "Mia", "url": REORDERS}
