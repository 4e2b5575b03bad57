from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional


class BinEditForm(FlaskForm):
    name = StringField("Name", validators=[Optional(), Length(max=120)], render_kw={"placeholder": "e.g. Polos, top shelf"})
    zone = StringField("Zone", validators=[Optional(), Length(max=60)], render_kw={"placeholder": "e.g. Stockroom A"})


class BinForm(BinEditForm):
    code = StringField("Code (printed on the label, cannot change later)", validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocapitalize": "characters", "placeholder": "e.g. A-03-2"})
