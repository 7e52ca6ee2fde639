"""The exporter over the AWS pipeline (moto): the real loader writes aggregates, the exporter adds
them; same metrics as over the local store for the same events, nothing counted twice, and no
Timestream client is ever created."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dendro.config import from_dict
from dendro.exporter.local_source import LocalSource
from dendro.exporter.poller import Poller
from dendro.exporter.s3_source import S3Source
from dendro.exporter.server import build_source
from dendro.exporter.state import Snapshot, State
from dendro.metrics.aggregates import aggregate_key, red_map
from dendro.pipeline.loader import Loader, Settings
from dendro.store.timestream_records import apply_common
from dendro.store.timestream_writer import Backoff
from tests.exporter.helpers import (
    SERVICES,
    T0,
    Clock,
    access,
    local_store,
    metric,
    pg,
    refused,
    table_roles,
    tables,
)

REGION = "us-east-1"
BUCKET = "dendro-123456789012-us-east-1"  # the pipeline's bucket name for moto's account
ENDPOINT = "https://ingest.timestream.us-east-1.amazonaws.com"
DELAY = 60.0


def _merge_common(params: dict[str, Any], **_: Any) -> None:
    # moto ignores CommonAttributes; Timestream merges them into each record
    common = params.pop("CommonAttributes", None)
    if common:
        params["Records"] = [apply_common(common, r) for r in params["Records"]]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        session.events.register("provide-client-params.timestream-write.WriteRecords", _merge_common)
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        ts = session.client("timestream-write", endpoint_url=ENDPOINT)
        ts.create_database(DatabaseName="dendro")
        for table in tables():
            ts.create_table(DatabaseName="dendro", TableName=table)
        yield {"s3": s3, "timestream": ts, "session": session}


def loader(aws: dict[str, Any]) -> Loader:
    settings = Settings(database="dendro", tables=tables(), reds=red_map(SERVICES), max_inflight=2)
    return Loader(settings, aws["s3"], aws["timestream"], log=lambda _line: None,
                  backoff=Backoff(sleep=lambda _s: None, rng=lambda: 0.5))


def raw_key(delivered: float, name: str) -> str:
    moment = datetime.fromtimestamp(delivered, UTC)
    return f"raw/{moment:%Y/%m/%d/%H}/dendro-events-1-{moment:%Y-%m-%d-%H-%M-%S}-{name}"


def deliver(aws: dict[str, Any], delivered: float, name: str, events: list[Any],
            body: bytes | None = None) -> str:
    """Put a Firehose-like object (``events`` as NDJSON, or ``body``) and run the real loader on
    it, as the S3 notification would."""
    key = raw_key(delivered, name)
    if body is None:
        body = "".join(json.dumps(e) + "\n" for e in events).encode()
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=body)
    loader(aws).load_object(BUCKET, key)
    return key


def s3_poller_of(aws: dict[str, Any], state: State, clock: Clock) -> Poller:
    return Poller(S3Source(aws["s3"], BUCKET, delay=DELAY, usage=state.record_usage, clock=clock), state, 15)


EVENTS = [
    access(T0 + 1, status=200, duration=0.004), access(T0 + 2, status=200, duration=0.3),
    access(T0 + 3, status=503, duration=2.0, method="POST"), access(T0 + 4, host_name="web-2", status=404),
    access(T0 + 62, status=200, duration=None), pg(T0 + 1, "ERROR"), pg(T0 + 2, "LOG", duration=0.2),
    pg(T0 + 3, "FATAL", duration=12.5), metric(T0 + 1, "load1", 0.5), metric(T0 + 2, "load1", 0.75),
    metric(T0 + 1, "filesystem_used_ratio", 0.4, mountpoint="/", device="sda1"),
]


def comparable(data: Snapshot) -> dict[str, Any]:
    return {
        "requests": dict(data.http_requests), "errors": dict(data.db_errors), "events": dict(data.events),
        "last": data.last_event,
        "http": {k: (h.buckets, h.count, round(h.total, 9)) for k, h in data.http_duration.items()},
        "db": {k: (h.buckets, h.count, round(h.total, 9)) for k, h in data.db_duration.items()},
        "hosts": {h: g.metrics for h, g in data.hosts.items()},
    }


def test_the_real_loader_s_aggregates_give_the_local_metrics(aws: dict[str, Any], tmp_path: Path) -> None:
    clock, s3_state, local_state = Clock(), State(), State()
    s3_poller = s3_poller_of(aws, s3_state, clock)
    store = local_store(tmp_path)
    local = LocalSource(store, tables(), table_roles(), delay=DELAY, usage=local_state.record_usage,
                        clock=clock)
    local_poller = Poller(local, local_state, 15)
    deliver(aws, T0 + 30, "a", EVENTS[:6])
    deliver(aws, T0 + 65, "b", EVENTS[6:])
    store.write(EVENTS)
    clock.advance(DELAY + 70)
    assert s3_poller.poll_once() and local_poller.poll_once()
    s3_data, local_data = s3_state.snapshot(), local_state.snapshot()
    assert comparable(s3_data) == comparable(local_data)
    assert s3_data.http_requests[("nginx", "web-1", "GET", "2xx")] == 3
    assert s3_data.s3_requests == {"ListObjectsV2": 1, "GetObject": 2}


def test_a_reprocessed_object_is_not_counted_twice(aws: dict[str, Any]) -> None:
    clock, state = Clock(), State()
    poller = s3_poller_of(aws, state, clock)
    key = deliver(aws, T0 + 10, "a", [access(T0 + 5), access(T0 + 6)])
    loader(aws).load_object(BUCKET, key)  # reprocessed before the exporter read it
    clock.advance(DELAY + 20)
    poller.poll_once()
    loader(aws).load_object(BUCKET, key)  # and again after
    for _ in range(3):
        clock.advance(15)
        poller.poll_once()
    data = state.snapshot()
    assert data.http_requests[("nginx", "web-1", "GET", "2xx")] == 2
    assert not data.late_events


def test_objects_not_settled_wait_and_late_objects_show_as_late(aws: dict[str, Any]) -> None:
    clock, state = Clock(), State()
    poller = s3_poller_of(aws, state, clock)
    clock.advance(DELAY + 20)  # settled up to T0 + 20
    deliver(aws, T0 + 30, "fresh", [access(T0 + 25)])
    poller.poll_once()
    assert not state.snapshot().http_requests  # delivered after the settled time: next polls
    clock.advance(15)
    deliver(aws, T0 + 10, "late", [access(T0 + 8), pg(T0 + 9)])  # its delivery time was already read past
    poller.poll_once()
    data = state.snapshot()
    assert data.http_requests[("nginx", "web-1", "GET", "2xx")] == 1
    assert dict(data.late_events) == {"nginx_access": 1, "postgres": 1}


def test_history_is_not_replayed_and_s3_failures_are_caught_up(aws: dict[str, Any]) -> None:
    deliver(aws, T0 - 600, "old", [access(T0 - 610)])
    clock, state = Clock(), State()
    source = S3Source(aws["s3"], "no-such-bucket", delay=DELAY, usage=state.record_usage, clock=clock)
    poller = Poller(source, state, 15)
    deliver(aws, T0 + 5, "new", [access(T0 + 1, status=500)])
    clock.advance(DELAY + 10)
    assert not poller.poll_once()
    data = state.snapshot()
    assert not data.up and data.store_query_errors == 1
    source.bucket = BUCKET
    clock.advance(15)
    assert poller.poll_once()
    assert dict(state.snapshot().http_requests) == {("nginx", "web-1", "GET", "5xx"): 1}


def test_the_exporter_never_creates_a_timestream_client(aws: dict[str, Any]) -> None:
    asked: list[str] = []

    def clients(service: str) -> Any:
        asked.append(service)
        if service not in ("s3", "sts"):
            raise AssertionError(f"the exporter asked for a {service} client")
        return aws["session"].client(service)

    config = from_dict({"backend": "aws", "services": ["nginx", "postgres", "host"]})
    state = State()
    source = build_source(config, state, delay=DELAY, clients=clients, clock=Clock())
    assert isinstance(source, S3Source) and source.bucket == BUCKET
    Poller(source, state, 15).poll_once()
    assert state.snapshot().up
    assert sorted(set(asked)) == ["s3", "sts"]


def test_the_loader_s_rejections_give_the_local_rejected_counts(aws: dict[str, Any], tmp_path: Path) -> None:
    clock, s3_state = Clock(), State()
    s3_poller = s3_poller_of(aws, s3_state, clock)
    bad = refused(T0 + 1)
    deliver(aws, T0 + 30, "bad", [access(T0 + 1), *bad, pg(T0 + 2)])
    assert list_keys(aws, "rejected/")  # the lines are kept, with their reasons
    clock.advance(DELAY + 40)
    assert s3_poller.poll_once()

    store, local_state, wall = local_store(tmp_path), State(), Clock(time.time())
    local = LocalSource(store, tables(), table_roles(), delay=DELAY, usage=local_state.record_usage,
                        clock=wall)  # the rejected table's time is the real time of the refusal
    store.write([access(T0 + 1), *bad, pg(T0 + 2)])
    wall.advance(DELAY + 1)
    assert Poller(local, local_state, 15).poll_once()

    expected = {"nginx_access": 1, "postgres": 1, "unknown": 4}
    assert dict(s3_state.snapshot().rejected_events) == expected
    assert dict(local_state.snapshot().rejected_events) == expected


def test_unreadable_input_counts_as_unknown_and_reprocessing_counts_once(aws: dict[str, Any]) -> None:
    clock, state = Clock(), State()
    poller = s3_poller_of(aws, state, clock)
    lines = (json.dumps(access(T0 + 1)) + "\nnot json at all\n" + json.dumps(access(T0 + 2))).encode()
    truncated = gzip.compress(lines)[:-12]  # a gzip stream cut before its end
    key = deliver(aws, T0 + 10, "cut", [], body=truncated)
    deliver(aws, T0 + 11, "mixed", [], body=lines + b'\n{"type": "nginx_access", "host": 1}\n')
    loader(aws).load_object(BUCKET, key)  # reprocessed before the exporter read it
    clock.advance(DELAY + 20)
    assert poller.poll_once()
    loader(aws).load_object(BUCKET, key)  # and again after
    for _ in range(3):
        clock.advance(15)
        assert poller.poll_once()
    rejected = state.snapshot().rejected_events
    cut = json.loads(aws["s3"].get_object(Bucket=BUCKET, Key=aggregate_key(key))["Body"].read())["rejected"]
    assert cut == {"unknown": 2}  # the line that is not JSON, and the last record, cut off
    assert dict(rejected) == {"unknown": 3, "nginx_access": 1}  # + "mixed": not JSON, no timestamp


def test_late_objects_still_count_their_rejections_once(aws: dict[str, Any]) -> None:
    clock, state = Clock(), State()
    poller = s3_poller_of(aws, state, clock)
    clock.advance(DELAY + 20)
    poller.poll_once()
    deliver(aws, T0 + 10, "late", [access(T0 + 8), {"type": "nope"}])  # delivered before the watermark
    for _ in range(3):
        clock.advance(15)
        poller.poll_once()
    data = state.snapshot()
    assert dict(data.late_events) == {"nginx_access": 1}
    assert dict(data.rejected_events) == {"unknown": 1}


def list_keys(aws: dict[str, Any], prefix: str) -> list[str]:
    answer = aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for item in answer.get("Contents", ())]
