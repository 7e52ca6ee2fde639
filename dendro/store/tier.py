"""What the cold tier's operations (move, merge, retention, quarantine, recovery) work on.

A :class:`Tier` holds the store's DuckDB connection (each operation takes its own cursor, so
it runs beside the ingest's inserts and the readers' queries), the database's name, the
store's root directory (the Parquet layout lives below it), each table's retention, and the
share of the time its work may be busy (:meth:`Tier.pace`: a move, a merge or a scrub pauses
between row groups, so it does not starve the ingest of CPU). Its
:meth:`~Tier.step` is the seam of the crash tests: every operation calls it between its
steps, and a test makes one of them kill the process.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dendro.store import cold
from dendro.store.sql import quote


class Stopped(Exception):
    """The background work was asked to stop (``dendro up`` is stopping)."""


def _no_step(step: str) -> None:
    return None


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def fsync_dir(path: Path) -> None:
    """Make a rename or an unlink in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Tier:
    con: duckdb.DuckDBPyConnection
    database: str
    root: Path
    keep_days: Callable[[str], int] = lambda table: 0
    step: Callable[[str], None] = field(default=_no_step)
    share: float = 1.0  # of the time the background work may be busy (1: no pause)
    stop: threading.Event | None = None  # set: the work in progress gives up at its next pause

    def pace(self, busy: float) -> None:
        """After ``busy`` seconds of work, pause so the work takes ``share`` of the time: the
        ingest keeps the CPU it needs while a move, a merge or a scrub runs. Raises Stopped
        once ``stop`` is set (the caller abandons its work as after any failure)."""
        if 0 < self.share < 1 and busy > 0:
            pause = busy * (1 / self.share - 1)
            if self.stop is not None:
                self.stop.wait(pause)
            else:
                time.sleep(pause)
        if self.stop is not None and self.stop.is_set():
            raise Stopped("dendro up is stopping")

    @property
    def prefix(self) -> str:
        return quote(self.database)

    def hot(self, table: str) -> str:
        return f"{self.prefix}.{cold.HOT}.{quote(table)}"

    def hot_tables(self) -> list[str]:
        rows = self.con.cursor().execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?"
            " ORDER BY table_name", [self.database, cold.HOT]).fetchall()
        return [r[0] for r in rows]

    def columns(self, cur: duckdb.DuckDBPyConnection, table: str) -> cold.Columns:
        rows = cur.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ?"
            " AND schema_name = ? AND table_name = ? ORDER BY column_index",
            [self.database, cold.HOT, table]).fetchall()
        return tuple((str(n), str(t)) for n, t in rows)

    def refresh(self, cur: duckdb.DuckDBPyConnection, table: str) -> None:
        """Rebuild ``table``'s view and macro from the manifest, in ``cur``'s transaction."""
        objects = cold.entries(cur, self.prefix, table)
        cold.refresh(cur, self.prefix, self.hot(table), table, self.columns(cur, table), objects, self.root,
                     self.keep_days(table))

    # -- files ---------------------------------------------------------------------------

    def unlink(self, paths: Iterable[str]) -> None:
        """Remove these objects' files, and their date directories once empty."""
        dirs = set()
        for path in paths:
            target = self.root / path
            target.unlink(missing_ok=True)
            dirs.add(target.parent)
        for directory in dirs:
            with contextlib.suppress(OSError):  # not empty, or gone
                directory.rmdir()
            if directory.parent.exists():
                fsync_dir(directory.parent)

    def commit_pending(self, paths: Iterable[str], *, clear: bool = False) -> None:
        """Record (or clear) pending paths in a transaction of their own."""
        listed = list(paths)
        if not listed:
            return
        cur = self.con.cursor()
        try:
            if clear:
                cold.clear_pending(cur, self.prefix, listed)
            else:
                cold.set_pending(cur, self.prefix, listed, utc_now())
        finally:
            cur.close()

    def clear_pending(self, paths: Iterable[str]) -> None:
        self.commit_pending(paths, clear=True)
