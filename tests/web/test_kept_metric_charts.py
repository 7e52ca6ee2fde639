"""The console's charts of the metrics a service keeps (``Service.metrics``), from the store.

One chart per kept metric, one series per host: a gauge's newest value in each bin summed over
the host's series (the metrics' tags), a counter's rise per second between the newest samples of
a bin and of the bin before (a fall, when the server restarted, counts nothing). A service of the
``host_metrics`` role gets the host charts of the table it declares, whatever its name.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dendro.analysis.charts import service_charts
from dendro.analysis.ranges import Range
from dendro.services import host, tables_of
from dendro.services.base import Column, Gauge, Metrics, Service, Table
from dendro.store.local import LocalStore

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CACHE = Service(
    name="cache",
    title="Cache",
    sources=(),
    parsers=(),
    tables=(
        Table("cache_metrics", (Column("host", "VARCHAR", dimension=True), Column("name", "VARCHAR", True),
                                Column("db", "VARCHAR", True), Column("kind", "VARCHAR", True),
                                Column("value", "DOUBLE"))),
        Table("cache", (Column("host", "VARCHAR", dimension=True), Column("message", "VARCHAR"))),
    ),
    role="database",
    metrics=(Metrics("cache_metrics", (Gauge("keys", "Keys"), Gauge("hits", "Hits", counter=True)),
                     tags=("db",)),),
)


def event(minute: int, name: str, value: float, db: str | None = None, node: str = "cache-1") -> dict:
    at = (T0 + timedelta(minutes=minute, seconds=10)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"type": "cache_metrics", "host": node, "timestamp": at, "name": name, "db": db,
            "kind": "gauge", "value": value}


def test_gauges_sum_their_series_and_counters_are_rates(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "d.duckdb", "dendro", tables_of([CACHE]))
    store.write([
        event(0, "keys", 10, "db0"), event(0, "keys", 5, "db1"), event(1, "keys", 12, "db0"),
        event(0, "hits", 600), event(1, "hits", 1200), event(2, "hits", 60),  # restarted in minute 2
        event(1, "keys", 1, "db0", node="cache-2"),
    ])
    store.write([{"type": "cache", "host": "cache-1", "timestamp": event(0, "x", 0)["timestamp"],
                  "message": "ready"}])
    rng = Range(T0, T0 + timedelta(minutes=3), 60, "custom")
    charts = {c["id"]: c for c in service_charts(store, "dendro", CACHE, rng, set(store.tables()))}
    assert set(charts) == {"cache_metrics-keys", "cache_metrics-hits", "cache-events"}
    keys = {s["label"]: s["values"] for s in charts["cache_metrics-keys"]["series"]}
    assert keys == {"cache-1": [15.0, 12.0, None], "cache-2": [None, 1.0, None]}
    hits = charts["cache_metrics-hits"]
    assert hits["title"] == "Cache: Hits per second" and hits["unit"] == "/s"
    assert hits["series"] == [{"label": "cache-1", "values": [None, 10.0, None]}]


def test_a_counter_rate_is_over_the_seconds_between_samples_so_the_filling_bin_is_no_cliff(
    tmp_path: Path,
) -> None:
    """A counter rising 10/s scraped every 15 s (at :14, :29, :44, :59), read 20 s into minute 3:
    every bin, the filling one too, is 10/s (a rise over a bin's 60 s made the last one 2.5/s),
    the first bin included (the query reaches one bin back); a scrape missed for 6 minutes is a
    gap, not an average over it."""
    store = LocalStore(tmp_path / "d.duckdb", "dendro", tables_of([CACHE]))
    seconds = [s for s in range(-46, 3 * 60 + 15, 15)] + [s for s in range(10 * 60 - 1, 12 * 60, 15)]
    store.write([{"type": "cache_metrics", "host": "cache-1", "kind": "counter", "name": "hits", "db": None,
                  "value": 10.0 * (s + 100),
                  "timestamp": (T0 + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
                 for s in seconds])
    rng = Range(T0, T0 + timedelta(minutes=3, seconds=20), 60, "custom")
    charts = {c["id"]: c for c in service_charts(store, "dendro", CACHE, rng, set(store.tables()))}
    assert charts["cache_metrics-hits"]["series"] == [{"label": "cache-1", "values": [10.0] * 4}]
    later = Range(T0 + timedelta(minutes=2), T0 + timedelta(minutes=12), 60, "custom")
    charts = {c["id"]: c for c in service_charts(store, "dendro", CACHE, later, set(store.tables()))}
    values = charts["cache_metrics-hits"]["series"][0]["values"]
    assert values == [10.0, 10.0, *[None] * 6, 10.0, 10.0]  # minute 9's sample follows 3:14


def test_a_host_metrics_service_charts_the_table_it_declares(tmp_path: Path) -> None:
    renamed = replace(host.HOST_TABLE, name="nodes")
    service = replace(host.SERVICE, name="nodes", tables=(renamed,),
                      metrics=(replace(host.HOST_METRICS, table="nodes"),))
    store = LocalStore(tmp_path / "d.duckdb", "dendro", tables_of([service]))
    at = (T0 + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    store.write([{"type": "nodes", "host": "web-1", "timestamp": at, "name": "load1", "kind": "gauge",
                  "value": 0.5}])
    rng = Range(T0, T0 + timedelta(minutes=2), 60, "custom")
    charts = {c["id"]: c for c in service_charts(store, "dendro", service, rng, set(store.tables()))}
    assert charts["host-load"]["series"] == [{"label": "web-1", "values": [0.5, None]}]


def test_a_gauge_split_on_a_tag_draws_its_parts_apart(tmp_path: Path) -> None:
    """Apache's workers are busy or idle: summed they were the scoreboard's size, a flat 150 that
    says nothing, and its connections in total and by state were counted twice. A gauge split on
    ``state`` has one series per host and state, here as in the Service metrics dashboard."""
    import json

    from dendro.grafana.provisioning import tree
    from dendro.grafana.selection import all_services
    from dendro.services import apache

    service = apache.SERVICE
    store = LocalStore(tmp_path / "d.duckdb", "dendro", tables_of([service]))
    at = (T0 + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    workers = (("busy", 7), ("idle", 143))
    store.write([{"type": "apache_metrics", "host": "web-1", "timestamp": at, "name": "apache_workers",
                  "kind": "gauge", "state": state, "value": value} for state, value in workers])
    rng = Range(T0, T0 + timedelta(minutes=2), 60, "custom")
    charts = {c["id"]: c for c in service_charts(store, "dendro", service, rng, set(store.tables()))}
    assert charts["apache_metrics-apache_workers"]["series"] == [
        {"label": "web-1 busy", "values": [7.0, None], "host": "web-1", "part": "busy"},
        {"label": "web-1 idle", "values": [143.0, None], "host": "web-1", "part": "idle"}]
    board = json.loads(tree(all_services())["dashboards/metrics.json"])
    (panel,) = [p for p in board["panels"] if p.get("title") == "Apache httpd: Workers by state"]
    (target,) = panel["targets"]
    assert target["expr"].startswith("sum by (host, state) (")
    assert target["legendFormat"] == "{{host}} {{state}}"
