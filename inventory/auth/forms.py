from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .models import ROLE_LABELS, ROLES

ROLE_CHOICES = [(role, ROLE_LABELS[role]) for role in ROLES]


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


class UserForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    # The team the user's requests count against; the page fills the choices (every team).
    team_id = SelectField("Team", choices=[("", "No team")], validate_choice=False)
    active = BooleanField("Active (can log in)", default=True)
    # Approval rights (budgets/approvals.py), for managers; admins have both anyway.
    second_approver = BooleanField("Second approver (approves requests above a team's second amount)")
    may_exceed_budget = BooleanField("May approve over budget (saying why)")

    def validate_team_id(self, field):
        if (field.data or "") not in {value for value, _label in field.choices}:
            raise ValidationError("Choose the team from the list (it may have been deleted meanwhile).")


class NewUserForm(UserForm):
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=1024)],
                             render_kw={"autocomplete": "new-password"})


class SetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=1024)],
                             render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    password = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=1024)],
                             render_kw={"autocomplete": "new-password"})


class TokenForm(FlaskForm):
    label = StringField("What is it for?", validators=[Optional(), Length(max=80)],
                        render_kw={"placeholder": "e.g. inventory spreadsheet"})
