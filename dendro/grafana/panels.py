"""The building blocks every Dendro dashboard file uses: datasources, targets, panels, layout.

They wrap grafanalib so that each panel states its unit and description (a panel without
either fails when it is built), sits on a 24-column grid without overlaps, and each dashboard
gets a stable uid, UTC time, a shared crosshair and a refresh chosen for what it reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attr
from grafanalib import core as g

from dendro.alerts.datasources import PROMETHEUS_UID
from dendro.grafana.timestream import PLUGIN_TYPE

#: the dashboard schema the JSON is written in (Grafana 11.0's); Grafana 12 migrates it when it loads
#: it, and its steps 40 and 41 change nothing here (refresh is a string, no time_options):
#: tests/grafana/test_upstream.py pins why
SCHEMA_VERSION = 39
WIDTH = 24
PROMETHEUS_VARIABLE = "${datasource}"
#: fixed colours of the HTTP status classes, the same on every panel
STATUS_COLOURS = {"1xx": "purple", "2xx": "green", "3xx": "blue", "4xx": "orange", "5xx": "red",
                  "unknown": "text"}
#: Timestream dashboards never refresh faster than this (each refresh bills every panel's query)
TIMESTREAM_MIN_REFRESH_S = 60
DATASOURCE_TYPES = {"prometheus": "prometheus", "timestream": PLUGIN_TYPE}


class TimePicker(g.TimePicker):
    """grafanalib's time picker without ``time_options``, which Grafana ignores (schema 41 drops it)."""

    def to_json_data(self) -> dict[str, Any]:
        data: dict[str, Any] = super().to_json_data()
        data.pop("time_options", None)
        return data


def prometheus_ds(uid: str = PROMETHEUS_VARIABLE) -> dict[str, str]:
    return {"type": "prometheus", "uid": uid}


def timestream_ds(uid: str) -> dict[str, str]:
    return {"type": PLUGIN_TYPE, "uid": uid}


def prom(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> g.Target:
    return g.Target(expr=expr, legendFormat=legend, refId=ref, instant=instant, datasource=prometheus_ds(),
                    format="table" if instant else "time_series")


class Grid:
    """Places panels left to right, wrapping at 24 columns; rows start a new line."""

    def __init__(self) -> None:
        self.x = 0
        self.y = 0
        self.line_height = 0

    def next(self, w: int, h: int) -> g.GridPos:
        if self.x + w > WIDTH:
            self.newline()
        pos = g.GridPos(h=h, w=w, x=self.x, y=self.y)
        self.x += w
        self.line_height = max(self.line_height, h)
        return pos

    def newline(self) -> None:
        self.y += self.line_height
        self.x = 0
        self.line_height = 0

    def row(self, title: str, description: str = "") -> g.RowPanel:
        self.newline()
        panel = g.RowPanel(title=title, description=description or None, gridPos=self.next(WIDTH, 1))
        self.newline()
        return panel


def _require(title: str, description: str, unit: str) -> None:
    if not description.strip():
        raise ValueError(f"panel {title!r}: a description is required")
    if not unit.strip():
        raise ValueError(f"panel {title!r}: a unit is required")


def status_overrides() -> list[dict[str, Any]]:
    return [
        {"matcher": {"id": "byName", "options": code},
         "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": colour}}]}
        for code, colour in STATUS_COLOURS.items()
    ]


def timeseries(grid: Grid, title: str, description: str, unit: str, targets: Sequence[Any],
               datasource: dict[str, str], w: int = 8, h: int = 8, **options: Any) -> g.TimeSeries:
    _require(title, description, unit)
    return g.TimeSeries(title=title, description=description, unit=unit, targets=list(targets),
                        dataSource=datasource, gridPos=grid.next(w, h), tooltipMode="multi", **options)


def table(grid: Grid, title: str, description: str, unit: str, targets: Sequence[Any],
          datasource: dict[str, str], w: int = 12, h: int = 8, **options: Any) -> g.Table:
    _require(title, description, unit)
    return g.Table(title=title, description=description, unit=unit, targets=list(targets),
                   dataSource=datasource, gridPos=grid.next(w, h), filterable=True, **options)


def bars(grid: Grid, title: str, description: str, unit: str, targets: Sequence[Any],
         datasource: dict[str, str], w: int = 12, h: int = 8) -> g.BarChart:
    _require(title, description, unit)
    return g.BarChart(title=title, description=description, targets=list(targets), dataSource=datasource,
                      gridPos=grid.next(w, h), extraJson={"fieldConfig": {"defaults": {"unit": unit}}})


def stat(grid: Grid, title: str, description: str, unit: str, targets: Sequence[Any],
         datasource: dict[str, str], w: int = 6, h: int = 8, **options: Any) -> g.Stat:
    _require(title, description, unit)
    return g.Stat(title=title, description=description, format=unit, targets=list(targets),
                  dataSource=datasource, gridPos=grid.next(w, h), **options)


def prometheus_variable() -> g.Template:
    return g.Template(name="datasource", label="Prometheus", query="prometheus", type="datasource",
                      default=PROMETHEUS_UID, hide=0)


def host_variable(metric: str, regex_all: bool = True) -> g.Template:
    """Hosts from the exporter's labels (free: no Timestream query), several at a time, All by default.

    For PromQL, All is the regex ``.*``; for Timestream SQL (``host IN ($host)``) All must be the
    list of every value, which Grafana sends when no custom all value is set.
    """
    return g.Template(name="host", label="Host", query=f"label_values({metric}, host)",
                      dataSource=prometheus_ds(PROMETHEUS_UID if not regex_all else PROMETHEUS_VARIABLE),
                      includeAll=True, multi=True, default="$__all", allValue=".*" if regex_all else None,
                      refresh=g.REFRESH_ON_TIME_RANGE_CHANGE)


def custom_variable(name: str, label: str, values: Sequence[str], multi: bool = False) -> g.Template:
    default = "$__all" if multi else values[0]
    return g.Template(name=name, label=label, query=",".join(values), type="custom", default=default,
                      includeAll=multi, multi=multi, allValue=".*" if multi else None)


def dashboard(*, title: str, uid: str, description: str, panels: list[Any], variables: list[g.Template],
              refresh: str, time_from: str, tags: Sequence[str]) -> g.Dashboard:
    board = g.Dashboard(
        title=title,
        uid=uid,
        description=description,
        panels=panels,
        templating=g.Templating(list=variables),
        refresh=refresh,
        time=g.Time(time_from, "now"),
        timePicker=TimePicker(refreshIntervals=["1m", "5m", "15m", "30m", "1h"], timeOptions=[]),
        tags=["dendro", *tags],
        timezone="utc",
        graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        schemaVersion=SCHEMA_VERSION,
        editable=True,
    )
    return attr.evolve(board.auto_panel_ids())
