"""Stores with days of nginx_access history for the query benchmarks, made fast inside DuckDB.

Each day holds ROWS_PER_DAY rows spread evenly over the day (5 hosts, 100 paths, 1% 5xx,
durations from a hash), the last one ending now, each row's values a function of its distance
from the end (so two stores agree on the hours they share); every closed day is moved to
Parquet by the store's own maintenance (one object per day, as ``dendro up`` leaves them);
today's rows stay in DuckDB.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dendro.services import catalog, tables_of
from dendro.store.local import LocalStore, StoreSettings

RED = """SELECT bin(time, 1m) AS minute, host, count(*) AS requests, count_if(status >= 500) AS errors,
       approx_percentile(duration, 0.5) AS p50, approx_percentile(duration, 0.95) AS p95,
       approx_percentile(duration, 0.99) AS p99
FROM "dendro"."nginx_access" WHERE {where} GROUP BY 1, 2"""


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def filled(root: Path, days: int, rows_per_day: int, end: datetime) -> LocalStore:
    """A store at ``root`` with ``days`` days of rows up to ``end``, closed days in Parquet."""
    store = LocalStore(root / "dendro.duckdb", "dendro", tables_of([catalog()["nginx"]]),
                       query_timeout=600, settings=StoreSettings(root=root))
    total = days * rows_per_day
    step = 86_400_000_000 // rows_per_day
    for start in range(1, total + 1, 2_000_000):  # j: the row's distance from the end, in steps
        count = min(2_000_000, total + 1 - start)
        store._con.execute(
            f"""INSERT INTO "dendro".hot.nginx_access (time, host, method, status, path, bytes, duration)
            SELECT TIMESTAMP '{end.isoformat()}' - to_microseconds(CAST(j * {step} AS BIGINT)),
                   'web-' || (j % 5), 'GET', CASE WHEN hash(j) % 100 = 0 THEN 503 ELSE 200 END,
                   '/api/' || (j % 100), 1000 + j % 5000, (hash(j * 7) % 100000) / 100000.0
            FROM range({start}, {start + count}) AS r(j)"""
        )
        store.maintain(now=end)  # as the hourly maintenance keeps up with the writes
    return store


def median_ms(run: Callable[[], Any], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def alternating(first: Callable[[], Any], second: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median milliseconds of each, run in turns (the machine's load changes both alike)."""
    a, b = [], []
    for _ in range(runs):
        a.append(median_ms(first, 1))
        b.append(median_ms(second, 1))
    return statistics.median(a), statistics.median(b)


def day_start(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def ago(days: int, at: datetime) -> datetime:
    return day_start(at) - timedelta(days=days)
