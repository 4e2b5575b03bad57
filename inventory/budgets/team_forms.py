"""The team form (admins). Amounts are typed as text and read by the team rule
(limits.money_amount: "2,000", "2000.50", "1 500,5"), so a refused amount comes back exactly as
typed, with the rule's words beside it."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms import Field
from wtforms.validators import Length, Optional, ValidationError

from ..auth.models import User

# Longer than any amount a person types (10,000,000.00 with separators and a currency sign).
_AMOUNT = {"validators": [Optional(), Length(max=40, message="An amount is 40 characters at most.")],
           "render_kw": {"inputmode": "decimal", "autocomplete": "off"}}


class TeamForm(FlaskForm):
    name = StringField("Name", render_kw={"autocomplete": "off", "placeholder": "e.g. Field sales North"})
    budget = StringField("Budget", **_AMOUNT)
    approver_id = SelectField("Approver", choices=[("", "No approver")], validate_choice=False)
    auto_approve_up_to = StringField("Approve at once up to", **_AMOUNT)
    second_approval_above = StringField("Second approver above", **_AMOUNT)

    def set_approvers(self, users: Iterable[User], current: User | None = None) -> None:
        """The approver list: active managers and admins, and the team's current approver even when
        they no longer are one (named so), so that the page shows what is saved."""
        choices: list[tuple[str, str]] = [("", "No approver")]
        listed = set()
        for user in users:
            choices.append((str(user.id), f"{user.display_name} ({user.role_label})"))
            listed.add(user.id)
        if current is not None and current.id not in listed:
            choices.append((str(current.id), f"{current.display_name} (no longer an active manager)"))
        self.approver_id.choices = choices

    def validate_approver_id(self, field: Field) -> None:
        if (field.data or "") not in {value for value, _label in field.choices}:
            raise ValidationError("Choose the approver from the list.")

    def values(self) -> dict[str, Any]:
        """What the team rule takes: the text as typed (the rule reads and checks it)."""
        return {"name": self.name.data or "", "budget": self.budget.data or "",
                "approver_id": self.approver_id.data or "", "auto_approve_up_to": self.auto_approve_up_to.data or "",
                "second_approval_above": self.second_approval_above.data or ""}
