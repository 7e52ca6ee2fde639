"""A 7-day RED query through the store against hand-written DuckDB SQL over the same Parquet files.

A store (:mod:`history`) with 10 days of nginx_access rows, the closed days in Parquet. The RED
query (per minute and host: requests, 5xx, p50/p95/p99 duration) over the 7 whole days before
yesterday, in Timestream SQL through the store (dialect, date pruning, the views over both
tiers), against the same query written by hand for DuckDB over the files
(``read_parquet('.../tables/nginx_access/*/*.parquet', hive_partitioning = true)`` with the
``date`` range a person would add), on a plain DuckDB connection. Both answer the same rows
(checked). Median of RUNS runs taken in turns; prints the ratio store / hand-written last (goal:
at most 1.2).

    .venv/bin/python benchmarks/bench_cold_query.py [ROWS_PER_DAY] [RUNS]
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import duckdb
from history import RED, ago, alternating, filled, now

HAND_WRITTEN = """SELECT time_bucket(INTERVAL 1 MINUTE, time, TIMESTAMP '1970-01-01') AS minute, host,
       count(*) AS requests, count_if(status >= 500) AS errors,
       quantile_disc(duration, 0.5) AS p50, quantile_disc(duration, 0.95) AS p95,
       quantile_disc(duration, 0.99) AS p99
FROM read_parquet('{files}', hive_partitioning = true)
WHERE date BETWEEN DATE '{first_day}' AND DATE '{last_day}'
  AND time >= TIMESTAMP '{start}' AND time < TIMESTAMP '{end}'
GROUP BY 1, 2"""


def main() -> None:
    per_day = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    end_of_data = now()
    start, end = ago(8, end_of_data), ago(1, end_of_data)  # 7 whole days, all of them in Parquet
    timestream = RED.format(where=f"time >= from_iso8601_timestamp('{start.isoformat()}Z')"
                                  f" AND time < from_iso8601_timestamp('{end.isoformat()}Z')")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = filled(root, 10, per_day, end_of_data)
        hand = HAND_WRITTEN.format(files=root / "tables" / "nginx_access" / "*" / "*.parquet",
                                   first_day=start.date(), last_day=(end - timedelta(days=1)).date(),
                                   start=start, end=end)
        plain = duckdb.connect()
        through_store = sorted(store.query(timestream, max_rows=None).rows)
        by_hand = sorted(plain.execute(hand).fetchall())
        assert through_store == by_hand, "the two queries disagree"
        store_ms, hand_ms = alternating(lambda: store.query(timestream, max_rows=None),
                                        lambda: plain.execute(hand).fetchall(), runs)
        plain.close()
        store.close()
    print(f"{per_day:,} rows a day, 7 days: {7 * per_day:,} rows, {len(by_hand):,} groups;"
          f" median of {runs} runs")
    print(f"Timestream SQL through the store: {store_ms:.0f} ms; hand-written DuckDB SQL: {hand_ms:.0f} ms")
    print(f"ratio store / hand-written: {store_ms / hand_ms:.2f}")


if __name__ == "__main__":
    main()
