"""A query's rows taken into Python under two caps: a number of rows and a number of bytes.

A result is cut (and marked ``truncated``) at whichever cap it reaches first, so a query of
100,000 rows of ``repeat('x', 1000000)`` stops at :data:`MAX_RESULT_BYTES` instead of taking the
process to gigabytes. The size of a row is the length of its text and bytes values plus 8 for
any other value: what the rows cost once rendered as JSON or CSV, near enough.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: bytes a result may hold unless the caller asks for fewer (the console's ``max_result_mb``)
MAX_RESULT_BYTES = 64 * 1024 * 1024
#: rows taken from a cursor at a time, at most (fewer when rows are large)
BATCH_ROWS = 1024


def row_bytes(row: Iterable[Any]) -> int:
    """The size a row counts for against the byte cap."""
    return sum(len(v) if isinstance(v, str | bytes) else 8 for v in row)


class Cap:
    """Counts rows and bytes as they are taken; :meth:`take` says whether one more row fits."""

    def __init__(self, max_rows: int | None, max_bytes: int | None) -> None:
        self.max_rows = max_rows
        self.max_bytes = MAX_RESULT_BYTES if max_bytes is None else max_bytes
        self.rows = 0
        self.bytes = 0
        self.truncated = False

    def take(self, row: Iterable[Any]) -> bool:
        """Count ``row`` if it fits under both caps; False (and ``truncated``) once it does not."""
        size = row_bytes(row)
        if (self.max_rows is not None and self.rows >= self.max_rows) or self.bytes + size > self.max_bytes:
            self.truncated = True
            return False
        self.rows += 1
        self.bytes += size
        return True

    def batch(self) -> int:
        """How many rows to ask a cursor for next: fewer as the rows seen so far are larger."""
        wanted = BATCH_ROWS if self.max_rows is None else self.max_rows - self.rows + 1
        if self.rows:
            average = max(1, self.bytes // self.rows)
            wanted = min(wanted, (self.max_bytes - self.bytes) // average + 1)
        return max(1, min(BATCH_ROWS, wanted))


Rows = list[tuple[Any, ...]]


def rows(cursor: Any, max_rows: int | None, max_bytes: int | None = None) -> tuple[Rows, bool]:
    """The rows of a DB-API cursor's result under both caps, and whether any was left out."""
    cap = Cap(max_rows, max_bytes)
    taken: Rows = []
    while True:
        batch = cursor.fetchmany(cap.batch())
        if not batch:
            return taken, False
        for row in batch:
            if not cap.take(row):
                return taken, True
            taken.append(tuple(row))
