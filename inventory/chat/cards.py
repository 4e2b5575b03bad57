"""The chat messages people read, as pure functions: a Slack Block Kit message, a Microsoft Teams
Adaptive Card (the Incoming Webhook / Workflow format) or a generic JSON document, for the reorder
digest, a rush request, a request waiting for approval, returns and deliveries overdue, and a test.

Each says what the matching e-mail says (templates/mail/), in the same words and order: the digest
grouped by event, most urgent first (the order its lines come in), with links to the item, the
event and the pre-filled purchase order. A message longer than the service takes is cut: Slack at
50 blocks (a section's text at 3000 characters, a header's at 150), Teams at 28 KB of JSON, the
generic JSON at 256 KB; the cut message ends with "and N more" and a link to the whole list.

Nothing here reads the database or Flask: the caller passes what the message says.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from ..forecast.models import RETIRING

if TYPE_CHECKING:
    from ..events.models import Event
    from ..mail.alerts import DigestLine, ResolvedLine

SLACK, TEAMS, WEBHOOK = "slack", "teams", "webhook"
KINDS = (SLACK, TEAMS, WEBHOOK)
RUSH, APPROVAL = "rush", "approval"
RETURNS_OVERDUE, DELIVERIES_OVERDUE = "returns_overdue", "deliveries_overdue"

SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION = 3000
SLACK_MAX_HEADER = 150
SLACK_MAX_CONTEXT = 2000
SLACK_MAX_FIELD = 2000
TEAMS_MAX_BYTES = 28 * 1000  # Teams refuses a webhook message over 28 KB: keep a margin under 28 KiB
WEBHOOK_MAX_BYTES = 256 * 1000

Message = dict[str, Any]
Block = dict[str, Any]


# Words ---------------------------------------------------------------------------------------------

def day(value: date) -> str:
    """A date as the e-mails write it: 3 Mar 2027."""
    return f"{value.day} {value:%b %Y}"


def short_day(value: date) -> str:
    """A date as the e-mails' subjects write it: 3 Mar."""
    return f"{value.day} {value:%b}"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def clip(text: str, most: int) -> str:
    """`text` cut to at most `most` characters, ending with an ellipsis when cut."""
    text = text or ""
    return text if len(text) <= most else text[:most - 1].rstrip() + "\u2026"


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"Unknown chat message kind {kind!r}: one of {', '.join(KINDS)}.")


# Slack mrkdwn ---------------------------------------------------------------------------------------

