"""The Store protocol: what every backend (DuckDB locally, Timestream on AWS) offers.

Readers (the exporter, the console, the dashboards' tests, ``dendro query``) and writers (the
ingest, the loader) depend on this protocol only. SQL is written once, in the Timestream
dialect Dendro uses; the local store translates it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class StoreError(Exception):
    """The store cannot do what was asked (unavailable, corrupt, newer schema…)."""


class QueryError(StoreError):
    """A query a user wrote is refused or wrong; ``str()`` says why, in one sentence."""


class DiskFull(StoreError):
    """The store cannot commit because its disk (or its quota) is full; nothing was written.

    The local ingest answers it with 507 Insufficient Storage, so an agent keeps its batch and
    retries instead of taking it for a refusal of the data."""


@dataclass(frozen=True)
class ResultColumn:
    name: str
    type: str  # VARCHAR, BIGINT, DOUBLE, BOOLEAN, TIMESTAMP, DATE, INTERVAL…


@dataclass
class QueryResult:
    columns: list[ResultColumn]
    rows: list[tuple[Any, ...]]
    truncated: bool = False  # more rows existed than the row or byte cap allowed
    elapsed_seconds: float = 0.0
    bytes_scanned: int | None = None  # Timestream bills by it; None where not known

    def dicts(self) -> list[dict[str, Any]]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, row, strict=True)) for row in self.rows]


@dataclass
class Rejection:
    event: Mapping[str, Any]
    reason: str
    table: str | None = None


@dataclass
class WriteResult:
    written: dict[str, int] = field(default_factory=dict)  # table → rows written
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def total_written(self) -> int:
        return sum(self.written.values())


class Store(Protocol):
    """One database of events: tables named after event types."""

    database: str

    def write(self, events: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Route events by ``type`` to their tables; what fits no table is rejected with a
        reason (and kept where the backend keeps rejections). All or nothing per call."""
        ...

    def query(self, sql: str, *, max_rows: int | None = None, max_bytes: int | None = None) -> QueryResult:
        """Run a read-only query in Dendro's Timestream dialect. The result is cut (``truncated``)
        past ``max_rows`` rows or ``max_bytes`` bytes of values (:mod:`dendro.store.fetch`;
        ``None``: its default cap)."""
        ...

    def tables(self) -> list[str]:
        """Names of the tables that exist."""
        ...

    def describe(self, table: str) -> list[ResultColumn]:
        """Columns of a table."""
        ...

    def close(self) -> None:
        """Release what the store holds (a file lock, connections); the store is not used after."""
        ...
