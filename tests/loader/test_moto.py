"""The loader end to end under moto: S3 objects → handler → Timestream records, rejected/,
aggregates/ and SNS.

moto stores WriteRecords' ``Records`` as sent and ignores ``CommonAttributes``; a hook on the
test's boto3 session merges them into each record first, as Timestream does, so moto's table
holds the records Timestream would hold.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.timestreamwrite.models import timestreamwrite_backends

from dendro.metrics.aggregates import aggregate_key, parse
from dendro.pipeline import loader as loader_module
from dendro.pipeline.loader import Loader, rejected_key
from dendro.store.timestream_records import apply_common, object_id
from tests.loader.helpers import (
    LINE_500,
    TABLES,
    access,
    concatenated,
    ndjson,
    no_wait_backoff,
    s3_event,
    settings,
)

ENDPOINT = "https://ingest.timestream.us-east-1.amazonaws.com"
BUCKET = "dendro-raw"
REGION = "us-east-1"


def _merge_common(params: dict[str, Any], **_: Any) -> None:
    common = params.pop("CommonAttributes", None)
    if common:
        params["Records"] = [apply_common(common, r) for r in params["Records"]]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.setup_default_session(region_name=REGION)
        boto3.DEFAULT_SESSION.events.register(  # type: ignore[union-attr]
            "provide-client-params.timestream-write.WriteRecords", _merge_common
        )
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        ts = boto3.client("timestream-write", endpoint_url=ENDPOINT)
        ts.create_database(DatabaseName="dendro")
        for table in TABLES:
            ts.create_table(DatabaseName="dendro", TableName=table)
        yield {"s3": s3, "timestream": ts}
        boto3.DEFAULT_SESSION = None
    loader_module.reset()


def stored(table: str) -> list[dict[str, Any]]:
    records = timestreamwrite_backends["123456789012"][REGION].databases["dendro"].tables[table].records
    return [{**r, "Dimensions": sorted(r["Dimensions"], key=lambda d: d["Name"])} for r in records]


def nanos(second: int) -> int:
    return int(datetime(2026, 11, 26, 12, 0, second, tzinfo=UTC).timestamp()) * 1_000_000_000


def expected_access(event: dict[str, Any], obj: str, seq: int) -> dict[str, Any]:
    measures = [
        ("status", str(event["status"]), "BIGINT"),
        ("path", event["path"], "VARCHAR"),
        ("bytes", "612", "BIGINT"),
        ("duration", "0.004", "DOUBLE"),
        ("client_ip", "10.0.0.9", "VARCHAR"),
        ("user_agent", "kube-probe/1.29", "VARCHAR"),
    ]
    if event["message"]:
        measures.append(("message", event["message"], "VARCHAR"))
    return {
        "Dimensions": sorted(
            [
                {"Name": "host", "Value": event["host"]},
                {"Name": "method", "Value": "GET"},
                {"Name": "object", "Value": f"{obj}.{seq // 1000}"},
                {"Name": "protocol", "Value": "HTTP/1.1"},
            ],
            key=lambda d: d["Name"],
        ),
        "MeasureName": "nginx_access",
        "MeasureValueType": "MULTI",
        "MeasureValues": [{"Name": n, "Value": v, "Type": t} for n, v, t in measures],
        "Time": str(nanos(int(event["timestamp"][17:19])) + seq % 1000),
        "TimeUnit": "NANOSECONDS",
        "Version": 1,
    }


def moto_loader(aws: dict[str, Any], **overrides: Any) -> tuple[Loader, list[str]]:
    log: list[str] = []
    loader = Loader(
        settings(**overrides), aws["s3"], aws["timestream"], log=log.append, backoff=no_wait_backoff()
    )
    return loader, log


POSTGRES_EVENT = {
    "type": "postgres",
    "host": "db-1",
    "timestamp": "2026-11-26T12:00:03.250000Z",
    "level": "ERROR",
    "database": "shop",
    "user": "app",
    "duration": None,
    "message": 'relation "orders" does not exist',
}


@pytest.mark.parametrize("encoding", ["ndjson", "concatenated", "gzip-ndjson", "gzip-concatenated-members"])
def test_objects_become_the_expected_records(aws: dict[str, Any], encoding: str) -> None:
    events = [access(second=1, path=f"/p{i}") for i in range(3)]
    events.append(access(second=2, status=503, host="web-2"))
    mixed = [events[0], POSTGRES_EVENT, *events[1:]]
    if encoding == "ndjson":
        body = ndjson(mixed)
    elif encoding == "concatenated":
        body = concatenated(mixed)
    elif encoding == "gzip-ndjson":
        body = gzip.compress(ndjson(mixed))
    else:
        body = gzip.compress(concatenated(mixed[:2])) + gzip.compress(concatenated(mixed[2:]))
    key = "raw/2026/11/26/12/dendro 1+odd=key-2026-11-26-12-00-05-abc"
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=body)
    loader, log = moto_loader(aws)
    result = loader.handle(s3_event(BUCKET, key))
    assert [o["key"] for o in result["objects"]] == [key]

    obj = object_id(BUCKET, key)
    assert stored("nginx_access") == [expected_access(e, obj, seq) for seq, e in enumerate(events)]
    assert stored("postgres") == [
        {
            "Dimensions": [
                {"Name": "host", "Value": "db-1"},
                {"Name": "level", "Value": "ERROR"},
                {"Name": "object", "Value": f"{obj}.0"},
            ],
            "MeasureName": "postgres",
            "MeasureValueType": "MULTI",
            "MeasureValues": [
                {"Name": "database", "Value": "shop", "Type": "VARCHAR"},
                {"Name": "user", "Value": "app", "Type": "VARCHAR"},
                {"Name": "message", "Value": 'relation "orders" does not exist', "Type": "VARCHAR"},
            ],
            "Time": str(nanos(3) + 250_000_000),
            "TimeUnit": "NANOSECONDS",
            "Version": 1,
        }
    ]
    summary = json.loads(log[-1])
    assert summary["dendro"] == "loaded"
    assert (summary["lines"], summary["written"], summary["rejected"]) == (5, 5, 0)
    assert summary["tables"] == {"nginx_access": 4, "postgres": 1}
    aggregate = parse(aws["s3"].get_object(Bucket=BUCKET, Key=aggregate_key(key))["Body"].read())
    assert aggregate.events_by_table() == {"nginx_access": 4, "postgres": 1}


def test_bad_input_lands_in_rejected_with_reasons(aws: dict[str, Any]) -> None:
    key = "raw/2026/11/26/12/dendro-1-2026-11-26-12-00-06-def"
    lines = [
        json.dumps(access()).encode(),
        b"this is not json",
        json.dumps({"type": "nope", "host": "h", "timestamp": "2026-11-26T12:00:00Z"}).encode(),
        json.dumps({**access(), "status": "teapot"}).encode(),
        json.dumps({**access(), "timestamp": "yesterday"}).encode(),
    ]
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=b"\n".join(lines))
    loader, log = moto_loader(aws)
    loader.handle(s3_event(BUCKET, key))
    body = aws["s3"].get_object(Bucket=BUCKET, Key=rejected_key(key))["Body"]
    rejected = [json.loads(x) for x in body.iter_lines()]
    assert [(r["table"], r["reason"]) for r in rejected] == [
        (None, "not JSON: Expecting value"),
        (None, "unknown event type 'nope'"),
        ("nginx_access", "status must be a number, got 'teapot'"),
        ("nginx_access", "timestamp 'yesterday' is not RFC 3339"),
    ]
    assert rejected[0]["raw"] == "this is not json"
    assert len(stored("nginx_access")) == 1
    summary = json.loads(log[-1])
    assert (summary["lines"], summary["written"], summary["rejected"]) == (5, 1, 4)


def test_handler_reads_its_settings_from_the_environment(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DENDRO_DATABASE", "dendro")
    monkeypatch.setenv("DENDRO_TABLES", "nginx_access,postgres")
    monkeypatch.setenv("DENDRO_TIMESTREAM_ENDPOINT", ENDPOINT)
    key = "raw/2026/11/26/12/dendro-1-2026-11-26-12-00-07-ghi"
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=ndjson([access(), access(), POSTGRES_EVENT]))
    loader_module.reset()
    result = loader_module.handler(s3_event(BUCKET, key), None)
    assert result["objects"][0]["written"] == 3
    assert len({r["Time"] for r in stored("nginx_access")}) == 2  # identical lines, distinct keys
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["dendro"] == "loaded" and lines[-1]["lines"] == 3


def test_the_same_object_twice_gives_identical_records(aws: dict[str, Any]) -> None:
    key = "raw/2026/11/26/12/dendro-1-2026-11-26-12-00-08-jkl"
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=ndjson([access(second=9)] * 250))
    loader, _ = moto_loader(aws)
    loader.handle(s3_event(BUCKET, key))
    first = stored("nginx_access")
    loader.handle(s3_event(BUCKET, key))
    second = stored("nginx_access")
    # moto appends what it is sent (batches finish in any order): the second load sent the same records
    def by_key(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(records, key=lambda r: json.dumps(r["Dimensions"]) + r["Time"])

    assert by_key(second[len(first) :]) == by_key(first)
    assert len({json.dumps(r["Dimensions"]) + r["Time"] for r in first}) == 250


def test_a_500_sends_one_sns_message_with_the_log_line(aws: dict[str, Any]) -> None:
    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    topic = sns.create_topic(Name="dendro-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="mailbox")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    queue_arn = attributes["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    key = "raw/2026/11/26/12/dendro-1-2026-11-26-12-00-09-mno"
    events = [access(second=1), access(second=1, status=502), access(second=4, status=500, host="web-2")]
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=ndjson(events))
    log: list[str] = []
    loader = Loader(settings(topic_arn=topic), aws["s3"], aws["timestream"], sns, log=log.append)
    loader.handle(s3_event(BUCKET, key))
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 1  # one message per alert kind per object
    envelope = json.loads(received[0]["Body"])
    assert envelope["Subject"] == "[dendro] nginx web-1: nginx_5xx (+1 more)"
    assert LINE_500 in envelope["Message"]
    assert "Time: 2026-11-26T12:00:01.000000Z" in envelope["Message"]
    assert "1 similar event folded into this message" in envelope["Message"]
    alert_lines = [json.loads(line) for line in log if '"alert"' in line and '"dendro": "alert"' in line]
    assert [(a["alert"], a["host"], a["count"]) for a in alert_lines] == [
        ("nginx_5xx", "web-1", 1),
        ("nginx_5xx", "web-2", 1),
    ]
