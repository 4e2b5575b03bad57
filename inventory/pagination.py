"""One page of a list that grows (catalog, bins), shared by pages and the API."""
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import request

from .text import to_int


@dataclass
class Page:
    rows: Sequence[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def has_prev(self):
        return self.page > 1


# Far beyond any real list; a larger page number would overflow the database's OFFSET.
MAX_PAGE = 100_000


def page_arg():
    """The ?page= of a list page; anything that is not a positive whole number means page 1
    (and a page number past MAX_PAGE means the last page we serve: an empty one)."""
    try:
        return min(max(1, to_int(request.args.get("page", 1))), MAX_PAGE)
    except ValueError:  # "two", "²", or past what a whole number can be
        return 1
