"""A RED aggregate over 10 million rows: Timestream SQL through the dialect vs DuckDB SQL.

Fills a local store's ``nginx_access`` with N rows (5 hosts, one day, 1% 5xx), then times the
per-minute RED query by host (count, 5xx count, p50/p95/p99 duration) written in Dendro's
Timestream dialect and run through ``LocalStore.query`` (parse, check, translate, execute), and
the same query written directly in DuckDB SQL on the same connection. Prints both medians and
their ratio last (goal: within 1.2x).

    .venv/bin/python benchmarks/bench_red_query.py [ROWS] [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from dendro.services import tables_of
from dendro.services.nginx import SERVICE as NGINX
from dendro.store.local import LocalStore

TIMESTREAM = """
SELECT bin(time, 1m) AS minute, host, count(*) AS requests,
       count_if(status >= 500) AS errors,
       approx_percentile(duration, 0.5) AS p50,
       approx_percentile(duration, 0.95) AS p95,
       approx_percentile(duration, 0.99) AS p99
FROM "dendro"."nginx_access"
WHERE time >= from_iso8601_timestamp('2026-11-26T00:00:00Z')
  AND time < from_iso8601_timestamp('2026-11-27T00:00:00Z')
GROUP BY 1, 2
"""

DUCKDB = """
SELECT time_bucket(INTERVAL 1 MINUTE, time, TIMESTAMP '1970-01-01') AS minute, host, count(*) AS requests,
       count_if(status >= 500) AS errors,
       quantile_disc(duration, 0.5) AS p50,
       quantile_disc(duration, 0.95) AS p95,
       quantile_disc(duration, 0.99) AS p99
FROM dendro.nginx_access
WHERE time >= TIMESTAMP '2026-11-26 00:00:00' AND time < TIMESTAMP '2026-11-27 00:00:00'
GROUP BY 1, 2
"""


def fill(store: LocalStore, rows: int) -> None:
    store._con.execute(  # bulk generation inside DuckDB: the benchmark is about the query
        f"""INSERT INTO hot.nginx_access (time, host, method, status, path, bytes, duration)
        SELECT TIMESTAMP '2026-11-26 00:00:00' + to_microseconds(CAST(i * 86400000000 // {rows} AS BIGINT)),
               'web-' || (i % 5), 'GET', CASE WHEN random() < 0.01 THEN 503 ELSE 200 END,
               '/api/' || (i % 100), 1000, random() * random()
        FROM range({rows}) AS r(i)"""
    )


def median_seconds(run: object, runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "dendro.duckdb", "dendro", tables_of([NGINX]), query_timeout=600)
        fill(store, rows)
        dialect_rows = store.query(TIMESTREAM, max_rows=None).rows
        direct_rows = store._con.cursor().execute(DUCKDB).fetchall()
        assert sorted(dialect_rows) == sorted(direct_rows), "the two queries disagree"
        through_dialect = median_seconds(lambda: store.query(TIMESTREAM, max_rows=None), runs)
        direct = median_seconds(lambda: store._con.cursor().execute(DUCKDB).fetchall(), runs)
        store.close()
    print(f"rows: {rows:,}, groups: {len(direct_rows):,}, runs: {runs}")
    print(f"Timestream SQL through the dialect: {through_dialect * 1000:,.0f} ms (median)")
    print(f"same query in DuckDB SQL:           {direct * 1000:,.0f} ms (median)")
    print(f"ratio (dialect / DuckDB): {through_dialect / direct:.2f}")


if __name__ == "__main__":
    main()
