"""Property: over random event times, arrival lags, poll times and restarts, every event is counted
at most once; exactly once when it arrives before the poll that reads its window; and one that
arrives after it shows in dendro_late_events_total if a later poll of the same process runs."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dendro.exporter.local_source import LocalSource
from dendro.exporter.poller import Poller
from dendro.exporter.state import State
from tests.exporter.helpers import T0, Clock, access, local_store, table_roles, tables

DELAY_MS = 5_000


@dataclass
class Run:
    start: int  # ms, when the process started
    polls: list[int]


def expected(t: int, a: int, runs: list[Run]) -> tuple[int, int]:
    """(counted, late) for an event with time t and arrival a, from the definition."""
    for run in runs:
        if t < run.start - DELAY_MS:
            continue
        reading = [p for p in run.polls if p - DELAY_MS > t]
        if not reading:
            continue
        first = reading[0]
        if a <= first:
            return 1, 0
        return 0, int(any(p >= a for p in run.polls))
    return 0, 0


events_strategy = st.lists(st.tuples(st.integers(0, 60_000), st.integers(0, 12_000)), min_size=1, max_size=20)
polls_strategy = st.lists(st.tuples(st.integers(1, 90_000), st.booleans()), min_size=1, max_size=12,
                          unique_by=lambda x: x[0])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=events_strategy, polls=polls_strategy)
def test_no_event_is_counted_twice_and_none_is_lost_within_the_delay(
    events: list[tuple[int, int]], polls: list[tuple[int, bool]]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = local_store(Path(directory))
        clock = Clock(T0)
        runs = [Run(0, [])]
        states = [State()]
        source = LocalSource(store, tables(), table_roles(), delay=DELAY_MS / 1000,
                             usage=states[0].record_usage, clock=clock)
        actions = sorted([(t + lag, 0, i) for i, (t, lag) in enumerate(events)]
                         + [(p, 1, int(restart)) for p, restart in polls])
        for when, kind, value in actions:
            clock.now = T0 + when / 1000
            if kind == 0:
                t = events[value][0]
                store.write([access(T0 + t / 1000, host_name=f"h{value}")])
                continue
            if value:  # restart: a new process, new counters, a window from now - delay
                runs.append(Run(when, []))
                states.append(State())
                source = LocalSource(store, tables(), table_roles(), delay=DELAY_MS / 1000,
                                     usage=states[-1].record_usage, clock=clock)
            runs[-1].polls.append(when)
            assert Poller(source, states[-1], 1).poll_once()
        store.close()
    late = 0
    for i, (t, lag) in enumerate(events):
        counted = sum(s.snapshot().events[("nginx_access", f"h{i}")] for s in states)
        want_counted, want_late = expected(t, t + lag, runs)
        assert counted == want_counted, (i, t, t + lag, runs)
        late += want_late
    assert sum(s.snapshot().late_events["nginx_access"] for s in states) == late
