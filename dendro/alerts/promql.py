"""PromQL of each rule over the exporter's metrics, and the recording rules it relies on.

Each rule gives two forms of the same value: ``recorded`` reads the recording rules
(``level:metric:operations``) that the Prometheus rule file also defines, ``inline`` computes
everything itself (subqueries for the baselines), so Grafana's alerting needs no recording rule
loaded in Prometheus. The alert is ``<value> <op> <metric threshold>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from dendro.alerts.durations import format_duration
from dendro.alerts.kinds import Rule
from dendro.metrics import names
from dendro.services.internal import AGENT

RATE = "5m"  # the rate window of every RED recording rule


@dataclass(frozen=True)
class Recording:
    record: str
    expr: str


@dataclass(frozen=True)
class Query:
    """A rule's value in two forms, the comparison, and a guard (minimum traffic) if any.

    The guard is a boolean filter on (service, host): the alert fires only where it holds.
    """

    recorded: str
    inline: str
    op: str
    threshold: float
    recordings: tuple[Recording, ...] = ()
    guard_recorded: str = ""
    guard_inline: str = ""

    @property
    def alert_expr(self) -> str:
        expr = f"{self.recorded} {self.op} {self.threshold:g}"
        return f"{expr} and on (service, host) {self.guard_recorded}" if self.guard_recorded else expr

    @property
    def grafana_expr(self) -> str:
        """The value Grafana's threshold compares: guarded series only (``and`` keeps the left values)."""
        if self.guard_inline:
            return f"({self.inline}) and on (service, host) {self.guard_inline}"
        return self.inline


def _sel(**labels: str) -> str:
    """A label selector; a value starting with ``~`` is a regex match."""
    matchers = [f'{k}=~"{v[1:]}"' if v.startswith("~") else f'{k}="{v}"' for k, v in labels.items()]
    return "{" + ", ".join(matchers) + "}"


# --- recording rules --------------------------------------------------------------------------

REQUESTS = "service_host:dendro_http_requests:rate5m"
ERRORS = "service_host:dendro_http_requests_5xx:rate5m"
ERROR_RATIO = "service_host:dendro_http_requests_5xx:ratio_rate5m"
BUCKETS = "service_host_le:dendro_http_request_duration_seconds_bucket:rate5m"
P95 = "service_host:dendro_http_request_duration_seconds:p95_rate5m"


def _requests(selector: str = "") -> str:
    return f"sum by (service, host) (rate({names.HTTP_REQUESTS}{selector}[{RATE}]))"


def _errors(service: str | None = None) -> str:
    labels = {"service": service} if service else {}
    return _requests(_sel(**labels, code="5xx"))


def _p95(selector: str = "") -> str:
    bucket = f"{names.HTTP_DURATION}_bucket{selector}"
    return f"histogram_quantile(0.95, sum by (service, host, le) (rate({bucket}[{RATE}])))"


REC_REQUESTS = Recording(REQUESTS, _requests())
REC_ERRORS = Recording(ERRORS, _errors())
REC_RATIO = Recording(ERROR_RATIO, f"{ERRORS} / {REQUESTS}")
REC_BUCKETS = Recording(BUCKETS, f"sum by (service, host, le) (rate({names.HTTP_DURATION}_bucket[{RATE}]))")
REC_P95 = Recording(P95, f"histogram_quantile(0.95, {BUCKETS})")


def baseline(metric: str, window_s: int) -> tuple[Recording, Recording]:
    """Mean and standard deviation of a recorded series over the window (newest op first)."""
    level, name, ops = metric.split(":")
    w = format_duration(window_s)
    mean = Recording(f"{level}:{name}:avg{w}_{ops}", f"avg_over_time({metric}[{w}])")
    stddev = Recording(f"{level}:{name}:stddev{w}_{ops}", f"stddev_over_time({metric}[{w}])")
    return mean, stddev


# --- per kind ---------------------------------------------------------------------------------


