"""Time helpers: the database stores naive UTC; pages show it in words."""
from datetime import date, datetime, timezone


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today():
    """Today's date where a rule must agree with the pages on it (the stored reorder flags);
    tests replace it to fix the calendar."""
    return date.today()
