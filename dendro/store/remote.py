"""The Store over HTTP: a running ``dendro up``'s ingest API, for the processes that are not it.

``dendro up`` owns the DuckDB file (DuckDB allows one writer), so while it runs, ``dendro
query``, ``dendro ingest``, ``dendro exporter`` and ``dendro start server`` read and write
through its API (:mod:`dendro.ingest.server`): ``POST /ingest`` takes gzip NDJSON with a bearer
token, as Vector's http sink sends it, and ``POST /query`` answers a result in the form of
:mod:`dendro.store.result_json`. Which server, on which port, with which token, is for the
caller to find (:mod:`dendro.runtime.stores`).
"""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from dendro.store import result_json
from dendro.store.base import QueryError, QueryResult, ResultColumn, StoreError, WriteResult
from dendro.store.sql import table_ref


def _post(url: str, token: str, body: bytes, *, gzipped: bool = False, timeout: float = 60) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        try:
            message = orjson.loads(error.read()).get("error", error.reason)
        except (orjson.JSONDecodeError, AttributeError):
            message = error.reason
        if error.code == 400 and url.endswith("/query"):
            raise QueryError(str(message)) from None
        raise StoreError(f"{url} answered {error.code}: {message}") from None
    except (OSError, urllib.error.URLError) as error:
        raise StoreError(f"cannot reach {url} ({error})") from None


def post_events(url: str, token: str, events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """POST events as gzip NDJSON, the way Vector's http sink does."""
    body = b"\n".join(orjson.dumps(e) for e in events)
    return dict(_post(url, token, gzip.compress(body, compresslevel=1), gzipped=True))


class RemoteStore:
    """The Store protocol over a running ``dendro up``'s HTTP API at ``base_url``."""

    def __init__(self, base_url: str, token: str, database: str) -> None:
        self.base_url = base_url
        self.token = token
        self.database = database

    def write(self, events: Iterable[Mapping[str, Any]]) -> WriteResult:
        answer = post_events(f"{self.base_url}/ingest", self.token, events)
        # the server reports counts only; per-table detail is in the store itself
        return WriteResult({"*": int(answer.get("written", 0))}, [])

    def query(self, sql: str, *, max_rows: int | None = None, max_bytes: int | None = None) -> QueryResult:
        request = {"sql": sql, "max_rows": max_rows, "max_bytes": max_bytes}
        return result_json.from_json(_post(f"{self.base_url}/query", self.token, orjson.dumps(request)))

    def tables(self) -> list[str]:
        return [row[0] for row in self.query("SHOW TABLES").rows]

    def describe(self, table: str) -> list[ResultColumn]:
        rows = self.query(f"DESCRIBE {table_ref(self.database, table)}").rows
        return [ResultColumn(name, kind) for name, kind in rows]

    def close(self) -> None:
        """Nothing to release: every call is its own HTTP request."""
