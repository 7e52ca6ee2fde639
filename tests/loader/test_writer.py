"""Limits and faults moto does not model: batch size, RejectedRecords, throttling, validation."""

from __future__ import annotations

from typing import Any

from botocore.stub import Stubber

from dendro.metrics.aggregates import aggregate_key, parse
from dendro.pipeline.loader import rejected_key
from dendro.store.timestream_records import apply_common
from dendro.store.timestream_writer import Backoff, RecordWriter, WriteFailed
from tests.loader.helpers import (
    FakeTimestream,
    access,
    client_error,
    fake_loader,
    ndjson,
    no_wait_backoff,
)

KEY = "raw/2026/11/26/12/dendro-1-2026-11-26-12-00-05-abc"


def test_more_than_100_records_never_go_in_one_call() -> None:
    events = [access(second=i % 60, path=f"/p{i}") for i in range(1050)]
    loader, _, ts = fake_loader({("b", KEY): ndjson(events)})
    summary = loader.load_object("b", KEY)
    sizes = [len(call["Records"]) for call in ts.calls]
    assert max(sizes) == 100
    assert len(ts.calls) == 11  # 10 full batches + 50: 10 calls per 1000 records
    assert sum(sizes) == 1050
    assert summary.written == 1050 and summary.rejected == 0 and summary.lines == 1050
    assert len(ts.records("nginx_access")) == 1050


def test_rejected_records_go_to_rejected_and_the_batch_is_not_resent() -> None:
    def fault(call: int, records: list[dict[str, Any]]) -> Any:
        if call == 1:
            return client_error(
                "RejectedRecordsException",
                "some rejected",
                RejectedRecords=[
                    {"RecordIndex": 3, "Reason": "timestamp outside the retention"},
                    {"RecordIndex": 7, "Reason": "higher version exists", "ExistingVersion": 5},
                ],
            )
        return None

    events = [access(second=i, path=f"/p{i}") for i in range(10)]
    loader, s3, ts = fake_loader({("b", KEY): ndjson(events)}, FakeTimestream(fault))
    summary = loader.load_object("b", KEY)
    assert len(ts.calls) == 1
    assert summary.written == 8 and summary.rejected == 2 and summary.lines == 10
    rejected = s3.lines("b", rejected_key(KEY))
    assert [(r["table"], r["reason"]) for r in rejected] == [
        ("nginx_access", "timestamp outside the retention"),
        ("nginx_access", "higher version exists (existing version 5)"),
    ]
    import json

    assert [json.loads(r["raw"])["path"] for r in rejected] == ["/p3", "/p7"]
    assert sorted(r["MeasureValues"][1]["Value"] for r in ts.records("nginx_access")) == sorted(
        f"/p{i}" for i in range(10) if i not in (3, 7)
    )
    # the aggregate counts what Timestream stored: 8 requests, and the 2 refused as rejected
    aggregate = parse(s3.objects[("b", aggregate_key(KEY))])
    assert sum(cell.events for cell in aggregate.cells.values()) == 8
    assert sum(sum(cell.requests.values()) for cell in aggregate.cells.values()) == 8
    assert aggregate.rejected == {"nginx_access": 2}


def test_throttling_then_success_writes_everything_once() -> None:
    failures = {1: "ThrottlingException", 2: "InternalServerException"}

    def fault(call: int, records: list[dict[str, Any]]) -> Any:
        code = failures.get(call)
        if code is None:
            return None
        return client_error(code, "slow down", 500 if code == "InternalServerException" else 400)

    slept: list[float] = []
    events = [access(second=i, path=f"/p{i}") for i in range(30)]
    ts = FakeTimestream(fault)
    loader, _, _ = fake_loader({("b", KEY): ndjson(events)}, ts)
    loader.backoff = Backoff(sleep=slept.append, rng=lambda: 1.0, base=0.1)
    summary = loader.load_object("b", KEY)
    assert summary.written == 30 and summary.rejected == 0 and summary.retries == 2
    assert len(ts.calls) == 3  # two refused attempts, one accepted
    assert len(ts.records("nginx_access")) == 30
    assert slept == [0.1, 0.2]  # exponential backoff (jitter pinned at its maximum)


