"""CloudWatch metric filters and alarms for the AWS pipeline, as boto3 call parameters.

The loader logs one JSON line per alert kind and host for each object it loads, with the number
of events folded into it (``{"dendro": "alert", "alert": "nginx_5xx", "host": …, "count": 3}``;
dendro.alerts.notify owns that shape and the filter pattern matching it). For every enabled
rule with the ``cloudwatch`` target, a metric filter on the loader's log group sums ``count``
into ``Dendro/<pipeline>`` and an alarm fires when the sum over the rule's window exceeds its
threshold for ``for`` (in whole windows), notifying the pipeline's SNS topic.

Order matters: the log group must exist before its metric filters, and a filter before the alarm
on its metric (an alarm on a metric nothing writes yet stays INSUFFICIENT_DATA, which is fine);
:func:`calls` gives the API calls in that order for a deployer that has created the log group
and the topic (:data:`REQUIRES`).
"""

from __future__ import annotations

import math
from typing import Any

from dendro.alerts import notify, templates
from dendro.alerts.kinds import Rule
from dendro.alerts.model import rules as all_rules
from dendro.config import Config

#: what must exist before :func:`calls` run: the loader's log group, then the SNS topic
REQUIRES = ("log_group", "sns_topic")
TAG_KEY = "dendro:pipeline"
ALARM_DESCRIPTION_MAX = 1024


def namespace(config: Config) -> str:
    return f"Dendro/{config.pipeline}"


def cloudwatch_rules(config: Config, rules: list[Rule] | None = None) -> list[Rule]:
    rules = all_rules(config) if rules is None else rules
    return [r for r in rules if r.enabled and "cloudwatch" in r.targets and r.event is not None]


def _filter(rule: Rule) -> dict[str, str]:
    """The loader's filter pattern and metric value for the rule's alert event."""
    assert rule.event is not None
    return notify.metric_filter(rule.event.name)


def metric_filters(config: Config, log_group: str, rules: list[Rule] | None = None) -> list[dict[str, Any]]:
    """``logs.put_metric_filter`` parameters, one per CloudWatch rule."""
    return [
        {
            "logGroupName": log_group,
            "filterName": f"{config.pipeline}-{rule.name}",
            "filterPattern": _filter(rule)["filterPattern"],
            "metricTransformations": [
                {
                    "metricName": rule.name,
                    "metricNamespace": namespace(config),
                    "metricValue": _filter(rule)["metricValue"],
                    "unit": "Count",
                }
            ],
        }
        for rule in cloudwatch_rules(config, rules)
    ]


def _description(rule: Rule, periods: int) -> str:
    summary = templates.render(rule.summary, rule, "cloudwatch")
    context = rule.context()
    text = (
        f"{summary}. Alarm when more than {context['threshold']} {context['event']} events are logged in"
        f" {context['window']}" + (f", {periods} periods in a row." if periods > 1 else ".")
    )
    if rule.runbook_url:
        text += f" Runbook: {rule.runbook_url}"
    return text[:ALARM_DESCRIPTION_MAX]


def alarms(config: Config, topic_arn: str, rules: list[Rule] | None = None) -> list[dict[str, Any]]:
    """``cloudwatch.put_metric_alarm`` parameters, one per CloudWatch rule."""
    result = []
    for rule in cloudwatch_rules(config, rules):
        periods = max(1, math.ceil(rule.for_s / rule.window_s))
        result.append(
            {
                "AlarmName": f"{config.pipeline}-{rule.name}",
                "AlarmDescription": _description(rule, periods),
                "ActionsEnabled": True,
                "AlarmActions": [topic_arn],
                "Namespace": namespace(config),
                "MetricName": rule.name,
                "Statistic": "Sum",
                "Period": rule.window_s,
                "EvaluationPeriods": periods,
                "DatapointsToAlarm": periods,
                "Threshold": float(rule.threshold),
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",  # no alert line in a period: nothing happened
                "Unit": "Count",
                "Tags": [
                    {"Key": TAG_KEY, "Value": config.pipeline},
                    {"Key": "severity", "Value": rule.severity},
                ],
            }
        )
    return result


def calls(config: Config, log_group: str, topic_arn: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(boto3 client, method, parameters) in the order they must run, after :data:`REQUIRES`."""
    rules = all_rules(config)
    ordered: list[tuple[str, str, dict[str, Any]]] = [
        ("logs", "put_metric_filter", params) for params in metric_filters(config, log_group, rules)
    ]
    ordered += [("cloudwatch", "put_metric_alarm", params) for params in alarms(config, topic_arn, rules)]
    return ordered
