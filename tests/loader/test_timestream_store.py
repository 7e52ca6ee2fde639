"""The Timestream Store: paginated typed queries, bytes scanned, errors, writes via the writer."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from dendro.store.base import QueryError, ResultColumn, StoreError
from dendro.store.timestream import READ_TIMEOUT_SECONDS, TimestreamStore, query_client
from tests.loader.helpers import TABLES, FakeTimestream, access

COLUMNS = [
    {"Name": "host", "Type": {"ScalarType": "VARCHAR"}},
    {"Name": "n", "Type": {"ScalarType": "BIGINT"}},
    {"Name": "p95", "Type": {"ScalarType": "DOUBLE"}},
    {"Name": "t", "Type": {"ScalarType": "TIMESTAMP"}},
    {"Name": "ok", "Type": {"ScalarType": "BOOLEAN"}},
]


def row(host: str, n: int, p95: float | None) -> dict[str, object]:
    return {
        "Data": [
            {"ScalarValue": host},
            {"ScalarValue": str(n)},
            {"NullValue": True} if p95 is None else {"ScalarValue": repr(p95)},
            {"ScalarValue": "2026-11-26 12:00:00.123456789"},
            {"ScalarValue": "true"},
        ]
    }


def client() -> object:
    return boto3.client(
        "timestream-query",
        region_name="us-east-1",
        endpoint_url="https://query.timestream.us-east-1.amazonaws.com",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def page(rows: list[dict[str, object]], token: str | None, scanned: int) -> dict[str, object]:
    answer: dict[str, object] = {
        "QueryId": "q1",
        "Rows": rows,
        "ColumnInfo": COLUMNS,
        "QueryStatus": {
            "ProgressPercentage": 100.0,
            "CumulativeBytesScanned": scanned,
            "CumulativeBytesMetered": 0,
        },
    }
    if token:
        answer["NextToken"] = token
    return answer


SQL = 'SELECT host, count(*) AS n FROM "dendro"."nginx_access" GROUP BY host'


def test_query_follows_an_empty_first_page_and_types_values() -> None:
    query = client()
    with Stubber(query) as stub:
        stub.add_response("query", page([], "t1", 0), {"QueryString": SQL})
        second = page([row("web-1", 3, 0.25)], "t2", 10)
        stub.add_response("query", second, {"QueryString": SQL, "NextToken": "t1"})
        last = page([row("web-2", 4, None)], None, 2048)
        stub.add_response("query", last, {"QueryString": SQL, "NextToken": "t2"})
        store = TimestreamStore("dendro", TABLES, query=query)
        result = store.query(SQL)
        stub.assert_no_pending_responses()
    assert [c.type for c in result.columns] == ["VARCHAR", "BIGINT", "DOUBLE", "TIMESTAMP", "BOOLEAN"]
    when = datetime(2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC)
    assert result.rows == [("web-1", 3, 0.25, when, True), ("web-2", 4, None, when, True)]
    assert result.bytes_scanned == 2048 and store.bytes_scanned == 2048
    assert not result.truncated


def test_row_cap_marks_the_result_truncated_and_cancels() -> None:
    query = client()
    with Stubber(query) as stub:
        stub.add_response("query", page([row("a", 1, 1.0), row("b", 2, 2.0)], "t1", 5))
        stub.add_response("cancel_query", {"CancellationMessage": "ok"}, {"QueryId": "q1"})
        result = TimestreamStore("dendro", TABLES, query=query).query(SQL, max_rows=1)
        stub.assert_no_pending_responses()
    assert result.truncated and [r[0] for r in result.rows] == ["a"]


def test_bad_sql_is_a_query_error_with_timestreams_reason() -> None:
    query = client()
    with Stubber(query) as stub:
        stub.add_client_error("query", "ValidationException", "line 1:8: Column 'nope' cannot be resolved")
        with pytest.raises(QueryError, match="cannot be resolved"):
            TimestreamStore("dendro", TABLES, query=query).query("SELECT nope")


def test_closed_service_is_said_plainly() -> None:
    query = client()
    with Stubber(query) as stub:
        refusal = "Timestream is not available for new customers"
        stub.add_client_error("query", "AccessDeniedException", refusal)
        with pytest.raises(StoreError, match="local backend"):
            TimestreamStore("dendro", TABLES, query=query).query(SQL)


def test_read_timeout_is_above_sixty_seconds() -> None:
    made = query_client("us-east-1", "https://query.timestream.us-east-1.amazonaws.com")
    assert made.meta.config.read_timeout == READ_TIMEOUT_SECONDS > 60


def test_describe_uses_the_schema_without_a_query() -> None:
    columns = TimestreamStore("dendro", TABLES, query=object()).describe("postgres")
    assert columns[:3] == [
        ResultColumn("time", "TIMESTAMP"),
        ResultColumn("host", "VARCHAR"),
        ResultColumn("level", "VARCHAR"),
    ]


def test_write_goes_through_the_loader_writer_and_is_idempotent() -> None:
    fake = FakeTimestream()
    store = TimestreamStore("dendro", TABLES, write=fake)
    events = [access(), access(), {"type": "unknown", "host": "h", "timestamp": "2026-11-26T12:00:00Z"}]
    result = store.write(events)
    assert result.written == {"nginx_access": 2}
    assert [(r.table, r.reason) for r in result.rejected] == [(None, "unknown event type 'unknown'")]
    again = store.write(events)
    assert again.written == {"nginx_access": 2} and fake.rejected_writes == 0
    assert len(fake.records("nginx_access")) == 2


class Client:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_close_closes_the_clients_the_store_made_and_only_those(monkeypatch: pytest.MonkeyPatch) -> None:
    import dendro.store.timestream as module

    made = Client()
    monkeypatch.setattr(module, "query_client", lambda region, endpoint: made)
    given = Client()
    store = TimestreamStore("dendro", TABLES, write=given)
    assert store.query_client is made
    store.close()
    assert made.closed and not given.closed
    assert store.write_client is given
