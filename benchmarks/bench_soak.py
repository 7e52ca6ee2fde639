"""Steady state: with a short retention the data dir levels off instead of growing.

Simulated days (the store's maintenance takes the simulated present, the benchmark's hook for a
shorter "day"): each day, EVENTS_PER_DAY realistic nginx access events (:mod:`nginx_lines`,
parsed by Dendro's program) are written through the store in batches of 1,000 with that day's
timestamps, then the hourly maintenance runs as at the end of the day (retention, the day's move
to Parquet, merges), and, as when ``dendro up`` restarts, a compaction when the DuckDB file is
mostly free. The data dir's size (DuckDB file, WAL, Parquet objects) is printed at the end of
each day (the day still in DuckDB) and after the maintenance.
With ``retention_days`` = RETENTION, the size stops growing after RETENTION + 1 days; printed
last: the size on the last day over the size on day RETENTION + 2 (1.0 means level).

    .venv/bin/python benchmarks/bench_soak.py [DAYS] [EVENTS_PER_DAY] [RETENTION]
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

from nginx_lines import events, lines

from dendro.services import catalog, tables_of
from dendro.store.local import LocalStore, StoreSettings
from dendro.store.retention import Retention


def size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and p.parent.name != "tmp")


def main() -> None:
    days = int(sys.argv[1]) if len(sys.argv) > 1 else 14
    per_day = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    keep = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    today = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=days - 1)
    sizes = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = StoreSettings(root=root, retention=Retention(keep))
        tables = tables_of([catalog()["nginx"]])
        for number in range(days):
            day = first + timedelta(days=number)
            store = LocalStore(root / "dendro.duckdb", "dendro", tables, settings=settings)
            store.compact_if_sparse()  # as dendro up does when it starts
            stream = events(lines(per_day, day, per_second=per_day / 86_400, seed=number))
            while batch := list(islice(stream, 1000)):
                store.write(batch)
            store._con.execute("CHECKPOINT")
            peak = size(root)
            store.maintain(now=day + timedelta(days=1, minutes=15))  # the first run after midnight
            store.close()
            sizes.append(size(root))
            print(f"day {number + 1:2d} ({day:%Y-%m-%d}): data dir {peak / 1e6:7.1f} MB at the end of the"
                  f" day, {sizes[-1] / 1e6:7.1f} MB after the move")
    settled = sizes[min(keep + 1, len(sizes) - 1)]
    print(f"retention {keep} days, {per_day:,} events a day; growth after day {keep + 2}:"
          f" {sizes[-1] / settled:.2f}")


if __name__ == "__main__":
    main()
