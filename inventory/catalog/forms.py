from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..core.money import currency
from ..forms import AmountField, DayField, WholeNumberField
from .models import CATEGORIES, CATEGORY_LABELS, LEAD_TIME_MESSAGE, MAX_LEAD_TIME_DAYS

CATEGORY_CHOICES = [(c, CATEGORY_LABELS[c]) for c in CATEGORIES]
PHOTO_TYPES = ["jpg", "jpeg", "png", "webp"]  # what catalog/photos.py opens


class ItemFieldsForm(FlaskForm):
    """The fields every stock-keeping unit has."""

    unit = StringField("Unit", default="each", validators=[Optional(), Length(max=20)])
    supplier = StringField("Supplier", validators=[Optional(), Length(max=120)])
    unit_cost = AmountField("Unit cost", places=2, default=0, validators=[Optional(), NumberRange(min=0)],
                             render_kw={"inputmode": "decimal", "step": "0.01"})
    lead_time_days = WholeNumberField("Supplier lead time (days)", default=0,
                                      validators=[Optional(), NumberRange(min=0, max=MAX_LEAD_TIME_DAYS,
                                                                          message=LEAD_TIME_MESSAGE)],
                                      render_kw={"inputmode": "numeric", "max": MAX_LEAD_TIME_DAYS})
    reorder_point = WholeNumberField("Reorder point", default=0, validators=[Optional(), NumberRange(min=0)],
                                 render_kw={"inputmode": "numeric"})
    reorder_quantity = WholeNumberField("Reorder quantity", default=0, validators=[Optional(), NumberRange(min=0)],
                                    render_kw={"inputmode": "numeric"})
    returnable = BooleanField("Returnable (comes back after use, like a banner)")
    # Typed as text and read by the catalog rule (limits.percent: "15" or "15 %"), so a refused
    # rate comes back as typed with the rule's words beside it. Empty: 0.
    loss_rate = StringField("Expected loss rate (%)", default="0",
                            validators=[Optional(), Length(max=12, message="A whole percentage, from 0 to 100.")],
                            render_kw={"inputmode": "numeric", "autocomplete": "off"})
    do_not_use_after = DayField("Do not use after", validators=[Optional()])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A plain number is typed; the label says in which currency ("Unit cost (USD)").
        self.unit_cost.label.text = f"Unit cost ({currency()})"

    def item_values(self):
        return {
            "unit": self.unit.data or "each",
            "supplier": self.supplier.data or "",
            "unit_cost": self.unit_cost.data or 0,
            "lead_time_days": self.lead_time_days.data or 0,
            "reorder_point": self.reorder_point.data or 0,
            "reorder_quantity": self.reorder_quantity.data or 0,
            "returnable": self.returnable.data,
            "loss_rate": str(self.loss_rate.data if self.loss_rate.data is not None else "").strip() or 0,
            "do_not_use_after": self.do_not_use_after.data,
            "notes": self.notes.data or "",
        }


class ProductFieldsMixin:
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    category = SelectField("Category", choices=CATEGORY_CHOICES)
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])
    keywords = StringField("Other words for it", validators=[Optional(), Length(max=500)],
                           render_kw={"placeholder": "e.g. one-pager, leaflet", "autocomplete": "off"})
    photo = FileField("Photo", validators=[FileAllowed(PHOTO_TYPES, "Photos only: JPEG, PNG or WebP.")])


class NewProductForm(ProductFieldsMixin, ItemFieldsForm):
    sku = StringField("SKU", validators=[DataRequired(), Length(max=40)],
                      render_kw={"autocapitalize": "characters", "placeholder": "e.g. POLO-NAVY"})
    sizes = StringField("Sizes (leave empty if it has none)", validators=[Optional(), Length(max=120)],
                        render_kw={"placeholder": "e.g. S, M, L, XL, XXL"})


class ProductForm(ProductFieldsMixin, FlaskForm):
    pass


class SuccessorField(StringField):
    """The successor's SKU. Filled from the item (`obj=item`), it shows the successor's SKU."""

    def process_data(self, value):
        self.data = getattr(value, "sku", value) or ""


class ItemForm(ItemFieldsForm):
    replaced_by = SuccessorField(
        "Replaced by", validators=[Optional(), Length(max=40, message="A SKU is 40 characters at most.")],
        render_kw={"autocapitalize": "characters", "list": "sku-options", "autocomplete": "off",
                   "placeholder": "SKU of the piece that takes over"})
    apply_to_all = BooleanField("Apply supplier, cost, lead time and reorder settings to every size")


class AddSizeForm(FlaskForm):
    size = StringField("New size", validators=[DataRequired(), Length(max=12)], render_kw={"placeholder": "e.g. 3XL"})
    sku = StringField("SKU (optional)", validators=[Optional(), Length(max=40)])
