from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms import DayField, WholeNumberField
from .models import MASTER, SHAREABLE

KIND_CHOICES = [(SHAREABLE, "To send to clients (PDF, PowerPoint, Word or an image)"),
                (MASTER, "Print master (the print-ready PDF for the printer)")]
STILL_GOOD_CHOICES = [("yes", "Yes: the printed stock may still be handed out"),
                      ("no", "No: the printed stock is out of date")]


class UploadForm(FlaskForm):
    kind = RadioField("Which file is it?", choices=KIND_CHOICES, default=SHAREABLE,
                      validators=[DataRequired("Choose which file this is.")])
    file = FileField("File", validators=[FileRequired("Choose the file to upload.")])
    title = StringField("Title", validators=[Optional(), Length(max=120)], render_kw={"autocomplete": "off"})
    note = TextAreaField("What changed (optional)", validators=[Optional(), Length(max=2000)])
    # Asked when a print piece gets a new master: is what is on the shelf still right?
    still_good = RadioField("Is the printed stock still good?", choices=STILL_GOOD_CHOICES,
                            validators=[Optional()])
    last_day = DayField("Last day the printed stock may be used", validators=[Optional()])
    reprint = BooleanField("Then create the successor item with a draft purchase order for the new print run",
                           default=True)


class ReprintForm(FlaskForm):
    sku = StringField("SKU of the new print run", validators=[DataRequired("Give the new piece its SKU."),
                                                              Length(max=40)])
    name = StringField("Name", validators=[DataRequired("Give the new piece its name."), Length(max=120)])
    order = BooleanField("Raise a draft purchase order for the print run", default=True)
    quantity = WholeNumberField("How many to print", validators=[Optional(), NumberRange(min=1)],
                                render_kw={"inputmode": "numeric"})
