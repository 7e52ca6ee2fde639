"""The console evaluates the anomaly rules as their PromQL reads, on the local store.

Known traffic over the last two hours, a fixed evaluation time, and the expected z-scores
computed here from the event list itself (bins counted independently of the store's SQL).
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dendro.alerts.model import rules
from dendro.alerts.state import LocalEvaluator, RuleState, zscore
from dendro.config import from_dict
from dendro.runtime.datadir import DataDir
from dendro.runtime.stores import open_store
from tests.web.data import stamp

NOW = datetime(2026, 11, 26, 12, 2, 30, tzinfo=UTC)
END = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # NOW aligned down to 5 minutes
STEP = 300


def access(host: str, at: datetime, duration: float) -> dict[str, Any]:
    return {"type": "nginx_access", "host": host, "timestamp": stamp(at), "method": "GET",
            "path": "/", "status": 200, "bytes": 1, "duration": duration}


def traffic() -> list[dict[str, Any]]:
    """24 bins of history per host (alternating 50/70 requests), then the last minute."""
    events = []
    for b in range(24):
        start = END - timedelta(seconds=STEP * (24 - b))
        count = 50 if b % 2 else 70
        for host in ("steady", "spike"):
            for i in range(count):
                duration = 0.1 + 0.01 * (b % 3) + 0.001 * (i % 10)  # p95 0.109, 0.119, 0.129
                events.append(access(host, start + timedelta(seconds=(i * 4) % STEP), duration))
        events.append(access("quiet", start + timedelta(seconds=5), 0.1))
        if b >= 21:  # a host first seen 15 minutes ago: three bins are no baseline yet
            events += [access("new", start + timedelta(seconds=i * 5), 0.1) for i in range(60)]
    recent = NOW - timedelta(seconds=60)
    for i in range(60):  # the usual: 60 requests in the last 5 minutes, usual latency
        events.append(access("steady", recent + timedelta(milliseconds=500 * i), 0.11 + 0.001 * (i % 10)))
    for i in range(600):  # ten times the usual, ten times slower
        events.append(access("spike", recent + timedelta(milliseconds=50 * i), 1.0 + 0.001 * i))
        events.append(access("new", recent + timedelta(milliseconds=50 * i), 1.0))
    return events


def rates(events: list[dict[str, Any]], host: str) -> tuple[float, list[float]]:
    """The rule's current rate and its 5-minute history, counted from the events themselves."""
    times = [datetime.fromisoformat(e["timestamp"]) for e in events if e["host"] == host]
    start = datetime.fromtimestamp(min(times).timestamp() // STEP * STEP, UTC)  # the first bin
    history = []
    while start < END:
        history.append(sum(start <= t < start + timedelta(seconds=STEP) for t in times) / STEP)
        start += timedelta(seconds=STEP)
    current = sum(NOW - timedelta(seconds=STEP) <= t < NOW for t in times) / STEP
    return current, history


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RuleState]:
    directory: Path = tmp_path_factory.mktemp("anomaly-store")
    config = from_dict({
        "services": {"nginx": {}},
        "local": {"data_dir": str(directory)},
        "alerts": {"rules": {"nginx": {"rate_anomaly": {"min_rate": 0.1},
                                       "latency_anomaly": {"min_rate": 0.1}}}},
    })
    store = open_store(config, DataDir(directory))
    try:
        assert not store.write(traffic()).rejected
        evaluate = LocalEvaluator(store, config, NOW)
        return {r.kind: evaluate(r) for r in rules(config) if r.kind.endswith("_anomaly")}
    finally:
        store.close()


def test_a_rate_ten_times_the_usual_is_pending_and_the_usual_is_not(evaluated: dict[str, RuleState]) -> None:
    """The spike began a minute ago: it crosses now, but fires only after the rule's 15m ``for``."""
    state = evaluated["rate_anomaly"]
    assert state.state == "pending"
    assert [(a.series, a.state) for a in state.active] == [("spike", "pending")]
    assert NOW - timedelta(minutes=15) < state.active[0].since <= NOW
    shown = dict(state.values)
    assert set(shown) == {"steady", "spike"}  # "quiet" is under min_rate, "new" has no baseline yet
    events = traffic()
    for host in ("steady", "spike"):
        current, history = rates(events, host)
        assert len(history) == 24
        expected = abs(current - statistics.fmean(history)) / statistics.pstdev(history)
        assert float(shown[host]) == pytest.approx(expected, rel=1e-5)
    assert float(shown["spike"]) > 3 > float(shown["steady"])
    assert "2 host(s) under 0.1 requests/s or without a baseline" in state.detail
    assert "over the last 1d" in state.detail


def test_a_latency_ten_times_the_usual_is_pending(evaluated: dict[str, RuleState]) -> None:
    state = evaluated["latency_anomaly"]
    assert state.state == "pending" and [a.series for a in state.active] == ["spike"]
    shown = {host: float(z) for host, z in state.values}
    assert shown["spike"] > 3 > shown["steady"]
    assert "new" not in shown


def test_zscore_reads_as_promql() -> None:
    assert zscore(5.0, [1.0, 3.0]) == pytest.approx(3.0)  # mean 2, population deviation 1
    assert zscore(2.0, [2.0, 2.0]) is None  # NaN in PromQL: no alert
    assert zscore(2.5, [2.0, 2.0]) == float("inf")
    assert zscore(1.0, []) is None
