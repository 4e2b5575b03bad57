"""The events calendar as an iCalendar feed (`/events.ics`), and how subscribers authenticate.

Calendar apps (Google Calendar, Outlook, Apple Calendar) fetch a feed URL on their own schedule,
often from their own servers: they cannot log in or keep a session cookie. So each user gets a
personal secret feed URL, `/events.ics?token=<user id>.<key>`, shown on the events page, where
the key is an HMAC-SHA256 of the user's id and their feed secret (`user.feed_secret`) under a
key derived from the app's SECRET_KEY:

- the link can be shown again at any time; *New link* on the events page changes the user's
  feed secret, which turns the old link off (a link pasted somewhere it should not be);
- the feed answers only while that user is active and their role may see events, checked on
  every fetch; deactivating the user also changes the secret, so reactivating them does not
  bring an old link back;
- rotating SECRET_KEY turns every feed link off at once (and every session), the way to go if
  links have leaked;
- the token opens the feed and nothing else: it is not an API token and no page accepts it;
- access logs show it as `token=[redacted]` (core/access_log.py).

The feed carries what the events page shows everyone (name, place, dates, ship-by and return-by,
a link to the event page); notes stay in the app, since a subscribed calendar copies the feed
onto servers outside it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timezone

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.models import User
from ..text import MAX_INTEGER, is_digits, whole_number
from ..timeutil import add_days
from .models import Event

_PURPOSE = b"inventory events.ics feed key v1"


def _key(secret_key: str | bytes) -> bytes:
    secret = secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key)
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


def _mac(user_id: int, feed_secret: str | None, secret_key: str | bytes) -> str:
    # Users from before feed secrets (None) keep the link they had until they ask for a new one.
    message = f"user:{user_id}" if feed_secret is None else f"user:{user_id}:{feed_secret}"
    digest = hmac.new(_key(secret_key), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def feed_token(user: User, secret_key: str | bytes) -> str:
    """The user's personal feed token: stable until *New link*, deactivation or a new SECRET_KEY."""
    return f"{user.id}.{_mac(user.id, user.feed_secret, secret_key)}"


def user_for_feed_token(session: Session, token: str | None, secret_key: str | bytes) -> User | None:
    """The active user a feed token belongs to, or None (compared in constant time)."""
    digits, _, mac = (token or "").partition(".")
    user_id = whole_number(digits) if is_digits(digits) else None  # "²" and "٣" are no ids
    if user_id is None or user_id > MAX_INTEGER or not mac:
        return None
    user = session.get(User, user_id)
    if user is None:
        return None
    if not hmac.compare_digest(mac.encode(), _mac(user.id, user.feed_secret, secret_key).encode()):
        return None
    return user if user.active else None


def calendar(events: Iterable[Event], event_url: Callable[[Event], str], host: str,
             now: datetime | None = None) -> bytes:
    """An iCalendar (RFC 5545) document of all-day events. `event_url(event)` gives each event's
    page; `host` makes the UIDs unique to this installation. Cancelled events stay in the feed with
    STATUS:CANCELLED, so that subscribed calendars mark them rather than keep a stale copy."""
    now = now or datetime.now(timezone.utc)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Swag stock//Events//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "Swag stock events")
    cal.add("x-published-ttl", "PT1H")
    for event in events:
        entry = icalendar.Event()
        entry.add("uid", f"event-{event.id}@{host}")
        entry.add("dtstamp", now)
        entry.add("created", event.created_at.replace(tzinfo=timezone.utc))
        entry.add("summary", event.name + (" (cancelled)" if event.cancelled else ""))
        entry.add("dtstart", event.starts_on)
        entry.add("dtend", add_days(event.ends_on, 1))  # all-day: the end is exclusive
        entry.add("transp", "TRANSPARENT")
        entry.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
        if event.place:
            entry.add("location", event.place)
        lines = [f"Ship by {event.ship_by:%a %-d %b %Y}."]
        if event.return_by:
            lines.append(f"Returnables back by {event.return_by:%a %-d %b %Y}.")
        url = event_url(event)
        lines.append(url)
        entry.add("description", "\n".join(lines))
        entry.add("url", url)
        cal.add_component(entry)
    return cal.to_ical()


def events_for_feed(session: Session, today: date, days_back: int = 180) -> Sequence[Event]:
    """What the calendar feed serves: the last half year and everything ahead."""
    return session.scalars(
        select(Event).where(Event.ends_on >= add_days(today, -days_back))
        .order_by(Event.starts_on, Event.id)
    ).all()
