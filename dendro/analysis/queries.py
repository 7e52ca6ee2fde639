"""The SQL the console's pages and the local alert evaluator run, written once in Dendro's Timestream dialect.

Every function returns SQL text only; the pages run it through the Store, so the same text runs
on DuckDB locally (translated by :mod:`dendro.store.dialect`) and on Timestream. Every query
bounds ``time`` (Timestream bills by the data a query scans, and a time predicate prunes it), and
queries that would be one per table are one ``UNION ALL`` instead, so a page costs few queries.
Names are quoted and text values escaped here, never pasted in raw.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from dendro.metrics import status
from dendro.services.base import Metrics, Red, Service
from dendro.store.sql import literal, quote, table_ref


def millis(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)


def time_range(start: datetime, end: datetime) -> str:
    """``time`` within [start, end), as Timestream and DuckDB both read it."""
    return f"time >= from_milliseconds({millis(start)}) AND time < from_milliseconds({millis(end)})"


def table_activity(database: str, tables: Sequence[str]) -> str:
    """Rows of each table in the last 5 minutes, hour and day, and its last event time (24 h)."""
    parts = [
        f"SELECT {literal(name)} AS tbl,"
        " sum(CASE WHEN time >= ago(5m) THEN 1 ELSE 0 END) AS last_5m,"
        " sum(CASE WHEN time >= ago(1h) THEN 1 ELSE 0 END) AS last_1h,"
        " count(*) AS last_24h, max(time) AS last_time"
        f" FROM {table_ref(database, name)} WHERE time >= ago(24h)"
        for name in tables
    ]
    return " UNION ALL ".join(parts)


def error_condition(red: Red) -> str | None:
    """SQL that is true for an error event of this RED mapping (None: the table has no errors)."""
    if red.status:
        return status.error_sql(quote(red.status))
    if red.level and red.error_levels:
        return f"{quote(red.level)} IN ({', '.join(literal(level) for level in red.error_levels)})"
    return None


def class_expression(red: Red) -> str:
    """What the rate chart splits by: the status class, the level, or nothing."""
    if red.status:
        return status.class_sql(quote(red.status))
    if red.level:
        return f"coalesce({quote(red.level)}, 'none')"
    return "'events'"


def rate_by_class(database: str, red: Red, start: datetime, end: datetime, step: int) -> str:
    """Events per bin, split by status class (HTTP) or level (databases), with the first and last
    event time of each (where the data begins and ends inside a bin)."""
    return (
        f"SELECT bin(time, {step}s) AS t, {class_expression(red)} AS class, count(*) AS n,"
        " min(time) AS first_time, max(time) AS last_time"
        f" FROM {table_ref(database, red.table)} WHERE {time_range(start, end)}"
        " GROUP BY 1, 2 ORDER BY 1, 2"
    )


def hosts_of(database: str, table: str, start: datetime, end: datetime) -> str:
    """The hosts that wrote to ``table`` in [start, end)."""
    return (f"SELECT DISTINCT host FROM {table_ref(database, table)} WHERE {time_range(start, end)}"
            " AND host IS NOT NULL")


def red_summary(database: str, red: Red, start: datetime, end: datetime, step: int) -> str:
    """Per bin: events, errors, and, when the table has a duration, how many events have one
    (``timed``) and their p50/p95/p99."""
    errors = error_condition(red)
    values = [
        "count(*) AS n",
        f"sum(CASE WHEN {errors} THEN 1 ELSE 0 END) AS errors" if errors else "0 AS errors",
    ]
    if red.duration:
        col = quote(red.duration)
        values += [f"count({col}) AS timed"]
        values += [f"approx_percentile({col}, {q}) AS p{int(q * 100)}" for q in (0.5, 0.95, 0.99)]
    return (
        f"SELECT bin(time, {step}s) AS t, {', '.join(values)} FROM {table_ref(database, red.table)}"
        f" WHERE {time_range(start, end)} GROUP BY 1 ORDER BY 1"
    )


def events_by_host(database: str, table: str, start: datetime, end: datetime, step: int) -> str:
    """Events per bin and host (services without a RED mapping, such as syslog), with the first
    and last event time of each."""
    return (
        f"SELECT bin(time, {step}s) AS t, host, count(*) AS n, min(time) AS first_time,"
        f" max(time) AS last_time FROM {table_ref(database, table)}"
        f" WHERE {time_range(start, end)} GROUP BY 1, 2 ORDER BY 1, 2"
    )


# The host metrics queries read the metrics table of a ``host_metrics`` service, by the names
# of Vector's host_metrics source.

#: host gauges charted per host: metric name → chart
HOST_GAUGES = ("load1", "memory_used_bytes", "memory_total_bytes")


def host_gauges(database: str, table: str, start: datetime, end: datetime, step: int) -> str:
    names = ", ".join(literal(n) for n in HOST_GAUGES)
    return (
        f"SELECT bin(time, {step}s) AS t, host, name, avg(value) AS v FROM {table_ref(database, table)}"
        f" WHERE {time_range(start, end)} AND name IN ({names}) GROUP BY 1, 2, 3 ORDER BY 1"
    )


def host_cpu(database: str, table: str, start: datetime, end: datetime, step: int) -> str:
    """CPU seconds per bin, host and mode (summed over CPUs); busy share is computed from deltas."""
    return (
        "SELECT t, host, mode, sum(mx) AS seconds FROM ("
        f"SELECT bin(time, {step}s) AS t, host, cpu, mode, max(value) AS mx"
        f" FROM {table_ref(database, table)} WHERE {time_range(start, end)}"
        " AND name = 'cpu_seconds_total' GROUP BY 1, 2, 3, 4"
        ") GROUP BY 1, 2, 3 ORDER BY 1"
    )


def host_disk(database: str, table: str, start: datetime, end: datetime, step: int) -> str:
    """Used and total bytes per bin, host and filesystem."""
    return (
        f"SELECT bin(time, {step}s) AS t, host, mountpoint, name, max(value) AS v"
        f" FROM {table_ref(database, table)} WHERE {time_range(start, end)}"
        " AND name IN ('filesystem_used_bytes', 'filesystem_total_bytes') AND mountpoint IS NOT NULL"
        " GROUP BY 1, 2, 3, 4 ORDER BY 1"
    )


def metric_values(database: str, metrics: Metrics, names: Sequence[str], start: datetime, end: datetime,
                  step: int) -> str:
    """The newest value per bin, host, metric and series (the metrics' tags) of these metrics, and
    its time ``last_time`` (a counter's rate is over the seconds between two samples, not two bins)."""
    tags = "".join(f", {quote(tag)}" for tag in metrics.tags)
    wanted = ", ".join(literal(n) for n in names)
    keys = ", ".join(str(i) for i in range(1, 4 + len(metrics.tags)))
    return (
        f"SELECT bin(time, {step}s) AS t, host, name{tags}, max_by(value, time) AS v, max(time) AS last_time"
        f" FROM {table_ref(database, metrics.table)} WHERE {time_range(start, end)} AND name IN ({wanted})"
        f" GROUP BY {keys} ORDER BY 1"
    )


def hosts_seen(database: str, tables: Sequence[str], days: int) -> str:
    """Per host and table: rows and the last event time over the last ``days`` days."""
    parts = [
        f"SELECT host, {literal(name)} AS tbl, count(*) AS n, max(time) AS last_time"
        f" FROM {table_ref(database, name)} WHERE time >= ago({days}d) GROUP BY host"
        for name in tables
    ]
    return " UNION ALL ".join(parts)


def agent_heartbeats(database: str, days: int) -> str:
    """The last heartbeat of every agent: its time, version and uptime."""
    return (
        "SELECT host, max(time) AS last_time, max_by(version, time) AS version,"
        f" max_by(uptime, time) AS uptime FROM {table_ref(database, 'agent')}"
        f" WHERE time >= ago({days}d) GROUP BY host ORDER BY host"
    )


def count_where(database: str, table: str, where: str, window_s: int) -> str:
    """Matching events per host over the last ``window_s`` seconds (an alert event's condition)."""
    return (
        f"SELECT host, count(*) AS n FROM {table_ref(database, table)}"
        f" WHERE time >= ago({window_s}s) AND ({where}) GROUP BY host ORDER BY host"
    )


def latest_where(database: str, table: str, where: str, window_s: int) -> str:
    """The newest event matching an alert event's condition in the window: the line behind it."""
    return (
        f"SELECT time, host, message FROM {table_ref(database, table)}"
        f" WHERE time >= ago({window_s}s) AND ({where}) ORDER BY time DESC LIMIT 1"
    )


def red_now(database: str, red: Red, window_s: int) -> str:
    """Per host over the last ``window_s`` seconds: requests, errors and p95 duration."""
    errors = error_condition(red) or "false"
    p95 = f"approx_percentile({quote(red.duration)}, 0.95)" if red.duration else "NULL"
    return (
        f"SELECT host, count(*) AS n, sum(CASE WHEN {errors} THEN 1 ELSE 0 END) AS errors, {p95} AS p95"
        f" FROM {table_ref(database, red.table)} WHERE time >= ago({window_s}s) GROUP BY host ORDER BY host"
    )


def host_latest(database: str, table: str, names: Sequence[str], window_s: int) -> str:
    """The latest value of these host metrics per host and filesystem."""
    wanted = ", ".join(literal(n) for n in names)
    return (
        "SELECT host, mountpoint, name, max_by(value, time) AS v"
        f" FROM {table_ref(database, table)} WHERE time >= ago({window_s}s) AND name IN ({wanted})"
        " GROUP BY host, mountpoint, name ORDER BY host"
    )


def requests_by_host(database: str, red: Red, start: datetime, end: datetime, step: int | None = None) -> str:
    """Per host (and bin of ``step`` seconds): requests and their p95 duration, in [start, end)."""
    p95 = f"approx_percentile({quote(red.duration)}, 0.95)" if red.duration else "NULL"
    keys = "host" if step is None else f"bin(time, {step}s) AS t, host"
    return (
        f"SELECT {keys}, count(*) AS n, {p95} AS p95 FROM {table_ref(database, red.table)}"
        f" WHERE {time_range(start, end)} GROUP BY {'1' if step is None else '1, 2'} ORDER BY 1"
    )


def recent_rows(database: str, table: str, columns: Sequence[str], days: int, limit: int, offset: int) -> str:
    """The newest rows of a table (the pipeline's own problems: rejected, parse_error)."""
    cols = ", ".join(["time", *[quote(c) for c in columns]])
    return (
        f"SELECT {cols} FROM {table_ref(database, table)} WHERE time >= ago({days}d)"
        f" ORDER BY time DESC LIMIT {int(limit)} OFFSET {int(offset)}"
    )


def examples(database: str, tables: Sequence[str], services: Iterable[Service] | None = None
             ) -> list[tuple[str, str]]:
    """Example queries for the query page (title, SQL): those the services declare (default: the
    catalog's) whose tables this store has, then the store's tables."""
    if services is None:
        from dendro.services import catalog

        services = catalog().values()
    found = set(tables)
    db = quote(database)
    result = [
        (example.title, example.render(db))
        for service in services
        for example in service.examples
        if found.issuperset(example.tables)
    ]
    return [*result, ("Tables of the store", "SHOW TABLES")]
