"""``kill -9`` at every step of the cold tier's work loses and duplicates nothing, and queries
running while it works see every row exactly once.

A child process opens a prepared store and runs one maintenance whose retention drops a day,
whose move writes a late object for a day already moved plus a new day, and whose merge then
joins the two objects of that day; the store's step hook SIGKILLs the child at one named step.
The parent reopens the store (recovery runs on open) and checks: the same rows as before,
nothing on disk but the manifest's objects, nothing pending; then a full maintenance still
gives the same rows.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dendro.store.cold import META
from dendro.store.local import LocalStore
from tests.store.tiering import access_at, hot_count, live, objects, open_store, rows, stamp, utc_now

REPO = Path(__file__).resolve().parents[2]
#: the present of the prepared store: the last noon (UTC), so every run walks the same steps; the
#: views' retention counts from the real clock, less than a day later, and no row is that close
#: to the limit
_REAL = utc_now()
NOW = _REAL.replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=int(_REAL.hour < 12))
RETENTION_DAYS = 5
STEPS = (
    "retention-deleted", "retention-committed", "retention-unlinked",
    "move-written", "move-pending", "move-renamed", "move-deleted", "move-committed",
    "merge-written", "merge-renamed", "merge-committed", "merge-unlinked",
    "compact-written", "compact-renamed",
)

CHILD = """
import os, signal, sys
from datetime import datetime
from dendro.store import hotfile
from tests.store.tiering import open_store
hotfile.MIN_FREE_BYTES = 1 << 20  # the prepared file frees a few MB, not the 64 of a real one
root, target, now, days = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3]), int(sys.argv[4])
store = open_store(__import__("pathlib").Path(root), days=days)
store.step = lambda step: os.kill(os.getpid(), signal.SIGKILL) if step == target else None
store.maintain(now=now)
store.compact_if_sparse()
print("finished without reaching", target)
"""


def prepare(root: Path) -> Counter[tuple[Any, ...]]:
    """A store at NOW: an expired day in Parquet, a moved day with late rows in DuckDB, a closed
    day still in DuckDB, today's rows; and a DuckDB file mostly free (so it compacts). Returns
    the rows it holds at NOW (expired ones excluded), as the retention's view shows them."""
    expired, moved, closed = NOW - timedelta(days=8), NOW - timedelta(days=2), NOW - timedelta(days=1)
    with open_store(root) as store:  # no retention yet: the expired day is moved like any other
        store.write(filler())  # blocks at the start of the file, freed below: worth a compaction
        store._con.execute("CHECKPOINT")
        store.write([access_at(expired + timedelta(minutes=i), i) for i in range(10)])
        store.write([access_at(moved + timedelta(minutes=i), 100 + i) for i in range(10)])
        store.maintain(now=NOW - timedelta(days=1, hours=10))  # moves the expired and the moved day
        assert len(live(store)) == 2
        store.write([access_at(moved + timedelta(hours=2, minutes=i), 200 + i) for i in range(5)])
        store.write([access_at(closed + timedelta(minutes=i), 300 + i) for i in range(10)])
        store.write([access_at(NOW - timedelta(minutes=i), 400 + i) for i in range(3)])
        store._con.execute('DELETE FROM "dendro".hot."parse_error" WHERE length(message) > 100')
        store._con.execute("CHECKPOINT")
    return expected_rows(root)


def filler() -> list[dict[str, Any]]:
    return [{"type": "parse_error", "host": "web-1", "timestamp": stamp(NOW), "source": "s", "error": "e",
             "message": os.urandom(100).hex()} for _ in range(20_000)]


def expected_rows(root: Path) -> Counter[tuple[Any, ...]]:
    """The rows whose time is within the retention at NOW (the tests' view of what must stay)."""
    with open_store(root) as store:
        every = rows(store)
    limit = NOW - timedelta(days=RETENTION_DAYS)
    return Counter({row: n for row, n in every.items() if row[0] >= limit})


def kept(store: LocalStore) -> Counter[tuple[Any, ...]]:
    limit = NOW - timedelta(days=RETENTION_DAYS)
    return Counter({row: n for row, n in rows(store).items() if row[0] >= limit})


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Counter[tuple[Any, ...]]]:
    root = tmp_path_factory.mktemp("prepared")
    return root, prepare(root)


def run_child(root: Path, step: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", CHILD, str(root), step, NOW.isoformat(), str(RETENTION_DAYS)]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("step", STEPS)
def test_kill_9_at_each_step_loses_and_duplicates_nothing(
    step: str, prepared: tuple[Path, Counter[tuple[Any, ...]]], tmp_path: Path
) -> None:
    source, expected = prepared
    root = tmp_path / "store"
    subprocess.run(["cp", "-a", str(source), str(root)], check=True)
    child = run_child(root, step)
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr  # it died at that step

    with open_store(root, days=RETENTION_DAYS) as store:  # recovery runs on open
        assert kept(store) == expected
        assert objects(root) == live(store)  # no temporary file, no orphan, nothing missing
        assert store._con.execute(f'SELECT count(*) FROM "dendro".{META}.pending').fetchall() == [(0,)]
        store.maintain(now=NOW)  # and the work completes from there
        assert kept(store) == expected
        assert objects(root) == live(store)
        assert hot_count(store) == 3  # today's rows only
        assert not [p for p in live(store) if "date=" + (NOW - timedelta(days=8)).date().isoformat() in p]
        days = [p.split("/")[2] for p in live(store)]
        assert len(days) == len(set(days)) == 2  # the merged day and the closed day: one object each


def test_queries_during_moves_and_merges_see_every_row_once(tmp_path: Path) -> None:
    root = tmp_path / "store"
    expected = prepare(root)
    wanted = (sum(expected.values()), sum(row[5] * n for row, n in expected.items()))
    seen: list[tuple[Any, ...]] = []
    stop = threading.Event()

    with open_store(root, days=RETENTION_DAYS) as store:
        limit = (NOW - timedelta(days=RETENTION_DAYS)).isoformat()
        sql = ("SELECT count(*), sum(bytes) FROM nginx_access"
               f" WHERE time >= from_iso8601_timestamp('{limit}Z')")

        def read() -> None:
            while not stop.is_set():
                seen.append(store.query(sql).rows[0])

        def slowly(step: str) -> None:
            time.sleep(0.05)  # widen every window between two steps

        store.step = slowly
        reader = threading.Thread(target=read)
        reader.start()
        try:
            store.maintain(now=NOW)
        finally:
            stop.set()
            reader.join()
        assert len(live(store)) == 2
    assert len(seen) > 10
    assert set(seen) == {wanted}
