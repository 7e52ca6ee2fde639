"""Talking to a running ``dendro up``: find it through its data dir, post events, run queries.

``dendro up`` owns the DuckDB file (DuckDB allows one writer), so while it runs, ``dendro
query`` and ``dendro ingest`` go through its HTTP API. It announces itself in
``DATA_DIR/server.json`` (pid and port); a file left by a killed server is recognised because
nothing answers on that port.
"""

from __future__ import annotations

import gzip
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from dendro.ingest.token import DEFAULT_ENV, TOKEN_FILE
from dendro.store.base import QueryError, QueryResult, ResultColumn, StoreError, WriteResult
from dendro.store.sql import table_ref

SERVER_FILE = "server.json"


@dataclass(frozen=True)
class Running:
    """A running ``dendro up`` on this data dir."""

    pid: int
    port: int
    token: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def announce(data_dir: Path, port: int) -> Path:
    path = data_dir / SERVER_FILE
    path.write_text(json.dumps({"pid": os.getpid(), "port": port}), encoding="utf-8")
    return path


def read_token(data_dir: Path, env: str = DEFAULT_ENV) -> str | None:
    value = os.environ.get(env, "").strip()
    if value:
        return value
    try:
        return (data_dir / TOKEN_FILE).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def running(data_dir: Path, env: str = DEFAULT_ENV) -> Running | None:
    """The server holding this data dir, if one answers."""
    try:
        info = json.loads((data_dir / SERVER_FILE).read_text(encoding="utf-8"))
        pid, port = int(info["pid"]), int(info["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _healthy(port):
        return None
    token = read_token(data_dir, env)
    if token is None:
        raise StoreError(f"dendro up is running on {data_dir} but its token is unknown: set ${env}")
    return Running(pid, port, token)


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


def _typed(columns: list[ResultColumn], rows: list[list[Any]]) -> list[tuple[Any, ...]]:
    times = [i for i, c in enumerate(columns) if c.type == "TIMESTAMP"]
    result = []
    for row in rows:
        for i in times:
            if isinstance(row[i], str):
                row[i] = datetime.fromisoformat(row[i])
        result.append(tuple(row))
    return result


class RemoteStore:
    """The Store protocol over a running ``dendro up``'s HTTP API."""

    def __init__(self, server: Running, database: str) -> None:
        self.server = server
        self.database = database

    def write(self, events: Iterable[Mapping[str, Any]]) -> WriteResult:
        answer = post_events(f"{self.server.base_url}/ingest", self.server.token, events)
        # the server reports counts only; per-table detail is in the store itself
        return WriteResult({"*": int(answer.get("written", 0))}, [])

    def query(self, sql: str, *, max_rows: int | None = None) -> QueryResult:
        request = {"sql": sql, "max_rows": max_rows}
        answer = _post(f"{self.server.base_url}/query", self.server.token, orjson.dumps(request))
        columns = [ResultColumn(c["name"], c["type"]) for c in answer["columns"]]
        return QueryResult(
            columns,
            _typed(columns, answer["rows"]),
            truncated=bool(answer.get("truncated")),
            elapsed_seconds=float(answer.get("elapsed_seconds", 0.0)),
        )

    def tables(self) -> list[str]:
        return [row[0] for row in self.query("SHOW TABLES").rows]

    def describe(self, table: str) -> list[ResultColumn]:
        rows = self.query(f"DESCRIBE {table_ref(self.database, table)}").rows
        return [ResultColumn(name, kind) for name, kind in rows]

    def close(self) -> None:
        """Nothing to release: every call is its own HTTP request."""
