"""Every PromQL expression of the dashboards (panels and variables) is accepted by a real
Prometheus that scraped the exporter over a local store fed with known events (and a tick of
every catalog service's demo traffic), and returns series.

One exporter and one Prometheus serve the whole module; the alerts' recording rules are loaded
(evaluated every second) so the anomaly band has data.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from dendro.alerts.model import rules
from dendro.alerts.prometheus import rule_files
from dendro.exporter.server import start_exporter
from dendro.grafana.macros import expand_promql
from dendro.grafana.selection import all_services
from dendro.store.local import LocalStore
from tests.grafana.helpers import (
    access,
    boards,
    demo_events,
    host_metrics,
    known_events,
    panels,
    refused_events,
    stamp,
)
from tests.servers.prometheus import Prometheus
from tests.support import free_port

pytestmark = pytest.mark.real
ALL = {"host": ".*", "service": ".*"}  # the variables' All values


def expressions() -> list[tuple[str, str, str]]:
    """(dashboard, where, expr) of every Prometheus panel target."""
    found = []
    for name, board in boards().items():
        for panel in panels(board):
            for target in panel.get("targets", []):
                if (target.get("datasource") or {}).get("type") == "prometheus":
                    found.append((name, f"{panel['title']} {target['refId']}", target["expr"]))
    return found


def variable_metrics() -> list[tuple[str, str, str]]:
    """(dashboard, variable, metric) of every label_values() variable."""
    found = []
    for name, board in boards().items():
        for variable in board["templating"]["list"]:
            match = re.fullmatch(r"label_values\((\w+), (\w+)\)", str(variable.get("query")))
            if variable["type"] == "query":
                assert match, f"{name}: variable {variable['name']} is not label_values(metric, label)"
                found.append((name, variable["name"], match.group(1)))
    return found


EXPRESSIONS = expressions()
VARIABLES = variable_metrics()


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory, prometheus: Prometheus) -> Iterator[Prometheus]:
    config = all_services()
    path: Path = tmp_path_factory.mktemp("grafana-prom") / "dendro.duckdb"
    store = LocalStore(path, config.database, config.store_tables())
    recording = rule_files(config.pipeline, rules(config))[f"{config.pipeline}-recording.rules.yml"]
    for group in recording["groups"]:
        group["interval"] = "1s"
    prometheus.set_rules(yaml.safe_dump(recording))
    handle = start_exporter(config, store=store, port=free_port(), interval=0.25, delay=1.0)
    prometheus.set_targets([handle.url.split("/")[2]])
    try:
        now = datetime.now(UTC)
        # with the demo's events of every catalog service, so each service's panels have series
        store.write([*known_events(now), *host_metrics(now, 0), *refused_events(now), *demo_events(now)])
        time.sleep(2.5)
        later = datetime.now(UTC)
        store.write([*known_events(later), *host_metrics(later, 1), *refused_events(later),
                     # the demo scrapes on the clock's grid (every 15 s): a span reaching 15 s ahead
                     # holds a scrape after the exporter began, so kept metrics are counted
                     *demo_events(later + timedelta(seconds=15)),
                     # a failed save, so Redis's error panels have a series whatever the demo's dice
                     {"type": "redis", "host": "db-1", "timestamp": stamp(later), "level": "warning",
                      "role": "master", "problem": "rdb_save_failed", "pid": 1, "message": "Background saving error"},  # noqa: E501
                     access("nginx_access", later - timedelta(seconds=2), "web-1", 200, "/late", 0.1)])
        prometheus.wait_for("dendro_late_events_total", bool)
        prometheus.wait_for("dendro_rejected_events_total", bool)
        yield prometheus
    finally:
        prometheus.set_targets([])
        prometheus.set_rules("groups: []\n")
        handle.stop()
        store.close()


def test_every_dashboard_has_promql() -> None:
    """Every dashboard but the logs explorer (Timestream only) reads Prometheus."""
    assert {name for name, _, _ in EXPRESSIONS} == set(boards()) - {"logs"}
    assert {"red", "hosts", "anomaly", "pipeline"} <= set(boards())


@pytest.mark.parametrize(("dashboard", "where", "expr"), EXPRESSIONS,
                         ids=[f"{d}:{w}" for d, w, _ in EXPRESSIONS])
def test_panel_promql_returns_series(scraped: Prometheus, dashboard: str, where: str, expr: str) -> None:
    query = expand_promql(expr, ALL)
    assert "$" not in query
    result: list[dict[str, Any]] = scraped.wait_for(query, bool, timeout=45)
    assert result, f"{dashboard}/{where}: {query}"


@pytest.mark.parametrize(("dashboard", "variable", "metric"), VARIABLES,
                         ids=[f"{d}:{v}" for d, v, _ in VARIABLES])
def test_variable_finds_values(scraped: Prometheus, dashboard: str, variable: str, metric: str) -> None:
    values = scraped.api("label/host/values", **{"match[]": metric})
    assert {"web-1"} <= set(values), f"{dashboard}: ${variable} from {metric} gives {values}"
