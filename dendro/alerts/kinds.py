"""The kinds of alert rule Dendro knows, and the :class:`Rule` every emitter reads.

A kind fixes what the threshold means (its unit), the defaults a rule of that kind starts from,
and the outputs that can express it: Prometheus and Grafana see the exporter's metrics, CloudWatch
sees only the alert lines the loader logs, so each kind lists its ``targets``.

Texts (summary, description) use ``{placeholders}``: ``{host}``, ``{value}`` and any other label
name are filled per alert by the target's templating; ``{service}``, ``{title}``, ``{threshold}``,
``{window}``, ``{for}`` and ``{event}`` are filled when the rule is emitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from dendro.alerts.durations import format_duration
from dendro.services.base import AlertEvent

Severity = Literal["critical", "warning", "info"]
Unit = Literal["percent", "seconds", "count", "zscore", "horizon"]
Target = Literal["prometheus", "grafana", "cloudwatch"]

SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")
METRICS: tuple[Target, ...] = ("prometheus", "grafana")


@dataclass(frozen=True)
class Kind:
    """What a rule of this kind measures and the defaults it starts from."""

    name: str
    unit: Unit
    threshold: float
    for_s: int
    severity: Severity
    summary: str
    description: str
    targets: tuple[Target, ...] = METRICS
    window_s: int = 0  # 0: the kind has no window
    min_rate: float | None = None  # requests/s below which the rule stays silent (anomaly kinds)
    op: Literal[">", "<"] = ">"


_HTTP_SUMMARY = "{title} on {host}"
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "error_ratio",
            "percent",
            5.0,
            600,
            "critical",
            _HTTP_SUMMARY + ": more than {threshold} of requests fail with 5xx",
            "{value} of the requests {service} answered on {host} over the last 5 minutes had a 5xx"
            " status (threshold {threshold} for {for}).",
        ),
        Kind(
            "latency_p95",
            "seconds",
            1.0,
            600,
            "warning",
            _HTTP_SUMMARY + ": p95 latency above {threshold}",
            "95% of the requests {service} answered on {host} over the last 5 minutes took up to"
            " {value} (threshold {threshold} for {for}).",
        ),
        Kind(
            "rate_anomaly",
            "zscore",
            3.0,
            900,
            "warning",
            _HTTP_SUMMARY + ": request rate far outside its usual range",
            "The request rate of {service} on {host} is more than {threshold} standard deviations"
            " away from its mean over the last {window}.",
            window_s=86400,
            min_rate=1.0,
        ),
        Kind(
            "latency_anomaly",
            "zscore",
            3.0,
            900,
            "warning",
            _HTTP_SUMMARY + ": p95 latency far outside its usual range",
            "The p95 latency of {service} on {host} is more than {threshold} standard deviations"
            " away from its mean over the last {window}.",
            window_s=86400,
            min_rate=1.0,
        ),
        Kind(
            "log_events",
            "count",
            0.0,
            0,
            "warning",
            "{title} logged {level} on {host} ({event})",
            "{value} {event} events from {service} on {host} in the last {window} (alert above {threshold}).",
            targets=("prometheus", "grafana", "cloudwatch"),
            window_s=300,
        ),
        Kind(
            "status_events",
            "count",
            10.0,
            0,
            "critical",
            "{title}: more than {threshold} {event} events in {window}",
            "{service} logged more than {threshold} {event} events in {window}.",
            targets=("cloudwatch",),
            window_s=300,
        ),
        Kind(
            "agent_silent",
            "seconds",
            600.0,
            0,
            "critical",
            "No heartbeat from the agent on {host} for more than {threshold}",
            "The Vector agent on {host} has sent no heartbeat for {value}; the agent or the node may be down."
            " (Hosts that only arrived by backfill send none and are never silent.)",
        ),
        Kind(
            "cpu",
            "percent",
            90.0,
            900,
            "warning",
            "CPU of {host} above {threshold}",
            "The CPU of {host} is {value} busy (threshold {threshold} for {for}).",
        ),
        Kind(
            "memory",
            "percent",
            90.0,
            900,
            "warning",
            "Memory of {host} above {threshold}",
            "{host} uses {value} of its memory (threshold {threshold} for {for}).",
        ),
        Kind(
            "disk",
            "percent",
            90.0,
            300,
            "critical",
            "Filesystem {mountpoint} on {host} above {threshold}",
            "Filesystem {mountpoint} on {host} is {value} full (threshold {threshold}).",
        ),
        Kind(
            "disk_forecast",
            "horizon",
            86400.0,
            3600,
            "warning",
            "Filesystem {mountpoint} on {host} will be full within {threshold}",
            "At the rate it filled over the last {window}, filesystem {mountpoint} on {host} will be"
            " full within {threshold}.",
            window_s=21600,
            op="<",
        ),
    )
}


@dataclass(frozen=True)
class Rule:
    """One alert rule, defaults and dendro.yaml overrides applied.

    ``threshold`` is in the kind's unit as a user writes it (percent, seconds, a count…);
    ``metric_threshold`` is the same in the metric's unit (ratios 0–1).
    """

    name: str
    kind: str
    service: str
    title: str
    severity: Severity
    summary: str
    description: str
    threshold: float
    for_s: int
    window_s: int = 0
    min_rate: float | None = None
    runbook_url: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    enabled: bool = True
    event: AlertEvent | None = None
    levels: tuple[str, ...] = field(default=())  # log_events: level label values counted

    @property
    def spec(self) -> Kind:
        return KINDS[self.kind]

    @property
    def targets(self) -> tuple[Target, ...]:
        if self.kind == "log_events" and not self.levels:
            return ("cloudwatch",)  # no exporter metric counts these events
        return self.spec.targets

    @property
    def metric_threshold(self) -> float:
        return self.threshold / 100 if self.spec.unit == "percent" else self.threshold

    def threshold_text(self) -> str:
        return format_threshold(self.spec.unit, self.threshold)

    def context(self) -> dict[str, str]:
        """Values of the placeholders known when the rule is emitted."""
        return {
            "service": self.service,
            "title": self.title,
            "threshold": self.threshold_text(),
            "window": format_duration(self.window_s),
            "for": format_duration(self.for_s),
            "event": self.event.name if self.event else self.name,
        }


def format_threshold(unit: Unit, value: float) -> str:
    if unit == "percent":
        return f"{value:g}%"
    if unit in ("seconds", "horizon"):
        if value < 1 and unit == "seconds":
            return f"{value * 1000:g}ms"
        return format_duration(int(value)) if value == int(value) else f"{value:g}s"
    return f"{value:g}"
