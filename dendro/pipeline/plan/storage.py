"""Plan the S3 bucket: created with its tag, public access blocked, encryption and lifecycle.

An untagged bucket with the pipeline's exact name that is empty was created by an interrupted
deploy (S3 creates a bucket before it can be tagged): it is finished, not refused.
"""

from __future__ import annotations

from typing import Any

from dendro.pipeline.models import APICall, Bucket, Instruction
from dendro.pipeline.plan.base import Context
from dendro.pipeline.resources import bucket_encryption, bucket_lifecycle, public_access_block, tag_list


def bucket(ctx: Context, bucket: Bucket) -> list[Instruction]:
    settings = _settings(ctx, bucket)
    exists = ctx.reader.get("s3", "head_bucket", ("404", "NoSuchBucket", "NotFound"), Bucket=bucket.name)
    if exists is None:
        return [_create(ctx, bucket), *settings.values()]
    tagging = ctx.reader.get("s3", "get_bucket_tagging", ("NoSuchTagSet",), Bucket=bucket.name)
    tags = {t["Key"]: t["Value"] for t in (tagging or {}).get("TagSet", [])}
    if not tags and _is_empty(ctx, bucket.name):
        return list(settings.values())  # created by an interrupted deploy
    ctx.check_owner(bucket, tags)
    return [settings[method] for method in _drifted(ctx, bucket)]


def _create(ctx: Context, bucket: Bucket) -> APICall:
    params: dict[str, Any] = {"Bucket": bucket.name}
    region = ctx.clients.region
    if region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    return ctx.create(bucket, "s3", "create_bucket", params=params)


def _settings(ctx: Context, bucket: Bucket) -> dict[str, APICall]:
    """The call setting each of the bucket's settings, by method, in the order they are made."""
    values: dict[str, tuple[str, Any]] = {
        "put_bucket_tagging": ("Tagging", {"TagSet": tag_list(bucket.tags)}),
        "put_public_access_block": ("PublicAccessBlockConfiguration", public_access_block()),
        "put_bucket_encryption": ("ServerSideEncryptionConfiguration", bucket_encryption()),
        "put_bucket_lifecycle_configuration": ("LifecycleConfiguration", bucket_lifecycle(bucket)),
    }
    return {
        method: ctx.call(bucket, "s3", method, params={"Bucket": bucket.name, key: value})
        for method, (key, value) in values.items()
    }


def _drifted(ctx: Context, bucket: Bucket) -> list[str]:
    """The put methods whose setting differs from what the bucket has."""
    get, name = ctx.reader.get, bucket.name
    pab = get("s3", "get_public_access_block", ("NoSuchPublicAccessBlockConfiguration",), Bucket=name)
    enc = get("s3", "get_bucket_encryption", ("ServerSideEncryptionConfigurationNotFoundError",), Bucket=name)
    life = get("s3", "get_bucket_lifecycle_configuration", ("NoSuchLifecycleConfiguration",), Bucket=name)
    rules = (enc or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    differs = {
        "put_public_access_block": (pab or {}).get("PublicAccessBlockConfiguration") != public_access_block(),
        "put_bucket_encryption": [r.get("ApplyServerSideEncryptionByDefault") for r in rules]
        != [r["ApplyServerSideEncryptionByDefault"] for r in bucket_encryption()["Rules"]],
        "put_bucket_lifecycle_configuration": _lifecycle_key((life or {}).get("Rules", []))
        != _lifecycle_key(bucket_lifecycle(bucket)["Rules"]),
    }
    return [method for method, changed in differs.items() if changed]


def _is_empty(ctx: Context, bucket: str) -> bool:
    listing = ctx.reader.read("s3", "list_object_versions", Bucket=bucket, MaxKeys=1)
    return not listing.get("Versions") and not listing.get("DeleteMarkers")


def _lifecycle_key(rules: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    def prefix(rule: dict[str, Any]) -> str:
        return str(rule.get("Filter", {}).get("Prefix", rule.get("Prefix", "")))

    return sorted(
        (
            r.get("ID"),
            prefix(r),
            r.get("Status"),
            r.get("Expiration", {}).get("Days"),
            r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
        )
        for r in rules
    )
