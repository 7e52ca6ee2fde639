"""The desired state of a pipeline, derived from dendro.yaml and the service catalog.

Pure: no AWS call. The account and region come from the credentials check; the loader's zip
from :mod:`dendro.pipeline.package`; metric filters and alarms from :mod:`dendro.alerts.cloudwatch`
(they are data: one resource per call it returns).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from dendro.alerts import cloudwatch
from dendro.config import Config
from dendro.pipeline import layers, policies
from dendro.pipeline.models import (
    ATHENA_HANDLER,
    RESULTS_PREFIX,
    TOMBSTONES_PREFIX,
    AgentUser,
    Alarm,
    Boundary,
    Bucket,
    BucketNotification,
    Database,
    DeliveryStream,
    Function,
    GlueDatabase,
    GlueTable,
    LogGroup,
    ManagedPolicy,
    MetricFilter,
    Names,
    Package,
    Pipeline,
    Resource,
    Role,
    Schedule,
    TimestreamTable,
    Topic,
    Workgroup,
)
from dendro.pipeline.plan.glue import hive_type
from dendro.services.base import Table


def emails_of(config: Config, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The alert emails: dendro.yaml's aws.emails and --email, each once, in order."""
    return tuple(dict.fromkeys([*config.aws.emails, *extra]))


def is_athena(config: Config) -> bool:
    return config.aws.store == policies.ATHENA


def environment(config: Config, names: Names) -> dict[str, str]:
    """The loader's environment (documented in docs/loader.md)."""
    env = {
        "DENDRO_DATABASE": names.glue_database if is_athena(config) else names.database,
        "DENDRO_BUCKET": names.bucket,
        "DENDRO_SNS_TOPIC_ARN": names.topic_arn,
        "DENDRO_TABLES": ",".join(sorted(config.tables())),
    }
    custom_names = {app.name for app in config.custom}
    custom = [
        {
            "name": table.name,
            "columns": [{"name": c.name, "type": c.type, "dimension": c.dimension} for c in table.columns],
        }
        for service in config.enabled_services()
        if service.name in custom_names
        for table in service.tables
    ]
    if custom:
        env["DENDRO_CUSTOM_TABLES"] = json.dumps(custom, sort_keys=True, separators=(",", ":"))
    return env


def _alerts(config: Config, names: Names, log_group: LogGroup, topic: Topic) -> list[Resource]:
    resources: list[Resource] = []
    for params in cloudwatch.metric_filters(config, names.log_group):
        params = {**params, "logGroupName": names.log_group}
        resources.append(
            MetricFilter(params["filterName"], names.pipeline, params=params, log_group=log_group)
        )
    for params in cloudwatch.alarms(config, names.topic_arn):
        name = params["AlarmName"]
        if not name.startswith(names.alarm_prefix):  # teardown finds alarms by the pipeline's prefix
            name = names.alarm_prefix + name
        params = {**params, "AlarmName": name}
        resources.append(Alarm(name, names.pipeline, params=params, topic=topic))
    return resources


def alarm_names(config: Config, names: Names) -> list[str]:
    """The CloudWatch alarms dendro.yaml's rules give (the deployer policy names each one)."""
    log_group, topic = LogGroup(names.log_group, names.pipeline), Topic(names.topic, names.pipeline)
    return [r.name for r in _alerts(config, names, log_group, topic) if isinstance(r, Alarm)]


def boundary(names: Names, store: str = policies.TIMESTREAM) -> Boundary:
    return Boundary(
        names.boundary,
        names.pipeline,
        document=policies.boundary(names, store),
        description=f"Dendro pipeline {names.pipeline}: the most its roles and agent user may ever do",
    )


