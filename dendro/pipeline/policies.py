"""Least-privilege IAM documents: the Firehose and Lambda roles, the agents, their boundary, the deployer.

Every statement names its actions one by one (no ``*`` action, no ``*FullAccess``) and scopes
them to this pipeline's exact resource names. ``"Resource": "*"`` appears only for actions the
Service Authorization Reference lists without a resource type (:data:`UNSCOPED_ACTIONS`).

The deployer may create roles and a user, so it could make itself administrator unless every
identity it creates is capped: each carries the permissions boundary ``<pipeline>-boundary``
(:func:`boundary`), the deployer may create and change roles and users only with that boundary,
attach no policy but the agents' own, and never write the boundary itself: an administrator
creates it once (the first deploy), so its content is not the deployer's to choose.
docs/aws.md gives the reason for every permission.
"""

from __future__ import annotations

from typing import Any

from dendro.pipeline.models import (
    AGGREGATES_PREFIX,
    RAW_PREFIX,
    REJECTED_PREFIX,
    TABLES_PREFIX,
    TOMBSTONES_PREFIX,
    Names,
)

VERSION = "2012-10-17"
Document = dict[str, Any]

#: actions the Service Authorization Reference lists with no resource type: the only ones on "*"
UNSCOPED_ACTIONS = frozenset({"timestream:DescribeEndpoints", "logs:DescribeLogGroups"})
#: actions granted on every resource of a type in the account: a prefix listing of alarms is
#: authorised on alarm:*, and the agents' policy is detached from any identity an administrator
#: attached it to (only that policy: an iam:PolicyARN condition)
ACCOUNT_SCOPED_ACTIONS = frozenset(
    {"cloudwatch:DescribeAlarms", "iam:DetachUserPolicy", "iam:DetachRolePolicy", "iam:DetachGroupPolicy"}
)
TIMESTREAM, ATHENA = "timestream", "athena"


def _statement(sid: str, actions: list[str], resources: list[str] | str, **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources, **extra}


def trust(service: str, account: str) -> Document:
    """Only ``service`` may assume the role, and only on behalf of this account."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if service == "firehose.amazonaws.com":
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": account}}
    return {"Version": VERSION, "Statement": [statement]}


def firehose_role(names: Names) -> Document:
    """Firehose writes objects under raw/ and its failures under rejected/firehose/."""
    bucket = names.bucket_arn
    return {
        "Version": VERSION,
        "Statement": [
            _statement(
                "WriteRawObjects",
                ["s3:PutObject", "s3:AbortMultipartUpload"],
                [f"{bucket}/{RAW_PREFIX}*", f"{bucket}/{REJECTED_PREFIX}firehose/*"],
            ),
            _statement("LocateBucket", ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], bucket),
        ],
    }


def loader_role(names: Names, tables: list[str], store: str = TIMESTREAM) -> Document:
    """The loader reads raw/, writes rejected/ and aggregates/, its store, SNS and its logs."""
    bucket = names.bucket_arn
    return {
        "Version": VERSION,
        "Statement": [
            _statement("ReadRawObjects", ["s3:GetObject"], f"{bucket}/{RAW_PREFIX}*"),
            _statement(
                "WriteRejectedAndAggregates",
                ["s3:PutObject"],
                [f"{bucket}/{REJECTED_PREFIX}*", f"{bucket}/{AGGREGATES_PREFIX}*"],
            ),
            *(_athena_loader(names) if store == ATHENA else _timestream_loader(names, tables)),
            _statement("PublishAlerts", ["sns:Publish"], names.topic_arn),
            _statement(
                "WriteOwnLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                f"{names.log_group_arn}:*",
            ),
        ],
    }


def _timestream_loader(names: Names, tables: list[str]) -> list[dict[str, Any]]:
    table_arns = [names.table_arn(t) for t in sorted(tables)]
    return [
        _statement("WriteRecords", ["timestream:WriteRecords"], table_arns),
        _statement("DiscoverTimestreamEndpoint", ["timestream:DescribeEndpoints"], "*"),
    ]


def _athena_loader(names: Names, prefix: str = "") -> list[dict[str, Any]]:
    """Parquet objects under tables/ (written, and read and deleted by compaction), tombstones
    under compacted/ (written, found by listing), and listing only those two prefixes."""
    bucket = names.bucket_arn
    return [
        _statement(
            f"{prefix}WritesAndCompactsTables",
            ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
            f"{bucket}/{TABLES_PREFIX}*",
        ),
        _statement(f"{prefix}WritesTombstones", ["s3:PutObject"], f"{bucket}/{TOMBSTONES_PREFIX}*"),
        _statement(
            f"{prefix}ListsTablesAndTombstones",
            ["s3:ListBucket"],
            bucket,
            Condition={"StringLike": {"s3:prefix": [f"{TABLES_PREFIX}*", f"{TOMBSTONES_PREFIX}*"]}},
        ),
    ]


def agent(names: Names) -> Document:
    """What a node's Vector agent may do: put records into this stream, nothing else."""
    return {
        "Version": VERSION,
        "Statement": [
            _statement(
                "PutRecordsIntoStream", ["firehose:PutRecord", "firehose:PutRecordBatch"], names.stream_arn
            )
        ],
    }


