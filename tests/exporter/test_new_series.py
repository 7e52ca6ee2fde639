"""New label sets are visible to ``rate()``/``increase()``: the exporter shows each one at 0 until
a scrape has returned it, then adds its count (dendro/exporter/state.py).

Why: Prometheus's ``increase()`` is the last sample minus the first one in the range (plus counter
resets), and a series with fewer than two samples in the range gives nothing; the value a series
holds in its first sample is never counted (prometheus/prometheus promql/functions.go,
``extrapolatedRate``, read at tags v2.42.0 — the version the tests run — and v3.5.0: "No sense
in trying to compute a rate without at least two points" / ``len(samples.Floats) > 1``, then
``resultFloat = samples.Floats[last].F - samples.Floats[0].F``). These tests need no server; the
real Prometheus proves the same in test_new_series_prometheus.py.
"""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dendro.exporter.collector import registry
from dendro.exporter.state import State
from dendro.metrics import names
from tests.exporter.helpers import T0, access, metric, pg
from tests.exporter.test_aggregates_and_collector import built

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(state: State) -> Samples:
    text = generate_latest(registry(state)).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def fatal(host: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return (names.DB_ERRORS, (("host", host), ("level", "fatal"), ("service", "postgres")))


def requests(host: str, code: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return (names.HTTP_REQUESTS, (("code", code), ("host", host), ("method", "GET"), ("service", "nginx")))


def test_a_new_label_set_shows_0_at_its_first_scrape_and_its_count_at_the_next() -> None:
    state = State()
    state.apply(built([pg(T0, "FATAL", host_name="db-new")] * 5).aggregate)
    assert scrape(state)[fatal("db-new")] == 0.0
    assert scrape(state)[fatal("db-new")] == 5.0
    state.apply(built([pg(T0 + 60, "FATAL", host_name="db-new")] * 2).aggregate)
    assert scrape(state)[fatal("db-new")] == 7.0  # a known label set is not held again


def test_increments_wait_for_a_scrape_however_many_polls_come_first() -> None:
    """Whatever the scrape interval: polls before the first scrape all wait behind the 0."""
    state = State()
    for minute in range(3):
        state.apply(built([access(T0 + 60 * minute, host_name="web-new", status=503)] * 2).aggregate)
    first = scrape(state)
    assert first[requests("web-new", "5xx")] == 0.0
    histogram = (names.HTTP_DURATION + "_count", (("host", "web-new"), ("service", "nginx")))
    assert first[histogram] == 0.0
    assert first[(names.EVENTS, (("host", "web-new"), ("table", "nginx_access")))] == 0.0
    second = scrape(state)
    assert second[requests("web-new", "5xx")] == 6.0
    assert second[histogram] == 6.0
    assert state.snapshot().http_requests[("nginx", "web-new", "GET", "5xx")] == 6


def test_a_new_status_class_of_a_known_host_is_held_too() -> None:
    state = State()
    state.apply(built([access(T0, status=200)] * 4).aggregate)
    scrape(state)
    state.apply(built([access(T0 + 60, status=200)] * 4 + [access(T0 + 60, status=500)] * 3).aggregate)
    samples = scrape(state)
    assert samples[requests("web-1", "2xx")] == 8.0  # scraped before: added at once
    assert samples[requests("web-1", "5xx")] == 0.0
    assert scrape(state)[requests("web-1", "5xx")] == 3.0


def test_snapshot_counts_what_is_held_and_host_counters_are_never_held() -> None:
    """The snapshot (reports, tests) is everything counted; a host's own counter is its own value."""
    state = State()
    state.apply(built([pg(T0, "ERROR"), metric(T0, "network_receive_bytes_total", 9e9, device="eth0")]
                      ).aggregate, {"postgres": 2})
    assert state.snapshot().db_errors[("postgres", "db-1", "error")] == 1
    assert state.snapshot().late_events["postgres"] == 2
    samples = scrape(state)
    assert samples[(names.HOST_NET_RX, (("device", "eth0"), ("host", "web-1")))] == 9e9
    assert samples[(names.LATE_EVENTS, (("table", "postgres"),))] == 0.0
    assert scrape(state)[(names.LATE_EVENTS, (("table", "postgres"),))] == 2.0
