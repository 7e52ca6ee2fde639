"""The RED aggregate model shared by the loader (which writes it) and the exporter (which adds it).

One :class:`Aggregate` holds, per table, host and minute of event time, everything the exporter
exposes: request counts per method and status class, duration histogram bucket counts and sums,
error counts per level, event counts, the last event time, and the last value of each host
metric the exporter turns into gauges; and, per table, the events refused on the way (the
loader's ``rejected/`` lines, the local ``rejected`` table). The loader builds one per Firehose object with
:class:`AggregateBuilder` and writes it to S3 under :func:`aggregate_key`; the exporter's S3
source reads it back with :func:`parse`; the local source builds the same cells from SQL.

The JSON format grows compatibly within its version: ``rejected`` (table → count) is written
only when something was refused, and an object without it (written before it existed) parses
with no rejections; readers ignore fields they do not know.

Standard library only: this module is zipped into the Lambda function with the loader.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from dendro.metrics import names
from dendro.metrics.status import status_class
from dendro.services.base import Metrics, Red, Role, Table

FORMAT_VERSION = 1
AGGREGATES_PREFIX = "aggregates/"

#: HTTP methods kept as label values; anything else (garbage from scanners) becomes "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"})

Kind = Literal["http", "db", "host", "events"]
MetricKey = tuple[str, tuple[tuple[str, str], ...]]  # (name, sorted (tag, value) pairs)


class AggregateError(ValueError):
    """An aggregate object that cannot be read (wrong version, not JSON, wrong shape)."""


def method_label(method: Any) -> str:
    if not method:
        return "unknown"
    text = str(method).upper()
    return text if text in METHODS else "other"


def level_label(level: Any) -> str:
    return str(level).lower() if level else "unknown"


def minute_of(epoch_seconds: float) -> int:
    return int(epoch_seconds // 60) * 60


def epoch(value: datetime) -> float:
    """Seconds since the epoch of a datetime (naive values are UTC, as DuckDB returns them)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


@dataclass
class Histogram:
    """Cumulative bucket counts (``buckets[i]`` = observations ≤ ``bounds[i]``), count and sum."""

    bounds: tuple[float, ...]
    buckets: list[int] = field(default_factory=list)
    count: int = 0
    total: float = 0.0

    def __post_init__(self) -> None:
        if not self.buckets:
            self.buckets = [0] * len(self.bounds)

    def observe(self, value: float, sign: int = 1) -> None:
        """Count ``value`` (``sign=-1`` takes back an observation counted before)."""
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                self.buckets[i] += sign
        self.count += sign
        self.total += sign * value

    def merge(self, other: Histogram) -> None:
        if other.bounds != self.bounds:
            raise AggregateError(f"histogram buckets differ: {other.bounds} vs {self.bounds}")
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]
        self.count += other.count
        self.total += other.total

    def to_dict(self) -> dict[str, Any]:
        return {"bounds": list(self.bounds), "buckets": self.buckets, "count": self.count, "sum": self.total}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Histogram:
        bounds = tuple(float(b) for b in data["bounds"])
        buckets = [int(b) for b in data["buckets"]]
        if len(buckets) != len(bounds):
            raise AggregateError("histogram has a bucket count that does not match its bounds")
        return cls(bounds, buckets, int(data["count"]), float(data["sum"]))


