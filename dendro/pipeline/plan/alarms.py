"""Plan the CloudWatch side: the loader's log group, the metric filters on it and the alarms.

The loader logs one line per alert event; a metric filter turns those lines into a metric and
an alarm on it notifies the SNS topic.
"""

from __future__ import annotations

from typing import Any

from dendro.pipeline.models import Alarm, Instruction, LogGroup, MetricFilter
from dendro.pipeline.plan.base import Context
from dendro.pipeline.resources import alarm_matches, tag_list


def log_group(ctx: Context, group: LogGroup) -> list[Instruction]:
    found = ctx.reader.read("logs", "describe_log_groups", logGroupNamePrefix=group.name)
    current = next((g for g in found.get("logGroups", []) if g["logGroupName"] == group.name), None)
    steps: list[Instruction] = []
    params: dict[str, Any]
    if current is None:
        params = {"logGroupName": group.name, "tags": group.tags}
        steps.append(ctx.create(group, "logs", "create_log_group", params=params))
    else:
        arn = current.get("logGroupArn") or current["arn"].removesuffix(":*")
        tags = ctx.reader.read("logs", "list_tags_for_resource", resourceArn=arn)
        ctx.check_owner(group, tags.get("tags", {}))
    if current is None or current.get("retentionInDays") != group.retention_days:
        params = {"logGroupName": group.name, "retentionInDays": group.retention_days}
        steps.append(ctx.call(group, "logs", "put_retention_policy", params=params))
    return steps


def metric_filter(ctx: Context, mf: MetricFilter) -> list[Instruction]:
    params = dict(mf.params)
    current = None
    if mf.log_group is not None and not ctx.is_new(mf.log_group):
        found = ctx.reader.read(
            "logs",
            "describe_metric_filters",
            logGroupName=params["logGroupName"],
            filterNamePrefix=params["filterName"],
        )
        filters = found.get("metricFilters", [])
        current = next((f for f in filters if f["filterName"] == params["filterName"]), None)
    if current is not None and _metric_filter_matches(current, params):
        return []
    put = ctx.create if current is None else ctx.call
    return [put(mf, "logs", "put_metric_filter", params=params, description=f"put {mf.label}")]


def alarm(ctx: Context, alarm: Alarm) -> list[Instruction]:
    found = ctx.reader.read("cloudwatch", "describe_alarms", AlarmNames=[alarm.name])
    current = next(iter(found.get("MetricAlarms", [])), None)
    if current is not None:
        ctx.check_tags(alarm, "cloudwatch", "list_tags_for_resource", ResourceARN=current["AlarmArn"])
        if alarm_matches(current, alarm.params):
            return []
    put = ctx.create if current is None else ctx.call
    params = {**alarm.params, "Tags": tag_list(_alarm_tags(alarm))}
    return [put(alarm, "cloudwatch", "put_metric_alarm", params=params, description=f"put {alarm.label}")]


def _alarm_tags(alarm: Alarm) -> dict[str, str]:
    """The alert rule's own tags (severity…) with the pipeline's tag."""
    return {t["Key"]: t["Value"] for t in alarm.params.get("Tags", [])} | alarm.tags


def _metric_filter_matches(current: dict[str, Any], params: dict[str, Any]) -> bool:
    if current.get("filterPattern", "") != params.get("filterPattern", ""):
        return False
    wanted = params.get("metricTransformations", [])
    have = current.get("metricTransformations", [])
    if len(wanted) != len(have):
        return False
    for w, h in zip(wanted, have, strict=True):
        for k, v in w.items():
            hv = h.get(k)
            if isinstance(v, int | float) and isinstance(hv, int | float | str):
                if float(hv) != float(v):
                    return False
            elif hv != v:
                return False
    return True
