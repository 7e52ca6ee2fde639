"""The local source over a real DuckDB store: windows, late events, failures, host gauges."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from dendro.exporter.local_source import LocalSource
from dendro.exporter.poller import Poller
from dendro.exporter.state import State
from dendro.store.local import LocalStore
from tests.exporter.helpers import (
    T0,
    Clock,
    FlakyStore,
    access,
    local_store,
    metric,
    pg,
    refused,
    table_roles,
    tables,
)

DELAY = 60.0


@pytest.fixture()
def store(tmp_path: Path) -> LocalStore:
    return local_store(tmp_path)


def make(store: object, clock: Clock, state: State) -> tuple[LocalSource, Poller]:
    source = LocalSource(store, tables(), table_roles(), delay=DELAY, usage=state.record_usage,  # type: ignore[arg-type]
                         clock=clock)
    return source, Poller(source, state, interval=15)


def test_counts_requests_errors_and_durations_exactly(store: LocalStore) -> None:
    clock, state = Clock(), State()
    _, poller = make(store, clock, state)
    store.write([access(T0 + 1, status=200, duration=0.004), access(T0 + 2, status=200, duration=0.3),
                 access(T0 + 3, status=503, duration=2.0, method="POST"),
                 access(T0 + 4, host_name="web-2", status=404),
                 access(T0 + 5, status=200, duration=None, method="BREW"),
                 pg(T0 + 1, "ERROR"), pg(T0 + 2, "LOG", duration=0.2), pg(T0 + 3, "FATAL"),
                 pg(T0 + 4, "ERROR")])
    clock.advance(DELAY + 10)
    assert poller.poll_once()
    data = state.snapshot()
    assert dict(data.http_requests) == {
        ("nginx", "web-1", "GET", "2xx"): 2, ("nginx", "web-1", "POST", "5xx"): 1,
        ("nginx", "web-2", "GET", "4xx"): 1, ("nginx", "web-1", "other", "2xx"): 1,
    }
    hist = data.http_duration[("nginx", "web-1")]
    assert hist.count == 3 and hist.total == pytest.approx(2.304)
    assert dict(zip(hist.bounds, hist.buckets, strict=True))[0.005] == 1
    assert dict(zip(hist.bounds, hist.buckets, strict=True))[0.5] == 2
    assert hist.buckets[-1] == 3
    assert dict(data.db_errors) == {("postgres", "db-1", "error"): 2, ("postgres", "db-1", "fatal"): 1}
    assert data.db_duration[("postgres", "db-1")].count == 1
    assert data.events[("nginx_access", "web-1")] == 4 and data.events[("postgres", "db-1")] == 4
    assert data.last_event[("nginx_access", "web-1")] == T0 + 5
    assert data.up and data.watermark == T0 + 10


def test_events_within_the_delay_count_once_and_late_ones_show_as_late(store: LocalStore) -> None:
    clock, state = Clock(), State()
    _, poller = make(store, clock, state)
    store.write([access(T0 + 1)])
    clock.advance(30)
    store.write([access(T0 + 2)])  # 28 s after its time: within the delay
    clock.advance(40)  # settled up to T0 + 10
    poller.poll_once()
    clock.advance(15)
    poller.poll_once()
    store.write([access(T0 + 3), access(T0 + 4)])  # 81 s after their time: their window was read
    clock.advance(15)
    poller.poll_once()
    clock.advance(15)
    poller.poll_once()
    data = state.snapshot()
    assert data.http_requests[("nginx", "web-1", "GET", "2xx")] == 2
    assert dict(data.late_events) == {"nginx_access": 2}


def test_a_restart_starts_at_now_minus_delay_and_counts_nothing_twice(store: LocalStore) -> None:
    clock = Clock()
    first_state = State()
    _, first = make(store, clock, first_state)
    store.write([access(T0 + 1), access(T0 + 2)])
    clock.advance(DELAY + 5)
    first.poll_once()
    assert first_state.snapshot().http_requests[("nginx", "web-1", "GET", "2xx")] == 2
    clock.advance(5)
    second_state = State()  # a new process: new counters, window from now - delay
    _, second = make(store, clock, second_state)
    store.write([access(clock.now - 1)])
    clock.advance(DELAY + 5)
    second.poll_once()
    assert second_state.snapshot().http_requests[("nginx", "web-1", "GET", "2xx")] == 1
    assert not second_state.snapshot().late_events


def test_a_store_failure_sets_up_to_0_keeps_values_and_the_next_poll_catches_up(store: LocalStore) -> None:
    clock, state = Clock(), State()
    flaky = FlakyStore(store)
    _, poller = make(flaky, clock, state)
    store.write([access(T0 + 1)])
    clock.advance(DELAY + 5)
    assert poller.poll_once()
    flaky.down = True
    store.write([access(T0 + 20), access(T0 + 30, status=500)])
    for _ in range(3):
        clock.advance(15)
        assert not poller.poll_once()
    data = state.snapshot()
    assert not data.up and data.store_query_errors == 3
    assert data.http_requests[("nginx", "web-1", "GET", "2xx")] == 1  # last values kept
    flaky.down = False
    clock.advance(15)
    assert poller.poll_once()
    data = state.snapshot()
    assert data.up
    assert data.http_requests[("nginx", "web-1", "GET", "2xx")] == 2
    assert data.http_requests[("nginx", "web-1", "GET", "5xx")] == 1
    assert not data.late_events


def test_queries_per_poll_do_not_grow_with_hosts(store: LocalStore) -> None:
    per_poll = []
    for hosts in (1, 50):
        clock, state = Clock(), State()
        _, poller = make(store, clock, state)
        store.write([access(clock.now + i % 10, host_name=f"web-{i}") for i in range(hosts)])
        clock.advance(DELAY + 15)
        poller.poll_once()
        before = state.snapshot().store_queries
        clock.advance(15)
        poller.poll_once()
        per_poll.append(state.snapshot().store_queries - before)
        store.write([])
    # every table but rejected, + late events, + refused events
    assert per_poll[0] == per_poll[1] == len(store.tables()) - 1 + 2


def test_host_gauges_from_host_metrics(store: LocalStore) -> None:
    clock, state = Clock(), State()
    _, poller = make(store, clock, state)
    store.write([
        metric(T0 + 1, "cpu_seconds_total", 100, cpu="0", mode="idle"),
        metric(T0 + 1, "cpu_seconds_total", 50, cpu="0", mode="user"),
        metric(T0 + 1, "memory_total_bytes", 1000), metric(T0 + 1, "memory_available_bytes", 250),
        metric(T0 + 1, "filesystem_used_ratio", 0.4, mountpoint="/", device="sda1"),
        metric(T0 + 1, "filesystem_free_bytes", 600, mountpoint="/", device="sda1"),
        metric(T0 + 1, "load1", 0.5), metric(T0 + 1, "network_receive_bytes_total", 42, device="eth0"),
        metric(T0 + 1, "disk_read_bytes_total", 7, device="sda"),  # not exposed
    ])
    clock.advance(DELAY + 5)
    poller.poll_once()
    store.write([metric(T0 + 16, "cpu_seconds_total", 103, cpu="0", mode="idle"),
                 metric(T0 + 16, "cpu_seconds_total", 59, cpu="0", mode="user")])
    clock.advance(15)
    poller.poll_once()
    gauges = state.snapshot().hosts["web-1"]
    assert gauges.cpu_ratio == pytest.approx(0.75)  # 9 busy seconds of 12
    assert gauges.value("memory_available_bytes") == 250
    assert gauges.value_where("filesystem_used_ratio", mountpoint="/") == 0.4
    assert gauges.value("disk_read_bytes_total") is None


class WallClock:
    """Real time plus a shift the test sets: the rejected table's ``time`` is when the store
    refused the event, by the real clock, so the source's windows must follow it."""

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.time() + self.shift


