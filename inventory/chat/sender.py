"""Chat messages through the outbox, exactly once: the e-mail sender's claim (SKIP LOCKED on
PostgreSQL), its claim check before each post, and its marking and back-off (mail/services.py),
for the outbox rows that have a channel.

A message whose channel was made inactive or deleted, whose URL cannot be decrypted (SECRET_KEY
changed) or no longer passes the address check, or that the server refuses (a 4xx other than
429) fails at once. A 429 waits at least its Retry-After; 5xx, timeouts and connection errors
wait the outbox's back-off. When a channel's server did not take a message (no answer, a 5xx, or
a 429), the rest of that channel's messages in the run are put back with the same error without
trying: a hung server costs one read timeout per run, not one per message.
"""
from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ..database import SessionLike
from ..errors import InvalidInput
from ..mail.services import (MAX_RUN, InWords, SendResult, _claim, _hand_back, _mark_sent, _record_failure,
                             _still_mine)
from .addresses import Unresolvable, check_url
from .delivery import FAILED, SENT, Outcome, headers_for, post
from .models import ChatChannel
from .secrets import Undecryptable, decrypt
from .services import allow_private


def outbox_message_id(message_id: int) -> str:
    return f"outbox-{message_id}"


def send_chat_pending(session: SessionLike, config: Mapping[str, Any], now: datetime, batch: int = 50,
                      max_run: timedelta = MAX_RUN) -> SendResult:
    """Post up to `batch` due chat messages; a SendResult. Needs no mail settings."""
    claimer = f"{socket.gethostname()}:{uuid.uuid4().hex[:12]}"
    messages = _claim(session, now, batch, claimer, chat=True)
    result = SendResult()
    started = time.monotonic()
    held: dict[int, Outcome] = {}  # channel id -> why the rest of its messages wait

    def clock() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    def give_up(message: Any, words: str) -> None:
        _record_failure(session, message, now, InWords(words), result, give_up=True, claimer=claimer)

    for position, message in enumerate(messages):
        if clock() - now >= max_run:
            _hand_back(session, messages[position:], claimer)
            break
        channel = session.get(ChatChannel, message.channel_id) if message.channel_id is not None else None
        if channel is None:
            give_up(message, f"the channel {message.to} was deleted")
            continue
        if not channel.active:
            give_up(message, f"the channel {channel.name} is inactive")
            continue
        if channel.id in held:
            outcome = held[channel.id]
            _record_failure(session, message, now, InWords(outcome.error), result, claimer=claimer,
                            not_before=clock() + outcome.retry_after if outcome.retry_after else None)
            continue
        try:
            url = decrypt(config, channel.url_encrypted)
            secret = decrypt(config, channel.secret_encrypted) if channel.secret_encrypted else None
        except Undecryptable as error:
            give_up(message, error.message)
            continue
        try:
            checked = check_url(url, allow_private(config))
        except Unresolvable as error:
            _record_failure(session, message, now, InWords(error.message), result, claimer=claimer)
            continue
        except InvalidInput as error:
            give_up(message, f"the channel {channel.name}'s address is refused: {error.message}")
            continue
        channel_id, kind, payload = channel.id, channel.kind, message.payload
        if not _still_mine(session, message, claimer, clock()):
            continue  # another sender has it now: it posts it, not us
        body = payload.encode()
        outcome = post(checked, body, headers_for(kind, body, secret, outbox_message_id(message.id)), config, clock())
        if outcome.result == SENT:
            _mark_sent(session, message, claimer, clock())
            result.sent += 1
        elif outcome.result == FAILED:
            give_up(message, outcome.error)
        else:
            held[channel_id] = outcome
            _record_failure(session, message, now, InWords(outcome.error), result, claimer=claimer,
                            not_before=clock() + outcome.retry_after if outcome.retry_after else None)
    return result
