from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import SCAN_OR_TYPE_BIN, SCAN_OR_TYPE_SKU, WholeNumberField
from .booking import MAX_REASON_LENGTH

# type="text" with a numeric keypad, not type="number": a number box that the browser cannot
# parse ("1-", "2e") submits as empty, so what was typed would be lost and the message wrong.
QUANTITY_KW = {"type": "text", "inputmode": "numeric", "min": "1", "autocomplete": "off"}
SKU_KW = {"autocapitalize": "characters", "list": "sku-options", "autocomplete": "off"}
BIN_KW = {"autocapitalize": "characters", "list": "bin-options", "autocomplete": "off"}
HOW_MANY = "How many?"


def _sku(label="Item (SKU)"):
    return StringField(label, validators=[DataRequired(message=SCAN_OR_TYPE_SKU), Length(max=300)], render_kw=SKU_KW)


def _bin(label, required=True):
    first = DataRequired(message=SCAN_OR_TYPE_BIN) if required else Optional()
    return StringField(label, validators=[first, Length(max=300)], render_kw=BIN_KW)


def _quantity():
    return WholeNumberField("Quantity", validators=[InputRequired(message=HOW_MANY), NumberRange(min=1)],
                        render_kw=QUANTITY_KW)


class SignedIntegerField(WholeNumberField):
    """A whole number that may be negative, typed as "-3", "+12" or "−3" (the typographic minus
    some keyboards and the page's −/+ button give)."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, signed=True, **kwargs)


class BackForm(FlaskForm):
    """Where to land when done: the bin page (default) or the item page the action started from."""
    back = HiddenField()


class ReceiveForm(BackForm):
    sku = _sku()
    bin = _bin("Into bin")
    quantity = _quantity()
    reference = StringField("Reference (delivery note, PO)", validators=[Optional(), Length(max=80)])


class MoveForm(BackForm):
    sku = _sku()
    from_bin = _bin("From bin")
    to_bin = _bin("To bin")
    quantity = _quantity()
    reason = StringField("Why (optional)", validators=[Optional(), Length(max=MAX_REASON_LENGTH)])


class AdjustForm(BackForm):
    sku = _sku()
    bin = _bin("Bin")
    # No digits-only pattern and no numeric-only keypad promise: the box needs a minus, which an
    # iPhone's numeric keypad lacks, so the page puts a −/+ button beside it.
    change = SignedIntegerField("Change (+ found, − lost or damaged)",
                                validators=[InputRequired(message="How many more or fewer? e.g. -3 or 12.")],
                                render_kw={"type": "text", "inputmode": "numeric", "autocomplete": "off"})
    reason = StringField("Reason", validators=[DataRequired(message="Say why the stock is adjusted."), Length(max=MAX_REASON_LENGTH)])


class PutAwayForm(BackForm):
    sku = _sku()
    bin = _bin("Into bin")
    quantity = _quantity()
    from_bin = _bin("Taken from bin (optional)", required=False)
    reference = StringField("Reference (delivery note, PO)", validators=[Optional(), Length(max=80)])