def desired(
    config: Config,
    names: Names,
    package: Package,
    emails: Sequence[str] = (),
    agent_user: bool = False,
) -> Pipeline:
    """Every resource of the pipeline in dependency order: the permissions boundary first (the
    administrator's part: without it the deployer creates nothing), then the store (Timestream: if
    the account cannot use it, nothing else is created; or the Glue database and tables)."""
    p, aws = names.pipeline, config.aws
    tables = sorted(config.tables())
    cap = boundary(names, aws.store)
    bucket = _bucket(config, names)
    store = (
        _athena_store(config, names, bucket)
        if is_athena(config)
        else _timestream_store(config, names, bucket)
    )
    topic = Topic(names.topic, p, emails=emails_of(config, emails))
    firehose_role = Role(
        names.firehose_role,
        p,
        trust_service="firehose.amazonaws.com",
        policy=policies.firehose_role(names),
        boundary=cap,
    )
    stream = DeliveryStream(
        names.stream,
        p,
        bucket=bucket,
        role=firehose_role,
        buffer_interval=aws.buffer_interval,
        buffer_size_mb=aws.buffer_size_mb,
    )
    log_group = LogGroup(names.log_group, p)
    loader_role = Role(
        names.loader_role,
        p,
        trust_service="lambda.amazonaws.com",
        policy=policies.loader_role(names, tables, aws.store),
        boundary=cap,
    )
    function = _function(config, names, loader_role, log_group, package)
    notification = BucketNotification(
        f"{names.bucket}/{'raw/'}", p, bucket=bucket, function=function, account=names.account
    )
    agent_policy = ManagedPolicy(
        names.agent_policy,
        p,
        document=policies.agent(names),
        description=f"Dendro agents: put records into the {names.stream} Firehose stream only",
    )
    first, later = store
    resources: list[Resource] = [cap, *first, bucket, *later, topic, firehose_role, stream]
    resources += [log_group, loader_role, function, notification]
    if is_athena(config):
        resources.append(
            Schedule(
                names.compaction_rule, p, function=function, interval_minutes=aws.compaction_interval_minutes
            )
        )
    resources += _alerts(config, names, log_group, topic)
    resources.append(agent_policy)
    if agent_user:
        resources.append(AgentUser(names.agent_user, p, policy=agent_policy, boundary=cap))
    return Pipeline(names=names, resources=tuple(resources))


def _bucket(config: Config, names: Names) -> Bucket:
    aws = config.aws
    expiring: tuple[tuple[str, str, int], ...] = ()
    if is_athena(config):
        expiring = (
            ("expire-athena-results", RESULTS_PREFIX, aws.athena_results_expiry_days),
            ("expire-compaction-tombstones", TOMBSTONES_PREFIX, aws.raw_expiry_days + 1),
        )
    return Bucket(names.bucket, names.pipeline, raw_expiry_days=aws.raw_expiry_days, expiring=expiring)


def _timestream_store(config: Config, names: Names, bucket: Bucket) -> tuple[list[Resource], list[Resource]]:
    """The database (before the bucket: a refused account creates nothing) and its tables."""
    aws = config.aws
    database = Database(names.database, names.pipeline)
    tables: list[Resource] = [
        TimestreamTable(
            t,
            names.pipeline,
            database=database,
            bucket=bucket,
            memory_hours=aws.memory_retention_hours,
            magnetic_days=aws.magnetic_retention_days,
        )
        for t in sorted(config.tables())
    ]
    return [database], tables


def glue_columns(table: Table) -> tuple[tuple[str, str], ...]:
    """``time`` then the catalog's columns, as the shared Parquet layout orders them."""
    return (("time", "timestamp"), *((c.name, hive_type(c.type)) for c in table.columns if c.name != "time"))


def _athena_store(config: Config, names: Names, bucket: Bucket) -> tuple[list[Resource], list[Resource]]:
    """The Glue database, one Glue table per table, and the workgroup (after the bucket)."""
    p = names.pipeline
    database = GlueDatabase(names.glue_database, p)
    tables: list[Resource] = [
        GlueTable(name, p, database=database, bucket=bucket, columns=glue_columns(table))
        for name, table in sorted(config.tables().items())
    ]
    workgroup = Workgroup(
        names.workgroup, p, bucket=bucket, scan_limit_bytes=config.aws.athena_scan_limit_mb << 20
    )
    return [], [database, *tables, workgroup]


def _function(config: Config, names: Names, role: Role, log_group: LogGroup, package: Package) -> Function:
    aws = config.aws
    athena = is_athena(config)
    return Function(
        names.function,
        names.pipeline,
        role=role,
        log_group=log_group,
        package=package,
        memory_mb=aws.lambda_memory_mb,
        timeout_s=aws.lambda_timeout_s,
        environment=environment(config, names),
        handler=ATHENA_HANDLER if athena else Function.handler,
        layers=(layers.pyarrow_layer(names.region, aws.pyarrow_layer),) if athena else (),
        store="Parquet in S3 (Athena)" if athena else "Timestream",
    )
