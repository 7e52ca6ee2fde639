"""API parameters of each resource: what create and update calls send, and how to compare.

Pure functions of the resource models, shared by the planner (to build calls and to decide
whether what exists already matches) and by the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dendro.pipeline.models import (
    RAW_PREFIX,
    REJECTED_PREFIX,
    RUNTIME,
    Bucket,
    BucketNotification,
    DeliveryStream,
    Function,
    TimestreamTable,
    Variable,
)


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def RoleVar(role: str) -> Variable:
    """The variable holding a role's ARN (set by create_role, or stored when the role exists)."""
    return Variable(f"role:{role}.arn")


def public_access_block() -> dict[str, bool]:
    return {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }


def bucket_encryption() -> dict[str, Any]:
    return {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


def bucket_lifecycle(bucket: Bucket) -> dict[str, Any]:
    """Loaded raw objects expire; rejected/ and aggregates/ are kept for people to read; the athena
    store's query results and compaction tombstones expire too (``Bucket.expiring``)."""
    rules = [("expire-loaded-raw", RAW_PREFIX, bucket.raw_expiry_days), *bucket.expiring]
    return {
        "Rules": [
            {
                "ID": rule_id,
                "Filter": {"Prefix": prefix},
                "Status": "Enabled",
                "Expiration": {"Days": days},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
            }
            for rule_id, prefix, days in rules
        ]
    }


def firehose_destination(stream: DeliveryStream, role_arn: Variable | str) -> dict[str, Any]:
    """Direct PUT → S3 raw/, one event per line, failures kept under rejected/firehose/."""
    assert stream.bucket is not None
    return {
        "RoleARN": role_arn,
        "BucketARN": f"arn:aws:s3:::{stream.bucket.name}",
        "Prefix": RAW_PREFIX,
        "ErrorOutputPrefix": f"{REJECTED_PREFIX}firehose/!{{firehose:error-output-type}}/",
        "BufferingHints": {"IntervalInSeconds": stream.buffer_interval, "SizeInMBs": stream.buffer_size_mb},
        "CompressionFormat": "UNCOMPRESSED",
        "ProcessingConfiguration": {
            "Enabled": True,
            "Processors": [
                {
                    "Type": "AppendDelimiterToRecord",
                    "Parameters": [{"ParameterName": "Delimiter", "ParameterValue": "\\n"}],
                }
            ],
        },
    }


def function_configuration(fn: Function, role_arn: Variable | str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "FunctionName": fn.name,
        "Runtime": RUNTIME,
        "Role": role_arn,
        "Handler": fn.handler,
        "Timeout": fn.timeout_s,
        "MemorySize": fn.memory_mb,
        "Environment": {"Variables": dict(fn.environment)},
        "Description": f"Dendro pipeline {fn.pipeline}: loads raw/ objects into {fn.store}",
    }
    if fn.layers:
        config["Layers"] = list(fn.layers)
    return config


def permission_statement_id(pipeline: str) -> str:
    return f"{pipeline}-s3-invoke"


def notification_configuration(note: BucketNotification, function_arn: Variable | str) -> dict[str, Any]:
    return {
        "LambdaFunctionConfigurations": [
            {
                "Id": f"{note.pipeline}-raw-to-loader",
                "LambdaFunctionArn": function_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": RAW_PREFIX}]}},
            }
        ]
    }


def table_properties(table: TimestreamTable) -> dict[str, Any]:
    assert table.bucket is not None
    return {
        "RetentionProperties": {
            "MemoryStoreRetentionPeriodInHours": table.memory_hours,
            "MagneticStoreRetentionPeriodInDays": table.magnetic_days,
        },
        "MagneticStoreWriteProperties": {
            "EnableMagneticStoreWrites": True,
            "MagneticStoreRejectedDataLocation": {
                "S3Configuration": {
                    "BucketName": table.bucket.name,
                    "ObjectKeyPrefix": f"{REJECTED_PREFIX}timestream/{table.name}/",
                    "EncryptionOption": "SSE_S3",
                }
            },
        },
    }


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(current, bool):
        return bool(current) == bool(wanted)
    if isinstance(wanted, int | float) and isinstance(current, int | float):
        return float(current) == float(wanted)
    if isinstance(wanted, list) and isinstance(current, list):
        return len(current) == len(wanted) and all(_same(c, w) for c, w in zip(current, wanted, strict=True))
    if isinstance(wanted, dict) and isinstance(current, dict):
        return all(_same(current.get(k), v) for k, v in wanted.items())
    return bool(current == wanted)


def alarm_matches(current: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
    """Whether an alarm as described equals the put_metric_alarm parameters (Tags aside)."""
    return all(_same(current.get(k), v) for k, v in params.items() if k != "Tags")
