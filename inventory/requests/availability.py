"""Moved to inventory/holds/availability.py (issue 17); these names stay here for old imports."""
from ..holds.availability import Window, free_quantities, free_quantity  # noqa: F401
