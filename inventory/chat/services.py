"""The chat rules: channels (created, changed, deleted), which channels take a notification, a
chat message queued in the caller's transaction, and a test message sent at once.

Config comes as a Mapping (SECRET_KEY for the encryption, ALLOW_PRIVATE_WEBHOOKS for the address
check), as for mail: the rules never touch a Flask request.
"""
from __future__ import annotations

import json
import secrets as random_secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select, update

from ..budgets.models import Team
from ..database import SessionLike, unit_of_work
from ..errors import Conflict, DomainError, InvalidInput, NotFound
from ..events.models import Event
from ..mail.models import FAILED, QUEUED, OutboxMessage
from .addresses import check_url, url_hint
from .delivery import SENT, headers_for, post
from . import cards
from .models import KINDS, TOPICS, WEBHOOK, ChatChannel
from .secrets import decrypt, encrypt

CHAT_KIND = "chat"  # OutboxMessage.kind of a chat message


def allow_private(config: Mapping[str, Any]) -> bool:
    return bool(config.get("ALLOW_PRIVATE_WEBHOOKS"))


def enqueue_chat(session: SessionLike, channel: ChatChannel, title: str, payload: Mapping[str, Any]) -> OutboxMessage:
    """Add one chat message for `channel` to the caller's session (it commits, or rolls back, with
    the caller's transaction); `send_chat_pending` posts it later. Returns the OutboxMessage."""
    if channel.id is None:
        session.flush()
    message = OutboxMessage(
        to=channel.name, subject=title[:250], text_body="", html_body="", kind=CHAT_KIND,
        channel_id=channel.id, payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        status=QUEUED, attempts=0, last_error="",
    )
    session.add(message)
    return message


def channels_for(session: SessionLike, topic: str, event_id: int | None = None,
                 team_id: int | None = None) -> list[ChatChannel]:
    """The active channels taking `topic`, whose event and team (when they name one) are those given."""
    channels = session.scalars(select(ChatChannel).where(ChatChannel.active.is_(True)).order_by(ChatChannel.id))
    return [channel for channel in channels
            if topic in channel.topic_list
            and channel.event_id in (None, event_id) and channel.team_id in (None, team_id)]


def _topics(topics: str | Iterable[str]) -> str:
    names = topics.split(",") if isinstance(topics, str) else list(topics)
    chosen = [name.strip() for name in names if name and name.strip()]
    unknown = [name for name in chosen if name not in TOPICS]
    if unknown:
        raise InvalidInput(f"Unknown topic {', '.join(unknown)}: choose from {', '.join(TOPICS)}.")
    return ",".join(topic for topic in TOPICS if topic in chosen)


