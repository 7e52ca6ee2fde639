"""The prometheus_client custom collector: fresh metric families from the state on every scrape.

A scrape never queries a store: it reads what the polls accumulated (every HELP text says so).
The collector registers nothing at import; :func:`registry` builds a registry holding it, and
tests pass their own :class:`~dendro.exporter.state.State`.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from dendro.exporter.gauges import service_families
from dendro.exporter.state import HostGauges, Snapshot, State
from dendro.metrics import names
from dendro.metrics.aggregates import Histogram, MetricsMap

FROM_POLL = " (from the exporter's last poll; scrapes never query the store)"


def _histogram(name: str, doc: str, series: dict[tuple[str, str], Histogram]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc + FROM_POLL, labels=["service", "host"])
    for (service, host), hist in sorted(series.items()):
        buckets: list[tuple[str, float]] = [
            (_le(bound), float(count)) for bound, count in zip(hist.bounds, hist.buckets, strict=True)
        ]
        buckets.append(("+Inf", float(hist.count)))
        family.add_metric([service, host], buckets, hist.total)
    return family


def _le(bound: float) -> str:
    return repr(float(bound))


def red_families(data: Snapshot) -> Iterator[Metric]:
    requests = CounterMetricFamily(names.HTTP_REQUESTS, "HTTP requests by status class" + FROM_POLL,
                                   labels=["service", "host", "method", "code"])
    for labels, count in sorted(data.http_requests.items()):
        requests.add_metric(list(labels), count)
    yield requests
    yield _histogram(names.HTTP_DURATION, "HTTP request duration in seconds", data.http_duration)
    errors = CounterMetricFamily(names.DB_ERRORS, "Database log entries at an error level" + FROM_POLL,
                                 labels=["service", "host", "level"])
    for db_labels, count in sorted(data.db_errors.items()):
        errors.add_metric(list(db_labels), count)
    yield errors
    yield _histogram(names.DB_STATEMENT_DURATION, "Logged statement duration in seconds", data.db_duration)


def event_families(data: Snapshot) -> Iterator[Metric]:
    events = CounterMetricFamily(names.EVENTS, "Events stored, by table and host" + FROM_POLL,
                                 labels=["table", "host"])
    last = GaugeMetricFamily(names.LAST_EVENT, "Time of the newest event of each table and host" + FROM_POLL,
                             labels=["table", "host"])
    for (table, host), count in sorted(data.events.items()):
        events.add_metric([table, host], count)
        if (table, host) in data.last_event:
            last.add_metric([table, host], data.last_event[(table, host)])
    yield events
    yield last
    late = CounterMetricFamily(names.LATE_EVENTS, "Events stored after their window was counted: not in the"
                               " RED metrics (raise the delay if this grows)" + FROM_POLL, labels=["table"])
    for table, count in sorted(data.late_events.items()):
        late.add_metric([table], count)
    yield late
    rejected = CounterMetricFamily(names.REJECTED_EVENTS, "Events refused by the local store or the AWS"
                                   " loader (the rejected table, the bucket's rejected/ prefix), by the"
                                   " table they were meant for (unknown: their type matched no table)"
                                   + FROM_POLL, labels=["table"])
    for table, count in sorted(data.rejected_events.items()):
        rejected.add_metric([table], count)
    yield rejected


def _memory_ratio(gauges: HostGauges) -> float | None:
    total = gauges.value("memory_total_bytes")
    if not total:
        return None
    available = gauges.value("memory_available_bytes")
    if available is not None:
        return 1.0 - available / total
    used = gauges.value("memory_used_bytes")
    return used / total if used is not None else None


def _filesystems(gauges: HostGauges) -> dict[str, tuple[float | None, float | None]]:
    """mountpoint → (used ratio, free bytes)."""
    result: dict[str, tuple[float | None, float | None]] = {}
    for mountpoint in sorted({tags.get("mountpoint", "") for tags, _ in gauges.series("filesystem_")} - {""}):
        ratio = gauges.value_where("filesystem_used_ratio", mountpoint=mountpoint)
        total = gauges.value_where("filesystem_total_bytes", mountpoint=mountpoint)
        used = gauges.value_where("filesystem_used_bytes", mountpoint=mountpoint)
        if ratio is None and total and used is not None:
            ratio = used / total
        result[mountpoint] = (ratio, gauges.value_where("filesystem_free_bytes", mountpoint=mountpoint))
    return result


def host_families(data: Snapshot) -> Iterator[Metric]:
    def gauge(name: str, doc: str, extra: list[str] | None = None) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, doc + FROM_POLL, labels=["host", *(extra or [])])

    cpu = gauge(names.HOST_CPU, "Share of CPU time not idle between the last two host metric samples")
    memory = gauge(names.HOST_MEMORY, "Share of memory in use (1 - available / total)")
    fs_used = gauge(names.HOST_FILESYSTEM, "Share of the filesystem in use", ["mountpoint"])
    fs_free = gauge(names.HOST_FILESYSTEM_FREE, "Free bytes of the filesystem", ["mountpoint"])
    load_names = (("load1", names.HOST_LOAD1), ("load5", names.HOST_LOAD5), ("load15", names.HOST_LOAD15))
    loads = {n: gauge(metric, f"Load average over {n[4:]} minute(s)") for n, metric in load_names}
    rx = CounterMetricFamily(names.HOST_NET_RX, "Bytes received, as the host counts them" + FROM_POLL,
                             labels=["host", "device"])
    tx = CounterMetricFamily(names.HOST_NET_TX, "Bytes sent, as the host counts them" + FROM_POLL,
                             labels=["host", "device"])
    for host, gauges in sorted(data.hosts.items()):
        if gauges.cpu_ratio is not None:
            cpu.add_metric([host], gauges.cpu_ratio)
        ratio = _memory_ratio(gauges)
        if ratio is not None:
            memory.add_metric([host], ratio)
        for mountpoint, (used, free) in _filesystems(gauges).items():
            if used is not None:
                fs_used.add_metric([host, mountpoint], used)
            if free is not None:
                fs_free.add_metric([host, mountpoint], free)
        for name, family in loads.items():
            value = gauges.value(name)
            if value is not None:
                family.add_metric([host], value)
        for name, counter in (("network_receive_bytes_total", rx), ("network_transmit_bytes_total", tx)):
            for tags, value in gauges.series(name, exact=True):
                counter.add_metric([host, tags.get("device", "")], value)
    yield from (cpu, memory, fs_used, fs_free, *loads.values(), rx, tx)


def self_families(data: Snapshot) -> Iterator[Metric]:
    yield GaugeMetricFamily(names.EXPORTER_UP, "1 if the exporter's last poll of the store succeeded,"
                            " else 0", value=1.0 if data.up else 0.0)
    yield GaugeMetricFamily(names.POLL_DURATION, "Seconds the exporter's last poll took",
                            value=data.poll_duration)
    if data.watermark is not None:
        yield GaugeMetricFamily(names.EXPORTER_WATERMARK, "Events older than this time are counted"
                                " (the end of the last settled window)", value=data.watermark)
    yield CounterMetricFamily(names.STORE_QUERIES, "Queries the exporter sent to the store",
                              value=data.store_queries)
    yield CounterMetricFamily(names.STORE_QUERY_ERRORS, "Store queries or S3 requests of the exporter"
                              " that failed", value=data.store_query_errors)
    yield CounterMetricFamily(names.STORE_BYTES_SCANNED, "Bytes the store scanned for the exporter's queries",
                              value=data.bytes_scanned)
    s3 = CounterMetricFamily(names.S3_REQUESTS, "S3 requests the exporter made, by operation",
                             labels=["operation"])
    for operation, count in sorted(data.s3_requests.items()):
        s3.add_metric([operation], count)
    yield s3


class DendroCollector(Collector):
    """Exposes a :class:`State`; builds fresh families on every ``collect()``.

    A collect is a scrape: the label sets it returns at 0 for the first time get their held
    increments right after it (see :mod:`dendro.exporter.state`), so the next scrape shows them.
    """

    def __init__(self, state: State, kept: MetricsMap | None = None) -> None:
        self.state = state
        self.kept = kept  # the services' kept metrics (None: the catalog's)

    def collect(self) -> Iterator[Metric]:
        with self.state.scraping() as data:
            families = [*red_families(data), *event_families(data), *host_families(data)]
            families += service_families(data, FROM_POLL, self.kept)
            families += self_families(data)
        yield from families


def registry(state: State, kept: MetricsMap | None = None) -> CollectorRegistry:
    """A registry with only Dendro's collector (no process or platform collectors)."""
    result = CollectorRegistry(auto_describe=False)
    result.register(DendroCollector(state, kept))
    return result
