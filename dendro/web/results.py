"""Query results of the query page: kept briefly for paging and export, rendered as CSV or JSON.

A query runs once (on Timestream every run is billed): its result is kept in a small in-memory
cache under a random id, and the result's pages and exports read from there. The export is one
URL with several formats (``/query/<id>.csv``, ``/query/<id>.json``) through one renderer
registry, and both stream every row of the result.

A result is cut at :data:`MAX_ROWS` rows or ``console.max_result_mb`` of values (the page says
so), and the cache holds at most :data:`CACHE_SIZE` results and :data:`CACHE_BYTES` of them: the
oldest go first.

CSV is :mod:`dendro.store.result_csv` (formula cells neutralised, as ``dendro query -f csv``
writes them). JSON rows are objects keyed by column name (a repeated name gets ``_2``, ``_3``…
so no column is lost), or lists with ``?_shape=arrays`` (datasette's name for the same shape).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dendro.store import fetch, result_csv, result_json
from dendro.store.base import QueryResult

#: rows a console query may return (the rest is marked truncated)
MAX_ROWS = 100_000
PAGE_ROWS = 100
CACHE_SIZE = 16
#: bytes of values the cache keeps, all results together
CACHE_BYTES = 256 * 1024 * 1024
CACHE_SECONDS = 1800
cell_text = result_csv.cell_text
csv_cell = result_csv.csv_cell


@dataclass
class StoredResult:
    id: str
    sql: str
    result: QueryResult
    ran_at: float


def result_bytes(result: QueryResult) -> int:
    """What a result counts for against the cache's byte budget."""
    return sum(map(fetch.row_bytes, result.rows))


class ResultCache:
    """The last few results, by id, for ``CACHE_SECONDS``, within ``max_bytes`` all together."""

    def __init__(
        self, size: int = CACHE_SIZE, ttl: float = CACHE_SECONDS, max_bytes: int = CACHE_BYTES
    ) -> None:
        self.size = size
        self.ttl = ttl
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[str, tuple[StoredResult, int]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, sql: str, result: QueryResult) -> StoredResult:
        item = StoredResult(secrets.token_urlsafe(12), sql, result, time.time())
        size = result_bytes(result)
        with self._lock:
            self._items[item.id] = (item, size)
            self.bytes += size
            while len(self._items) > 1 and (len(self._items) > self.size or self.bytes > self.max_bytes):
                _, (_, dropped) = self._items.popitem(last=False)
                self.bytes -= dropped
        return item

    def get(self, result_id: str) -> StoredResult | None:
        with self._lock:
            found = self._items.get(result_id)
            if found is None:
                return None
            item, size = found
            if time.time() - item.ran_at > self.ttl:
                del self._items[result_id]
                self.bytes -= size
                return None
            self._items.move_to_end(result_id)
            return item


def render_csv(result: QueryResult) -> Iterator[str]:
    return result_csv.chunks(result)


def render_json(result: QueryResult, shape: str = "objects") -> Iterator[bytes]:
    """The result as one JSON object written a row at a time: rows as objects (keys of repeated
    column names made distinct) or, with ``shape="arrays"``, as lists in column order."""
    head = result_json.head(result)
    if shape == "arrays":
        yield result_json.dumps(head)[:-1] + b',"rows":['
        for i, row in enumerate(result.rows):
            yield (b"," if i else b"") + result_json.dumps(list(row))
        yield b"]}"
        return
    keys = result_json.row_keys(result.columns)
    yield result_json.dumps(head)[:-1] + b',"rows":['
    for i, row in enumerate(result.rows):
        yield (b"," if i else b"") + result_json.dumps(dict(zip(keys, row, strict=True)))
    yield b"]}"


#: format → (renderer, Content-Type)
RENDERERS: dict[str, tuple[Callable[..., Iterator[Any]], str]] = {
    "csv": (render_csv, "text/csv; charset=utf-8"),
    "json": (render_json, "application/json"),
}
