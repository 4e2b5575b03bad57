"""Time helpers: the database stores naive UTC; pages show it in words."""
import re
from datetime import date, datetime, timezone


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today():
    """Today's date where a rule must agree with the pages on it (the stored reorder flags);
    tests replace it to fix the calendar."""
    return date.today()


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def parse_date(text):
    """The date `text` writes as YYYY-MM-DD (surrounding spaces allowed), or None when it writes
    none. Stricter than date.fromisoformat, which since Python 3.11 also reads "20261220" and
    "2026-W51-1", forms the API and the files promise nothing about."""
    text = text.strip() if isinstance(text, str) else ""
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return None
