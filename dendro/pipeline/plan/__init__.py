"""The planner: reads what exists and returns the calls that turn it into the desired state.

It only reads (every read goes through the client layer and is counted); the executor alone
changes anything. A resource that exists with the right settings yields no instruction, so a
second deploy plans nothing. A resource with the pipeline's name but without its tag was not
created by Dendro: the planner refuses to adopt it rather than change someone else's resource.

One module a service: :mod:`.storage` (S3), :mod:`.delivery` (Firehose), :mod:`.iam`,
:mod:`.function` (Lambda and the S3 notification), :mod:`.timestream`, :mod:`.notifications`
(SNS) and :mod:`.alarms` (CloudWatch Logs and alarms); for the athena store :mod:`.glue`,
:mod:`.athena` (the workgroup) and :mod:`.schedule` (compaction); :mod:`.base` holds what they share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from dendro.pipeline.clients import Clients
from dendro.pipeline.models import (
    AgentUser,
    Alarm,
    APICall,
    Boundary,
    Bucket,
    BucketNotification,
    Change,
    Database,
    DeliveryStream,
    Function,
    GlueDatabase,
    GlueTable,
    Instruction,
    LogGroup,
    ManagedPolicy,
    MetricFilter,
    Names,
    Pipeline,
    Plan,
    Role,
    Schedule,
    TimestreamTable,
    Topic,
    WaitFor,
    Workgroup,
)
from dendro.pipeline.plan import (
    alarms,
    athena,
    delivery,
    function,
    glue,
    iam,
    notifications,
    schedule,
    storage,
    timestream,
)
from dendro.pipeline.plan.base import Context, Reader

__all__ = ["Planner", "Reader"]

Step = Callable[[Context, Any], list[Instruction]]

#: how each kind of resource is planned
STEPS: dict[type, Step] = {
    Database: timestream.database,
    Bucket: storage.bucket,
    TimestreamTable: timestream.table,
    Topic: notifications.topic,
    Role: iam.role,
    DeliveryStream: delivery.stream,
    LogGroup: alarms.log_group,
    Function: function.function,
    BucketNotification: function.notification,
    MetricFilter: alarms.metric_filter,
    Alarm: alarms.alarm,
    ManagedPolicy: iam.managed_policy,
    Boundary: iam.managed_policy,
    AgentUser: iam.agent_user,
    GlueDatabase: glue.database,
    GlueTable: glue.table,
    Workgroup: athena.workgroup,
    Schedule: schedule.schedule,
}


class Planner:
    """Turns a desired :class:`Pipeline` into a :class:`Plan`."""

    def __init__(self, clients: Clients, names: Names) -> None:
        self.reader = Reader(clients)
        self.names = names

    def plan(self, pipeline: Pipeline) -> Plan:
        ctx = Context(self.reader, self.names)
        instructions: list[Instruction] = []
        changes: list[Change] = []
        for resource in pipeline.resources:
            steps = STEPS[type(resource)](ctx, resource)
            calls = [s for s in steps if isinstance(s, APICall | WaitFor)]
            if calls:
                action: Literal["create", "update"] = "create" if ctx.is_new(resource) else "update"
                changes.append(Change(action, resource.label, calls[0].description))
            instructions.extend(steps)
        if not any(isinstance(i, APICall | WaitFor) for i in instructions):
            return Plan()
        return Plan(tuple(instructions), tuple(changes))
