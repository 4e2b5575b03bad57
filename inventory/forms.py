"""Form pieces shared by every part of the app."""
from flask_wtf import FlaskForm


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
