from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..errors import InvalidInput
from ..forms import DayField, WholeNumberField
from ..requests.models import HANDOFFS
from ..text import to_int
from .kits import MAX_KITS
from .services import event_budget


class EventForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Give the event a name."), Length(max=120)],
                       render_kw={"placeholder": "Expo West 2027", "autocomplete": "off"})
    place = StringField("Place", validators=[Optional(), Length(max=200)],
                        render_kw={"placeholder": "Messe Nord, Hall B, Hamburg"})
    starts_on = DayField("First day", validators=[DataRequired(message="Say when it starts.")])
    ends_on = DayField("Last day", validators=[DataRequired(message="Say when it ends.")])
    ship_by = DayField("Ship by (leaves the stockroom)",
                        validators=[DataRequired(message="Say when things must leave the stockroom.")])
    return_by = DayField("Returnables back by", validators=[Optional()])
    owner_id = SelectField("Owner", coerce=to_int)
    # Money as people write it ("5,000", "4500.50"); the rule (services.event_budget) reads it.
    budget = StringField("Budget", validators=[Optional(), Length(max=40)],
                         render_kw={"inputmode": "decimal", "autocomplete": "off", "placeholder": "5,000"})
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})

    # The rules (events.services.validate_event) check the same; these put the message next to
    # the field on the page.
    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError("The last day is before the first day.")

    def validate_ship_by(self, field):
        if field.data and self.starts_on.data and field.data > self.starts_on.data:
            raise ValidationError("Things must leave the stockroom by the first day at the latest.")

    def validate_return_by(self, field):
        if field.data and self.ends_on.data and field.data < self.ends_on.data:
            raise ValidationError("Returnables cannot be back before the last day.")

    def validate_budget(self, field):
        try:
            event_budget(field.data)
        except InvalidInput as error:
            raise ValidationError(error.message) from None


class KitLineForm(Form):
    """One line of a kit (a subform: the kit form carries the CSRF token)."""

    sku = StringField("SKU", validators=[Optional(), Length(max=40)], render_kw={"autocomplete": "off"})
    quantity = WholeNumberField("Per kit", validators=[Optional(), NumberRange(min=1, max=100_000)],
                            render_kw={"inputmode": "numeric", "min": 1})


class KitForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Give the kit a name."), Length(max=120)],
                       render_kw={"placeholder": "Trade show standard kit"})
    description = TextAreaField("Description", validators=[Optional(), Length(max=4000)], render_kw={"rows": 2})
    lines = FieldList(FormField(KitLineForm), min_entries=1, max_entries=200)


class ReserveKitForm(FlaskForm):
    kit_id = SelectField("Kit", coerce=to_int)
    count = WholeNumberField("How many kits", default=1,
                         validators=[DataRequired(message="Say how many kits."), NumberRange(min=1, max=MAX_KITS)],
                         render_kw={"type": "text", "inputmode": "numeric", "min": 1, "autocomplete": "off"})
    handoff = RadioField("Hand-off", choices=list(HANDOFFS.items()), default="pickup")
    ship_to = TextAreaField("Ship to", validators=[Optional(), Length(max=500)],
                            render_kw={"rows": 2, "placeholder": "Booth number, hall, venue address"})
    # Shown when the kits would take the event beyond its budget (budgets/kit_budget.py).
    over_budget_ok = BooleanField("Reserve anyway (over the event's budget)")
