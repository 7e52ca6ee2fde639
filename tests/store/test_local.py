"""The DuckDB store: exact round trips, rejections, Timestream queries on known data, guards."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from dendro.store.base import QueryError, StoreError
from dendro.store.local import META_SCHEMA, LocalStore
from tests.store.conftest import TABLES, access, known_events


def count(store: LocalStore, table: str) -> int:
    return int(store.query(f'SELECT count(*) FROM "dendro"."{table}"').rows[0][0])


def test_round_trip_counts_per_table_including_rejected(store: LocalStore) -> None:
    events = [
        *known_events(),
        {"type": "parse_error", "host": "web-1", "timestamp": "2026-11-26T12:00:00Z", "source": "s",
         "error": "bad", "message": "garbage"},
        {"type": "agent", "host": "web-1", "timestamp": "2026-11-26T12:00:00Z", "version": "0.42",
         "uptime": 3},
        {"type": "nope", "host": "web-1", "timestamp": "2026-11-26T12:00:00Z"},
        {"type": "nginx_access", "host": "web-1", "timestamp": "2026-11-26T12:00:00Z", "status": "abc"},
        {"type": "nginx_access", "host": "web-1", "timestamp": "yesterday"},
        {"host": "web-1"},
        {"type": "nginx_access", "host": "web-1", "timestamp": "2026-11-26T14:00:00+02:00", "status": "201",
         "duration": 1},
    ]
    result = store.write(events)
    assert result.written == {"nginx_access": 20, "parse_error": 1, "agent": 1}
    assert sorted(r.reason for r in result.rejected) == [
        "event has no type",
        "status must be a number, got 'abc'",
        "timestamp 'yesterday' is not RFC 3339",
        "unknown event type 'nope'",
    ]
    assert (count(store, "nginx_access"), count(store, "parse_error"), count(store, "agent")) == (20, 1, 1)
    assert count(store, "rejected") == 4
    coerced = store.query("SELECT time, status, duration FROM nginx_access WHERE status = 201").rows
    assert coerced == [(datetime(2026, 11, 26, 12, 0), 201, 1.0)]
    raw = store.query("SELECT \"table\", reason, event FROM rejected WHERE \"table\" = 'nope'").rows
    assert raw == [("nope", "unknown event type 'nope'",
                    '{"type": "nope", "host": "web-1", "timestamp": "2026-11-26T12:00:00Z"}')]


def test_an_impossible_date_that_looks_canonical_is_rejected_not_fatal(store: LocalStore) -> None:
    bad = access("web-1", 0, 0, 200, 0.1) | {"timestamp": "2026-02-30T12:00:00Z"}
    result = store.write([access("web-1", 0, 0, 200, 0.1), bad])
    assert result.written == {"nginx_access": 1}
    assert [r.reason for r in result.rejected] == ["timestamp '2026-02-30T12:00:00Z' is not RFC 3339"]


def test_per_minute_bin_counts_and_error_ratio(known_store: LocalStore) -> None:
    rows = known_store.query(
        "SELECT bin(time, 1m) AS minute, count(*) AS requests,"
        " count_if(status >= 500) AS errors, count_if(status >= 500) * 1.0 / count(*) AS ratio"
        ' FROM "dendro"."nginx_access" WHERE host = \'web-1\' GROUP BY 1 ORDER BY 1'
    ).rows
    assert rows == [(datetime(2026, 11, 26, 12, 0), 10, 2, 0.2), (datetime(2026, 11, 26, 12, 1), 5, 0, 0.0)]


def test_percentiles_by_host(known_store: LocalStore) -> None:
    result = known_store.query(
        "SELECT host, approx_percentile(duration, 0.5) AS p50, approx_percentile(duration, 0.95) AS p95,"
        " approx_percentile(duration, 0.99) AS p99 FROM nginx_access"
        " WHERE time BETWEEN from_iso8601_timestamp('2026-11-26T12:00:00Z') AND"
        " from_milliseconds(1795694459999) GROUP BY host ORDER BY host"
    )
    assert result.rows == [("web-1", 0.05, 0.1, 0.1), ("web-2", 0.5, 0.5, 0.5)]
    assert [c.type for c in result.columns] == ["VARCHAR", "DOUBLE", "DOUBLE", "DOUBLE"]


def test_ago_duration_literals_and_date_trunc(known_store: LocalStore) -> None:
    assert known_store.query("SELECT count(*) FROM nginx_access WHERE time > ago(1h)").rows == [(0,)]
    old = known_store.query("SELECT count(*) FROM nginx_access WHERE time > now() - 36500d").rows
    assert old == [(19,)]
    trunc = known_store.query(
        "SELECT date_trunc('hour', time) AS h, count(*) FROM nginx_access GROUP BY 1"
    ).rows
    assert trunc == [(datetime(2026, 11, 26, 12, 0), 19)]
    window = known_store.query(
        "SELECT count(*) FROM nginx_access"
        " WHERE time >= from_iso8601_timestamp('2026-11-26T12:00:00Z') + 60000ms"
    ).rows
    assert window == [(5,)]


def test_row_cap_marks_truncation(known_store: LocalStore) -> None:
    result = known_store.query("SELECT * FROM nginx_access", max_rows=3)
    assert (len(result.rows), result.truncated) == (3, True)
    assert not known_store.query("SELECT * FROM nginx_access", max_rows=19).truncated


def test_show_describe_and_wrong_sql(known_store: LocalStore) -> None:
    tables = known_store.query("SHOW TABLES").rows
    assert tables == [("agent",), ("nginx_access",), ("parse_error",), ("rejected",)]
    assert ("status", "BIGINT") in known_store.query('DESCRIBE "dendro"."nginx_access"').rows
    with pytest.raises(QueryError, match="nosuch"):
        known_store.query("SELECT nosuch FROM nginx_access")


def test_slow_query_is_interrupted(tmp_path: Path) -> None:
    with (
        LocalStore(tmp_path / "d.duckdb", "dendro", TABLES, query_timeout=0.3) as store,
        pytest.raises(QueryError, match=r"longer than 0\.3 s"),
    ):
        store.query("SELECT count(*) FROM range(100000000000) AS a(x) WHERE x * x = -1")


def test_read_only_store_reads_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "dendro.duckdb"
    with LocalStore(path, "dendro", TABLES) as store:
        store.write(known_events())
    with LocalStore(path, "dendro", {}, read_only=True) as reader:
        assert count(reader, "nginx_access") == 19
        with pytest.raises(StoreError, match="read-only"):
            reader.write(known_events())


def test_missing_corrupt_and_newer_files_end_in_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        LocalStore(tmp_path / "none.duckdb", "dendro", TABLES, read_only=True)
    corrupt = tmp_path / "corrupt.duckdb"
    corrupt.write_bytes(b"this is not a database" * 1000)
    with pytest.raises(StoreError, match=r"not a DuckDB database.*Move it away"):
        LocalStore(corrupt, "dendro", TABLES)
    newer = tmp_path / "newer.duckdb"
    LocalStore(newer, "dendro", TABLES).close()
    con = duckdb.connect(str(newer))
    con.execute(f"UPDATE {META_SCHEMA}.schema_version SET version = 99")
    con.close()
    with pytest.raises(StoreError, match="newer Dendro"):
        LocalStore(newer, "dendro", TABLES)


def test_file_reading_is_disabled_even_past_the_parser(store: LocalStore) -> None:
    cursor = store._con.cursor()
    with pytest.raises(duckdb.Error, match="disabled"):
        cursor.execute("SELECT * FROM read_csv('/etc/hostname')")
