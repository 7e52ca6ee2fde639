"""The last hour's RED query over 30 days of history against the same query over 1 day.

Two stores (:mod:`history`): one with 1 day of nginx_access rows, one with 30 days (29 closed
days in Parquet, one object each, today in DuckDB), the same rows per day, both ending now. The
console's RED query (per minute and host: requests, 5xx, p50/p95/p99 duration) with
``WHERE time > ago(1h)``, in Timestream SQL through the store (dialect, date pruning, the
views), median of RUNS runs taken in turns. Both answer the same rows (checked). Prints the
ratio 30 days / 1 day last (goal: at most 1.5; the 29 older dates' objects are not opened).

    .venv/bin/python benchmarks/bench_history_query.py [ROWS_PER_DAY] [RUNS]
"""

from __future__ import annotations

import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from history import RED, alternating, filled, now


def main() -> None:
    per_day = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    end = now()
    sql = RED.format(where="time > ago(1h)")
    with tempfile.TemporaryDirectory() as one_dir, tempfile.TemporaryDirectory() as thirty_dir:
        one = filled(Path(one_dir), 1, per_day, end)
        thirty = filled(Path(thirty_dir), 30, per_day, end)
        objects = sum(1 for _ in Path(thirty_dir, "tables").rglob("*.parquet"))
        hour_ago = (end - timedelta(hours=1)).isoformat()
        fixed = RED.format(where=f"time > from_iso8601_timestamp('{hour_ago}Z')")
        assert sorted(one.query(fixed, max_rows=None).rows) == sorted(thirty.query(fixed, max_rows=None).rows)
        one_ms, thirty_ms = alternating(lambda: one.query(sql, max_rows=None),
                                        lambda: thirty.query(sql, max_rows=None), runs)
        one.close()
        thirty.close()
    print(f"{per_day:,} rows a day; 30-day store: {objects} Parquet objects; median of {runs} runs")
    print(f"last hour over 1 day of history: {one_ms:.1f} ms; over 30 days: {thirty_ms:.1f} ms")
    print(f"ratio 30 days / 1 day: {thirty_ms / one_ms:.2f}")


if __name__ == "__main__":
    main()
