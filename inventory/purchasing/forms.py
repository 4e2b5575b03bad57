"""Purchase order forms. They parse and check the shape of the input; the rules in services.py
decide what is allowed (unknown SKUs, costs, dates, over-receipts)."""
from datetime import date

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..core.money import currency
from ..forms import DayField, WholeNumberField

# type="text" with a numeric keypad: a type="number" box drops what it cannot parse ("1-"), so
# what was typed would be lost on "More lines" and the message would say "How many?".
QUANTITY_KW = {"type": "text", "inputmode": "numeric", "min": "1", "autocomplete": "off"}
CODE_KW = {"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}


def optional_int(value):
    """A select's value: "" or None means none chosen."""
    if value in (None, "", "None"):
        return None
    return int(value)


class LineForm(Form):
    """One line of a purchase order. A row left empty is ignored."""

    sku = StringField("Item (SKU)", validators=[Optional(), Length(max=40)],
                      render_kw={**CODE_KW, "list": "sku-options"})
    quantity = WholeNumberField("Quantity", validators=[Optional(), NumberRange(min=1, message="At least 1.")],
                            render_kw=QUANTITY_KW)
    unit_cost = StringField("Unit cost", validators=[Optional(), Length(max=20)],
                            render_kw={"inputmode": "decimal", "autocomplete": "off"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A plain number is typed; the label says in which currency ("Unit cost (USD)").
        self.unit_cost.label.text = f"Unit cost ({currency()})"

    @staticmethod
    def _given(field):
        if field.raw_data:  # submitted: what was typed, even if it did not parse
            return bool(str(field.raw_data[0]).strip())
        return field.data not in (None, "")

    @property
    def is_blank(self):
        return not any(self._given(f) for f in (self.sku, self.quantity, self.unit_cost))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.is_blank:
            return ok
        if not (self.sku.data or "").strip():
            self.sku.errors.append("Which item?")
            ok = False
        if self.quantity.data is None and not self.quantity.errors:
            self.quantity.errors.append("How many?")
            ok = False
        return ok


class PurchaseOrderForm(FlaskForm):
    supplier = StringField("Supplier", validators=[Length(max=120)],
                           render_kw={"list": "supplier-options", "autocomplete": "off"})
    event_id = SelectField("For event (optional)", coerce=optional_int, validate_choice=False)
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    lines = FieldList(FormField(LineForm), min_entries=0, max_entries=200)

    def filled_lines(self):
        """[(sku, quantity, unit cost text or None)] of the rows that are not empty."""
        return [(entry.sku.data.strip(), entry.quantity.data, (entry.unit_cost.data or "").strip() or None)
                for entry in self.lines if not entry.form.is_blank]


class OrderForm(FlaskForm):
    expected_on = DayField("Expected arrival", validators=[DataRequired(message="Say when it is expected.")])

    def validate_expected_on(self, field):
        if field.data and field.data < date.today():
            raise ValidationError("That date is in the past.")


class RescheduleForm(OrderForm):
    reason = StringField("Why (optional)", validators=[Optional(), Length(max=300)])


class CancelForm(FlaskForm):
    reason = StringField("Why (optional)", validators=[Optional(), Length(max=300)])


class ReceiveLineForm(FlaskForm):
    bin = StringField("Into bin", validators=[DataRequired(message="Scan or type the bin it goes into."),
                                              Length(max=300)], render_kw={**CODE_KW, "list": "bin-options"})
    quantity = WholeNumberField("Quantity received",
                            validators=[InputRequired(message="How many arrived?"),
                                        NumberRange(min=1, message="Enter how many arrived, 1 or more.")],
                            render_kw=QUANTITY_KW)
