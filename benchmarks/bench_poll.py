"""Poll cost as hosts grow (10, 100, 1,000): store queries and S3 requests per poll stay constant.

Local: a DuckDB store holds one poll window of nginx requests, postgres lines and host metrics
for N hosts; one poll of the local source is timed. AWS: the bucket (moto) holds the aggregate
objects the loader would write for the same window (four objects, N hosts each); one poll of the
S3 source is timed. The table prints requests per poll and time; the ratios last compare the
time at 1,000 hosts with the time at 10 (100 times the hosts).
Run: ``.venv/bin/python benchmarks/bench_poll.py``.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dendro.exporter.local_source import LocalSource
from dendro.exporter.s3_source import S3Source
from dendro.exporter.state import State
from dendro.metrics.aggregates import AggregateBuilder, aggregate_key, red_map, roles
from dendro.services import host, nginx, postgres, tables_of
from dendro.store.local import LocalStore
from dendro.store.schema import to_row

SERVICES = (nginx.SERVICE, postgres.SERVICE, host.SERVICE)
TABLES = tables_of(SERVICES)
REDS = red_map(SERVICES)
T0 = 1_800_000_000.0
DELAY = 60.0
PER_HOST = 15  # events per host and table in one 15 s window
OBJECTS = 4


def stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def window_events(hosts: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for h in range(hosts):
        for i in range(PER_HOST):
            at = T0 + i
            events.append({"type": "nginx_access", "host": f"web-{h}", "timestamp": stamp(at),
                           "method": "GET", "path": "/", "status": 500 if i == 0 else 200, "bytes": 1,
                           "duration": 0.01 * i})
            events.append({"type": "postgres", "host": f"web-{h}", "timestamp": stamp(at),
                           "level": "ERROR" if i == 0 else "LOG", "duration": 0.1, "message": "x"})
        for mode, value in (("idle", 100.0), ("user", 50.0)):
            events.append({"type": "host", "host": f"web-{h}", "timestamp": stamp(T0),
                           "name": "cpu_seconds_total", "kind": "counter", "value": value, "cpu": "0",
                           "mode": mode})
    return events


def local_poll(hosts: int, directory: Path) -> tuple[int, float]:
    store = LocalStore(directory / f"bench-{hosts}.duckdb", "dendro", TABLES)
    store.write(window_events(hosts))
    state = State()
    now = [T0 - DELAY]
    source = LocalSource(store, TABLES, roles(TABLES, REDS), delay=DELAY, usage=state.record_usage,
                         clock=lambda: now[0])
    now[0] = T0 + 15 + DELAY
    started = time.perf_counter()
    result = source.poll()
    elapsed = time.perf_counter() - started
    assert sum(result.aggregate.events_by_table().values()) == hosts * (2 * PER_HOST + 2)
    store.close()
    return state.snapshot().store_queries, elapsed


def s3_poll(hosts: int, s3: Any) -> tuple[int, float]:
    bucket = f"bench-{hosts}"
    s3.create_bucket(Bucket=bucket)
    events = window_events(hosts)
    for n in range(OBJECTS):
        builder = AggregateBuilder(TABLES, REDS)
        for event in events[n::OBJECTS]:
            builder.add(event["type"], to_row(TABLES[event["type"]], event))
        delivered = datetime.fromtimestamp(T0 + 5 + n, UTC)
        raw = f"raw/{delivered:%Y/%m/%d/%H}/dendro-events-1-{delivered:%Y-%m-%d-%H-%M-%S}-o{n}"
        s3.put_object(Bucket=bucket, Key=aggregate_key(raw), Body=builder.to_json())
    state = State()
    now = [T0 - DELAY]
    source = S3Source(s3, bucket, delay=DELAY, usage=state.record_usage, clock=lambda: now[0])
    now[0] = T0 + 15 + DELAY
    started = time.perf_counter()
    result = source.poll()
    elapsed = time.perf_counter() - started
    assert sum(result.aggregate.events_by_table().values()) == len(events)
    return sum(state.snapshot().s3_requests.values()), elapsed


def main() -> None:
    import boto3
    from moto import mock_aws

    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1"})
    rows = []
    with tempfile.TemporaryDirectory() as directory, mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        local_poll(1, Path(directory))  # warm up: the first query parses and plans more
        for hosts in (10, 100, 1000):
            queries, local_time = local_poll(hosts, Path(directory))
            requests, s3_time = s3_poll(hosts, s3)
            rows.append((hosts, queries, local_time, requests, s3_time))
    print(f"{'hosts':>6} {'store queries':>14} {'local poll':>11} {'S3 requests':>12} {'S3 poll':>9}")
    for hosts, queries, local_time, requests, s3_time in rows:
        print(f"{hosts:>6} {queries:>14} {local_time * 1000:>9.1f}ms {requests:>12} {s3_time * 1000:>7.1f}ms")
    first, last = rows[0], rows[-1]
    print(f"queries per poll constant: {first[1] == last[1]};"
          f" S3 requests per poll constant: {first[3] == last[3]}")
    print(f"ratio, 100x the hosts: local poll time x{last[2] / first[2]:.1f},"
          f" S3 poll time x{last[4] / first[4]:.1f}")


if __name__ == "__main__":
    main()