def slack_escape(text: str) -> str:
    """Text for Slack mrkdwn: &, < and > are its control characters (a name "<b>Polo & co</b>"
    must not become a link or an entity)."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str | None, text: str) -> str:
    """<url|text>, the text escaped (and its pipe, which would end the address); the bare text
    without a url."""
    label = slack_escape(text)
    if not url:
        return label
    return f"<{slack_escape(url).replace('|', '%7C')}|{label}>"


def _slack_text(text: str, most: int) -> str:
    """mrkdwn cut to `most` characters at a line boundary, so that no link is cut in half."""
    if len(text) <= most:
        return text
    lines = text.split("\n")
    while len(lines) > 1 and len("\n".join(lines)) > most - 1:
        lines.pop()
    kept = "\n".join(lines)
    if len(kept) > most - 1:  # one line too long on its own: drop its links' addresses, then cut
        kept = re.sub(r"<[^|>]*\|([^>]*)>", r"\1", kept)[:most - 1]
    return kept + "\u2026"


def slack_section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _slack_text(text, SLACK_MAX_SECTION)}}


def slack_header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(" ".join(text.split()), SLACK_MAX_HEADER),
                                       "emoji": True}}


def slack_context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_text(text, SLACK_MAX_CONTEXT)}]}


DIVIDER: Block = {"type": "divider"}


def _more_text(more: int, url: str, where: str, link: Callable[[str, str], str]) -> str:
    return f"and {more} more: {link(url, f'see them all on {where}')}"


def _slack_fit(head: list[Block], units: Sequence[tuple[list[Block], int]], tail: list[Block], total: int,
               more_url: str, where: str) -> list[Block]:
    """head, then as many units (blocks, how many items they show) as 50 blocks take, then the
    tail; when not all fit, the units that do and "and N more" (N of `total` not shown)."""
    shown = sum(count for _blocks, count in units)
    if len(head) + sum(len(blocks) for blocks, _count in units) + len(tail) <= SLACK_MAX_BLOCKS and shown >= total:
        return [*head, *(block for blocks, _count in units for block in blocks), *tail]
    out, shown = list(head), 0
    for blocks, count in units:
        if len(out) + len(blocks) > SLACK_MAX_BLOCKS - 1:
            break
        out.extend(blocks)
        shown += count
    out.append(slack_context(_more_text(total - shown, more_url, where, slack_link)))
    return out


# Teams Adaptive Card markdown --------------------------------------------------------------------

_TEAMS_SPECIAL = re.compile(r"([\\`*_\[\]()~<>])")
_TEAMS_LINE_START = re.compile(r"^(\s*)(\d+)\.(\s)|^(\s*)([-+#])")


def teams_escape(text: str) -> str:
    """Text for a TextBlock or a fact, whose markdown takes **bold**, _italic_, [links](url) and
    lists: its punctuation backslash-escaped, and no line read as a list or a heading."""
    escaped = _TEAMS_SPECIAL.sub(r"\\\1", text or "")
    return "\n".join(_TEAMS_LINE_START.sub(lambda m: (f"{m[1]}{m[2]}\\.{m[3]}" if m[2] else f"{m[4]}\\{m[5]}"), line)
                     for line in escaped.split("\n"))


def teams_link(url: str | None, text: str) -> str:
    if not url:
        return teams_escape(text)
    safe = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{teams_escape(text)}]({safe})"


def text_block(text: str, **style: Any) -> Block:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def fact_set(facts: Sequence[tuple[str, str]]) -> Block:
    return {"type": "FactSet", "facts": [{"title": title, "value": value} for title, value in facts]}


def container(items: list[Block], separator: bool = False, spacing: str | None = None) -> Block:
    block: Block = {"type": "Container", "items": items}
    if separator:
        block["separator"] = True
    if spacing:
        block["spacing"] = spacing
    return block


def _size(value: Any) -> int:
    """Bytes of `value` as JSON, measured as json.dumps writes it by default (", " and ": ", every
    non-ASCII character as \\uXXXX): the longest of the usual ways to send it."""
    return len(json.dumps(value))


def teams_card(body: list[Block], actions: list[Block], summary: str = "") -> Message:
    content: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                               "type": "AdaptiveCard", "version": "1.4", "body": body,
                               "msteams": {"width": "Full"}}
    if actions:
        content["actions"] = actions
    message: Message = {"type": "message",
                        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                         "contentUrl": None, "content": content}]}
    if summary:
        message["summary"] = summary
    return message


def open_url(title: str, url: str) -> Block:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def _teams_more(more: int, url: str, where: str) -> Block:
    return text_block(_more_text(more, url, where, teams_link), weight="Bolder", separator=True)


def _teams_fit(head: list[Block], units: Sequence[tuple[list[Block], int]], tail: list[Block], total: int,
               actions: list[Block], more_url: str, where: str, summary: str,
               most: int = TEAMS_MAX_BYTES) -> Message:
    """As _slack_fit, by the size of the whole message's JSON (at most `most` bytes)."""
    everything = teams_card([*head, *(b for blocks, _count in units for b in blocks), *tail], actions, summary)
    if _size(everything) <= most and sum(count for _b, count in units) >= total:
        return everything
    # The skeleton with the longest "and N more" it may need; each element adds its size and ", ".
    room = most - _size(teams_card([*head, _teams_more(total, more_url, where)], actions, summary))
    taken: list[tuple[list[Block], int]] = []
    for blocks, count in units:
        cost = sum(_size(block) + 2 for block in blocks)
        if cost > room:
            break
        taken.append((blocks, count))
        room -= cost

    def build() -> Message:
        shown = sum(count for _blocks, count in taken)
        return teams_card([*head, *(b for blocks, _count in taken for b in blocks),
                           _teams_more(total - shown, more_url, where)], actions, summary)

    message = build()
    while _size(message) > most and taken:  # a safeguard: the estimate above is exact
        taken.pop()
        message = build()
    return message


