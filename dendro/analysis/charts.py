"""The data of a service's charts: RED per table, host metrics, disks with their time to full, the
metrics a service keeps (``Service.metrics``), events per host of its other log tables.

Each chart is a dict ready for JSON (and for uPlot): ``x`` (bin start, epoch seconds), ``series``
(label + one value per bin, None where nothing was measured), and for the rate, error-ratio and
latency charts the ``baseline`` band with its ``outliers`` and the ``forecast`` of the next
quarter of the range (see :mod:`dendro.analysis.stats`). Every value comes from the store.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from dendro.analysis import queries, stats
from dendro.analysis.ranges import Range, epoch
from dendro.metrics import status
from dendro.services.base import Gauge, Metrics, Red, Service
from dendro.store.base import Store

Chart = dict[str, Any]
CLASS_ORDER = (*status.CLASSES, status.UNKNOWN)


def _bin_index(rng: Range) -> tuple[list[int], dict[int, int]]:
    bins = rng.bins()
    return bins, {b: i for i, b in enumerate(bins)}


def _slot(index: Mapping[int, int], value: Any, step: int) -> int | None:
    at = int(epoch(value)) // step * step
    return index.get(at)


def _analysed(chart: Chart, label: str, values: list[float | None], floor: float | None = 0.0) -> Chart:
    """Attach the baseline band, outliers and forecast of one series to a chart."""
    band = stats.baseline(values)
    chart["analysed"] = label
    chart["baseline"] = {"lower": band.lower, "upper": band.upper, "outliers": band.outliers}
    xs = chart["x"]
    step = xs[1] - xs[0] if len(xs) > 1 else 60
    steps = max(5, len(xs) // 4)
    # the last bin is still filling: leave it out of the fit so a partial bin is not read as a drop
    predicted = stats.forecast(values[:-1], steps + 1, floor=floor)
    if predicted is None:
        chart["forecast"] = None
        chart["forecast_note"] = f"no forecast: fewer than {stats.MIN_FORECAST_POINTS} points with data"
    else:
        start = xs[-1]
        chart["forecast"] = {
            "x": [start + i * step for i in range(steps + 1)],
            "mean": predicted.mean,
            "lower": predicted.lower,
            "upper": predicted.upper,
            "level": predicted.level,
            "method": predicted.method,
        }
    return chart


def red_charts(store: Store, database: str, red: Red, rng: Range) -> list[Chart]:
    bins, index = _bin_index(rng)
    by_class: dict[str, list[float | None]] = {}
    for row in store.query(queries.rate_by_class(database, red, rng.start, rng.end, rng.step)).dicts():
        slot = _slot(index, row["t"], rng.step)
        if slot is None:
            continue
        values = by_class.setdefault(str(row["class"]), [0.0] * len(bins))
        values[slot] = (values[slot] or 0.0) + int(row["n"]) / rng.step
    summary: list[dict[str, Any] | None] = [None] * len(bins)
    for row in store.query(queries.red_summary(database, red, rng.start, rng.end, rng.step)).dicts():
        slot = _slot(index, row["t"], rng.step)
        if slot is not None:
            summary[slot] = row
    what = "requests" if red.is_http else "events"
    order = sorted(by_class, key=lambda c: (CLASS_ORDER.index(c) if c in CLASS_ORDER else 9, c))
    total = [sum(v[i] or 0.0 for v in by_class.values()) for i in range(len(bins))]
    rate = {
        "id": f"{red.table}-rate",
        "title": f"{red.table}: {what} per second" + (" by status class" if red.is_http else " by level"),
        "unit": f"{what}/s",
        "x": bins,
        "series": [{"label": name, "values": by_class[name]} for name in order]
        + [{"label": "total", "values": total}],
    }
    charts = [_analysed(rate, "total", list(total))]
    if queries.error_condition(red):
        ratio = [100.0 * int(r["errors"] or 0) / int(r["n"]) if r and r["n"] else None for r in summary]
        chart = {
            "id": f"{red.table}-errors",
            "title": f"{red.table}: error ratio"
            + (" (5xx)" if red.is_http else f" ({', '.join(red.error_levels)})"),
            "unit": "%",
            "x": bins,
            "series": [{"label": "errors %", "values": ratio}],
        }
        charts.append(_analysed(chart, "errors %", ratio))
    if red.duration:
        series = [{"label": f"p{q}", "values": [_float(r, f"p{q}") for r in summary]} for q in (50, 95, 99)]
        chart = {
            "id": f"{red.table}-latency",
            "title": f"{red.table}: latency (seconds)",
            "unit": "s",
            "x": bins,
            "series": series,
        }
        p95: list[float | None] = [_float(r, "p95") for r in summary]
        charts.append(_analysed(chart, "p95", p95))
    return charts


def _float(row: Mapping[str, Any] | None, key: str) -> float | None:
    if row is None or row.get(key) is None:
        return None
    return float(row[key])


def _per_host(
    rows: list[dict[str, Any]],
    rng: Range,
    value: Callable[[dict[str, Any]], float | None],
    key: Callable[[dict[str, Any]], str] = lambda r: str(r["host"]),
) -> list[dict[str, Any]]:
    bins, index = _bin_index(rng)
    series: dict[str, list[float | None]] = {}
    for row in rows:
        slot = _slot(index, row["t"], rng.step)
        if slot is None:
            continue
        series.setdefault(key(row), [None] * len(bins))[slot] = value(row)
    return [{"label": name, "values": series[name]} for name in sorted(series)]


def events_chart(store: Store, database: str, table: str, rng: Range) -> Chart:
    rows = store.query(queries.events_by_host(database, table, rng.start, rng.end, rng.step)).dicts()
    series = _per_host(rows, rng, lambda r: int(r["n"]) / rng.step)
    for item in series:
        item["values"] = [v or 0.0 for v in item["values"]]
    return {
        "id": f"{table}-events",
        "title": f"{table}: events per second by host",
        "unit": "events/s",
        "x": rng.bins(),
        "series": series,
    }


def cpu_busy(rows: list[dict[str, Any]], rng: Range) -> list[dict[str, Any]]:
    """Busy share (%) per host and bin from cumulative CPU seconds per mode."""
    totals: dict[str, dict[int, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        at = int(epoch(row["t"])) // rng.step * rng.step
        totals[str(row["host"])][at][str(row["mode"])] = float(row["seconds"])
    bins, index = _bin_index(rng)
    result = []
    for host in sorted(totals):
        values: list[float | None] = [None] * len(bins)
        points = sorted(totals[host].items())
        for (_, before), (at, after) in itertools.pairwise(points):
            deltas = {m: after[m] - before[m] for m in after if m in before}
            spent = sum(d for d in deltas.values() if d > 0)
            if spent <= 0 or any(d < 0 for d in deltas.values()):  # no progress, or a counter reset
                continue
            if at in index:
                values[index[at]] = 100.0 * (1 - max(deltas.get("idle", 0.0), 0.0) / spent)
        result.append({"label": host, "values": values})
    return result


def host_charts(store: Store, database: str, table: str, rng: Range) -> list[Chart]:
    """The charts of a ``host_metrics`` service's metrics ``table``: CPU, memory, load, disks."""
    bins = rng.bins()
    gauges = store.query(queries.host_gauges(database, table, rng.start, rng.end, rng.step)).dicts()
    used: dict[tuple[str, int], float] = {}
    total: dict[tuple[str, int], float] = {}
    for row in gauges:
        key = (str(row["host"]), int(epoch(row["t"])))
        if row["name"] == "memory_used_bytes":
            used[key] = float(row["v"])
        elif row["name"] == "memory_total_bytes":
            total[key] = float(row["v"])
    memory_rows = [
        {"t": t, "host": h, "v": 100.0 * v / total[(h, t)]} for (h, t), v in used.items() if total.get((h, t))
    ]
    load_rows = [r for r in gauges if r["name"] == "load1"]
    cpu_rows = store.query(queries.host_cpu(database, table, rng.start, rng.end, rng.step)).dicts()
    charts = [
        {
            "id": "host-cpu",
            "title": "CPU busy (%)",
            "unit": "%",
            "x": bins,
            "series": cpu_busy(cpu_rows, rng),
        },
        {
            "id": "host-memory",
            "title": "Memory used (%)",
            "unit": "%",
            "x": bins,
            "series": _per_host(memory_rows, rng, lambda r: float(r["v"])),
        },
        {
            "id": "host-load",
            "title": "Load average (1 min)",
            "unit": "load",
            "x": bins,
            "series": _per_host(load_rows, rng, lambda r: float(r["v"])),
        },
    ]
    disk_rows = store.query(queries.host_disk(database, table, rng.start, rng.end, rng.step)).dicts()
    disk_chart, disks = disk_usage(disk_rows, rng)
    charts.append(disk_chart)
    return [*charts, {"id": "host-disks", "kind": "table", "title": "Disks: time to full", "disks": disks}]


