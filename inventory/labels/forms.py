"""The labels page: what to print and on which sheet. A GET form (it changes nothing), so it
carries no CSRF token and a printed selection can be bookmarked."""
from wtforms import Form, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..catalog.models import CATEGORIES, CATEGORY_LABELS
from ..forms import WholeNumberField
from .sheets import DEFAULT_SHEET, SHEETS


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        pass  # the rule names unknown codes itself, more helpfully than "not a valid choice"


class LabelsForm(Form):
    what = RadioField("Labels for", choices=[("bins", "Bins"), ("items", "Items")], default="bins")
    bins_by = RadioField("Which bins", default="all", choices=[
        ("all", "All bins"), ("zone", "One zone"), ("search", "Bins matching a search"),
        ("picked", "Only the bins I pick"),
    ])
    zone = SelectField("Zone", choices=[], validate_choice=False)
    bin_q = StringField("Search bins (code or name)", validators=[Optional(), Length(max=60)])
    bin = CheckboxesField("Bins", choices=[])
    bin_codes = TextAreaField("…or paste bin codes", validators=[Optional(), Length(max=20000)],
                              render_kw={"rows": 2, "placeholder": "A-01-1, A-01-2", "autocapitalize": "characters"})
    items_by = RadioField("Which items", default="all", choices=[
        ("all", "All items"), ("category", "One category"), ("search", "Items matching a search"),
        ("picked", "Only the items I pick"),
    ])
    category = SelectField("Category", choices=[(c, CATEGORY_LABELS[c]) for c in CATEGORIES], validate_choice=False)
    item_q = StringField("Search items (SKU or name)", validators=[Optional(), Length(max=60)])
    item = CheckboxesField("Items", choices=[])
    item_codes = TextAreaField("…or paste SKUs", validators=[Optional(), Length(max=40000)],
                               render_kw={"rows": 2, "placeholder": "POLO-NAVY-M, BRO-ATLAS",
                                          "autocapitalize": "characters"})
    sheet = RadioField("Sheet", default=DEFAULT_SHEET,
                       choices=[(s.key, f"{s.name} — {s.summary}") for s in SHEETS.values()])
    start = WholeNumberField("Start at label position", default=1,
                         validators=[Optional(), NumberRange(min=1, max=max(s.per_page for s in SHEETS.values()))],
                         render_kw={"inputmode": "numeric", "min": 1})
