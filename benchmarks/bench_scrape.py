"""Scrape latency with 1,000 series cached, against serving an empty registry in the same run.

Scrapes never query the store: they format what the last poll left. This measures what that
costs: the median time of prometheus_client's ``generate_latest`` over Dendro's collector with
1,000 request series (250 hosts × 4 method/status classes, plus their histograms and liveness
gauges), divided by the median for an empty registry.
Run: ``.venv/bin/python benchmarks/bench_scrape.py``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, generate_latest

from dendro.exporter.collector import registry
from dendro.exporter.state import State
from dendro.metrics.aggregates import Aggregate, Cell, Histogram
from dendro.metrics.names import HTTP_BUCKETS

HOSTS = 250
COMBOS = (("GET", "2xx"), ("GET", "5xx"), ("POST", "2xx"), ("POST", "4xx"))
ROUNDS = 200


def loaded_state() -> State:
    aggregate = Aggregate()
    for i in range(HOSTS):
        cell = Cell("nginx_access", "nginx", "http", f"web-{i}", 1_800_000_000, events=40,
                    last=1_800_000_030.0)
        for combo in COMBOS:
            cell.requests[combo] = 10
        cell.duration = Histogram(HTTP_BUCKETS, [i % 7] * len(HTTP_BUCKETS), 40, 1.5)
        aggregate.add_cell(cell)
    state = State()
    state.apply(aggregate)
    state.record_poll(ok=True, duration=0.01, watermark=1_800_000_000.0)
    return state


def median_seconds(action: Callable[[], bytes]) -> float:
    for _ in range(10):
        action()
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    full = registry(loaded_state())
    empty = CollectorRegistry()
    lines = generate_latest(full).decode().splitlines()
    series = sum(1 for line in lines if line.startswith("dendro_http_requests"))
    loaded = median_seconds(lambda: generate_latest(full))
    bare = median_seconds(lambda: generate_latest(empty))
    print(f"request series: {series}; exposition: {len(generate_latest(full)) / 1024:.0f} KiB")
    print(f"scrape, 1,000 series cached: median {loaded * 1000:.2f} ms")
    print(f"scrape, empty registry:      median {bare * 1000:.3f} ms")
    print(f"ratio (1,000 series / empty): {loaded / bare:.0f}x")


if __name__ == "__main__":
    main()
