from datetime import date

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import DayField
from ..text import to_int
from .models import HANDOFFS, PURPOSES


class RequestDetailsForm(FlaskForm):
    purpose = RadioField("What is it for?", choices=list(PURPOSES.items()), default="client_meeting")
    needed_by = DayField("Needed by", validators=[DataRequired(message="Say when you need it.")])
    return_by = DayField("Back by (for returnable items)", validators=[Optional()])
    handoff = RadioField("Hand-off", choices=list(HANDOFFS.items()), default="pickup")
    ship_to = TextAreaField("Ship to", validators=[Optional(), Length(max=500)],
                            render_kw={"rows": 2, "placeholder": "Name, company, street, city"})
    event_id = SelectField("For an event (optional)", coerce=to_int, choices=[(0, "No event")], default=0)
    note = TextAreaField("Note for Marketing", validators=[Optional(), Length(max=1000)], render_kw={"rows": 2})
    allow_partial = BooleanField("If something is short, reserve what is there and backorder the rest")

    def validate_needed_by(self, field):
        if field.data and field.data < date.today():
            raise ValidationError("That date is in the past.")


class RejectForm(FlaskForm):
    reason = StringField("Reason (the rep sees it)", validators=[
        DataRequired(message="Say why the request is rejected; the rep will see it."), Length(max=300)])