def test_refused_events_count_once_by_table_in_settled_windows(store: LocalStore) -> None:
    clock, state = WallClock(), State()
    source = LocalSource(store, tables(), table_roles(), delay=DELAY, usage=state.record_usage, clock=clock)
    poller = Poller(source, state, interval=15)
    first: list[Any] = refused(T0)
    assert len(store.write(first).rejected) == len(first)
    assert poller.poll_once()  # the window ends a delay ago: nothing refused is settled yet
    assert not state.snapshot().rejected_events
    clock.shift = DELAY  # everything refused so far is now a delay old
    assert poller.poll_once()
    expected = {"nginx_access": 1, "postgres": 1, "unknown": 4}
    assert dict(state.snapshot().rejected_events) == expected
    store.write([access(T0), refused(T0)[0]])  # one more, after the last window: the next one counts it
    for _ in range(3):
        time.sleep(0.01)
        assert poller.poll_once()
    assert dict(state.snapshot().rejected_events) == {**expected, "nginx_access": 2}
    assert not state.snapshot().late_events


def test_refused_events_are_not_counted_before_the_source_started(store: LocalStore) -> None:
    store.write(refused(T0))
    time.sleep(0.01)
    clock, state = WallClock(), State()
    clock.shift = DELAY  # the source starts after every refusal
    source = LocalSource(store, tables(), table_roles(), delay=DELAY, usage=state.record_usage, clock=clock)
    for _ in range(2):
        time.sleep(0.01)
        assert Poller(source, state, interval=15).poll_once()
    assert not state.snapshot().rejected_events
