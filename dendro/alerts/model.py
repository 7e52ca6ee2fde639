"""The alert rules of a pipeline: defaults per configured service, tuned by dendro.yaml.

dendro.yaml's ``alerts:`` section (every key optional)::

    alerts:
      runbook_url: https://wiki.example.com/runbooks/{rule}   # {rule} and {service} are filled
      contact: email                 # Grafana's notification policy: sns (default with the aws
                                     # backend) or email
      emails: [ops@example.com]      # default: aws.emails
      sns_topic_arn: arn:aws:sns:…   # Grafana's sns contact point (none without it)
      rules:
        nginx:
          error_ratio: {threshold: 2, for: 5m}     # percent of requests with a 5xx status
          latency_p95: {threshold: 300ms}
          rate_anomaly: false                      # this rule off
        host: {disk: {threshold: 80, severity: warning}}
        agent: {silent: {threshold: 15m}}
        mysql: false                               # every rule of the service off

A rule's key under its service is its name without the ``<service>_`` prefix (``dendro alerts
list`` shows every name). Keys of a rule: enabled, threshold, for, window, min_rate, severity,
summary, description, runbook_url, labels. A mistake ends in one :class:`AlertConfigError` that
names the key and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from dendro.alerts.defaults import AGENT, default_rules
from dendro.alerts.durations import DurationError, parse_duration, parse_seconds
from dendro.alerts.kinds import SEVERITIES, Rule
from dendro.config import Config, ConfigError
from dendro.metrics import names
from dendro.services import BUILTIN
from dendro.services.base import Service

__all__ = ["AlertConfigError", "AlertSettings", "Rule", "rules", "settings"]

SETTINGS_KEYS = ("runbook_url", "contact", "emails", "sns_topic_arn", "rules")
RULE_KEYS = (
    "enabled",
    "threshold",
    "for",
    "window",
    "min_rate",
    "severity",
    "summary",
    "description",
    "runbook_url",
    "labels",
)
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
RESERVED_LABELS = ("alertname", "severity", "service", "host")
#: the largest finite latency bucket: a p95 above it cannot be measured
MAX_LATENCY = names.HTTP_BUCKETS[-1]


class AlertConfigError(ConfigError):
    """The ``alerts:`` section of dendro.yaml is wrong; the message names the key and the rule."""


@dataclass(frozen=True)
class AlertSettings:
    """Where Grafana sends notifications."""

    contact: Literal["sns", "email"]
    emails: tuple[str, ...]
    sns_topic_arn: str | None
    runbook_url: str | None


def _section(config: Config) -> Mapping[str, Any]:
    raw = config.alerts or {}
    if not isinstance(raw, Mapping):
        raise AlertConfigError(f"alerts: expected a mapping, got {raw!r}")
    for key in raw:
        if key not in SETTINGS_KEYS:
            raise AlertConfigError(f"alerts.{key}: unknown key (known: {', '.join(SETTINGS_KEYS)})")
    return raw


def _string(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise AlertConfigError(f"{key}: expected a non-empty string, got {value!r}")
    return value


def settings(config: Config) -> AlertSettings:
    raw = _section(config)
    contact = raw.get("contact", "sns" if config.backend == "aws" else "email")
    if contact not in ("sns", "email"):
        raise AlertConfigError(f"alerts.contact: expected sns or email, got {contact!r}")
    emails = raw.get("emails", config.aws.emails)
    if not isinstance(emails, list) or not all(isinstance(e, str) and "@" in e for e in emails):
        raise AlertConfigError(f"alerts.emails: expected a list of email addresses, got {emails!r}")
    topic = raw.get("sns_topic_arn")
    if topic is not None and not _string("alerts.sns_topic_arn", topic).startswith("arn:"):
        raise AlertConfigError(f"alerts.sns_topic_arn: expected an SNS topic ARN (arn:aws:sns:…): {topic}")
    runbook = raw.get("runbook_url")
    if runbook is not None:
        _check_pattern("alerts.runbook_url", _string("alerts.runbook_url", runbook))
    return AlertSettings(contact, tuple(emails), topic, runbook)


def _check_pattern(key: str, pattern: str) -> None:
    for name in re.findall(r"\{(\w*)\}", pattern):
        if name not in ("rule", "service"):
            raise AlertConfigError(f"{key}: unknown placeholder {{{name}}} (use {{rule}} or {{service}})")


def rule_key(rule: Rule) -> str:
    """The rule's key under its service in dendro.yaml."""
    prefix = f"{rule.service}_"
    return rule.name[len(prefix) :] if rule.name.startswith(prefix) else rule.name


