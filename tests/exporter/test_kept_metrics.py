"""The metrics a service keeps (``Service.metrics``) reach the exporter from either source.

A service of any role but host metrics that declares kept metrics gets one family per metric,
``dendro_<service>_<name>`` (counters ``_total``), labelled by host and the metrics' tags, with
the newest value: from the loader's aggregate objects (built with the declarations) and from the
local store's poll alike. Nothing but the declared names is kept, and the cells stay of a kind an
older exporter reads.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dendro.exporter.collector import registry
from dendro.exporter.local_source import LocalSource
from dendro.exporter.state import State
from dendro.metrics import names
from dendro.metrics.aggregates import AggregateBuilder, metrics_map, parse, red_map, roles
from dendro.services import host, tables_of
from dendro.services.base import Column, Gauge, Metrics, Service, Table
from dendro.store.local import LocalStore
from dendro.store.schema import to_row
from tests.exporter.helpers import T0, Clock, metric, stamp

CACHE_METRICS = Table(
    "cache_metrics",
    (Column("host", "VARCHAR", dimension=True), Column("name", "VARCHAR", dimension=True),
     Column("db", "VARCHAR", dimension=True), Column("kind", "VARCHAR", dimension=True),
     Column("value", "DOUBLE")),
)
CACHE = Service(
    name="cache",
    title="Cache",
    sources=(),
    parsers=(),
    tables=(CACHE_METRICS,),
    role="database",
    metrics=(Metrics("cache_metrics", (Gauge("clients", "Clients"), Gauge("cache_hits", "Hits", counter=True),
                                       Gauge("keys", "Keys")), tags=("db",)),),
)
SERVICES = (CACHE, host.SERVICE)


def sample(at: float, name: str, value: float, host_name: str = "cache-1", db: str | None = None) -> dict:
    event = {"type": "cache_metrics", "host": host_name, "timestamp": stamp(at), "name": name,
             "kind": "counter" if name == "cache_hits" else "gauge", "value": value}
    return {**event, "db": db} if db else event


EVENTS = [
    sample(T0, "clients", 3), sample(T0 + 20, "clients", 5), sample(T0 + 1, "cache_hits", 40),
    sample(T0 + 2, "keys", 7, db="db0"), sample(T0 + 2, "keys", 2, db="db1"),
    sample(T0 + 3, "uptime_in_seconds", 99),  # not kept
    sample(T0 + 4, "clients", 1, host_name="cache-2"),
    metric(T0, "load1", 0.5), metric(T0, "cpu_seconds_total", 10.0, cpu="0", mode="idle"),
]


def families(state: State) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    text = generate_latest(registry(state, metrics_map(SERVICES))).decode()
    result: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            result.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return result


def expected(result: dict) -> None:
    clients = result[names.service_metric("cache", "clients")]
    assert clients == {(("db", ""), ("host", "cache-1")): 5.0, (("db", ""), ("host", "cache-2")): 1.0}
    assert result["dendro_cache_hits_total"] == {(("db", ""), ("host", "cache-1")): 40.0}
    assert result["dendro_cache_keys"] == {(("db", "db0"), ("host", "cache-1")): 7.0,
                                           (("db", "db1"), ("host", "cache-1")): 2.0}
    assert not any("uptime" in name for name in result)
    assert not any(name.startswith("dendro_host_cpu_seconds") for name in result)  # the host's stay its own
    assert result[names.HOST_LOAD1] == {(("host", "web-1"),): 0.5}


def test_names_keep_one_service_prefix_and_counters_end_in_total() -> None:
    assert names.service_metric("haproxy", "haproxy_server_status") == "dendro_haproxy_server_status"
    assert names.service_metric("redis", "keyspace_hits", counter=True) == "dendro_redis_keyspace_hits_total"
    assert names.service_metric("x", "errors_total", counter=True) == "dendro_x_errors_total"


def test_the_loaders_aggregate_keeps_the_declared_metrics() -> None:
    tables = tables_of(SERVICES)
    builder = AggregateBuilder(tables, red_map(SERVICES), metrics_map(SERVICES))
    for event in EVENTS:
        builder.add(str(event["type"]), to_row(tables[str(event["type"])], event))
    aggregate = parse(builder.to_json())
    cell = aggregate.cells[("cache_metrics", "cache-1", int(T0))]
    assert cell.kind == "events" and cell.service == "cache"  # a kind every exporter reads
    assert {key[0] for key in cell.metrics} == {"clients", "cache_hits", "keys"}
    state = State()
    state.apply(aggregate)
    expected(families(state))


def test_the_local_poll_keeps_the_declared_metrics(tmp_path: Path) -> None:
    tables = tables_of(SERVICES)
    store = LocalStore(tmp_path / "dendro.duckdb", "dendro", tables)
    store.write(EVENTS)
    state = State()
    clock = Clock(T0 + 600)
    source = LocalSource(store, tables, roles(tables, red_map(SERVICES), metrics_map(SERVICES)), delay=60,
                         usage=state.record_usage, clock=clock)
    source.watermark_ms = int((T0 - 60) * 1000)
    result = source.poll()
    state.apply(result.aggregate)
    expected(families(state))
