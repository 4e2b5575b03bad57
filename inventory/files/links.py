"""The address of a share link: /s/<token>, the token naming the share row, signed with
SECRET_KEY (itsdangerous, its own salt). The signature makes it unguessable; whether it still
opens (its expiry, a revocation) is the row's, so that a link can be ended early."""
from __future__ import annotations

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "file-share"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def share_token(share_id: int) -> str:
    return str(_serializer().dumps(share_id))


def share_url(share_id: int) -> str:
    """The whole address a client opens (the pages and the API give out the same one)."""
    return url_for("files.open_share", token=share_token(share_id), _external=True)


def read_token(token: str) -> int | None:
    """The share id of a token this app signed, or None."""
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31 else None
