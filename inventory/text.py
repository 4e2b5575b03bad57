"""Text from users, made safe for queries."""


def clean(text):
    """Strip spaces and NUL characters (PostgreSQL cannot store or compare text with NUL)."""
    return (text or "").replace("\x00", "").strip()


def contains(text):
    """A LIKE pattern matching `text` anywhere, lower-cased, with % and _ taken literally.
    Use with `.like(pattern, escape="\\\\")`."""
    escaped = clean(text).lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
