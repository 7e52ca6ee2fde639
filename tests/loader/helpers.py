"""Shared pieces of the loader tests: tables, events, S3 notifications, fake AWS clients.

The fakes stand in for what moto does not model: Timestream's record-key semantics (a second
write of a key with the same version must carry the same values), its 100-record limit and its
RejectedRecords and throttling answers.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote_plus

from botocore.exceptions import ClientError

from dendro.alerts.notify import rules_by_table
from dendro.metrics.aggregates import red_map
from dendro.pipeline.loader import Loader, Settings
from dendro.services.base import AlertEvent, Column, Red, Service, Table
from dendro.services.internal import INTERNAL_TABLES
from dendro.store.timestream_records import apply_common
from dendro.store.timestream_writer import Backoff

ACCESS = Table(
    "nginx_access",
    (
        Column("host", "VARCHAR", dimension=True),
        Column("method", "VARCHAR", dimension=True),
        Column("protocol", "VARCHAR", dimension=True),
        Column("status", "BIGINT"),
        Column("path", "VARCHAR"),
        Column("bytes", "BIGINT"),
        Column("duration", "DOUBLE"),
        Column("client_ip", "VARCHAR"),
        Column("user_agent", "VARCHAR"),
        Column("referer", "VARCHAR"),
        Column("message", "VARCHAR"),
    ),
)
POSTGRES = Table(
    "postgres",
    (
        Column("host", "VARCHAR", dimension=True),
        Column("level", "VARCHAR", dimension=True),
        Column("database", "VARCHAR"),
        Column("user", "VARCHAR"),
        Column("duration", "DOUBLE"),
        Column("message", "VARCHAR"),
    ),
)
TABLES = {t.name: t for t in (*INTERNAL_TABLES, ACCESS, POSTGRES)}
SERVICE = Service(
    name="nginx",
    title="nginx",
    sources=(),
    parsers=(),
    tables=(ACCESS,),
    red=(Red(table="nginx_access", status="status", duration="duration", method="method"),),
    alert_events=(
        AlertEvent(
            name="nginx_5xx",
            table="nginx_access",
            where="status >= 500",
            match={},
            status_at_least=500,
            summary="nginx answered a request with a 5xx status",
            severity="critical",
        ),
    ),
)

LINE_500 = '10.0.0.9 - - [26/Nov/2026:12:00:01 +0000] "POST /api/pay HTTP/1.1" 502 157 "-" "curl/8.5" 0.031'


def access(
    second: int = 0,
    status: int = 200,
    host: str = "web-1",
    path: str = "/health",
    method: str = "GET",
    **extra: Any,
) -> dict[str, Any]:
    event = {
        "type": "nginx_access",
        "host": host,
        "timestamp": f"2026-11-26T12:00:{second:02d}.000000Z",
        "method": method,
        "protocol": "HTTP/1.1",
        "status": status,
        "path": path,
        "bytes": 612,
        "duration": 0.004,
        "client_ip": "10.0.0.9",
        "user_agent": "kube-probe/1.29",
        "referer": None,
        "message": LINE_500 if status >= 500 else None,
        "source_type": "file",
    }
    event.update(extra)
    return event


def ndjson(events: Iterable[Mapping[str, Any]]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


def concatenated(events: Iterable[Mapping[str, Any]]) -> bytes:
    return b"".join(json.dumps(e).encode() for e in events)


def s3_event(bucket: str, *keys: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(k)}},
            }
            for k in keys
        ]
    }


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database": "dendro",
        "tables": dict(TABLES),
        "alert_rules": rules_by_table([SERVICE], TABLES),
        "reds": red_map([SERVICE]),
        "max_inflight": 4,
    }
    values.update(overrides)
    return Settings(**values)


def no_wait_backoff() -> Backoff:
    return Backoff(sleep=lambda _seconds: None, rng=lambda: 0.5)


class Body:
    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    def iter_chunks(self, size: int) -> Iterable[bytes]:
        while chunk := self._stream.read(size):
            yield chunk

    def close(self) -> None:
        self._stream.close()


class FakeS3:
    """get/put/delete of whole objects in memory."""

    def __init__(self, objects: Mapping[tuple[str, str], bytes] | None = None) -> None:
        self.objects: dict[tuple[str, str], bytes] = dict(objects or {})

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": Body(self.objects[(Bucket, Key)])}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> dict[str, Any]:
        self.objects[(Bucket, Key)] = Body
        return {}

    def delete_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self.objects.pop((Bucket, Key), None)
        return {}

    def lines(self, bucket: str, key: str) -> list[dict[str, Any]]:
        data = self.objects.get((bucket, key), b"")
        return [json.loads(line) for line in data.splitlines()]


def record_key(record: Mapping[str, Any]) -> tuple[Any, ...]:
    dims = tuple(sorted((d["Name"], d["Value"]) for d in record["Dimensions"]))
    return (dims, record["MeasureName"], record["Time"], record["TimeUnit"])


def client_error(code: str, message: str = "", status: int = 400, **extra: Any) -> ClientError:
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": message or code},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    response.update(extra)
    return ClientError(response, "WriteRecords")


class FakeTimestream:
    """Timestream's write semantics: ≤ 100 records per call, upserts by key and version.

    A record whose key exists with the same version and different values is rejected, as
    Timestream does; the same values are accepted again (idempotent). ``fault`` may raise a
    ClientError for a call (given the call number and the full records).
    """

    Fault = Callable[[int, list[dict[str, Any]]], ClientError | None]

    def __init__(self, fault: Fault | None = None) -> None:
        self.tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self.calls: list[dict[str, Any]] = []
        self.fault = fault
        self.rejected_writes = 0

    def write_records(self, **request: Any) -> dict[str, Any]:
        records = [apply_common(request.get("CommonAttributes", {}), r) for r in request["Records"]]
        if len(records) > 100:
            raise client_error("ValidationException", "more than 100 records")
        self.calls.append(request)
        error = self.fault(len(self.calls), records) if self.fault else None
        skip: set[int] = set()
        if error is not None:
            if error.response["Error"]["Code"] != "RejectedRecordsException":
                raise error
            skip = {r["RecordIndex"] for r in error.response["RejectedRecords"]}
        table = self.tables.setdefault(request["TableName"], {})
        rejected = []
        for index, record in enumerate(records):
            if index in skip:
                continue
            key = record_key(record)
            known = table.get(key)
            if known is not None and known["Version"] >= record["Version"] and known != record:
                rejected.append({"RecordIndex": index, "Reason": "same key, different values"})
                continue
            table[key] = record
        if error is not None:
            raise error
        if rejected:
            self.rejected_writes += len(rejected)
            raise client_error("RejectedRecordsException", "rejected", RejectedRecords=rejected)
        return {"RecordsIngested": {"Total": len(records)}}

    def records(self, table: str) -> list[dict[str, Any]]:
        return list(self.tables.get(table, {}).values())


def fake_loader(
    objects: Mapping[tuple[str, str], bytes],
    timestream: FakeTimestream | None = None,
    log: list[str] | None = None,
    **overrides: Any,
) -> tuple[Loader, FakeS3, FakeTimestream]:
    s3 = FakeS3(objects)
    ts = timestream or FakeTimestream()
    sink = log if log is not None else []
    loader = Loader(settings(**overrides), s3, ts, log=sink.append, backoff=no_wait_backoff())
    return loader, s3, ts