def _error_ratio(rule: Rule) -> Query:
    s = _sel(service=rule.service)
    inline = f"{_errors(rule.service)} / {_requests(s)}"
    records = (REC_REQUESTS, REC_ERRORS, REC_RATIO)
    return Query(f"{ERROR_RATIO}{s}", inline, ">", rule.metric_threshold, records)


def _latency(rule: Rule) -> Query:
    s = _sel(service=rule.service)
    return Query(f"{P95}{s}", _p95(s), ">", rule.metric_threshold, (REC_BUCKETS, REC_P95))


def _zscore(value: str, mean: str, stddev: str) -> str:
    return f"abs({value} - {mean}) / {stddev}"


def _anomaly(rule: Rule, latency: bool) -> Query:
    """z-score of the current value against its own mean and deviation over the window.

    Guard: the service must have traffic (now for latency, usually for the rate, so that a
    drop to nothing still alerts).
    """
    s = _sel(service=rule.service)
    w = format_duration(rule.window_s)
    minimum = f"{rule.min_rate or 0:g}"
    base, inline_base = (P95, _p95(s)) if latency else (REQUESTS, _requests(s))
    mean, stddev = baseline(base, rule.window_s)
    recorded = _zscore(base + s, mean.record + s, stddev.record + s)
    guard = f"({REQUESTS if latency else mean.record}{s} >= {minimum})"
    sub = f"({inline_base})[{w}:5m]"
    inline = _zscore(f"({inline_base})", f"avg_over_time({sub})", f"stddev_over_time({sub})")
    inline_guard = f"({_requests(s) if latency else f'avg_over_time({sub})'} >= {minimum})"
    records = (REC_BUCKETS, REC_P95, REC_REQUESTS) if latency else (REC_REQUESTS,)
    return Query(recorded, inline, ">", rule.threshold, (*records, mean, stddev), guard, inline_guard)


def _log_events(rule: Rule) -> Query:
    levels = "|".join(rule.levels)
    w = format_duration(rule.window_s)
    selector = _sel(service=rule.service, level="~" + levels)
    expr = f"sum by (service, host, level) (increase({names.DB_ERRORS}{selector}[{w}]))"
    return Query(expr, expr, ">", rule.threshold)


def _agent_silent(rule: Rule) -> Query:
    """Seconds since each agent's newest heartbeat (the ``agent`` table's events): a host that only
    ever arrived by backfill sends none, so it is no agent and never silent."""
    expr = f"time() - max by (host) ({names.LAST_EVENT}{_sel(table=AGENT.name)})"
    return Query(expr, expr, ">", rule.threshold)


def _gauge(metric: str, rule: Rule) -> Query:
    return Query(metric, metric, ">", rule.metric_threshold)


def _forecast(rule: Rule) -> Query:
    lookback = format_duration(rule.window_s)
    expr = f"predict_linear({names.HOST_FILESYSTEM_FREE}[{lookback}], {rule.threshold:g})"
    return Query(expr, expr, "<", 0.0)


def query(rule: Rule) -> Query | None:
    """The PromQL of a rule, or None when the exporter's metrics cannot express it."""
    if "prometheus" not in rule.targets:
        return None
    builders = {
        "error_ratio": lambda: _error_ratio(rule),
        "latency_p95": lambda: _latency(rule),
        "rate_anomaly": lambda: _anomaly(rule, latency=False),
        "latency_anomaly": lambda: _anomaly(rule, latency=True),
        "log_events": lambda: _log_events(rule),
        "agent_silent": lambda: _agent_silent(rule),
        "cpu": lambda: _gauge(names.HOST_CPU, rule),
        "memory": lambda: _gauge(names.HOST_MEMORY, rule),
        "disk": lambda: _gauge(names.HOST_FILESYSTEM, rule),
        "disk_forecast": lambda: _forecast(rule),
    }
    return builders[rule.kind]()
