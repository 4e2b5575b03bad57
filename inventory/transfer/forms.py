from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import Optional

from ..forms import DayField


class ImportForm(FlaskForm):
    file = FileField("CSV file (UTF-8; commas, semicolons or tabs)")
    text = TextAreaField("…or paste rows from a spreadsheet, header line first", validators=[Optional()],
                         render_kw={"rows": 4, "spellcheck": "false", "autocomplete": "off"})


class StockImportForm(ImportForm):
    create_bins = BooleanField("Create bins that do not exist yet (named by the bin_name and zone columns)")


class ConfirmForm(FlaskForm):
    """The checked file, carried back by the confirmation (see services.pack)."""

    content = HiddenField()
    filename = HiddenField()
    create_bins = HiddenField()


class LedgerForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it only downloads

    first_day = DayField("From", validators=[Optional()])
    last_day = DayField("To (included)", validators=[Optional()])
