"""Limits the rules share, so that the pages, the JSON API and the commands refuse the same input."""
from .errors import InvalidInput

# Lines in one count, request, kit or purchase order: far more than any real one has, few enough
# that one operation stays well under a second (5,000 count lines once took a worker down).
MAX_LINES = 200


def check_line_count(lines, what):
    """Refuse more than MAX_LINES lines: `what` names the whole, e.g. "A count"."""
    count = len(lines)
    if count > MAX_LINES:
        raise InvalidInput(f"{what} can have at most {MAX_LINES} lines (this one has {count:,}): "
                           "split it in two.")
    return lines
