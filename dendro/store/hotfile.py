"""Giving back the space DuckDB keeps inside its file: a copy of the file, swapped in atomically.

DuckDB reuses the blocks rows leave behind (after a move to Parquet or a retention drop) for
new rows and gives back free blocks at the end of its file, but not those in the middle. The
hot tier stays small (closed days, or hours at high rates, move out every hour), so the file
levels off at about a day of rows; when more than half of it (and more than
:data:`MIN_FREE_BYTES`) is free, for instance after a burst or after the first run over a large
store of an older Dendro, ``dendro up`` compacts it when it next starts:

1. ``.dendro.duckdb.compact`` is written with ``COPY FROM DATABASE`` and fsync'ed;
2. it is renamed over the store's file and the directory fsync'ed.

A crash before 2 leaves the old file (the copy is removed when the store opens next); after 2,
the new one. The store is closed while this runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import duckdb

from dendro.store.sql import literal
from dendro.store.tier import fsync_dir

MIN_FREE_BYTES = 64 * 1024 * 1024


def copy_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.compact")


def remove_leftover(path: Path) -> None:
    """Remove a copy an interrupted compaction left (and its WAL)."""
    copy = copy_path(path)
    copy.unlink(missing_ok=True)
    copy.with_name(copy.name + ".wal").unlink(missing_ok=True)


def free_bytes(con: duckdb.DuckDBPyConnection, database: str) -> tuple[int, int]:
    """(free bytes inside the file, the file's size in blocks × block size) of ``database``."""
    for row in con.execute("PRAGMA database_size").fetchall():
        if row[0] == database:
            block = int(row[2])
            return int(row[5]) * block, int(row[3]) * block
    return 0, 0


def worth_compacting(free: int, total: int) -> bool:
    return free >= MIN_FREE_BYTES and free * 2 >= total


def compact(path: Path, step: Callable[[str], None] = lambda step: None) -> tuple[int, int]:
    """Rewrite the (closed) DuckDB file at ``path`` without its free blocks; (size before, after).
    ``step`` is called after each step (the crash tests' seam)."""
    before = path.stat().st_size
    remove_leftover(path)
    copy = copy_path(path)
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH {literal(str(path))} AS src")
        con.execute("CHECKPOINT src")
        con.execute(f"ATTACH {literal(str(copy))} AS dst")
        con.execute("COPY FROM DATABASE src TO dst")
        con.execute("DETACH dst")
        con.execute("DETACH src")
    finally:
        con.close()
    with open(copy, "rb+") as handle:
        os.fsync(handle.fileno())
    step("compact-written")
    os.replace(copy, path)
    fsync_dir(path.parent)
    step("compact-renamed")
    return before, path.stat().st_size
