"""The signed link in an approval e-mail: /approvals/<token>, the token naming the request, the
approver it was sent to and the level it asks them to fill, signed with SECRET_KEY (itsdangerous,
its own salt). It grants nothing by itself: opening it needs that approver signed in, and it
works only while the request still waits for that level; once decided (approved at that level,
rejected, cancelled) it has expired, and the page says what became of the request."""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "approval-link"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def approval_token(request_id: int, user_id: int, level: str) -> str:
    return str(_serializer().dumps([request_id, user_id, str(level)]))


def approval_path(request_id: int, user_id: int, level: str) -> str:
    return f"/approvals/{approval_token(request_id, user_id, level)}"


def read_token(token: str) -> tuple[int, int, str] | None:
    """(request id, user id, level) of a token this app signed, or None."""
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    if (not isinstance(value, list) or len(value) != 3 or not all(isinstance(v, int) for v in value[:2])
            or not isinstance(value[2], str)):
        return None
    return value[0], value[1], value[2]
