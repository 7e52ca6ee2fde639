"""The Timestream dialect on DuckDB: translation, duration literals, and what is refused."""

from __future__ import annotations

import pytest

from dendro.store import dialect
from dendro.store.base import QueryError

TABLES = {"nginx_access", "postgres"}


def sql(text: str) -> str:
    return dialect.prepare(text, "dendro", TABLES).sql


def test_duration_literals_become_intervals_but_strings_stay_strings() -> None:
    out = sql("SELECT 1 FROM nginx_access WHERE time > ago(15m) AND path = '15m' AND duration > 0")
    assert "INTERVAL '15' MINUTE" in out
    assert "path = '15m'" in out
    assert "INTERVAL '60000' MILLISECOND" in sql("SELECT 60000ms")
    assert "INTERVAL '2' HOUR" in sql("SELECT 2h")
    assert "INTERVAL '1' DAY" in sql("SELECT 1d")
    assert "INTERVAL '30' SECOND" in sql("SELECT 30s")
    assert "INTERVAL '5400000000' MICROSECOND" in sql("SELECT 1.5h")


def test_spaced_number_and_word_is_an_alias_not_a_duration() -> None:
    assert sql("SELECT 15 m") == 'SELECT 15 AS m'


def test_functions_are_translated() -> None:
    out = sql("SELECT bin(time, 1m), approx_percentile(duration, 0.99), from_milliseconds(5), now()"
              " FROM nginx_access")
    assert "TIME_BUCKET(INTERVAL '1' MINUTE, time, CAST('1970-01-01 00:00:00' AS TIMESTAMP))" in out
    assert "QUANTILE_DISC(duration, 0.99)" in out
    assert "EPOCH_MS(CAST(5 AS BIGINT))" in out
    assert "CAST(CURRENT_TIMESTAMP AS TIMESTAMP)" in out


def test_unnamed_columns_are_named_as_timestream_names_them() -> None:
    assert sql("SELECT count(*), host FROM nginx_access GROUP BY host") == (
        'SELECT COUNT(*) AS "_col0", host FROM nginx_access GROUP BY host'
    )


def test_show_and_describe_are_answered_by_the_store() -> None:
    assert dialect.prepare("SHOW TABLES", "dendro", TABLES).kind == "show_tables"
    described = dialect.prepare('DESCRIBE "dendro"."postgres"', "dendro", TABLES)
    assert (described.kind, described.table) == ("describe", "postgres")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("INSERT INTO nginx_access SELECT * FROM nginx_access", "INSERT is refused"),
        ("UPDATE nginx_access SET status = 1", "UPDATE is refused"),
        ("DELETE FROM nginx_access", "DELETE is refused"),
        ("CREATE TABLE x (a INT)", "CREATE is refused"),
        ("DROP TABLE nginx_access", "DROP is refused"),
        ("ATTACH 'other.duckdb' AS other", "does not parse"),
        ("COPY nginx_access TO '/tmp/out.csv'", "COPY is refused"),
        ("PRAGMA database_list", "PRAGMA is refused"),
        ("SET threads = 1", "SET is refused"),
        ("INSTALL httpfs", "refused"),
        ("LOAD httpfs", "COMMAND is refused"),
        ("SELECT 1; SELECT 2", "one statement"),
        ("SELECT 1; DROP TABLE nginx_access", "one statement"),
        ("SELECT * FROM read_csv('/etc/passwd')", "reads files"),
        ("SELECT * FROM read_parquet('x.parquet')", "reads files"),
        ("SELECT * FROM glob('*')", "reads files|does not parse"),
        ("SELECT * FROM 'data.csv'", "unknown table 'data.csv'"),
        ("SELECT * FROM other.nginx_access", "unknown database 'other'"),
        ("SELECT * FROM duckdb_settings()", "not allowed"),
        ("WITH x AS (SELECT 1) SELECT * FROM x, secrets", "unknown table 'secrets'"),
        ("", "empty"),
    ],
)
def test_refused(text: str, reason: str) -> None:
    with pytest.raises(QueryError, match=reason):
        dialect.prepare(text, "dendro", TABLES)


def test_with_select_union_and_unnest_are_allowed() -> None:
    assert sql("WITH a AS (SELECT host FROM nginx_access) SELECT * FROM a")
    assert sql("SELECT 1 UNION ALL SELECT 2")
    assert sql("SELECT x FROM unnest(ARRAY[1, 2]) AS u(x)")
