"""The planner: reads what exists and returns the calls that turn it into the desired state.

It only reads (every read goes through the client layer and is counted); the executor alone
changes anything. A resource that exists with the right settings yields no instruction, so a
second deploy plans nothing. A resource with the pipeline's name but without its tag was not
created by Dendro: the planner refuses to adopt it rather than change someone else's resource.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from botocore.exceptions import ClientError

from dendro.pipeline.clients import Clients
from dendro.pipeline.errors import DeployError, explain
from dendro.pipeline.models import (
    TAG_KEY,
    AgentUser,
    Alarm,
    APICall,
    Bucket,
    BucketNotification,
    Change,
    Database,
    DeliveryStream,
    Function,
    Instruction,
    LogGroup,
    ManagedPolicy,
    MetricFilter,
    Names,
    Pipeline,
    Plan,
    Resource,
    Role,
    StoreValue,
    TimestreamTable,
    Topic,
    Variable,
    WaitFor,
)
from dendro.pipeline.resources import (
    RoleVar,
    alarm_matches,
    bucket_encryption,
    bucket_lifecycle,
    firehose_destination,
    function_configuration,
    notification_configuration,
    permission_statement_id,
    public_access_block,
    table_properties,
    tag_list,
)


class Reader:
    """Read calls that answer None when the thing does not exist."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    def get(
        self, service: str, method: str, missing: tuple[str, ...], **params: Any
    ) -> dict[str, Any] | None:
        try:
            return self.clients.call(service, method, **params)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in missing or (str(status) in missing):
                return None
            raise explain(error, service, method) from None

    def read(self, service: str, method: str, **params: Any) -> dict[str, Any]:
        try:
            return self.clients.call(service, method, **params)
        except ClientError as error:
            raise explain(error, service, method) from None


def _refuse(resource: Resource) -> DeployError:
    return DeployError(
        f"{resource.label} exists but was not created by Dendro pipeline {resource.pipeline!r} "
        f"(it has no {TAG_KEY}={resource.pipeline} tag). Dendro will not change it: remove or "
        "rename it, or choose another pipeline name in dendro.yaml."
    )


