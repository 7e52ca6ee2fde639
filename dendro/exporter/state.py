"""What the exporter exposes, accumulated from the increments each poll brings.

Polls add :class:`~dendro.metrics.aggregates.Aggregate` increments here; scrapes read a
consistent :class:`Snapshot` of it. Counters and histograms only grow (a restart starts them at
zero, which Prometheus reads as a counter reset); host gauges keep the newest value seen, and
the CPU utilisation ratio comes from the change of ``cpu_seconds_total`` between two samples;
the metrics other services keep (``Service.metrics``) keep their newest value per service and host.

**New label sets are held at zero until a scrape has returned them.** ``rate()`` and
``increase()`` only count what a series gained between two samples in their range, so a series
whose first sample already holds its first poll's count hides that count for ever (five FATAL
lines from a host that had none yet would never fire an alert). Every label set the exporter
creates itself (the RED counters and histograms, ``dendro_events_total``, the late and rejected
counts) therefore first appears at 0; its increments wait in :class:`Held` until one scrape has
returned the series at 0, and are added right after that scrape, so the next scrape shows them,
whatever the scrape and poll intervals. Counters the hosts keep themselves (network bytes) are
not held: their first value is the host's own count since boot, not something new.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dendro.metrics.aggregates import Aggregate, AggregateError, Cell, Histogram, MetricKey, method_label

IDLE_MODES = frozenset({"idle"})


@dataclass
class CpuSample:
    when: float
    total: float
    idle: float


@dataclass
class HostGauges:
    """The newest host metric values of one host, and the CPU ratio derived from them."""

    metrics: dict[MetricKey, tuple[float, float]] = field(default_factory=dict)  # → (time, value)
    cpu_sample: CpuSample | None = None
    cpu_ratio: float | None = None

    def update(self, key: MetricKey, when: float, value: float) -> None:
        known = self.metrics.get(key)
        if known is None or when >= known[0]:
            self.metrics[key] = (when, value)

    def refresh_cpu(self) -> None:
        """Recompute the utilisation ratio if ``cpu_seconds_total`` moved since the last sample."""
        cpu = [(dict(tags), when, value) for (name, tags), (when, value) in self.metrics.items()
               if name == "cpu_seconds_total"]
        if not cpu:
            return
        sample = CpuSample(
            when=max(when for _, when, _ in cpu),
            total=sum(value for _, _, value in cpu),
            idle=sum(value for tags, _, value in cpu if tags.get("mode") in IDLE_MODES),
        )
        previous = self.cpu_sample
        if previous is not None and sample.when <= previous.when:
            return
        self.cpu_sample = sample
        if previous is None:
            return
        spent = sample.total - previous.total
        idle = sample.idle - previous.idle
        if spent > 0 and 0 <= idle <= spent:  # a reboot resets the counters: wait for the next sample
            self.cpu_ratio = (spent - idle) / spent

    def value(self, name: str, **tags: str) -> float | None:
        """The newest value of the series with exactly these tags."""
        wanted = tuple(sorted(tags.items()))
        found = [(when, value) for (n, t), (when, value) in self.metrics.items() if n == name and t == wanted]
        return max(found)[1] if found else None

    def value_where(self, name: str, **tags: str) -> float | None:
        """The newest value among the series of ``name`` whose tags include these."""
        found = [(when, value) for (n, t), (when, value) in self.metrics.items()
                 if n == name and all(dict(t).get(k) == v for k, v in tags.items())]
        return max(found)[1] if found else None

    def series(self, name: str, exact: bool = False) -> list[tuple[dict[str, str], float]]:
        """(tags, value) of every series named ``name`` (or starting with it unless ``exact``)."""
        return [(dict(t), value) for (n, t), (_, value) in sorted(self.metrics.items())
                if n == name or (not exact and n.startswith(name))]


@dataclass
class Snapshot:
    """A consistent copy of everything a scrape exposes."""

    # service, host, method, code
    http_requests: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    http_duration: dict[tuple[str, str], Histogram] = field(default_factory=dict)  # service, host
    db_errors: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # service, host, level
    db_duration: dict[tuple[str, str], Histogram] = field(default_factory=dict)
    events: Counter[tuple[str, str]] = field(default_factory=Counter)  # table, host
    last_event: dict[tuple[str, str], float] = field(default_factory=dict)
    late_events: Counter[str] = field(default_factory=Counter)  # table
    rejected_events: Counter[str] = field(default_factory=Counter)  # table (or "unknown")
    hosts: dict[str, HostGauges] = field(default_factory=dict)
    #: (service, host) → the newest values of the metrics the service keeps (every role but host's)
    gauges: dict[tuple[str, str], HostGauges] = field(default_factory=dict)
    # the exporter itself
    up: bool = False
    polls: int = 0
    poll_duration: float = 0.0
    watermark: float | None = None
    store_queries: int = 0
    store_query_errors: int = 0
    bytes_scanned: int = 0
    s3_requests: Counter[str] = field(default_factory=Counter)  # operation


#: the Snapshot fields of counters the exporter creates (label sets held at 0 until scraped)
HELD_COUNTERS = ("http_requests", "db_errors", "events", "late_events", "rejected_events")
#: the Snapshot fields of histograms the exporter creates (held the same way)
HELD_HISTOGRAMS = ("http_duration", "db_duration")


@dataclass
class Held:
    """Increments of label sets exposed at 0 that no scrape has returned yet, by Snapshot field."""

    counts: dict[str, Counter[Any]] = field(default_factory=lambda: {f: Counter() for f in HELD_COUNTERS})
    histograms: dict[str, dict[Any, Histogram]] = field(
        default_factory=lambda: {f: {} for f in HELD_HISTOGRAMS})

    def add_count(self, data: Snapshot, name: str, key: Any, count: int) -> None:
        """Add ``count`` to the counter ``name`` of ``data``, or hold it if ``key`` is new or unscraped."""
        exposed: Counter[Any] = getattr(data, name)
        if key not in exposed:
            exposed[key] = 0
            self.counts[name][key] = 0
        if key in self.counts[name]:
            self.counts[name][key] += count
        else:
            exposed[key] += count

    def add_histogram(self, data: Snapshot, name: str, key: tuple[str, str], hist: Histogram) -> None:
        exposed: dict[tuple[str, str], Histogram] = getattr(data, name)
        held = self.histograms[name]
        if key not in exposed:
            exposed[key] = Histogram(hist.bounds)
            held[key] = Histogram(hist.bounds)
        _add_histogram(held if key in held else exposed, key, hist)

    def release(self, data: Snapshot) -> None:
        """Add every held increment to ``data`` (its label sets were just scraped at 0)."""
        for name, held in self.counts.items():
            exposed: Counter[Any] = getattr(data, name)
            for key, count in held.items():
                exposed[key] += count
            held.clear()
        for name, hists in self.histograms.items():
            for key, hist in hists.items():
                _add_histogram(getattr(data, name), key, hist)
            hists.clear()


class State:
    """The exporter's accumulated metrics, shared by the poller (writer) and scrapes (readers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data = Snapshot()
        self._held = Held()

    def apply(self, aggregate: Aggregate, late: Mapping[str, int] | None = None) -> None:
        """Add one poll's increments (all of them or, if this raises, none)."""
        with self._lock:
            data = self._data
            _check_buckets(data, aggregate)
            touched: set[str] = set()
            for cell in aggregate.cells.values():
                _add_cell(data, self._held, cell)
                if cell.kind == "host":
                    touched.add(cell.host)
            for host in touched:
                data.hosts[host].refresh_cpu()
            for table, count in aggregate.rejected.items():
                if count:
                    self._held.add_count(data, "rejected_events", table, count)
            for table, count in (late or {}).items():
                if count:
                    self._held.add_count(data, "late_events", table, count)

    def record_usage(self, *, queries: int = 0, errors: int = 0, bytes_scanned: int = 0,
                     s3: Mapping[str, int] | None = None) -> None:
        with self._lock:
            self._data.store_queries += queries
            self._data.store_query_errors += errors
            self._data.bytes_scanned += bytes_scanned
            for operation, count in (s3 or {}).items():
                self._data.s3_requests[operation] += count

    def record_poll(self, *, ok: bool, duration: float, watermark: float | None) -> None:
        with self._lock:
            self._data.up = ok
            self._data.polls += 1
            self._data.poll_duration = duration
            if watermark is not None:
                self._data.watermark = watermark

    def snapshot(self) -> Snapshot:
        """A copy of everything counted, held increments included (for tests and reports);
        scrapes use :meth:`scraping` and copy nothing."""
        with self._lock:
            data = copy.deepcopy(self._data)
            copy.deepcopy(self._held).release(data)
            return data

    @contextmanager
    def scraping(self) -> Iterator[Snapshot]:
        """The live data as a scrape exposes it, with polls held off until the block ends; once
        the block has read it, the held increments of the label sets it exposed are added."""
        with self._lock:
            yield self._data
            self._held.release(self._data)


