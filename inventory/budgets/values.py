"""What a request is worth: the one value rule, in Python for one request and in SQL for sums
(spend.py), kept equal by a test (tests/test_budgets.py).

A line is worth, at its item's unit cost:
- a consumable: its open units (held or waiting for stock: reserved + backordered) at today's
  unit cost, and its handed-over units (issued) at the unit cost they left the shelf at;
- a returnable: what a loan is expected to lose, at the item's loss rate (percent, 0 by
  default), for the units held, waiting or out; once checked in, what did not come back
  (consumed, lost, damaged) at full cost, and nothing for what came back.

`open` is what the request still holds or waits for, `handed` what went out. Amounts are exact
(a loss rate may give fractions of a cent); they are rounded to cents once, where shown (`cents`).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Numeric, case, cast, func
from sqlalchemy.sql.elements import ColumnElement

from ..catalog.models import Item
from ..requests.models import RequestLine

ZERO = Decimal("0")
CENT = Decimal("0.01")


def cents(amount: Decimal | float | int | None) -> Decimal:
    """An amount rounded to cents (half up): what the pages, the API and the CSV show."""
    return Decimal(str(amount or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Value:
    open: Decimal = ZERO    # held or waiting for stock: what the request still commits
    handed: Decimal = ZERO  # handed over (spent)

    @property
    def total(self) -> Decimal:
        return self.open + self.handed

    def __add__(self, other: Value) -> Value:
        return Value(self.open + other.open, self.handed + other.handed)


def line_value(line: RequestLine, item: Item | None = None) -> Value:
    """A request line's value (its item's unit cost and loss rate; `item` when the line's is
    not loaded)."""
    item = item or line.item
    cost = item.unit_cost or ZERO
    at_issue = line.issued_unit_cost if line.issued_unit_cost is not None else cost
    if not item.returnable:
        return Value((line.reserved + line.backordered) * cost, line.issued * at_issue)
    rate = Decimal(item.loss_rate or 0) / 100
    kept = line.consumed + line.lost + line.damaged
    out = line.issued - line.returned - kept
    waiting = line.reserved - out + line.backordered
    return Value(waiting * cost * rate, out * at_issue * rate + kept * at_issue)


def request_value(lines: Iterable[RequestLine]) -> Value:
    """The sum of its lines' values (a cancelled or rejected request holds nothing: 0)."""
    total = Value()
    for line in lines:
        total += line_value(line)
    return total


def asked_value(item: Item, quantity: int) -> Decimal:
    """What asking for `quantity` of `item` will commit, before it is submitted (a draft's line):
    the quantity at today's unit cost, a returnable's at its loss rate."""
    cost = (item.unit_cost or ZERO) * quantity
    return cost * Decimal(item.loss_rate or 0) / 100 if item.returnable else cost


def draft_value(lines: Iterable[tuple[Item, int]]) -> Decimal:
    return sum((asked_value(item, quantity) for item, quantity in lines), ZERO)


# The same rule over columns, for sums in SQL ------------------------------------------------------

def _money(expression: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(expression, Numeric(18, 6))


def open_expression() -> ColumnElement[Any]:
    """line_value(...).open over request_line joined to item."""
    line = RequestLine
    out = line.issued - line.returned - line.consumed - line.lost - line.damaged
    return case(
        (Item.returnable.is_(False), _money((line.reserved + line.backordered) * Item.unit_cost)),
        else_=_money((line.reserved - out + line.backordered) * Item.unit_cost * Item.loss_rate) / 100,
    )


def handed_expression() -> ColumnElement[Any]:
    """line_value(...).handed over request_line joined to item."""
    line = RequestLine
    at_issue = func.coalesce(line.issued_unit_cost, Item.unit_cost)
    kept = line.consumed + line.lost + line.damaged
    out = line.issued - line.returned - kept
    return case(
        (Item.returnable.is_(False), _money(line.issued * at_issue)),
        else_=_money(out * at_issue * Item.loss_rate) / 100 + _money(kept * at_issue),
    )