@dataclass
class Cell:
    """Everything about one table, host and minute of event time."""

    table: str
    service: str
    kind: Kind
    host: str
    minute: int  # epoch seconds of the minute's start
    events: int = 0
    last: float = 0.0  # epoch seconds of the newest event
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)  # (method, code) → count
    errors: Counter[str] = field(default_factory=Counter)  # level → count
    duration: Histogram | None = None
    metrics: dict[MetricKey, tuple[float, float]] = field(default_factory=dict)  # → (time, value)

    def merge(self, other: Cell) -> None:
        self.events += other.events
        self.last = max(self.last, other.last)
        self.requests.update(other.requests)
        self.errors.update(other.errors)
        if other.duration is not None:
            if self.duration is None:
                self.duration = Histogram(other.duration.bounds)
            self.duration.merge(other.duration)
        for key, (when, value) in other.metrics.items():
            self.set_metric(key, when, value)

    def set_metric(self, key: MetricKey, when: float, value: float) -> None:
        known = self.metrics.get(key)
        if known is None or when >= known[0]:
            self.metrics[key] = (when, value)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "table": self.table,
            "service": self.service,
            "kind": self.kind,
            "host": self.host,
            "minute": self.minute,
            "events": self.events,
            "last": self.last,
        }
        if self.requests:
            data["requests"] = [[m, c, n] for (m, c), n in sorted(self.requests.items())]
        if self.errors:
            data["errors"] = dict(sorted(self.errors.items()))
        if self.duration is not None:
            data["duration"] = self.duration.to_dict()
        if self.metrics:
            data["metrics"] = [
                [name, dict(tags), when, value]
                for (name, tags), (when, value) in sorted(self.metrics.items())
            ]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        kind = data["kind"]
        if kind not in ("http", "db", "host", "events"):
            raise AggregateError(f"unknown cell kind {kind!r}")
        cell = cls(
            table=str(data["table"]),
            service=str(data["service"]),
            kind=kind,
            host=str(data["host"]),
            minute=int(data["minute"]),
            events=int(data["events"]),
            last=float(data["last"]),
        )
        for method, code, count in data.get("requests", ()):
            cell.requests[(str(method), str(code))] += int(count)
        for level, count in data.get("errors", {}).items():
            cell.errors[str(level)] += int(count)
        if "duration" in data:
            cell.duration = Histogram.from_dict(data["duration"])
        for name, tags, when, value in data.get("metrics", ()):
            cell.set_metric(metric_key(str(name), tags), float(when), float(value))
        return cell


def metric_key(name: str, tags: Mapping[str, Any]) -> MetricKey:
    return name, tuple(sorted((str(k), str(v)) for k, v in tags.items() if v is not None and v != ""))


CellKey = tuple[str, str, int]  # (table, host, minute)
RedMap = Mapping[str, tuple[str, Red]]  # table → (service name, Red)


def rejected_label(table: str | None, known: Iterable[str]) -> str:
    """The ``table`` label of a refused event: the table it was meant for, or ``unknown`` when its
    type matched no table (or it had none), so that the label stays bounded by the tables."""
    return table if table is not None and table in known else names.UNKNOWN_TABLE


