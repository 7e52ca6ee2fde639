"""The aggregate model (what the loader writes) and the collector's exposition text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dendro.exporter.collector import registry
from dendro.exporter.state import State
from dendro.metrics import names
from dendro.metrics.aggregates import (
    AggregateBuilder,
    AggregateError,
    aggregate_key,
    key_prefix_at,
    key_time,
    parse,
    red_map,
)
from dendro.store.schema import to_row
from tests.exporter.helpers import SERVICES, T0, access, metric, pg, tables


def built(events: list[dict[str, object]]) -> AggregateBuilder:
    builder = AggregateBuilder(tables(), red_map(SERVICES))
    for event in events:
        table = str(event["type"])
        builder.add(table, to_row(tables()[table], event))
    return builder


def test_a_builder_round_trips_through_json() -> None:
    builder = built([access(T0 + 1), access(T0 + 61, status=500, duration=1.5), pg(T0, "PANIC"),
                     metric(T0, "load1", 1.25), metric(T0 + 5, "load1", 1.5), metric(T0, "uptime", 3.0)])
    data = builder.to_json()
    aggregate = parse(data)
    assert aggregate.to_json() == data
    cells = aggregate.cells
    assert cells[("nginx_access", "web-1", int(T0))].requests == {("GET", "2xx"): 1}
    assert cells[("nginx_access", "web-1", int(T0) + 60)].requests == {("GET", "5xx"): 1}
    assert cells[("postgres", "db-1", int(T0))].errors == {"panic": 1}
    host = cells[("host", "web-1", int(T0))]
    assert host.events == 3 and host.metrics == {("load1", ()): (T0 + 5, 1.5)}


def test_rejections_round_trip_by_table_and_older_objects_have_none() -> None:
    builder = built([access(T0)])
    builder.reject("nginx_access", 2)
    builder.reject(None)
    builder.reject("nginx_acess")  # a type that matched no table
    builder.reject("postgres")
    data = builder.to_json()
    assert b'"rejected":{"nginx_access":2,"postgres":1,"unknown":2}' in data
    assert parse(data).rejected == {"nginx_access": 2, "postgres": 1, "unknown": 2}
    older = built([access(T0)]).to_json()  # what the loader wrote before rejections were counted
    assert b"rejected" not in older
    assert not parse(older).rejected and parse(older).cells



def _counts(builder: AggregateBuilder) -> dict[object, object]:
    """Everything of an aggregate that :meth:`AggregateBuilder.remove` takes back (not ``last``)."""
    return {
        key: (cell.events, dict(cell.requests), dict(cell.errors),
              cell.duration.to_dict() if cell.duration else None)
        for key, cell in parse(builder.to_json()).cells.items()
    }


_rows = st.lists(
    st.tuples(
        st.sampled_from(["access", "pg"]),
        st.integers(0, 179),  # three minutes
        st.sampled_from([200, 404, 500, 503]),
        st.sampled_from([None, 0.001, 0.2, 3.0]),
        st.booleans(),  # removed again
    ),
    max_size=40,
)


@given(_rows)
def test_removing_rows_leaves_what_adding_only_the_others_gives(rows: list[tuple]) -> None:
    """The loader takes back rows Timestream refused: the aggregate then counts stored rows only."""
    events = [
        access(T0 + second, status=status, duration=duration) if kind == "access"
        else pg(T0 + second, "ERROR" if status >= 500 else "LOG", duration=duration)
        for kind, second, status, duration, _ in rows
    ]
    everything = built(events)
    for event, (*_, removed) in zip(events, rows, strict=True):
        if removed:
            table = str(event["type"])
            everything.remove(table, to_row(tables()[table], event))
    kept = built([event for event, (*_, removed) in zip(events, rows, strict=True) if not removed])
    got, want = _counts(everything), _counts(kept)
    assert got.keys() == want.keys()
    for key in want:
        events_, requests, errors, duration = got[key]
        assert (events_, requests, errors) == want[key][:3]
        if duration is not None:  # sums of floats: equal up to rounding
            assert duration["buckets"] == want[key][3]["buckets"]
            assert duration["count"] == want[key][3]["count"]
            assert duration["sum"] == pytest.approx(want[key][3]["sum"], abs=1e-9)


DAMAGED = [b"not json", b'{"version": 99, "cells": []}', b'{"version": 1, "cells": [{}]}',
           b'{"version": 1, "cells": [], "rejected": []}',
           b'{"version": 1, "cells": [], "rejected": {"nginx_access": -1}}',
           b'{"version": 1, "cells": [], "rejected": {"nginx_access": "2"}}']


@pytest.mark.parametrize("data", DAMAGED)
def test_damaged_aggregates_are_refused_with_a_reason(data: bytes) -> None:
    with pytest.raises(AggregateError):
        parse(data)


def test_aggregate_keys_sort_by_arrival_and_repeat_for_the_same_object() -> None:
    early = "raw/2026/11/26/12/dendro-events-1-2026-11-26-12-59-59-aaaa"
    later = "raw/2026/11/26/13/dendro-events-1-2026-11-26-13-00-00-0000"
    assert aggregate_key(early) == aggregate_key(early)
    assert aggregate_key(early) < aggregate_key(later)
    assert aggregate_key(early).startswith("aggregates/2026/11/26/12/59/59/")
    delivered = key_time(aggregate_key(later)) or 0
    assert key_time(key_prefix_at(delivered) + "x") == delivered
    assert key_prefix_at(delivered) < aggregate_key(later) < key_prefix_at(delivered + 1)
    assert aggregate_key("raw/manual upload.json").startswith("aggregates/other/")


def test_exposition_is_exact_and_says_values_come_from_polls() -> None:
    state = State()
    builder = built([access(T0, status=200, duration=0.004), access(T0, status=503, duration=0.2),
                     pg(T0, "ERROR")])
    builder.reject("postgres", 4)
    builder.reject(None)
    state.apply(builder.aggregate, {"nginx_access": 3})
    state.record_usage(queries=4, bytes_scanned=0, s3={"ListObjectsV2": 1})
    state.record_poll(ok=True, duration=0.01, watermark=T0)
    first = generate_latest(registry(state)).decode()  # new label sets appear at 0 first
    assert 'dendro_http_requests_total{code="2xx",host="web-1",method="GET",service="nginx"} 0.0' in first
    text = generate_latest(registry(state)).decode()
    assert 'dendro_http_requests_total{code="2xx",host="web-1",method="GET",service="nginx"} 1.0' in text
    assert 'dendro_http_requests_total{code="5xx",host="web-1",method="GET",service="nginx"} 1.0' in text
    assert 'dendro_http_request_duration_seconds_bucket{host="web-1",le="0.005",service="nginx"} 1.0' in text
    assert 'dendro_http_request_duration_seconds_bucket{host="web-1",le="+Inf",service="nginx"} 2.0' in text
    assert 'dendro_http_request_duration_seconds_count{host="web-1",service="nginx"} 2.0' in text
    assert 'dendro_db_errors_total{host="db-1",level="error",service="postgres"} 1.0' in text
    assert 'dendro_late_events_total{table="nginx_access"} 3.0' in text
    assert 'dendro_rejected_events_total{table="postgres"} 4.0' in text
    assert 'dendro_rejected_events_total{table="unknown"} 1.0' in text
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[(names.LAST_EVENT, (("host", "web-1"), ("table", "nginx_access")))] == T0
    assert "dendro_exporter_up 1.0" in text
    assert "dendro_store_queries_total 4.0" in text
    assert 'dendro_s3_requests_total{operation="ListObjectsV2"} 1.0' in text
    help_line = next(line for line in text.splitlines() if line.startswith(f"# HELP {names.HTTP_REQUESTS}"))
    assert "last poll" in help_line and "never query" in help_line
    help_line = next(line for line in text.splitlines() if line.startswith(f"# HELP {names.REJECTED_EVENTS}"))
    assert "last poll" in help_line and "rejected" in help_line


def test_host_gauges_are_exposed_per_host_and_mountpoint() -> None:
    state = State()
    state.apply(built([metric(T0, "memory_total_bytes", 200), metric(T0, "memory_used_bytes", 50),
                       metric(T0, "filesystem_total_bytes", 100, mountpoint="/data", device="sdb"),
                       metric(T0, "filesystem_used_bytes", 25, mountpoint="/data", device="sdb"),
                       metric(T0, "load15", 2.0),
                       metric(T0, "network_transmit_bytes_total", 9, device="eth0")]
                      ).aggregate)
    text = generate_latest(registry(state)).decode()
    assert 'dendro_host_memory_used_ratio{host="web-1"} 0.25' in text
    assert 'dendro_host_filesystem_used_ratio{host="web-1",mountpoint="/data"} 0.25' in text
    assert 'dendro_host_load15{host="web-1"} 2.0' in text
    assert 'dendro_host_network_transmit_bytes_total{device="eth0",host="web-1"} 9.0' in text
    assert "dendro_host_cpu_utilisation_ratio{" not in text  # one CPU sample gives no ratio yet
