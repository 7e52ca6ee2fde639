"""Anomaly and trend (Prometheus): request rate and p95 latency against their usual band, and
where they are heading.

The band is the alerts' own baseline: the recording rules ``dendro alerts render --format
prometheus`` writes (mean and standard deviation of the 5-minute rate and p95 over the anomaly
rule's window, one day by default); the band is mean ± threshold × deviation, the range outside
which the ``*_anomaly`` alerts fire. Load those recording rules into Prometheus, or the band stays
empty. The forecast is ``predict_linear`` over the last 6 hours, read as "the value 3 hours from
this point".
"""

from __future__ import annotations

from typing import Any

from dendro.alerts.durations import format_duration
from dendro.alerts.kinds import KINDS
from dendro.alerts.promql import P95, REQUESTS, baseline
from dendro.grafana import panels as p
from dendro.grafana.selection import current
from dendro.metrics import names

selection = current()
grid = p.Grid()
ds = p.prometheus_ds()
LOOKBACK = "6h"
HORIZON_S = 3 * 3600


def band_overrides() -> list[dict[str, Any]]:
    dashed = [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [6, 4]}},
              {"id": "custom.fillOpacity", "value": 0}]
    return [
        {"matcher": {"id": "byRegexp", "options": ".* (upper|lower)$"}, "properties": dashed},
        {"matcher": {"id": "byRegexp", "options": ".* in 3h$"},
         "properties": [{"id": "custom.lineStyle", "value": {"fill": "dot"}}]},
    ]


def _setting(service: str, kind: str) -> tuple[int, float]:
    """(window, threshold) of the service's anomaly rule, dendro.yaml overrides applied."""
    for rule in selection.rules():
        if rule.service == service and rule.kind == kind:
            return rule.window_s, rule.threshold
    return KINDS[kind].window_s, KINDS[kind].threshold


def band_panel(service: str, title: str, metric: str, kind: str, unit: str) -> Any:
    window_s, z = _setting(service, kind)
    mean, stddev = baseline(metric, window_s)
    sel = f'{{service="{service}", host=~"$host"}}'
    value, avg, dev = metric + sel, mean.record + sel, stddev.record + sel
    return p.timeseries(
        grid, title,
        f"{title} of {service} per host (recording rule {metric}), its mean over {format_duration(window_s)}"
        f" and the band mean ± {z:g} standard deviations (the {kind} alert fires outside it), with the"
        f" linear forecast 3 h ahead from the last {LOOKBACK}.", unit,
        [p.prom(value, "{{host}}", "A"),
         p.prom(f"{avg} + {z:g} * {dev}", "{{host}} upper", "B"),
         p.prom(f"clamp_min({avg} - {z:g} * {dev}, 0)", "{{host}} lower", "C"),
         p.prom(f"predict_linear({value}[{LOOKBACK}], {HORIZON_S})", "{{host}} in 3h", "D")],
        ds, w=12, overrides=band_overrides())


def build() -> Any:
    http = [service for service, red in selection.http() if red.duration]
    if not http:
        return None
    items: list[Any] = []
    for service in http:
        items.append(grid.row(service.title))
        items.append(band_panel(service.name, "Request rate", REQUESTS, "rate_anomaly", "reqps"))
        items.append(band_panel(service.name, "Latency p95", P95, "latency_anomaly", "s"))
    return p.dashboard(
        title="Dendro / Anomaly and trend",
        uid="dendro-anomaly",
        description="Request rate and p95 latency against the alerts' baseline band, with a linear forecast.",
        panels=items,
        variables=[p.prometheus_variable(), p.host_variable(names.HTTP_REQUESTS)],
        refresh="1m",
        time_from="now-24h",
        tags=["anomaly", "forecast", "prometheus"],
    )


dashboard = build()
