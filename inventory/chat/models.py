"""A chat channel: where chat notifications go (a Slack or Teams incoming webhook, or a generic
signed webhook), which topics it takes, and whether it is only about one event or team."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ..timeutil import utcnow

SLACK, TEAMS, WEBHOOK = "slack", "teams", "webhook"
KINDS = (SLACK, TEAMS, WEBHOOK)
DIGEST = "digest"
TOPICS = (DIGEST, "rush", "approvals", "returns_overdue", "deliveries_overdue")


class ChatChannel(Model):
    """One destination. The URL is a secret (whoever has it may post): it is stored encrypted
    (chat/secrets.py) and shown only as `url_hint`."""

    __tablename__ = "chat_channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    url_encrypted: Mapped[str] = mapped_column(Text)
    url_hint: Mapped[str] = mapped_column(String(300))  # "hooks.slack.com/…Xy4Z"
    secret_encrypted: Mapped[str | None] = mapped_column(Text)  # the generic webhook's HMAC key
    topics: Mapped[str] = mapped_column(String(200), default="")  # comma list of TOPICS
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def topic_list(self) -> list[str]:
        return [topic.strip() for topic in self.topics.split(",") if topic.strip()]
