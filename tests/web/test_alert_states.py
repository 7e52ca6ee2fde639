"""The console's evaluator shows pending before firing, as Prometheus and Grafana do; agents only
count as silent when they are agents; the home page shows what is firing and pending, with the
newest line behind each (Flask, and a real Chromium with a screenshot).

Prometheus (prometheus/prometheus rules/alerting.go at v2.42.0, ``AlertingRule.Eval``): a series
the expression returns becomes an alert in ``StatePending`` with ``ActiveAt`` = that evaluation's
time; it turns ``StateFiring`` once ``ts.Sub(a.ActiveAt) >= r.holdDuration`` (the rule's ``for``);
an evaluation that no longer returns it deletes a pending alert. Grafana's alert instances do the
same with the rule's pending period (grafana/grafana docs/sources/alerting/fundamentals/
alert-rule-evaluation/state-and-health.md: Pending "has breached the threshold but for less than
the pending period", Alerting "for longer than"; its source was not read). Dendro's rule groups evaluate
every minute (``dendro.alerts.prometheus.INTERVAL``), so the console asks the condition at each
earlier minute of ``for``.

The data: every minute m of the last 20 (its events at ``now - m min - 30 s``), one 200 per web
host and minute, and a 503 where the case needs one. A 5-minute window at ``now - k min`` holds
the events of minutes k … k+4.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from dendro.alerts.model import rules
from dendro.alerts.state import LocalEvaluator, RuleState
from dendro.analysis import overview
from dendro.config import Config, from_dict
from dendro.runtime.datadir import DataDir
from dendro.runtime.stores import open_store
from dendro.store.base import Store
from dendro.web.app import ConsoleServer, create_app
from tests.support import free_port, wait_for_port
from tests.web.data import stamp
from tests.web.test_browser import ARTIFACTS, Page, browser

__all__ = ["browser"]  # the Chromium fixture of test_browser.py


def access(host: str, at: datetime, status: int, duration: float = 0.05,
           path: str = "/api") -> dict[str, Any]:
    line = f'10.0.0.9 - - "GET {path} HTTP/1.1" {status} 64' if status >= 500 else None
    return {"type": "nginx_access", "host": host, "timestamp": stamp(at), "method": "GET", "path": path,
            "protocol": "HTTP/1.1", "status": status, "bytes": 64, "duration": duration, "message": line}


def heartbeat(host: str, at: datetime) -> dict[str, Any]:
    return {"type": "agent", "host": host, "timestamp": stamp(at), "version": "0.42.0", "uptime": 600.0}


def events(now: datetime) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for m in range(20):
        at = now - timedelta(minutes=m, seconds=30)
        for host in ("web-steady", "web-dip", "web-new"):
            result.append(access(host, at, 200))
        result.append(access("web-steady", at + timedelta(seconds=1), 503))  # 50% for 20 minutes
        if not 5 <= m <= 9:  # 5xx except minutes 5 to 9: the condition broke 5 minutes ago
            result.append(access("web-dip", at + timedelta(seconds=1), 503))
        result.append(heartbeat("web-steady", at))
    # web-new: a first 5xx and slow requests in the last two minutes only
    for m in (0, 1):
        result.append(access("web-new", now - timedelta(minutes=m, seconds=20), 502))
        result.append(access("web-new", now - timedelta(minutes=m, seconds=25), 200, 3.0, "/slow"))
    result.append(heartbeat("web-gone", now - timedelta(minutes=20)))  # an agent silent for 20 minutes
    for i in range(3):  # backfilled with `dendro ingest --host backfill-1`: events, never a heartbeat
        result.append(access("backfill-1", now - timedelta(minutes=20, seconds=i), 200))
    result.append({"type": "postgres", "host": "db-new", "timestamp": stamp(now - timedelta(minutes=2)),
                   "level": "FATAL", "database": "app", "user": "app", "duration": None,
                   "message": "FATAL:  password authentication failed for user \"app\""})
    return result


def config_for(directory: Path) -> Config:
    return from_dict({"services": {"nginx": {}, "postgres": {}}, "local": {"data_dir": str(directory)}})


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Config, datetime]]:
    directory = tmp_path_factory.mktemp("alert-states")
    config = config_for(directory)
    store = open_store(config, DataDir(directory))
    now = datetime.now(UTC)
    assert not store.write(events(now)).rejected
    yield store, config, now
    store.close()


@pytest.fixture(scope="module")
def evaluated(stored: tuple[Store, Config, datetime]) -> dict[str, RuleState]:
    store, config, now = stored
    evaluate = LocalEvaluator(store, config, now)
    return {r.name: evaluate(r) for r in rules(config)}


def active(state: RuleState) -> dict[str, tuple[str, float]]:
    return {a.series: (a.state, a.held_for) for a in state.active}


def test_a_ratio_held_for_its_for_fires_and_a_recent_one_is_pending(evaluated: dict[str, RuleState]) -> None:
    state = evaluated["nginx_error_ratio"]  # for 10m
    assert state.rule.for_s == 600
    assert state.state == "firing"  # web-steady held it at every minute of the last 10
    assert active(state) == {
        "web-steady": ("firing", 600.0),
        "web-dip": ("pending", 240.0),  # minutes 5 to 9 had no 5xx: the window at -5m broke the run
        "web-new": ("pending", 60.0),  # its first 5xx came 80 s ago
    }
    assert state.cause is not None and state.cause["host"] == "web-new"  # the newest 5xx of those hosts
    assert state.cause["line"] == '10.0.0.9 - - "GET /api HTTP/1.1" 502 64'
    assert "2 pending until it holds for 10m" in state.detail


def test_a_rule_whose_every_series_is_recent_is_pending(evaluated: dict[str, RuleState]) -> None:
    state = evaluated["nginx_latency_p95"]
    assert state.state == "pending"
    assert active(state) == {"web-new": ("pending", 60.0)}
    assert state.cause is not None and state.cause["line"] == "GET /slow 200 3.000s"  # no raw line kept


def test_rules_without_for_fire_at_once(evaluated: dict[str, RuleState]) -> None:
    fatal = evaluated["postgres_fatal"]
    assert fatal.rule.for_s == 0 and fatal.state == "firing"
    assert active(fatal) == {"db-new": ("firing", 0.0)}
    assert fatal.cause is not None and fatal.cause["line"].startswith("FATAL:  password authentication")


def test_only_agents_can_be_silent(evaluated: dict[str, RuleState]) -> None:
    """A host that only arrived by backfill has no heartbeat: it is no agent, never silent."""
    state = evaluated["agent_silent"]
    assert state.state == "firing"
    hosts = dict(state.values)
    assert set(hosts) == {"web-steady", "web-gone"}  # backfill-1, web-dip, web-new, db-new: no agent
    assert list(active(state)) == ["web-gone"]
    assert hosts["web-gone"] == "20m"


def test_the_agents_page_flags_agents_only(stored: tuple[Store, Config, datetime]) -> None:
    store, config, now = stored
    silent = {h.host for h in overview.hosts(store, config.database, 600, now) if h.silent}
    assert silent == {"web-gone"}  # backfill-1's last event is as old, but it never sent a heartbeat


@pytest.fixture(scope="module")
def app_client(stored: tuple[Store, Config, datetime]) -> FlaskClient:
    store, config, _ = stored
    return create_app(config, store, log_dir=Path(config.local.data_dir)).test_client()


def _row(page: str, rule: str) -> str:
    found = re.search(rf'<tr data-rule="{rule}" data-state="(\w+)".*?</tr>', page, re.S)
    assert found, f"{rule} is not on the page"
    return found.group(0)


def test_the_home_page_shows_what_fires_and_what_is_pending(app_client: FlaskClient) -> None:
    page = app_client.get("/").get_data(as_text=True)
    section = page[page.index('id="active-alerts"'):page.index("<h2>Services</h2>")]
    # the error ratio, nginx_5xx (12 5xx in 5 minutes), postgres_fatal, agent_silent
    assert 'id="firing-count">4 firing<' in section
    assert 'id="pending-count">1 pending<' in section  # latency p95
    ratio = _row(section, "nginx_error_ratio")
    assert 'data-state="firing"' in ratio
    assert 'data-series="web-new" data-state="pending"' in ratio
    assert "&#34;GET /api HTTP/1.1&#34; 502 64" in ratio or '"GET /api HTTP/1.1" 502 64' in ratio
    slow = _row(section, "nginx_latency_p95")
    assert 'data-state="pending"' in slow and "GET /slow 200 3.000s" in slow and "fires at 10m" in slow
    assert "password authentication failed" in _row(section, "postgres_fatal")
    assert "backfill-1" not in section
    ordered = re.findall(r'<tr data-rule="(\w+)" data-state="(\w+)"', section)
    assert [state for _, state in ordered] == ["firing"] * 4 + ["pending"]
    alerts = app_client.get("/alerts").get_data(as_text=True)
    assert re.search(r'<span class="badge pending">1 pending</span>', alerts)


def test_the_home_page_says_when_nothing_is_active(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    store = open_store(config, DataDir(tmp_path))
    try:
        page = create_app(config, store, log_dir=tmp_path).test_client().get("/").get_data(as_text=True)
    finally:
        store.close()
    assert 'id="firing-count">0 firing<' in page and 'id="no-alerts"' in page


@pytest.mark.real
def test_chromium_shows_the_active_alerts_on_the_home_page(
        browser: Any, stored: tuple[Store, Config, datetime]) -> None:
    store, config, _ = stored
    port = free_port()
    server = ConsoleServer(create_app(config, store, log_dir=Path(config.local.data_dir)), "127.0.0.1", port)
    server.start()
    try:
        wait_for_port(port)
        tab = Page(browser)
        page = tab.open(f"http://127.0.0.1:{port}/", "home-alerts")
        rows = page.locator("#alerts-now tbody tr")
        assert rows.count() == 5
        assert page.locator('#alerts-now tr[data-state="pending"]').first.is_visible()
        assert page.locator("#alerts-now td.line pre").first.is_visible()
        page = tab.open(f"http://127.0.0.1:{port}/alerts", "alerts-pending")
        assert page.locator('#alerts tr[data-rule="nginx_latency_p95"][data-state="pending"]').is_visible()
        assert tab.errors == []
        tab.page.close()
    finally:
        server.stop()
    assert (ARTIFACTS / "home-alerts.png").stat().st_size > 10_000


def test_a_disk_filling_for_hours_fires_its_forecast_and_a_new_one_is_pending(tmp_path: Path) -> None:
    """The forecast's earlier minutes reuse the bins read once (an hour of six-hour windows)."""
    config = from_dict({"services": {"host": {}}, "local": {"data_dir": str(tmp_path)}})
    store = open_store(config, DataDir(tmp_path))
    now = datetime.now(UTC).replace(microsecond=0)
    total = 100e9
    items = []
    for minute in range(8 * 60):  # a sample a minute for eight hours
        at = now - timedelta(minutes=minute, seconds=10)
        used = {"/": 50e9 + (8 * 60 - minute) * 10e6,  # 10 MB a minute for 8 hours: full in ~3.5 days
                "/new": 10e9 if minute > 20 else 10e9 + (21 - minute) * 2e9}  # 2 GB a minute for 20 min
        for mountpoint, value in used.items():
            tags = {"collector": "filesystem", "device": "sda", "mountpoint": mountpoint}
            for name, number in (("filesystem_used_bytes", value), ("filesystem_total_bytes", total)):
                items.append({"type": "host", "host": "db-1", "timestamp": stamp(at), "name": name,
                              "kind": "gauge", "value": number, **tags})
    try:
        assert not store.write(items).rejected
        rule = next(r for r in rules(config) if r.kind == "disk_forecast")
        rule = replace(rule, threshold=7 * 86400.0)  # full within a week
        state = LocalEvaluator(store, config, now)(rule)
    finally:
        store.close()
    assert state.state == "firing"
    held = active(state)
    assert held["db-1:/"] == ("firing", 3600.0)
    assert held["db-1:/new"][0] == "pending" and 0 < held["db-1:/new"][1] < 3600
