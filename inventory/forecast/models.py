"""The forecast's freshness stamp (see freshness.py)."""
from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ForecastVersion(db.Model):
    """One row: `n` goes up by one in every transaction that changes what the forecast reads.
    `token` is new whenever the row is (re)created, so a count that starts again from 1 in an
    emptied database never matches a forecast kept from before."""
    __tablename__ = "forecast_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class ForecastChange(db.Model):
    """What the transaction that set the counter to `n` changed: one item, or `everything`
    (then `item_id` is None), or nothing the forecast shows (item_id None, everything False)."""
    __tablename__ = "forecast_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, index=True)
    item_id: Mapped[int | None] = mapped_column()
    everything: Mapped[bool] = mapped_column(default=False)
