"""promtool unit tests generated from the rule model, so a threshold and its test cannot drift.

For every rule Prometheus can express, two test groups: synthetic series a little above the
threshold (the alert fires once its ``for`` has passed, with its exact labels and annotations)
and a little below it (nothing fires). Series are written in promtool's expanding notation
(``0+600x20`` = 0, 600, … 21 values, one a minute) so the generated file stays readable.

The anomaly rules need a day of history: their level above/below the threshold is found by
simulating the recording rules (5m rates, the day's mean and standard deviation) minute by
minute, the way Prometheus 2.x evaluates them (ranges closed on both ends, no extrapolation when
samples cover the window).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dendro.alerts import templates
from dendro.alerts.kinds import Rule
from dendro.metrics import names

HOST = "web-1"
PER_MINUTE = 600.0  # requests a minute in HTTP series (10/s)
BUCKETS = (*names.HTTP_BUCKETS, math.inf)


@dataclass
class Case:
    title: str
    series: dict[str, list[float]]  # series selector → one value a minute from 0
    eval_minute: int
    alerts: list[dict[str, Any]] = field(default_factory=list)


# --- values as Prometheus prints them (humanize* template functions) --------------------------


def _g4(value: float) -> str:
    text = f"{value:.4g}"
    return text.replace("e+", "e+0") if re.search(r"e\+\d$", text) else text


def humanize(value: float) -> str:
    if value == 0 or not math.isfinite(value):
        return _g4(value)
    prefix = ""
    if abs(value) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(value) < 1000:
                break
            prefix, value = p, value / 1000
        return _g4(value) + prefix
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(value) >= 1:
            break
        prefix, value = p, value * 1000
    return _g4(value) + prefix


def humanize_duration(value: float) -> str:
    if value == 0:
        return "0s"
    if abs(value) >= 1:
        whole = int(value)
        days, hours, minutes, seconds = whole // 86400, whole // 3600 % 24, whole // 60 % 60, whole % 60
        if days:
            return f"{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{minutes}m {seconds}s"
        return f"{_g4(value)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(value) >= 1:
            break
        prefix, value = p, value * 1000
    return f"{_g4(value)}{prefix}s"


def humanize_percentage(value: float) -> str:
    return f"{_g4(value * 100)}%"


HUMANIZERS: dict[str, Callable[[float], str]] = {
    "humanize": humanize,
    "humanizeDuration": humanize_duration,
    "humanizePercentage": humanize_percentage,
}


def expected_alert(rule: Rule, labels: dict[str, str], value: float | None) -> dict[str, Any]:
    """exp_labels and exp_annotations of one firing alert (templates filled like Prometheus)."""
    all_labels = {**labels, **templates.labels_of(rule)}
    context = rule.context()
    humanizer = HUMANIZERS[templates.HUMANIZE[rule.spec.unit]]

    def fill(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in context:
                return context[name]
            if name == "value":
                assert value is not None, f"{rule.name}: its text shows a value the test does not know"
                return humanizer(value)
            return all_labels.get(name, "")

        return re.sub(r"\{(\w+)\}", one, text)

    annotations = {"summary": fill(rule.summary), "description": fill(rule.description)}
    if rule.runbook_url:
        annotations["runbook_url"] = rule.runbook_url
    return {"exp_labels": all_labels, "exp_annotations": annotations}


# --- series helpers ---------------------------------------------------------------------------


def selector(metric: str, **labels: str) -> str:
    return metric + "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def counter(increments: list[float]) -> list[float]:
    """Counter values, one a minute from 0, given the increment of each minute."""
    values, total = [0.0], 0.0
    for inc in increments:
        total += inc
        values.append(total)
    return values


def notation(values: list[float]) -> str:
    """promtool's expanding notation: runs of a constant step become ``start+stepxN``."""
    parts: list[str] = []
    i = 0
    while i < len(values):
        j = i + 1
        step = values[j] - values[i] if j < len(values) else 0.0
        while j + 1 < len(values) and math.isclose(values[j + 1] - values[j], step, abs_tol=1e-9):
            j += 1
        count = j - i if j < len(values) else 0
        start = _num(values[i])
        if count == 0:
            parts.append(start)
        elif step == 0:
            parts.append(f"{start}x{count}")
        else:
            parts.append(f"{start}{'+' if step > 0 else '-'}{_num(abs(step))}x{count}")
        i = j + 1 if count else i + 1
    return " ".join(parts)


def _num(value: float) -> str:
    return f"{value:.12g}"


def minutes(seconds: float) -> int:
    return math.ceil(seconds / 60)


def above(threshold: float, ceiling: float | None = None) -> float:
    value = threshold * 1.2 if threshold else 0.01
    return min(value, (threshold + ceiling) / 2) if ceiling is not None else value


def below(threshold: float) -> float:
    return threshold * 0.95


# --- HTTP histograms --------------------------------------------------------------------------


def bucket_shares(p95: float) -> list[float]:
    """Share of requests in each bucket (non-cumulative) so that histogram_quantile(0.95) = p95."""
    shares = [0.0] * len(BUCKETS)
    i = next(i for i, le in enumerate(BUCKETS) if p95 <= le)
    lo = BUCKETS[i - 1] if i else 0.0
    r = (p95 - lo) / (BUCKETS[i] - lo)
    assert i > 0 or r >= 0.95, f"no histogram gives a p95 of {p95}s"
    if r <= 0.95 and i > 0:
        below_share = (0.95 - r) / (1 - r)  # in the bucket under this one
        shares[i - 1], shares[i] = below_share, 1 - below_share
    else:
        over = 1 - 0.95 / r  # in the bucket over this one
        shares[i], shares[i + 1] = 1 - over, over
    return shares


def bucket_quantile(q: float, rates: list[float]) -> float:
    """Prometheus's histogram_quantile over per-bucket (non-cumulative) rates."""
    cumulative = [sum(rates[: i + 1]) for i in range(len(rates))]
    rank = q * cumulative[-1]
    b = next(i for i, c in enumerate(cumulative) if c >= rank)
    if b == len(BUCKETS) - 1:
        return BUCKETS[-2]
    start = BUCKETS[b - 1] if b else 0.0
    below_count = cumulative[b - 1] if b else 0.0
    return start + (BUCKETS[b] - start) * (rank - below_count) / (cumulative[b] - below_count)


def bucket_series(service: str, shares_per_minute: list[list[float]]) -> dict[str, list[float]]:
    series = {}
    for k, le in enumerate(BUCKETS):
        label = "+Inf" if math.isinf(le) else f"{le:g}"
        increments = [PER_MINUTE * sum(shares[: k + 1]) for shares in shares_per_minute]
        series[selector(f"{names.HTTP_DURATION}_bucket", service=service, host=HOST, le=label)] = counter(
            increments
        )
    return series


def requests_series(service: str, per_minute: list[float], code: str = "2xx") -> dict[str, list[float]]:
    key = selector(names.HTTP_REQUESTS, service=service, host=HOST, method="GET", code=code)
    return {key: counter(per_minute)}
