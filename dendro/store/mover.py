"""Moving closed periods out of DuckDB into Parquet objects, and merging a closed day's objects.

**Move** (:func:`move_closed`): the rows of ``hot.T`` before a cutoff (the start of the current
UTC day, or of the current hour when a table holds :data:`HOURLY_ROWS` rows or more of today
before it) become one object per date (:mod:`dendro.store.parquet_layout`). The steps, with what a
``kill -9`` after each leaves:

1. ``BEGIN``; the rows before the cutoff are read in that snapshot and written to
   ``.<id>.parquet.tmp`` beside their final name, fsync'ed (*written*): a dot file, removed on
   the next start; the rows are still hot.
2. the final paths are committed as pending, in a transaction of their own (*pending*);
3. each file is renamed to its final name, the directory fsync'ed (*renamed*): the files
   exist but no view lists them; the next start unlinks them (they are pending, not live);
4. in the first transaction: the same rows leave ``hot.T`` (the DELETE sees the snapshot of
   step 1, so a row inserted since stays hot for the next move), the objects enter the
   manifest, the view and macro are replaced (*deleted*), then ``COMMIT`` (*committed*):
   from here the rows are in the objects only, in one atomic step for every reader;
5. the pending paths are cleared (they are live, so a crash before this costs nothing).

**Merge** (:func:`merge_closed`): a closed day with several objects (hourly moves, late rows)
is rewritten as one object, row group by row group, then swapped in one transaction (the old
objects become pending and are unlinked after the commit).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dendro.store import cold
from dendro.store import parquet_layout as layout
from dendro.store.sql import quote
from dendro.store.tier import Tier, fsync_dir

log = logging.getLogger("dendro.store")

#: a period is closed this long after it ends (late batches of an agent's retries still land hot)
GRACE = timedelta(minutes=10)
#: rows of today before the current hour from which a table moves hours, not only days
HOURLY_ROWS = 1_000_000
TMP_SUFFIX = ".parquet.tmp"


@dataclass
class _Written:
    entry: cold.Entry
    tmp: Path

    @property
    def final(self) -> Path:
        return self.tmp.with_name(self.tmp.name.removeprefix(".").removesuffix(TMP_SUFFIX) + layout.SUFFIX)


def cutoff(tier: Tier, table: str, now: datetime) -> datetime:
    """Rows of ``table`` before this move: a day's start, or an hour's at a high rate."""
    closed = now - GRACE
    day = datetime(closed.year, closed.month, closed.day)
    hour = closed.replace(minute=0, second=0, microsecond=0)
    if hour > day:  # the rate of today, not a backlog of older days
        row = tier.con.cursor().execute(
            f"SELECT count(*) FROM {tier.hot(table)} WHERE time >= ? AND time < ?", [day, hour]).fetchone()
        if row and row[0] >= HOURLY_ROWS:
            return hour
    return day


def tmp_path(root: Path, obj: layout.ObjectPath) -> Path:
    return root / obj.path.parent / f".{obj.object_id}{TMP_SUFFIX}"


def _write_day(cur: duckdb.DuckDBPyConnection, tier: Tier, table: str, columns: cold.Columns,
               bounds: tuple[datetime, datetime], first: datetime) -> _Written:
    """One date's rows (``bounds``: start included, end excluded) as a temporary object file."""
    obj = layout.new_object(table, first)
    tmp = tmp_path(tier.root, obj)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    schema = layout.arrow_schema(layout.table_of(table, list(columns)))
    names = ", ".join(quote(name) for name, _ in columns)
    select = f"SELECT {names} FROM {tier.hot(table)} WHERE time >= ? AND time < ?"
    relation = cur.sql(select, params=list(bounds))
    reader = relation.to_arrow_reader(layout.ROW_GROUP_ROWS)
    try:
        rows, low, high = _stream(reader, tmp, schema, tier)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    entry = cold.Entry(str(obj.path), table, obj.day, rows, tmp.stat().st_size, low, high, columns)
    return _Written(entry, tmp)


def _stream(reader: pa.RecordBatchReader, tmp: Path, schema: pa.Schema, tier: Tier
            ) -> tuple[int, datetime, datetime]:
    rows, low, high = 0, datetime.max, datetime.min
    with open(tmp, "wb") as handle:
        with contextlib.closing(layout.writer(handle, schema)) as out:
            started = time.perf_counter()
            for batch in reader:
                data = pa.Table.from_batches([batch])
                layout.write(out, data)
                rows += data.num_rows
                times = data[layout.TIME]
                low = min(low, pc.min(times).as_py())
                high = max(high, pc.max(times).as_py())
                tier.pace(time.perf_counter() - started)
                started = time.perf_counter()
        handle.flush()
        os.fsync(handle.fileno())
    return rows, low, high


def _rename(written: list[_Written]) -> None:
    for item in written:
        os.replace(item.tmp, item.final)
    for directory in {item.final.parent for item in written}:
        fsync_dir(directory)
        fsync_dir(directory.parent)


