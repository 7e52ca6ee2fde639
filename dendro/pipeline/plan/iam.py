"""Plan the IAM side: the permissions boundary, the service roles, the agents' policy and user.

Every role and the user are created with the pipeline's permissions boundary, and a role made by
an older Dendro without it gets it before anything else of it changes (the deployer policy lets
the deployer change a role only once it has the boundary). Policy documents are compared in a
canonical form (IAM answers them URL-encoded). The deployer policy never lets the deployer write
the boundary or rewrite a managed policy: creating the boundary, and a new version of a managed
policy, are an administrator's calls, said so when AWS refuses them.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from dendro.pipeline import policies
from dendro.pipeline.models import AgentUser, Boundary, Instruction, ManagedPolicy, Role, StoreValue
from dendro.pipeline.plan.base import Context
from dendro.pipeline.resources import RoleVar, tag_list

ADMINISTRATOR = (
    "The deployer policy (dendro deploy --print-policy) leaves this to an administrator, so that the "
    "deployer can never widen what the pipeline's identities may do: see docs/aws.md, Permissions."
)


def role(ctx: Context, role: Role) -> list[Instruction]:
    trust = policies.trust(role.trust_service, ctx.names.account)
    found = ctx.reader.get("iam", "get_role", ("NoSuchEntity",), RoleName=role.name)
    var = RoleVar(role.name)
    steps: list[Instruction] = []
    current_policy = None
    boundary_arn = _boundary_arn(ctx, role.boundary)
    if found is None:
        params = {
            "RoleName": role.name,
            "AssumeRolePolicyDocument": json.dumps(trust),
            "Description": f"Dendro pipeline {role.pipeline}",
            "Tags": tag_list(role.tags),
        }
        if boundary_arn:
            params["PermissionsBoundary"] = boundary_arn
        output = {"output": var.name, "output_path": ("Role", "Arn")}
        steps.append(ctx.create(role, "iam", "create_role", params=params, **output))
    else:
        ctx.check_tags(role, "iam", "list_role_tags", RoleName=role.name)
        steps.append(StoreValue(var.name, found["Role"]["Arn"]))
        current_boundary = (found["Role"].get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if boundary_arn and current_boundary != boundary_arn:
            params = {"RoleName": role.name, "PermissionsBoundary": boundary_arn}
            description = f"cap {role.label} with the permissions boundary {ctx.names.boundary}"
            steps.append(
                ctx.call(role, "iam", "put_role_permissions_boundary", params=params, description=description)
            )
        if _canonical(found["Role"].get("AssumeRolePolicyDocument")) != _canonical(trust):
            params = {"RoleName": role.name, "PolicyDocument": json.dumps(trust)}
            steps.append(ctx.call(role, "iam", "update_assume_role_policy", params=params))
        ids = {"RoleName": role.name, "PolicyName": role.name}
        got = ctx.reader.get("iam", "get_role_policy", ("NoSuchEntity",), **ids)
        current_policy = got and got.get("PolicyDocument")
    if current_policy is None or _canonical(current_policy) != _canonical(role.policy):
        params = {"RoleName": role.name, "PolicyName": role.name, "PolicyDocument": json.dumps(role.policy)}
        description = f"set the least-privilege policy of {role.label}"
        steps.append(ctx.call(role, "iam", "put_role_policy", params=params, description=description))
    return steps


def managed_policy(ctx: Context, policy: ManagedPolicy) -> list[Instruction]:
    arn = _policy_arn(ctx, policy)
    found = ctx.reader.get("iam", "get_policy", ("NoSuchEntity",), PolicyArn=arn)
    params: dict[str, Any]
    if found is None:
        params = {
            "PolicyName": policy.name,
            "PolicyDocument": json.dumps(policy.document),
            "Description": policy.description,
            "Tags": tag_list(policy.tags),
        }
        hint = ""
        if isinstance(policy, Boundary):
            hint = (
                f"{policy.label} does not exist yet: an administrator runs this first deploy. {ADMINISTRATOR}"
            )
        return [ctx.create(policy, "iam", "create_policy", params=params, refused_hint=hint)]
    ctx.check_tags(policy, "iam", "list_policy_tags", PolicyArn=arn)
    version = ctx.reader.read(
        "iam", "get_policy_version", PolicyArn=arn, VersionId=found["Policy"]["DefaultVersionId"]
    )
    if _canonical(version["PolicyVersion"]["Document"]) == _canonical(policy.document):
        return []
    steps: list[Instruction] = []
    versions = ctx.clients.pages("iam", "list_policy_versions", "Versions", PolicyArn=arn)
    old = sorted((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
    if len(versions) >= 5 and old:  # IAM keeps at most five versions
        params = {"PolicyArn": arn, "VersionId": old[0]["VersionId"]}
        steps.append(ctx.call(policy, "iam", "delete_policy_version", params=params))
    params = {"PolicyArn": arn, "PolicyDocument": json.dumps(policy.document), "SetAsDefault": True}
    hint = (
        f"{policy.label} differs from what this Dendro writes: an administrator updates it. {ADMINISTRATOR}"
    )
    steps.append(ctx.call(policy, "iam", "create_policy_version", params=params, refused_hint=hint))
    return steps


def agent_user(ctx: Context, user: AgentUser) -> list[Instruction]:
    assert user.policy is not None
    policy_arn = _policy_arn(ctx, user.policy)
    found = ctx.reader.get("iam", "get_user", ("NoSuchEntity",), UserName=user.name)
    steps: list[Instruction] = []
    attached: set[str] = set()
    keys: list[Any] = []
    if found is None:
        params = {"UserName": user.name, "Tags": tag_list(user.tags)}
        boundary_arn = _boundary_arn(ctx, user.boundary)
        if boundary_arn:
            params["PermissionsBoundary"] = boundary_arn
        steps.append(ctx.create(user, "iam", "create_user", params=params))
    else:
        ctx.check_tags(user, "iam", "list_user_tags", UserName=user.name)
        pages = ctx.clients.pages
        attached = {
            p["PolicyArn"]
            for p in pages("iam", "list_attached_user_policies", "AttachedPolicies", UserName=user.name)
        }
        keys = pages("iam", "list_access_keys", "AccessKeyMetadata", UserName=user.name)
    if policy_arn not in attached:
        params = {"UserName": user.name, "PolicyArn": policy_arn}
        steps.append(ctx.call(user, "iam", "attach_user_policy", params=params))
    if not keys:
        steps.append(
            ctx.call(
                user,
                "iam",
                "create_access_key",
                params={"UserName": user.name},
                output="agent_access_key",
                output_path=("AccessKey",),
                secret_output=True,
                description=f"create an access key for {user.name} (printed once, never stored)",
            )
        )
    return steps


def _policy_arn(ctx: Context, policy: ManagedPolicy) -> str:
    return f"arn:aws:iam::{ctx.names.account}:policy/{policy.name}"


def _boundary_arn(ctx: Context, boundary: Boundary | None) -> str:
    return _policy_arn(ctx, boundary) if boundary is not None else ""


def _canonical(document: Any) -> str:
    if isinstance(document, str):
        document = json.loads(unquote(document))
    return json.dumps(document, sort_keys=True)
