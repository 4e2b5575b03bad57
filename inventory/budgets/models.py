"""A team (cost centre): its members are users (User.team_id), its requests carry it
(Request.team_id, stamped from the requester at submission)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..extensions import Model
from ..timeutil import utcnow

MONEY = Numeric(12, 2)


class Team(Model):
    __tablename__ = "team"
    __table_args__ = (
        CheckConstraint("budget IS NULL OR budget >= 0", name="budget_not_negative"),
        CheckConstraint("auto_approve_up_to >= 0", name="auto_approve_not_negative"),
        CheckConstraint("second_approval_above IS NULL OR second_approval_above >= 0",
                        name="second_approval_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # Per period (BUDGET_PERIOD: a quarter by default); None: the team has no budget.
    budget: Mapped[Decimal | None] = mapped_column(MONEY)
    # The manager who approves the team's requests (a manager or an admin).
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", use_alter=True,
                                                               name="fk_team_approver_id_user"))
    # Requests worth up to this are approved at once (0: every request waits for the approver).
    auto_approve_up_to: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"), server_default="0")
    # Requests worth more than this need a second approver too; None: never.
    second_approval_above: Mapped[Decimal | None] = mapped_column(MONEY)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    approver: Mapped[User | None] = relationship(foreign_keys=[approver_id])
    members: Mapped[list[User]] = relationship(primaryjoin="Team.id == User.team_id", foreign_keys="User.team_id",
                                               order_by="User.name", viewonly=True)
