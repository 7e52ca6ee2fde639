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
    """action → the resources it is allowed on."""
    grants: dict[str, set[str]] = {}
    for statement in _statements(document):
        assert statement["Effect"] in ("Allow", "Deny")
        if statement["Effect"] == "Deny":
            continue
        resources = statement["Resource"]
        for action in statement["Action"]:
            grants.setdefault(action, set()).update([resources] if isinstance(resources, str) else resources)
    return grants


ALL_DOCUMENTS = {
    "firehose": policies.firehose_role(NAMES),
    "loader": policies.loader_role(NAMES, ["nginx_access", "agent"]),
    "agent": policies.agent(NAMES),
    "boundary": policies.boundary(NAMES),
    "deployer": policies.deployer(NAMES, ["dendro-nginx_5xx"]),
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
                assert resource.split(":")[4] == "123456789012" and resource.endswith(
                    "/*" if "iam" in resource else ":*"
                )
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


def test_each_role_is_passed_to_its_own_service_only() -> None:
    """iam:PassRole with iam:PassedToService (SAR, AWS Identity and Access Management, action PassRole:
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html)."""
    passes = {
        s["Resource"]: s["Condition"]["StringEquals"]["iam:PassedToService"]
        for s in policies.deployer(NAMES)["Statement"]
        if s["Action"] == ["iam:PassRole"]
    }
    assert passes == {
        "arn:aws:iam::123456789012:role/dendro-firehose": "firehose.amazonaws.com",
        "arn:aws:iam::123456789012:role/dendro-loader": "lambda.amazonaws.com",
    }


def test_no_resource_of_the_deployer_is_a_prefix_of_the_pipeline_name() -> None:
    """``dendro-*`` would also be a pipeline called ``dendro-two``'s: every name is exact."""
    text = json.dumps(policies.deployer(NAMES, ["dendro-nginx_5xx"]))
    assert "dendro-*" not in text and "dendro-123456789012-*" not in text
    assert '"arn:aws:firehose:eu-west-1:123456789012:deliverystream/dendro"' in text


def test_tagging_on_create_is_allowed_for_every_iam_identity_and_policy() -> None:
    """CreateRole, CreateUser and CreatePolicy with Tags are also authorised as TagRole, TagUser and
    TagPolicy (IAM User Guide, id_tags_roles.html, id_tags_users.html, id_tags_customer-managed-policies.html;
    iamlive issue 97 records CreateRole authorising iam:TagRole)."""
    grants = _grants(policies.deployer(NAMES))
    assert grants["iam:TagRole"] == grants["iam:CreateRole"]
    assert grants["iam:TagUser"] == grants["iam:CreateUser"]
    assert grants["iam:TagPolicy"] == {"arn:aws:iam::123456789012:policy/dendro-agent-put-records"}


def test_detaching_is_allowed_on_the_identities_with_only_the_agents_policy() -> None:
    """iam:DetachRolePolicy is authorised on the role (resource type role*), iam:PolicyARN names the
    policy (SAR, IAM: DetachRolePolicy, DetachUserPolicy, DetachGroupPolicy): a grant on the policy's
    ARN allowed nothing."""
    statement = next(
        s for s in policies.deployer(NAMES)["Statement"] if "iam:DetachRolePolicy" in s["Action"]
    )
    assert "arn:aws:iam::123456789012:role/*" in statement["Resource"]
    assert statement["Condition"] == {
        "ArnEquals": {"iam:PolicyARN": "arn:aws:iam::123456789012:policy/dendro-agent-put-records"}
    }


def test_the_boundary_is_what_the_roles_and_the_agents_need_and_no_more() -> None:
    """Identity ∩ boundary: each role keeps exactly its own policy, whatever it is given later."""
    bounded = _grants(policies.boundary(NAMES))
    for document in (ALL_DOCUMENTS["firehose"], ALL_DOCUMENTS["loader"], ALL_DOCUMENTS["agent"]):
        for action in _grants(document):
            assert action in bounded
    assert not any(a.startswith(("iam:", "sts:", "lambda:", "s3:Delete")) for a in bounded)
    assert policies.boundary(NAMES) == policies.boundary(Names("dendro", "123456789012", "eu-west-1"))
