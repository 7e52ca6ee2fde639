"""Damaged and missing Parquet objects, a query over the memory limit, and the file guards.

A damaged object is reported by name (the store's log, ``dendro check --data``), taken out of the
queries (moved to ``quarantine/``), and every other row still answers; the query that met it
answers too. A query needing more memory than ``local.memory_limit`` fails with a message, and
the process goes on. The store reads files only below its ``tables/`` directory.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dendro import cli_common
from dendro.cli import app
from dendro.store.base import QueryError
from dendro.store.datacheck import problem
from tests.store.tiering import history, live, open_store, rows, utc_now


def tiered(root: Path, days: int = 4) -> tuple[dict[str, int], list[str]]:
    """A store with ``days`` closed days in Parquet: (rows per object, the objects)."""
    with open_store(root) as store:
        store.write(history(days=days, per_day=3000, now=utc_now()))
        store.maintain()
        paths = live(store)
    return {p: pq.ParquetFile(root / p).metadata.num_rows for p in paths}, paths


def truncate(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def damage_a_page(path: Path, column: str = "time", into: int = 30) -> None:
    """Overwrite 16 bytes ``into`` the first data page of ``column`` (its header, at 30: DuckDB
    fails on it without naming the file); the footer stays whole."""
    meta = pq.ParquetFile(path).metadata.row_group(0)
    chunk = next(meta.column(i) for i in range(meta.num_columns) if meta.column(i).path_in_schema == column)
    with open(path, "r+b") as handle:
        handle.seek(chunk.data_page_offset + into)
        handle.write(b"\xff" * 16)


def test_a_truncated_object_is_reported_by_name_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    counts, paths = tiered(tmp_path)
    victim = paths[1]
    truncate(tmp_path / victim)
    with open_store(tmp_path) as store, caplog.at_level(logging.WARNING, logger="dendro.store"):
        total = store.query("SELECT count(*) FROM nginx_access").rows[0][0]
        hot = store.query("SELECT count(*) FROM nginx_access WHERE time >= date_trunc('day', now() - 10m)")
        assert total == sum(counts.values()) - counts[victim] + hot.rows[0][0]
        assert victim not in live(store)
    assert any(victim in record.getMessage() and "skipped by every query" in record.getMessage()
               for record in caplog.records)
    assert (tmp_path / "quarantine" / victim).exists() and not (tmp_path / victim).exists()


def test_a_damaged_page_is_found_when_a_query_meets_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    counts, paths = tiered(tmp_path)
    victim = paths[0]
    with open_store(tmp_path) as store, caplog.at_level(logging.WARNING, logger="dendro.store"):
        damage_a_page(tmp_path / victim)  # while the store runs, after its checks at open
        with pytest.raises(duckdb.Error) as raw:  # DuckDB itself fails, naming no file
            duckdb.sql(f"SELECT sum(epoch(time)) FROM '{tmp_path / victim}'").fetchall()
        assert victim not in str(raw.value) and problem(tmp_path / victim) is not None
        answer = store.query("SELECT count(*), sum(epoch(time)) FROM nginx_access").rows[0]
        assert answer[0] == store.query("SELECT count(*) FROM nginx_access").rows[0][0]
        assert answer[0] >= sum(n for p, n in counts.items() if p != victim)
        assert victim not in live(store)
    messages = [r.getMessage() for r in caplog.records]
    assert any(victim in m and "skipped by every query" in m for m in messages)


def test_maintenance_finds_damage_duckdb_would_read_as_values(tmp_path: Path) -> None:
    _, paths = tiered(tmp_path)
    victim = paths[1]
    damage_a_page(tmp_path / victim, column="duration", into=60)  # inside the page data
    assert problem(tmp_path / victim) is not None  # its page CRC no longer matches
    with open_store(tmp_path) as store:
        store.maintain()  # the scrub reads objects whole, CRCs included
        assert victim not in live(store)
        assert (tmp_path / "quarantine" / victim).exists()


def test_dendro_check_data_names_damaged_and_quarantined_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    _, paths = tiered(data, days=3)
    truncate(data / paths[0])
    damage_a_page(data / paths[1])
    (tmp_path / "dendro.yaml").write_text("local: {data_dir: data}\nservices: {}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_common.console, "width", 400)  # one line per row: names not folded
    result = CliRunner().invoke(app, ["check", "--data"])
    assert result.exit_code == 1, result.output
    assert "data" in result.output and paths[0] in result.output and paths[1] in result.output
    assert paths[2] in result.output  # the sound one is listed too, as passed
    with open_store(data) as store:  # dendro up quarantines the truncated one when it starts
        store.maintain()
    result = CliRunner().invoke(app, ["check", "--data"])
    assert result.exit_code == 1
    assert f"quarantine/{paths[0]}" in result.output and "quarantined" in result.output


def test_a_missing_object_is_forgotten_with_an_error_and_the_rest_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, paths = tiered(tmp_path)
    (tmp_path / paths[2]).unlink()
    with caplog.at_level(logging.ERROR, logger="dendro.store"), open_store(tmp_path) as store:
        store.maintain()
        assert paths[2] not in live(store)
        assert store.query("SELECT count(*) FROM nginx_access").rows[0][0] > 0
    assert any(paths[2] in r.getMessage() and "are lost" in r.getMessage() for r in caplog.records)


def test_a_query_over_the_memory_limit_fails_with_a_message(tmp_path: Path) -> None:
    with open_store(tmp_path, memory_limit="64MB") as store:
        assert store._con.execute("SELECT current_setting('memory_limit')").fetchone() == ("61.0 MiB",)
        spilled = store.query("SELECT m FROM (SELECT md5(CAST(i AS VARCHAR)) AS m FROM range(3000000) t(i))"
                              " ORDER BY m LIMIT 1 OFFSET 2000000").rows
        assert len(spilled) == 1 and (tmp_path / "tmp" / "store").is_dir()  # a sort spills to DATA_DIR/tmp
        message = r"more memory than the store may use \(local.memory_limit: 64MB\)"
        with pytest.raises(QueryError, match=message):
            store.query("SELECT string_agg(repeat('x', 100), ',') FROM range(2000000)")
        assert store.query("SELECT 1").rows == [(1,)]  # the store goes on


def test_the_store_reads_files_only_below_its_tables_directory(tmp_path: Path) -> None:
    # duckdb/duckdb at commit 044a04a7cd39e6e8235f756597ae42dde084e5e5 (DuckDB 2.0.1 is installed):
    # src/main/config.cpp DBConfig::CanAccessFile: with enable_external_access off, a path is
    # readable only if its canonical form starts with an allowed directory (AddAllowedDirectory
    # ends it with "/"), so a sibling "tables-x" or "tables/../" is refused.
    # src/main/settings/custom_settings.cpp EnableExternalAccessSetting::OnSet also allows the
    # attached database's own file and WAL and the temp directory: the store's own data, which
    # a query reads anyway (and the dialect refuses every file-reading function before DuckDB).
    _, paths = tiered(tmp_path, days=1)
    (tmp_path / "tables-x").mkdir()
    (tmp_path / "tables-x" / "a.csv").write_text("a\n1\n")
    (tmp_path / "ingest-token").write_text("secret\n")
    with open_store(tmp_path) as store:
        cursor = store._con.cursor()
        assert cursor.execute(f"SELECT count(*) FROM read_parquet('{tmp_path / paths[0]}')").fetchone()
        refused = (tmp_path / "tables-x" / "a.csv", tmp_path / "tables" / ".." / "ingest-token",
                   Path("/etc/hostname"))
        for path in refused:
            with pytest.raises(duckdb.PermissionException):
                cursor.execute(f"SELECT * FROM read_text('{path}')")
        with pytest.raises(QueryError, match="reads files"):
            store.query(f"SELECT * FROM read_parquet('{tmp_path / paths[0]}')")


def test_history_reads_the_same_after_a_query_found_nothing_wrong(tmp_path: Path) -> None:
    _, paths = tiered(tmp_path, days=2)
    with open_store(tmp_path) as store:
        before = rows(store)
        with pytest.raises(QueryError, match="nosuch"):
            store.query("SELECT nosuch FROM nginx_access WHERE time > ago(3d)")
        assert live(store) == paths and rows(store) == before  # an ordinary error quarantines nothing
        assert store.query("SELECT count(*) FROM nginx_access WHERE time > now() + 1d").rows == [(0,)]


def test_a_good_copy_restored_over_a_quarantined_object_is_adopted(tmp_path: Path) -> None:
    """docs/local.md: restore by putting the object back under ``tables/``. The store's open moved
    every path its quarantine list holds out again (finishing a quarantine a crash interrupted),
    so a restored good copy went back to ``quarantine/`` and its rows stayed lost. A file there
    that reads whole is a restore: it is adopted and leaves the list; a damaged one still moves."""
    counts, paths = tiered(tmp_path)
    victim = paths[1]
    backup = (tmp_path / victim).read_bytes()
    truncate(tmp_path / victim)
    with open_store(tmp_path) as store:
        store.maintain()
        assert victim not in live(store)
        assert [(q["path"], q["rows"]) for q in store.quarantined()] == [(victim, counts[victim])]
        total = store.query("SELECT count(*) FROM nginx_access").rows[0][0]
    (tmp_path / victim).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / victim).write_bytes(backup)  # the user restores it and deletes the damaged copy
    (tmp_path / "quarantine" / victim).unlink()
    with open_store(tmp_path) as store:
        assert victim in live(store) and store.quarantined() == []
        assert store.query("SELECT count(*) FROM nginx_access").rows[0][0] == total + counts[victim]
    assert (tmp_path / victim).exists() and not (tmp_path / "quarantine" / victim).exists()


def test_an_interrupted_quarantine_of_a_damaged_object_still_finishes(tmp_path: Path) -> None:
    _, paths = tiered(tmp_path)
    victim = paths[0]
    truncate(tmp_path / victim)
    with open_store(tmp_path) as store:
        store.maintain()
    (tmp_path / victim).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "quarantine" / victim).replace(tmp_path / victim)  # as if killed before the move
    with open_store(tmp_path) as store:
        assert victim not in live(store) and [q["path"] for q in store.quarantined()] == [victim]
    assert (tmp_path / "quarantine" / victim).exists() and not (tmp_path / victim).exists()


def test_the_console_home_page_shows_quarantined_objects(tmp_path: Path) -> None:
    """Rows out of every query must not go unseen: the home page names the damaged files and the
    rows they hold (it said nothing; only store.log and ``dendro check --data`` did)."""
    from dendro.config import from_dict
    from dendro.web.app import create_app

    counts, paths = tiered(tmp_path)
    truncate(tmp_path / paths[2])
    config = from_dict({"services": {"nginx": {}}, "local": {"data_dir": str(tmp_path)}})
    with open_store(tmp_path) as store:
        page = create_app(config, store).test_client().get("/").get_data(as_text=True)
        assert 'id="quarantined"' in page and "Damaged data" in page
        assert f"{counts[paths[2]]:,} rows are out of every query" in page
        api = create_app(config, store).test_client().get("/api/home").get_json()
        assert [(q["path"], q["rows"]) for q in api["quarantined"]] == [(paths[2], counts[paths[2]])]
    (tmp_path / "quarantine" / paths[2]).unlink()  # given up (or restored): the card goes
    with open_store(tmp_path) as store:
        page = create_app(config, store).test_client().get("/").get_data(as_text=True)
        assert 'id="quarantined"' not in page and "Local DuckDB" in page
