"""The above/below cases of each rule kind, and the promtool test file they make up.

See :mod:`tests.alerts.promtests` for the helpers and why values are what they are.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from dendro.alerts.kinds import Rule
from dendro.alerts.promql import query
from dendro.metrics import names
from tests.alerts.promtests import (
    HOST,
    PER_MINUTE,
    Case,
    above,
    below,
    bucket_quantile,
    bucket_series,
    bucket_shares,
    counter,
    expected_alert,
    minutes,
    notation,
    requests_series,
    selector,
)


def _error_ratio(rule: Rule, fire: bool) -> Case:
    t = rule.metric_threshold
    ratio = above(t, 1.0) if fire else below(t)
    end = minutes(300 + rule.for_s) + 1
    series = requests_series(rule.service, [PER_MINUTE * (1 - ratio)] * end)
    if ratio:
        series |= requests_series(rule.service, [PER_MINUTE * ratio] * end, code="5xx")
    labels = {"service": rule.service, "host": HOST}
    alerts = [expected_alert(rule, labels, ratio)] if fire else []
    return Case(f"{rule.name}: {ratio:.2%} of requests fail", series, end, alerts)


def _latency(rule: Rule, fire: bool) -> Case:
    p95 = above(rule.threshold, names.HTTP_BUCKETS[-1]) if fire else below(rule.threshold)
    end = minutes(300 + rule.for_s) + 1
    series = bucket_series(rule.service, [bucket_shares(p95)] * end)
    value = bucket_quantile(0.95, bucket_shares(p95))
    alerts = [expected_alert(rule, {"service": rule.service, "host": HOST}, value)] if fire else []
    return Case(f"{rule.name}: p95 latency {p95:g}s", series, end, alerts)


def _log_events(rule: Rule, fire: bool) -> Case:
    window = rule.window_s // 60
    end = window + minutes(rule.for_s) + 1
    per_window = (int(rule.threshold) + 1) if fire else below(rule.threshold)
    per_minute = per_window / window
    level = rule.levels[0]
    key = selector(names.DB_ERRORS, service=rule.service, host=HOST, level=level)
    labels = {"service": rule.service, "host": HOST, "level": level}
    alerts = [expected_alert(rule, labels, per_minute * window)] if fire else []
    return Case(
        f"{rule.name}: {per_window:g} events in {window}m", {key: counter([per_minute] * end)}, end, alerts
    )


def _agent_silent(rule: Rule, fire: bool) -> Case:
    stop = 10  # the agent's last event, in minutes
    silent = minutes(rule.threshold) + minutes(rule.for_s) + 1 if fire else int(rule.threshold // 60)
    end = stop + silent
    values = [60.0 * min(m, stop) for m in range(end + 1)]
    key = selector(names.LAST_EVENT, table="agent", host=HOST)
    alerts = [expected_alert(rule, {"host": HOST}, silent * 60.0)] if fire else []
    return Case(f"{rule.name}: silent for {silent}m", {key: values}, end, alerts)


def _gauge(metric: str, extra: dict[str, str]) -> Callable[[Rule, bool], Case]:
    def build(rule: Rule, fire: bool) -> Case:
        value = above(rule.metric_threshold, 1.0) if fire else below(rule.metric_threshold)
        end = minutes(rule.for_s) + 2
        labels = {"host": HOST, **extra}
        alerts = [expected_alert(rule, labels, value)] if fire else []
        return Case(
            f"{rule.name}: at {value:.1%}", {selector(metric, **labels): [value] * (end + 1)}, end, alerts
        )

    return build


def _forecast(rule: Rule, fire: bool) -> Case:
    per_minute = 1e6  # bytes used a minute
    horizon = rule.threshold / 60
    end = 2 + minutes(rule.for_s) + 1
    # firing: full in 0.9 × the horizon from the start; silent: still 1.05 × the horizon at the end
    free = per_minute * horizon * 0.9 if fire else per_minute * (horizon * 1.05 + end)
    labels = {"host": HOST, "mountpoint": "/"}
    values = [free - per_minute * m for m in range(end + 1)]
    alerts = [expected_alert(rule, labels, None)] if fire else []
    return Case(
        f"{rule.name}: full in {free / per_minute:g}m",
        {selector(names.HOST_FILESYSTEM_FREE, **labels): values},
        end,
        alerts,
    )


# --- anomalies: a day of history, then a level found by simulating the recording rules ----------


def _zscores(values: list[float], window: int, start: int) -> list[float]:
    """z of each minute from ``start``: |v - mean| / stddev over the window (closed range)."""
    result = []
    for m in range(start, len(values)):
        past = values[m - window : m + 1]
        result.append(abs(values[m] - statistics.fmean(past)) / statistics.pstdev(past))
    return result


def _rate5m(increments: list[float]) -> list[float]:
    values = counter(increments)
    return [(values[m] - values[m - 5]) / 300 if m >= 5 else 0.0 for m in range(len(values))]


Signal = Callable[[float, int], tuple[list[Any], list[float]]]


def _find_level(rule: Rule, fire: bool, signal: Signal) -> tuple[float, int]:
    """The anomalous level (added to the busy hour's) and the minute to evaluate at.

    ``signal(level, minutes)`` gives the per-minute inputs and the simulated recorded series.
    Firing: z stays 15% above the threshold over the whole ``for``; silent: z stays 15% under
    it from the start of the anomaly to the end. Bisection, z grows with the level.
    """
    window = rule.window_s // 60
    history = window + 30
    end = history + 5 + minutes(rule.for_s) + 3
    watched = range(end - minutes(rule.for_s), end + 1) if fire else range(history, end + 1)

    def z(level: float) -> float:
        zs = _zscores(signal(level, end)[1], window, watched.start)
        return min(zs) if fire else max(zs)

    goal = rule.threshold * (1.15 if fire else 0.85)
    lo, hi = 0.0, 1.0
    while z(hi) < goal:
        hi *= 2
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if z(mid) < goal else (lo, mid)
    return (hi if fire else lo), end


def _history(level: float, end: int, window: int, quiet: float, busy: float) -> list[float]:
    """Hourly blocks alternating quiet/busy for a day and a half hour, then busy + ``level``."""
    history = window + 30
    return [(quiet if (m // 60) % 2 == 0 else busy) if m < history else busy + level for m in range(end)]


def _rate_anomaly(rule: Rule, fire: bool) -> Case:
    quiet = max(10.0, 2 * (rule.min_rate or 0))  # requests a second, above the traffic guard
    window = rule.window_s // 60

    def signal(level: float, end: int) -> tuple[list[Any], list[float]]:
        increments = [r * 60 for r in _history(level, end, window, quiet, 2 * quiet)]
        return increments, _rate5m(increments)

    level, end = _find_level(rule, fire, signal)
    key = selector(names.HTTP_REQUESTS, service=rule.service, host=HOST, method="GET", code="2xx")
    series = {key: counter(signal(level, end)[0])}
    alerts = [expected_alert(rule, {"service": rule.service, "host": HOST}, None)] if fire else []
    return Case(f"{rule.name}: +{level:.3g} req/s over the busy hour", series, end, alerts)


def _latency_anomaly(rule: Rule, fire: bool) -> Case:
    window = rule.window_s // 60
    quiet, busy = 0.2, 0.4  # p95 seconds of the hourly blocks

    def signal(level: float, end: int) -> tuple[list[Any], list[float]]:
        p95s = [min(p, 9.5) for p in _history(level, end, window, quiet, busy)]
        shares = [bucket_shares(p) for p in p95s]
        recorded = [0.0] * 5
        for m in range(5, len(shares) + 1):
            recorded.append(bucket_quantile(0.95, [sum(col) for col in zip(*shares[m - 5 : m], strict=True)]))
        return shares, recorded

    level, end = _find_level(rule, fire, signal)
    per_minute = max(PER_MINUTE, 120 * (rule.min_rate or 0))
    series = bucket_series(rule.service, signal(level, end)[0]) | requests_series(
        rule.service, [per_minute] * end
    )
    alerts = [expected_alert(rule, {"service": rule.service, "host": HOST}, None)] if fire else []
    return Case(f"{rule.name}: p95 +{level:.3g}s over the busy hour", series, end, alerts)


BUILDERS: dict[str, Callable[[Rule, bool], Case]] = {
    "error_ratio": _error_ratio,
    "latency_p95": _latency,
    "log_events": _log_events,
    "agent_silent": _agent_silent,
    "cpu": _gauge(names.HOST_CPU, {}),
    "memory": _gauge(names.HOST_MEMORY, {}),
    "disk": _gauge(names.HOST_FILESYSTEM, {"mountpoint": "/"}),
    "disk_forecast": _forecast,
    "rate_anomaly": _rate_anomaly,
    "latency_anomaly": _latency_anomaly,
}


def cases(rule: Rule) -> list[Case]:
    """The firing and the silent case of a rule Prometheus can express."""
    if query(rule) is None or not rule.enabled:
        return []
    build = BUILDERS[rule.kind]
    return [build(rule, True), build(rule, False)]


def promtool_tests(rule_files: list[str], rules: list[Rule]) -> dict[str, Any]:
    """promtool's unit test file: one test group per case."""
    tests = []
    for rule in rules:
        for case in cases(rule):
            tests.append(
                {
                    "name": case.title,
                    "interval": "1m",
                    "input_series": [{"series": s, "values": notation(v)} for s, v in case.series.items()],
                    "alert_rule_test": [
                        {
                            "eval_time": f"{case.eval_minute}m",
                            "alertname": rule.name,
                            "exp_alerts": case.alerts,
                        }
                    ],
                }
            )
    return {"rule_files": rule_files, "evaluation_interval": "1m", "tests": tests}