def _name(session: SessionLike, name: str, channel_id: int | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("A channel needs a name.")
    if len(name) > 80:
        raise InvalidInput("A channel's name has at most 80 characters.")
    other = session.scalar(select(ChatChannel.id).where(ChatChannel.name == name))
    if other is not None and other != channel_id:
        raise Conflict(f"There is a channel named {name} already.")
    return name


def _set_url(config: Mapping[str, Any], channel: ChatChannel, url: str) -> None:
    url = (url or "").strip()
    check_url(url, allow_private(config))
    channel.url_encrypted = encrypt(config, url)
    channel.url_hint = url_hint(url)


def _set_scope(session: SessionLike, channel: ChatChannel, event_id: int | None, team_id: int | None) -> None:
    if event_id is not None and session.get(Event, event_id) is None:
        raise NotFound(f"No event #{event_id}.")
    if team_id is not None and session.get(Team, team_id) is None:
        raise NotFound(f"No team #{team_id}.")
    channel.event_id, channel.team_id = event_id, team_id


@unit_of_work
def create_channel(session: SessionLike, config: Mapping[str, Any], name: str, kind: str, url: str,
                   topics: str | Iterable[str], event_id: int | None = None, team_id: int | None = None,
                   secret: str | None = None, active: bool = True) -> ChatChannel:
    """A new channel, its URL checked (check_url) and stored encrypted. A generic webhook gets an
    HMAC key (`secret`, or a new random one): read it back with `channel_secret`."""
    if kind not in KINDS:
        raise InvalidInput(f"A channel is one of {', '.join(KINDS)}, not {kind!r}.")
    channel = ChatChannel(name=_name(session, name, None), kind=kind, topics=_topics(topics), active=active)
    _set_url(config, channel, url)
    _set_scope(session, channel, event_id, team_id)
    if kind == WEBHOOK:
        channel.secret_encrypted = encrypt(config, secret or random_secrets.token_urlsafe(32))
    session.add(channel)
    session.flush()
    return channel


_UNCHANGED: Any = object()


@unit_of_work
def update_channel(session: SessionLike, config: Mapping[str, Any], channel_id: int, *, name: str | None = None,
                   url: str | None = None, topics: str | Iterable[str] | None = None,
                   event_id: int | None = _UNCHANGED, team_id: int | None = _UNCHANGED,
                   secret: str | None = None, active: bool | None = None) -> ChatChannel:
    """Change what is given (None, or nothing, keeps the rest; an empty URL keeps the stored one)."""
    channel = session.get(ChatChannel, channel_id, with_for_update=True)
    if channel is None:
        raise NotFound(f"No chat channel #{channel_id}.")
    if name is not None:
        channel.name = _name(session, name, channel.id)
    if url:
        _set_url(config, channel, url)
    if topics is not None:
        channel.topics = _topics(topics)
    _set_scope(session, channel, channel.event_id if event_id is _UNCHANGED else event_id,
               channel.team_id if team_id is _UNCHANGED else team_id)
    if secret and channel.kind == WEBHOOK:
        channel.secret_encrypted = encrypt(config, secret)
    if active is not None:
        channel.active = active
    return channel


@unit_of_work
def delete_channel(session: SessionLike, channel_id: int) -> None:
    """Delete a channel: its messages still queued fail ("the channel was deleted"), and all its
    outbox rows stay, listed under the channel's name."""
    channel = session.get(ChatChannel, channel_id, with_for_update=True)
    if channel is None:
        raise NotFound(f"No chat channel #{channel_id}.")
    session.execute(
        update(OutboxMessage).where(OutboxMessage.channel_id == channel.id, OutboxMessage.status == QUEUED)
        .values(status=FAILED, last_error=f"the channel {channel.name} was deleted")
        .execution_options(synchronize_session=False))
    session.execute(
        update(OutboxMessage).where(OutboxMessage.channel_id == channel.id)
        .values(channel_id=None).execution_options(synchronize_session=False))
    session.delete(channel)


def channel_secret(config: Mapping[str, Any], channel: ChatChannel) -> str | None:
    """The generic webhook's HMAC key, for the admin to give the receiver."""
    return decrypt(config, channel.secret_encrypted) if channel.secret_encrypted else None


def test_payload(channel: ChatChannel, requested_by: str, base_url: str = "") -> dict[str, Any]:
    """The test message in the channel's own kind (a Teams workflow takes only an Adaptive Card)."""
    return cards.test_message(channel.kind, channel.name, requested_by, base_url)


def send_test(config: Mapping[str, Any], channel: ChatChannel, requested_by: str = "an admin",
              payload: Mapping[str, Any] | None = None) -> str:
    """Post one small test message straight away, not through the outbox; the server's answer in
    words, or DomainError with it (status and the start of the answer's body)."""
    url = decrypt(config, channel.url_encrypted)
    checked = check_url(url, allow_private(config))
    body = json.dumps(payload or test_payload(channel, requested_by, config.get("BASE_URL") or "")).encode()
    outcome = post(checked, body, headers_for(channel.kind, body, channel_secret(config, channel)), config)
    if outcome.result != SENT:
        raise DomainError(f"The test message to {channel.name} ({channel.url_hint}) did not go through: "
                          f"{outcome.error}")
    return f"{checked.host} answered {outcome.status}: the test message went through."


def channel_names(channels: Sequence[ChatChannel]) -> str:
    return ", ".join(channel.name for channel in channels)
