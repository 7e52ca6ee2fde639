"""Query results of the query page: kept briefly for paging and export, rendered as CSV or JSON.

A query runs once (on Timestream every run is billed): its result is kept in a small in-memory
cache under a random id, and the result's pages and exports read from there. The export is one
URL with several formats (``/query/<id>.csv``, ``/query/<id>.json``) through one renderer
registry, and both stream every row of the result.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
or a tab or carriage return) are prefixed with a single quote, as OWASP recommends; numbers
stay numbers (a negative number is data, not a formula).
"""

from __future__ import annotations

import csv
import io
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dendro.store import result_json
from dendro.store.base import QueryResult

#: rows a console query may return (the rest is marked truncated)
MAX_ROWS = 100_000
PAGE_ROWS = 100
CACHE_SIZE = 16
CACHE_SECONDS = 1800
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class StoredResult:
    id: str
    sql: str
    result: QueryResult
    ran_at: float


class ResultCache:
    """The last few results, by id, for ``CACHE_SECONDS``."""

    def __init__(self, size: int = CACHE_SIZE, ttl: float = CACHE_SECONDS) -> None:
        self.size = size
        self.ttl = ttl
        self._items: OrderedDict[str, StoredResult] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, sql: str, result: QueryResult) -> StoredResult:
        item = StoredResult(secrets.token_urlsafe(12), sql, result, time.time())
        with self._lock:
            self._items[item.id] = item
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return item

    def get(self, result_id: str) -> StoredResult | None:
        with self._lock:
            item = self._items.get(result_id)
            if item is None:
                return None
            if time.time() - item.ran_at > self.ttl:
                del self._items[result_id]
                return None
            self._items.move_to_end(result_id)
            return item


def cell_text(value: Any) -> str:
    """A value as the page and the CSV show it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value.total_seconds())
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | Decimal):
        return cell_text(value)
    text = cell_text(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def render_csv(result: QueryResult) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(c.name) for c in result.columns])
    for i, row in enumerate(result.rows, start=1):
        writer.writerow([csv_cell(v) for v in row])
        if i % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def render_json(result: QueryResult) -> Iterator[bytes]:
    """The result as one JSON object, rows as objects, written a row at a time."""
    names = [c.name for c in result.columns]
    yield result_json.dumps(result_json.head(result))[:-1] + b',"rows":['
    for i, row in enumerate(result.rows):
        yield (b"," if i else b"") + result_json.dumps(dict(zip(names, row, strict=True)))
    yield b"]}"


#: format → (renderer, MIME type)
RENDERERS: dict[str, tuple[Callable[[QueryResult], Iterator[Any]], str]] = {
    "csv": (render_csv, "text/csv; charset=utf-8"),
    "json": (render_json, "application/json"),
}
