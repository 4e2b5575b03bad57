"""IN (...) lists in chunks, for the imports and exports that read or write many rows at once."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

CHUNK = 500  # ids or names per IN (...) query: well under every database's limit on parameters


def chunks(values: Iterable) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]
