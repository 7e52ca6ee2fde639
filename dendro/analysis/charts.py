"""The data of a service's charts: RED per table, host metrics, disks with their time to full, the
metrics a service keeps (``Service.metrics``), events per host of its other log tables.

Each chart is a dict ready for JSON (and for uPlot): ``x`` (bin start, epoch seconds), ``series``
(label + one value per bin, None where nothing was measured), ``axis`` (the one unit its values
are shown in, and the factor to it), and for the rate, error-ratio and latency charts the
``baseline`` band with its ``outliers``, the ``forecast`` of the next quarter of the range (see
:mod:`dendro.analysis.stats`), the ``partial`` bins, a rate chart's ``covered`` seconds of each
bin, and the ``logs`` a point opens. Every value comes from the store.

The charts invent no signal:

- **no data is a gap, not a zero**: a table's bins count as measured (an empty bin is a rate of
  0) only from its first row, or from the range's start when it had rows in the lookback just
  before, to :data:`STALE_SECONDS` after its last row (Prometheus's lookback delta), and while
  the agent of a host that writes to it beats (:func:`heartbeats`);
- **a partial bin is drawn as partial, never judged**: the bin still filling (the range ends
  now) and a bin the data began in are rates over the seconds they cover, listed in
  ``partial``, without a band, never an outlier, out of the forecast's fit; one covered less
  than :data:`MIN_COVERED_SHARE` is left out;
- bands and forecasts stay in the quantity's domain (rates and durations ≥ 0, ratios 0–100 %),
  and a point is judged only once its window holds enough real points.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import timedelta
from typing import Any

from dendro.analysis import queries, stats
from dendro.analysis.ranges import Range, epoch
from dendro.metrics import status
from dendro.services.base import Gauge, Metrics, Red, Service
from dendro.services.internal import AGENT
from dendro.store.base import Store

Chart = dict[str, Any]
CLASS_ORDER = (*status.CLASSES, status.UNKNOWN)
#: a table silent longer than this (Prometheus's default lookback delta) has no data, not a rate of 0
STALE_SECONDS = 300
#: a bin covered for less than this share of its length is left out (a rate over seconds says little)
MIN_COVERED_SHARE = 0.25
#: the error ratio is a percentage
PERCENT: stats.Domain = (0.0, 100.0)
#: a bin's p95 is judged only over this many durations (the p95 of fewer is their slowest one or two)
MIN_TIMED = 20


def _bin_index(rng: Range) -> tuple[list[int], dict[int, int]]:
    bins = rng.bins()
    return bins, {b: i for i, b in enumerate(bins)}


def _slot(index: Mapping[int, int], value: Any, step: int) -> int | None:
    at = int(epoch(value)) // step * step
    return index.get(at)


def lookback(rng: Range) -> timedelta:
    """How far before the range a query looks to tell whether the table was already receiving."""
    return timedelta(seconds=max(STALE_SECONDS, rng.step))


def covered(rng: Range, rows: Iterable[Mapping[str, Any]]) -> list[float]:
    """Seconds of each bin during which the table (these rows: ``t``, ``first_time``,
    ``last_time``, read from the lookback on) was receiving; 0 where it was not: no data."""
    start = rng.start.timestamp()
    first = last = None
    before = False
    for row in rows:
        if epoch(row["last_time"]) < start:
            before = True
            continue
        begin, end = epoch(row["first_time"]), epoch(row["last_time"])
        first = begin if first is None else min(first, begin)
        last = end if last is None else max(last, end)
    if before and last is None:  # quiet since the lookback: still receiving until it goes stale
        last = start - 1
    if last is None:
        return [0.0] * len(rng.bins())
    since = start if before else float(first if first is not None else start)
    until = min(rng.end.timestamp(), last + STALE_SECONDS)
    return [max(0.0, min(b + rng.step, until) - max(b, since)) for b in rng.bins()]


Rows = list[dict[str, Any]]


def heartbeats(store: Store, database: str, rng: Range, tables: Collection[str]) -> dict[str, Rows]:
    """Per host, the bins of its agent's heartbeats (``agent`` table) from the lookback on: while an
    agent beats, its node's tables are read, so a quiet log is a rate of 0, not a gap (an nginx that
    stopped logging is a fall to 0). Empty without the table (no agent yet, a backfill)."""
    if AGENT.name not in tables:
        return {}
    rows = store.query(
        queries.events_by_host(database, AGENT.name, rng.start - lookback(rng), rng.end, rng.step)
    ).dicts()
    by_host: dict[str, Rows] = defaultdict(list)
    for row in rows:
        by_host[str(row["host"])].append(row)
    return by_host


def measured(seconds: float, step: int) -> bool:
    return seconds >= MIN_COVERED_SHARE * step


def partial_bins(seconds: list[float], step: int) -> list[int]:
    """Indexes of the bins measured over only part of their length."""
    return [i for i, s in enumerate(seconds) if measured(s, step) and s < step - 1e-6]


def axis(unit: str, values: Iterable[float | None]) -> dict[str, Any]:
    """The one unit a chart's axis and legend show its values in, and the factor to it: a duration
    axis is all milliseconds or all seconds, a bytes axis one of B, KiB, MiB, GiB, TiB, and a log
    that writes less than an event a second is counted per minute (1 event/min, not 0.017/s)."""
    top = max((abs(v) for v in values if v is not None and math.isfinite(v)), default=0.0)
    if unit == "events/s" and top < 1:
        return {"unit": "events/min", "factor": 60.0}
    if unit == "s":
        return {"unit": "ms", "factor": 1000.0} if top < 1 else {"unit": "s", "factor": 1.0}
    if unit in ("bytes", "bytes/s"):
        suffix = unit[len("bytes"):]
        for power, name in enumerate(("B", "KiB", "MiB", "GiB", "TiB")):
            if top < 1024 ** (power + 1) or name == "TiB":
                return {"unit": name + suffix, "factor": 1.0 / 1024**power}
    return {"unit": unit, "factor": 1.0}


def _chart_values(chart: Chart) -> Iterable[float | None]:
    for series in chart.get("series", ()):
        yield from series["values"]
    band = chart.get("baseline") or {}
    yield from band.get("upper", ())
    forecast = chart.get("forecast") or {}
    yield from forecast.get("upper", ())


def _with_axis(chart: Chart) -> Chart:
    chart["axis"] = axis(chart["unit"], _chart_values(chart))
    if chart["axis"]["unit"].endswith("/min"):  # the title says what the axis counts
        chart["title"] = chart["title"].replace(" per second", " per minute")
    return chart


def _last_judged(values: list[float | None], partial: Collection[int]) -> int | None:
    for i in range(len(values) - 1, -1, -1):
        if i not in partial and values[i] is not None:
            return i
    return None


def _analysed(
    chart: Chart,
    label: str,
    values: list[float | None],
    domain: stats.Domain = stats.NON_NEGATIVE,
    partial: Collection[int] = (),
    given: stats.Baseline | None = None,
    unjudged: Collection[int] = (),
) -> Chart:
    """Attach the baseline band (``given``, or the series' own), outliers and forecast of one series
    to a chart: partial bins are not judged nor fitted, ``unjudged`` ones are fitted but neither
    judged nor history, and both stay in ``domain``."""
    band = given or stats.baseline(values, domain=domain, partial={*partial, *unjudged})
    chart["analysed"] = label
    chart["domain"] = list(domain)
    chart["partial"] = sorted(partial)
    chart["baseline"] = {"lower": band.lower, "upper": band.upper, "outliers": band.outliers}
    xs = chart["x"]
    step = xs[1] - xs[0] if len(xs) > 1 else 60
    steps = max(5, len(xs) // 4)
    last = _last_judged(values, partial)
    fitted = [None if i in partial else v for i, v in enumerate(values[: (last or 0) + 1])]
    predicted = stats.forecast(fitted, steps, domain=domain) if last is not None else None
    chart["forecast"] = None
    if last is not None and last < len(values) - 2:
        chart["forecast_note"] = "no forecast: the series has no data in its last bins"
    elif predicted is None or last is None:
        chart["forecast_note"] = f"no forecast: fewer than {stats.MIN_FORECAST_POINTS} points with data"
    else:  # the dashed line starts at the last judged point, its value, and predicts the bins after
        anchor = float(values[last])  # type: ignore[arg-type]
        chart["forecast"] = {
            "x": [xs[last] + i * step for i in range(steps + 1)],
            "mean": [anchor, *predicted.mean],
            "lower": [anchor, *predicted.lower],
            "upper": [anchor, *predicted.upper],
            "level": predicted.level,
            "method": predicted.method,
        }
    return chart


def red_charts(store: Store, database: str, red: Red, rng: Range, beats: Mapping[str, Rows] | None = None
               ) -> list[Chart]:
    """The rate by class, error ratio and latency charts of a RED table; a bin is measured while
    the table receives or while an agent of a host that writes to it beats (``beats``:
    :func:`heartbeats`)."""
    bins, index = _bin_index(rng)
    rows = store.query(
        queries.rate_by_class(database, red, rng.start - lookback(rng), rng.end, rng.step)
    ).dicts()
    seconds = covered(rng, rows)
    if beats:
        hosts = store.query(queries.hosts_of(database, red.table, rng.start - lookback(rng), rng.end)).rows
        alive = covered(rng, [row for (host,) in hosts for row in beats.get(str(host), ())])
        seconds = [max(a, b) for a, b in zip(seconds, alive, strict=True)]
    partial = partial_bins(seconds, rng.step)
    counts: dict[str, list[int]] = {}
    for row in rows:
        slot = _slot(index, row["t"], rng.step)
        if slot is not None and epoch(row["last_time"]) >= rng.start.timestamp():
            counts.setdefault(str(row["class"]), [0] * len(bins))[slot] += int(row["n"])

    def rate(n: int, i: int) -> float | None:
        return n / seconds[i] if measured(seconds[i], rng.step) else None

    summary: list[dict[str, Any] | None] = [None] * len(bins)
    for row in store.query(queries.red_summary(database, red, rng.start, rng.end, rng.step)).dicts():
        slot = _slot(index, row["t"], rng.step)
        if slot is not None and measured(seconds[slot], rng.step):
            summary[slot] = row
    what = "requests" if red.is_http else "events"
    order = sorted(counts, key=lambda c: (CLASS_ORDER.index(c) if c in CLASS_ORDER else 9, c))
    real = [measured(s, rng.step) for s in seconds]
    total, band = stats.rate_baseline([sum(c[i] for c in counts.values()) if real[i] else None
                                       for i in range(len(bins))],
                                      [s if real[i] else None for i, s in enumerate(seconds)],
                                      partial=partial)
    rate_chart = {
        "id": f"{red.table}-rate",
        "title": f"{red.table}: {what} per second" + (" by status class" if red.is_http else " by level"),
        "unit": f"{what}/s",
        "x": bins,
        "series": [{"label": name, "values": [rate(n, i) for i, n in enumerate(counts[name])]}
                   for name in order]
        + [{"label": "total", "values": total}],
        "covered": seconds,
        "logs": {"table": red.table},
    }
    charts = [_with_axis(_analysed(rate_chart, "total", total, partial=partial, given=band))]
    if queries.error_condition(red):
        errors = [int(r["errors"] or 0) if r else None for r in summary]
        ratio, band = stats.ratio_baseline(errors, [int(r["n"] or 0) if r else None for r in summary],
                                           partial=partial)
        chart = {
            "id": f"{red.table}-errors",
            "title": f"{red.table}: error ratio"
            + (" (5xx)" if red.is_http else f" ({', '.join(red.error_levels)})"),
            "unit": "%",
            "x": bins,
            "series": [{"label": "errors %", "values": ratio}],
            "logs": {"table": red.table, "level": "errors"},
        }
        charts.append(_with_axis(_analysed(chart, "errors %", ratio, PERCENT, partial, band)))
    if red.duration:
        series = [{"label": f"p{q}", "values": [_float(r, f"p{q}") for r in summary]} for q in (50, 95, 99)]
        chart = {
            "id": f"{red.table}-latency",
            "title": f"{red.table}: latency",
            "unit": "s",
            "x": bins,
            "series": series,
            "logs": {"table": red.table},
        }
        p95: list[float | None] = [_float(r, "p95") for r in summary]
        few = [i for i, r in enumerate(summary) if r is not None and int(r["timed"] or 0) < MIN_TIMED]
        if few:
            chart["unjudged_note"] = (f"{len(few)} point(s) with fewer than {MIN_TIMED} timed {what}:"
                                      " their p95 is drawn, not judged")
        charts.append(_with_axis(_analysed(chart, "p95", p95, partial=partial, unjudged=few)))
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


def events_chart(store: Store, database: str, table: str, rng: Range, beats: Mapping[str, Rows] | None = None
                 ) -> Chart:
    """Events per second of each host: a gap where the host's rows had not begun or went stale and
    its agent did not beat."""
    rows = store.query(
        queries.events_by_host(database, table, rng.start - lookback(rng), rng.end, rng.step)
    ).dicts()
    bins, index = _bin_index(rng)
    by_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_host[str(row["host"])].append(row)
    series = []
    partial: set[int] = set()
    for host in sorted(by_host):
        seconds = covered(rng, [*by_host[host], *(beats or {}).get(host, ())])
        counts = [0] * len(bins)
        for row in by_host[host]:
            slot = _slot(index, row["t"], rng.step)
            if slot is not None and epoch(row["last_time"]) >= rng.start.timestamp():
                counts[slot] += int(row["n"])
        values = [n / seconds[i] if measured(seconds[i], rng.step) else None for i, n in enumerate(counts)]
        series.append({"label": host, "values": values})
        partial.update(partial_bins(seconds, rng.step))
    return _with_axis({
        "id": f"{table}-events",
        "title": f"{table}: events per second by host",
        "unit": "events/s",
        "x": bins,
        "series": series,
        "partial": sorted(partial),
        "logs": {"table": table},
    })


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


#: a sample's time and value, by bin
Samples = dict[int, tuple[float, float]]


def _gauge_values(series: dict[tuple[str, ...], Samples], counter: bool, step: int, part: int | None = None
                  ) -> dict[tuple[str, str | None], dict[int, float]]:
    """Per host (and value of the key's tag ``part``, when given) and bin: the sum over its
    series of their newest values (gauges) or of their rise per second between the newest samples
    of a bin and of the bin before (counters: over the seconds between the two samples, so a bin
    still filling is no cliff; a fall, a restart, counts nothing; samples further apart than a bin
    and :data:`STALE_SECONDS` make a gap)."""
    totals: dict[tuple[str, str | None], dict[int, float]] = defaultdict(dict)
    for key, points in series.items():
        host = (key[0], None if part is None else key[part])
        if counter:
            pairs = itertools.pairwise(sorted(points.items()))
            values = {
                bin_: (after - before) / (at - was)
                for (_, (was, before)), (bin_, (at, after)) in pairs
                if after >= before and 0 < at - was <= step + STALE_SECONDS
            }
        else:
            values = {bin_: value for bin_, (_, value) in points.items()}
        for bin_, value in values.items():
            totals[host][bin_] = totals[host].get(bin_, 0.0) + value
    return totals


def gauge_charts(store: Store, database: str, title: str, metrics: Metrics, rng: Range) -> list[Chart]:
    """One chart per kept metric of a metrics table: its value (a counter's rate) per host. The
    query reaches one bin back, so a counter has a rate in the range's first bin."""
    rows = store.query(
        queries.metric_values(database, metrics, metrics.names, rng.start - timedelta(seconds=rng.step),
                              rng.end, rng.step)
    ).dicts()
    by_name: dict[str, dict[tuple[str, ...], Samples]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        key = (str(row["host"]), *(str(row[tag]) for tag in metrics.tags))
        bin_ = int(epoch(row["t"])) // rng.step * rng.step
        by_name[str(row["name"])][key][bin_] = (epoch(row["last_time"]), float(row["v"]))
    bins, index = _bin_index(rng)
    charts = []
    for gauge in metrics.gauges:
        part = 1 + metrics.tags.index(gauge.split) if gauge.split else None
        totals = _gauge_values(by_name.get(gauge.name, {}), gauge.counter, rng.step, part)
        series = []
        for host, value_of in sorted(totals, key=lambda k: (k[0], k[1] or "")):
            values: list[float | None] = [None] * len(bins)
            for at, value in totals[(host, value_of)].items():
                if at in index:
                    values[index[at]] = value
            if all(v is None for v in values):
                continue
            if value_of is None:
                series.append({"label": host, "values": values})
            else:  # a part of a split gauge: drawn in its host's colour with its part's dash
                series.append({"label": f"{host} {value_of}", "values": values, "host": host,
                               "part": value_of})
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
    """Every chart of one service over ``rng`` (tables the store does not have yet are skipped),
    each with the one unit of its axis."""
    charts = _service_charts(store, database, service, rng, tables)
    return [_with_axis(c) if "unit" in c and "axis" not in c else c for c in charts]


def _service_charts(
    store: Store, database: str, service: Service, rng: Range, tables: set[str]
) -> list[Chart]:
    charts: list[Chart] = []
    if service.role == "host_metrics":
        for metrics in service.metrics:
            if metrics.table in tables:
                charts += host_charts(store, database, metrics.table, rng)
        return charts
    beats = heartbeats(store, database, rng, tables)
    done = set()
    for red in service.red:
        if red.table in tables:
            charts += red_charts(store, database, red, rng, beats)
            done.add(red.table)
    for metrics in service.metrics:
        if metrics.table in tables:
            charts += gauge_charts(store, database, service.title, metrics, rng)
    for table in service.tables:
        if table.name in tables and table.name not in done and table.is_log:
            charts.append(events_chart(store, database, table.name, rng, beats))
    return charts
