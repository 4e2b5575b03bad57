"""The reorder digest in the chat channels that take it: the same news as the e-mail (mail/alerts.py
decides what is new, once, for both), as each channel's kind of message (cards.py), queued in
the digest's own transaction."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..events.models import Event
from ..mail.alerts import DigestLine, ResolvedLine
from . import cards
from .models import DIGEST, ChatChannel
from .services import enqueue_chat


def digest_channels(session: Session) -> list[ChatChannel]:
    """The active channels taking the digest, whatever event they are about (a team filter does not
    apply: the digest is about stock, not a team's requests)."""
    channels = session.scalars(select(ChatChannel).where(ChatChannel.active.is_(True)).order_by(ChatChannel.id))
    return [channel for channel in channels if DIGEST in channel.topic_list]


def queue_to_channels(session: Session, subject: str, groups: list[tuple[Event | None, list[DigestLine]]],
                      resolved: list[ResolvedLine], reorders_url: str) -> int:
    """One message per channel taking the digest (a channel about one event gets that event's
    lines only, and nothing when it has none); returns how many were queued."""
    queued = 0
    for channel in digest_channels(session):
        own = groups if channel.event_id is None else [(event, lines) for event, lines in groups
                                                         if event is not None and event.id == channel.event_id]
        mine = resolved if channel.event_id is None else [line for line in resolved
                                                         if line.event is not None and line.event.id == channel.event_id]
        if not own and not mine:
            continue
        enqueue_chat(session, channel, subject, cards.digest_message(channel.kind, subject, own, mine, reorders_url))
        queued += 1
    return queued
