"""Teardown: plan the deletion of what exists, then run it with the deploy's executor.

Deleting reuses the machinery of deploy: the inventory (found by name AND tag) is swept in
reverse dependency order into a plan of delete calls, and the same executor runs it. The
bucket is emptied (every page, every version) before it is deleted. Resources without the
pipeline's tag are never part of the plan. Works from any partial state: only what exists is
deleted, and running it twice deletes nothing the second time. The permissions boundary goes
last, once nothing it caps is left. Deleting the topic deletes its subscriptions (SNS DeleteTopic),
so none is unsubscribed one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

from dendro.pipeline.clients import Clients
from dendro.pipeline.inventory import Found, Inventory
from dendro.pipeline.models import APICall, Change, EmptyBucket, Instruction, Plan, WaitFor


class TeardownPlanner:
    def __init__(self, clients: Clients, inventory: Inventory) -> None:
        self.clients = clients
        self.inventory = inventory
        self._deleted_entities = {("User", f.name) for f in inventory.owned if f.kind == "IAM user"}
        self._steps: dict[str, Callable[[Found], list[Instruction]]] = {
            "Firehose stream": self._stream,
            "Lambda function": lambda f: [self._delete(f, "lambda", "delete_function", FunctionName=f.name)],
            "log group": lambda f: [self._delete(f, "logs", "delete_log_group", logGroupName=f.name)],
            "IAM role": self._role,
            "IAM user": self._user,
            "IAM policy": self._policy,
            "IAM permissions boundary": lambda f: [
                *self._old_versions(f),
                self._delete(f, "iam", "delete_policy", PolicyArn=f.arn),
            ],
            "SNS topic": lambda f: [self._delete(f, "sns", "delete_topic", TopicArn=f.arn)],
            "Timestream table": self._table,
            "Timestream database": lambda f: [
                self._delete(f, "timestream-write", "delete_database", DatabaseName=f.name)
            ],
            "EventBridge rule": self._rule,
            "Athena workgroup": lambda f: [
                self._delete(f, "athena", "delete_work_group", WorkGroup=f.name, RecursiveDeleteOption=True)
            ],
            "Glue table": self._glue_table,
            "Glue database": lambda f: [self._delete(f, "glue", "delete_database", Name=f.name)],
            "S3 bucket": lambda f: [
                EmptyBucket(f.name, f"empty S3 bucket {f.name} (all pages, all versions)"),
                self._delete(f, "s3", "delete_bucket", Bucket=f.name),
            ],
        }

    def plan(self) -> Plan:
        owned = self.inventory.owned
        instructions: list[Instruction] = []
        alarms = [f.name for f in owned if f.kind == "CloudWatch alarm"]
        for start in range(0, len(alarms), 100):
            batch = alarms[start : start + 100]
            instructions.append(
                APICall(
                    "cloudwatch",
                    "delete_alarms",
                    {"AlarmNames": batch},
                    description=f"delete {len(batch)} CloudWatch alarms",
                )
            )
        for found in owned:
            if found.kind in self._steps:
                instructions.extend(self._steps[found.kind](found))
        changes = tuple(Change("delete", f"{f.kind} {f.name}") for f in owned)
        # from a partial or concurrent state a target may already be gone: that delete is done
        tolerant = [replace(i, missing_ok=True) if isinstance(i, APICall) else i for i in instructions]
        return Plan(tuple(tolerant), changes)

    def _delete(self, found: Found, service: str, method: str, **params: Any) -> APICall:
        return APICall(
            service, method, params, description=f"delete {found.kind} {found.name}", missing_ok=True
        )

    def _stream(self, found: Found) -> list[Instruction]:
        return [
            self._delete(found, "firehose", "delete_delivery_stream", DeliveryStreamName=found.name),
            WaitFor("firehose_deleted", found.name, f"wait for Firehose stream {found.name} to be deleted"),
        ]

    def _role(self, found: Found) -> list[Instruction]:
        inline = [
            APICall(
                "iam",
                "delete_role_policy",
                {"RoleName": found.name, "PolicyName": policy},
                description=f"delete the inline policy of {found.name}",
            )
            for policy in self.clients.pages("iam", "list_role_policies", "PolicyNames", RoleName=found.name)
        ]
        delete = self._delete(found, "iam", "delete_role", RoleName=found.name)
        return [*inline, *self._detach_attached("Role", found.name), delete]

    def _user(self, found: Found) -> list[Instruction]:
        keys = [
            APICall(
                "iam",
                "delete_access_key",
                {"UserName": found.name, "AccessKeyId": key["AccessKeyId"]},
                description=f"delete an access key of {found.name}",
            )
            for key in self.clients.pages("iam", "list_access_keys", "AccessKeyMetadata", UserName=found.name)
        ]
        delete = self._delete(found, "iam", "delete_user", UserName=found.name)
        return [*keys, *self._detach_attached("User", found.name), delete]

    def _detach_attached(self, kind: Literal["Role", "User"], name: str) -> list[Instruction]:
        """Detach every managed policy attached to a role or a user (it cannot be deleted before)."""
        entity = kind.lower()
        attached = self.clients.pages(
            "iam", f"list_attached_{entity}_policies", "AttachedPolicies", **{f"{kind}Name": name}
        )
        return [
            APICall(
                "iam",
                f"detach_{entity}_policy",
                {f"{kind}Name": name, "PolicyArn": policy["PolicyArn"]},
                description=f"detach {policy['PolicyName']} from {name}",
            )
            for policy in attached
        ]

    def _policy(self, found: Found) -> list[Instruction]:
        """Detach it from wherever the agents' identities use it, drop old versions, delete."""
        arn, steps = found.arn, []
        for kind, key in (("User", "PolicyUsers"), ("Role", "PolicyRoles"), ("Group", "PolicyGroups")):
            for entity in self.clients.pages(
                "iam", "list_entities_for_policy", key, PolicyArn=arn, EntityFilter=kind
            ):
                name = entity[f"{kind}Name"]
                if (kind, name) in self._deleted_entities:
                    continue  # deleting that user detaches the policy already
                steps.append(
                    APICall(
                        "iam",
                        f"detach_{kind.lower()}_policy",
                        {f"{kind}Name": name, "PolicyArn": arn},
                        description=f"detach {found.name} from {kind.lower()} {name}",
                    )
                )
        return [
            *steps,
            *self._old_versions(found),
            self._delete(found, "iam", "delete_policy", PolicyArn=arn),
        ]

    def _old_versions(self, found: Found) -> list[Instruction]:
        """A managed policy is deleted once its non-default versions are."""
        return [
            APICall(
                "iam",
                "delete_policy_version",
                {"PolicyArn": found.arn, "VersionId": version["VersionId"]},
                description=f"delete an old version of {found.name}",
            )
            for version in self.clients.pages("iam", "list_policy_versions", "Versions", PolicyArn=found.arn)
            if not version["IsDefaultVersion"]
        ]

    def _table(self, found: Found) -> list[Instruction]:
        database, _, table = found.name.partition(".")
        return [
            self._delete(found, "timestream-write", "delete_table", DatabaseName=database, TableName=table)
        ]

    def _rule(self, found: Found) -> list[Instruction]:
        """An EventBridge rule is deleted once its targets are removed."""
        targets = self.clients.call("events", "list_targets_by_rule", Rule=found.name).get("Targets", [])
        steps: list[Instruction] = []
        if targets:
            params = {"Rule": found.name, "Ids": [t["Id"] for t in targets]}
            steps.append(
                APICall("events", "remove_targets", params, description=f"remove the targets of {found.name}")
            )
        return [*steps, self._delete(found, "events", "delete_rule", Name=found.name)]

    def _glue_table(self, found: Found) -> list[Instruction]:
        database, _, table = found.name.partition(".")
        return [self._delete(found, "glue", "delete_table", DatabaseName=database, Name=table)]


def plan_teardown(clients: Clients, inventory: Inventory) -> Plan:
    return TeardownPlanner(clients, inventory).plan()
