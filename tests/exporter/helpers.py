"""Shared builders of the exporter tests: tables, events at known times, a settable clock, stores."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dendro.metrics.aggregates import TableRole, red_map, roles
from dendro.services import host, nginx, postgres, tables_of
from dendro.services.base import Table
from dendro.store.base import QueryResult, ResultColumn, Store, StoreError, WriteResult
from dendro.store.local import LocalStore

SERVICES = (nginx.SERVICE, postgres.SERVICE, host.SERVICE)
T0 = 1_800_000_000.0  # a whole minute: 2027-01-15T08:00:00Z


def tables() -> dict[str, Table]:
    return tables_of(SERVICES)


def table_roles() -> dict[str, TableRole]:
    return roles(tables(), red_map(SERVICES))


def stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def access(at: float, host_name: str = "web-1", status: int = 200, duration: float | None = 0.02,
           method: str = "GET") -> dict[str, Any]:
    return {"type": "nginx_access", "host": host_name, "timestamp": stamp(at), "method": method, "path": "/",
            "status": status, "bytes": 10, "duration": duration}


def pg(at: float, level: str = "LOG", host_name: str = "db-1",
       duration: float | None = None) -> dict[str, Any]:
    return {"type": "postgres", "host": host_name, "timestamp": stamp(at), "level": level,
            "database": "app", "user": "app", "duration": duration, "message": "statement"}


def metric(at: float, name: str, value: float, host_name: str = "web-1", **tags: str) -> dict[str, Any]:
    return {"type": "host", "host": host_name, "timestamp": stamp(at), "name": name,
            "kind": "counter" if name.endswith("_total") else "gauge", "value": value, **tags}


def refused(at: float) -> list[Any]:
    """Events every store and the loader refuse, by the ``table`` label they must count under:
    nginx_access (a status that is no number), postgres (a duration that is none), and ``unknown``
    for a misspelt type, a table not configured here, no type at all, and a JSON value that is
    not an object."""
    return [
        {**access(at), "status": "two hundred"},
        pg(at, duration="slow"),  # type: ignore[arg-type]
        {**access(at), "type": "nginx_acess"},
        {**access(at), "type": "mysql_slow"},
        {"host": "web-1", "timestamp": stamp(at), "message": "no type"},
        "a JSON string, not an event",
    ]


def local_store(directory: Path) -> LocalStore:
    return LocalStore(directory / "dendro.duckdb", "dendro", tables())


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FlakyStore:
    """A store that fails every query while ``down`` is set (to test failures and catching up)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.database = store.database
        self.down = False

    def write(self, events: Iterable[Mapping[str, Any]]) -> WriteResult:
        return self.store.write(events)

    def query(self, sql: str, *, max_rows: int | None = None) -> QueryResult:
        if self.down:
            raise StoreError("the store is unavailable")
        return self.store.query(sql, max_rows=max_rows)

    def tables(self) -> list[str]:
        if self.down:
            raise StoreError("the store is unavailable")
        return self.store.tables()

    def describe(self, table: str) -> list[ResultColumn]:
        return self.store.describe(table)
