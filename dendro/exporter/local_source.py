"""Increments from the local store: one aggregate query per table over the settled window.

Each poll covers event times in ``[watermark, now − delay)``: events that arrive within
``delay`` of their timestamp are in the store by the time their window is read, and windows
never overlap, so each is counted once. The watermark (whole milliseconds, the unit of the
query's bounds) advances only when every query of the poll succeeded; a failed poll leaves
it, so the next poll's wider window catches up without loss. A new source starts at
``now − delay``: history is not replayed into the counters.

Late events (stored after their window was read) are found by one more query per poll: the
count per table and minute of event time over ``[watermark − LATE_LOOKBACK, watermark)``
compared with what was already seen there. The difference arrived too late to be counted and
goes to ``dendro_late_events_total``. The store needs no arrival column for this; events later
than the look-back are not seen at all.

Refused events are counted by one more query per poll over the ``rejected`` table, by the
table they were meant for (``unknown`` when their type matched no table). Its ``time`` is when
the store refused the event (its arrival: the event's own timestamp may be missing or
unreadable), so the same half-open windows ``[watermark, now − delay)`` of that column count
each refused event once, and none of them is late unless its write took longer than the delay.

Queries per poll: one per table that exists, one for late events and one for refused events,
whatever the number of hosts. SQL is in Dendro's Timestream dialect (the local store translates it).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dendro.exporter.poller import PollResult, UsageRecorder
from dendro.metrics import names
from dendro.metrics.aggregates import (
    Aggregate,
    Cell,
    Histogram,
    TableRole,
    epoch,
    level_label,
    method_label,
    metric_key,
)
from dendro.metrics.status import status_class
from dendro.services.base import Table
from dendro.store.base import QueryResult, Store
from dendro.store.sql import literal, quote, table_ref

LATE_LOOKBACK = 600.0  # seconds of event time re-counted to find late arrivals
REJECTED_TABLE = "rejected"  # the local store's table of refused events (time, table, reason, event)
SKIPPED_TABLES = frozenset({REJECTED_TABLE})


def _ts(ms: int) -> str:
    return f"from_milliseconds({ms})"


def _duration_columns(column: str | None, bounds: tuple[float, ...]) -> list[str]:
    if column is None:
        return []
    col = quote(column)
    parts = [f"count({col}) AS dcount", f"sum({col}) AS dsum"]
    parts += [
        f"sum(CASE WHEN {col} <= {bound!r} THEN 1 ELSE 0 END) AS le_{i}" for i, bound in enumerate(bounds)
    ]
    return parts


def table_query(database: str, table: Table, role: TableRole, start_ms: int, end_ms: int) -> str:
    """The aggregate query of one table over event times [start, end), grouped by host and minute."""
    keys = ["host"]
    values = ["count(*) AS events", "max(time) AS last"]
    red = role.red
    if role.kind == "http" and red is not None:
        keys.append(f"{quote(red.method)} AS m" if red.method else "NULL AS m")
        keys.append(f"{quote(red.status or 'status')} AS s")
        values += _duration_columns(red.duration, role.bounds)
    elif role.kind == "db" and red is not None:
        keys.append(f"{quote(red.level)} AS lvl" if red.level else "NULL AS lvl")
        values += _duration_columns(red.duration, role.bounds)
    if role.metrics is not None:
        wanted = "name IN (" + ", ".join(literal(n) for n in role.metrics.names) + ")"
        keys.append(f"CASE WHEN {wanted} THEN name END AS metric")
        present = {c.name for c in table.columns}
        keys += [
            f"CASE WHEN {wanted} THEN {quote(tag)} END AS tag_{tag}"
            for tag in role.metrics.tags
            if tag in present
        ]
        values.append("max_by(value, time) AS value")
    keys.append("bin(time, 1m) AS minute")
    positions = ", ".join(str(i + 1) for i in range(len(keys)))
    return (
        f"SELECT {', '.join(keys + values)} FROM {table_ref(database, table.name)}"
        f" WHERE time >= {_ts(start_ms)} AND time < {_ts(end_ms)} GROUP BY {positions}"
    )


def late_query(database: str, tables: list[str], start_ms: int, end_ms: int) -> str:
    """Rows per table and minute of event time in [start, end): one query for every table."""
    parts = [
        f"SELECT {literal(name)} AS tbl, bin(time, 1m) AS minute, count(*) AS n"
        f" FROM {table_ref(database, name)}"
        f" WHERE time >= {_ts(start_ms)} AND time < {_ts(end_ms)} GROUP BY 1, 2"
        for name in tables
    ]
    return " UNION ALL ".join(parts)


def rejected_query(database: str, known: Iterable[str], start_ms: int, end_ms: int) -> str:
    """Refused events per table label, refused in [start, end): tables outside ``known`` (and
    events without a type) are ``unknown``, so the result has at most one row per known table."""
    listed = ", ".join(literal(name) for name in sorted(known))
    unknown = literal(names.UNKNOWN_TABLE)
    label = f'CASE WHEN "table" IN ({listed}) THEN "table" ELSE {unknown} END' if listed else unknown
    return (
        f"SELECT {label} AS tbl, count(*) AS n FROM {table_ref(database, REJECTED_TABLE)}"
        f" WHERE time >= {_ts(start_ms)} AND time < {_ts(end_ms)} GROUP BY 1"
    )


def _histogram(row: Mapping[str, Any], bounds: tuple[float, ...]) -> Histogram:
    buckets = [int(row[f"le_{i}"] or 0) for i in range(len(bounds))]
    return Histogram(bounds, buckets, int(row["dcount"] or 0), float(row["dsum"] or 0.0))


def cell_from_row(role: TableRole, row: Mapping[str, Any]) -> Cell:
    """The aggregate cell of one result row of :func:`table_query`."""
    cell = Cell(role.table, role.service, role.kind, str(row["host"] or "unknown"), int(epoch(row["minute"])),
                events=int(row["events"]), last=epoch(row["last"]))
    if role.kind == "http":
        status = row["s"]
        code = status_class(int(status) if status is not None else None)
        cell.requests[(method_label(row["m"]), code)] += cell.events
    elif role.kind == "db" and role.red is not None:
        level = level_label(row["lvl"])
        if level in {lv.lower() for lv in role.red.error_levels}:
            cell.errors[level] += cell.events
    if role.metrics is not None and row["metric"] is not None and row["value"] is not None:
        tags = {tag: row.get(f"tag_{tag}") for tag in role.metrics.tags}
        cell.set_metric(metric_key(str(row["metric"]), tags), cell.last, float(row["value"]))
    if role.kind in ("http", "db") and "dcount" in row:
        cell.duration = _histogram(row, role.bounds)
    return cell


@dataclass
class LateTracker:
    """Rows seen per (table, minute) below the watermark, to tell late arrivals apart."""

    start_ms: int  # no expectations before the source's first window
    seen: dict[tuple[str, int], int] = field(default_factory=dict)

    def range(self, watermark_ms: int) -> tuple[int, int]:
        lookback = watermark_ms - int(LATE_LOOKBACK * 1000)
        start = max(lookback - lookback % 60_000, self.start_ms)
        return start, watermark_ms

    def compare(self, observed: Mapping[tuple[str, int], int], counted: Mapping[tuple[str, int], int],
                start_ms: int) -> tuple[Counter[str], dict[tuple[str, int], int]]:
        """Late rows per table, and the expectations after this poll (applied by the caller)."""
        late: Counter[str] = Counter()
        first_minute = start_ms // 1000 - (start_ms // 1000) % 60
        for key, count in observed.items():
            extra = count - self.seen.get(key, 0)
            if extra > 0:
                late[key[0]] += extra
        seen = {k: v for k, v in self.seen.items() if k[1] >= first_minute}
        seen.update({k: max(v, seen.get(k, 0)) for k, v in observed.items()})
        for key, count in counted.items():
            seen[key] = seen.get(key, 0) + count
        return late, seen


class LocalSource:
    """Polls a Store (the local DuckDB store) for RED increments."""

    def __init__(self, store: Store, tables: Mapping[str, Table], roles: Mapping[str, TableRole], *,
                 delay: float, usage: UsageRecorder, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.tables = dict(tables)
        self.roles = dict(roles)
        self.delay = delay
        self.usage = usage
        self.clock = clock
        self.watermark_ms = self._settled_ms()
        self.late = LateTracker(self.watermark_ms)

    def _settled_ms(self) -> int:
        # whole milliseconds, rounded (not floored) so that a clock at k ms is exactly k ms
        return round(self.clock() * 1000) - round(self.delay * 1000)

    def _existing(self) -> list[str]:
        try:
            return self.store.tables()
        except Exception:
            self.usage(errors=1)
            raise

    def _query(self, sql: str) -> QueryResult:
        try:
            result = self.store.query(sql)
        except Exception:
            self.usage(queries=1, errors=1)
            raise
        self.usage(queries=1, bytes_scanned=result.bytes_scanned or 0)
        return result

    def poll(self) -> PollResult:
        start, end = self.watermark_ms, self._settled_ms()
        if end <= start:
            return PollResult(Aggregate(), Counter(), start / 1000)
        existing = self._existing()
        present = [name for name in existing if name in self.roles and name not in SKIPPED_TABLES]
        aggregate = Aggregate()
        counted: Counter[tuple[str, int]] = Counter()
        for name in present:
            role = self.roles[name]
            result = self._query(table_query(self.store.database, self.tables[name], role, start, end))
            for row in result.dicts():
                cell = cell_from_row(role, row)
                aggregate.add_cell(cell)
                counted[(name, cell.minute)] += cell.events
        if REJECTED_TABLE in existing:
            known = [name for name in self.roles if name not in SKIPPED_TABLES]
            for row in self._query(rejected_query(self.store.database, known, start, end)).dicts():
                aggregate.rejected[str(row["tbl"])] += int(row["n"])
        late, seen = self._late(present, counted)
        self.watermark_ms = end
        self.late.seen = seen
        return PollResult(aggregate, late, end / 1000)

    def _late(self, present: list[str], counted: Mapping[tuple[str, int], int]
              ) -> tuple[Counter[str], dict[tuple[str, int], int]]:
        start, end = self.late.range(self.watermark_ms)
        observed: dict[tuple[str, int], int] = {}
        if present and end > start:
            for row in self._query(late_query(self.store.database, present, start, end)).dicts():
                observed[(str(row["tbl"]), int(epoch(row["minute"])))] = int(row["n"])
        return self.late.compare(observed, counted, start)
