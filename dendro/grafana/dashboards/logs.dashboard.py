"""Logs explorer (Timestream): the events behind the RED numbers, read from the pipeline's tables.

Every panel is one Timestream query bounded by the dashboard's range (``$__timeFilter``) over a
table of the database in ``$database`` (``$__database``); the host list comes from Prometheus,
so opening the dashboard costs no Timestream query for its variables. Timestream bills each
query (see docs/dashboards.md), so the dashboard refreshes every 5 minutes at most and shows the
last hour by default.
"""

from __future__ import annotations

from typing import Any

from dendro.alerts.datasources import TIMESTREAM_UID
from dendro.grafana import panels as p
from dendro.grafana.selection import current
from dendro.grafana.timestream import TABLE, TIME_SERIES, TimestreamTarget
from dendro.metrics import names
from dendro.services.base import Table

selection = current()
grid = p.Grid()
ds = p.timestream_ds(TIMESTREAM_UID)
HOSTS = "host IN ($host)"
HTTP_COLUMNS = {"method", "path", "status", "duration", "message"}


def source(table: str) -> str:
    return f'"$__database"."{table}"'


def ts(sql: str, columns: tuple[str, ...], fmt: int = TABLE) -> TimestreamTarget:
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


def postgres_panels() -> list[Any]:
    t = source("postgres")
    where = f"$__timeFilter AND {HOSTS}"
    return [
        p.table(grid, "PostgreSQL errors",
                "The last 100 ERROR, FATAL and PANIC records PostgreSQL logged, newest first.", "short",
                [ts(f'SELECT time, host, level, "database", "user", message FROM {t} WHERE {where}'
                    " AND level IN ('ERROR', 'FATAL', 'PANIC') ORDER BY time DESC LIMIT 100",
                    ("time", "host", "level", "database", "user", "message"))], ds),
        p.table(grid, "PostgreSQL slowest statements",
                "The 20 longest statements PostgreSQL logged with a duration"
                " (log_min_duration_statement).", "s",
                [ts(f'SELECT time, host, "database", "user", duration, statement FROM {t} WHERE {where}'
                    " AND duration IS NOT NULL ORDER BY duration DESC LIMIT 20",
                    ("time", "host", "database", "user", "duration", "statement"))], ds),
    ]


def mysql_panels() -> list[Any]:
    where = f"$__timeFilter AND {HOSTS}"
    return [
        p.table(grid, "MySQL errors",
                "The last 100 Error records of the MySQL/MariaDB error log, newest first.", "short",
                [ts(f"SELECT time, host, code, subsystem, message FROM {source('mysql_error')} WHERE {where}"
                    " AND level = 'Error' ORDER BY time DESC LIMIT 100",
                    ("time", "host", "code", "subsystem", "message"))], ds),
        p.table(grid, "MySQL slowest statements",
                "The 20 longest statements of the slow query log (Query_time), with rows examined.", "s",
                [ts(f'SELECT time, host, "database", "user", duration, rows_examined, statement'
                    f" FROM {source('mysql_slow')} WHERE {where} ORDER BY duration DESC LIMIT 20",
                    ("time", "host", "database", "user", "duration", "rows_examined", "statement"))], ds),
    ]


def http_tables() -> list[tuple[str, Table]]:
    result = []
    for service, red in selection.http():
        table = service.table(red.table)
        if {c.name for c in table.columns} >= HTTP_COLUMNS:
            result.append((service.title, table))
    return result


def build() -> Any:
    items: list[Any] = []
    for title, table in http_tables():
        items.append(grid.row(f"{title} requests", f"Requests from the {table.name} table."))
        items += http_panels(title, table.name)
    if selection.has("postgres"):
        items.append(grid.row("PostgreSQL", "Errors and slow statements from the postgres table."))
        items += postgres_panels()
    if selection.has("mysql"):
        items.append(grid.row("MySQL", "Errors and slow statements from mysql_error and mysql_slow."))
        items += mysql_panels()
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
        tags=["logs", "timestream"],
    )


dashboard = build()
