"""The status-page and database metrics the agents already collect are kept, so they are charted.

Vector's sources emit these names with these kinds (a counter only grows and is charted as a rate);
the catalog keeps each with the same kind (``Gauge.counter``), and tests/catalog/test_everywhere.py
then proves the exporter exposes them, the Service metrics dashboard shows them and the console
charts them from the demo's rows. Upstream lines read (vectordotdev/vector, v0.44.0 and v0.57.0):

- src/sources/nginx_metrics/mod.rs: ``connections_active``, ``connections_reading``,
  ``connections_writing``, ``connections_waiting`` are ``gauge!``, ``connections_accepted_total``,
  ``connections_handled_total`` and ``http_requests_total`` are ``counter!``, namespace ``nginx``;
- src/sources/apache_metrics/parser.rs: ``access_total`` and ``sent_bytes_total`` are
  ``MetricValue::Counter``, ``workers`` (tag ``state``: busy, idle) and ``connections`` (tag
  ``state``: total, writing, keepalive, closing) ``MetricValue::Gauge``, namespace ``apache``;
- src/sources/postgresql_metrics.rs: ``pg_stat_database_numbackends`` is ``gauge!``,
  ``pg_stat_database_xact_commit_total``, ``…_xact_rollback_total`` and ``…_deadlocks_total`` are
  ``counter!``, each tagged ``db``.
"""

from __future__ import annotations

import pytest

from dendro.services import catalog, runner

#: service → metric name → is it a counter (as Vector emits it)
KEPT = {
    "nginx": {
        "nginx_connections_active": False,
        "nginx_connections_reading": False,
        "nginx_connections_writing": False,
        "nginx_connections_waiting": False,
        "nginx_connections_accepted_total": True,
        "nginx_connections_handled_total": True,
        "nginx_http_requests_total": True,
    },
    "apache": {
        "apache_workers": False,
        "apache_connections": False,
        "apache_access_total": True,
        "apache_sent_bytes_total": True,
    },
    "postgres": {
        "pg_stat_database_numbackends": False,
        "pg_stat_database_xact_commit_total": True,
        "pg_stat_database_xact_rollback_total": True,
        "pg_stat_database_deadlocks_total": True,
    },
}
TAGS = {"nginx": (), "apache": ("state",), "postgres": ("db",)}


@pytest.mark.parametrize("name", sorted(KEPT))
def test_the_metrics_vector_collects_are_kept_with_their_kind(name: str) -> None:
    service = catalog()[name]
    kept = {gauge.name: gauge.counter for metrics in service.metrics for gauge in metrics.gauges}
    assert kept == KEPT[name]
    assert [m.tags for m in service.metrics] == [TAGS[name]]


@pytest.mark.parametrize("name", sorted(KEPT))
def test_the_parser_gives_each_kept_metric_its_kind(name: str) -> None:
    """Each kept name has a sample shaped as Vector emits it, and the row keeps Vector's kind."""
    service = catalog()[name]
    (metrics,) = service.metrics
    parser = next(p for p in service.parsers if p.metrics)
    kinds: dict[str, set[str]] = {}
    for sample in parser.samples:
        if sample.expected is None:
            continue
        event = runner.run(parser, sample.input_event())
        kinds.setdefault(str(event["name"]), set()).add(str(event["kind"]))
    for gauge in metrics.gauges:
        assert kinds.get(gauge.name) == {"counter" if gauge.counter else "gauge"}, gauge.name
