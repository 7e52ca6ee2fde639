"""Writes through the columnar path: grouping by type, rejections in event order, values DuckDB
cannot hold, to_row's own errors, and exact stored values."""

from __future__ import annotations

from datetime import datetime

from dendro.store.local import LocalStore
from tests.store.conftest import access


def test_mixed_batch_groups_by_type_and_keeps_rejections_in_event_order(store: LocalStore) -> None:
    events = [
        access("web-1", 0, 0, 200, 0.1),
        {"type": "agent", "host": "web-1", "timestamp": "2026-11-26T12:00:00Z", "version": "1", "uptime": 3},
        ["not", "an", "object"],
        {"type": ["nginx_access"], "host": "web-1"},
        {"type": "rejected", "host": "web-1", "timestamp": "2026-11-26T12:00:00Z"},
        access("web-1", 0, 1, 200, 0.1) | {"timestamp": 1e20},
        access("web-2", 0, 2, 503, 0.2),
        {"host": "web-1"},
    ]
    result = store.write(events)
    assert result.written == {"nginx_access": 2, "agent": 1}
    assert [(r.table, r.reason) for r in result.rejected] == [
        (None, "event is not a JSON object"),
        (None, "event has no type"),
        ("rejected", "events cannot be written into the rejected table"),
        ("nginx_access", "timestamp 1e+20 is out of range"),
        (None, "event has no type"),
    ]
    rows = store.query('SELECT "table", reason FROM rejected ORDER BY reason').rows
    assert len(rows) == 5


def test_text_duckdb_cannot_hold_is_rejected_and_the_rest_committed(store: LocalStore) -> None:
    bad = access("web-1", 0, 1, 200, 0.1) | {"path": "/\ud800"}
    result = store.write([access("web-1", 0, 0, 200, 0.1), bad, access("web-1", 0, 2, 200, 0.1)])
    assert result.written == {"nginx_access": 2}
    assert [r.reason.split(" (")[0] for r in result.rejected] == ["path cannot be stored"]
    assert store.query("SELECT count(*) FROM nginx_access").rows == [(2,)]


def test_values_are_stored_as_to_row_gives_them(store: LocalStore) -> None:
    events = [
        access("web-1", 0, 0, 200, 0.1) | {"timestamp": "2026-11-26T14:00:00.5+02:00", "status": "201",
                                           "bytes": 2**53 + 1, "duration": 2},
        access("web-1", 0, 0, 200, 0.1) | {"timestamp": 1795694400.25, "status": 404.0, "path": 7},
        access("web-1", 0, 0, 200, 0.1) | {"timestamp": "2026-11-26 12:00:00.5 UTC", "method": None},
    ]
    assert store.write(events).rejected == []
    sql = "SELECT time, method, path, status, bytes, duration FROM nginx_access ORDER BY status"
    rows = store.query(sql).rows
    assert rows == [
        (datetime(2026, 11, 26, 12, 0, 0, 500000), None, "/", 200, 100, 0.1),
        (datetime(2026, 11, 26, 12, 0, 0, 500000), "GET", "/", 201, 2**53, 2.0),
        (datetime(2026, 11, 26, 12, 0, 0, 250000), "GET", "7", 404, 100, 0.1),
    ]


def test_a_large_batch_commits_in_one_transaction(store: LocalStore) -> None:
    events = [access(f"web-{i % 7}", i % 60, i % 60, 200, i / 1000) for i in range(20_000)]
    events[12_345] = events[12_345] | {"status": "abc"}
    result = store.write(events)
    assert result.written == {"nginx_access": 19_999}
    assert [r.reason for r in result.rejected] == ["status must be a number, got 'abc'"]
    assert store.query("SELECT count(*), count(DISTINCT host), sum(status) FROM nginx_access").rows == [
        (19_999, 7, 200 * 19_999)
    ]
