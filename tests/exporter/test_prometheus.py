"""End to end: a real Prometheus scrapes the exporter running over a local DuckDB store fed with
known events; its HTTP API answers increase() and histogram sums equal to the ground truth."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dendro.config import from_dict
from dendro.exporter.server import ExporterHandle, start_exporter
from dendro.store.local import LocalStore
from tests.exporter.helpers import access, local_store, pg
from tests.servers.prometheus import Prometheus
from tests.support import free_port

pytestmark = pytest.mark.real

DELAY = 1.0
PRIME = [("web-1", 200, "GET"), ("web-1", 503, "GET"), ("web-2", 200, "GET"), ("web-2", 404, "POST")]
# ground truth: (host, status, method, duration)
TRUTH = [
    *[("web-1", 200, "GET", 0.004)] * 7, *[("web-1", 200, "GET", 0.2)] * 3, *[("web-1", 503, "GET", 1.5)] * 4,
    *[("web-2", 200, "GET", 0.03)] * 5, *[("web-2", 404, "POST", 0.01)] * 2,
]


@pytest.fixture()
def running(tmp_path: Path, prometheus: Prometheus) -> Iterator[tuple[LocalStore, ExporterHandle]]:
    store = local_store(tmp_path)
    config = from_dict({"services": ["nginx", "postgres", "host"]})
    handle = start_exporter(config, store=store, port=free_port(), interval=0.25, delay=DELAY)
    prometheus.set_targets([handle.url.split("/")[2]])
    try:
        yield store, handle
    finally:
        prometheus.set_targets([])
        handle.stop()
        store.close()


def now_events(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    now = time.time()
    return [access(now, host_name=r[0], status=r[1], method=r[2], duration=r[3] if len(r) > 3 else 0.001)
            for r in rows]


def latest_sample_time(prometheus: Prometheus, handle: ExporterHandle) -> float:
    """The time of the last scrape of this exporter (not of one an earlier test scraped)."""
    instance = handle.url.split("/")[2]
    series = prometheus.query(f'dendro_exporter_up{{instance="{instance}"}}[10s]')
    return float(series[0]["values"][-1][0])


def values(result: list[dict[str, Any]], *labels: str) -> dict[tuple[str, ...], float]:
    return {tuple(r["metric"].get(k, "") for k in labels): float(r["value"][1]) for r in result}


def test_prometheus_sees_exact_red_counts(prometheus: Prometheus,
                                          running: tuple[LocalStore, ExporterHandle]) -> None:
    store, handle = running
    store.write([*now_events(PRIME), pg(time.time(), "ERROR")])
    prometheus.wait_for('sum(dendro_http_requests_total{service="nginx"})',
                        lambda r: bool(r) and float(r[0]["value"][1]) == len(PRIME))
    time.sleep(1.2)  # one more scrape: the start sample holds the primed counts everywhere
    start = latest_sample_time(prometheus, handle)
    store.write([*now_events(TRUTH), pg(time.time(), "ERROR"), pg(time.time(), "FATAL")])
    total = len(PRIME) + len(TRUTH)
    prometheus.wait_for('sum(dendro_http_requests_total{service="nginx"})',
                        lambda r: bool(r) and float(r[0]["value"][1]) == total)
    time.sleep(1.2)
    end = latest_sample_time(prometheus, handle)
    window = f"{round((end - start) * 1000)}ms"  # samples exactly at both ends: no extrapolation

    counts = values(prometheus.query(f"increase(dendro_http_requests_total[{window}])", at=end),
                    "host", "method", "code")
    assert counts == {("web-1", "GET", "2xx"): 10.0, ("web-1", "GET", "5xx"): 4.0,
                      ("web-2", "GET", "2xx"): 5.0, ("web-2", "POST", "4xx"): 2.0}
    observed = values(prometheus.query(f"increase(dendro_http_request_duration_seconds_count[{window}])",
                                       at=end), "host")
    assert observed == {("web-1",): 14.0, ("web-2",): 7.0}
    sums = values(prometheus.query(f"increase(dendro_http_request_duration_seconds_sum[{window}])", at=end),
                  "host")
    assert sums[("web-1",)] == pytest.approx(7 * 0.004 + 3 * 0.2 + 4 * 1.5)
    assert sums[("web-2",)] == pytest.approx(5 * 0.03 + 2 * 0.01)
    fast = values(prometheus.query(
        f'increase(dendro_http_request_duration_seconds_bucket{{le="0.005"}}[{window}])', at=end), "host")
    assert fast == {("web-1",): 7.0, ("web-2",): 0.0}
    errors = values(prometheus.query(f"increase(dendro_db_errors_total[{window}])", at=end), "level")
    assert errors.get(("error",)) == 1.0

    up = prometheus.query("dendro_exporter_up")
    assert float(up[0]["value"][1]) == 1.0
    seen = values(prometheus.query("dendro_last_event_timestamp_seconds"), "table", "host")
    assert seen[("nginx_access", "web-2")] == pytest.approx(time.time(), abs=30)
