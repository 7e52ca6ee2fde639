"""The AWS pipeline as data: inert resource dataclasses and the instructions of a plan.

A resource says what should exist (named after the pipeline, tagged ``dendro:pipeline=<name>``),
never how to get there. An instruction is one step of a plan: an API call with its parameters,
a value to remember, a wait for AWS to finish. A later call refers to an earlier result through
a :class:`Variable`, so a plan can be printed before any value is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

TAG_KEY = "dendro:pipeline"
RUNTIME = "python3.12"
HANDLER = "dendro.pipeline.loader.handler"
RAW_PREFIX = "raw/"
REJECTED_PREFIX = "rejected/"
AGGREGATES_PREFIX = "aggregates/"
#: the athena store's prefixes: Parquet objects, compaction tombstones, Athena's query results
TABLES_PREFIX = "tables/"
TOMBSTONES_PREFIX = "compacted/"
RESULTS_PREFIX = "athena-results/"
ATHENA_HANDLER = "dendro.pipeline.athena_loader.handler"


@dataclass(frozen=True)
class Names:
    """Every resource name of one pipeline in one account and region."""

    pipeline: str
    account: str
    region: str

    @property
    def bucket(self) -> str:
        return f"{self.pipeline}-{self.account}-{self.region}"

    @property
    def stream(self) -> str:
        return self.pipeline  # the name dendro.vector's Firehose sink sends to

    @property
    def firehose_role(self) -> str:
        return f"{self.pipeline}-firehose"

    @property
    def loader_role(self) -> str:
        return f"{self.pipeline}-loader"

    @property
    def function(self) -> str:
        return f"{self.pipeline}-loader"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function}"

    @property
    def database(self) -> str:
        return self.pipeline

    @property
    def topic(self) -> str:
        return f"{self.pipeline}-alerts"

    @property
    def agent_policy(self) -> str:
        return f"{self.pipeline}-agent-put-records"

    @property
    def agent_user(self) -> str:
        return f"{self.pipeline}-agent"

    @property
    def boundary(self) -> str:
        """The permissions boundary of every role and user the pipeline creates."""
        return f"{self.pipeline}-boundary"

    @property
    def alarm_prefix(self) -> str:
        return f"{self.pipeline}-"

    def role_arn(self, role: str) -> str:
        return f"arn:aws:iam::{self.account}:role/{role}"

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"

    @property
    def stream_arn(self) -> str:
        return f"arn:aws:firehose:{self.region}:{self.account}:deliverystream/{self.stream}"

    @property
    def function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function}"

    @property
    def topic_arn(self) -> str:
        return f"arn:aws:sns:{self.region}:{self.account}:{self.topic}"

    @property
    def agent_policy_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:policy/{self.agent_policy}"

    @property
    def boundary_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:policy/{self.boundary}"

    @property
    def agent_user_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:user/{self.agent_user}"

    def alarm_arn(self, alarm: str) -> str:
        return f"arn:aws:cloudwatch:{self.region}:{self.account}:alarm:{alarm}"

    @property
    def database_arn(self) -> str:
        return f"arn:aws:timestream:{self.region}:{self.account}:database/{self.database}"

    def table_arn(self, table: str) -> str:
        return f"{self.database_arn}/table/{table}"

    @property
    def log_group_arn(self) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:{self.log_group}"

    # --- the athena store -----------------------------------------------------------------

    @property
    def glue_database(self) -> str:
        """Glue and Athena names take no hyphen unquoted: ``my-app`` → ``my_app``."""
        return self.pipeline.replace("-", "_")

    @property
    def workgroup(self) -> str:
        return self.pipeline

    @property
    def compaction_rule(self) -> str:
        return f"{self.pipeline}-compact"

    @property
    def glue_catalog_arn(self) -> str:
        return f"arn:aws:glue:{self.region}:{self.account}:catalog"

    @property
    def glue_database_arn(self) -> str:
        return f"arn:aws:glue:{self.region}:{self.account}:database/{self.glue_database}"

    def glue_table_arn(self, table: str) -> str:
        return f"arn:aws:glue:{self.region}:{self.account}:table/{self.glue_database}/{table}"

    @property
    def workgroup_arn(self) -> str:
        return f"arn:aws:athena:{self.region}:{self.account}:workgroup/{self.workgroup}"

    @property
    def compaction_rule_arn(self) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:rule/{self.compaction_rule}"

    @property
    def results_location(self) -> str:
        return f"s3://{self.bucket}/{RESULTS_PREFIX}"


# --- resources -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """Something the pipeline owns. ``kind`` is what a user reads in plans and listings."""

    kind: ClassVar[str] = "resource"
    name: str
    pipeline: str

    @property
    def tags(self) -> dict[str, str]:
        return {TAG_KEY: self.pipeline}

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    def dependencies(self) -> tuple[Resource, ...]:
        return ()


@dataclass(frozen=True)
class Bucket(Resource):
    kind: ClassVar[str] = "S3 bucket"
    raw_expiry_days: int = 7
    #: more prefixes that expire: (rule id, prefix, days); the athena store's results and tombstones
    expiring: tuple[tuple[str, str, int], ...] = ()


@dataclass(frozen=True)
class ManagedPolicy(Resource):
    kind: ClassVar[str] = "IAM policy"
    document: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Boundary(ManagedPolicy):
    """The managed policy capping every role and user of the pipeline (their permissions boundary).

    The deployer policy lets nobody but an administrator create or change it (docs/aws.md)."""

    kind: ClassVar[str] = "IAM permissions boundary"


@dataclass(frozen=True)
class Role(Resource):
    kind: ClassVar[str] = "IAM role"
    trust_service: str = ""
    policy: Mapping[str, Any] = field(default_factory=dict)  # the inline policy document
    boundary: Boundary | None = None

    def dependencies(self) -> tuple[Resource, ...]:
        return (self.boundary,) if self.boundary else ()


@dataclass(frozen=True)
class DeliveryStream(Resource):
    kind: ClassVar[str] = "Firehose stream"
    bucket: Bucket | None = None
    role: Role | None = None
    buffer_interval: int = 60
    buffer_size_mb: int = 1

    def dependencies(self) -> tuple[Resource, ...]:
        return tuple(r for r in (self.bucket, self.role) if r is not None)


@dataclass(frozen=True)
class LogGroup(Resource):
    kind: ClassVar[str] = "log group"
    retention_days: int = 30


@dataclass(frozen=True)
class Package:
    """The Lambda zip: deterministic bytes, so an unchanged loader has an unchanged hash."""

    zip_bytes: bytes
    sha256: str  # base64, as Lambda reports CodeSha256
    modules: tuple[str, ...]


@dataclass(frozen=True)
class Function(Resource):
    kind: ClassVar[str] = "Lambda function"
    role: Role | None = None
    log_group: LogGroup | None = None
    package: Package | None = None
    memory_mb: int = 512
    timeout_s: int = 300
    environment: Mapping[str, str] = field(default_factory=dict)
    handler: str = HANDLER
    layers: tuple[str, ...] = ()  # layer version ARNs (the athena loader's pyarrow)
    store: str = "Timestream"  # what it loads into, for its description

    def dependencies(self) -> tuple[Resource, ...]:
        return tuple(r for r in (self.role, self.log_group) if r is not None)


@dataclass(frozen=True)
class BucketNotification(Resource):
    """S3 → Lambda on ``raw/``, with the invoke permission limited to this bucket and account."""

    kind: ClassVar[str] = "S3 notification"
    bucket: Bucket | None = None
    function: Function | None = None
    account: str = ""

    def dependencies(self) -> tuple[Resource, ...]:
        return tuple(r for r in (self.bucket, self.function) if r is not None)


@dataclass(frozen=True)
class Database(Resource):
    kind: ClassVar[str] = "Timestream database"


@dataclass(frozen=True)
class TimestreamTable(Resource):
    kind: ClassVar[str] = "Timestream table"
    database: Database | None = None
    bucket: Bucket | None = None  # where magnetic-store rejections land
    memory_hours: int = 24
    magnetic_days: int = 365

    def dependencies(self) -> tuple[Resource, ...]:
        return tuple(r for r in (self.database, self.bucket) if r is not None)


@dataclass(frozen=True)
class GlueDatabase(Resource):
    kind: ClassVar[str] = "Glue database"


@dataclass(frozen=True)
class GlueTable(Resource):
    """One table of the athena store: Parquet under ``tables/<name>/``, partition projection on ``date``."""

    kind: ClassVar[str] = "Glue table"
    database: GlueDatabase | None = None
    bucket: Bucket | None = None
    columns: tuple[tuple[str, str], ...] = ()  # (name, Hive type), ``time`` first

    @property
    def label(self) -> str:
        return f"{self.kind} {self.database.name if self.database else ''}.{self.name}"

    def dependencies(self) -> tuple[Resource, ...]:
        return tuple(r for r in (self.database, self.bucket) if r is not None)


@dataclass(frozen=True)
class Workgroup(Resource):
    """The Athena workgroup the store, the console and Grafana query in: results under
    ``athena-results/`` of the bucket, a bytes-scanned cutoff per query, its settings enforced."""

    kind: ClassVar[str] = "Athena workgroup"
    bucket: Bucket | None = None
    scan_limit_bytes: int = 1 << 30

    def dependencies(self) -> tuple[Resource, ...]:
        return (self.bucket,) if self.bucket else ()


@dataclass(frozen=True)
class Schedule(Resource):
    """An EventBridge rule invoking the loader with ``{"dendro": "compact"}`` on a schedule."""

    kind: ClassVar[str] = "EventBridge rule"
    function: Function | None = None
    interval_minutes: int = 60

    def dependencies(self) -> tuple[Resource, ...]:
        return (self.function,) if self.function else ()


@dataclass(frozen=True)
class Topic(Resource):
    kind: ClassVar[str] = "SNS topic"
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetricFilter(Resource):
    kind: ClassVar[str] = "metric filter"
    params: Mapping[str, Any] = field(default_factory=dict)  # put_metric_filter kwargs
    log_group: LogGroup | None = None

    def dependencies(self) -> tuple[Resource, ...]:
        return (self.log_group,) if self.log_group else ()


@dataclass(frozen=True)
class Alarm(Resource):
    kind: ClassVar[str] = "CloudWatch alarm"
    params: Mapping[str, Any] = field(default_factory=dict)  # put_metric_alarm kwargs
    topic: Topic | None = None

    def dependencies(self) -> tuple[Resource, ...]:
        return (self.topic,) if self.topic else ()


@dataclass(frozen=True)
class AgentUser(Resource):
    kind: ClassVar[str] = "IAM user"
    policy: ManagedPolicy | None = None
    boundary: Boundary | None = None

    def dependencies(self) -> tuple[Resource, ...]:
        return tuple(r for r in (self.boundary, self.policy) if r is not None)


@dataclass(frozen=True)
class Pipeline:
    """The desired state: every resource, in dependency order."""

    names: Names
    resources: tuple[Resource, ...]


# --- instructions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    """A value known only once an earlier instruction ran (an ARN returned by a create call)."""

    name: str


@dataclass(frozen=True)
class APICall:
    """One AWS API call. ``output`` stores the value at ``output_path`` of the response."""

    service: str
    method: str
    params: Mapping[str, Any]
    description: str = ""
    output: str | None = None
    output_path: tuple[str, ...] = ()
    retry_while_role_propagates: bool = False
    secret_output: bool = False  # the stored value is a secret: never displayed nor logged
    missing_ok: bool = False  # a delete whose target is already gone has done its job
    refused_hint: str = ""  # said after AWS's refusal when the deployer policy leaves it to an administrator


@dataclass(frozen=True)
class StoreValue:
    name: str
    value: Any


WaitCondition = Literal["firehose_active", "firehose_deleted", "function_active", "function_updated"]


@dataclass(frozen=True)
class WaitFor:
    """Poll until AWS finished what it answered before doing (a waiter or backoff polling)."""

    condition: WaitCondition
    name: str
    description: str = ""


@dataclass(frozen=True)
class EmptyBucket:
    """Delete every object version and delete marker of a bucket, all pages."""

    bucket: str
    description: str = ""
    page_size: int = 1000  # list_object_versions MaxKeys; delete_objects takes 1000 at most


Instruction = APICall | StoreValue | WaitFor | EmptyBucket


@dataclass(frozen=True)
class Change:
    """What a plan does to one resource, for people: ``create``, ``update`` or ``delete``."""

    action: Literal["create", "update", "delete"]
    label: str
    detail: str = ""


@dataclass(frozen=True)
class Plan:
    instructions: tuple[Instruction, ...] = ()
    changes: tuple[Change, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.instructions