def boundary(names: Names, store: str = TIMESTREAM) -> Document:
    """The most any role or user of the pipeline can ever do, whatever policy it is given later:
    what the Firehose role, the loader role and the agents need, nothing else. It depends on the
    names and the store only (never on the rest of dendro.yaml), so it changes only when the store
    does (an administrator's deploy, as its first)."""
    bucket = names.bucket_arn
    if store == ATHENA:
        loader_store = _athena_loader(names, prefix="Loader")
    else:
        loader_store = [
            _statement("LoaderWritesRecords", ["timestream:WriteRecords"], f"{names.database_arn}/table/*"),
            _statement("LoaderDiscoversTimestreamEndpoint", ["timestream:DescribeEndpoints"], "*"),
        ]
    return {
        "Version": VERSION,
        "Statement": [
            _statement(
                "FirehoseWritesRawObjects",
                ["s3:PutObject", "s3:AbortMultipartUpload"],
                [f"{bucket}/{RAW_PREFIX}*", f"{bucket}/{REJECTED_PREFIX}firehose/*"],
            ),
            _statement(
                "FirehoseLocatesBucket", ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"], bucket
            ),
            _statement("LoaderReadsRawObjects", ["s3:GetObject"], f"{bucket}/{RAW_PREFIX}*"),
            _statement(
                "LoaderWritesRejectedAndAggregates",
                ["s3:PutObject"],
                [f"{bucket}/{REJECTED_PREFIX}*", f"{bucket}/{AGGREGATES_PREFIX}*"],
            ),
            *loader_store,
            _statement("LoaderPublishesAlerts", ["sns:Publish"], names.topic_arn),
            _statement(
                "LoaderWritesOwnLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                f"{names.log_group_arn}:*",
            ),
            _statement(
                "AgentsPutRecords", ["firehose:PutRecord", "firehose:PutRecordBatch"], names.stream_arn
            ),
        ],
    }


def deployer(
    names: Names, alarms: list[str] | tuple[str, ...] = (), store: str = TIMESTREAM, layer: str = ""
) -> Document:
    """What `dendro deploy`, `list` and `teardown` call, on this pipeline's exact names.

    ``alarms`` are the CloudWatch alarm names dendro.yaml's rules give (they are known exactly);
    ``layer`` the athena loader's pyarrow layer version (its function is created with it).
    """
    stored = _athena_control(names, layer) if store == ATHENA else _timestream_control(names)
    statements = [*_data_plane(names, alarms, stored), *_identities(names), *_never(names)]
    return {"Version": VERSION, "Statement": statements}


def _timestream_control(names: Names) -> list[dict[str, Any]]:
    return [
        _statement("Timestream", _TIMESTREAM, [names.database_arn, f"{names.database_arn}/table/*"]),
        _statement("TimestreamEndpoints", ["timestream:DescribeEndpoints"], "*"),
    ]


def _athena_control(names: Names, layer: str) -> list[dict[str, Any]]:
    """The Glue database and its tables, the workgroup, the compaction schedule, the loader's layer;
    reading the agents' recent Parquet objects (teardown's warning)."""
    db = names.glue_database
    glue = [
        names.glue_catalog_arn,
        names.glue_database_arn,
        names.glue_table_arn("*"),
        f"arn:aws:glue:{names.region}:{names.account}:userDefinedFunction/{db}/*",
    ]
    statements = [
        _statement("GlueDatabaseAndTables", _GLUE, glue),
        _statement("AthenaWorkgroup", _ATHENA, names.workgroup_arn),
        _statement("CompactionSchedule", _EVENTS, names.compaction_rule_arn),
        _statement(
            "OnlyTheScheduleMayInvokeTheFunction",
            ["lambda:AddPermission"],
            names.function_arn,
            Condition={"StringEquals": {"lambda:Principal": "events.amazonaws.com"}},
        ),
        _statement(
            "ReadTheAgentsRecentObjects", ["s3:GetObject"], f"{names.bucket_arn}/{TABLES_PREFIX}agent/*"
        ),
    ]
    if layer:
        statements.append(_statement("UseThePyarrowLayer", ["lambda:GetLayerVersion"], layer))
    return statements