def _webhook_fit(message: Message, key: str, most: int = WEBHOOK_MAX_BYTES) -> Message:
    """The generic JSON with as many of the rows under `key` as `most` bytes take, in their order;
    "more" says how many were left out (on top of the `more` it had)."""
    if _size(message) <= most:
        return message
    rows, before = message[key], message.get("more", 0)
    room = most - _size({**message, key: [], "more": before + len(rows)})
    kept: list[Any] = []
    for row in rows:
        room -= _size(row) + 2
        if room < 0:
            break
        kept.append(row)
    return {**message, key: kept, "more": before + len(rows) - len(kept)}


def _webhook_digest_fit(message: Message, most: int = WEBHOOK_MAX_BYTES) -> Message:
    """The generic digest with as many lines (then resolved lines) as `most` bytes take, most
    urgent first; "more" says how many lines were left out."""
    if _size(message) <= most:
        return message
    total = sum(len(group["lines"]) for group in message["groups"]) + len(message["resolved"])
    room = most - _size({**message, "groups": [], "resolved": [], "more": total})
    groups: list[dict[str, Any]] = []
    resolved: list[Any] = []
    shown = 0
    for group in message["groups"]:
        lines: list[Any] = []
        opening = _size({**group, "lines": []}) + 2
        for line in group["lines"]:
            cost = _size(line) + 2 + (opening if not lines else 0)
            if cost > room:
                break
            lines.append(line)
            room -= cost
        if lines:
            groups.append({**group, "lines": lines})
            shown += len(lines)
        if len(lines) < len(group["lines"]):
            break
    else:
        for line in message["resolved"]:
            room -= _size(line) + 2
            if room < 0:
                break
            resolved.append(line)
    return {**message, "groups": groups, "resolved": resolved, "more": total - shown - len(resolved)}


# The reorder digest ------------------------------------------------------------------------------

def _event_words(event: Event) -> tuple[str, str]:
    """(name, ", place (ships 31 Mar 2027)") as the digest e-mail heads an event's group."""
    place = f", {event.place}" if event.place else ""
    return clip(event.name, 300), f"{clip(place, 300)} (ships {day(event.ship_by)})"


def _line_facts(line: DigestLine) -> list[tuple[str, str]]:
    """The digest e-mail's lines about a flag, as (label, value), its wording."""
    flag = line.flag
    if flag.kind == RETIRING:
        return [("Do not use after", day(flag.need_date)), ("On hand", str(flag.projected))]
    return [("Order by", day(flag.order_by)), ("Shortfall", str(flag.shortfall)),
            ("Suggested quantity", str(flag.suggested_quantity)),
            ("Supplier", clip(flag.item.supplier or "not set", 200))]


def _status(line: DigestLine) -> str:
    was = f" (was {line.previous_label})" if line.previous_label else ""
    return f"{line.flag.status_label}{was}"


def _when_line(line: DigestLine) -> str:
    """The e-mail's text lines: "Order by: 3 Mar 2027" and "Shortfall: 200; suggested quantity:
    1000" and "Supplier: PrintWorks", or "Do not use after: ...; on hand: 40"."""
    flag = line.flag
    if flag.kind == RETIRING:
        return f"Do not use after: {day(flag.need_date)}; on hand: {flag.projected}"
    return (f"Order by: {day(flag.order_by)}\nShortfall: {flag.shortfall}; suggested quantity: "
            f"{flag.suggested_quantity}\nSupplier: {clip(flag.item.supplier or 'not set', 200)}")


def _slack_digest_line(line: DigestLine) -> Block:
    flag = line.flag
    when = slack_escape(_when_line(line))
    action = f"\n{slack_link(line.po_url, line.action)}" if line.po_url else ""
    return slack_section(f"*{slack_escape(_status(line))}*: {slack_link(line.item_url, flag.item.sku)} "
                         f"({slack_escape(clip(flag.item.product.name, 300))})\n{when}\n"
                         f"Why: {slack_escape(clip(flag.reason, 1500))}{action}")


def _teams_digest_line(line: DigestLine) -> Block:
    flag = line.flag
    items = [text_block(f"**{teams_escape(_status(line))}**: {teams_link(line.item_url, flag.item.sku)} "
                        f"({teams_escape(clip(flag.item.product.name, 300))})"),
             fact_set([(title, teams_escape(value)) for title, value in _line_facts(line)]
                      + [("Why", teams_escape(clip(flag.reason, 1500)))])]
    if line.po_url:
        items.append(text_block(teams_link(line.po_url, line.action), spacing="Small"))
    return container(items, spacing="Medium")


