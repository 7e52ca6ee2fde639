"""The deployer policy is exactly what deploy, list and teardown call, and it cannot make its holder
administrator. Every AWS request of real runs against moto is recorded (tests/pipeline/iam_calls.py)
and evaluated against the printed policy with IAM's matching rules (tests/pipeline/iam_eval.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dendro import config as config_module
from dendro.config import Config
from dendro.pipeline import deployer, desired, policies
from dendro.pipeline.clients import Clients
from dendro.pipeline.errors import DeployError
from dendro.pipeline.executor import Backoff
from dendro.pipeline.models import Names
from tests.pipeline import awscheck
from tests.pipeline.iam_calls import Call, Recorder, authorisations
from tests.pipeline.iam_eval import Request, decide
from tests.servers.moto import MotoServer

NO_WAIT = Backoff(deadline_s=5, base_s=0.01, cap_s=0.05, sleep=lambda _s: None)
CLIENTS = Clients("us-east-1")
ACCOUNT = "123456789012"  # moto's account
NAMES = Names("dpol", ACCOUNT, "us-east-1")
ALARMS = ["dpol-nginx_5xx", "dpol-nginx_error_critical"]
POLICY = policies.deployer(NAMES, ALARMS)
#: what only the administrator's first deploy does: write the boundary (see docs/aws.md)
ADMINISTRATORS_PART = {
    f"iam:CreatePolicy on {NAMES.boundary_arn}",
    f"iam:TagPolicy on {NAMES.boundary_arn}",
}


def _config(tmp_path: Path, extra: str = "") -> Config:
    path = tmp_path / "dendro.yaml"
    path.write_text(
        f"pipeline: dpol\nservices: [nginx]\naws: {{emails: [ops@example.com]{extra}}}\n", encoding="utf-8"
    )
    return config_module.load(path)


def _record(monkeypatch: pytest.MonkeyPatch, recorder: Recorder, run: Callable[[], Any]) -> list[Call]:
    start = len(recorder.calls)
    with recorder.recording(monkeypatch):
        run()
    return recorder.calls[start:]


def _refused(calls: list[Call], recorder: Recorder, used: dict[str, set[str]]) -> set[str]:
    """Each authorisation of the calls the policy refuses; ``used`` gathers statement → actions."""
    refused = set()
    for call in calls:
        for request in authorisations(NAMES, call, recorder):
            decision, sids = decide(POLICY, request)
            if decision != "allow":
                refused.add(f"{request.action} on {request.resource}")
            for sid in sids:
                used.setdefault(sid, set()).add(request.action)
    return refused


def _attach_agent_policy_to_foreign_identities() -> None:
    """What an administrator does after a deploy: give the agents' policy to an instance role,
    a group and a user of their own (teardown must take it back from each)."""
    iam = awscheck.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName="web-instance", AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_group(GroupName="web-agents")
    iam.create_user(UserName="web-host")
    for attach, key, name in (
        (iam.attach_role_policy, "RoleName", "web-instance"),
        (iam.attach_group_policy, "GroupName", "web-agents"),
        (iam.attach_user_policy, "UserName", "web-host"),
    ):
        attach(**{key: name, "PolicyArn": NAMES.agent_policy_arn})
    # and once updated the agents' policy itself: teardown deletes the old version
    version = iam.get_policy_version(PolicyArn=NAMES.agent_policy_arn, VersionId="v1")
    iam.create_policy_version(
        PolicyArn=NAMES.agent_policy_arn,
        PolicyDocument=json.dumps(version["PolicyVersion"]["Document"]),
        SetAsDefault=True,
    )


def _drift(config: Config) -> None:
    """An older Dendro's roles (no boundary), a hand-edited trust and inline policy."""
    iam = awscheck.client("iam")
    for role in (NAMES.firehose_role, NAMES.loader_role):
        iam.delete_role_permissions_boundary(RoleName=role)
    other = policies.trust("firehose.amazonaws.com", "111111111111")
    iam.update_assume_role_policy(RoleName=NAMES.firehose_role, PolicyDocument=json.dumps(other))
    loose = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    iam.put_role_policy(
        RoleName=NAMES.loader_role, PolicyName=NAMES.loader_role, PolicyDocument=json.dumps(loose)
    )
    s3 = awscheck.client("s3")
    s3.put_object(Bucket=NAMES.bucket, Key="raw/x", Body=b"{}")


