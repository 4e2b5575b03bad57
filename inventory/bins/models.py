"""Bins: labelled places that hold stock. A bin's code is printed on its QR label forever."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ..timeutil import utcnow

# The bin where picked stock waits for its hand-over. Stock enters it only by picking and leaves it by
# hand-over (or Put back); the stock, request, purchasing and import rules all refuse it otherwise.
DISPATCH_CODE = "DISPATCH"

# Short, unambiguous on a label, safe in a URL path: letters, digits, dashes, dots.
CODE_PATTERN = re.compile(r"^[A-Z0-9](?:[A-Z0-9.-]{0,18}[A-Z0-9])?$")


def normalize_code(code: str | None) -> str:
    """Bin codes are stored upper-case so lookups are case-insensitive."""
    return (code or "").strip().upper()


class Bin(Model):
    __tablename__ = "bin"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    zone: Mapped[str] = mapped_column(String(60), default="", index=True)
    archived: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Bin {self.code}>"
