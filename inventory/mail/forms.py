from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp

from ..auth.services import EMAIL_PATTERN


class TestMailForm(FlaskForm):
    to = EmailField("Send a test e-mail to", validators=[
        DataRequired(message="Enter an e-mail address."), Length(max=254),
        Regexp(EMAIL_PATTERN, message="Enter an e-mail address like name@example.com.")])


def preferences_form(kinds, **kwargs):
    """A form with one checkbox per kind of e-mail the user can get (kinds depend on the role)."""

    class MailPreferencesForm(FlaskForm):
        pass

    for kind in kinds:
        setattr(MailPreferencesForm, kind.key, BooleanField(kind.label, description=kind.hint))
    MailPreferencesForm.save = SubmitField("Save e-mail choices")
    return MailPreferencesForm(prefix="mail", **kwargs)
