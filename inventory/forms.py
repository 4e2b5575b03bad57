"""Form pieces shared by every part of the app."""
from flask_wtf import FlaskForm


class ButtonForm(FlaskForm):
    """A form with no fields: a one-button POST that still carries a CSRF token."""


# What a page says next to an empty code box (a rule's own words are for the API).
SCAN_OR_TYPE_BIN = "Scan or type the bin code."
SCAN_OR_TYPE_SKU = "Scan or type the item's SKU."
