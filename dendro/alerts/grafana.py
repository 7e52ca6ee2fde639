"""Grafana unified alerting, as file provisioning YAML (``provisioning/alerting/``).

Two files: ``<pipeline>-alert-rules.yaml`` (one rule group per service, folder "Dendro") and
``<pipeline>-notifications.yaml`` (contact points and the notification policy).

Each rule queries the Prometheus datasource (uid :data:`~dendro.alerts.datasources.PROMETHEUS_UID`)
with a self-contained PromQL value (A), reduces it to its last value (B) and compares it with the
threshold (C, the condition); B and C are server-side expressions (datasource ``__expr__``).
Uids are derived from the pipeline and rule names, so they stay the same from run to run.

Contact points: ``sns`` (Grafana 11.1 and later) publishing to the pipeline's topic, and
``email``; the policy routes to the one ``alerts.contact`` names. Grafana interpolates
``$VARIABLE`` in provisioning files (not in annotations), so a topic ARN or addresses not in
dendro.yaml are read from ``$DENDRO_SNS_TOPIC_ARN`` / ``$DENDRO_ALERT_EMAILS`` when Grafana starts.
Note that provisioning a notification policy replaces the organisation's policy tree.
"""

from __future__ import annotations

import hashlib
from typing import Any

import yaml

from dendro.alerts import templates
from dendro.alerts.datasources import EXPRESSION_UID, PROMETHEUS_UID
from dendro.alerts.durations import format_duration
from dendro.alerts.kinds import Rule
from dendro.alerts.model import AlertSettings
from dendro.alerts.promql import query

FOLDER = "Dendro"
ORG_ID = 1
INTERVAL = "1m"
QUERY_RANGE_S = 600
TOPIC_ENV = "$DENDRO_SNS_TOPIC_ARN"
EMAILS_ENV = "$DENDRO_ALERT_EMAILS"
EVALUATORS = {">": "gt", "<": "lt"}


def uid(pipeline: str, name: str) -> str:
    """A Grafana uid (at most 40 characters) that depends only on the pipeline and the name."""
    digest = hashlib.sha256(f"{pipeline}/{name}".encode()).hexdigest()[:16]
    return f"dendro-{digest}"


def _expression(ref: str, model: dict[str, Any]) -> dict[str, Any]:
    return {
        "refId": ref,
        "relativeTimeRange": {"from": 0, "to": 0},
        "datasourceUid": EXPRESSION_UID,
        "model": {"refId": ref, "datasource": {"type": EXPRESSION_UID, "uid": EXPRESSION_UID}, **model},
    }


def _data(rule: Rule) -> list[dict[str, Any]]:
    q = query(rule)
    assert q is not None
    prometheus = {
        "refId": "A",
        "relativeTimeRange": {"from": QUERY_RANGE_S, "to": 0},
        "datasourceUid": PROMETHEUS_UID,
        "model": {
            "refId": "A",
            "datasource": {"type": "prometheus", "uid": PROMETHEUS_UID},
            "editorMode": "code",
            "expr": q.grafana_expr,
            "instant": True,
            "range": False,
            "legendFormat": "__auto",
        },
    }
    reduce = _expression("B", {"type": "reduce", "expression": "A", "reducer": "last"})
    threshold = _expression(
        "C",
        {
            "type": "threshold",
            "expression": templates.GRAFANA_VALUE_REF,
            "conditions": [{"evaluator": {"type": EVALUATORS[q.op], "params": [q.threshold]}}],
        },
    )
    return [prometheus, reduce, threshold]


def alert_rule(pipeline: str, rule: Rule) -> dict[str, Any]:
    return {
        "uid": uid(pipeline, rule.name),
        "title": rule.name,
        "condition": "C",
        "data": _data(rule),
        "noDataState": "OK",  # no traffic, no events: nothing to alert on
        "execErrState": "Error",
        "for": format_duration(rule.for_s),
        "labels": templates.labels_of(rule),
        "annotations": templates.annotations_of(rule, "grafana"),
        "isPaused": False,
    }


def rules_file(pipeline: str, rules: list[Rule]) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        if rule.enabled and "grafana" in rule.targets:
            groups.setdefault(rule.service, []).append(alert_rule(pipeline, rule))
    return {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": ORG_ID,
                "name": f"{pipeline}-{service}",
                "folder": FOLDER,
                "interval": INTERVAL,
                "rules": entries,
            }
            for service, entries in groups.items()
        ],
    }


def contact_points(pipeline: str, settings: AlertSettings, region: str) -> list[dict[str, Any]]:
    """The chosen contact point, and the other one when dendro.yaml gives its settings."""
    points = []
    if settings.contact == "sns" or settings.sns_topic_arn:
        sns = {"topic_arn": settings.sns_topic_arn or TOPIC_ENV, "sigv4": {"region": region}}
        points.append(_contact_point(pipeline, "sns", sns))
    if settings.contact == "email" or settings.emails:
        addresses = ";".join(settings.emails) if settings.emails else EMAILS_ENV
        points.append(_contact_point(pipeline, "email", {"addresses": addresses, "singleEmail": True}))
    return points


def contact_point_name(pipeline: str, kind: str) -> str:
    return f"{pipeline}-{kind}"


def _contact_point(pipeline: str, kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    name = contact_point_name(pipeline, kind)
    receiver = {"uid": uid(pipeline, f"contact/{kind}"), "type": kind, "settings": settings}
    return {"orgId": ORG_ID, "name": name, "receivers": [receiver]}


def notifications_file(pipeline: str, settings: AlertSettings, region: str) -> dict[str, Any]:
    policy = {
        "orgId": ORG_ID,
        "receiver": contact_point_name(pipeline, settings.contact),
        "group_by": ["grafana_folder", "alertname", "service", "host"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "4h",
    }
    return {
        "apiVersion": 1,
        "contactPoints": contact_points(pipeline, settings, region),
        "policies": [policy],
    }


def files(
    pipeline: str, rules: list[Rule], settings: AlertSettings, region: str
) -> dict[str, dict[str, Any]]:
    """File name → content of the Grafana alerting provisioning files."""
    return {
        f"{pipeline}-alert-rules.yaml": rules_file(pipeline, rules),
        f"{pipeline}-notifications.yaml": notifications_file(pipeline, settings, region),
    }


def dump(content: dict[str, Any]) -> str:
    return yaml.safe_dump(content, sort_keys=False, width=100_000, allow_unicode=True)
