"""Logs explorer (Timestream): the events behind the RED numbers, read from the pipeline's tables.

Each web service's access table gets the same panels (5xx, status codes, error paths, slowest
and recent failed requests); every other panel is one the service declares in the catalog
(``Service.log_panels``). Every panel is one Timestream query bounded by the dashboard's range
(``$__timeFilter``) over a table of the database in ``$database`` (``$__database``); the host
list comes from Prometheus,
so opening the dashboard costs no Timestream query for its variables. Timestream bills each
query (see docs/dashboards.md), so the dashboard refreshes every 5 minutes at most and shows the
last hour by default.
"""

from __future__ import annotations

from typing import Any

from dendro.alerts.datasources import TIMESTREAM_UID
from dendro.grafana import athena
from dendro.grafana import panels as p
from dendro.grafana.selection import current
from dendro.grafana.timestream import TABLE, TIME_SERIES, TimestreamTarget
from dendro.metrics import names
from dendro.services.base import LogPanel, LogPanels, Service, Table

selection = current()
grid = p.Grid()
#: aws.store athena: the same panels through the Athena plugin, each query translated (grafana/athena.py)
ATHENA = selection.config.aws.store == "athena"
ds = athena.athena_ds() if ATHENA else p.timestream_ds(TIMESTREAM_UID)
HOSTS = "host IN ($host)"
HTTP_COLUMNS = {"method", "path", "status", "duration", "message"}


def source(table: str) -> str:
    return f'"$__database"."{table}"'


def ts(sql: str, columns: tuple[str, ...], fmt: int = TABLE) -> TimestreamTarget | athena.AthenaTarget:
    if ATHENA:
        query = athena.athena_sql_of(sql, selection.database, selection.config.store_tables())
        return athena.AthenaTarget(rawSQL=query, columns=columns,
                                   format=athena.TIME_SERIES if fmt == TIME_SERIES else athena.TABLE)
    return TimestreamTarget(rawQuery=sql, columns=columns, format=fmt)


def http_panels(title: str, table: str) -> list[Any]:
    t = source(table)
    where = f"$__timeFilter AND {HOSTS}"
    return [
        p.timeseries(grid, "5xx responses",
                     f"Requests {title} answered with a 5xx status, per interval, from {table}.", "short",
                     [ts(f"SELECT bin(time, $__interval_ms) AS time, count(*) AS errors FROM {t}"
                         f" WHERE {where} AND status >= 500 GROUP BY bin(time, $__interval_ms) ORDER BY time",
                         ("time", "errors"), TIME_SERIES)], ds, w=12, drawStyle="bars", fillOpacity=80),
        p.bars(grid, "Status codes",
               f"Requests per status code {title} answered in the range, from {table}.", "short",
               [ts(f"SELECT CAST(status AS VARCHAR) AS status, count(*) AS requests FROM {t} WHERE {where}"
                   " GROUP BY status ORDER BY status", ("status", "requests"))], ds),
        p.table(grid, "Top error paths",
                f"Paths with the most 4xx and 5xx answers from {title} in the range, with their last status.",
                "short",
                [ts(f"SELECT path, count(*) AS errors, max(status) AS worst_status, max(time) AS last_seen"
                    f" FROM {t} WHERE {where} AND status >= 400 GROUP BY path ORDER BY errors DESC LIMIT 20",
                    ("path", "errors", "worst_status", "last_seen"))], ds),
        p.table(grid, "Slowest requests",
                f"The 20 longest requests {title} logged in the range (needs the duration in the"
                " log format).",
                "s",
                [ts(f"SELECT time, host, method, path, status, duration FROM {t}"
                    f" WHERE {where} AND duration IS NOT NULL ORDER BY duration DESC LIMIT 20",
                    ("time", "host", "method", "path", "status", "duration"))], ds),
        p.table(grid, "Recent errors",
                f"The last 100 requests {title} answered with a 5xx status, newest first, with the raw line.",
                "short",
                [ts(f"SELECT time, host, status, method, path, duration, message FROM {t}"
                    f" WHERE {where} AND status >= 500 ORDER BY time DESC LIMIT 100",
                    ("time", "host", "status", "method", "path", "duration", "message"))], ds, w=24),
    ]


def declared_panel(panel: LogPanel) -> Any:
    """A panel a service declares, its ``{table}`` and ``{where}`` filled in."""
    sql = panel.sql.replace("{table}", source(panel.table)).replace("{where}", f"$__timeFilter AND {HOSTS}")
    size = {"w": panel.width} if panel.width else {}
    if panel.kind == "timeseries_bars":
        target = ts(sql, panel.columns, TIME_SERIES)
        return p.timeseries(grid, panel.title, panel.description, panel.unit, [target], ds,
                            **({"w": 12} | size), drawStyle="bars", fillOpacity=80)
    target = ts(sql, panel.columns)
    if panel.kind == "bars":
        return p.bars(grid, panel.title, panel.description, panel.unit, [target], ds, **size)
    return p.table(grid, panel.title, panel.description, panel.unit, [target], ds, **size)


def declared_rows(rows: tuple[LogPanels, ...]) -> list[Any]:
    items: list[Any] = []
    for row in rows:
        items.append(grid.row(row.title, row.description))
        items += [declared_panel(panel) for panel in row.panels]
    return items


def http_tables(service: Service) -> list[Table]:
    """The service's access tables: those of its HTTP RED mappings that have the HTTP columns."""
    tables = [service.table(red.table) for red in service.red if red.is_http]
    return [table for table in tables if {c.name for c in table.columns} >= HTTP_COLUMNS]


def build() -> Any:
    items: list[Any] = []
    for service in selection.services:
        for table in http_tables(service):
            items.append(grid.row(f"{service.title} requests", f"Requests from the {table.name} table."))
            items += http_panels(service.title, table.name)
        items += declared_rows(service.log_panels)
    if not items:
        return None
    return p.dashboard(
        title="Dendro / Logs explorer",
        uid="dendro-logs",
        description="Errors, slow requests and slow statements from the pipeline's Timestream tables.",
        panels=items,
        variables=[p.custom_variable("database", "Database", [selection.database]),
                   p.host_variable(names.LAST_EVENT, regex_all=False)],
        refresh="5m",
        time_from="now-1h",
        tags=["logs", "athena" if ATHENA else "timestream"],
    )


dashboard = build()
