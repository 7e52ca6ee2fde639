"""Least-privilege IAM documents: the Firehose and Lambda roles, the agents, the deployer.

Every statement names its actions one by one (no ``*`` action, no ``*FullAccess``) and scopes
them to this pipeline's resources. The only ``"Resource": "*"`` is for actions AWS does not
scope to a resource (Timestream's DescribeEndpoints).
"""

from __future__ import annotations

from typing import Any

from dendro.pipeline.models import AGGREGATES_PREFIX, RAW_PREFIX, REJECTED_PREFIX, Names

VERSION = "2012-10-17"
Document = dict[str, Any]

#: actions AWS does not scope to a resource; the only ones allowed on "*"
UNSCOPED_ACTIONS = frozenset({"timestream:DescribeEndpoints"})
#: list actions AWS scopes to the account and region at most (their resource is "…:log-group:*")
ACCOUNT_SCOPED_ACTIONS = frozenset({"logs:DescribeLogGroups"})


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


def loader_role(names: Names, tables: list[str]) -> Document:
    """The loader reads raw/, writes rejected/ and aggregates/, Timestream, SNS and its logs."""
    bucket = names.bucket_arn
    table_arns = [names.table_arn(t) for t in sorted(tables)]
    return {
        "Version": VERSION,
        "Statement": [
            _statement("ReadRawObjects", ["s3:GetObject"], f"{bucket}/{RAW_PREFIX}*"),
            _statement(
                "WriteRejectedAndAggregates",
                ["s3:PutObject"],
                [f"{bucket}/{REJECTED_PREFIX}*", f"{bucket}/{AGGREGATES_PREFIX}*"],
            ),
            _statement("WriteRecords", ["timestream:WriteRecords"], table_arns),
            _statement("DiscoverTimestreamEndpoint", ["timestream:DescribeEndpoints"], "*"),
            _statement("PublishAlerts", ["sns:Publish"], names.topic_arn),
            _statement(
                "WriteOwnLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                f"{names.log_group_arn}:*",
            ),
        ],
    }


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


def deployer(names: Names) -> Document:
    """What `dendro deploy`, `list` and `teardown` need, scoped to this pipeline's names."""
    p, account, region = names.pipeline, names.account, names.region
    prefix_bucket = f"arn:aws:s3:::{p}-{account}-*"
    tsdb = f"arn:aws:timestream:{region}:{account}:database/{p}"
    return {
        "Version": VERSION,
        "Statement": [
            _statement("Bucket", _S3_BUCKET, prefix_bucket),
            _statement("BucketObjects", ["s3:DeleteObject", "s3:DeleteObjectVersion"], f"{prefix_bucket}/*"),
            _statement(
                "Roles",
                _IAM_ROLE,
                f"arn:aws:iam::{account}:role/{p}-*",
            ),
            _statement(
                "PassRolesToFirehoseAndLambda",
                ["iam:PassRole"],
                f"arn:aws:iam::{account}:role/{p}-*",
                Condition={
                    "StringEquals": {
                        "iam:PassedToService": ["firehose.amazonaws.com", "lambda.amazonaws.com"]
                    }
                },
            ),
            _statement("AgentPolicy", _IAM_POLICY, f"arn:aws:iam::{account}:policy/{p}-*"),
            _statement("AgentUser", _IAM_USER, f"arn:aws:iam::{account}:user/{p}-*"),
            _statement("Stream", _FIREHOSE, f"arn:aws:firehose:{region}:{account}:deliverystream/{p}-*"),
            _statement("Function", _LAMBDA, f"arn:aws:lambda:{region}:{account}:function:{p}-*"),
            _statement(
                "LogGroupLookup", ["logs:DescribeLogGroups"], f"arn:aws:logs:{region}:{account}:log-group:*"
            ),
            _statement(
                "LogGroup",
                _LOGS,
                [
                    f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{p}-*",
                    f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{p}-*:*",
                ],
            ),
            _statement("Timestream", _TIMESTREAM, [tsdb, f"{tsdb}/table/*"]),
            _statement("TimestreamEndpoints", ["timestream:DescribeEndpoints"], "*"),
            _statement("Topic", _SNS, f"arn:aws:sns:{region}:{account}:{p}-*"),
            _statement("Alarms", _CLOUDWATCH, f"arn:aws:cloudwatch:{region}:{account}:alarm:{p}-*"),
        ],
    }


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
    "iam:CreateRole",
    "iam:GetRole",
    "iam:DeleteRole",
    "iam:ListRoleTags",
    "iam:TagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:GetRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
]
_IAM_POLICY = [
    "iam:CreatePolicy",
    "iam:GetPolicy",
    "iam:DeletePolicy",
    "iam:GetPolicyVersion",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion",
    "iam:ListPolicyVersions",
    "iam:ListPolicyTags",
    "iam:ListEntitiesForPolicy",
    "iam:DetachRolePolicy",
    "iam:DetachUserPolicy",
    "iam:DetachGroupPolicy",
]
_IAM_USER = [
    "iam:CreateUser",
    "iam:GetUser",
    "iam:DeleteUser",
    "iam:ListUserTags",
    "iam:AttachUserPolicy",
    "iam:DetachUserPolicy",
    "iam:ListAttachedUserPolicies",
    "iam:CreateAccessKey",
    "iam:ListAccessKeys",
    "iam:DeleteAccessKey",
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
    "lambda:GetFunctionConfiguration",
    "lambda:DeleteFunction",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:AddPermission",
    "lambda:RemovePermission",
    "lambda:GetPolicy",
    "lambda:ListTags",
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
    "logs:DeleteMetricFilter",
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
_SNS = [
    "sns:CreateTopic",
    "sns:DeleteTopic",
    "sns:GetTopicAttributes",
    "sns:Subscribe",
    "sns:Unsubscribe",
    "sns:ListSubscriptionsByTopic",
    "sns:ListTagsForResource",
    "sns:TagResource",
]
_CLOUDWATCH = [
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:DeleteAlarms",
    "cloudwatch:ListTagsForResource",
    "cloudwatch:TagResource",
]


def deployer_actions(names: Names) -> set[str]:
    """Every action the deployer policy grants (tests check each call the deployer makes)."""
    actions: set[str] = set()
    for statement in deployer(names)["Statement"]:
        actions.update(statement["Action"])
    return actions
