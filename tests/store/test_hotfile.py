"""The DuckDB file gives back what its rows left: once they moved to Parquet, a compaction copies
the file without its free blocks, and a copy a crash left behind is removed on open."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from dendro.store import hotfile
from tests.store.tiering import access_at, open_store, rows, utc_now


def test_after_a_big_move_the_file_shrinks_and_keeps_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hotfile, "MIN_FREE_BYTES", 1024 * 1024)  # a test-sized file
    old = utc_now() - timedelta(days=2)
    with open_store(tmp_path) as store:
        for start in range(0, 300_000, 50_000):
            store.write([access_at(old, n) | {"path": os.urandom(40).hex()}
                         for n in range(start, start + 50_000)])
        store._con.execute("CHECKPOINT")
        # recent rows after them in the file: DuckDB truncates free blocks at the end by itself
        store.write([access_at(utc_now(), n) | {"path": os.urandom(40).hex()} for n in range(20_000)])
        store._con.execute("CHECKPOINT")
        store.maintain()  # every old row moves to Parquet: their blocks are free inside the file
        store._con.execute("CHECKPOINT")
        expected = rows(store)
        free, total = hotfile.free_bytes(store._con, "dendro")
        assert hotfile.worth_compacting(free, total), (free, total)
        sizes = store.compact_if_sparse()
        assert sizes is not None and sizes[1] * 4 < sizes[0]
        assert rows(store) == expected
        assert store.compact_if_sparse() is None  # nothing more to gain
        store.write([access_at(utc_now(), 2)])  # and it writes on
    with open_store(tmp_path) as again:
        assert sum(rows(again).values()) == sum(expected.values()) + 1


def test_a_copy_left_by_an_interrupted_compaction_is_removed_on_open(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.write([access_at(utc_now(), 1)])
    leftover = hotfile.copy_path(tmp_path / "dendro.duckdb")
    leftover.write_bytes(b"half a copy")
    with open_store(tmp_path) as store:
        assert not leftover.exists()
        assert sum(rows(store).values()) == 1
