"""Query results as JSON: one form for the ingest's /query answer, the console's API and its export."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import orjson

from dendro.store import result_json
from dendro.store.base import QueryResult, ResultColumn
from dendro.web import results

RESULT = QueryResult(
    [
        ResultColumn("t", "TIMESTAMP"),
        ResultColumn("d", "DATE"),
        ResultColumn("span", "INTERVAL"),
        ResultColumn("x", "DECIMAL"),
        ResultColumn("raw", "BLOB"),
        ResultColumn("n", "BIGINT"),
        ResultColumn("host", "VARCHAR"),
    ],
    [
        (datetime(2026, 11, 26, 12, 0, 0, 123456), date(2026, 11, 26), timedelta(minutes=1),
         Decimal("1.5"), b"ok", 3, "web-1"),
        (None, None, None, None, None, None, None),
    ],
    truncated=True,
    elapsed_seconds=0.25,
    bytes_scanned=None,
)


def test_values_json_has_no_type_for_are_written_one_way() -> None:
    row = json.loads(result_json.to_json(RESULT))["rows"][0]
    assert row == ["2026-11-26 12:00:00.123456", "2026-11-26", 60.0, 1.5, "ok", 3, "web-1"]


def test_the_remote_store_reads_back_what_the_ingest_wrote() -> None:
    again = result_json.from_json(orjson.loads(result_json.to_json(RESULT)))
    assert again.columns == RESULT.columns
    assert again.rows[0][0] == RESULT.rows[0][0] and again.rows[1] == RESULT.rows[1]
    assert (again.truncated, again.elapsed_seconds, again.bytes_scanned) == (True, 0.25, None)


def test_an_aware_timestamp_keeps_its_offset() -> None:
    moment = datetime(2026, 11, 26, 12, tzinfo=UTC)
    answer = orjson.loads(result_json.to_json(QueryResult([ResultColumn("t", "TIMESTAMP")], [(moment,)])))
    assert result_json.from_json(answer).rows == [(moment,)]


def test_the_console_export_writes_the_same_values() -> None:
    exported = json.loads(b"".join(results.render_json(RESULT)))
    answered = json.loads(result_json.to_json(RESULT))
    names = [c["name"] for c in answered["columns"]]
    assert exported["rows"] == [dict(zip(names, row, strict=True)) for row in answered["rows"]]
    assert {k: v for k, v in exported.items() if k != "rows"} == {
        k: v for k, v in answered.items() if k != "rows"
    }
