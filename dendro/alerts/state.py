"""The current state of each alert rule, where the backend can tell.

Locally the console evaluates each enabled rule's condition over the store's recent data (the
queries cost nothing there): a rule is ``firing`` when its current value crosses the threshold
for some host, ``ok`` otherwise. A rule also has a ``for`` duration; the console shows the
current value only and says so. The anomaly rules are evaluated as their inline PromQL reads
(the form Grafana evaluates; a test checks the number against promtool): the z-score of the
last 5 minutes' request rate (or p95 latency) against the mean and population standard
deviation of the 5-minute values over the rule's window (bins aligned to 5 minutes, as
Prometheus's ``[1d:5m]`` subquery; an empty bin is a rate of 0 once the host has been seen, and
has no p95), with the same traffic guard (the mean rate for the rate rule, the current rate for
the latency rule, at least ``min_rate``). A host with fewer than
:data:`~dendro.analysis.stats.MIN_HISTORY` bins of history has no baseline yet and is not judged
(Prometheus would wait out the rule's ``for`` instead; this page does not wait). Prometheus's
own rules use recording rules that sample the 5-minute rate every minute, so their z-score
differs a little from this one.

On AWS every query is billed, so the console runs none for this page: the rules CloudWatch
evaluates (the log-event alarms the pipeline deploys, named ``<pipeline>-<rule>``) show their
alarm state; the others are evaluated by Grafana or Prometheus and are ``unknown`` here.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dendro.alerts.kinds import Rule
from dendro.analysis import charts, overview, queries, stats
from dendro.analysis.ranges import Range
from dendro.config import Config
from dendro.services import catalog
from dendro.services.base import Red
from dendro.store.base import Store, StoreError

CURRENT_WINDOW = 300  # seconds: the exporter's rules look at the last 5 minutes too
ANOMALY_STEP = 300  # seconds: the step of the anomaly rules' baseline subquery


@dataclass
class RuleState:
    rule: Rule
    state: str  # firing, ok, unknown, disabled, error
    detail: str = ""
    values: list[tuple[str, str]] = field(default_factory=list)  # (host or series, value shown)
    cause: dict[str, str] | None = None  # log-event rules: the newest matching line (time, host, line)


def _fmt(rule: Rule, value: float) -> str:
    unit = rule.spec.unit
    if unit == "percent":
        return f"{value:.2f}%"
    if unit in ("seconds", "horizon"):
        return f"{value:.3f}s" if value < 10 else _duration(value)
    return f"{value:g}"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}{'' if seconds % size == 0 else ' ' + _duration(seconds % size)}"
    return f"{seconds}s"


def _judge(rule: Rule, values: list[tuple[str, float]], what: str) -> RuleState:
    """Firing when any value crosses the threshold (in the rule's direction)."""
    limit = rule.threshold
    crossed = [(k, v) for k, v in values if (v < limit if rule.spec.op == "<" else v > limit)]
    shown = [(k, _fmt(rule, v)) for k, v in values]
    if not values:
        return RuleState(rule, "ok", f"no {what} in the window", [])
    state = "firing" if crossed else "ok"
    detail = (
        f"{len(crossed)} of {len(values)} above the threshold"
        if rule.spec.op == ">"
        else f"{len(crossed)} of {len(values)} below the threshold"
    )
    return RuleState(rule, state, detail, shown)


def zscore(value: float, history: list[float]) -> float | None:
    """``|value - mean| / stddev`` of the history (population deviation, as ``stddev_over_time``).

    A flat history gives infinity for any other value and None (PromQL's NaN: no alert) for the
    same one.
    """
    if not history:
        return None
    mean = statistics.fmean(history)
    spread = statistics.pstdev(history, mean)
    if spread == 0:
        return math.inf if value != mean else None
    return abs(value - mean) / spread


def _red(rule: Rule) -> Red | None:
    service = catalog().get(rule.service)
    return next((r for r in service.red if r.is_http), None) if service else None


class LocalEvaluator:
    """Evaluates rules over a store whose queries cost nothing."""

    def __init__(self, store: Store, config: Config, now: datetime | None = None) -> None:
        self.store = store
        self.database = config.database
        self.tables = set(store.tables())
        self.now = now or datetime.now(UTC)

    def __call__(self, rule: Rule) -> RuleState:
        handler: Callable[[Rule], RuleState] | None = getattr(self, f"_{rule.kind}", None)
        if handler is None:
            return RuleState(rule, "unknown", f"the console does not evaluate {rule.kind} rules")
        try:
            return handler(rule)
        except StoreError as error:
            return RuleState(rule, "error", str(error))

    def _missing(self, rule: Rule, table: str) -> RuleState:
        return RuleState(rule, "ok", f"no {table} table yet: nothing to alert on")

    def _log_events(self, rule: Rule) -> RuleState:
        event = rule.event
        assert event is not None
        if event.table not in self.tables:
            return self._missing(rule, event.table)
        window = rule.window_s or CURRENT_WINDOW
        table, where = event.table, event.where
        rows = self.store.query(queries.count_where(self.database, table, where, window)).dicts()
        state = _judge(rule, [(str(r["host"]), float(r["n"])) for r in rows], f"{event.name} events")
        for row in self.store.query(queries.latest_where(self.database, table, where, window)).dicts():
            line = str(row["message"] or "")  # the line behind the alert (the query keeps the newest)
            state.cause = {"time": str(row["time"]), "host": str(row["host"]), "line": line}
        return state

    def _status_events(self, rule: Rule) -> RuleState:
        state = self._log_events(rule)
        if not state.values:
            return state
        total = sum(float(v) for _, v in state.values)
        result = _judge(rule, [("all hosts", total)], "events")
        result.values = [*state.values, ("all hosts", _fmt(rule, total))]
        result.cause = state.cause
        return result

    def _http(self, rule: Rule, pick: Callable[[dict[str, Any]], float | None]) -> RuleState:
        red = _red(rule)
        if red is None or red.table not in self.tables:
            return self._missing(rule, red.table if red else rule.service)
        rows = self.store.query(queries.red_now(self.database, red, CURRENT_WINDOW)).dicts()
        values = [(str(r["host"]), v) for r in rows if (v := pick(r)) is not None]
        state = _judge(rule, values, "requests")
        state.detail += (
            f"; over the last {_duration(CURRENT_WINDOW)} (fires once it holds for {_duration(rule.for_s)})"
        )
        return state

    def _error_ratio(self, rule: Rule) -> RuleState:
        return self._http(rule, lambda r: 100.0 * float(r["errors"] or 0) / float(r["n"]) if r["n"] else None)

    def _latency_p95(self, rule: Rule) -> RuleState:
        return self._http(rule, lambda r: float(r["p95"]) if r["p95"] is not None else None)

    def _rate_anomaly(self, rule: Rule) -> RuleState:
        return self._anomaly(rule, latency=False)

    def _latency_anomaly(self, rule: Rule) -> RuleState:
        return self._anomaly(rule, latency=True)

    def _anomaly(self, rule: Rule, latency: bool) -> RuleState:
        red = _red(rule)
        if red is None or red.table not in self.tables:
            return self._missing(rule, red.table if red else rule.service)
        step, window = ANOMALY_STEP, rule.window_s or 86_400
        end = datetime.fromtimestamp(self.now.timestamp() // step * step, UTC)
        query = queries.requests_by_host(self.database, red, end - timedelta(seconds=window), end, step)
        history: dict[str, dict[datetime, tuple[int, float | None]]] = {}
        for row in self.store.query(query).dicts():
            history.setdefault(str(row["host"]), {})[_utc(row["t"])] = (int(row["n"]), row["p95"])
        recent = queries.requests_by_host(self.database, red, self.now - timedelta(seconds=step), self.now)
        current = {str(r["host"]): r for r in self.store.query(recent).dicts()}
        values, quiet = [], 0
        for host in sorted(history.keys() | current.keys()):
            now = current.get(host)
            rate = float(now["n"]) / step if now else 0.0
            bins = history.get(host, {})
            if latency:
                value = float(now["p95"]) if now and now["p95"] is not None else None
                series = [float(p95) for _, p95 in bins.values() if p95 is not None]
                busy = rate
            else:
                value, series = rate, _rates(bins, end, step)
                busy = statistics.fmean(series) if series else 0.0
            # a baseline of a few bins is no baseline (one bin has no deviation: z is infinite)
            enough = len(series) >= stats.MIN_HISTORY
            z = zscore(value, series) if value is not None and enough else None
            if z is None or busy < (rule.min_rate or 0.0):
                quiet += 1
            else:
                values.append((host, z))
        state = _judge(rule, values, "host with enough traffic")
        what = "p95 latency" if latency else "request rate"
        state.detail += (
            f"; z-score of the last {_duration(step)}'s {what} against its {_duration(step)} values over"
            f" the last {_duration(window)}"
        )
        if quiet:
            state.detail += f"; {quiet} host(s) under {rule.min_rate or 0:g} requests/s or without a baseline"
        return state

    def _agent_silent(self, rule: Rule) -> RuleState:
        rows = overview.hosts(self.store, self.database, rule.threshold, self.now)
        return _judge(rule, [(h.host, h.silent_for) for h in rows], "hosts")

    def _latest(self, rule: Rule, used: str, total: str) -> RuleState:
        if "host" not in self.tables:
            return self._missing(rule, "host")
        rows = self.store.query(queries.host_latest(self.database, (used, total), CURRENT_WINDOW * 2)).dicts()
        latest: dict[str, dict[str, float]] = {}
        for row in rows:
            key = str(row["host"]) + (f":{row['mountpoint']}" if row["mountpoint"] else "")
            latest.setdefault(key, {})[str(row["name"])] = float(row["v"])
        values = [
            (k, 100.0 * v[used] / v[total]) for k, v in sorted(latest.items()) if v.get(total) and used in v
        ]
        return _judge(rule, values, "samples")

    def _memory(self, rule: Rule) -> RuleState:
        return self._latest(rule, "memory_used_bytes", "memory_total_bytes")

    def _disk(self, rule: Rule) -> RuleState:
        return self._latest(rule, "filesystem_used_bytes", "filesystem_total_bytes")

    def _cpu(self, rule: Rule) -> RuleState:
        if "host" not in self.tables:
            return self._missing(rule, "host")
        rng = Range(self.now - timedelta(minutes=15), self.now, 300, "custom")
        rows = self.store.query(queries.host_cpu(self.database, rng.start, rng.end, rng.step)).dicts()
        values = []
        for series in charts.cpu_busy(rows, rng):
            known = [v for v in series["values"] if v is not None]
            if known:
                values.append((str(series["label"]), known[-1]))
        return _judge(rule, values, "CPU samples")

    def _disk_forecast(self, rule: Rule) -> RuleState:
        if "host" not in self.tables:
            return self._missing(rule, "host")
        window = rule.window_s or 21_600
        rng = Range(self.now - timedelta(seconds=window), self.now, 300, "custom")
        rows = self.store.query(queries.host_disk(self.database, rng.start, rng.end, rng.step)).dicts()
        _, disks = charts.disk_usage(rows, rng)
        values = [
            (f"{d['host']}:{d['mountpoint']}", float(d["full_in_seconds"]))
            for d in disks
            if d["full_in_seconds"] is not None
        ]
        state = _judge(rule, values, "filling filesystems")
        if not values and disks:
            state.detail = f"{len(disks)} filesystem(s), none filling over the last {_duration(window)}"
        return state


def _rates(bins: dict[datetime, tuple[int, float | None]], end: datetime, step: int) -> list[float]:
    """Requests/s of every bin from the host's first one to ``end``: an empty bin is a rate of 0."""
    if not bins:
        return []
    first = min(bins)
    count = int((end - first).total_seconds()) // step
    return [bins.get(first + timedelta(seconds=i * step), (0, None))[0] / step for i in range(count)]


def _utc(value: Any) -> datetime:
    """A bin's start as an aware UTC datetime (the store returns naive UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cloudwatch_states(config: Config, rules: list[Rule], client: Any = None) -> list[RuleState]:
    """Alarm states of the rules CloudWatch evaluates; the others are unknown (no billed query)."""
    alarms: dict[str, dict[str, Any]] = {}
    problem = ""
    try:
        if client is None:
            import boto3

            client = boto3.client(
                "cloudwatch",
                region_name=config.aws.region,
                endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
            )
        for page in client.get_paginator("describe_alarms").paginate(AlarmNamePrefix=f"{config.pipeline}-"):
            alarms.update({a["AlarmName"]: a for a in page.get("MetricAlarms", [])})
    except Exception as error:  # botocore raises many kinds; the page says what went wrong
        problem = f"CloudWatch alarms could not be read ({type(error).__name__}: {error})"
    states = []
    for rule in rules:
        alarm = alarms.get(f"{config.pipeline}-{rule.name}")
        if not rule.enabled:
            states.append(RuleState(rule, "disabled"))
        elif alarm is not None:
            value = alarm.get("StateValue", "INSUFFICIENT_DATA")
            state = {"ALARM": "firing", "OK": "ok"}.get(value, "unknown")
            states.append(RuleState(rule, state, f"CloudWatch alarm {alarm['AlarmName']}: {value}"))
        elif problem and "cloudwatch" in rule.targets:
            states.append(RuleState(rule, "unknown", problem))
        else:
            where = (
                "CloudWatch (alarm not deployed)"
                if rule.targets == ("cloudwatch",)
                else "Grafana or Prometheus"
            )
            states.append(
                RuleState(rule, "unknown", f"evaluated by {where}; the console runs no billed query")
            )
    return states


def states(store: Store, config: Config, rules: list[Rule], now: datetime | None = None) -> list[RuleState]:
    if config.backend == "aws":
        return cloudwatch_states(config, rules)
    evaluate = LocalEvaluator(store, config, now)
    return [evaluate(rule) if rule.enabled else RuleState(rule, "disabled") for rule in rules]
