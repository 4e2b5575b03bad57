from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp

from ..auth.services import EMAIL_PATTERN
from .preferences import Kind


class TestMailForm(FlaskForm):
    to = EmailField("Send a test e-mail to", validators=[
        DataRequired(message="Enter an e-mail address."), Length(max=254),
        Regexp(EMAIL_PATTERN, message="Enter an e-mail address like name@example.com.")])


def preferences_form(kinds: Iterable[Kind], **kwargs: Any) -> FlaskForm:
    """A form with one checkbox per kind of e-mail the user can get (kinds depend on the role)."""

    class MailPreferencesForm(FlaskForm):
        pass

    for kind in kinds:
        setattr(MailPreferencesForm, kind.key, BooleanField(kind.label, description=kind.hint))
    MailPreferencesForm.save = SubmitField("Save e-mail choices")
    return MailPreferencesForm(prefix="mail", **kwargs)