@dataclass
class Aggregate:
    """Cells by (table, host, minute) and refused events by table; adding two aggregates adds
    their counts."""

    cells: dict[CellKey, Cell] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)  # table (or "unknown") → events refused

    def add_cell(self, cell: Cell) -> None:
        key = (cell.table, cell.host, cell.minute)
        known = self.cells.get(key)
        if known is None:
            self.cells[key] = cell
        else:
            known.merge(cell)

    def merge(self, other: Aggregate) -> None:
        for cell in other.cells.values():
            self.add_cell(cell)
        self.rejected.update(other.rejected)

    def events_by_table(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for cell in self.cells.values():
            counts[cell.table] += cell.events
        return counts

    def to_json(self) -> bytes:
        cells = [self.cells[key].to_dict() for key in sorted(self.cells)]
        body: dict[str, Any] = {"version": FORMAT_VERSION, "cells": cells}
        rejected = {table: count for table, count in sorted(self.rejected.items()) if count}
        if rejected:
            body["rejected"] = rejected
        return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def parse(data: bytes) -> Aggregate:
    """Read an aggregate object written by :meth:`AggregateBuilder.to_json`."""
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise AggregateError(f"aggregate is not JSON ({error})") from None
    if not isinstance(body, dict) or body.get("version") != FORMAT_VERSION:
        version = body.get("version") if isinstance(body, dict) else None
        raise AggregateError(f"aggregate format version {version!r} is not {FORMAT_VERSION}")
    aggregate = Aggregate()
    try:
        for item in body["cells"]:
            aggregate.add_cell(Cell.from_dict(item))
    except (KeyError, TypeError, ValueError) as error:
        raise AggregateError(f"aggregate has a malformed cell ({error!r})") from None
    aggregate.rejected = _rejected(body.get("rejected", {}))
    return aggregate


def _rejected(data: Any) -> Counter[str]:
    if not isinstance(data, dict):
        raise AggregateError("aggregate's rejected counts are not an object of table → count")
    counts: Counter[str] = Counter()
    for table, count in data.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise AggregateError(f"aggregate's rejected count of {table!r} is not a whole number")
        counts[str(table)] += count
    return counts


@dataclass(frozen=True)
class TableRole:
    """How the exporter reads one table: its service, its kind, its RED mapping and the metrics
    whose last value it keeps (kind ``host``: the metrics of a ``host_metrics`` service)."""

    table: str
    service: str
    kind: Kind
    red: Red | None = None
    metrics: Metrics | None = None

    @property
    def bounds(self) -> tuple[float, ...]:
        return names.HTTP_BUCKETS if self.kind == "http" else names.DB_BUCKETS


def red_map(services: Iterable[Any] | None = None) -> dict[str, tuple[str, Red]]:
    """table → (service name, Red) from the services' RED mappings (default: the catalog)."""
    if services is None:
        from dendro.services import catalog

        services = catalog().values()
    mapping: dict[str, tuple[str, Red]] = {}
    for service in services:
        for red in service.red:
            mapping[red.table] = (service.name, red)
    return mapping


MetricsMap = Mapping[str, tuple[str, Role, Metrics]]  # table → (service name, its role, Metrics)


def metrics_map(services: Iterable[Any] | None = None) -> dict[str, tuple[str, Role, Metrics]]:
    """table → (service name, role, Metrics) from the services' kept metrics (default: the catalog)."""
    if services is None:
        from dendro.services import catalog

        services = catalog().values()
    mapping: dict[str, tuple[str, Role, Metrics]] = {}
    for service in services:
        for metrics in service.metrics:
            mapping[metrics.table] = (service.name, service.role, metrics)
    return mapping


def roles(tables: Mapping[str, Table], reds: RedMap | None = None,
          metrics: MetricsMap | None = None) -> dict[str, TableRole]:
    """The role of every table: HTTP (a status), database (a level or a statement duration), host
    metrics (the metrics table of a ``host_metrics`` service), or events only (which may keep
    metrics too)."""
    reds = red_map() if reds is None else reds
    metrics = metrics_map() if metrics is None else metrics
    result: dict[str, TableRole] = {}
    for name in tables:
        service, red = reds.get(name, (name, None))
        if name in metrics:
            owner, role, kept = metrics[name]
            kind: Kind = "host" if role == "host_metrics" else "events"
            result[name] = TableRole(name, owner, kind, metrics=kept)
        elif red is not None and red.is_http:
            result[name] = TableRole(name, service, "http", red)
        elif red is not None and (red.level is not None or red.duration is not None):
            result[name] = TableRole(name, service, "db", red)
        else:
            result[name] = TableRole(name, service, "events", red)
    return result


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


class AggregateBuilder:
    """Accumulates rows (as :func:`dendro.store.schema.to_row` returns them) into an aggregate."""

    def __init__(self, tables: Mapping[str, Table], reds: RedMap | None = None,
                 metrics: MetricsMap | None = None) -> None:
        self.roles = roles(tables, reds, metrics)
        self.aggregate = Aggregate()

    def add(self, table: str, row: Mapping[str, Any]) -> None:
        role = self.roles.get(table) or TableRole(table, table, "events")
        when = epoch(row["time"])
        host = str(row.get("host") or "unknown")
        cell = self._cell(role, host, minute_of(when))
        cell.last = max(cell.last, when)
        self._count(cell, role, row, 1)
        if role.metrics is not None:
            self._add_metric(cell, role.metrics, when, row)

    def remove(self, table: str, row: Mapping[str, Any]) -> None:
        """Take back a row :meth:`add` counted (the store refused it after all).

        Its counts, request codes, error levels and duration leave the aggregate, and a cell
        left with no event goes; a cell's newest-event time and a host metric's last value
        stay as they were (neither can be recomputed without the other rows).
        """
        role = self.roles.get(table) or TableRole(table, table, "events")
        key = (role.table, str(row.get("host") or "unknown"), minute_of(epoch(row["time"])))
        cell = self.aggregate.cells.get(key)
        if cell is None:
            return
        self._count(cell, role, row, -1)
        if cell.events <= 0:
            del self.aggregate.cells[key]

    def _count(self, cell: Cell, role: TableRole, row: Mapping[str, Any], sign: int) -> None:
        cell.events += sign
        if role.kind == "http" and role.red is not None:
            self._add_http(cell, role.red, row, sign)
        elif role.kind == "db" and role.red is not None:
            self._add_db(cell, role.red, row, sign)

    def reject(self, table: str | None, count: int = 1) -> None:
        """Count ``count`` refused events meant for ``table`` (None: no table applies)."""
        self.aggregate.rejected[rejected_label(table, self.roles)] += count

    def _cell(self, role: TableRole, host: str, minute: int) -> Cell:
        key = (role.table, host, minute)
        cell = self.aggregate.cells.get(key)
        if cell is None:
            cell = Cell(role.table, role.service, role.kind, host, minute)
            if role.kind in ("http", "db") and role.red is not None and role.red.duration:
                cell.duration = Histogram(role.bounds)
            self.aggregate.cells[key] = cell
        return cell

    @staticmethod
    def _add_http(cell: Cell, red: Red, row: Mapping[str, Any], sign: int) -> None:
        status = _number(row.get(red.status)) if red.status else None
        code = status_class(int(status) if status is not None else None)
        label = (method_label(row.get(red.method or "method")), code)
        cell.requests[label] += sign
        if cell.requests[label] <= 0:
            del cell.requests[label]
        _observe(cell, red, row, sign)

    @staticmethod
    def _add_db(cell: Cell, red: Red, row: Mapping[str, Any], sign: int) -> None:
        level = level_label(row.get(red.level)) if red.level else "unknown"
        if level in {lv.lower() for lv in red.error_levels}:
            cell.errors[level] += sign
            if cell.errors[level] <= 0:
                del cell.errors[level]
        _observe(cell, red, row, sign)

    @staticmethod
    def _add_metric(cell: Cell, metrics: Metrics, when: float, row: Mapping[str, Any]) -> None:
        name = row.get("name")
        value = _number(row.get("value"))
        if name not in metrics.names or value is None:
            return
        tags = {tag: row.get(tag) for tag in metrics.tags}
        cell.set_metric(metric_key(str(name), tags), when, value)

    def to_json(self) -> bytes:
        return self.aggregate.to_json()


def _observe(cell: Cell, red: Red, row: Mapping[str, Any], sign: int) -> None:
    duration = _number(row.get(red.duration)) if red.duration else None
    if duration is not None and cell.duration is not None:
        cell.duration.observe(duration, sign)


# Firehose names objects <stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>: the delivery time
_FIREHOSE_TIME = re.compile(r"-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[^/]*$")


def aggregate_key(raw_key: str) -> str:
    """The aggregate object's key for a raw object's key: under ``aggregates/``, led by the
    delivery time Firehose wrote into the object's name, so keys sort by arrival, and the same
    raw key always gives the same aggregate key (a reprocessed object overwrites its aggregate).

    ``raw/2026/11/26/12/dendro-1-2026-11-26-12-00-05-abc`` →
    ``aggregates/2026/11/26/12/00/05/dendro-1-2026-11-26-12-00-05-abc.json``
    """
    name = raw_key.rsplit("/", 1)[-1] or "object"
    match = _FIREHOSE_TIME.search(raw_key)
    if match:
        year, month, day, hour, minute, second = match.groups()
        return f"{AGGREGATES_PREFIX}{year}/{month}/{day}/{hour}/{minute}/{second}/{name}.json"
    rest = raw_key.removeprefix("raw/").strip("/") or name
    return f"{AGGREGATES_PREFIX}other/{rest}.json"


def key_time(key: str) -> float | None:
    """Arrival time (epoch seconds) encoded in an aggregate key, None for keys without one."""
    parts = key.removeprefix(AGGREGATES_PREFIX).split("/")
    if len(parts) < 7 or not all(p.isdigit() for p in parts[:6]):
        return None
    year, month, day, hour, minute, second = (int(p) for p in parts[:6])
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()
    except ValueError:
        return None


def key_prefix_at(epoch_seconds: float) -> str:
    """The smallest aggregate key of objects delivered at or after ``epoch_seconds``'s second."""
    moment = datetime.fromtimestamp(math.floor(epoch_seconds), UTC)
    return f"{AGGREGATES_PREFIX}{moment:%Y/%m/%d/%H/%M/%S}/"
