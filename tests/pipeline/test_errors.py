"""AWS refusals become one message naming the permission, or pointing to the local backend."""

from __future__ import annotations

from botocore.exceptions import ClientError, NoCredentialsError

from dendro.pipeline.errors import DeployError, TimestreamUnavailable, explain, iam_action


def _error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Op")


def test_iam_action_names() -> None:
    assert iam_action("s3", "create_bucket") == "s3:CreateBucket"
    assert iam_action("s3", "put_bucket_encryption") == "s3:PutEncryptionConfiguration"
    assert iam_action("timestream-write", "create_table") == "timestream:CreateTable"
    assert iam_action("firehose", "create_delivery_stream") == "firehose:CreateDeliveryStream"


def test_access_denied_names_the_permission_from_the_message() -> None:
    message = (
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
        "firehose:CreateDeliveryStream on resource: arn:aws:firehose:us-east-1:123456789012:deliverystream/x"
    )
    error = explain(_error("AccessDeniedException", message), "firehose", "create_delivery_stream")
    assert type(error) is DeployError
    assert str(error).startswith("AWS refused firehose:CreateDeliveryStream: the deploying identity lacks")
    assert "--print-policy" in str(error)


def test_access_denied_without_details_names_the_call() -> None:
    error = explain(_error("AccessDenied", "Access Denied"), "s3", "put_bucket_lifecycle_configuration")
    assert "AWS refused s3:PutLifecycleConfiguration" in str(error)


def test_timestream_refusal_of_the_account_points_to_the_local_backend() -> None:
    refusal = _error(
        "AccessDeniedException",
        "Only existing Timestream for LiveAnalytics customers can access the service.",
    )
    error = explain(refusal, "timestream-write", "create_database")
    assert isinstance(error, TimestreamUnavailable)
    assert "closed to new customers on 2025-06-20" in str(error)
    assert "set `aws.store: athena` in dendro.yaml and run `dendro deploy` again" in str(error)
    assert "backend: local" in str(error)


def test_a_refusal_that_only_says_to_contact_support_is_the_accounts() -> None:
    """aws-solutions/innovation-sandbox-on-aws issue 159 (2026-07): a new account's Timestream call
    failed with a message saying to contact AWS Support; its error code was not quoted."""
    refusal = _error("ValidationException", "Please contact AWS Support to use this service.")
    assert isinstance(explain(refusal, "timestream-write", "create_database"), TimestreamUnavailable)


def test_a_missing_timestream_permission_is_not_a_refusal_of_the_account() -> None:
    denied = _error(
        "AccessDeniedException", "User x is not authorized to perform: timestream:CreateTable on y"
    )
    error = explain(denied, "timestream-write", "create_table")
    assert not isinstance(error, TimestreamUnavailable)
    assert "timestream:CreateTable" in str(error)


def test_no_credentials() -> None:
    assert "No AWS credentials found" in str(explain(NoCredentialsError()))