def move_closed(tier: Tier, table: str, now: datetime) -> int:
    """Move ``table``'s rows before :func:`cutoff` to Parquet; the number of rows moved."""
    limit = cutoff(tier, table, now)
    cur = tier.con.cursor()
    written: list[_Written] = []
    try:
        cur.execute("BEGIN")
        days = cur.execute(
            f"SELECT CAST(time AS DATE) AS day, min(time) FROM {tier.hot(table)} WHERE time < ?"
            " GROUP BY 1 ORDER BY 1", [limit]).fetchall()
        if not days:
            cur.execute("ROLLBACK")
            return 0
        columns = tier.columns(cur, table)
        for day, first in days:
            start = datetime(day.year, day.month, day.day)
            bounds = (start, min(start + timedelta(days=1), limit))
            written.append(_write_day(cur, tier, table, columns, bounds, first))
        tier.step("move-written")
        tier.commit_pending(str(w.entry.path) for w in written)
        tier.step("move-pending")
        _rename(written)
        tier.step("move-renamed")
        cur.execute(f"DELETE FROM {tier.hot(table)} WHERE time < ?", [limit])
        cold.add(cur, tier.prefix, [w.entry for w in written], now)
        tier.refresh(cur, table)
        tier.step("move-deleted")
    except BaseException:
        _abandon(cur, tier, written)
        raise
    _commit(cur)  # may fail without saying whether it is durable: the files stay pending then
    tier.step("move-committed")
    tier.clear_pending(w.entry.path for w in written)
    return sum(w.entry.rows for w in written)


def _commit(cur: duckdb.DuckDBPyConnection) -> None:
    """COMMIT. On failure the transaction may be durable or not (DuckDB can fail after the WAL
    write, at its checkpoint): the caller leaves its files pending, and the next recovery, which
    reads the manifest afresh, keeps those that are live and unlinks the others."""
    try:
        cur.execute("COMMIT")
    finally:
        cur.close()


def _abandon(cur: duckdb.DuckDBPyConnection, tier: Tier, written: list[_Written]) -> None:
    """A move or merge that failed before its COMMIT: roll back, remove what it wrote."""
    with contextlib.suppress(duckdb.Error):
        cur.execute("ROLLBACK")
    cur.close()
    for item in written:
        item.tmp.unlink(missing_ok=True)
    with contextlib.suppress(duckdb.Error, OSError):
        tier.unlink(item.entry.path for item in written)
        tier.clear_pending(item.entry.path for item in written)


# -- merging a closed day's objects --------------------------------------------------------


def merge_closed(tier: Tier, table: str, now: datetime) -> int:
    """Rewrite every closed date of ``table`` that has several objects as one; dates merged."""
    today = (now - GRACE).date()
    by_day: dict[date, list[cold.Entry]] = {}
    for entry in cold.entries(tier.con.cursor(), tier.prefix, table):
        by_day.setdefault(entry.day, []).append(entry)
    merged = 0
    for day, group in sorted(by_day.items()):
        if day < today and len(group) > 1:
            _merge(tier, table, group, now)
            merged += 1
    return merged


def _merged_file(tier: Tier, table: str, group: list[cold.Entry]) -> _Written:
    columns = _union_columns(group)
    schema = layout.arrow_schema(layout.table_of(table, list(columns)))
    obj = layout.new_object(table, min(e.min_time for e in group))
    tmp = tmp_path(tier.root, obj)
    try:
        rows = _copy(group, tier, tmp, schema)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    size = tmp.stat().st_size
    entry = cold.Entry(str(obj.path), table, obj.day, rows, size, min(e.min_time for e in group),
                       max(e.max_time for e in group), columns)
    return _Written(entry, tmp)


def _copy(group: list[cold.Entry], tier: Tier, tmp: Path, schema: pa.Schema) -> int:
    """The objects' rows, oldest object first, into one new file; the number of rows."""
    rows = 0
    with open(tmp, "wb") as handle:
        with contextlib.closing(layout.writer(handle, schema)) as out:
            for entry in sorted(group, key=lambda e: (e.min_time, e.path)):
                source = pq.ParquetFile(tier.root / entry.path)
                for batch in source.iter_batches(batch_size=layout.ROW_GROUP_ROWS):
                    started = time.perf_counter()
                    data = pa.Table.from_batches([batch])
                    layout.write(out, data)
                    rows += data.num_rows
                    tier.pace(time.perf_counter() - started)
        handle.flush()
        os.fsync(handle.fileno())
    return rows


def _union_columns(group: list[cold.Entry]) -> cold.Columns:
    seen: dict[str, str] = {}
    for entry in sorted(group, key=lambda e: e.min_time, reverse=True):  # newest types win
        for name, kind in entry.columns:
            seen.setdefault(name, kind)
    first = [name for name, _ in max(group, key=lambda e: e.min_time).columns]
    names = first + [n for n in seen if n not in first]
    return tuple((n, seen[n]) for n in names)


def _merge(tier: Tier, table: str, group: list[cold.Entry], now: datetime) -> None:
    written = [_merged_file(tier, table, group)]
    new, old = written[0].entry, [e.path for e in group]
    cur = tier.con.cursor()
    try:
        tier.step("merge-written")
        tier.commit_pending([new.path])
        _rename(written)
        tier.step("merge-renamed")
        cur.execute("BEGIN")
        cold.remove(cur, tier.prefix, old)
        cold.add(cur, tier.prefix, [new], now)
        cold.set_pending(cur, tier.prefix, old, now)
        tier.refresh(cur, table)
    except BaseException:
        _abandon(cur, tier, written)
        raise
    _commit(cur)
    tier.step("merge-committed")
    tier.clear_pending([new.path])
    tier.unlink(old)
    tier.step("merge-unlinked")
    tier.clear_pending(old)
