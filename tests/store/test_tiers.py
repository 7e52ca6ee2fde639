"""The two tiers answer as one table: moves, late rows, merges, hourly moves, schema changes,
read-only opens, an older store's migration, and time-bounded queries pruned to their dates."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from dendro.services.base import Column, Table
from dendro.store import mover, pruning
from dendro.store.local import LocalStore
from tests.store.conftest import TABLES
from tests.store.tiering import access_at, history, hot_count, live, objects, open_store, rows, utc_now


def test_closed_days_move_to_parquet_and_every_row_answers_once(tmp_path: Path) -> None:
    now = utc_now()
    with open_store(tmp_path) as store:
        store.write(history(days=4, per_day=50, now=now))
        store.write([{"type": "nginx_access", "host": "web-1", "timestamp": "yesterday"}])  # to rejected
        before, tables = rows(store), store.query("SHOW TABLES").rows
        described = store.query('DESCRIBE "dendro"."nginx_access"').rows
        report = store.maintain()
        assert report.errors == []
        assert report.moved_rows >= 4 * 50  # the four closed days (today's rows before the cutoff too)
        assert rows(store) == before
        assert store.query("SHOW TABLES").rows == tables
        assert store.query('DESCRIBE "dendro"."nginx_access"').rows == described
        assert hot_count(store) == store.query(
            "SELECT count(*) FROM nginx_access WHERE time >= date_trunc('day', now() - 10m)").rows[0][0]
        days = {re.search(r"date=([\d-]+)", path).group(1) for path in live(store)}  # type: ignore[union-attr]
        assert len(days) >= 4
        assert objects(tmp_path) == live(store)  # nothing else on disk: no temporary file left
    with open_store(tmp_path) as again:  # and it reads the same after a restart
        assert rows(again) == before


def test_rows_arriving_late_for_a_moved_day_make_a_second_object_then_merge(tmp_path: Path) -> None:
    now = utc_now()
    old = now - timedelta(days=3)
    with open_store(tmp_path) as store:
        store.write([access_at(old + timedelta(minutes=i), i) for i in range(20)])
        store.maintain()
        assert len(live(store)) == 1
        store.write([access_at(old + timedelta(minutes=30 + i), 100 + i) for i in range(5)])  # late
        expected = rows(store)
        assert sum(expected.values()) == 25
        mover.merge_closed(store._tier(), "nginx_access", now)  # nothing to merge: one object yet
        store.maintain()  # moves the late rows (a second object), then merges the closed day
        assert rows(store) == expected
        assert len(live(store)) == 1
        assert objects(tmp_path) == live(store)
        merged = pq.ParquetFile(tmp_path / live(store)[0])
        assert merged.metadata.num_rows == 25


def test_a_busy_table_moves_closed_hours_not_only_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mover, "HOURLY_ROWS", 10)
    now = utc_now().replace(hour=12, minute=30)
    with open_store(tmp_path) as store:
        store.write([access_at(now - timedelta(hours=3, minutes=i), i) for i in range(30)])
        store.write([access_at(now - timedelta(minutes=1), 99)])
        store.maintain(now=now)
        assert hot_count(store) == 1  # only the current hour stays in DuckDB
        assert sum(rows(store).values()) == 31


def test_a_column_the_catalog_adds_later_reads_null_for_moved_rows(tmp_path: Path) -> None:
    now = utc_now()
    with open_store(tmp_path) as store:
        store.write([access_at(now - timedelta(days=2), 1)])
        store.maintain()
    wider = Table("nginx_access", (*TABLES["nginx_access"].columns, Column("upstream", "VARCHAR")))
    with LocalStore(tmp_path / "dendro.duckdb", "dendro", {**TABLES, "nginx_access": wider}) as store:
        store.write([access_at(now, 2) | {"upstream": "10.0.0.1:80"}])
        found = store.query("SELECT path, upstream FROM nginx_access ORDER BY path").rows
        assert found == [("/n/1", None), ("/n/2", "10.0.0.1:80")]


def test_read_only_open_reads_both_tiers_even_after_the_data_dir_moved(tmp_path: Path) -> None:
    now = utc_now()
    first = tmp_path / "first"
    with open_store(first) as store:
        store.write(history(days=2, per_day=10, now=now))
        store.maintain()
        expected = rows(store)
    moved = tmp_path / "elsewhere"
    shutil.move(first, moved)
    with LocalStore(moved / "dendro.duckdb", "dendro", {}, read_only=True) as reader:
        assert rows(reader) == expected
        assert reader.query("SELECT count(*) FROM nginx_access WHERE time > ago(1d)").rows[0][0] > 0
    with open_store(moved) as writer:
        assert rows(writer) == expected


def test_a_store_of_the_previous_layout_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "dendro.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA dendro_meta")
    con.execute("CREATE TABLE dendro_meta.schema_version (version INTEGER)")
    con.execute("INSERT INTO dendro_meta.schema_version VALUES (1)")
    con.execute('CREATE TABLE nginx_access (time TIMESTAMP, host VARCHAR, method VARCHAR, path VARCHAR,'
                ' status BIGINT, bytes BIGINT, duration DOUBLE)')
    con.execute("INSERT INTO nginx_access VALUES"
                " (now() - INTERVAL 3 DAY, 'web-1', 'GET', '/old', 200, 1, 0.5)")
    con.close()
    with LocalStore(path, "dendro", {}, read_only=True) as reader:  # read as it is
        assert reader.query("SELECT path FROM nginx_access").rows == [("/old",)]
    with open_store(tmp_path) as store:
        assert store.query("SELECT path FROM nginx_access").rows == [("/old",)]
        store.maintain()
        assert store.query("SELECT path FROM nginx_access").rows == [("/old",)]
        assert len(live(store)) == 1
        version = store._con.execute('SELECT version FROM "dendro".dendro_meta.schema_version').fetchall()
        assert version == [(2,)]


QUERIES = [
    "SELECT count(*), sum(bytes) FROM nginx_access WHERE time > ago(1h)",
    "SELECT count(*) FROM nginx_access WHERE time > ago(2d) AND status >= 500",
    "SELECT host, count(*) FROM \"dendro\".\"nginx_access\""
    " WHERE time BETWEEN ago(3d) AND ago(1d) GROUP BY 1",
    "SELECT count(*) FROM nginx_access WHERE ago(2d) < time",
    "SELECT count(*) FROM nginx_access WHERE time <= ago(2d)",
    "SELECT count(*) FROM nginx_access a JOIN nginx_access b ON a.path = b.path WHERE a.time > ago(1d)",
    "SELECT count(*) FROM nginx_access a LEFT JOIN nginx_access b ON a.path = b.path AND b.status = 500"
    " WHERE b.time > ago(3d)",
    "WITH recent AS (SELECT * FROM nginx_access WHERE time > ago(1d)) SELECT count(*) FROM recent",
    "SELECT count(*) FROM (SELECT path FROM nginx_access WHERE time >= ago(36h)) s",
    "SELECT count(*) FROM nginx_access WHERE time > ago(1d) UNION ALL"
    " SELECT count(*) FROM nginx_access WHERE time < ago(1d)",
    "SELECT count(*) FROM nginx_access WHERE time > ago(2d) OR status = 500",
    "SELECT count(*) FROM nginx_access WHERE time = (SELECT max(time) FROM nginx_access)",
    "SELECT bin(time, 1h) AS h, count(*) FROM nginx_access WHERE time > ago(30h) GROUP BY 1 ORDER BY 1",
]


@pytest.fixture(scope="module")
def tiered(tmp_path_factory: pytest.TempPathFactory) -> LocalStore:
    root = tmp_path_factory.mktemp("tiered")
    store = open_store(root)
    store.write(history(days=6, per_day=200, now=utc_now()))
    store.maintain()
    assert len(live(store)) >= 6
    return store


@pytest.mark.parametrize("sql", QUERIES)
def test_pruned_queries_answer_as_the_unpruned_ones(
    tiered: LocalStore, sql: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pruned = tiered.query(sql, max_rows=None).rows
    monkeypatch.setattr(pruning, "bound", lambda text, database, tables: text)
    assert pruned == tiered.query(sql, max_rows=None).rows


def test_a_time_bounded_query_opens_only_its_dates(tiered: LocalStore) -> None:
    translated = ('SELECT count(*) FROM "dendro"."nginx_access"'
                  " WHERE time > CAST(CURRENT_TIMESTAMP AS TIMESTAMP) - INTERVAL 1 HOUR")
    bounded = pruning.bound(translated, "dendro", {"nginx_access"})
    assert '"dendro".tiers."nginx_access"(' in bounded
    plan = tiered._con.cursor().execute(f"EXPLAIN ANALYZE {bounded}").fetchall()[0][1]
    unpruned = tiered._con.cursor().execute(f"EXPLAIN ANALYZE {translated}").fetchall()[0][1]
    opened = [int(n) for n in re.findall(r"Total Files Read: (\d+)", plan)]
    every = [int(n) for n in re.findall(r"Total Files Read: (\d+)", unpruned)]
    assert sum(opened) <= 1 < len(live(tiered)) == sum(every)


@pytest.mark.parametrize("sql", [
    'SELECT * FROM "dendro"."nginx_access"',  # no bound
    "SELECT * FROM nginx_access WHERE time > now() - 1h OR host = 'x'",  # not a conjunct
    "SELECT * FROM nginx_access WHERE time > '2026-01-01'",  # a bare string
    "SELECT * FROM nginx_access WHERE time > bytes",  # not a constant
    "SELECT * FROM nginx_access a, parse_error b WHERE time > now()",  # unqualified among two sources
    "WITH nginx_access AS (SELECT 1 AS time) SELECT * FROM nginx_access WHERE time > 0",  # a CTE
    "SELECT * FROM nginx_access WHERE time > (SELECT max(time) FROM agent)",  # a subquery
])
def test_pruning_leaves_queries_it_cannot_prove_alone(sql: str) -> None:
    assert pruning.bound(sql, "dendro", {"nginx_access", "parse_error", "agent"}) == sql


def test_every_object_is_in_the_manifest_and_the_manifest_in_the_objects(tiered: LocalStore) -> None:
    counted = Counter[str]()
    for path in live(tiered):
        counted[path.split("/")[1]] += pq.ParquetFile(tiered.root / path).metadata.num_rows
    in_objects = tiered.query(
        "SELECT count(*) FROM nginx_access WHERE time < date_trunc('day', now() - 10m)").rows[0][0]
    assert counted["nginx_access"] == in_objects
