"""Grafana unified alerting, as file provisioning YAML (``provisioning/alerting/``).

``<pipeline>-alert-rules.yaml`` holds one rule group per service, in the folder titled "Dendro";
``<pipeline>-notifications.yaml`` holds the contact points and the notification policy, and is
written only when there is somewhere to send to.

Each rule queries the Prometheus datasource (uid :data:`~dendro.alerts.datasources.PROMETHEUS_UID`)
with a self-contained PromQL value (A), reduces it to its last value (B) and compares it with the
threshold (C, the condition); B and C are server-side expressions (datasource ``__expr__``).
Uids are derived from the pipeline and rule names, so they stay the same from run to run.

Contact points are written only with real values: ``sns`` (Grafana 11.1 and later) when an SNS
topic ARN is known, ``email`` when addresses are. Grafana validates a contact point while it
provisions, at startup, and stops when one is invalid (an email point without addresses, an sns
point without a parseable topic ARN); it also expands ``$VARIABLE`` in these files, an unset one
to nothing. So nothing here refers to the environment, and each receiver's settings are checked
against the rules Grafana applies (:func:`check_receiver`) before they are written. The policy
routes to the contact point ``alerts.contact`` names, or to the one that exists; with none, no
policy is written and Grafana keeps its own. Provisioning a policy replaces the organisation's
policy tree. The upstream sources are pinned in tests/alerts/test_grafana.py.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import yaml

from dendro.alerts import templates
from dendro.alerts.datasources import EXPRESSION_UID, PROMETHEUS_UID
from dendro.alerts.durations import format_duration
from dendro.alerts.kinds import Rule
from dendro.alerts.model import AlertConfigError, AlertSettings
from dendro.alerts.promql import query

FOLDER = "Dendro"
ORG_ID = 1
INTERVAL = "1m"
QUERY_RANGE_S = 600
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


class ReceiverError(AlertConfigError):
    """A contact point's settings that Grafana would refuse when it provisions them."""


def email_addresses(text: str) -> list[str]:
    """The addresses Grafana's email receiver reads from ``addresses`` (split at ``,`` ``;`` newline)."""
    return [part for part in re.split(r"[,;\n]", text) if part]


def is_arn(text: str) -> bool:
    """What the SNS receiver accepts as a topic ARN: ``arn:`` and six ``:``-separated sections."""
    return text.startswith("arn:") and len(text.split(":", 5)) == 6


def check_receiver(kind: str, settings: dict[str, Any]) -> None:
    """Refuse settings Grafana's ``email`` / ``sns`` receiver would refuse at startup."""
    if kind == "email" and not email_addresses(str(settings.get("addresses", ""))):
        raise ReceiverError("alerts.emails: an email contact point needs at least one address")
    topic = str(settings.get("topic_arn", ""))
    if kind == "sns" and not is_arn(topic):
        raise ReceiverError(f"alerts.sns_topic_arn: not an ARN Grafana accepts (arn:aws:sns:…): {topic!r}")


def contact_points(pipeline: str, settings: AlertSettings, region: str) -> list[dict[str, Any]]:
    """A contact point for each destination dendro.yaml gives: the SNS topic, the addresses."""
    points = []
    if settings.sns_topic_arn:
        sns = {"topic_arn": settings.sns_topic_arn, "sigv4": {"region": region}}
        points.append(_contact_point(pipeline, "sns", sns))
    if settings.emails:
        email = {"addresses": ";".join(settings.emails), "singleEmail": True}
        points.append(_contact_point(pipeline, "email", email))
    return points


def contact_point_name(pipeline: str, kind: str) -> str:
    return f"{pipeline}-{kind}"


def _contact_point(pipeline: str, kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    check_receiver(kind, settings)
    name = contact_point_name(pipeline, kind)
    receiver = {"uid": uid(pipeline, f"contact/{kind}"), "type": kind, "settings": settings}
    return {"orgId": ORG_ID, "name": name, "receivers": [receiver]}


def policy_receiver(pipeline: str, contact: str, points: list[dict[str, Any]]) -> str | None:
    """The contact point ``alerts.contact`` names if it is written, else the one that is; None without."""
    names = [point["name"] for point in points]
    chosen = contact_point_name(pipeline, contact)
    if chosen in names:
        return chosen
    return names[0] if names else None


def notifications_file(pipeline: str, settings: AlertSettings, region: str) -> dict[str, Any] | None:
    """Contact points and the policy routing to one of them; None when there is nowhere to send."""
    points = contact_points(pipeline, settings, region)
    receiver = policy_receiver(pipeline, settings.contact, points)
    if receiver is None:
        return None
    policy = {
        "orgId": ORG_ID,
        "receiver": receiver,
        "group_by": ["grafana_folder", "alertname", "service", "host"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "4h",
    }
    return {"apiVersion": 1, "contactPoints": points, "policies": [policy]}


def files(
    pipeline: str, rules: list[Rule], settings: AlertSettings, region: str
) -> dict[str, dict[str, Any]]:
    """File name → content of the Grafana alerting provisioning files."""
    result = {f"{pipeline}-alert-rules.yaml": rules_file(pipeline, rules)}
    notifications = notifications_file(pipeline, settings, region)
    if notifications is not None:
        result[f"{pipeline}-notifications.yaml"] = notifications
    return result


def dump(content: dict[str, Any]) -> str:
    return yaml.safe_dump(content, sort_keys=False, width=100_000, allow_unicode=True)