def _check_buckets(data: Snapshot, aggregate: Aggregate) -> None:
    for cell in aggregate.cells.values():
        if cell.duration is None:
            continue
        target = data.http_duration if cell.kind == "http" else data.db_duration
        known = target.get((cell.service, cell.host))
        if known is not None and known.bounds != cell.duration.bounds:
            raise AggregateError(
                f"{cell.table}: histogram buckets {cell.duration.bounds} differ from {known.bounds}"
            )


def _add_histogram(target: dict[tuple[str, str], Histogram], key: tuple[str, str], hist: Histogram) -> None:
    known = target.get(key)
    if known is None:
        target[key] = Histogram(hist.bounds, list(hist.buckets), hist.count, hist.total)
    else:
        known.merge(hist)


def _add_cell(data: Snapshot, held: Held, cell: Cell) -> None:
    where = (cell.table, cell.host)
    held.add_count(data, "events", where, cell.events)
    if cell.events:
        data.last_event[where] = max(data.last_event.get(where, 0.0), cell.last)
    if cell.kind == "http":
        for (method, code), count in cell.requests.items():
            labels = (cell.service, cell.host, method_label(method), code)
            held.add_count(data, "http_requests", labels, count)
        if cell.duration is not None:
            held.add_histogram(data, "http_duration", (cell.service, cell.host), cell.duration)
    elif cell.kind == "db":
        for level, count in cell.errors.items():
            held.add_count(data, "db_errors", (cell.service, cell.host, level), count)
        if cell.duration is not None:
            held.add_histogram(data, "db_duration", (cell.service, cell.host), cell.duration)
    if cell.kind == "host":
        gauges = data.hosts.setdefault(cell.host, HostGauges())
    elif cell.metrics:
        gauges = data.gauges.setdefault((cell.service, cell.host), HostGauges())
    else:
        return
    for key, (when, value) in cell.metrics.items():
        gauges.update(key, when, value)