def test_throttling_that_never_ends_fails_the_object_for_a_retry() -> None:
    ts = FakeTimestream(lambda call, records: client_error("ThrottlingException"))
    loader, _, _ = fake_loader({("b", KEY): ndjson([access()])}, ts)
    try:
        loader.load_object("b", KEY)
    except WriteFailed as error:
        assert "gave up after 10 attempts" in str(error)
    else:
        raise AssertionError("endless throttling must fail the object")


def test_backoff_respects_the_deadline() -> None:
    backoff = Backoff(sleep=lambda s: None, deadline=lambda: 0.5)
    try:
        backoff.wait(0, "throttled")
    except WriteFailed as error:
        assert "no time left" in str(error)
    else:
        raise AssertionError("no retry may start without time left")


def test_validation_error_isolates_the_bad_record() -> None:
    def fault(call: int, records: list[dict[str, Any]]) -> Any:
        if any(r["MeasureValues"][1]["Value"] == "/bad" for r in records):
            return client_error("ValidationException", "invalid measure value")
        return None

    events = [access(second=i, path="/bad" if i == 2 else f"/p{i}") for i in range(5)]
    loader, s3, _ = fake_loader({("b", KEY): ndjson(events)}, FakeTimestream(fault))
    summary = loader.load_object("b", KEY)
    assert summary.written == 4 and summary.rejected == 1
    assert s3.lines("b", rejected_key(KEY))[0]["reason"].endswith("invalid measure value")


def test_missing_table_rejects_with_a_reason() -> None:
    ts = FakeTimestream(lambda call, records: client_error("ResourceNotFoundException", "no table"))
    loader, s3, _ = fake_loader({("b", KEY): ndjson([access(), access(1)])}, ts)
    summary = loader.load_object("b", KEY)
    assert summary.rejected == 2 and summary.written == 0
    assert "does not exist in database dendro" in s3.lines("b", rejected_key(KEY))[0]["reason"]


def test_rejected_records_through_real_botocore_parsing() -> None:
    """A Stubber-fed client: botocore itself turns the answer into RejectedRecordsException."""
    import boto3

    client = boto3.client(
        "timestream-write",
        region_name="us-east-1",
        endpoint_url="https://ingest.timestream.us-east-1.amazonaws.com",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    records = [
        {
            "Dimensions": [{"Name": "host", "Value": f"h{i}"}],
            "MeasureName": "t",
            "MeasureValueType": "MULTI",
            "MeasureValues": [{"Name": "v", "Value": str(i), "Type": "BIGINT"}],
            "Time": str(1_000 + i),
            "TimeUnit": "NANOSECONDS",
            "Version": 1,
        }
        for i in range(150)
    ]
    with Stubber(client) as stub:
        stub.add_response("write_records", {"RecordsIngested": {"Total": 100}})
        stub.add_client_error(
            "write_records",
            service_error_code="RejectedRecordsException",
            service_message="rejected",
            http_status_code=419,
            modeled_fields={"RejectedRecords": [{"RecordIndex": 4, "Reason": "bad"}]},
        )
        with RecordWriter(client, "db", max_inflight=1, backoff=no_wait_backoff()) as writer:
            for i, record in enumerate(records):
                writer.add("t", record, ref=i)
            totals = writer.flush()
        stub.assert_no_pending_responses()
    assert totals.calls == 2
    assert totals.written == {"t": 149}
    assert [(r.ref, r.reason) for r in totals.rejected] == [(104, "bad")]


def test_common_attributes_round_trip_to_the_same_records() -> None:
    from dendro.store.timestream_records import common_attributes

    records = [
        {
            "Dimensions": [{"Name": "host", "Value": "a"}, {"Name": "m", "Value": str(i % 2)}],
            "MeasureName": "t",
            "MeasureValueType": "MULTI",
            "MeasureValues": [{"Name": "v", "Value": str(i), "Type": "BIGINT"}],
            "Time": str(i),
            "TimeUnit": "NANOSECONDS",
            "Version": 1,
        }
        for i in range(4)
    ]
    common, rest = common_attributes(records)
    assert common["Dimensions"] == [{"Name": "host", "Value": "a"}]
    assert all("MeasureName" not in r for r in rest)
    merged = [apply_common(common, r) for r in rest]
    norm = [{**r, "Dimensions": sorted(r["Dimensions"], key=lambda d: d["Name"])} for r in merged]
    assert norm == records