def test_every_call_of_deploy_list_and_teardown_is_allowed_and_every_statement_is_used(
    aws: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path)
    assert desired.alarm_names(config, NAMES) == ALARMS
    recorder, used = Recorder(), {}
    run = lambda **kw: deployer.deploy(config, CLIENTS.sharing(), backoff=NO_WAIT, agent_user=True, **kw)  # noqa: E731

    fresh = _record(monkeypatch, recorder, run)
    assert _refused(fresh, recorder, used) == ADMINISTRATORS_PART

    unchanged: list[Any] = []
    again = _record(monkeypatch, recorder, lambda: unchanged.append(run()))
    assert unchanged[0].plan.empty
    assert _refused(again, recorder, used) == set()

    _drift(config)
    changed = _config(tmp_path, ", buffer_interval: 120, lambda_memory_mb: 1024, memory_retention_hours: 48")
    update = _record(
        monkeypatch,
        recorder,
        lambda: deployer.deploy(changed, CLIENTS.sharing(), backoff=NO_WAIT, agent_user=True),
    )
    assert {c.operation for c in update} >= {
        "PutRolePermissionsBoundary",
        "UpdateAssumeRolePolicy",
        "PutRolePolicy",
    }
    assert _refused(update, recorder, used) == set()
    assert awscheck.client("iam").get_role(RoleName=NAMES.loader_role)["Role"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": NAMES.boundary_arn,
    }

    _attach_agent_policy_to_foreign_identities()

    def teardown() -> None:
        deployer.inventory(changed, CLIENTS.sharing())
        inventory, plan = deployer.plan_removal(changed, CLIENTS.sharing())
        deployer.recent_agent_hosts(changed, CLIENTS.sharing())
        assert (
            deployer.teardown(changed, CLIENTS.sharing(), inventory, plan, backoff=NO_WAIT).left.owned == []
        )

    gone = _record(monkeypatch, recorder, teardown)
    assert _refused(gone, recorder, used) == set()
    assert [c.params["PolicyArn"] for c in gone if c.operation == "DeletePolicy"][-1] == NAMES.boundary_arn
    assert awscheck.remains("dpol") == []

    allow = {s["Sid"]: set(s["Action"]) for s in POLICY["Statement"] if s["Effect"] == "Allow"}
    unused = {sid: actions - used.get(sid, set()) for sid, actions in allow.items()}
    assert {sid: actions for sid, actions in unused.items() if actions} == UNEXERCISED


#: allowed actions no run above calls, each with the code path that does (the only exceptions)
UNEXERCISED: dict[str, set[str]] = {
    # plan/function.py: a loader whose code hash differs from the package (a new Dendro version)
    "Function": {"lambda:UpdateFunctionCode", "lambda:RemovePermission"},  # and a drifted invoke permission
}


def test_the_boundary_must_be_written_by_an_administrator(aws: MotoServer, tmp_path: Path) -> None:
    """Refused the boundary's creation, the deploy says whose call it is, and creates nothing."""

    def as_the_deployer(service: str, method: str, params: dict[str, Any]) -> None:
        if (service, method) == ("iam", "create_policy") and params["PolicyName"] == NAMES.boundary:
            message = f"is not authorized to perform: iam:CreatePolicy on resource: {NAMES.boundary_arn}"
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": message}}, method)

    with pytest.raises(
        DeployError, match=r"AWS refused iam:CreatePolicy.*an administrator runs this first deploy"
    ):
        deployer.deploy(_config(tmp_path), CLIENTS.sharing(as_the_deployer), backoff=NO_WAIT)
    assert awscheck.remains("dpol") == []