def _data_plane(
    names: Names, alarms: list[str] | tuple[str, ...], stored: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The pipeline's storage, stream, function, logs, store, topic and alarms."""
    region, account = names.region, names.account
    statements = [
        _statement("Bucket", _S3_BUCKET, names.bucket_arn),
        _statement("EmptyBucket", ["s3:DeleteObject", "s3:DeleteObjectVersion"], f"{names.bucket_arn}/*"),
        _statement("Stream", _FIREHOSE, names.stream_arn),
        _statement("Function", _LAMBDA, names.function_arn),
        _statement(
            "OnlyS3MayInvokeTheFunction",
            ["lambda:AddPermission"],
            names.function_arn,
            Condition={"StringEquals": {"lambda:Principal": "s3.amazonaws.com"}},
        ),
        _statement("LogGroupLookup", ["logs:DescribeLogGroups"], "*"),
        _statement("LogGroup", _LOGS, [names.log_group_arn, f"{names.log_group_arn}:*"]),
        *stored,
        _statement("Topic", _SNS, names.topic_arn),
        _statement(
            "EmailSubscriptionsOnly",
            ["sns:Subscribe"],
            names.topic_arn,
            Condition={"StringEquals": {"sns:Protocol": "email"}},
        ),
        _statement(
            "AlarmLookup", ["cloudwatch:DescribeAlarms"], f"arn:aws:cloudwatch:{region}:{account}:alarm:*"
        ),
    ]
    if alarms:
        statements.append(_statement("Alarms", _CLOUDWATCH, [names.alarm_arn(a) for a in sorted(alarms)]))
    return statements


def _identities(names: Names) -> list[dict[str, Any]]:
    """The two service roles, the agents' policy and user: only ever inside the boundary."""
    account = names.account
    roles = [names.role_arn(names.firehose_role), names.role_arn(names.loader_role)]
    within_boundary = {"ArnEquals": {"iam:PermissionsBoundary": names.boundary_arn}}
    policies = [names.agent_policy_arn, names.boundary_arn]
    return [
        _statement("Roles", _IAM_ROLE, roles),
        _statement("RolesOnlyWithinTheBoundary", _IAM_ROLE_BOUNDED, roles, Condition=within_boundary),
        _statement(
            "PassTheFirehoseRoleToFirehose",
            ["iam:PassRole"],
            names.role_arn(names.firehose_role),
            Condition={"StringEquals": {"iam:PassedToService": "firehose.amazonaws.com"}},
        ),
        _statement(
            "PassTheLoaderRoleToLambda",
            ["iam:PassRole"],
            names.role_arn(names.loader_role),
            Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        ),
        _statement("ReadAndDeleteTheManagedPolicies", _IAM_POLICY, policies),
        _statement("AgentPolicy", _IAM_AGENT_POLICY, names.agent_policy_arn),
        _statement("AgentUser", _IAM_USER, names.agent_user_arn),
        _statement(
            "AgentUserOnlyWithinTheBoundary",
            ["iam:CreateUser"],
            names.agent_user_arn,
            Condition=within_boundary,
        ),
        _statement(
            "AttachOnlyTheAgentPolicy",
            ["iam:AttachUserPolicy"],
            names.agent_user_arn,
            Condition={
                "ArnEquals": {
                    "iam:PolicyARN": names.agent_policy_arn,
                    "iam:PermissionsBoundary": names.boundary_arn,
                }
            },
        ),
        _statement(
            "DetachTheAgentPolicyFromWhoeverHasIt",
            ["iam:DetachUserPolicy", "iam:DetachRolePolicy", "iam:DetachGroupPolicy"],
            [f"arn:aws:iam::{account}:{kind}/*" for kind in ("group", "role", "user")],
            Condition={"ArnEquals": {"iam:PolicyARN": names.agent_policy_arn}},
        ),
    ]


def _never(names: Names) -> list[dict[str, Any]]:
    """Explicit denies: they hold even when the deploying identity has other, broader policies."""
    identities = [
        names.role_arn(names.firehose_role),
        names.role_arn(names.loader_role),
        names.agent_user_arn,
    ]
    return [
        _deny("NeverWriteTheBoundary", ["iam:CreatePolicy"], names.boundary_arn),
        _deny(
            "NeverRewriteAManagedPolicy",
            ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"],
            [names.agent_policy_arn, names.boundary_arn],
        ),
        _deny(
            "NeverLiftTheBoundary",
            ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"],
            identities,
        ),
    ]


def _deny(sid: str, actions: list[str], resources: list[str] | str) -> dict[str, Any]:
    return {**_statement(sid, actions, resources), "Effect": "Deny"}


_S3_BUCKET = [
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:GetBucketTagging",
    "s3:PutBucketTagging",
    "s3:GetBucketPublicAccessBlock",
    "s3:PutBucketPublicAccessBlock",
    "s3:GetEncryptionConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:GetBucketNotification",
    "s3:PutBucketNotification",
]
_IAM_ROLE = [
    "iam:GetRole",
    "iam:ListRoleTags",
    "iam:TagRole",  # CreateRole with Tags also needs it
    "iam:GetRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:DeleteRolePolicy",
    "iam:DeleteRole",
]
#: what could widen a role: only on a role that has the boundary (or is created with it)
_IAM_ROLE_BOUNDED = [
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:UpdateAssumeRolePolicy",
]
_IAM_POLICY = [
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListPolicyTags",
    "iam:ListPolicyVersions",
    "iam:DeletePolicyVersion",
    "iam:DeletePolicy",
]
_IAM_AGENT_POLICY = [
    "iam:CreatePolicy",
    "iam:TagPolicy",  # CreatePolicy with Tags also needs it
    "iam:ListEntitiesForPolicy",
]
_IAM_USER = [
    "iam:GetUser",
    "iam:ListUserTags",
    "iam:TagUser",  # CreateUser with Tags also needs it
    "iam:ListAttachedUserPolicies",
    "iam:CreateAccessKey",
    "iam:ListAccessKeys",
    "iam:DeleteAccessKey",
    "iam:DeleteUser",
]
_FIREHOSE = [
    "firehose:CreateDeliveryStream",
    "firehose:DescribeDeliveryStream",
    "firehose:DeleteDeliveryStream",
    "firehose:UpdateDestination",
    "firehose:ListTagsForDeliveryStream",
    "firehose:TagDeliveryStream",
]
_LAMBDA = [
    "lambda:CreateFunction",
    "lambda:GetFunction",
    "lambda:DeleteFunction",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:RemovePermission",
    "lambda:GetPolicy",
    "lambda:ListTags",  # GetFunction returns the tags only with it
    "lambda:TagResource",
]
_LOGS = [
    "logs:CreateLogGroup",
    "logs:DeleteLogGroup",
    "logs:PutRetentionPolicy",
    "logs:ListTagsForResource",
    "logs:TagResource",
    "logs:DescribeMetricFilters",
    "logs:PutMetricFilter",
]
_TIMESTREAM = [
    "timestream:CreateDatabase",
    "timestream:DescribeDatabase",
    "timestream:DeleteDatabase",
    "timestream:CreateTable",
    "timestream:DescribeTable",
    "timestream:UpdateTable",
    "timestream:DeleteTable",
    "timestream:ListTables",
    "timestream:ListTagsForResource",
    "timestream:TagResource",
    "timestream:Select",
]
_GLUE = [
    "glue:CreateDatabase",
    "glue:GetDatabase",
    "glue:DeleteDatabase",
    "glue:CreateTable",
    "glue:GetTable",
    "glue:GetTables",
    "glue:UpdateTable",
    "glue:DeleteTable",
    "glue:GetTags",
    "glue:TagResource",  # CreateDatabase with Tags also needs it
]
_ATHENA = [
    "athena:CreateWorkGroup",
    "athena:GetWorkGroup",
    "athena:UpdateWorkGroup",
    "athena:DeleteWorkGroup",
    "athena:ListTagsForResource",
    "athena:TagResource",  # CreateWorkGroup with Tags also needs it
]
_EVENTS = [
    "events:PutRule",
    "events:DescribeRule",
    "events:DeleteRule",
    "events:PutTargets",
    "events:RemoveTargets",
    "events:ListTargetsByRule",
    "events:ListTagsForResource",
    "events:TagResource",  # PutRule with Tags also needs it
]
_SNS = [
    "sns:CreateTopic",
    "sns:DeleteTopic",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
    "sns:ListTagsForResource",
    "sns:TagResource",
]
_CLOUDWATCH = [
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:DeleteAlarms",
    "cloudwatch:ListTagsForResource",
    "cloudwatch:TagResource",
]


def deployer_actions(
    names: Names, alarms: list[str] | tuple[str, ...] = (), store: str = TIMESTREAM, layer: str = ""
) -> set[str]:
    """Every action the deployer policy allows (tests check each call the deployer makes)."""
    actions: set[str] = set()
    for statement in deployer(names, alarms, store, layer)["Statement"]:
        if statement["Effect"] == "Allow":
            actions.update(statement["Action"])
    return actions
