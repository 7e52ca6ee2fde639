"""Plan the Firehose delivery stream into the bucket.

A stream being deleted is waited for and created again; one whose creation or deletion failed
is deleted and created again; one still being created is waited for before it is compared.
"""

from __future__ import annotations

from typing import Any

from dendro.pipeline.models import DeliveryStream, Instruction, WaitFor
from dendro.pipeline.plan.base import NOT_FOUND, Context
from dendro.pipeline.resources import RoleVar, firehose_destination, tag_list


def stream(ctx: Context, stream: DeliveryStream) -> list[Instruction]:
    assert stream.role is not None
    wanted = firehose_destination(stream, RoleVar(stream.role.name))
    found = ctx.reader.get("firehose", "describe_delivery_stream", NOT_FOUND, DeliveryStreamName=stream.name)
    if found is None:
        ctx.created.add(stream.label)
        return _create(ctx, stream, wanted)
    description = found["DeliveryStreamDescription"]
    ctx.check_tags(stream, "firehose", "list_tags_for_delivery_stream", DeliveryStreamName=stream.name)
    status = description["DeliveryStreamStatus"]
    if status == "DELETING":
        return [_deleted(stream), *_create(ctx, stream, wanted)]
    if status in ("CREATING_FAILED", "DELETING_FAILED"):
        params = {"DeliveryStreamName": stream.name}
        delete = ctx.call(stream, "firehose", "delete_delivery_stream", params=params)
        return [delete, _deleted(stream), *_create(ctx, stream, wanted)]
    steps: list[Instruction] = []
    if status == "CREATING":
        steps.append(_active(stream))
    destination = description["Destinations"][0]
    current = destination.get("ExtendedS3DestinationDescription", {})
    comparable = {**wanted, "RoleARN": ctx.names.role_arn(stream.role.name)}
    if any(current.get(k) != v for k, v in comparable.items()):
        steps.append(
            ctx.call(
                stream,
                "firehose",
                "update_destination",
                params={
                    "DeliveryStreamName": stream.name,
                    "CurrentDeliveryStreamVersionId": description["VersionId"],
                    "DestinationId": destination["DestinationId"],
                    "ExtendedS3DestinationUpdate": wanted,
                },
                retry_while_role_propagates=True,
                description=f"update {stream.label} buffering and destination",
            )
        )
    return steps


def _create(ctx: Context, stream: DeliveryStream, wanted: dict[str, Any]) -> list[Instruction]:
    create = ctx.call(
        stream,
        "firehose",
        "create_delivery_stream",
        params={
            "DeliveryStreamName": stream.name,
            "DeliveryStreamType": "DirectPut",
            "ExtendedS3DestinationConfiguration": wanted,
            "Tags": tag_list(stream.tags),
        },
        retry_while_role_propagates=True,
        description=f"create {stream.label}",
    )
    return [create, _active(stream)]


def _active(stream: DeliveryStream) -> WaitFor:
    return WaitFor("firehose_active", stream.name, f"wait for {stream.label} to be ACTIVE")


def _deleted(stream: DeliveryStream) -> WaitFor:
    return WaitFor("firehose_deleted", stream.name, f"wait for {stream.label} to be deleted")