def disk_usage(rows: list[dict[str, Any]], rng: Range) -> tuple[Chart, list[dict[str, Any]]]:
    """The used-% chart per host:mountpoint and, per filesystem, its forecast time to full."""
    points: dict[str, dict[int, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        label = f"{row['host']}:{row['mountpoint']}"
        points[label][int(epoch(row["t"]))][str(row["name"])] = float(row["v"])
    ratio_rows = []
    disks = []
    for label in sorted(points):
        series = sorted(
            (t, p)
            for t, p in points[label].items()
            if "filesystem_used_bytes" in p and p.get("filesystem_total_bytes")
        )
        ratio_rows += [
            {"t": t, "label": label, "v": 100.0 * p["filesystem_used_bytes"] / p["filesystem_total_bytes"]}
            for t, p in series
        ]
        if not series:
            continue
        fit = stats.time_to_full(
            [float(t) for t, _ in series],
            [p["filesystem_used_bytes"] for _, p in series],
            series[-1][1]["filesystem_total_bytes"],
        )
        host, _, mount = label.partition(":")
        disks.append(
            {
                "host": host,
                "mountpoint": mount,
                "used_bytes": series[-1][1]["filesystem_used_bytes"],
                "total_bytes": series[-1][1]["filesystem_total_bytes"],
                "used_percent": 100.0
                * series[-1][1]["filesystem_used_bytes"]
                / series[-1][1]["filesystem_total_bytes"],
                "samples": len(series),
                "bytes_per_hour": fit.bytes_per_second * 3600 if fit else None,
                "full_in_seconds": fit.seconds if fit else None,
                "full_in_low_seconds": fit.seconds_low if fit else None,
                "full_in_high_seconds": fit.seconds_high if fit else None,
            }
        )
    chart = {
        "id": "host-disk",
        "title": "Disk used (%)",
        "unit": "%",
        "x": rng.bins(),
        "series": _per_host(ratio_rows, rng, lambda r: float(r["v"]), key=lambda r: str(r["label"])),
    }
    return chart, disks


#: what a chart's values are in, by the unit of the gauge (a counter's chart is its rate)
GAUGE_UNITS = {"count": "count", "bytes": "bytes", "seconds": "s", "ratio": "ratio"}
RATE_UNITS = {"count": "/s", "bytes": "bytes/s", "seconds": "s/s", "ratio": "/s"}


def _gauge_values(series: dict[tuple[str, ...], dict[int, float]], counter: bool, step: int
                  ) -> dict[str, dict[int, float]]:
    """Per host and bin: the sum over the host's series of their values (gauges) or of their rise
    per second since the bin before (counters; a fall, a restart, counts nothing)."""
    totals: dict[str, dict[int, float]] = defaultdict(dict)
    for key, points in series.items():
        host = key[0]
        if counter:
            pairs = itertools.pairwise(sorted(points.items()))
            values = {at: (after - before) / (at - was)
                      for (was, before), (at, after) in pairs if after >= before}
        else:
            values = points
        for at, value in values.items():
            totals[host][at] = totals[host].get(at, 0.0) + value
    return totals


def gauge_charts(store: Store, database: str, title: str, metrics: Metrics, rng: Range) -> list[Chart]:
    """One chart per kept metric of a metrics table: its value (a counter's rate) per host."""
    rows = store.query(
        queries.metric_values(database, metrics, metrics.names, rng.start, rng.end, rng.step)
    ).dicts()
    by_name: dict[str, dict[tuple[str, ...], dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        key = (str(row["host"]), *(str(row[tag]) for tag in metrics.tags))
        by_name[str(row["name"])][key][int(epoch(row["t"])) // rng.step * rng.step] = float(row["v"])
    bins, index = _bin_index(rng)
    charts = []
    for gauge in metrics.gauges:
        totals = _gauge_values(by_name.get(gauge.name, {}), gauge.counter, rng.step)
        series = []
        for host in sorted(totals):
            values: list[float | None] = [None] * len(bins)
            for at, value in totals[host].items():
                if at in index:
                    values[index[at]] = value
            series.append({"label": host, "values": values})
        charts.append(_gauge_chart(title, metrics, gauge, bins, series))
    return charts


def _gauge_chart(title: str, metrics: Metrics, gauge: Gauge, bins: list[int], series: list[dict[str, Any]]
                 ) -> Chart:
    units = RATE_UNITS if gauge.counter else GAUGE_UNITS
    return {
        "id": f"{metrics.table}-{gauge.name}",
        "title": f"{title}: {gauge.title}" + (" per second" if gauge.counter else ""),
        "unit": units[gauge.unit],
        "x": bins,
        "series": series,
    }


def service_charts(
    store: Store, database: str, service: Service, rng: Range, tables: set[str]
) -> list[Chart]:
    """Every chart of one service over ``rng`` (tables the store does not have yet are skipped)."""
    charts: list[Chart] = []
    if service.role == "host_metrics":
        for metrics in service.metrics:
            if metrics.table in tables:
                charts += host_charts(store, database, metrics.table, rng)
        return charts
    covered = set()
    for red in service.red:
        if red.table in tables:
            charts += red_charts(store, database, red, rng)
            covered.add(red.table)
    for metrics in service.metrics:
        if metrics.table in tables:
            charts += gauge_charts(store, database, service.title, metrics, rng)
    for table in service.tables:
        is_log = "host" in {c.name for c in table.columns} and not table.holds_metrics
        if table.name in tables and table.name not in covered and is_log:
            charts.append(events_chart(store, database, table.name, rng))
    return charts