def rules(config: Config, services: Iterable[Service] | None = None) -> list[Rule]:
    """Every rule of the configured services (disabled ones included, ``enabled=False``)."""
    enabled = list(config.enabled_services() if services is None else services)
    by_service: dict[str, list[Rule]] = {}
    for rule in default_rules(enabled):
        by_service.setdefault(rule.service, []).append(rule)
    overrides = _section(config).get("rules") or {}
    if not isinstance(overrides, Mapping):
        raise AlertConfigError(f"alerts.rules: expected a mapping of service to rules, got {overrides!r}")
    known = [*BUILTIN, *(app.name for app in config.custom), AGENT]
    for service, raw in overrides.items():
        key = f"alerts.rules.{service}"
        if service not in by_service:
            if service not in known:
                raise AlertConfigError(f"{key}: unknown service {service!r} (known: {', '.join(known)})")
            raise AlertConfigError(f"{key}: service {service} is not configured (add it under services:)")
        by_service[service] = _apply_service(key, by_service[service], raw)
    runbook = settings(config).runbook_url
    result = [rule for group in by_service.values() for rule in group]
    if runbook:
        result = [
            r if r.runbook_url else replace(r, runbook_url=runbook.format(rule=r.name, service=r.service))
            for r in result
        ]
    return result


def _apply_service(key: str, rules_of: list[Rule], raw: Any) -> list[Rule]:
    if isinstance(raw, bool):
        return [replace(r, enabled=raw) for r in rules_of]
    if not isinstance(raw, Mapping):
        raise AlertConfigError(f"{key}: expected a mapping of rule to settings, or false, got {raw!r}")
    by_key = {rule_key(r): r for r in rules_of}
    for name in raw:
        if name not in by_key:
            raise AlertConfigError(f"{key}.{name}: unknown rule (rules here: {', '.join(by_key)})")
    return [_apply_rule(f"{key}.{k}", r, raw[k]) if k in raw else r for k, r in by_key.items()]


def _apply_rule(key: str, rule: Rule, raw: Any) -> Rule:
    if isinstance(raw, bool):
        return replace(rule, enabled=raw)
    if not isinstance(raw, Mapping):
        raise AlertConfigError(f"{key}: rule {rule.name}: expected a mapping of settings, or false")
    changes: dict[str, Any] = {}
    for name, value in raw.items():
        where = f"{key}.{name}: rule {rule.name}"
        if name not in RULE_KEYS:
            raise AlertConfigError(f"{where}: unknown key (known: {', '.join(RULE_KEYS)})")
        try:
            changes.update(_field(rule, name, value))
        except (DurationError, ValueError) as error:
            raise AlertConfigError(f"{where}: {error}") from None
    return replace(rule, **changes)


def _field(rule: Rule, name: str, value: Any) -> dict[str, Any]:
    if name == "enabled":
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return {"enabled": value}
    if name == "threshold":
        return {"threshold": _threshold(rule, value)}
    if name == "for":
        return {"for_s": parse_duration(value)}
    if name == "window":
        return {"window_s": _window(rule, value)}
    if name == "min_rate":
        if rule.spec.min_rate is None:
            raise ValueError(f"only anomaly rules have a min_rate, not {rule.kind}")
        return {"min_rate": _number(value)}
    if name == "severity":
        if value not in SEVERITIES:
            raise ValueError(f"expected one of {', '.join(SEVERITIES)}, got {value!r}")
        return {"severity": value}
    if name in ("summary", "description", "runbook_url"):
        if not isinstance(value, str) or not value:
            raise ValueError(f"expected a non-empty string, got {value!r}")
        return {name: value}
    return {"labels": _labels(value)}


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    if value < 0:
        raise ValueError(f"must not be negative, got {value}")
    return float(value)


def _threshold(rule: Rule, value: Any) -> float:
    unit = rule.spec.unit
    if unit in ("seconds", "horizon") and isinstance(value, str):
        number = parse_seconds(value)
    else:
        number = _number(value)
    if number < 0:
        raise ValueError(f"threshold must not be negative, got {value}")
    if unit == "percent" and number >= 100:
        raise ValueError(f"threshold is a percentage and must be below 100, got {value}")
    if rule.kind in ("latency_p95",) and number >= MAX_LATENCY:
        raise ValueError(f"threshold must be below {MAX_LATENCY:g}s, the largest latency bucket, got {value}")
    if unit == "horizon" and number < 60:
        raise ValueError(f"the forecast horizon must be at least 1m, got {value}")
    return number


def _window(rule: Rule, value: Any) -> int:
    if not rule.spec.window_s:
        raise ValueError(f"{rule.kind} rules have no window")
    seconds = parse_duration(value)
    if rule.spec.targets != ("prometheus", "grafana") and (seconds < 60 or seconds % 60):
        raise ValueError(f"window must be whole minutes (a CloudWatch alarm period), got {value!r}")
    if seconds < 60:
        raise ValueError(f"window must be at least 1m, got {value!r}")
    return seconds


def _labels(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping of label name to value, got {value!r}")
    labels = []
    for name, text in value.items():
        if not isinstance(name, str) or not LABEL_RE.match(name) or name in RESERVED_LABELS:
            reserved = ", ".join(RESERVED_LABELS)
            raise ValueError(f"{name!r} is not a label name Dendro leaves free ({reserved} are set)")
        if not isinstance(text, str | int | float) or isinstance(text, bool):
            raise ValueError(f"label {name}: expected a string, got {text!r}")
        labels.append((name, str(text)))
    return tuple(sorted(labels))