def _escalations() -> list[Request]:
    """The ways to become administrator (or touch another pipeline) that the policy must refuse."""
    a, bound = ACCOUNT, {"iam:PermissionsBoundary": NAMES.boundary_arn}
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    role, user = NAMES.role_arn(NAMES.loader_role), NAMES.agent_user_arn
    return [
        Request("iam:CreateUser", user),  # no boundary
        Request("iam:CreateRole", role),
        Request("iam:CreateRole", role, {"iam:PermissionsBoundary": admin}),
        Request("iam:AttachUserPolicy", user, {"iam:PolicyARN": admin, **bound}),
        Request("iam:AttachUserPolicy", user, {"iam:PolicyARN": NAMES.agent_policy_arn}),  # an unbounded user
        Request("iam:AttachRolePolicy", role, {"iam:PolicyARN": NAMES.agent_policy_arn, **bound}),
        Request("iam:PutRolePolicy", role),  # a role without the boundary
        Request("iam:PutUserPolicy", user, bound),
        Request("iam:UpdateAssumeRolePolicy", role),
        Request("iam:PutRolePermissionsBoundary", role, {"iam:PermissionsBoundary": admin}),
        Request("iam:DeleteRolePermissionsBoundary", role, bound),
        Request("iam:DeleteUserPermissionsBoundary", user, bound),
        Request("iam:CreatePolicy", NAMES.boundary_arn),
        Request("iam:CreatePolicyVersion", NAMES.boundary_arn),
        Request("iam:SetDefaultPolicyVersion", NAMES.boundary_arn),
        Request("iam:CreatePolicyVersion", NAMES.agent_policy_arn),
        Request("iam:CreateAccessKey", f"arn:aws:iam::{a}:user/admin"),
        Request("iam:CreateLoginProfile", user),
        Request("iam:DetachRolePolicy", f"arn:aws:iam::{a}:role/web-instance", {"iam:PolicyARN": admin}),
        Request("iam:PassRole", role, {"iam:PassedToService": "ec2.amazonaws.com"}),
        Request(
            "iam:PassRole",
            NAMES.role_arn(NAMES.firehose_role),
            {"iam:PassedToService": "lambda.amazonaws.com"},
        ),
        Request("sts:AssumeRole", role),
        Request("lambda:AddPermission", NAMES.function_arn, {"lambda:Principal": "*"}),
        Request("sns:Subscribe", NAMES.topic_arn, {"sns:Protocol": "https"}),
        Request("s3:GetObject", f"{NAMES.bucket_arn}/raw/x"),
        Request("s3:PutBucketPolicy", NAMES.bucket_arn),
    ]


def _other_pipeline() -> list[Request]:
    """A pipeline called dpol-two: nothing of it is this deployer's."""
    two = Names("dpol-two", ACCOUNT, "us-east-1")
    return [
        Request("firehose:DeleteDeliveryStream", two.stream_arn),
        Request("lambda:UpdateFunctionCode", two.function_arn),
        Request("iam:DeleteRole", two.role_arn(two.loader_role)),
        Request("iam:CreateUser", two.agent_user_arn, {"iam:PermissionsBoundary": NAMES.boundary_arn}),
        Request("iam:DeletePolicy", two.agent_policy_arn),
        Request("sns:DeleteTopic", two.topic_arn),
        Request("s3:DeleteBucket", two.bucket_arn),
        Request("logs:DeleteLogGroup", two.log_group_arn),
        Request("timestream:DeleteDatabase", two.database_arn),
        Request("cloudwatch:DeleteAlarms", two.alarm_arn("dpol-two-nginx_5xx")),
    ]


@pytest.mark.parametrize("request_", _escalations() + _other_pipeline(), ids=str)
def test_no_privilege_escalation_and_no_other_pipeline(request_: Request) -> None:
    decision, _ = decide(POLICY, request_)
    assert decision != "allow", request_


def test_the_stream_is_allowed_by_its_exact_name() -> None:
    """The stream is named after the pipeline itself (models.Names.stream), so a policy on
    deliverystream/dpol-* refused every Firehose call (SAR, Amazon Data Firehose, resource type
    deliverystream: arn:${Partition}:firehose:${Region}:${Account}:deliverystream/${DeliveryStreamName})."""
    for action in (
        "firehose:CreateDeliveryStream",
        "firehose:DescribeDeliveryStream",
        "firehose:DeleteDeliveryStream",
    ):
        assert (
            decide(POLICY, Request(action, f"arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/dpol"))[0]
            == "allow"
        )


def test_the_printed_policy_fits_a_roles_inline_policy(tmp_path: Path) -> None:
    """IAM quotas: a role's inline policies hold 10,240 characters, whitespace not counted
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). The longest
    pipeline name (31 characters) with every built-in service and its alarms still fits."""
    path = tmp_path / "dendro.yaml"
    path.write_text(f"pipeline: {'d' * 31}\nservices: [nginx, apache, postgres, mysql, syslog, host]\n")
    config = config_module.load(path)
    names = Names(config.pipeline, ACCOUNT, "ap-southeast-2")
    alarms = desired.alarm_names(config, names)
    assert len(alarms) >= 8
    document = policies.deployer(names, alarms)
    assert len(json.dumps(document, separators=(",", ":"))) <= 10_240
