"""Form pieces shared by every part of the app."""
import re
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField
from wtforms.validators import StopValidation

from .text import MAX_INTEGER, whole_number
from .timeutil import parse_date


class ButtonForm(FlaskForm):
    """A form with no fields: a one-button POST that still carries a CSRF token."""


# What a page says next to an empty code box (a rule's own words are for the API).
SCAN_OR_TYPE_BIN = "Scan or type the bin code."
SCAN_OR_TYPE_SKU = "Scan or type the item's SKU."


def put_next_to_its_box(form, error, lines):
    """Show a rule's refusal next to the box it is about. `error.about` is (index into `lines`, box
    name) for a line's box, or (None, a field of `form`). False when it is about the whole form
    (or names a box the page does not have), for the page to show it at the top."""
    if not isinstance(error.about, tuple):
        return False
    index, name = error.about
    if index is None:
        field = getattr(form, name, None)
    else:
        field = lines[index][name] if 0 <= index < len(lines) else None
    if field is None:
        return False
    field.errors = [*field.errors, error.message]
    return True


class WholeNumberField(IntegerField):
    """A whole number typed in ASCII digits, at most `maximum` (MAX_INTEGER, what an INTEGER
    column holds, unless a rule caps it lower). WTForms' IntegerField takes whatever int() reads:
    "٣" (an Arabic-Indic three), "1_000", and a 20-digit number the database then refuses.
    `signed` also reads the typographic minus some keyboards give, and spaces inside ("- 3")."""

    def __init__(self, label=None, validators=None, signed=False, maximum=MAX_INTEGER, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.signed, self.maximum = signed, maximum

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        if self.signed:
            text = text.replace("\u2212", "-").replace(" ", "")
        self.data = None
        if not text:
            return  # an empty box: the field's Optional or InputRequired says what that means
        # A minus is read even where negatives make no sense, so that the field's NumberRange
        # says "at least 1" for "-1" rather than "not a valid integer".
        number = whole_number(text, signed=True)
        if number is None:
            raise ValueError(self.gettext("Not a valid integer value."))
        if number > self.maximum:
            raise ValueError(f"At most {self.maximum:,}.")
        if number < -self.maximum:
            raise ValueError(f"At least {-self.maximum:,}.")
        self.data = number

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()  # "Not a valid integer value." says it; no "at least 1" beside it


class DayField(DateField):
    """A date typed as YYYY-MM-DD (what a date box sends), and nothing else: WTForms' DateField
    goes through strptime, which also takes "2026-1-5" and non-ASCII digits."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        self.data = parse_date(text)
        if self.data is None and text:
            raise ValueError("Not a valid date value: write it as YYYY-MM-DD, like 2026-03-12.")

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()  # else DataRequired would replace the message with "Say when"


_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+", re.ASCII)


class AmountField(DecimalField):
    """An amount of money typed in ASCII digits with a decimal point ("2.50"), at most `maximum`
    (what a Numeric(10, 2) column holds). DecimalField takes whatever Decimal() reads: "NaN"
    (which then fails NumberRange with an exception), "1e30" and "٣"."""

    def __init__(self, label=None, validators=None, maximum=Decimal("99999999.99"), **kwargs):
        super().__init__(label, validators, **kwargs)
        self.maximum = maximum

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        self.data = None
        if not text:
            return
        if not _AMOUNT.fullmatch(text):
            raise ValueError(self.gettext("Not a valid decimal value."))
        number = Decimal(text)
        if number > self.maximum:
            raise ValueError(f"At most {self.maximum:,}.")
        self.data = number

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()
