"""What exists of a pipeline: every resource found by its name, and whether it carries the tag.

``dendro list`` shows it and ``dendro teardown`` sweeps it. A resource with the pipeline's
name but without its ``dendro:pipeline`` tag is reported as not owned and never touched. One
exception keeps teardown complete after an interrupted deploy: S3 creates a bucket before it
can be tagged, so an *empty*, untagged bucket with the pipeline's exact name (which embeds the
account and region) is the deploy's own and is owned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from dendro.pipeline.clients import Clients
from dendro.pipeline.errors import TimestreamUnavailable
from dendro.pipeline.models import TAG_KEY, Names
from dendro.pipeline.plan import Reader


@dataclass(frozen=True)
class Found:
    kind: str
    name: str
    owned: bool
    state: str = ""
    link: str = ""
    detail: str = ""
    arn: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Inventory:
    names: Names
    found: list[Found] = field(default_factory=list)
    subscriptions: list[dict[str, str]] = field(default_factory=list)
    store: str = "timestream"  # which store's resources were looked for (aws.store)

    @property
    def owned(self) -> list[Found]:
        return [f for f in self.found if f.owned]

    @property
    def foreign(self) -> list[Found]:
        return [f for f in self.found if not f.owned]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.names.pipeline,
            "account": self.names.account,
            "region": self.names.region,
            "resources": [f.to_dict() for f in self.owned],
            "not_owned": [f.to_dict() for f in self.foreign],
            "subscriptions": self.subscriptions,
        }


def _tags(pairs: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in pairs or []}


def _console(region: str, path: str) -> str:
    return f"https://{region}.console.aws.amazon.com/{path}"


class Discovery:
    """Finds each resource kind; the order of :meth:`run` is the teardown order."""

    def __init__(self, clients: Clients, names: Names, store: str = "timestream") -> None:
        self.reader = Reader(clients)
        self.clients = clients
        self.names = names
        self.store = store
        self.inventory = Inventory(names, store=store)

    def run(self) -> Inventory:
        athena = self.store == "athena"
        steps: list[Callable[[], None]] = [
            self._alarms,
            self._stream,
            *([self._schedule] if athena else []),
            self._function,
            self._log_group,
            lambda: self._role(self.names.loader_role),
            lambda: self._role(self.names.firehose_role),
            self._agent_user,
            self._agent_policy,
            self._topic,
            *([self._workgroup, self._glue] if athena else [self._timestream]),
            self._bucket,
            self._boundary,  # last: the roles and the user it caps are gone by then
        ]
        for step in steps:
            step()
        return self.inventory

    def _add(self, kind: str, name: str, tags: dict[str, str], **kw: Any) -> None:
        owned = tags.get(TAG_KEY) == self.names.pipeline
        if not owned:
            kw["detail"] = f"no {TAG_KEY}={self.names.pipeline} tag: not created by this pipeline, left alone"
        self.inventory.found.append(Found(kind, name, owned, **kw))

    def _alarms(self) -> None:
        region = self.names.region
        alarms = self.clients.pages(
            "cloudwatch", "describe_alarms", "MetricAlarms", AlarmNamePrefix=self.names.alarm_prefix
        )
        for alarm in alarms:
            tags = self.reader.read("cloudwatch", "list_tags_for_resource", ResourceARN=alarm["AlarmArn"])
            link = _console(region, f"cloudwatch/home?region={region}#alarmsV2:alarm/{alarm['AlarmName']}")
            self._add(
                "CloudWatch alarm",
                alarm["AlarmName"],
                _tags(tags.get("Tags")),
                state=alarm.get("StateValue", ""),
                link=link,
                arn=alarm["AlarmArn"],
            )

    def _stream(self) -> None:
        name = self.names.stream
        found = self.reader.get(
            "firehose", "describe_delivery_stream", ("ResourceNotFoundException",), DeliveryStreamName=name
        )
        if found is None:
            return
        tags = self.reader.read("firehose", "list_tags_for_delivery_stream", DeliveryStreamName=name)
        region = self.names.region
        self._add(
            "Firehose stream",
            name,
            _tags(tags.get("Tags")),
            state=found["DeliveryStreamDescription"]["DeliveryStreamStatus"],
            link=_console(region, f"firehose/home?region={region}#/details/{name}"),
            arn=self.names.stream_arn,
        )

    def _function(self) -> None:
        name = self.names.function
        found = self.reader.get("lambda", "get_function", ("ResourceNotFoundException",), FunctionName=name)
        if found is None:
            return
        region = self.names.region
        self._add(
            "Lambda function",
            name,
            found.get("Tags") or {},
            state=found["Configuration"].get("State", ""),
            link=_console(region, f"lambda/home?region={region}#/functions/{name}"),
            arn=self.names.function_arn,
        )

    def _log_group(self) -> None:
        name = self.names.log_group
        found = self.reader.read("logs", "describe_log_groups", logGroupNamePrefix=name)
        group = next((g for g in found.get("logGroups", []) if g["logGroupName"] == name), None)
        if group is None:
            return
        arn = group.get("logGroupArn") or group["arn"].removesuffix(":*")
        tags = self.reader.read("logs", "list_tags_for_resource", resourceArn=arn)
        region = self.names.region
        filters = group.get("metricFilterCount", 0)
        self._add(
            "log group",
            name,
            tags.get("tags", {}),
            state=f"{filters} metric filters",
            link=_console(region, f"cloudwatch/home?region={region}#logsV2:log-groups"),
            arn=arn,
        )

    def _role(self, name: str) -> None:
        found = self.reader.get("iam", "get_role", ("NoSuchEntity",), RoleName=name)
        if found is None:
            return
        tags = self.reader.read("iam", "list_role_tags", RoleName=name)
        self._add(
            "IAM role",
            name,
            _tags(tags.get("Tags")),
            state="exists",
            link=f"https://console.aws.amazon.com/iam/home#/roles/{name}",
            arn=found["Role"]["Arn"],
        )

    def _agent_user(self) -> None:
        name = self.names.agent_user
        found = self.reader.get("iam", "get_user", ("NoSuchEntity",), UserName=name)
        if found is None:
            return
        tags = self.reader.read("iam", "list_user_tags", UserName=name)
        self._add(
            "IAM user",
            name,
            _tags(tags.get("Tags")),
            state="exists",
            link=f"https://console.aws.amazon.com/iam/home#/users/{name}",
            arn=found["User"]["Arn"],
        )

    def _agent_policy(self) -> None:
        self._managed_policy("IAM policy", self.names.agent_policy, self.names.agent_policy_arn)

    def _boundary(self) -> None:
        self._managed_policy("IAM permissions boundary", self.names.boundary, self.names.boundary_arn)

    def _managed_policy(self, kind: str, name: str, arn: str) -> None:
        found = self.reader.get("iam", "get_policy", ("NoSuchEntity",), PolicyArn=arn)
        if found is None:
            return
        tags = self.reader.read("iam", "list_policy_tags", PolicyArn=arn)
        attached = found["Policy"].get("AttachmentCount", 0)
        capped = found["Policy"].get("PermissionsBoundaryUsageCount", 0)
        self._add(
            kind,
            name,
            _tags(tags.get("Tags")),
            state=f"caps {capped}x" if kind.endswith("boundary") else f"attached {attached}x",
            link=f"https://console.aws.amazon.com/iam/home#/policies/{arn}",
            arn=arn,
        )

    def _topic(self) -> None:
        arn = self.names.topic_arn
        found = self.reader.get(
            "sns", "get_topic_attributes", ("NotFound", "NotFoundException"), TopicArn=arn
        )
        if found is None:
            return
        tags = _tags(self.reader.read("sns", "list_tags_for_resource", ResourceArn=arn).get("Tags"))
        region = self.names.region
        self._add(
            "SNS topic",
            self.names.topic,
            tags,
            state="exists",
            link=_console(region, f"sns/v3/home?region={region}#/topic/{arn}"),
            arn=arn,
        )
        if tags.get(TAG_KEY) != self.names.pipeline:
            return
        for sub in self.clients.pages("sns", "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn):
            pending = sub["SubscriptionArn"] in ("PendingConfirmation", "pending confirmation")
            self.inventory.subscriptions.append(
                {
                    "protocol": sub.get("Protocol", ""),
                    "endpoint": sub.get("Endpoint", ""),
                    "state": "pending confirmation" if pending else "confirmed",
                    "arn": sub["SubscriptionArn"],
                }
            )

    def _timestream(self) -> None:
        name = self.names.database
        try:
            found = self.reader.get(
                "timestream-write", "describe_database", ("ResourceNotFoundException",), DatabaseName=name
            )
        except TimestreamUnavailable:
            return  # the account cannot use Timestream, so nothing of it exists
        if found is None:
            return
        region = self.names.region
        db_tags = self.reader.read(
            "timestream-write", "list_tags_for_resource", ResourceARN=found["Database"]["Arn"]
        )
        owned_db = _tags(db_tags.get("Tags")).get(TAG_KEY) == self.names.pipeline
        if owned_db:
            tables = self.clients.pages("timestream-write", "list_tables", "Tables", DatabaseName=name)
            for table in tables:
                tags = self.reader.read(
                    "timestream-write", "list_tags_for_resource", ResourceARN=table["Arn"]
                )
                self._add(
                    "Timestream table",
                    f"{name}.{table['TableName']}",
                    _tags(tags.get("Tags")),
                    state=table.get("TableStatus", ""),
                    arn=table["Arn"],
                    link=_console(
                        region,
                        f"timestream/home?region={region}#databases/{name}/tables/{table['TableName']}/",
                    ),
                )
        self._add(
            "Timestream database",
            name,
            _tags(db_tags.get("Tags")),
            state="exists",
            arn=found["Database"]["Arn"],
            link=_console(region, f"timestream/home?region={region}#databases/{name}"),
        )

    def _bucket(self) -> None:
        name = self.names.bucket
        if self.reader.get("s3", "head_bucket", ("404", "NoSuchBucket", "NotFound"), Bucket=name) is None:
            return
        tagging = self.reader.get("s3", "get_bucket_tagging", ("NoSuchTagSet",), Bucket=name)
        tags = _tags((tagging or {}).get("TagSet"))
        link = f"https://s3.console.aws.amazon.com/s3/buckets/{name}"
        if not tags:
            listing = self.reader.read("s3", "list_object_versions", Bucket=name, MaxKeys=1)
            if not listing.get("Versions") and not listing.get("DeleteMarkers"):
                tags = {TAG_KEY: self.names.pipeline}  # an interrupted deploy's bucket: see the docstring
        self._add("S3 bucket", name, tags, state="exists", link=link, arn=self.names.bucket_arn)

    # --- the athena store ----------------------------------------------------------------

    def _schedule(self) -> None:
        name = self.names.compaction_rule
        found = self.reader.get("events", "describe_rule", ("ResourceNotFoundException",), Name=name)
        if found is None:
            return
        arn = self.names.compaction_rule_arn
        tags = self.reader.read("events", "list_tags_for_resource", ResourceARN=arn)
        region = self.names.region
        self._add(
            "EventBridge rule",
            name,
            _tags(tags.get("Tags")),
            state=f"{found.get('State', '')} {found.get('ScheduleExpression', '')}".strip(),
            link=_console(region, f"events/home?region={region}#/eventbus/default/rules/{name}"),
            arn=arn,
        )

    def _workgroup(self) -> None:
        from dendro.pipeline.plan.athena import get_work_group

        name = self.names.workgroup
        found = get_work_group(self.clients, name)
        if found is None:
            return
        arn = self.names.workgroup_arn
        tags = self.reader.read("athena", "list_tags_for_resource", ResourceARN=arn)
        region = self.names.region
        self._add(
            "Athena workgroup",
            name,
            _tags(tags.get("Tags")),
            state=found["WorkGroup"].get("State", ""),
            link=_console(region, f"athena/home?region={region}#/workgroups/details/{name}"),
            arn=arn,
        )

    def _glue(self) -> None:
        name = self.names.glue_database
        found = self.reader.get("glue", "get_database", ("EntityNotFoundException",), Name=name)
        if found is None:
            return
        tags = self.reader.read("glue", "get_tags", ResourceArn=self.names.glue_database_arn).get("Tags", {})
        region = self.names.region
        if tags.get(TAG_KEY) == self.names.pipeline:  # a table is the pipeline's through its database
            for table in self.clients.pages("glue", "get_tables", "TableList", DatabaseName=name):
                self._add(
                    "Glue table",
                    f"{name}.{table['Name']}",
                    tags,
                    state="partition projection "
                    + table.get("Parameters", {}).get("projection.enabled", "off"),
                    link=_console(region, f"glue/home?region={region}#/v2/data-catalog/tables"),
                    arn=self.names.glue_table_arn(table["Name"]),
                )
        self._add(
            "Glue database",
            name,
            tags,
            state="exists",
            link=_console(region, f"glue/home?region={region}#/v2/data-catalog/databases"),
            arn=self.names.glue_database_arn,
        )


def discover(clients: Clients, names: Names, store: str = "timestream") -> Inventory:
    return Discovery(clients, names, store).run()
