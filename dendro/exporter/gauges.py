"""The metrics the services keep (``Service.metrics``) as Prometheus families.

Every kept metric of a service whose role is not ``host_metrics`` (the host's are turned into the
``dendro_host_*`` gauges by :mod:`dendro.exporter.collector`) is exposed under
:func:`dendro.metrics.names.service_metric`: its newest value per host and series (labels
``host`` and the metrics' tags), a gauge, or a counter for the metrics the service declares as
counters (the server's own count: it starts again at 0 when the server restarts, which
Prometheus reads as a counter reset). A service the polls have brought nothing from has no
family.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from dendro.exporter.state import HostGauges, Snapshot
from dendro.metrics import names
from dendro.metrics.aggregates import MetricsMap, metrics_map
from dendro.services.base import Gauge, Metrics


def _family(service: str, metrics: Metrics, gauge: Gauge, note: str
            ) -> GaugeMetricFamily | CounterMetricFamily:
    name = names.service_metric(service, gauge.name, gauge.counter)
    doc = f"{gauge.title}: {service}'s {gauge.name}{note}"
    labels = ["host", *metrics.tags]
    if gauge.counter:
        return CounterMetricFamily(name, doc, labels=labels)
    return GaugeMetricFamily(name, doc, labels=labels)


def service_families(data: Snapshot, note: str = "", kept: MetricsMap | None = None) -> Iterator[Metric]:
    """One family per kept metric of every service with values (``note`` ends each HELP text)."""
    kept = metrics_map() if kept is None else kept
    for service, _role, metrics in sorted(
        (entry for entry in kept.values() if entry[1] != "host_metrics"), key=lambda e: (e[0], e[2].table)
    ):
        hosts: list[tuple[str, HostGauges]] = sorted(
            ((host, values) for (owner, host), values in data.gauges.items() if owner == service),
            key=lambda item: item[0],
        )
        if not hosts:
            continue
        for gauge in metrics.gauges:
            family = _family(service, metrics, gauge, note)
            for host, values in hosts:
                for tags, value in values.series(gauge.name, exact=True):
                    family.add_metric([host, *(tags.get(tag, "") for tag in metrics.tags)], value)
            yield family
