"""The IAM documents grant only what each identity needs, asserted on the documents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dendro.pipeline import policies
from dendro.pipeline.models import Names

NAMES = Names("dendro", "123456789012", "eu-west-1")
BUCKET = "arn:aws:s3:::dendro-123456789012-eu-west-1"


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    assert document["Version"] == "2012-10-17"
    return list(document["Statement"])


def _grants(document: dict[str, Any]) -> dict[str, set[str]]:
    """action → the resources it is granted on."""
    grants: dict[str, set[str]] = {}
    for statement in _statements(document):
        assert statement["Effect"] == "Allow"
        resources = statement["Resource"]
        for action in statement["Action"]:
            grants.setdefault(action, set()).update([resources] if isinstance(resources, str) else resources)
    return grants


ALL_DOCUMENTS = {
    "firehose": policies.firehose_role(NAMES),
    "loader": policies.loader_role(NAMES, ["nginx_access", "agent"]),
    "agent": policies.agent(NAMES),
    "deployer": policies.deployer(NAMES),
}


@pytest.mark.parametrize("name", sorted(ALL_DOCUMENTS))
def test_no_wildcard_actions_no_full_access_and_scoped_resources(name: str) -> None:
    document = ALL_DOCUMENTS[name]
    text = json.dumps(document)
    assert "FullAccess" not in text
    for action, resources in _grants(document).items():
        assert "*" not in action, action
        if "*" in resources:
            assert action in policies.UNSCOPED_ACTIONS, f"{action} granted on every resource"
        for resource in resources - {"*"}:
            if action in policies.ACCOUNT_SCOPED_ACTIONS:
                assert resource.startswith("arn:aws:logs:eu-west-1:123456789012:"), resource
                continue
            assert "dendro" in resource, f"{action} on {resource} is not scoped to the pipeline"


def test_firehose_role_only_puts_objects_under_its_prefixes() -> None:
    grants = _grants(policies.firehose_role(NAMES))
    assert grants["s3:PutObject"] == {f"{BUCKET}/raw/*", f"{BUCKET}/rejected/firehose/*"}
    assert set(grants) == {
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:GetBucketLocation",
        "s3:ListBucketMultipartUploads",
    }
    assert not any(a.startswith(("s3:Delete", "s3:GetObject")) for a in grants)


def test_loader_role_reads_raw_writes_rejected_aggregates_timestream_sns_logs() -> None:
    grants = _grants(policies.loader_role(NAMES, ["nginx_access", "agent"]))
    assert grants == {
        "s3:GetObject": {f"{BUCKET}/raw/*"},
        "s3:PutObject": {f"{BUCKET}/rejected/*", f"{BUCKET}/aggregates/*"},
        "timestream:WriteRecords": {
            "arn:aws:timestream:eu-west-1:123456789012:database/dendro/table/agent",
            "arn:aws:timestream:eu-west-1:123456789012:database/dendro/table/nginx_access",
        },
        "timestream:DescribeEndpoints": {"*"},
        "sns:Publish": {"arn:aws:sns:eu-west-1:123456789012:dendro-alerts"},
        "logs:CreateLogStream": {"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/dendro-loader:*"},
        "logs:PutLogEvents": {"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/dendro-loader:*"},
    }


def test_agent_may_only_put_records_into_its_stream() -> None:
    assert _grants(policies.agent(NAMES)) == {
        "firehose:PutRecord": {"arn:aws:firehose:eu-west-1:123456789012:deliverystream/dendro"},
        "firehose:PutRecordBatch": {"arn:aws:firehose:eu-west-1:123456789012:deliverystream/dendro"},
    }


def test_trust_policies_name_one_service_and_firehose_is_bound_to_the_account() -> None:
    firehose = policies.trust("firehose.amazonaws.com", "123456789012")["Statement"]
    assert firehose == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "firehose.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "123456789012"}},
        }
    ]
    lam = policies.trust("lambda.amazonaws.com", "123456789012")["Statement"]
    assert [s["Principal"] for s in lam] == [{"Service": "lambda.amazonaws.com"}]


def test_pass_role_is_limited_to_firehose_and_lambda() -> None:
    statement = next(s for s in policies.deployer(NAMES)["Statement"] if s["Action"] == ["iam:PassRole"])
    assert statement["Resource"] == "arn:aws:iam::123456789012:role/dendro-*"
    assert statement["Condition"]["StringEquals"]["iam:PassedToService"] == [
        "firehose.amazonaws.com",
        "lambda.amazonaws.com",
    ]
