"""Hosts (Prometheus): CPU, memory, filesystems, load and network of every node, and when a
filesystem will be full at the rate it filled lately.

The exporter turns the metrics table of the host metrics service (Vector's host_metrics) into
gauges and counters
(``dendro_host_*``); Prometheus scrapes them, and the forecast is Prometheus' ``predict_linear``
over the last 6 hours of free bytes (the same as the ``host_disk_forecast`` alert).
"""

from __future__ import annotations

from typing import Any

from dendro.grafana import panels as p
from dendro.grafana.selection import current
from dendro.metrics import names

selection = current()
grid = p.Grid()
ds = p.prometheus_ds()
HOST = '{host=~"$host"}'
RATE = "[$__rate_interval]"
LOOKBACK = "6h"
HORIZON_S = 86400


def build() -> Any:
    if not selection.host_metrics():
        return None
    free = f"{names.HOST_FILESYSTEM_FREE}{HOST}"
    items: list[Any] = [
        grid.row("Usage"),
        p.timeseries(grid, "CPU busy",
                     "Share of CPU time not idle on each host, between its last two samples.",
                     "percentunit", [p.prom(f"{names.HOST_CPU}{HOST}", "{{host}}")], ds, valueMax=1),
        p.timeseries(grid, "Memory used", "Share of memory in use on each host (1 - available / total).",
                     "percentunit", [p.prom(f"{names.HOST_MEMORY}{HOST}", "{{host}}")], ds, valueMax=1),
        p.timeseries(grid, "Load average", "1, 5 and 15 minute load averages of each host.", "short",
                     [p.prom(f"{metric}{HOST}", "{{host}} " + label, ref) for (label, metric), ref in zip(
                         (("1m", names.HOST_LOAD1), ("5m", names.HOST_LOAD5), ("15m", names.HOST_LOAD15)),
                         "ABC", strict=True)], ds),
        grid.row("Filesystems"),
        p.timeseries(grid, "Filesystem used", "Share of each filesystem in use, by host and mount point.",
                     "percentunit", [p.prom(f"{names.HOST_FILESYSTEM}{HOST}", "{{host}} {{mountpoint}}")], ds,
                     w=12, valueMax=1),
        p.timeseries(grid, "Free space in 24 h (forecast)",
                     f"Free bytes each filesystem will have in 24 hours if it keeps filling at the rate"
                     f" of the last {LOOKBACK} (predict_linear); below zero: full within a day.", "bytes",
                     [p.prom(f"predict_linear({free}[{LOOKBACK}], {HORIZON_S})", "{{host}} {{mountpoint}}")],
                     ds, w=12),
        p.table(grid, "Filesystems closest to full",
                f"Free bytes now and forecast in 24 h ({LOOKBACK} trend), lowest forecast first.", "bytes",
                [p.prom(f"sort(predict_linear({free}[{LOOKBACK}], {HORIZON_S}))", "", "A", instant=True),
                 p.prom(free, "", "B", instant=True)], ds, w=24),
        grid.row("Network"),
        p.timeseries(grid, "Network received", "Bytes per second each host received, by device.", "Bps",
                     [p.prom(f"rate({names.HOST_NET_RX}{HOST}{RATE})", "{{host}} {{device}}")], ds, w=12),
        p.timeseries(grid, "Network sent", "Bytes per second each host sent, by device.", "Bps",
                     [p.prom(f"rate({names.HOST_NET_TX}{HOST}{RATE})", "{{host}} {{device}}")], ds, w=12),
    ]
    return p.dashboard(
        title="Dendro / Hosts",
        uid="dendro-hosts",
        description="CPU, memory, filesystems, load and network per host, with a disk-full forecast.",
        panels=items,
        variables=[p.prometheus_variable(), p.host_variable(names.HOST_MEMORY)],
        refresh="1m",
        time_from="now-6h",
        tags=["hosts", "prometheus"],
    )


dashboard = build()
