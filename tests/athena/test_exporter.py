"""The exporter on the athena store reads the loader's aggregates under aggregates/ (never Athena):
the athena loader's aggregates give the exporter exactly the metrics the Timestream loader's give."""

from __future__ import annotations

import json
from typing import Any

from dendro.exporter.poller import Poller
from dendro.exporter.s3_source import S3Source
from dendro.exporter.state import State
from dendro.metrics.aggregates import red_map
from dendro.pipeline.athena_loader import ParquetLoader
from dendro.pipeline.loader import Settings
from tests.exporter.helpers import SERVICES, T0, Clock, tables
from tests.exporter.test_s3_source import BUCKET, DELAY, EVENTS, aws, comparable, deliver, raw_key  # noqa: F401

ATHENA_BUCKET = "dendro-athena-123456789012-us-east-1"


def _deliver_to_athena(aws: dict[str, Any], delivered: float, name: str, events: list[Any]) -> None:  # noqa: F811
    key = raw_key(delivered, name)
    aws["s3"].put_object(
        Bucket=ATHENA_BUCKET, Key=key, Body="".join(json.dumps(e) + "\n" for e in events).encode()
    )
    settings = Settings(database="dendro", tables=tables(), reds=red_map(SERVICES), bucket=ATHENA_BUCKET)
    ParquetLoader(settings, aws["s3"], log=lambda _line: None).load_object(ATHENA_BUCKET, key)


def test_the_athena_loaders_aggregates_give_the_timestream_loaders_metrics(aws: dict[str, Any]) -> None:  # noqa: F811
    aws["s3"].create_bucket(Bucket=ATHENA_BUCKET)
    clock = Clock()
    states = {BUCKET: State(), ATHENA_BUCKET: State()}
    pollers = [
        Poller(S3Source(aws["s3"], bucket, delay=DELAY, usage=state.record_usage, clock=clock), state, 15)
        for bucket, state in states.items()
    ]
    deliver(aws, T0 + 30, "a", EVENTS[:6])
    deliver(aws, T0 + 65, "b", EVENTS[6:])
    _deliver_to_athena(aws, T0 + 30, "a", EVENTS[:6])
    _deliver_to_athena(aws, T0 + 65, "b", EVENTS[6:])
    clock.advance(DELAY + 70)
    assert all(p.poll_once() for p in pollers)
    timestream, athena = (states[b].snapshot() for b in (BUCKET, ATHENA_BUCKET))
    assert comparable(athena) == comparable(timestream)
    assert athena.http_requests[("nginx", "web-1", "GET", "2xx")] == 3
    assert athena.s3_requests == {"ListObjectsV2": 1, "GetObject": 2}
