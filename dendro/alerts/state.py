"""The current state of each alert rule, where the backend can tell.

Locally the console evaluates each enabled rule's condition over the store's recent data (the
queries cost nothing there) as Prometheus and Grafana do: a series whose value crosses the
threshold is *active*; it is ``pending`` until the condition has held at every evaluation of the
rule's ``for`` (one a minute, the rule groups' interval), then ``firing`` (prometheus/prometheus
rules/alerting.go: an alert is created pending at its first active evaluation and fires once
``ts - ActiveAt >= holdDuration``; one evaluation without it ends it). The console keeps no state
between page views: when a series crosses now, it evaluates the same condition at the earlier
minutes of ``for`` (each query bounded by that evaluation time) to find since when it holds. A
rule is ``firing`` when one of its series fires, ``pending`` when one is pending, ``ok``
otherwise. The anomaly rules are evaluated as their inline PromQL reads
(the form Grafana evaluates; a test checks the number against promtool): the z-score of the
last 5 minutes' request rate (or p95 latency) against the mean and population standard
deviation of the 5-minute values over the rule's window (bins aligned to 5 minutes, as
Prometheus's ``[1d:5m]`` subquery; an empty bin is a rate of 0 once the host has been seen, and
has no p95), with the same traffic guard (the mean rate for the rate rule, the current rate for
the latency rule, at least ``min_rate``). A host with fewer than
:data:`~dendro.analysis.stats.MIN_HISTORY` bins of history has no baseline yet and is not judged.
Prometheus's own rules use recording rules that sample the 5-minute rate every minute, so their
z-score differs a little from this one.

``agent_silent`` looks at agents only: a host is an agent once it has sent a heartbeat (the
``agent`` table); a host that only ever arrived by backfill (``dendro ingest --host``) has none,
and is never silent. Silence is the time since the newest heartbeat, as the rule's PromQL reads
``dendro_last_event_timestamp_seconds{table="agent"}``.

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

from dendro.alerts import evaluation_sql
from dendro.alerts.durations import parse_duration
from dendro.alerts.kinds import Rule
from dendro.alerts.prometheus import INTERVAL
from dendro.analysis import charts, overview, queries, stats
from dendro.analysis.ranges import Range, epoch
from dendro.config import Config
from dendro.services import catalog
from dendro.services.base import Red
from dendro.services.internal import AGENT
from dendro.store.base import Store, StoreError
from dendro.store.sql import quote

CURRENT_WINDOW = 300  # seconds: the exporter's rules look at the last 5 minutes too
ANOMALY_STEP = 300  # seconds: the step of the anomaly rules' baseline subquery
#: seconds between two evaluations of a rule: the interval of Dendro's Prometheus and Grafana groups
EVALUATION_INTERVAL = parse_duration(INTERVAL)
DISK_STEP = 300  # seconds: the bins of the disk-forecast rule's used bytes
#: the columns that make up the line behind an alert, where the table has them
LINE_COLUMNS = ("message", "method", "path", "status", "duration")


@dataclass
class Active:
    """A series crossing its threshold now: since when the condition has held, and its state."""

    series: str
    since: datetime
    state: str  # pending or firing
    held_for: float = 0.0  # seconds from ``since`` to the evaluation
    value: str = ""  # the value shown now

    def to_json(self) -> dict[str, Any]:
        return {"series": self.series, "since": self.since.isoformat(), "state": self.state,
                "held_for": self.held_for, "value": self.value}


@dataclass
class RuleState:
    rule: Rule
    state: str  # firing, pending, ok, unknown, disabled, error
    detail: str = ""
    values: list[tuple[str, str]] = field(default_factory=list)  # (host or series, value shown)
    cause: dict[str, str] | None = None  # the newest line behind the alert (time, host, line)
    active: list[Active] = field(default_factory=list)  # the series crossing now, pending or firing
    crossing: list[str] = field(default_factory=list)  # series crossing at the evaluation time


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
    """Firing when any value crosses the threshold (in the rule's direction); ``for`` comes later."""
    limit = rule.threshold
    crossed = [k for k, v in values if (v < limit if rule.spec.op == "<" else v > limit)]
    shown = [(k, _fmt(rule, v)) for k, v in values]
    if not values:
        return RuleState(rule, "ok", f"no {what} in the window", [])
    state = "firing" if crossed else "ok"
    side = "above" if rule.spec.op == ">" else "below"
    return RuleState(rule, state, f"{len(crossed)} of {len(values)} {side} the threshold", shown,
                     crossing=crossed)


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


def _host_table(rule: Rule) -> str:
    """The metrics table of the rule's service, a ``host_metrics`` one (its host alert kinds)."""
    service = catalog().get(rule.service)
    tables = [m.table for m in service.metrics] if service and service.role == "host_metrics" else []
    return tables[0] if tables else rule.service


def _columns(service: str, table: str) -> set[str]:
    """The column names of a catalog table (empty when the catalog does not know it)."""
    found = catalog().get(service)
    return {c.name for t in (found.tables if found else ()) if t.name == table for c in t.columns}


Handler = Callable[[Rule, datetime], RuleState]


class LocalEvaluator:
    """Evaluates rules over a store whose queries cost nothing, at ``now`` (default: the clock)."""

    def __init__(self, store: Store, config: Config, now: datetime | None = None) -> None:
        self.store = store
        self.database = config.database
        self.tables = set(store.tables())
        self.now = now or datetime.now(UTC)
        self._history: dict[tuple[str, datetime], list[dict[str, Any]]] = {}
        self._only: set[str] | None = None  # while looking back: the series still holding (a hint)
        self._fits: dict[tuple[str, float, float, frozenset[str]], list[dict[str, Any]]] = {}

    def __call__(self, rule: Rule) -> RuleState:
        handler: Handler | None = getattr(self, f"_{rule.kind}", None)
        if handler is None:
            return RuleState(rule, "unknown", f"the console does not evaluate {rule.kind} rules")
        try:
            state = handler(rule, self.now)
            if state.crossing:
                self._hold(rule, handler, state)
            self._cause(rule, state)
        except StoreError as error:
            return RuleState(rule, "error", str(error))
        return state

    def _hold(self, rule: Rule, handler: Handler, state: RuleState) -> None:
        """Pending or firing per crossing series: the condition evaluated at each earlier minute
        of ``for`` tells since when it holds (the first minute without it ends the search)."""
        since = {key: self.now for key in state.crossing}
        held = set(since)
        for step in range(1, math.ceil(rule.for_s / EVALUATION_INTERVAL) + 1):
            at = self.now - timedelta(seconds=step * EVALUATION_INTERVAL)
            self._only = held
            try:
                held &= set(handler(rule, at).crossing)
            finally:
                self._only = None
            if not held:
                break
            for key in held:
                since[key] = at
        shown = dict(state.values)
        state.active = []
        for key in state.crossing:
            held_for = (self.now - since[key]).total_seconds()
            firing = "firing" if held_for >= rule.for_s else "pending"
            state.active.append(Active(key, since[key], firing, held_for, shown.get(key, "")))
        pending = sum(1 for a in state.active if a.state == "pending")
        state.state = "firing" if pending < len(state.active) else "pending"
        if pending:
            state.detail += f"; {pending} pending until it holds for {_duration(rule.for_s)}"

    def _missing(self, rule: Rule, table: str) -> RuleState:
        return RuleState(rule, "ok", f"no {table} table yet: nothing to alert on")

    def _window(self, at: datetime, seconds: int) -> tuple[datetime, datetime]:
        return at - timedelta(seconds=seconds), at

    # --- the line behind an alert ------------------------------------------------------------

    def _cause(self, rule: Rule, state: RuleState) -> None:
        """The newest line behind the rule: a matching event for the log-event rules; for the
        HTTP rules, the newest failing (or slow) request of a host crossing now."""
        start, end = self._window(self.now, rule.window_s or CURRENT_WINDOW)
        if rule.kind in ("log_events", "status_events") and rule.event and rule.event.table in self.tables:
            event = rule.event
            self._newest(state, rule.service, event.table, event.where, start, end)
        elif rule.kind in ("error_ratio", "latency_p95") and state.crossing:
            red = _red(rule)
            assert red is not None
            if rule.kind == "error_ratio":
                where = queries.error_condition(red) or "false"
            else:
                where = f"{quote(red.duration or 'duration')} > {rule.threshold!r}"
            self._newest(state, rule.service, red.table, where, start, end, state.crossing)

    def _newest(self, state: RuleState, service: str, table: str, where: str, start: datetime,
                end: datetime, hosts: list[str] | None = None) -> None:
        known = _columns(service, table)
        columns = [c for c in LINE_COLUMNS if c in known] or ["message"]
        sql = evaluation_sql.newest_where(self.database, table, columns, where, start, end, hosts or ())
        for row in self.store.query(sql).dicts():
            when = _utc(row["time"]).strftime("%Y-%m-%d %H:%M:%S UTC")
            state.cause = {"time": when, "host": str(row["host"]), "line": _line(row)}

    # --- one handler per kind, each at an evaluation time -------------------------------------

    def _log_events(self, rule: Rule, at: datetime) -> RuleState:
        event = rule.event
        assert event is not None
        if event.table not in self.tables:
            return self._missing(rule, event.table)
        start, end = self._window(at, rule.window_s or CURRENT_WINDOW)
        sql = evaluation_sql.count_where(self.database, event.table, event.where, start, end)
        rows = self.store.query(sql).dicts()
        return _judge(rule, [(str(r["host"]), float(r["n"])) for r in rows], f"{event.name} events")

    def _status_events(self, rule: Rule, at: datetime) -> RuleState:
        state = self._log_events(rule, at)
        if not state.values:
            return state
        total = sum(float(v) for _, v in state.values)
        result = _judge(rule, [("all hosts", total)], "events")
        result.values = [*state.values, ("all hosts", _fmt(rule, total))]
        return result

    def _http(self, rule: Rule, at: datetime, pick: Callable[[dict[str, Any]], float | None]) -> RuleState:
        red = _red(rule)
        if red is None or red.table not in self.tables:
            return self._missing(rule, red.table if red else rule.service)
        start, end = self._window(at, CURRENT_WINDOW)
        rows = self.store.query(evaluation_sql.red_between(self.database, red, start, end)).dicts()
        values = [(str(r["host"]), v) for r in rows if (v := pick(r)) is not None]
        state = _judge(rule, values, "requests")
        state.detail += f"; over the last {_duration(CURRENT_WINDOW)}"
        return state

    def _error_ratio(self, rule: Rule, at: datetime) -> RuleState:
        return self._http(rule, at,
                          lambda r: 100.0 * float(r["errors"] or 0) / float(r["n"]) if r["n"] else None)

    def _latency_p95(self, rule: Rule, at: datetime) -> RuleState:
        return self._http(rule, at, lambda r: float(r["p95"]) if r["p95"] is not None else None)

    def _rate_anomaly(self, rule: Rule, at: datetime) -> RuleState:
        return self._anomaly(rule, at, latency=False)

    def _latency_anomaly(self, rule: Rule, at: datetime) -> RuleState:
        return self._anomaly(rule, at, latency=True)

    def _baseline_bins(self, rule: Rule, red: Red, end: datetime, window: int
                       ) -> dict[str, dict[datetime, tuple[int, float | None]]]:
        """Requests and p95 per host and 5-minute bin over the window before ``end`` (read once per
        ``end``: the earlier minutes of ``for`` share most of them)."""
        key = (rule.name, end)
        if key not in self._history:
            sql = queries.requests_by_host(self.database, red, end - timedelta(seconds=window), end,
                                           ANOMALY_STEP)
            self._history[key] = self.store.query(sql).dicts()
        history: dict[str, dict[datetime, tuple[int, float | None]]] = {}
        for row in self._history[key]:
            history.setdefault(str(row["host"]), {})[_utc(row["t"])] = (int(row["n"]), row["p95"])
        return history

    def _anomaly(self, rule: Rule, at: datetime, latency: bool) -> RuleState:
        red = _red(rule)
        if red is None or red.table not in self.tables:
            return self._missing(rule, red.table if red else rule.service)
        step, window = ANOMALY_STEP, rule.window_s or 86_400
        end = datetime.fromtimestamp(at.timestamp() // step * step, UTC)
        history = self._baseline_bins(rule, red, end, window)
        recent = queries.requests_by_host(self.database, red, at - timedelta(seconds=step), at)
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

    def _agent_silent(self, rule: Rule, at: datetime) -> RuleState:
        """Seconds since each agent's newest heartbeat: hosts without one are no agents."""
        if AGENT.name not in self.tables:
            return self._missing(rule, AGENT.name)
        start, end = self._window(at, overview.AGENT_DAYS * 86_400)
        rows = self.store.query(evaluation_sql.last_heartbeats(self.database, start, end)).dicts()
        silent = [(str(r["host"]), max(0.0, at.timestamp() - epoch(r["last_time"]))) for r in rows]
        return _judge(rule, silent, "agent heartbeats")

    def _latest(self, rule: Rule, at: datetime, used: str, total: str) -> RuleState:
        table = _host_table(rule)
        if table not in self.tables:
            return self._missing(rule, table)
        start, end = self._window(at, CURRENT_WINDOW * 2)
        query = evaluation_sql.host_latest(self.database, table, (used, total), start, end)
        rows = self.store.query(query).dicts()
        latest: dict[str, dict[str, float]] = {}
        for row in rows:
            key = str(row["host"]) + (f":{row['mountpoint']}" if row["mountpoint"] else "")
            latest.setdefault(key, {})[str(row["name"])] = float(row["v"])
        values = [
            (k, 100.0 * v[used] / v[total]) for k, v in sorted(latest.items()) if v.get(total) and used in v
        ]
        return _judge(rule, values, "samples")

    def _memory(self, rule: Rule, at: datetime) -> RuleState:
        return self._latest(rule, at, "memory_used_bytes", "memory_total_bytes")

    def _disk(self, rule: Rule, at: datetime) -> RuleState:
        return self._latest(rule, at, "filesystem_used_bytes", "filesystem_total_bytes")

    def _cpu(self, rule: Rule, at: datetime) -> RuleState:
        table = _host_table(rule)
        if table not in self.tables:
            return self._missing(rule, table)
        rng = Range(at - timedelta(minutes=15), at, 300, "custom")
        query = queries.host_cpu(self.database, table, rng.start, rng.end, rng.step)
        rows = self.store.query(query).dicts()
        values = []
        for series in charts.cpu_busy(rows, rng):
            known = [v for v in series["values"] if v is not None]
            if known:
                values.append((str(series["label"]), known[-1]))
        return _judge(rule, values, "CPU samples")

    def _disk_forecast(self, rule: Rule, at: datetime) -> RuleState:
        if _host_table(rule) not in self.tables:
            return self._missing(rule, _host_table(rule))
        window = rule.window_s or 21_600
        rng = Range(at - timedelta(seconds=window), at, DISK_STEP, "custom")
        rows = self._disk_rows(rule, rng)
        if at == self.now:
            disks = charts.disk_usage(rows, rng)[1]
        else:  # earlier minutes that take the same whole bins give the same fits: fit them once
            times = [epoch(r["t"]) for r in rows]
            series = frozenset(f"{r['host']}:{r['mountpoint']}" for r in rows)
            key = (rule.name, min(times, default=0.0), max(times, default=0.0), series)
            if key not in self._fits:
                self._fits[key] = charts.disk_usage(rows, rng)[1]
            disks = self._fits[key]
        values = [
            (f"{d['host']}:{d['mountpoint']}", float(d["full_in_seconds"]))
            for d in disks
            if d["full_in_seconds"] is not None
        ]
        state = _judge(rule, values, "filling filesystems")
        if not values and disks:
            state.detail = f"{len(disks)} filesystem(s), none filling over the last {_duration(window)}"
        return state


    def _disk_rows(self, rule: Rule, rng: Range) -> list[dict[str, Any]]:
        """Used and total bytes per 5-minute bin over ``rng``. At ``now``, one query; for the earlier
        minutes of ``for`` (an hour: sixty windows of six hours), the bins are read once, back to
        the earliest window, and each earlier window takes its whole bins (a bin still filling at
        that minute would hold later samples)."""
        if rng.end == self.now:
            sql = queries.host_disk(self.database, _host_table(rule), rng.start, rng.end, rng.step)
            return self.store.query(sql).dicts()
        key = (rule.name, self.now)
        if key not in self._history:
            start = self.now - timedelta(seconds=(rule.window_s or 21_600) + rule.for_s)
            sql = queries.host_disk(self.database, _host_table(rule), start, self.now, rng.step)
            self._history[key] = self.store.query(sql).dicts()
        first, end, only = rng.start.timestamp(), rng.end.timestamp(), self._only
        return [r for r in self._history[key] if first <= epoch(r["t"]) and epoch(r["t"]) + rng.step <= end
                and (only is None or f"{r['host']}:{r['mountpoint']}" in only)]


def _line(row: dict[str, Any]) -> str:
    """The raw line of an event, or its request in a few words when none was kept."""
    if row.get("message"):
        return str(row["message"])
    parts = [str(row[c]) for c in ("method", "path", "status") if row.get(c) is not None]
    if row.get("duration") is not None:
        parts.append(f"{float(row['duration']):.3f}s")
    return " ".join(parts)


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
