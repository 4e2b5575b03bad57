"""Time helpers: the database stores naive UTC; pages show it in words."""
from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)
