"""AWS refusals turned into one message a user can act on.

An AccessDenied names the IAM permission that is missing (``dendro deploy --print-policy``
prints them all). Timestream for LiveAnalytics closed to new customers on 2025-06-20: an
account that never used it is refused, and the message says so and points to the athena store
(``aws.store: athena``: S3, Glue and Athena, open to every account) and to the local backend.
"""

from __future__ import annotations

import re

from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError, PartialCredentialsError

ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}

#: IAM service prefix of each boto3 service name
_IAM_PREFIX = {"timestream-write": "timestream", "timestream-query": "timestream", "logs": "logs"}

#: S3 methods whose IAM action is not the method's own name
_S3_ACTIONS = {
    "head_bucket": "s3:ListBucket",
    "put_public_access_block": "s3:PutBucketPublicAccessBlock",
    "get_public_access_block": "s3:GetBucketPublicAccessBlock",
    "put_bucket_encryption": "s3:PutEncryptionConfiguration",
    "get_bucket_encryption": "s3:GetEncryptionConfiguration",
    "put_bucket_lifecycle_configuration": "s3:PutLifecycleConfiguration",
    "get_bucket_lifecycle_configuration": "s3:GetLifecycleConfiguration",
    "put_bucket_notification_configuration": "s3:PutBucketNotification",
    "get_bucket_notification_configuration": "s3:GetBucketNotification",
    "list_object_versions": "s3:ListBucketVersions",
    "list_objects_v2": "s3:ListBucket",
    "delete_objects": "s3:DeleteObjectVersion",
}

_NOT_AUTHORIZED = re.compile(r"not authorized to perform:? ([a-z0-9-]+:[A-Za-z0-9]+)")

ATHENA_STORE_HINT = (
    "Choose the athena store, which every account can use: set `aws.store: athena` in dendro.yaml "
    "and run `dendro deploy` again (Parquet in S3, queried with Athena; docs/aws.md). "
)
LOCAL_BACKEND_HINT = (
    "Use the local backend instead: set `backend: local` in dendro.yaml and run `dendro up` "
    "(DuckDB on this machine, same tables and queries)."
)


class DeployError(Exception):
    """A deploy, list or teardown cannot go on; ``str()`` says why and what to do."""


class TimestreamUnavailable(DeployError):
    """This AWS account cannot use Timestream for LiveAnalytics."""


def iam_action(service: str, method: str) -> str:
    """The IAM action a boto3 call needs (``s3``/``create_bucket`` → ``s3:CreateBucket``)."""
    if service == "s3" and method in _S3_ACTIONS:
        return _S3_ACTIONS[method]
    prefix = _IAM_PREFIX.get(service, service)
    return f"{prefix}:{''.join(part.capitalize() for part in method.split('_'))}"


def is_timestream_refusal(error: ClientError, service: str) -> bool:
    """Timestream refusing the account itself, as opposed to a missing permission."""
    if not service.startswith("timestream"):
        return False
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "").lower()
    if "not authorized to perform" in message:
        return False
    refusal_words = (
        "new customer",
        "existing customer",
        "no longer",
        "not available",
        "not supported",
        "contact aws support",  # what accounts refused since 2025-06-20 report (see docs/aws.md)
    )
    return code in ACCESS_DENIED or any(word in message for word in refusal_words)


def explain(error: Exception, service: str = "", method: str = "") -> DeployError:
    """One clear message for an error of an AWS call."""
    if isinstance(error, DeployError):
        return error
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return DeployError(
            "No AWS credentials found. Run `aws configure` (or set AWS_PROFILE, or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), then try again. To try Dendro without "
            "AWS, see docs/aws.md (moto's server)."
        )
    if isinstance(error, NoRegionError):
        return DeployError("No AWS region: set aws.region in dendro.yaml.")
    if isinstance(error, ClientError):
        return _client_error(error, service, method)
    return DeployError(f"{service}.{method} failed: {error}")


def _client_error(error: ClientError, service: str, method: str) -> DeployError:
    info = error.response.get("Error", {})
    code, message = info.get("Code", ""), info.get("Message", "")
    if is_timestream_refusal(error, service):
        return TimestreamUnavailable(
            "This AWS account cannot use Amazon Timestream for LiveAnalytics: it closed to new "
            f"customers on 2025-06-20 (AWS said: {message or code}). Nothing was left behind. "
            + ATHENA_STORE_HINT
            + "Or: "
            + LOCAL_BACKEND_HINT[0].lower()
            + LOCAL_BACKEND_HINT[1:]
        )
    if code in ACCESS_DENIED or "not authorized" in message.lower():
        found = _NOT_AUTHORIZED.search(message)
        action = found.group(1) if found else iam_action(service, method)
        return DeployError(
            f"AWS refused {action}: the deploying identity lacks this permission. "
            "`dendro deploy --print-policy` prints the policy it needs."
        )
    if code in {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    }:
        return DeployError(f"AWS did not accept the credentials ({code}): refresh them and try again.")
    return DeployError(f"{iam_action(service, method)} failed: {code}: {message}")
