"""Form pieces shared by every part of the app."""
from flask_wtf import FlaskForm


class ButtonForm(FlaskForm):
    """A form with no fields: a one-button POST that still carries a CSRF token."""
