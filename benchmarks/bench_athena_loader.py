"""The athena store's loader against the Timestream loader, and what a dashboard refresh scans.

Run: ``.venv/bin/python benchmarks/bench_athena_loader.py [--events N] [--rate R]``. Figures are
printed as they come, the ratio last (figures in benchmarks/README.md, section Athena store, and
docs/aws.md).

- Throughput (one core): events per second from an NDJSON object's bytes to the Parquet objects'
  bytes (the athena loader: decoding, ``to_row``, aggregates, alerts, Arrow and Parquet with the
  codec this pyarrow has), against the Timestream loader on the same object to signed, serialized
  WriteRecords requests (HTTP answered in botocore's before-send, as benchmarks/bench_loader.py).
  Best of three runs each.
- Bytes scanned: a day of ``--rate`` events/s (90 % nginx access, 10 % postgres), made as one hour
  through the athena loader, merged as compaction merges it and counted ×24. For each query of the
  Logs explorer (Athena variant, nginx and postgres configured), the bytes Athena reads are those
  of the column chunks the query names in the day's objects (a day's partition: the dashboard's
  last hour lies within it; Parquet statistics on ``time`` may let Athena skip more, not counted),
  billed at least 10 MB a query, at $5 per TB scanned.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from benchmarks.bench_loader import KEY, BenchS3, event, settings, stub_client
from dendro.config import from_dict
from dendro.grafana.build import dashboards
from dendro.pipeline.athena_loader import ParquetLoader
from dendro.pipeline.loader import Loader
from dendro.store import athena_writer
from dendro.store import parquet_layout as layout

BUCKET = "bench"
MIN_BILLED = 10 * 1000 * 1000  # Athena bills at least 10 MB a query
PRICE_PER_TB = 5.0


class CollectS3(BenchS3):
    """The bench's S3 that keeps what the athena loader puts (the Parquet objects)."""

    def __init__(self, make_chunks: Any) -> None:
        super().__init__(make_chunks)
        self.bodies: dict[str, bytes] = {}

    def put_object(self, **kw: Any) -> dict[str, Any]:
        self.bodies[kw["Key"]] = kw["Body"] if isinstance(kw["Body"], bytes) else bytes(kw["Body"])
        return {}

    def list_objects_v2(self, **_: Any) -> dict[str, Any]:
        return {"Contents": []}


def _best(run: Any, events: int, repeat: int = 3) -> float:
    best = 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = max(best, events / (time.perf_counter() - started))
    return best


def throughput(count: int) -> tuple[float, float]:
    lines = [json.dumps(event(i)).encode() + b"\n" for i in range(count)]
    chunks = lambda: iter([b"".join(lines)])  # noqa: E731
    timestream = Loader(settings(1), BenchS3(chunks), stub_client(), log=lambda _line: None)
    athena = ParquetLoader(settings(1), CollectS3(chunks), log=lambda _line: None)
    ts = _best(lambda: timestream.load_object(BUCKET, KEY), count)
    print(f"Timestream loader, NDJSON → signed WriteRecords requests: {ts:,.0f} events/s")
    pq_rate = _best(lambda: athena.load_object(BUCKET, KEY), count)
    print(f"athena loader, NDJSON → Parquet objects ({athena_writer.compression()}): {pq_rate:,.0f} events/s")
    return ts, pq_rate


def _pg(i: int) -> dict[str, Any]:
    return {
        "type": "postgres",
        "host": f"db-{i % 2}",
        "timestamp": f"2026-11-26T12:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:03d}000Z",
        "level": ("LOG", "LOG", "ERROR", "WARNING")[i % 4],
        "database": "shop",
        "user": "app",
        "duration": (i % 900) / 10,
        "message": f"duration: {i % 900} ms",
    }


def hour_of_objects(rate: int) -> dict[str, pa.Table]:
    """One hour at ``rate`` events/s through the athena loader, merged per table as compaction does."""
    total = rate * 3600
    lines = []
    for i in range(total):
        item = _pg(i) if i % 10 == 9 else event(i)
        if item["type"] == "nginx_access":
            second = i // rate
            item["timestamp"] = (
                f"2026-11-26T12:{(second // 60) % 60:02d}:{second % 60:02d}.{i % rate:03d}000Z"
            )
        lines.append(json.dumps(item).encode() + b"\n")
    s3 = CollectS3(lambda: iter([b"".join(lines)]))
    ParquetLoader(settings(1), s3, log=lambda _line: None).load_object(BUCKET, KEY)
    merged: dict[str, pa.Table] = {}
    for key, body in s3.bodies.items():
        path = layout.parse(key)
        if path is not None:
            merged[path.table] = pq.read_table(io.BytesIO(body))
    return merged


def column_bytes(table: pa.Table, copies: int) -> dict[str, int]:
    """Compressed bytes of each column in ``copies`` hours of ``table`` written as one object."""
    sink = io.BytesIO()
    out = athena_writer.open_writer(sink, table.schema)
    for _ in range(copies):
        layout.write(out, table)
    out.close()
    meta = pq.read_metadata(io.BytesIO(sink.getvalue()))
    sizes: dict[str, int] = {}
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            column = group.column(c)
            sizes[column.path_in_schema] = sizes.get(column.path_in_schema, 0) + column.total_compressed_size
    return sizes


def panel_queries() -> list[tuple[str, str]]:
    config = from_dict({"backend": "aws", "services": ["nginx", "postgres"], "aws": {"store": "athena"}})
    board = dashboards(config)["logs"]
    return [(p["title"], t["rawSQL"]) for p in board["panels"] for t in p.get("targets", []) if "rawSQL" in t]


def scanned(sql: str, day: dict[str, dict[str, int]]) -> int:
    plain = re.sub(r"\$__timeGroup\(([^,]+),[^)]*\)", r"date_trunc('minute', \1)", sql)
    plain = plain.replace("$__timeFrom()", "TIMESTAMP '2026-11-26 11:00:00'")
    plain = plain.replace("$__timeTo()", "TIMESTAMP '2026-11-26 12:00:00'").replace("$host", "'web-1'")
    tree = sqlglot.parse_one(plain, read="trino")
    table = next(tree.find_all(exp.Table)).name
    columns = {c.name for c in tree.find_all(exp.Column)} & set(day.get(table, {}))
    return sum(day[table][c] for c in columns)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=100)
    args = parser.parse_args()
    ts, pq_rate = throughput(args.events)

    hour = hour_of_objects(args.rate)
    day = {name: column_bytes(table, 24) for name, table in hour.items()}
    for name, sizes in sorted(day.items()):
        megabytes = sum(sizes.values()) / 1e6
        print(f"a day of {name}: {hour[name].num_rows * 24:,} rows, {megabytes:,.1f} MB of Parquet")
    billed_total = read_total = 0
    for title, sql in panel_queries():
        read = scanned(sql, day)
        billed = max(read, MIN_BILLED)
        read_total, billed_total = read_total + read, billed_total + billed
        print(f"  {title}: reads {read / 1e6:,.2f} MB, billed {billed / 1e6:,.1f} MB")
    price = billed_total / 1e12 * PRICE_PER_TB
    print(
        f"Logs explorer refresh: {len(panel_queries())} queries read {read_total / 1e6:,.1f} MB, billed "
        f"{billed_total / 1e6:,.1f} MB = ${price:.5f} a refresh (${price * 12 * 24:.2f} a day at one refresh "
        "every 5 minutes)"
    )
    print(f"ratio athena loader / Timestream loader events/s: {pq_rate / ts:.2f}")


if __name__ == "__main__":
    main()
