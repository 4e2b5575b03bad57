"""Webhook URLs and keys, encrypted at rest: Fernet, its key derived from SECRET_KEY with
HKDF-SHA256. A URL is a credential (whoever has it may post to the channel): it is never logged
and never shown in full again once saved; pages show the channel's url_hint."""
from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import DomainError

INFO = b"chat-webhook-url"


class Undecryptable(DomainError):
    pass


def _fernet(config: Mapping[str, Any]) -> Fernet:
    secret_key = config.get("SECRET_KEY")
    if not secret_key:
        raise Undecryptable("SECRET_KEY is not set: chat webhook addresses cannot be stored or read.")
    raw = secret_key if isinstance(secret_key, bytes) else str(secret_key).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(raw)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(config: Mapping[str, Any], clear: str) -> str:
    return _fernet(config).encrypt(clear.encode()).decode("ascii")


def decrypt(config: Mapping[str, Any], token: str) -> str:
    """The clear text, or Undecryptable in words (e.g. SECRET_KEY changed since it was saved)."""
    try:
        return _fernet(config).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError, UnicodeError):
        raise Undecryptable("The channel's webhook address cannot be decrypted with this SECRET_KEY "
                            "(was SECRET_KEY changed?): enter the channel's URL again.") from None
