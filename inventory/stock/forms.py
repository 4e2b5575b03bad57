from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

QUANTITY_KW = {"inputmode": "numeric", "min": "1", "autocomplete": "off"}
SKU_KW = {"autocapitalize": "characters", "list": "sku-options", "autocomplete": "off"}
BIN_KW = {"autocapitalize": "characters", "list": "bin-options", "autocomplete": "off"}


class BackForm(FlaskForm):
    """Where to land when done: the bin page (default) or the item page the action started from."""
    back = HiddenField()


class ReceiveForm(BackForm):
    sku = StringField("Item (SKU)", validators=[DataRequired(), Length(max=300)],
                      render_kw={"autocapitalize": "characters", "list": "sku-options", "autocomplete": "off"})
    bin = StringField("Into bin", validators=[DataRequired(), Length(max=300)],
                      render_kw={"autocapitalize": "characters", "list": "bin-options", "autocomplete": "off"})
    quantity = IntegerField("Quantity", validators=[InputRequired(), NumberRange(min=1)], render_kw=QUANTITY_KW)
    reference = StringField("Reference (delivery note, PO)", validators=[Optional(), Length(max=80)])


class MoveForm(BackForm):
    sku = StringField("Item (SKU)", validators=[DataRequired(), Length(max=300)],
                      render_kw={"autocapitalize": "characters", "list": "sku-options", "autocomplete": "off"})
    from_bin = StringField("From bin", validators=[DataRequired(), Length(max=300)],
                           render_kw={"autocapitalize": "characters", "list": "bin-options", "autocomplete": "off"})
    to_bin = StringField("To bin", validators=[DataRequired(), Length(max=300)],
                         render_kw={"autocapitalize": "characters", "list": "bin-options", "autocomplete": "off"})
    quantity = IntegerField("Quantity", validators=[InputRequired(), NumberRange(min=1)], render_kw=QUANTITY_KW)
    reason = StringField("Why (optional)", validators=[Optional(), Length(max=200)])


class AdjustForm(BackForm):
    sku = StringField("Item (SKU)", validators=[DataRequired(), Length(max=300)],
                      render_kw={"autocapitalize": "characters", "list": "sku-options", "autocomplete": "off"})
    bin = StringField("Bin", validators=[DataRequired(), Length(max=300)],
                      render_kw={"autocapitalize": "characters", "list": "bin-options", "autocomplete": "off"})
    change = IntegerField("Change (+ found, − lost or damaged)", validators=[InputRequired()],
                          render_kw={"inputmode": "numeric", "autocomplete": "off"})
    reason = StringField("Reason", validators=[DataRequired(message="Say why the stock is adjusted."), Length(max=200)])


class PutAwayForm(BackForm):
    sku = StringField("Item (SKU)", validators=[DataRequired(), Length(max=300)], render_kw=SKU_KW)
    bin = StringField("Into bin", validators=[DataRequired(), Length(max=300)], render_kw=BIN_KW)
    quantity = IntegerField("Quantity", validators=[InputRequired(), NumberRange(min=1)], render_kw=QUANTITY_KW)
    from_bin = StringField("Taken from bin (optional)", validators=[Optional(), Length(max=300)], render_kw=BIN_KW)
    reference = StringField("Reference (delivery note, PO)", validators=[Optional(), Length(max=80)])