def _resolved_words(line: ResolvedLine) -> tuple[str, str, str]:
    """(sku, " (name)", " for event") as the e-mail lists a resolved item."""
    event = f" for {clip(line.event.name, 300)}" if line.event is not None else ""
    return line.item.sku, f" ({clip(line.item.product.name, 300)})", event


def _line_json(line: DigestLine) -> dict[str, Any]:
    flag = line.flag
    return {"sku": flag.item.sku, "name": flag.item.product.name, "status": flag.status,
            "status_label": flag.status_label, "previous_status": line.previous_status,
            "kind": flag.kind, "reason": flag.reason, "order_by": flag.order_by.isoformat(),
            "need_date": flag.need_date.isoformat(), "shortfall": flag.shortfall,
            "suggested_quantity": flag.suggested_quantity, "on_hand": flag.projected,
            "supplier": flag.item.supplier, "action": line.action, "action_url": line.po_url,
            "item_url": line.item_url}


def _event_json(event: Event | None, base: str) -> dict[str, Any] | None:
    if event is None:
        return None
    return {"id": event.id, "name": event.name, "place": event.place, "ship_by": event.ship_by.isoformat(),
            "url": f"{base}/events/{event.id}"}


def digest_message(kind: str, subject: str, groups: Sequence[tuple[Event | None, Sequence[DigestLine]]],
                   resolved: Sequence[ResolvedLine], reorders_url: str, base_url: str | None = None) -> Message:
    """The reorder digest (mail/alerts.queue_reorder_digest's `groups`, `resolved` and subject)
    for `kind`. Links to events use `base_url` (by default the part of `reorders_url` before
    /reorders)."""
    _check(kind)
    base = base_url if base_url is not None else reorders_url.rstrip("/").removesuffix("/reorders")
    total = sum(len(lines) for _event, lines in groups) + len(resolved)
    if kind == WEBHOOK:
        return _webhook_digest_fit({
            "event": "reorder_digest", "subject": subject,
            "groups": [{"event": _event_json(event, base), "lines": [_line_json(line) for line in lines]}
                       for event, lines in groups],
            "resolved": [{"sku": line.item.sku, "name": line.item.product.name,
                          "event": _event_json(line.event, base), "item_url": line.item_url} for line in resolved],
            "more": 0, "url": reorders_url})
    if kind == SLACK:
        units: list[tuple[list[Block], int]] = []
        for number, (event, lines) in enumerate(groups):
            if event is not None:
                name, rest = _event_words(event)
                heading = f"*{slack_link(f'{base}/events/{event.id}', name)}*{slack_escape(rest)}"
            else:
                heading = "*General stock*"
            opening = ([DIVIDER] if number else []) + [slack_section(heading)]
            for position, line in enumerate(lines):
                units.append(([*(opening if position == 0 else []), _slack_digest_line(line)], 1))
        for position, resolved_line in enumerate(resolved):
            sku, name, for_event = _resolved_words(resolved_line)
            opening = ([DIVIDER] if groups else []) + [slack_section("*Resolved (no longer flagged)*")]
            units.append(([*(opening if position == 0 else []),
                           slack_section(f"\u2022 {slack_link(resolved_line.item_url, sku)}"
                                         f"{slack_escape(name + for_event)}")], 1))
        blocks = _slack_fit([slack_header(subject)], units, [slack_context(slack_link(reorders_url, "All reorders"))],
                            total, reorders_url, "Reorders")
        return {"text": slack_escape(subject), "blocks": blocks}
    teams_units: list[tuple[list[Block], int]] = []
    for number, (event, lines) in enumerate(groups):
        if event is not None:
            name, rest = _event_words(event)
            heading = f"{teams_link(f'{base}/events/{event.id}', name)}{teams_escape(rest)}"
        else:
            heading = "General stock"
        opening = [text_block(heading, weight="Bolder", size="Medium", separator=bool(number), spacing="Large")]
        for position, line in enumerate(lines):
            teams_units.append(([*(opening if position == 0 else []), _teams_digest_line(line)], 1))
    for position, resolved_line in enumerate(resolved):
        sku, name, for_event = _resolved_words(resolved_line)
        opening = [text_block("Resolved (no longer flagged)", weight="Bolder", size="Medium",
                              separator=bool(groups), spacing="Large")]
        teams_units.append(([*(opening if position == 0 else []),
                             text_block(f"{teams_link(resolved_line.item_url, sku)}{teams_escape(name + for_event)}",
                                        spacing="Small")], 1))
    return _teams_fit([text_block(teams_escape(subject), weight="Bolder", size="Large")], teams_units, [], total,
                      [open_url("Open Reorders", reorders_url)], reorders_url, "Reorders", subject)


