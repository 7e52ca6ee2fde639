"""Plan the athena store's compaction schedule: an EventBridge rule invoking the loader.

The rule (``rate(N minutes)``) targets the loader function with the constant input
``{"dendro": "compact"}``; the function's resource policy lets ``events.amazonaws.com`` invoke
it only for this rule (SourceArn).
"""

from __future__ import annotations

import json
from typing import Any

from dendro.pipeline.models import Instruction, Schedule, Variable
from dendro.pipeline.plan.base import NOT_FOUND, Context
from dendro.pipeline.resources import tag_list

SERVICE = "events"
TARGET_ID = "loader"
INPUT = json.dumps({"dendro": "compact"}, separators=(",", ":"))


def expression(schedule: Schedule) -> str:
    minutes = schedule.interval_minutes
    return "rate(1 minute)" if minutes == 1 else f"rate({minutes} minutes)"


def statement_id(pipeline: str) -> str:
    return f"{pipeline}-compact-invoke"


def schedule(ctx: Context, schedule: Schedule) -> list[Instruction]:
    assert schedule.function is not None
    found = ctx.reader.get(SERVICE, "describe_rule", NOT_FOUND, Name=schedule.name)
    steps: list[Instruction] = []
    if found is not None:
        ctx.check_tags(schedule, SERVICE, "list_tags_for_resource", ResourceARN=ctx.names.compaction_rule_arn)
    if (
        found is None
        or found.get("ScheduleExpression") != expression(schedule)
        or found.get("State") != "ENABLED"
    ):
        params = {
            "Name": schedule.name,
            "ScheduleExpression": expression(schedule),
            "State": "ENABLED",
            "Description": f"Dendro pipeline {schedule.pipeline}: compact small Parquet objects",
            "Tags": tag_list(schedule.tags),
        }
        put = ctx.create if found is None else ctx.call
        steps.append(put(schedule, SERVICE, "put_rule", params=params, description=f"put {schedule.label}"))
    steps += _target(ctx, schedule, found is None)
    steps += _permission(ctx, schedule)
    return steps


def _target(ctx: Context, schedule: Schedule, new: bool) -> list[Instruction]:
    assert schedule.function is not None
    fn = schedule.function
    if not new:
        targets = ctx.reader.read(SERVICE, "list_targets_by_rule", Rule=schedule.name).get("Targets", [])
        if [(t["Id"], t["Arn"], t.get("Input")) for t in targets] == [
            (TARGET_ID, ctx.names.function_arn, INPUT)
        ]:
            return []
    target = {"Id": TARGET_ID, "Arn": Variable(f"function:{fn.name}.arn"), "Input": INPUT}
    params: dict[str, Any] = {"Rule": schedule.name, "Targets": [target]}
    return [
        ctx.call(
            schedule,
            SERVICE,
            "put_targets",
            params=params,
            description=f"run {fn.name} from {schedule.label}",
        )
    ]


def _permission(ctx: Context, schedule: Schedule) -> list[Instruction]:
    assert schedule.function is not None
    fn = schedule.function
    sid = statement_id(schedule.pipeline)
    if not ctx.is_new(fn):
        policy = ctx.reader.get("lambda", "get_policy", NOT_FOUND, FunctionName=fn.name)
        for st in json.loads((policy or {}).get("Policy", "{}")).get("Statement", []):
            if st.get("Sid") == sid:
                return []
    params = {
        "FunctionName": fn.name,
        "StatementId": sid,
        "Action": "lambda:InvokeFunction",
        "Principal": "events.amazonaws.com",
        "SourceArn": ctx.names.compaction_rule_arn,
    }
    return [
        ctx.call(
            schedule,
            "lambda",
            "add_permission",
            params=params,
            description=f"allow {schedule.name} (only) to invoke {fn.name}",
        )
    ]
