"""Charts from plain data, drawn as SVG by the templates (templates/reports/_charts.html).

No JavaScript and no build step. Bars are SVG rectangles scaled to the width of the screen
(a viewBox with preserveAspectRatio="none"); the words (names, amounts, dates) are HTML next to
them, so they stay readable on a 360 px phone and wrap instead of shrinking. Labels pass through
Jinja's escaping like any other text.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Bar:
    label: str
    value: object       # a number (Decimal or int)
    length: float       # 0..100: share of the longest bar
    href: str | None = None
    muted: bool = False


def bars(entries: Iterable[tuple[str, Decimal | int, str | None, bool]]) -> list[Bar]:
    """Horizontal bars from [(label, value, href, muted)], in the order given. A value above zero
    always shows at least a sliver, so that "small" never reads as "none"."""
    entries = list(entries)
    top = max((value for _label, value, _href, _muted in entries), default=0)
    result = []
    for label, value, href, muted in entries:
        length = float(value) / float(top) * 100 if top > 0 and value > 0 else 0.0
        result.append(Bar(label, value, round(max(length, 0.6) if value > 0 else 0.0, 2), href, muted))
    return result


@dataclass(frozen=True)
class Column:
    x: float            # left edge in the chart's 0..(10 x columns) wide viewBox
    height: float       # 0..100: share of the tallest column
    label: str          # under the column ("" where labels would crowd)
    title: str          # full description, for the tooltip and screen readers
    value: object


@dataclass(frozen=True)
class ColumnChart:
    columns: list[Column]
    top: object         # the tallest column's value (the chart's scale)

    @property
    def width(self) -> int:
        return 10 * len(self.columns)


def columns(entries: Iterable[tuple[str, str, Decimal | int]], max_labels: int = 7) -> ColumnChart:
    """Vertical columns over time from [(label, title, value)], oldest first. At most
    `max_labels` labels are shown under the columns (evenly spaced; every column keeps its
    title)."""
    entries = list(entries)
    top = max((value for _label, _title, value in entries), default=0)
    step = max(1, -(-len(entries) // max_labels))
    result = []
    for index, (label, title, value) in enumerate(entries):
        height = float(value) / float(top) * 100 if top > 0 and value > 0 else 0.0
        result.append(Column(10 * index + 1, round(max(height, 1.0) if value > 0 else 0.0, 2),
                             label if index % step == 0 else "", title, value))
    return ColumnChart(result, top)
