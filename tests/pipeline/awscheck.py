"""Direct boto3 checks of every service the pipeline uses, independent of Dendro's own code."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3

TAG = "dendro:pipeline"


@cache
def client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def remains(pipeline: str) -> list[str]:
    """Every resource named after ``pipeline`` that still exists, as 'service:name'."""
    left: list[str] = []
    s3 = client("s3")
    left += [
        f"s3:{b['Name']}"
        for b in s3.list_buckets().get("Buckets", [])
        if b["Name"].startswith(pipeline + "-")
    ]
    left += [
        f"firehose:{n}"
        for n in client("firehose").list_delivery_streams()["DeliveryStreamNames"]
        if n.startswith(pipeline)
    ]
    left += [
        f"lambda:{f['FunctionName']}"
        for f in client("lambda").list_functions()["Functions"]
        if f["FunctionName"].startswith(pipeline)
    ]
    iam = client("iam")
    left += [
        f"iam-role:{r['RoleName']}" for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(pipeline)
    ]
    left += [
        f"iam-user:{u['UserName']}" for u in iam.list_users()["Users"] if u["UserName"].startswith(pipeline)
    ]
    left += [
        f"iam-policy:{p['PolicyName']}"
        for p in iam.list_policies(Scope="Local")["Policies"]
        if p["PolicyName"].startswith(pipeline)
    ]
    left += [
        f"timestream:{d['DatabaseName']}"
        for d in client("timestream-write").list_databases()["Databases"]
        if d["DatabaseName"].startswith(pipeline)
    ]
    left += [
        f"sns:{t['TopicArn']}"
        for t in client("sns").list_topics()["Topics"]
        if t["TopicArn"].rsplit(":", 1)[1].startswith(pipeline)
    ]
    left += [
        f"sns-sub:{s['Endpoint']}"
        for s in client("sns").list_subscriptions()["Subscriptions"]
        if s["TopicArn"].rsplit(":", 1)[1].startswith(pipeline)
    ]
    left += [
        f"logs:{g['logGroupName']}"
        for g in client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{pipeline}")["logGroups"]
    ]
    left += [
        f"alarm:{a['AlarmName']}"
        for a in client("cloudwatch").describe_alarms(AlarmNamePrefix=pipeline)["MetricAlarms"]
    ]
    return sorted(left + athena_remains(pipeline))


def athena_remains(pipeline: str) -> list[str]:
    """The athena store's resources named after ``pipeline``: Glue databases, workgroups, rules."""
    glue_name = pipeline.replace("-", "_")
    left = [
        f"glue:{d['Name']}"
        for d in client("glue").get_databases()["DatabaseList"]
        if d["Name"].startswith(glue_name)
    ]
    left += [
        f"athena:{w['Name']}"
        for w in client("athena").list_work_groups()["WorkGroups"]
        if w["Name"].startswith(pipeline)
    ]
    left += [f"events:{r['Name']}" for r in client("events").list_rules(NamePrefix=pipeline)["Rules"]]
    return left


def make_lookalikes(pipeline: str) -> list[str]:
    """Resources with the pipeline's name prefix (or exact name) that Dendro did not create."""
    s3 = client("s3")
    s3.create_bucket(Bucket=f"{pipeline}-lookalike-data")
    s3.put_object(Bucket=f"{pipeline}-lookalike-data", Key="raw/keep.txt", Body=b"keep me")
    principal = {"Service": "lambda.amazonaws.com"}
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    iam = client("iam")
    iam.create_role(RoleName=f"{pipeline}-loader-old", AssumeRolePolicyDocument=trust)
    client("sns").create_topic(Name=f"{pipeline}-alerts-team")
    client("logs").create_log_group(logGroupName=f"/aws/lambda/{pipeline}-loader-old")
    client("cloudwatch").put_metric_alarm(
        AlarmName=f"{pipeline}-hand-made",
        MetricName="m",
        Namespace="Team",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    return sorted(
        [
            f"s3:{pipeline}-lookalike-data",
            f"iam-role:{pipeline}-loader-old",
            f"sns:arn:aws:sns:us-east-1:123456789012:{pipeline}-alerts-team",
            f"logs:/aws/lambda/{pipeline}-loader-old",
            f"alarm:{pipeline}-hand-made",
        ]
    )
