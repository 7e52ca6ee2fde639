"""The SQL of the console's alert evaluator, every query bounded by an evaluation time.

The evaluator asks each rule's condition at *now* and, for a series crossing its threshold, at
the earlier minutes of the rule's ``for`` (see :mod:`dendro.alerts.state`), so no query here
reads ``ago()``: each one covers ``[start, end)`` given by the caller, in Dendro's Timestream
dialect (the local store translates it), names quoted and text values escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dendro.analysis.queries import error_condition, time_range
from dendro.services.base import Red
from dendro.services.internal import AGENT
from dendro.store.sql import literal, quote, table_ref


def count_where(database: str, table: str, where: str, start: datetime, end: datetime) -> str:
    """Events matching an alert event's condition per host, in [start, end)."""
    return (
        f"SELECT host, count(*) AS n FROM {table_ref(database, table)}"
        f" WHERE {time_range(start, end)} AND ({where}) GROUP BY host ORDER BY host"
    )


def newest_where(database: str, table: str, columns: Sequence[str], where: str, start: datetime,
                 end: datetime, hosts: Sequence[str] = ()) -> str:
    """The newest event matching ``where`` in [start, end) (of these hosts, if given): the line
    behind an alert."""
    cols = ", ".join(["time", "host", *(quote(c) for c in columns)])
    among = f" AND host IN ({', '.join(literal(h) for h in hosts)})" if hosts else ""
    return (
        f"SELECT {cols} FROM {table_ref(database, table)}"
        f" WHERE {time_range(start, end)} AND ({where}){among} ORDER BY time DESC LIMIT 1"
    )


def red_between(database: str, red: Red, start: datetime, end: datetime) -> str:
    """Per host in [start, end): requests, errors and the p95 duration."""
    errors = error_condition(red) or "false"
    p95 = f"approx_percentile({quote(red.duration)}, 0.95)" if red.duration else "NULL"
    return (
        f"SELECT host, count(*) AS n, sum(CASE WHEN {errors} THEN 1 ELSE 0 END) AS errors, {p95} AS p95"
        f" FROM {table_ref(database, red.table)} WHERE {time_range(start, end)} GROUP BY host ORDER BY host"
    )


# ``table`` of the host_* queries: the metrics table of a host_metrics service (Vector's
# host_metrics, one row per sample)


def host_latest(database: str, table: str, names: Sequence[str], start: datetime, end: datetime) -> str:
    """The newest value in [start, end) of these host metrics, per host and filesystem."""
    wanted = ", ".join(literal(n) for n in names)
    return (
        "SELECT host, mountpoint, name, max_by(value, time) AS v"
        f" FROM {table_ref(database, table)} WHERE {time_range(start, end)} AND name IN ({wanted})"
        " GROUP BY host, mountpoint, name ORDER BY host"
    )


def last_heartbeats(database: str, start: datetime, end: datetime) -> str:
    """The newest agent heartbeat of every host that sent one in [start, end)."""
    return (
        f"SELECT host, max(time) AS last_time FROM {table_ref(database, AGENT.name)}"
        f" WHERE {time_range(start, end)} GROUP BY host ORDER BY host"
    )