# Requests: rush, waiting for approval -------------------------------------------------------------

@dataclass(frozen=True)
class RequestSummary:
    """What a chat message says about a request."""
    number: str  # R-00042
    requester: str  # the requester's name (or e-mail address)
    team: str | None
    needed_by: date
    value: str  # in words and currency: "$420.00"
    line_count: int
    lines: tuple[str, ...]  # the first few lines, each "25 × Navy polo — M"
    url: str  # the request's page (for an approver, their signed approval link)
    level: str | None = None  # for approval: which level waits, in words ("the team's approver")
    why: str | None = None  # for approval: why this level, in words


def _request_words(topic: str, request: RequestSummary) -> tuple[str, str, str]:
    """(subject, headline, detail) as the e-mails (requests/emails.py) word them."""
    who, by = request.requester, short_day(request.needed_by)
    if topic == RUSH:
        return (f"Rush request {request.number}: needed by {by} for {who}",
                f"{who} needs request {request.number} by {by}.", "")
    if topic == APPROVAL:
        level = f" ({request.level})" if request.level else ""
        return (f"Approval needed: {request.number} for {who}, needed by {by}",
                f"{who}'s request {request.number} waits for approval{level}.",
                f"Why: {request.why}." if request.why else "")
    raise ValueError(f"Unknown request topic {topic!r}: {RUSH} or {APPROVAL}.")


def _request_facts(request: RequestSummary) -> list[tuple[str, str]]:
    return [("Requester", request.requester), ("Team", request.team or "no team"),
            ("Needed by", day(request.needed_by)), ("Value", request.value),
            ("Lines", str(request.line_count))]


def _more_lines(request: RequestSummary, shown: int) -> str:
    more = max(request.line_count, len(request.lines)) - shown
    return f"and {plural(more, 'more line')}" if more > 0 else ""


def request_message(kind: str, topic: str, request: RequestSummary) -> Message:
    """A rush request, or a request waiting for approval, for `kind`."""
    _check(kind)
    subject, headline, detail = _request_words(topic, request)
    lines = [clip(line, 300) for line in request.lines[:10]]
    more = _more_lines(request, len(lines))
    if kind == WEBHOOK:
        return {"event": "rush_request" if topic == RUSH else "approval_needed", "subject": subject,
                "text": " ".join(filter(None, [headline, detail])),
                "request": {"number": request.number, "requester": request.requester, "team": request.team,
                            "needed_by": request.needed_by.isoformat(), "value": request.value,
                            "line_count": request.line_count, "lines": list(request.lines),
                            "level": request.level, "why": request.why},
                "url": request.url}
    if kind == SLACK:
        blocks = [slack_header(subject),
                  slack_section("\n".join(filter(None, [slack_escape(headline), slack_escape(detail)]))),
                  {"type": "section", "fields": [{"type": "mrkdwn",
                                                  "text": _slack_text(f"*{title}*\n{slack_escape(value)}",
                                                                      SLACK_MAX_FIELD)}
                                                 for title, value in _request_facts(request)]}]
        if lines:
            blocks.append(slack_section("\n".join([*(f"\u2022 {slack_escape(line)}" for line in lines),
                                                   *([more] if more else [])])))
        blocks.append(slack_section(slack_link(request.url, "Open the request")))
        return {"text": slack_escape(subject), "blocks": blocks}
    body = [text_block(teams_escape(subject), weight="Bolder", size="Large"),
            text_block(teams_escape(" ".join(filter(None, [headline, detail])))),
            fact_set([(title, teams_escape(value)) for title, value in _request_facts(request)])]
    if lines:
        body.append(text_block("\n".join(f"- {teams_escape(line)}" for line in lines)
                               + (f"\n\n{more}" if more else "")))
    return teams_card(body, [open_url("Open the request", request.url)], subject)


