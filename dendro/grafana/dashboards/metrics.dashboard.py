"""Service metrics (Prometheus): the metrics each service keeps, per host.

Every service that keeps metrics in the catalog (``Service.metrics``, every role but the host
metrics, which have their own dashboard) gets a row with one panel per metric: the exporter's
family of that metric (``dendro.metrics.names.service_metric``) summed over its series per host
(or per host and value of the tag a metric splits on: Apache's workers by state), a counter as
its rate per second. No panel queries Timestream.
"""

from __future__ import annotations

from typing import Any

from dendro.grafana import panels as p
from dendro.grafana.selection import current
from dendro.metrics import names
from dendro.services.base import Gauge

selection = current()
grid = p.Grid()
ds = p.prometheus_ds()
HOST = '{host=~"$host"}'
RATE = "[$__rate_interval]"
#: Grafana's unit of a gauge (a counter's rate: per second)
UNITS = {"count": "short", "bytes": "bytes", "seconds": "s", "ratio": "percentunit"}
RATE_UNITS = {"count": "cps", "bytes": "Bps", "seconds": "s", "ratio": "percentunit"}


def panel(service: str, title: str, gauge: Gauge) -> Any:
    metric = names.service_metric(service, gauge.name, gauge.counter)
    by, legend, over = "host", "{{host}}", "summed over its series"
    if gauge.split:  # parts that do not add up: one line per host and value of the tag
        by, legend = f"host, {gauge.split}", f"{{{{host}}}} {{{{{gauge.split}}}}}"
        over = f"one line per {gauge.split}"
    if gauge.counter:
        expr = f"sum by ({by}) (rate({metric}{HOST}{RATE}))"
        text = f"{gauge.title} per second on each host, {over} (rate of {metric})."
        unit = RATE_UNITS[gauge.unit]
    else:
        expr = f"sum by ({by}) ({metric}{HOST})"
        text = f"{gauge.title} on each host, {over} ({metric})."
        unit = UNITS[gauge.unit]
    return p.timeseries(grid, f"{title}: {gauge.title}", text, unit, [p.prom(expr, legend)], ds)


def build() -> Any:
    services = selection.kept_metrics()
    if not services:
        return None
    items: list[Any] = []
    for service in services:
        items.append(grid.row(service.title, f"The metrics {service.title} keeps, per host."))
        items += [panel(service.name, service.title, gauge)
                  for metrics in service.metrics for gauge in metrics.gauges]
    return p.dashboard(
        title="Dendro / Service metrics",
        uid="dendro-metrics",
        description="The metrics each service keeps (connections, sessions, queues, memory…), per host.",
        panels=items,
        variables=[p.prometheus_variable(), p.host_variable(names.LAST_EVENT)],
        refresh="1m",
        time_from="now-3h",
        tags=["metrics", "prometheus"],
    )


dashboard = build()
