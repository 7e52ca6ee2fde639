"""Every built-in service appears everywhere Dendro shows services, from its catalog module alone.

For each service of ``dendro.services.catalog()`` (so a service registered in ``BUILTIN`` is
tested here without being named): ``dendro configure --yes --service <name>`` (and each alias)
writes it into dendro.yaml and its sources into vector.yaml; ``dendro check`` runs its programs
and samples; the demo makes events of every one of its tables; the exporter's poll of a store
holding them exposes its RED families and kept metrics; the dashboards built for it show its
rows and panels; the console's charts page, charts API and query examples list it; the default
alert rules include its rules.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from dendro.alerts.model import rules
from dendro.cli import app
from dendro.config import from_dict
from dendro.exporter.collector import registry
from dendro.exporter.local_source import LocalSource
from dendro.exporter.state import State
from dendro.grafana.build import dashboards
from dendro.ingest.demo import DB_HOSTS, WEB_HOSTS, Incident, Story, hour_events, tick_events
from dendro.metrics import names
from dendro.metrics.aggregates import roles
from dendro.services import catalog, tables_of
from dendro.services.base import Service
from dendro.services.scene import DEPLOY, DISK_FILLING, SLOW_QUERIES
from dendro.store.local import LocalStore
from dendro.vector import check, render
from dendro.web.app import create_app

NAMES = list(catalog())
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
cli = CliRunner()


#: the demo's incidents on every node of their kind: a deploy and a storm under way from ten minutes
#: before NOW, filesystems filling for twenty minutes up to the end of the live minute (full at its end)
INCIDENTS = (
    *(Incident(DEPLOY, host, -600, 1200) for host in WEB_HOSTS),
    *(Incident(SLOW_QUERIES, host, -600, 1200) for host in DB_HOSTS),
    *(Incident(DISK_FILLING, host, -1140, 1200) for host in WEB_HOSTS + DB_HOSTS),
)
HISTORY = 3600


@cache
def demo_events(name: str) -> list[dict[str, Any]]:
    """An hour of the service's demo history, then a minute of live traffic; incidents under way
    for the last ten minutes of it."""
    story, rng = Story(NOW, INCIDENTS), random.Random(11)
    events = hour_events([catalog()[name]], story, rng, NOW - timedelta(seconds=HISTORY), HISTORY)
    for tick in range(60):
        events += tick_events([catalog()[name]], story, rng, NOW + timedelta(seconds=tick + 1))
    return events


def _store(name: str, directory: Path) -> LocalStore:
    store = LocalStore(directory / "dendro.duckdb", "dendro", tables_of(list(catalog().values())))
    result = store.write(demo_events(name))
    assert not result.rejected, result.rejected[:3]
    return store


@pytest.mark.parametrize("name", NAMES)
def test_configure_writes_it_and_check_runs_it(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    monkeypatch.chdir(tmp_path)
    service = catalog()[name]
    for given in (name, *service.aliases):
        result = cli.invoke(app, ["configure", "--yes", "--service", given])
        assert result.exit_code == 0, result.output
        assert list(yaml.safe_load(Path("dendro.yaml").read_text())["services"]) == [name]
    config = from_dict(yaml.safe_load(Path("dendro.yaml").read_text()))
    sources = yaml.safe_load(Path("vector.yaml").read_text())["sources"]
    settings = config.settings(name)
    rendered = [s.id for s in service.active_sources(settings) if render.source_component(s, settings)]
    assert rendered and set(rendered) <= set(sources)
    report = check.check(config, Path("vector.yaml"))
    assert not report.failures, report.failures
    checked = {row.name for row in report.rows if row.kind in ("vrl", "sample")}
    for parser in service.parsers:
        if any(s.parser == parser.id for s in service.active_sources(settings)):
            assert any(parser.id in label for label in checked), parser.id


@pytest.mark.parametrize("name", NAMES)
def test_the_demo_makes_every_table_of_it(name: str) -> None:
    made = {str(e["type"]) for e in demo_events(name)}
    assert "parse_error" not in made
    assert {t.name for t in catalog()[name].tables} <= made


def _scrape(name: str, directory: Path) -> dict[str, set[tuple[tuple[str, str], ...]]]:
    store = _store(name, directory)
    tables = tables_of(list(catalog().values()))
    state = State()
    clock = NOW.timestamp() + 180
    source = LocalSource(store, tables, roles(tables), delay=60, usage=state.record_usage,
                         clock=lambda: clock)
    source.watermark_ms = int((NOW.timestamp() - HISTORY - 60) * 1000)
    state.apply(source.poll().aggregate)
    found: dict[str, set[tuple[tuple[str, str], ...]]] = {}
    for _ in range(2):  # new series show at 0 first, their counts at the next scrape
        text = generate_latest(registry(state)).decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found.setdefault(s.name, set()).add(tuple(sorted(s.labels.items())))
    return found


def _services_in(found: dict[str, set[tuple[tuple[str, str], ...]]], metric: str) -> set[str]:
    return {dict(labels).get("service", "") for labels in found.get(metric, set())}


@pytest.mark.parametrize("name", NAMES)
def test_the_exporter_exposes_it(name: str, tmp_path: Path) -> None:
    service = catalog()[name]
    found = _scrape(name, tmp_path)
    tables = {dict(labels)["table"] for labels in found[names.EVENTS]}
    assert {t.name for t in service.tables} <= tables
    for red in service.red:
        if red.is_http:
            assert name in _services_in(found, names.HTTP_REQUESTS)
        elif red.level and red.error_levels:
            assert name in _services_in(found, names.DB_ERRORS)
    if service.role == "host_metrics":
        assert found[names.HOST_LOAD1] and found[names.HOST_MEMORY]
        return
    for metrics in service.metrics:
        for gauge in metrics.gauges:
            exposed = names.service_metric(name, gauge.name, gauge.counter)
            assert exposed in found or exposed.removesuffix("_total") in found, exposed


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for top in board["panels"] for p in (top, *top.get("panels", []))]


def _titles(board: dict[str, Any] | None) -> set[str]:
    return {str(p.get("title")) for p in _panels(board)} if board else set()


@pytest.mark.parametrize("name", NAMES)
def test_the_dashboards_show_it(name: str) -> None:
    service = catalog()[name]
    boards = dashboards(from_dict({"services": [name]}))
    if any(r.is_http for r in service.red):
        assert service.title in _titles(boards.get("red"))
        assert f"{service.title} requests" in _titles(boards.get("logs"))
    if any(r.level and not r.is_http for r in service.red):
        assert service.title in _titles(boards.get("red"))
    for row in service.log_panels:
        assert {row.title, *(p.title for p in row.panels)} <= _titles(boards.get("logs"))
    if service.role == "host_metrics":
        assert "CPU busy" in _titles(boards.get("hosts"))
    elif service.metrics:
        shown = _titles(boards.get("metrics"))
        assert {f"{service.title}: {g.title}" for m in service.metrics for g in m.gauges} <= shown
    assert boards, name


@pytest.mark.parametrize("name", NAMES)
def test_the_console_lists_and_charts_it(name: str, tmp_path: Path) -> None:
    service = catalog()[name]
    config = from_dict({"services": [name], "local": {"data_dir": str(tmp_path)}})
    client = create_app(config, _store(name, tmp_path), log_dir=tmp_path).test_client()
    page = client.get("/charts").get_data(as_text=True)
    assert f"/charts/{name}" in page
    assert client.get(f"/charts/{name}").status_code == 200
    drawn = client.get(f"/api/charts/{name}?range=24h").get_json()["charts"]
    ids = {chart["id"] for chart in drawn}
    for red in service.red:
        assert f"{red.table}-rate" in ids
    if service.role == "host_metrics":
        assert "host-cpu" in ids
    else:
        for metrics in service.metrics:
            assert {f"{metrics.table}-{g.name}" for g in metrics.gauges} <= ids
            assert any(s["values"] and any(v is not None for v in s["values"])
                       for chart in drawn if chart["id"].startswith(metrics.table) for s in chart["series"])
    query = client.get("/query").get_data(as_text=True)
    for example in service.examples:
        assert example.title in query


@pytest.mark.parametrize("name", NAMES)
def test_the_default_alert_rules_cover_it(name: str) -> None:
    service: Service = catalog()[name]
    config = from_dict({"services": [name]})
    made = {rule.name for rule in rules(config)}
    expected = {event.name for event in service.alert_events}
    expected |= {f"{name}_{kind}" for kind in service.alert_kinds}
    if any(r.is_http for r in service.red):
        expected |= {f"{name}_error_ratio", f"{name}_rate_anomaly"}
    assert expected and expected <= made
