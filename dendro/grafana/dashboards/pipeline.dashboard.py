"""Pipeline (Prometheus, one Timestream table): is every event arriving and landing?

Events per table, parse errors, late events and when each agent was last heard from come from
the exporter's ``dendro_events_total``, ``dendro_late_events_total`` and
``dendro_last_event_timestamp_seconds``; refused events (the loader's errors on AWS, the local
store's ``rejected`` table) from ``dendro_rejected_events_total``; the exporter's own health from
``dendro_exporter_*`` and ``dendro_store_*``. The one Timestream panel lists the newest parse
errors with their raw lines.
"""

from __future__ import annotations

from typing import Any

from dendro.alerts.datasources import TIMESTREAM_UID
from dendro.grafana import athena
from dendro.grafana import panels as p
from dendro.grafana.selection import current
from dendro.grafana.timestream import TABLE, TimestreamTarget
from dendro.metrics import names

selection = current()
grid = p.Grid()
ds = p.prometheus_ds()
HOST = 'host=~"$host"'
RATE = "[$__rate_interval]"
REFUSED = ("refused on AWS by the loader (every line it wrote under rejected/ in the bucket, with the"
           " reason: an unknown type, fields that do not fit the table, records Timestream rejected,"
           " unreadable input) and locally by the ingest's store (the rejected table)")


ATHENA = selection.config.aws.store == "athena"
PARSE_ERRORS = (
    'SELECT time, host, source, error, message FROM "$__database"."parse_error"'
    " WHERE $__timeFilter ORDER BY time DESC LIMIT 100"
)


def parse_errors() -> Any:
    """The recent parse errors: one query text, through the Athena plugin when aws.store is athena."""
    columns = ("time", "host", "source", "error", "message")
    if ATHENA:
        sql = athena.athena_sql_of(PARSE_ERRORS, selection.database, selection.config.store_tables())
        return athena.AthenaTarget(rawSQL=sql, columns=columns, format=athena.TABLE)
    return TimestreamTarget(rawQuery=PARSE_ERRORS, columns=columns, format=TABLE)


def build() -> Any:
    items: list[Any] = [
        grid.row("Events"),
        p.timeseries(grid, "Events per table", "Events stored per minute, by table (dendro_events_total).",
                     "opm",
                     [p.prom(f"sum by (table) (rate({names.EVENTS}{{{HOST}}}{RATE})) * 60", "{{table}}")], ds,
                     w=8, stacking={"mode": "normal", "group": "A"}, fillOpacity=40),
        p.timeseries(grid, "Parse errors", "Lines per minute the agents could not parse, by host (the"
                     " parse_error table; the panel below shows them).", "opm",
                     [p.prom(f'sum by (host) (rate({names.EVENTS}{{table="parse_error", {HOST}}}{RATE}))'
                             " * 60", "{{host}}")], ds, w=8),
        p.timeseries(grid, "Rejected events by table", f"Events per minute {REFUSED}, by the table they were"
                     " meant for; unknown: their type matched no table (dendro_rejected_events_total, every"
                     " host).", "opm",
                     [p.prom(f"sum by (table) (rate({names.REJECTED_EVENTS}{RATE})) * 60", "{{table}}")], ds,
                     w=8),
        p.stat(grid, "Loader errors: rejected in the last hour", f"Events {REFUSED}, over the last hour, by"
               " table. On AWS these are the loader's errors; 0 is the healthy value.", "short",
               [p.prom(f"sum by (table) (increase({names.REJECTED_EVENTS}[1h]))", "{{table}}")], ds, w=8,
               reduceCalc="lastNotNull", graphMode="none", noValue="0", decimals=0),
        p.timeseries(grid, "Rejected share", "Share of the events that reached the store or the loader and"
                     " were refused instead of stored, every table and host.", "percentunit",
                     [p.prom(f"sum(rate({names.REJECTED_EVENTS}{RATE})) / (sum(rate({names.REJECTED_EVENTS}"
                             f"{RATE})) + sum(rate({names.EVENTS}{RATE})))", "rejected")], ds, w=8),
        p.timeseries(grid, "Late events", "Events per minute stored after the exporter had counted their"
                     " window: in the store but not in the RED metrics (raise exporter.delay if this grows).",
                     "opm", [p.prom(f"sum by (table) (rate({names.LATE_EVENTS}{RATE})) * 60", "{{table}}")],
                     ds, w=8),
        grid.row("Agents"),
        p.table(grid, "Agents last seen", "Seconds since each host's Vector agent last sent its heartbeat"
                " (the agent table); the agent_silent alert fires above its threshold.", "s",
                [p.prom(f'sort_desc(time() - max by (host) ({names.LAST_EVENT}{{table="agent", {HOST}}}))',
                        "", "A", instant=True)], ds),
        p.table(grid, "Last event per table", "Seconds since the newest event of each table and host.", "s",
                [p.prom(f"sort_desc(time() - max by (host, table) ({names.LAST_EVENT}{{{HOST}}}))", "", "A",
                        instant=True)], ds),
        grid.row("Exporter and store"),
        p.timeseries(grid, "Exporter up", "1 when the exporter's last poll of the store succeeded.", "bool",
                     [p.prom(names.EXPORTER_UP, "up")], ds),
        p.timeseries(grid, "Poll duration", "Seconds the exporter's last poll took.", "s",
                     [p.prom(names.POLL_DURATION, "poll")], ds),
        p.timeseries(grid, "Store errors", "Failed store queries or S3 requests of the exporter, per minute.",
                     "opm", [p.prom(f"rate({names.STORE_QUERY_ERRORS}{RATE}) * 60", "errors")], ds),
        grid.row("Parse errors (Timestream)"),
        p.table(grid, "Recent parse errors", "The last 100 lines an agent could not parse, newest first,"
                " with the reason and the raw line, every host (one Timestream query per refresh).", "short",
                [parse_errors()], athena.athena_ds() if ATHENA else p.timestream_ds(TIMESTREAM_UID), w=24),
    ]
    host = p.host_variable(names.LAST_EVENT)
    return p.dashboard(
        title="Dendro / Pipeline",
        uid="dendro-pipeline",
        description="Events per table, parse errors, rejected events (the loader's errors), late events,"
                    " agents last seen, the exporter's health.",
        panels=items,
        variables=[p.prometheus_variable(), host,
                   p.custom_variable("database", "Database", [selection.database])],
        refresh="5m",
        time_from="now-3h",
        tags=["pipeline", "prometheus", "timestream"],
    )


dashboard = build()
