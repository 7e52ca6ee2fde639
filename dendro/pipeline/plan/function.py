"""Plan the loader Lambda function, and the S3 notification that invokes it.

The notification comes with the function's invoke permission, limited to this bucket and this
account. A function created by this plan has no permission to read yet, a bucket created by it
no notification.
"""

from __future__ import annotations

import json
from typing import Any

from dendro.pipeline.models import (
    BucketNotification,
    Function,
    Instruction,
    StoreValue,
    Variable,
    WaitFor,
)
from dendro.pipeline.plan.base import NOT_FOUND, Context
from dendro.pipeline.resources import (
    RoleVar,
    function_configuration,
    notification_configuration,
    permission_statement_id,
)


def function(ctx: Context, fn: Function) -> list[Instruction]:
    assert fn.role is not None and fn.package is not None
    config = function_configuration(fn, RoleVar(fn.role.name))
    found = ctx.reader.get("lambda", "get_function", NOT_FOUND, FunctionName=fn.name)
    if found is None:
        params = {**config, "Code": {"ZipFile": fn.package.zip_bytes}, "Tags": fn.tags, "Publish": False}
        create = ctx.create(
            fn,
            "lambda",
            "create_function",
            params=params,
            output=f"function:{fn.name}.arn",
            output_path=("FunctionArn",),
            retry_while_role_propagates=True,
            description=f"create {fn.label} ({len(fn.package.zip_bytes)} bytes)",
        )
        return [create, WaitFor("function_active", fn.name, f"wait for {fn.label} to be Active")]
    ctx.check_owner(fn, found.get("Tags", {}))
    current = found["Configuration"]
    steps: list[Instruction] = [StoreValue(f"function:{fn.name}.arn", current["FunctionArn"])]
    if current.get("CodeSha256") != fn.package.sha256:
        update_code = ctx.call(
            fn,
            "lambda",
            "update_function_code",
            params={"FunctionName": fn.name, "ZipFile": fn.package.zip_bytes},
            description=f"update the code of {fn.label} ({fn.package.sha256[:12]})",
        )
        steps += [update_code, _updated(fn)]
    known = {**config, "Role": ctx.names.role_arn(fn.role.name)}
    current_env = (current.get("Environment") or {}).get("Variables", {})
    skip = ("Environment", "FunctionName", "Layers")
    differs = any(current.get(k) != v for k, v in known.items() if k not in skip)
    layers = [layer["Arn"] for layer in current.get("Layers") or []]  # AWS answers {Arn, CodeSize}
    if differs or current_env != dict(fn.environment) or layers != list(fn.layers):
        update_settings = ctx.call(
            fn,
            "lambda",
            "update_function_configuration",
            params=config,
            retry_while_role_propagates=True,
            description=f"update the settings of {fn.label}",
        )
        steps += [update_settings, _updated(fn)]
    return steps


def _updated(fn: Function) -> WaitFor:
    return WaitFor("function_updated", fn.name, f"wait for {fn.label} to finish updating")


def notification(ctx: Context, note: BucketNotification) -> list[Instruction]:
    return [*_permission(ctx, note), *_bucket_notification(ctx, note)]


def _permission(ctx: Context, note: BucketNotification) -> list[Instruction]:
    """The statement allowing S3 to invoke the function: added, or replaced when it differs."""
    assert note.bucket is not None and note.function is not None
    fn, bucket = note.function, note.bucket
    statement_id = permission_statement_id(note.pipeline)
    statement = None
    if not ctx.is_new(fn):
        policy = ctx.reader.get("lambda", "get_policy", NOT_FOUND, FunctionName=fn.name)
        for st in json.loads((policy or {}).get("Policy", "{}")).get("Statement", []):
            if st.get("Sid") == statement_id:
                statement = st
    wanted_condition = {
        "ArnLike": {"AWS:SourceArn": f"arn:aws:s3:::{bucket.name}"},
        "StringEquals": {"AWS:SourceAccount": note.account},
    }
    if statement is not None and statement.get("Condition") == wanted_condition:
        return []
    steps: list[Instruction] = []
    if statement is not None:
        params: dict[str, Any] = {"FunctionName": fn.name, "StatementId": statement_id}
        steps.append(ctx.call(note, "lambda", "remove_permission", params=params))
    params = {
        "FunctionName": fn.name,
        "StatementId": statement_id,
        "Action": "lambda:InvokeFunction",
        "Principal": "s3.amazonaws.com",
        "SourceArn": f"arn:aws:s3:::{bucket.name}",
        "SourceAccount": note.account,
    }
    description = f"allow {bucket.name} (only) to invoke {fn.name}"
    steps.append(ctx.call(note, "lambda", "add_permission", params=params, description=description))
    return steps


def _bucket_notification(ctx: Context, note: BucketNotification) -> list[Instruction]:
    """New ``raw/`` objects of the bucket go to the function."""
    assert note.bucket is not None and note.function is not None
    fn, bucket = note.function, note.bucket
    current = None
    if not ctx.is_new(bucket):
        current = ctx.reader.read("s3", "get_bucket_notification_configuration", Bucket=bucket.name)
    comparable = notification_configuration(note, ctx.names.function_arn)
    if current is not None and _notification_key(current) == _notification_key(comparable):
        return []
    wanted = notification_configuration(note, Variable(f"function:{fn.name}.arn"))
    return [
        ctx.call(
            note,
            "s3",
            "put_bucket_notification_configuration",
            params={"Bucket": bucket.name, "NotificationConfiguration": wanted},
            description=f"send new raw/ objects of {bucket.name} to {fn.name}",
        )
    ]


def _notification_key(config: dict[str, Any]) -> list[tuple[Any, ...]]:
    key = []
    for c in config.get("LambdaFunctionConfigurations", []):
        rules = tuple(
            sorted(
                (r["Name"].lower(), r["Value"])
                for r in c.get("Filter", {}).get("Key", {}).get("FilterRules", [])
            )
        )
        key.append((c.get("LambdaFunctionArn"), tuple(sorted(c.get("Events", []))), rules))
    return sorted(key)