# Overdue lists: returns, deliveries ---------------------------------------------------------------

@dataclass(frozen=True)
class OverdueRow:
    """One late thing: a request's returnables, or a purchase order's delivery."""
    title: str  # "R-00042 · Booth display", "PO-00017 · PrintWorks Ltd"
    who: str  # the requester, or who placed the order
    due: date
    days_overdue: int
    url: str


_OVERDUE = {RETURNS_OVERDUE: ("Returns overdue", "request", "due back", "Open the loans"),
            DELIVERIES_OVERDUE: ("Deliveries overdue", "purchase order", "expected", "Open the purchase orders")}


def _overdue_words(row: OverdueRow, due_word: str) -> tuple[str, str]:
    """(title, " — who · due back 3 Mar 2027 · 5 days overdue")."""
    return clip(row.title, 300), (f" \u2014 {clip(row.who, 200)} \u00b7 {due_word} {day(row.due)} \u00b7 "
                                  f"{plural(row.days_overdue, 'day')} overdue")


def overdue_message(kind: str, topic: str, rows: Sequence[OverdueRow], list_url: str,
                    total: int | None = None) -> Message:
    """Returns or deliveries overdue, most overdue as the rows come; `total` (at least len(rows)) when
    the caller passes only the first of more rows."""
    _check(kind)
    if topic not in _OVERDUE:
        raise ValueError(f"Unknown overdue topic {topic!r}: {RETURNS_OVERDUE} or {DELIVERIES_OVERDUE}.")
    heading, noun, due_word, open_title = _OVERDUE[topic]
    count = max(total or 0, len(rows))
    subject = f"{heading}: {plural(count, noun)}"
    if kind == WEBHOOK:
        return _webhook_fit({"event": topic, "subject": subject, "count": count,
                             "rows": [{"title": row.title, "who": row.who, "due": row.due.isoformat(),
                                       "days_overdue": row.days_overdue, "url": row.url} for row in rows],
                             "more": count - len(rows), "url": list_url}, "rows")
    if kind == SLACK:
        units = []
        for row in rows:
            title, rest = _overdue_words(row, due_word)
            units.append(([slack_section(f"{slack_link(row.url, title)}{slack_escape(rest)}")], 1))
        blocks = _slack_fit([slack_header(subject)], units, [slack_context(slack_link(list_url, open_title))],
                            count, list_url, "the list")
        return {"text": slack_escape(subject), "blocks": blocks}
    teams_units = []
    for row in rows:
        title, rest = _overdue_words(row, due_word)
        teams_units.append(([text_block(f"{teams_link(row.url, title)}{teams_escape(rest)}", spacing="Small")], 1))
    return _teams_fit([text_block(teams_escape(subject), weight="Bolder", size="Large")], teams_units, [], count,
                      [open_url(open_title, list_url)], list_url, "the list", subject)


# A test message ----------------------------------------------------------------------------------

def test_message(kind: str, channel_name: str, sent_by: str, base_url: str) -> Message:
    """What "Send a test message" posts to a channel."""
    _check(kind)
    base = base_url.rstrip("/")
    subject = f"Test message from Swag stock to {channel_name}"
    text = f"This is a test message from Swag stock to the channel {channel_name}, sent by {sent_by}."
    if kind == WEBHOOK:
        return {"event": "test", "subject": subject, "text": text, "channel": channel_name, "sent_by": sent_by,
                "url": f"{base}/reorders"}
    if kind == SLACK:
        return {"text": slack_escape(subject),
                "blocks": [slack_header(subject), slack_section(slack_escape(text)),
                           slack_context(f"Reorders: {slack_link(f'{base}/reorders', f'{base}/reorders')}")]}
    return teams_card([text_block(teams_escape(subject), weight="Bolder", size="Large"),
                       text_block(teams_escape(text))],
                      [open_url("Open Reorders", f"{base}/reorders")], subject)



__all__ = ["digest_message", "request_message", "overdue_message", "test_message", "RequestSummary", "OverdueRow",
           "KINDS", "SLACK", "TEAMS", "WEBHOOK"]
