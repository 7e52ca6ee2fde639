"""Events to rows: what fits a table and what is rejected, with the reason."""

from datetime import UTC, datetime

import pytest

from dendro.services.base import Column, Table
from dendro.store.schema import Rejected, parse_time, table_for, to_row

ACCESS = Table(
    "web",
    (
        Column("host", "VARCHAR", dimension=True),
        Column("status", "BIGINT"),
        Column("duration", "DOUBLE"),
        Column("path", "VARCHAR"),
    ),
)


def test_row_has_time_and_every_column():
    row = to_row(ACCESS, {"type": "web", "host": "a", "timestamp": "2026-11-26T12:00:00.5Z", "status": 200})
    assert row == {
        "time": datetime(2026, 11, 26, 12, 0, 0, 500000, tzinfo=UTC),
        "host": "a",
        "status": 200,
        "duration": None,
        "path": None,
    }


def test_numbers_are_coerced_from_strings_and_floats():
    row = to_row(ACCESS, {"host": "a", "timestamp": 0, "status": "404", "duration": "0.25"})
    assert (row["status"], row["duration"]) == (404, 0.25)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"host": "a", "timestamp": "2026-11-26T12:00:00Z", "status": "abc"}, "status must be a number"),
        ({"host": "a", "timestamp": "2026-11-26T12:00:00Z", "status": 1.5}, "status must be an integer"),
        ({"host": "a", "timestamp": "2026-11-26T12:00:00Z", "duration": float("nan")}, "finite"),
        ({"host": "a", "timestamp": "yesterday"}, "not RFC 3339"),
        ({"host": "a"}, "no timestamp"),
        ({"host": "", "timestamp": "2026-11-26T12:00:00Z"}, "no host"),
        ({"host": "a", "timestamp": "2026-11-26T12:00:00Z", "path": {"a": 1}}, "path must be a string"),
        ({"host": "a", "timestamp": "2026-11-26T12:00:00Z", "status": True}, "status must be a number"),
    ],
)
def test_misfits_are_rejected_with_a_reason(event, reason):
    with pytest.raises(Rejected, match=reason):
        to_row(ACCESS, event)


def test_vrl_python_timestamp_form_is_understood():
    assert parse_time("2026-01-01 00:00:00.5 UTC") == datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)


def test_table_for_routes_by_type():
    tables = {"web": ACCESS}
    assert table_for(tables, {"type": "web"}) is ACCESS
    with pytest.raises(Rejected, match="unknown event type 'ftp'"):
        table_for(tables, {"type": "ftp"})
    with pytest.raises(Rejected, match="no type"):
        table_for(tables, {})
