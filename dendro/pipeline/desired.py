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
from dendro.pipeline import policies
from dendro.pipeline.models import (
    AgentUser,
    Alarm,
    Boundary,
    Bucket,
    BucketNotification,
    Database,
    DeliveryStream,
    Function,
    LogGroup,
    ManagedPolicy,
    MetricFilter,
    Names,
    Package,
    Pipeline,
    Resource,
    Role,
    TimestreamTable,
    Topic,
)


def emails_of(config: Config, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The alert emails: dendro.yaml's aws.emails and --email, each once, in order."""
    return tuple(dict.fromkeys([*config.aws.emails, *extra]))


def environment(config: Config, names: Names) -> dict[str, str]:
    """The loader's environment (documented in docs/loader.md)."""
    env = {
        "DENDRO_DATABASE": names.database,
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


def boundary(names: Names) -> Boundary:
    return Boundary(
        names.boundary,
        names.pipeline,
        document=policies.boundary(names),
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
    administrator's part: without it the deployer creates nothing), then Timestream (if the account
    cannot use it, nothing else is created)."""
    p, aws = names.pipeline, config.aws
    tables = sorted(config.tables())
    cap = boundary(names)
    database = Database(names.database, p)
    bucket = Bucket(names.bucket, p, raw_expiry_days=aws.raw_expiry_days)
    ts_tables = [
        TimestreamTable(
            t,
            p,
            database=database,
            bucket=bucket,
            memory_hours=aws.memory_retention_hours,
            magnetic_days=aws.magnetic_retention_days,
        )
        for t in tables
    ]
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
        policy=policies.loader_role(names, tables),
        boundary=cap,
    )
    function = Function(
        names.function,
        p,
        role=loader_role,
        log_group=log_group,
        package=package,
        memory_mb=aws.lambda_memory_mb,
        timeout_s=aws.lambda_timeout_s,
        environment=environment(config, names),
    )
    notification = BucketNotification(
        f"{names.bucket}/{'raw/'}", p, bucket=bucket, function=function, account=names.account
    )
    agent_policy = ManagedPolicy(
        names.agent_policy,
        p,
        document=policies.agent(names),
        description=f"Dendro agents: put records into the {names.stream} Firehose stream only",
    )
    resources: list[Resource] = [cap, database, bucket, *ts_tables, topic, firehose_role, stream]
    resources += [log_group, loader_role, function, notification]
    resources += _alerts(config, names, log_group, topic)
    resources.append(agent_policy)
    if agent_user:
        resources.append(AgentUser(names.agent_user, p, policy=agent_policy, boundary=cap))
    return Pipeline(names=names, resources=tuple(resources))
