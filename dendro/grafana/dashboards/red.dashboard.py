"""RED overview (Prometheus): request rate by status class, error ratio and latency per service.

Every number comes from the Dendro exporter's counters and histograms (``dendro_http_*`` for web
servers, ``dendro_db_*`` for databases), which Prometheus scrapes; no panel queries Timestream,
so this dashboard can stay open all day at no cost beyond Prometheus.
"""

from __future__ import annotations

from typing import Any

from dendro.grafana import panels as p
from dendro.grafana.selection import current
from dendro.metrics import names

selection = current()
grid = p.Grid()
ds = p.prometheus_ds()
HOST = 'host=~"$host"'
RATE = "[$__rate_interval]"
QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))


def http_panels(service: str) -> list[Any]:
    sel = f'service="{service}", {HOST}'
    requests = f"rate({names.HTTP_REQUESTS}{{{sel}}}{RATE})"
    errors = f'rate({names.HTTP_REQUESTS}{{{sel}, code="5xx"}}{RATE})'
    buckets = f"sum by (le) (rate({names.HTTP_DURATION}_bucket{{{sel}}}{RATE}))"
    return [
        p.timeseries(grid, "Requests by status class",
                     f"Requests per second {service} answered, stacked by status class (2xx green, 3xx blue,"
                     f" 4xx orange, 5xx red), from {names.HTTP_REQUESTS}.", "reqps",
                     [p.prom(f"sum by (code) ({requests})", "{{code}}")], ds,
                     stacking={"mode": "normal", "group": "A"}, fillOpacity=60,
                     overrides=p.status_overrides()),
        p.timeseries(grid, "Error ratio",
                     f"Share of {service}'s requests answered with a 5xx status: 5xx rate / all requests.",
                     "percentunit", [p.prom(f"sum({errors}) / sum({requests})", "5xx ratio")], ds,
                     overrides=p.status_overrides()),
        p.timeseries(grid, "Latency p50 / p95 / p99",
                     f"Request duration quantiles of {service} from the {names.HTTP_DURATION} histogram"
                     " (interpolated within buckets).", "s",
                     [p.prom(f"histogram_quantile({q}, {buckets})", label, ref)
                      for (label, q), ref in zip(QUANTILES, "ABC", strict=True)], ds),
    ]


def database_panels(service: str, durations: bool = True) -> list[Any]:
    """Errors by level and, when the service logs ``durations``, their quantiles."""
    sel = f'service="{service}", {HOST}'
    buckets = f"sum by (le) (rate({names.DB_STATEMENT_DURATION}_bucket{{{sel}}}{RATE}))"
    errors = p.timeseries(grid, "Errors by level",
                          f"Log entries per second {service} wrote at an error level ({names.DB_ERRORS}).",
                          "cps", [p.prom(f"sum by (level) (rate({names.DB_ERRORS}{{{sel}}}{RATE}))",
                                         "{{level}}")], ds, w=12 if durations else 24)
    if not durations:
        return [errors]
    return [
        errors,
        p.timeseries(grid, "Logged statement duration p50 / p95 / p99",
                     f"Quantiles of the statement durations {service} logged (slow or duration logging),"
                     f" from the {names.DB_STATEMENT_DURATION} histogram.", "s",
                     [p.prom(f"histogram_quantile({q}, {buckets})", label, ref)
                      for (label, q), ref in zip(QUANTILES, "ABC", strict=True)], ds, w=12),
    ]


def build() -> Any:
    http = [service for service, _ in selection.http()]
    dbs = selection.databases()
    if not http and not dbs:
        return None
    names_of = [s.name for s in http + dbs]
    items: list[Any] = []
    if http:
        svc = 'service=~"$service", ' + HOST
        requests = f"sum by (service) (rate({names.HTTP_REQUESTS}{{{svc}}}{RATE}))"
        errors = f'sum by (service) (rate({names.HTTP_REQUESTS}{{{svc}, code="5xx"}}{RATE}))'
        items.append(grid.row("All services"))
        items += [
            p.timeseries(grid, "Requests by service",
                         f"Requests per second of each selected web service ({names.HTTP_REQUESTS}).",
                         "reqps", [p.prom(requests, "{{service}}")], ds, w=12),
            p.timeseries(grid, "Error ratio by service",
                         "Share of each selected web service's requests answered with a 5xx status.",
                         "percentunit", [p.prom(f"{errors} / {requests}", "{{service}}")], ds, w=12),
        ]
    for service in selection.services:  # in the config's order, whatever their kind
        if service.name in {s.name for s in http}:
            items.append(grid.row(service.title, f"RED of {service.title}: rate, errors, duration."))
            items += http_panels(service.name)
        if service.name in {s.name for s in dbs}:
            durations = any(r.duration for r in service.red if not r.is_http)
            what = "errors and statement durations" if durations else "errors"
            items.append(grid.row(service.title, f"{what.capitalize()} of {service.title}."))
            items += database_panels(service.name, durations)
    return p.dashboard(
        title="Dendro / RED overview",
        uid="dendro-red",
        description="Rate, errors and duration of every service: the Dendro exporter through Prometheus.",
        panels=items,
        variables=[p.prometheus_variable(), p.custom_variable("service", "Service", names_of, multi=True),
                   p.host_variable(names.LAST_EVENT)],
        refresh="1m",
        time_from="now-3h",
        tags=["red", "prometheus"],
    )


dashboard = build()
