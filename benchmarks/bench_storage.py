"""Disk per nginx_access event: Parquet after the move (and compaction) against the raw line.

Realistic lines (:mod:`nginx_lines`: paths with ids, user agents, 20 hosts, 5,000 clients) for
one day, parsed by Dendro's nginx program and written through the store in batches of 1,000, as
the ingest writes them. Measured: the raw lines' bytes (with their newline), the DuckDB file
after a checkpoint (today's figure: everything in DuckDB), then the day moved to Parquet by the
store's maintenance and the DuckDB file compacted: the Parquet objects' bytes, and the data
dir's total. Prints the ratio of Parquet bytes to raw bytes per event last (goal: at most 0.1).

    .venv/bin/python benchmarks/bench_storage.py [EVENTS]
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

BATCH = 1000


def size(path: Path) -> int:
    if not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    today = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    day = today - timedelta(days=1)
    pairs = list(lines(count, day, per_second=count / 86_400))
    raw = sum(len(line.encode()) + 1 for _, line in pairs)
    parsed = list(events(iter(pairs)))
    assert len(parsed) == count and all(e["type"] == "nginx_access" for e in parsed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = LocalStore(root / "dendro.duckdb", "dendro", tables_of([catalog()["nginx"]]),
                           settings=StoreSettings(root=root))
        events_iter = iter(parsed)
        while batch := list(islice(events_iter, BATCH)):
            store.write(batch)
        store._con.execute("CHECKPOINT")
        duckdb_only = size(root / "dendro.duckdb") + size(root / "dendro.duckdb.wal")
        report = store.maintain()
        assert report.moved_rows == count, report
        store.compact_if_sparse()
        assert store.query("SELECT count(*) FROM nginx_access").rows == [(count,)]
        store.close()
        parquet = size(root / "tables")
        total = size(root) - size(root / "tmp") if (root / "tmp").exists() else size(root)
    print(f"events: {count:,} over one day, raw lines {raw / count:.1f} bytes each")
    print(f"DuckDB only (today, before the move): {duckdb_only / count:.1f} bytes/event"
          f" ({duckdb_only / raw:.3f} of the raw line)")
    print(f"Parquet after the move: {parquet / count:.1f} bytes/event; data dir in all {total / count:.1f}")
    print(f"ratio Parquet / raw line: {parquet / raw:.3f}")


if __name__ == "__main__":
    main()
