"""One POST to a webhook, and what its answer means for the outbox.

2xx: sent. 429: try again after Retry-After (seconds or an HTTP date, at most an hour). 5xx,
timeouts, refused or dropped connections, an answer cut off: try again with the outbox's
back-off. Any other answer (4xx, and 3xx: redirects are never followed): failed at once, with the
status and the start of the answer's body. The generic webhook's body is signed: X-Swag-Timestamp
(unix seconds) and X-Swag-Signature "sha256=" + hex HMAC-SHA256(secret, "<timestamp>." + body).
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from .addresses import Checked, PinnedHTTPConnection, PinnedHTTPSConnection

CHAT_CONNECT_TIMEOUT = 5.0
CHAT_READ_TIMEOUT = 10.0
MAX_RETRY_AFTER = timedelta(hours=1)
MAX_ANSWER = 64 * 1024  # of an answer's body read; 300 characters of it are kept
EXCERPT = 300

SENT, RETRY, FAILED = "sent", "retry", "failed"


@dataclass
class Outcome:
    result: str  # SENT, RETRY or FAILED
    status: int | None = None
    error: str = ""  # in words, for last_error
    retry_after: timedelta | None = None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def headers_for(kind: str, body: bytes, secret: str | None, message_id: str | None = None,
                now: float | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "swag-stock-chat/1"}
    if message_id:
        # The same on every try, so that a receiver can drop a copy sent again after a lost answer.
        headers["X-Swag-Message-Id"] = message_id
    if kind == "webhook" and secret:
        timestamp = int(now if now is not None else time.time())
        headers["X-Swag-Timestamp"] = str(timestamp)
        headers["X-Swag-Signature"] = sign(secret, timestamp, body)
    return headers


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as a delay (seconds or an HTTP date), at most MAX_RETRY_AFTER; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(timedelta(seconds=int(value)), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return max(min(when - now, MAX_RETRY_AFTER), timedelta(0))


def _excerpt(body: bytes) -> str:
    return " ".join(body.decode("utf-8", "replace").split())[:EXCERPT]


def post(checked: Checked, body: bytes, headers: Mapping[str, str], config: Mapping[str, Any] | None = None,
         now: datetime | None = None) -> Outcome:
    """POST `body` to the checked address (never following a redirect); the Outcome."""
    config = config or {}
    connect_timeout = float(config.get("CHAT_CONNECT_TIMEOUT") or CHAT_CONNECT_TIMEOUT)
    read_timeout = float(config.get("CHAT_READ_TIMEOUT") or CHAT_READ_TIMEOUT)
    kind = PinnedHTTPSConnection if checked.url.scheme == "https" else PinnedHTTPConnection
    connection = kind(checked.host, checked.ip, checked.port, connect_timeout, read_timeout)
    try:
        connection.request("POST", checked.target, body=body, headers=dict(headers))
        response = connection.getresponse()
        # Never more than MAX_ANSWER (the connection is closed after); an answer cut short of its
        # Content-Length raises IncompleteRead.
        small = response.length is not None and response.length <= MAX_ANSWER
        answer = response.read() if small else response.read(MAX_ANSWER)
    except TimeoutError:
        return Outcome(RETRY, error=f"no answer from {checked.host} within the time allowed")
    except http.client.IncompleteRead:
        return Outcome(RETRY, error=f"{checked.host} closed the connection in the middle of its answer")
    except http.client.RemoteDisconnected:
        return Outcome(RETRY, error=f"{checked.host} closed the connection without answering")
    except (OSError, http.client.HTTPException) as error:
        detail = str(error) or type(error).__name__
        return Outcome(RETRY, error=f"cannot reach {checked.host}: {detail}")
    finally:
        connection.close()
    status = response.status
    said = f"{checked.host} answered {status} {response.reason}".rstrip()
    excerpt = _excerpt(answer)
    if excerpt:
        said += f": {excerpt}"
    if 200 <= status < 300:
        return Outcome(SENT, status=status)
    if status == 429:
        return Outcome(RETRY, status=status, error=said,
                       retry_after=retry_after(response.getheader("Retry-After"), now or _utcnow()))
    if status >= 500:
        return Outcome(RETRY, status=status, error=said)
    if 300 <= status < 400:
        said += f" (a redirect to {response.getheader('Location') or '?'}: not followed)"
    return Outcome(FAILED, status=status, error=said)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
