"""Prometheus rule files: the recording rules (``level:metric:operations``) and the alerting rules.

Two files, both checked by ``promtool check rules``: ``<pipeline>-recording.rules.yml`` (one
group, in dependency order: the 5m rates before the ratios and the baselines over them) and
``<pipeline>-alerts.rules.yml`` (one group per service). Load both in Prometheus.
"""

from __future__ import annotations

from typing import Any

import yaml

from dendro.alerts import templates
from dendro.alerts.durations import format_duration
from dendro.alerts.kinds import Rule
from dendro.alerts.promql import Recording, query

INTERVAL = "1m"


def recordings(rules: list[Rule]) -> list[Recording]:
    """The recording rules the enabled rules need, each once, dependencies first."""
    seen: dict[str, Recording] = {}
    for rule in rules:
        q = query(rule) if rule.enabled else None
        for recording in q.recordings if q else ():
            seen.setdefault(recording.record, recording)
    return list(seen.values())


def alerting_rule(rule: Rule) -> dict[str, Any] | None:
    q = query(rule)
    if q is None or not rule.enabled:
        return None
    entry: dict[str, Any] = {"alert": rule.name, "expr": q.alert_expr}
    if rule.for_s:
        entry["for"] = format_duration(rule.for_s)
    entry["labels"] = templates.labels_of(rule)
    entry["annotations"] = templates.annotations_of(rule, "prometheus")
    return entry


def rule_files(pipeline: str, rules: list[Rule]) -> dict[str, dict[str, Any]]:
    """File name → content of the Prometheus rule files for these rules."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        entry = alerting_rule(rule)
        if entry is not None:
            groups.setdefault(rule.service, []).append(entry)
    records = [{"record": r.record, "expr": r.expr} for r in recordings(rules)]
    files: dict[str, dict[str, Any]] = {}
    if records:
        files[f"{pipeline}-recording.rules.yml"] = {
            "groups": [{"name": f"{pipeline}-recording", "interval": INTERVAL, "rules": records}]
        }
    files[f"{pipeline}-alerts.rules.yml"] = {
        "groups": [
            {"name": f"{pipeline}-{service}", "interval": INTERVAL, "rules": entries}
            for service, entries in groups.items()
        ]
    }
    return files


def dump(content: dict[str, Any]) -> str:
    return yaml.safe_dump(content, sort_keys=False, width=100_000, allow_unicode=True)