class Planner:
    """Turns a desired :class:`Pipeline` into a :class:`Plan`."""

    def __init__(self, clients: Clients, names: Names) -> None:
        self.reader = Reader(clients)
        self.names = names
        self._steps: dict[type, Callable[[Any], list[Instruction]]] = {
            Database: self._database,
            Bucket: self._bucket,
            TimestreamTable: self._table,
            Topic: self._topic,
            Role: self._role,
            DeliveryStream: self._stream,
            LogGroup: self._log_group,
            Function: self._function,
            BucketNotification: self._notification,
            MetricFilter: self._metric_filter,
            Alarm: self._alarm,
            ManagedPolicy: self._policy,
            AgentUser: self._agent_user,
        }
        self._created: set[str] = set()  # labels of resources this plan creates

    def plan(self, pipeline: Pipeline) -> Plan:
        instructions: list[Instruction] = []
        changes: list[Change] = []
        for resource in pipeline.resources:
            steps = self._steps[type(resource)](resource)
            calls = [s for s in steps if isinstance(s, APICall | WaitFor)]
            if calls:
                action: Literal["create", "update"] = (
                    "create" if resource.label in self._created else "update"
                )
                changes.append(Change(action, resource.label, "; ".join(c.description for c in calls[:1])))
            instructions.extend(steps)
        if not any(isinstance(i, APICall | WaitFor) for i in instructions):
            return Plan()
        return Plan(tuple(instructions), tuple(changes))

    def _owned(self, resource: Resource, tags: dict[str, str]) -> None:
        if tags.get(TAG_KEY) != resource.pipeline:
            raise _refuse(resource)

    def _call(self, resource: Resource, service: str, method: str, **kw: Any) -> APICall:
        description = kw.pop("description", f"{method.replace('_', ' ')} ({resource.label})")
        return APICall(service, method, description=description, **kw)

    # --- Timestream --------------------------------------------------------------------------

    def _database(self, db: Database) -> list[Instruction]:
        found = self.reader.get(
            "timestream-write", "describe_database", ("ResourceNotFoundException",), DatabaseName=db.name
        )
        if found is None:
            self._created.add(db.label)
            return [
                self._call(
                    db,
                    "timestream-write",
                    "create_database",
                    params={"DatabaseName": db.name, "Tags": tag_list(db.tags)},
                    description=f"create {db.label}",
                )
            ]
        tags = self.reader.read(
            "timestream-write", "list_tags_for_resource", ResourceARN=found["Database"]["Arn"]
        )
        self._owned(db, {t["Key"]: t["Value"] for t in tags.get("Tags", [])})
        return []

    def _table(self, table: TimestreamTable) -> list[Instruction]:
        assert table.database is not None and table.bucket is not None
        props = table_properties(table)
        found = None
        if table.database.label not in self._created:
            found = self.reader.get(
                "timestream-write",
                "describe_table",
                ("ResourceNotFoundException",),
                DatabaseName=table.database.name,
                TableName=table.name,
            )
        if found is None:
            self._created.add(table.label)
            params = {
                "DatabaseName": table.database.name,
                "TableName": table.name,
                **props,
                "Tags": tag_list(table.tags),
            }
            return [
                self._call(
                    table,
                    "timestream-write",
                    "create_table",
                    params=params,
                    description=f"create {table.label}",
                )
            ]
        current = found["Table"]
        tags = self.reader.read("timestream-write", "list_tags_for_resource", ResourceARN=current["Arn"])
        self._owned(table, {t["Key"]: t["Value"] for t in tags.get("Tags", [])})
        if all(current.get(k) == v for k, v in props.items()):
            return []
        params = {"DatabaseName": table.database.name, "TableName": table.name, **props}
        return [
            self._call(
                table,
                "timestream-write",
                "update_table",
                params=params,
                description=f"update {table.label} retention",
            )
        ]

    # --- S3 ----------------------------------------------------------------------------------

    def _bucket(self, bucket: Bucket) -> list[Instruction]:
        exists = self.reader.get("s3", "head_bucket", ("404", "NoSuchBucket", "NotFound"), Bucket=bucket.name)
        if exists is None:
            self._created.add(bucket.label)
            return self._bucket_settings(bucket, create=True)
        tagging = self.reader.get("s3", "get_bucket_tagging", ("NoSuchTagSet",), Bucket=bucket.name)
        tags = {t["Key"]: t["Value"] for t in (tagging or {}).get("TagSet", [])}
        if not tags and self._is_empty(bucket.name):
            return self._bucket_settings(bucket, create=False)  # created by an interrupted deploy
        self._owned(bucket, tags)
        steps: list[Instruction] = []
        pab = self.reader.get(
            "s3", "get_public_access_block", ("NoSuchPublicAccessBlockConfiguration",), Bucket=bucket.name
        )
        if (pab or {}).get("PublicAccessBlockConfiguration") != public_access_block():
            steps.append(
                self._call(
                    bucket,
                    "s3",
                    "put_public_access_block",
                    params={"Bucket": bucket.name, "PublicAccessBlockConfiguration": public_access_block()},
                )
            )
        enc = self.reader.get(
            "s3",
            "get_bucket_encryption",
            ("ServerSideEncryptionConfigurationNotFoundError",),
            Bucket=bucket.name,
        )
        rules = (enc or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        if [r.get("ApplyServerSideEncryptionByDefault") for r in rules] != [
            r["ApplyServerSideEncryptionByDefault"] for r in bucket_encryption()["Rules"]
        ]:
            steps.append(
                self._call(
                    bucket,
                    "s3",
                    "put_bucket_encryption",
                    params={"Bucket": bucket.name, "ServerSideEncryptionConfiguration": bucket_encryption()},
                )
            )
        life = self.reader.get(
            "s3", "get_bucket_lifecycle_configuration", ("NoSuchLifecycleConfiguration",), Bucket=bucket.name
        )
        if _lifecycle_key((life or {}).get("Rules", [])) != _lifecycle_key(bucket_lifecycle(bucket)["Rules"]):
            steps.append(
                self._call(
                    bucket,
                    "s3",
                    "put_bucket_lifecycle_configuration",
                    params={"Bucket": bucket.name, "LifecycleConfiguration": bucket_lifecycle(bucket)},
                )
            )
        return steps

    def _is_empty(self, bucket: str) -> bool:
        listing = self.reader.read("s3", "list_object_versions", Bucket=bucket, MaxKeys=1)
        return not listing.get("Versions") and not listing.get("DeleteMarkers")

    def _bucket_settings(self, bucket: Bucket, create: bool) -> list[Instruction]:
        region = self.reader.clients.region
        steps: list[Instruction] = []
        if create:
            params: dict[str, Any] = {"Bucket": bucket.name}
            if region != "us-east-1":
                params["CreateBucketConfiguration"] = {"LocationConstraint": region}
            steps.append(
                self._call(bucket, "s3", "create_bucket", params=params, description=f"create {bucket.label}")
            )
        steps += [
            self._call(
                bucket,
                "s3",
                "put_bucket_tagging",
                params={"Bucket": bucket.name, "Tagging": {"TagSet": tag_list(bucket.tags)}},
            ),
            self._call(
                bucket,
                "s3",
                "put_public_access_block",
                params={"Bucket": bucket.name, "PublicAccessBlockConfiguration": public_access_block()},
            ),
            self._call(
                bucket,
                "s3",
                "put_bucket_encryption",
                params={"Bucket": bucket.name, "ServerSideEncryptionConfiguration": bucket_encryption()},
            ),
            self._call(
                bucket,
                "s3",
                "put_bucket_lifecycle_configuration",
                params={"Bucket": bucket.name, "LifecycleConfiguration": bucket_lifecycle(bucket)},
            ),
        ]
        return steps

    def _notification(self, note: BucketNotification) -> list[Instruction]:
        assert note.bucket is not None and note.function is not None
        fn, bucket = note.function, note.bucket
        steps: list[Instruction] = []
        fn_arn = Variable(f"function:{fn.name}.arn")
        statement = None
        if fn.label not in self._created:
            policy = self.reader.get(
                "lambda", "get_policy", ("ResourceNotFoundException",), FunctionName=fn.name
            )
            for st in json.loads((policy or {}).get("Policy", "{}")).get("Statement", []):
                if st.get("Sid") == permission_statement_id(note.pipeline):
                    statement = st
        wanted_condition = {
            "ArnLike": {"AWS:SourceArn": f"arn:aws:s3:::{bucket.name}"},
            "StringEquals": {"AWS:SourceAccount": note.account},
        }
        if statement is None or statement.get("Condition") != wanted_condition:
            if statement is not None:
                steps.append(
                    self._call(
                        note,
                        "lambda",
                        "remove_permission",
                        params={
                            "FunctionName": fn.name,
                            "StatementId": permission_statement_id(note.pipeline),
                        },
                    )
                )
            steps.append(
                self._call(
                    note,
                    "lambda",
                    "add_permission",
                    params={
                        "FunctionName": fn.name,
                        "StatementId": permission_statement_id(note.pipeline),
                        "Action": "lambda:InvokeFunction",
                        "Principal": "s3.amazonaws.com",
                        "SourceArn": f"arn:aws:s3:::{bucket.name}",
                        "SourceAccount": note.account,
                    },
                    description=f"allow {bucket.name} (only) to invoke {fn.name}",
                )
            )
        current = None
        if bucket.label not in self._created:
            current = self.reader.read("s3", "get_bucket_notification_configuration", Bucket=bucket.name)
        wanted = notification_configuration(note, fn_arn)
        comparable = notification_configuration(note, self.names.function_arn)
        if current is None or _notification_key(current) != _notification_key(comparable):
            steps.append(
                self._call(
                    note,
                    "s3",
                    "put_bucket_notification_configuration",
                    params={"Bucket": bucket.name, "NotificationConfiguration": wanted},
                    description=f"send new raw/ objects of {bucket.name} to {fn.name}",
                )
            )
        return steps

    # --- SNS ---------------------------------------------------------------------------------

    def _topic(self, topic: Topic) -> list[Instruction]:
        arn = self.names.topic_arn
        found = self.reader.get(
            "sns", "get_topic_attributes", ("NotFound", "NotFoundException"), TopicArn=arn
        )
        steps: list[Instruction] = []
        existing: set[str] = set()
        if found is None:
            self._created.add(topic.label)
            steps.append(
                self._call(
                    topic,
                    "sns",
                    "create_topic",
                    params={"Name": topic.name, "Tags": tag_list(topic.tags)},
                    output=f"topic:{topic.name}.arn",
                    output_path=("TopicArn",),
                    description=f"create {topic.label}",
                )
            )
        else:
            tags = self.reader.read("sns", "list_tags_for_resource", ResourceArn=arn)
            self._owned(topic, {t["Key"]: t["Value"] for t in tags.get("Tags", [])})
            steps.append(StoreValue(f"topic:{topic.name}.arn", arn))
            subs = self.reader.clients.pages(
                "sns", "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn
            )
            existing = {s["Endpoint"].lower() for s in subs if s.get("Protocol") == "email"}
        for email in topic.emails:
            if email.lower() not in existing:
                steps.append(
                    self._call(
                        topic,
                        "sns",
                        "subscribe",
                        params={
                            "TopicArn": Variable(f"topic:{topic.name}.arn"),
                            "Protocol": "email",
                            "Endpoint": email,
                        },
                        description=f"subscribe {email} to {topic.name} (AWS emails a confirmation link)",
                    )
                )
        return steps

    # --- IAM ---------------------------------------------------------------------------------

    def _role(self, role: Role) -> list[Instruction]:
        from dendro.pipeline import policies

        trust = policies.trust(role.trust_service, self._account())
        found = self.reader.get("iam", "get_role", ("NoSuchEntity",), RoleName=role.name)
        var = RoleVar(role.name)
        steps: list[Instruction] = []
        if found is None:
            self._created.add(role.label)
            steps.append(
                self._call(
                    role,
                    "iam",
                    "create_role",
                    params={
                        "RoleName": role.name,
                        "AssumeRolePolicyDocument": json.dumps(trust),
                        "Description": f"Dendro pipeline {role.pipeline}",
                        "Tags": tag_list(role.tags),
                    },
                    output=var.name,
                    output_path=("Role", "Arn"),
                    description=f"create {role.label}",
                )
            )
            current_policy = None
        else:
            tags = self.reader.read("iam", "list_role_tags", RoleName=role.name)
            self._owned(role, {t["Key"]: t["Value"] for t in tags.get("Tags", [])})
            steps.append(StoreValue(var.name, found["Role"]["Arn"]))
            if _canonical(found["Role"].get("AssumeRolePolicyDocument")) != _canonical(trust):
                steps.append(
                    self._call(
                        role,
                        "iam",
                        "update_assume_role_policy",
                        params={"RoleName": role.name, "PolicyDocument": json.dumps(trust)},
                    )
                )
            got = self.reader.get(
                "iam", "get_role_policy", ("NoSuchEntity",), RoleName=role.name, PolicyName=role.name
            )
            current_policy = got and got.get("PolicyDocument")
        if current_policy is None or _canonical(current_policy) != _canonical(role.policy):
            steps.append(
                self._call(
                    role,
                    "iam",
                    "put_role_policy",
                    params={
                        "RoleName": role.name,
                        "PolicyName": role.name,
                        "PolicyDocument": json.dumps(role.policy),
                    },
                    description=f"set the least-privilege policy of {role.label}",
                )
            )
        return steps

    def _policy(self, policy: ManagedPolicy) -> list[Instruction]:
        arn = f"arn:aws:iam::{self._account()}:policy/{policy.name}"
        found = self.reader.get("iam", "get_policy", ("NoSuchEntity",), PolicyArn=arn)
        if found is None:
            self._created.add(policy.label)
            return [
                self._call(
                    policy,
                    "iam",
                    "create_policy",
                    params={
                        "PolicyName": policy.name,
                        "PolicyDocument": json.dumps(policy.document),
                        "Description": policy.description,
                        "Tags": tag_list(policy.tags),
                    },
                    description=f"create {policy.label}",
                )
            ]
        tags = self.reader.read("iam", "list_policy_tags", PolicyArn=arn)
        self._owned(policy, {t["Key"]: t["Value"] for t in tags.get("Tags", [])})
        version = self.reader.read(
            "iam", "get_policy_version", PolicyArn=arn, VersionId=found["Policy"]["DefaultVersionId"]
        )
        document = version["PolicyVersion"]["Document"]
        if _canonical(document) == _canonical(policy.document):
            return []
        steps: list[Instruction] = []
        versions = self.reader.clients.pages("iam", "list_policy_versions", "Versions", PolicyArn=arn)
        old = sorted((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        if len(versions) >= 5 and old:  # IAM keeps at most five versions
            steps.append(
                self._call(
                    policy,
                    "iam",
                    "delete_policy_version",
                    params={"PolicyArn": arn, "VersionId": old[0]["VersionId"]},
                )
            )
        steps.append(
            self._call(
                policy,
                "iam",
                "create_policy_version",
                params={
                    "PolicyArn": arn,
                    "PolicyDocument": json.dumps(policy.document),
                    "SetAsDefault": True,
                },
            )
        )
        return steps

    def _agent_user(self, user: AgentUser) -> list[Instruction]:
        assert user.policy is not None
        policy_arn = f"arn:aws:iam::{self._account()}:policy/{user.policy.name}"
        found = self.reader.get("iam", "get_user", ("NoSuchEntity",), UserName=user.name)
        steps: list[Instruction] = []
        attached: set[str] = set()
        keys: list[Any] = []
        if found is None:
            self._created.add(user.label)
            steps.append(
                self._call(
                    user,
                    "iam",
                    "create_user",
                    params={"UserName": user.name, "Tags": tag_list(user.tags)},
                    description=f"create {user.label}",
                )
            )
        else:
            tags = self.reader.read("iam", "list_user_tags", UserName=user.name)
            self._owned(user, {t["Key"]: t["Value"] for t in tags.get("Tags", [])})
            pages = self.reader.clients.pages(
                "iam", "list_attached_user_policies", "AttachedPolicies", UserName=user.name
            )
            attached = {p["PolicyArn"] for p in pages}
            keys = self.reader.clients.pages(
                "iam", "list_access_keys", "AccessKeyMetadata", UserName=user.name
            )
        if policy_arn not in attached:
            steps.append(
                self._call(
                    user, "iam", "attach_user_policy", params={"UserName": user.name, "PolicyArn": policy_arn}
                )
            )
        if not keys:
            steps.append(
                self._call(
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

    # --- Firehose ----------------------------------------------------------------------------

    def _stream(self, stream: DeliveryStream) -> list[Instruction]:
        assert stream.role is not None
        wanted = firehose_destination(stream, RoleVar(stream.role.name))
        found = self.reader.get(
            "firehose",
            "describe_delivery_stream",
            ("ResourceNotFoundException",),
            DeliveryStreamName=stream.name,
        )
        create: list[Instruction] = [
            self._call(
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
            ),
            WaitFor("firehose_active", stream.name, f"wait for {stream.label} to be ACTIVE"),
        ]
        if found is None:
            self._created.add(stream.label)
            return list(create)
        description = found["DeliveryStreamDescription"]
        tags = self.reader.read("firehose", "list_tags_for_delivery_stream", DeliveryStreamName=stream.name)
        self._owned(stream, {t["Key"]: t["Value"] for t in tags.get("Tags", [])})
        status = description["DeliveryStreamStatus"]
        if status == "DELETING":
            return [
                WaitFor("firehose_deleted", stream.name, f"wait for {stream.label} to be deleted"),
                *create,
            ]
        if status in ("CREATING_FAILED", "DELETING_FAILED"):
            return [
                self._call(
                    stream, "firehose", "delete_delivery_stream", params={"DeliveryStreamName": stream.name}
                ),
                WaitFor("firehose_deleted", stream.name, f"wait for {stream.label} to be deleted"),
                *create,
            ]
        steps: list[Instruction] = []
        if status == "CREATING":
            steps.append(WaitFor("firehose_active", stream.name, f"wait for {stream.label} to be ACTIVE"))
        destination = description["Destinations"][0]
        current = destination.get("ExtendedS3DestinationDescription", {})
        known_role = f"arn:aws:iam::{self._account()}:role/{stream.role.name}"
        comparable = {**wanted, "RoleARN": known_role}
        if any(current.get(k) != v for k, v in comparable.items()):
            steps.append(
                self._call(
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

    # --- Lambda and its logs -----------------------------------------------------------------

    def _log_group(self, group: LogGroup) -> list[Instruction]:
        found = self.reader.read("logs", "describe_log_groups", logGroupNamePrefix=group.name)
        current = next((g for g in found.get("logGroups", []) if g["logGroupName"] == group.name), None)
        steps: list[Instruction] = []
        if current is None:
            self._created.add(group.label)
            steps.append(
                self._call(
                    group,
                    "logs",
                    "create_log_group",
                    params={"logGroupName": group.name, "tags": group.tags},
                    description=f"create {group.label}",
                )
            )
        else:
            arn = current.get("logGroupArn") or current["arn"].removesuffix(":*")
            tags = self.reader.read("logs", "list_tags_for_resource", resourceArn=arn)
            self._owned(group, tags.get("tags", {}))
        if current is None or current.get("retentionInDays") != group.retention_days:
            steps.append(
                self._call(
                    group,
                    "logs",
                    "put_retention_policy",
                    params={"logGroupName": group.name, "retentionInDays": group.retention_days},
                )
            )
        return steps

    def _function(self, fn: Function) -> list[Instruction]:
        assert fn.role is not None and fn.package is not None
        config = function_configuration(fn, RoleVar(fn.role.name))
        found = self.reader.get(
            "lambda", "get_function", ("ResourceNotFoundException",), FunctionName=fn.name
        )
        if found is None:
            self._created.add(fn.label)
            return [
                self._call(
                    fn,
                    "lambda",
                    "create_function",
                    params={
                        **config,
                        "Code": {"ZipFile": fn.package.zip_bytes},
                        "Tags": fn.tags,
                        "Publish": False,
                    },
                    output=f"function:{fn.name}.arn",
                    output_path=("FunctionArn",),
                    retry_while_role_propagates=True,
                    description=f"create {fn.label} ({len(fn.package.zip_bytes)} bytes)",
                ),
                WaitFor("function_active", fn.name, f"wait for {fn.label} to be Active"),
            ]
        self._owned(fn, found.get("Tags", {}))
        current = found["Configuration"]
        steps: list[Instruction] = [StoreValue(f"function:{fn.name}.arn", current["FunctionArn"])]
        if current.get("CodeSha256") != fn.package.sha256:
            steps += [
                self._call(
                    fn,
                    "lambda",
                    "update_function_code",
                    params={"FunctionName": fn.name, "ZipFile": fn.package.zip_bytes},
                    description=f"update the code of {fn.label} ({fn.package.sha256[:12]})",
                ),
                WaitFor("function_updated", fn.name, f"wait for {fn.label} to finish updating"),
            ]
        known = {**config, "Role": f"arn:aws:iam::{self._account()}:role/{fn.role.name}"}
        current_env = (current.get("Environment") or {}).get("Variables", {})
        differs = any(
            current.get(k) != v for k, v in known.items() if k not in ("Environment", "FunctionName")
        )
        if differs or current_env != dict(fn.environment):
            steps += [
                self._call(
                    fn,
                    "lambda",
                    "update_function_configuration",
                    params=config,
                    retry_while_role_propagates=True,
                    description=f"update the settings of {fn.label}",
                ),
                WaitFor("function_updated", fn.name, f"wait for {fn.label} to finish updating"),
            ]
        return steps

    # --- CloudWatch --------------------------------------------------------------------------

    def _metric_filter(self, mf: MetricFilter) -> list[Instruction]:
        params = dict(mf.params)
        current = None
        if mf.log_group is not None and mf.log_group.label not in self._created:
            found = self.reader.read(
                "logs",
                "describe_metric_filters",
                logGroupName=params["logGroupName"],
                filterNamePrefix=params["filterName"],
            )
            current = next(
                (f for f in found.get("metricFilters", []) if f["filterName"] == params["filterName"]), None
            )
        if current is not None and _metric_filter_matches(current, params):
            return []
        if current is None:
            self._created.add(mf.label)
        return [self._call(mf, "logs", "put_metric_filter", params=params, description=f"put {mf.label}")]

    def _alarm(self, alarm: Alarm) -> list[Instruction]:
        found = self.reader.read("cloudwatch", "describe_alarms", AlarmNames=[alarm.name])
        current = next(iter(found.get("MetricAlarms", [])), None)
        if current is not None:
            tags = self.reader.read("cloudwatch", "list_tags_for_resource", ResourceARN=current["AlarmArn"])
            self._owned(alarm, {t["Key"]: t["Value"] for t in tags.get("Tags", [])})
            if alarm_matches(current, alarm.params):
                return []
        else:
            self._created.add(alarm.label)
        return [
            self._call(
                alarm,
                "cloudwatch",
                "put_metric_alarm",
                params={**alarm.params, "Tags": tag_list(_alarm_tags(alarm))},
                description=f"put {alarm.label}",
            )
        ]

    def _account(self) -> str:
        return self.names.account


def _alarm_tags(alarm: Alarm) -> dict[str, str]:
    """The alert rule's own tags (severity…) with the pipeline's tag."""
    return {t["Key"]: t["Value"] for t in alarm.params.get("Tags", [])} | alarm.tags


def _canonical(document: Any) -> str:
    if isinstance(document, str):
        from urllib.parse import unquote

        document = json.loads(unquote(document))
    return json.dumps(document, sort_keys=True)


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


def _notification_key(config: dict[str, Any]) -> list[tuple[Any, ...]]:
    key = []
    for c in config.get("LambdaFunctionConfigurations", []):
        rules = tuple(
            sorted(
                (r["Name"].lower(), r["Value"])
                for r in c.get("Filter", {}).get("Key", {}).get("FilterRules", [])
            )
        )
        key.append((c.get("LambdaFunctionArn"), tuple(sorted(c.get("Events", []))), rules))
    return sorted(key)


def _metric_filter_matches(current: dict[str, Any], params: dict[str, Any]) -> bool:
    if current.get("filterPattern", "") != params.get("filterPattern", ""):
        return False
    wanted = params.get("metricTransformations", [])
    have = current.get("metricTransformations", [])
    if len(wanted) != len(have):
        return False
    for w, h in zip(wanted, have, strict=True):
        for k, v in w.items():
            hv = h.get(k)
            if isinstance(v, int | float) and isinstance(hv, int | float | str):
                if float(hv) != float(v):
                    return False
            elif hv != v:
                return False
    return True
