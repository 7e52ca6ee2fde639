"""Queries against a hostile user: issue 15, items 9 to 12, on the store, the ingest's ``/query``
and ``dendro query`` (the console's side is tests/web/test_hostile_console.py).

9. the table allow-list is not bypassed through CTE scoping: a CTE is visible only inside its own
   WITH, so ``duckdb_databases`` (the store's absolute path), ``duckdb_tables``, ``sqlite_master``
   and ``pragma_database_list`` stay out of reach;
10. a result is cut by bytes too, not only by rows;
11. a query nested 3,000 deep is a refusal with a message (sqlglot's RecursionError was not);
12. ``SELECT 1 AS x, 2 AS x`` keeps both columns in JSON, and ``dendro query -f csv`` neutralises
    formula cells as the console's export does.
"""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dendro.cli import app
from dendro.ingest.server import IngestServer, IngestSettings
from dendro.store import dialect, fetch, result_json
from dendro.store.base import QueryError, QueryResult, ResultColumn
from dendro.store.local import LocalStore

CATALOG = ["duckdb_databases", "duckdb_tables", "sqlite_master", "pragma_database_list", "duckdb_settings"]


# -- 9. CTE scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CATALOG)
def test_a_cte_inside_a_subquery_does_not_open_the_outer_name(store: LocalStore, name: str) -> None:
    probe = f"SELECT * FROM (WITH {name} AS (SELECT 1) SELECT * FROM {name}) a, {name}"
    with pytest.raises(QueryError, match=f"unknown table '{name}'"):
        store.query(probe)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT (SELECT count(*) FROM duckdb_databases)"
        " FROM (WITH duckdb_databases AS (SELECT 1) SELECT 1) t",
        "WITH b AS (SELECT * FROM duckdb_tables), duckdb_tables AS (SELECT 1) SELECT * FROM b",
        "SELECT * FROM duckdb_databases UNION ALL"
        " (WITH duckdb_databases AS (SELECT 1) SELECT * FROM duckdb_databases)",
        "SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) t WHERE EXISTS (SELECT 1 FROM sqlite_master)",
    ],
)
def test_a_cte_is_visible_only_in_its_own_scope(store: LocalStore, sql: str) -> None:
    with pytest.raises(QueryError, match="unknown table"):
        store.query(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "WITH a AS (SELECT 1 AS n) SELECT * FROM a",
        "WITH a AS (SELECT 1 AS n), b AS (SELECT n FROM a) SELECT * FROM b",
        "WITH a AS (SELECT 1 AS n) SELECT * FROM a UNION ALL SELECT * FROM a",
        "SELECT * FROM (WITH a AS (SELECT 1 AS n) SELECT * FROM a) t",
        "WITH a AS (SELECT 1 AS n) SELECT * FROM (SELECT * FROM a) t WHERE n IN (SELECT n FROM a)",
        "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r",
    ],
)
def test_ctes_still_work_where_they_are_in_scope(store: LocalStore, sql: str) -> None:
    assert store.query(sql).rows


def test_the_store_path_does_not_leak(store: LocalStore) -> None:
    probe = (
        "SELECT * FROM (WITH duckdb_databases AS (SELECT 1) SELECT * FROM duckdb_databases) a,"
        " duckdb_databases"
    )
    with pytest.raises(QueryError) as refused:
        store.query(probe)
    assert str(store.path) not in str(refused.value)


# -- 10. bytes ---------------------------------------------------------------------------------------


def test_a_result_is_cut_by_bytes(store: LocalStore) -> None:
    sql = "SELECT repeat('x', 100000) AS s FROM range(500)"
    result = store.query(sql, max_rows=100_000, max_bytes=1_000_000)
    assert result.truncated
    assert sum(map(fetch.row_bytes, result.rows)) <= 1_000_000
    assert len(result.rows) == 10


def test_the_default_byte_cap_applies_without_one(store: LocalStore) -> None:
    result = store.query("SELECT repeat('x', 1000000) AS s FROM range(100)")
    assert result.truncated
    assert sum(map(fetch.row_bytes, result.rows)) <= fetch.MAX_RESULT_BYTES


def test_rows_under_both_caps_are_not_truncated(store: LocalStore) -> None:
    result = store.query("SELECT range AS n FROM range(5)", max_rows=5, max_bytes=1000)
    assert not result.truncated and len(result.rows) == 5
    result = store.query("SELECT range AS n FROM range(6)", max_rows=5)
    assert result.truncated and len(result.rows) == 5


def test_the_cap_asks_the_cursor_for_few_rows_when_rows_are_large() -> None:
    cap = fetch.Cap(None, 10_000)
    assert cap.batch() == fetch.BATCH_ROWS
    assert cap.take(("x" * 3000,))
    assert cap.batch() == 3  # 7,000 bytes left at 3,000 a row: two more, and one to see the cut
    assert cap.take(("x" * 3000,)) and cap.take(("x" * 3000,))
    assert not cap.take(("x" * 3000,)) and cap.truncated


# -- 11. too deep to parse -----------------------------------------------------------------------------

DEEP = "SELECT " + "(" * 3000 + "1" + ")" * 3000


def test_a_query_too_deep_to_parse_is_a_refusal_with_a_message(store: LocalStore) -> None:
    with pytest.raises(QueryError, match="nests too deeply"):
        store.query(DEEP)
    with pytest.raises(QueryError, match="nests too deeply"):
        dialect.prepare(DEEP, "dendro", [])


def test_the_ingest_answers_a_too_deep_query_with_400(store: LocalStore) -> None:
    server = IngestServer(store, IngestSettings("t", 1 << 20), host="127.0.0.1", port=0)
    server.start()
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/query", data=json.dumps({"sql": DEEP}).encode(),
            headers={"Authorization": "Bearer t"}, method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as answered:
            urllib.request.urlopen(request, timeout=10)
        assert answered.value.code == 400
        assert "nests too deeply" in json.loads(answered.value.read())["error"]
    finally:
        server.stop()


# -- 12. duplicate names, CSV formulas --------------------------------------------------------------


def test_columns_of_the_same_name_all_survive_as_objects() -> None:
    columns = [ResultColumn("x", "BIGINT"), ResultColumn("x", "BIGINT"), ResultColumn("x_2", "BIGINT")]
    result = QueryResult(columns, [(1, 2, 3)])
    assert result_json.dicts(result) == [{"x": 1, "x_2": 2, "x_2_2": 3}]
    assert json.loads(result_json.to_json(result))["rows"] == [[1, 2, 3]]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    with LocalStore(tmp_path / "data" / "dendro.duckdb", "dendro", {}):
        pass
    return tmp_path / "data"


def test_dendro_query_json_keeps_repeated_column_names(data_dir: Path) -> None:
    args = ["query", "--data-dir", str(data_dir), "-f", "json", "SELECT 1 AS x, 2 AS x"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"x": 1, "x_2": 2}]


def test_dendro_query_csv_neutralises_formula_cells(data_dir: Path) -> None:
    sql = "SELECT '=HYPERLINK(\"http://evil\")' AS \"=a\", '+1' AS b, '@x' AS c, -1 AS d, 2.5 AS e, NULL AS f"
    result = CliRunner().invoke(app, ["query", "--data-dir", str(data_dir), "-f", "csv", sql])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows == [
        ["'=a", "b", "c", "d", "e", "f"],
        ["'=HYPERLINK(\"http://evil\")", "'+1", "'@x", "-1", "2.5", ""],
    ]
