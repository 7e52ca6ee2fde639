"""The local store: one DuckDB file in the data dir, speaking Dendro's Timestream SQL.

Layout. The file (``DATA_DIR/dendro.duckdb`` for ``dendro up``, see :mod:`dendro.runtime.datadir`)
is ATTACHed to an in-memory DuckDB under the pipeline's database name, so
``"dendro"."nginx_access"`` resolves exactly as on Timestream (catalog ``dendro``, schema
``main``), and ``USE`` makes unqualified names work too. Each table
has ``time TIMESTAMP`` (UTC, no zone, as Timestream's ``time``) and the catalog's columns; the
``rejected`` table keeps every event that fits no table with the reason and the raw JSON; the
``dendro_meta.schema_version`` table lets an older Dendro refuse a newer file.

Writes are one transaction per call (what fits goes to its table, what does not to
``rejected``). Events are checked by :func:`dendro.store.schema.to_columns`, which decides
acceptance, coercion and the rejection reason exactly as :func:`~dendro.store.schema.to_row`
does on AWS (and as the loader, an error of Python's own conversions is a rejection too). The
rows reach DuckDB as Arrow tables (``from_arrow(...).insert_into``), which reads no file, so the
store keeps external access off.

Reads are guarded in layers: the parsed-statement check of :mod:`dendro.store.dialect`,
DuckDB's ``enable_external_access = false`` (locked), a read-only attachment when the store is
opened for queries, a time limit that interrupts the query, and a row cap marking truncation.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from dendro.services.base import Column, Table
from dendro.store import (
    cold,
    dialect,
    diskspace,
    duckdb_file,
    faults,
    fetch,
    hotfile,
    mover,
    pruning,
    recovery,
    retention,
)
from dendro.store.base import QueryError, QueryResult, Rejection, ResultColumn, StoreError, WriteResult
from dendro.store.diskspace import DEFAULT_RESERVE, DiskGuard
from dendro.store.parquet_layout import ARROW_TYPES
from dendro.store.retention import Retention
from dendro.store.schema import Columns, Rejected, table_for, to_columns
from dendro.store.sql import quote
from dendro.store.tier import Stopped, Tier, utc_now

log = logging.getLogger("dendro.store")

SCHEMA_VERSION = duckdb_file.SCHEMA_VERSION
META_SCHEMA = duckdb_file.META_SCHEMA
DEFAULT_QUERY_TIMEOUT = 30.0
#: the share of the time dendro up's moves, merges and scrubs may be busy (benchmarks/README.md)
WORK_SHARE = 0.15
#: damaged objects one query may find (each is quarantined and the query run again)
MAX_DAMAGED = 3

REJECTED = Table(
    name="rejected",
    description="Events that fit no table, with the reason and the raw event.",
    columns=(
        Column("table", "VARCHAR", description="the event's type, if it had one"),
        Column("reason", "VARCHAR"),
        Column("event", "VARCHAR", description="the raw event as JSON"),
    ),
)

def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


#: the Arrow type each column type travels as from Python to DuckDB (the Parquet layout's)
_ARROW = ARROW_TYPES
#: the name under which a batch is visible to its INSERT, on the writing connection only
_VIEW = "dendro_ingest_batch"


def _arrow(columns: Columns, types: list[pa.DataType]) -> pa.Table:
    """The rows as an Arrow table (aware datetimes become naive UTC, as ``time`` is stored)."""
    arrays = [pa.array(values, type=kind) for values, kind in zip(columns.values, types, strict=True)]
    return pa.Table.from_arrays(arrays, names=list(columns.names))


def _unstorable(columns: Columns, types: list[pa.DataType]) -> dict[int, str]:
    """Rows (by position) that fit the table but not DuckDB (a string that is not valid UTF-8)."""
    found: dict[int, str] = {}
    for name, values, kind in zip(columns.names, columns.values, types, strict=True):
        for i, value in enumerate(values):
            try:
                pa.array([value], type=kind)
            except (pa.ArrowException, UnicodeError, OverflowError) as error:
                found.setdefault(i, f"{name} cannot be stored ({_first_line(error)})")
    return found


@dataclass
class _Batch:
    """The rows of one table for one write, ready to insert."""

    table: Table
    rows: pa.Table

    def insert_sql(self) -> str:
        names = ", ".join(quote(name) for name in self.rows.column_names)
        return f"INSERT INTO {cold.HOT}.{quote(self.table.name)} ({names}) SELECT {names} FROM {_VIEW}"


def _warm_up() -> None:
    """Convert one datetime: pyarrow's first one imports pandas (~0.3 s), not the first batch's."""
    pa.array([datetime(2000, 1, 1, tzinfo=UTC)], type=pa.timestamp("us"))


def _kind(event: Any) -> str | None:
    kind = event.get("type") if isinstance(event, Mapping) else None
    return kind if isinstance(kind, str) else None


def _rejected_rows(rejected: list[Rejection]) -> pa.Table:
    now = datetime.now(UTC).replace(tzinfo=None)
    return pa.table({
        "time": pa.array([now] * len(rejected), type=pa.timestamp("us")),
        "table": pa.array([_storable(r.table) for r in rejected], type=pa.string()),
        "reason": pa.array([_storable(r.reason) for r in rejected], type=pa.string()),
        "event": pa.array([_event_json(r.event) for r in rejected], type=pa.string()),
    })


def _storable(text: str | None) -> str | None:
    """Text as DuckDB can hold it: a lone surrogate (Python allows it, UTF-8 does not) escaped."""
    if text is None:
        return None
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode(errors="backslashreplace").decode()
    return text


def _event_json(event: Any) -> str:
    try:
        text = json.dumps(event, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = json.dumps(str(event))
    return _storable(text) or ""  # a lone surrogate inside a JSON string becomes its \u escape


@dataclass(frozen=True)
class StoreSettings:
    """How ``dendro up`` runs its store (dendro.yaml's ``local`` keys); the defaults suit tests."""

    root: Path | None = None  # tables/, quarantine/, tmp/ go here; default: the file's directory
    memory_limit: str | None = None  # DuckDB's memory_limit; None: DuckDB's own (80% of the RAM)
    retention: Retention = field(default_factory=Retention)
    disk_reserve: int = DEFAULT_RESERVE
    work_share: float = 1.0  # of the time a move, merge or scrub may be busy (dendro up: WORK_SHARE)


@dataclass
class Maintenance:
    """What one :meth:`LocalStore.maintain` did."""

    moved_rows: int = 0
    merged_days: int = 0
    dropped_objects: int = 0
    dropped_bytes: int = 0
    errors: list[str] = field(default_factory=list)


class LocalStore:
    """A DuckDB file holding one database of event tables (see the module docstring)."""

    def __init__(
        self,
        path: Path,
        database: str,
        tables: Mapping[str, Table],
        *,
        read_only: bool = False,
        query_timeout: float = DEFAULT_QUERY_TIMEOUT,
        settings: StoreSettings | None = None,
    ) -> None:
        self.path = Path(path)
        self.database = database
        self.read_only = read_only
        self.query_timeout = query_timeout
        self.settings = settings or StoreSettings()
        self.root = (self.settings.root or self.path.parent).resolve()
        self.step: Callable[[str], None] = lambda step: None  # the crash tests' seam (see tier.py)
        self._tables = {**tables, REJECTED.name: REJECTED}
        self._write_lock = threading.Lock()
        self._maintenance_lock = threading.Lock()
        self._layout: dict[str, list[str]] = {}
        self._cold: set[str] = set()
        self._verified: dict[str, float] = {}  # object → when last read whole and found sound
        self._temp = self.root / "tmp" / (f"read-{os.getpid()}" if read_only else "store")
        disk = self.root if self.root.is_dir() else self.path.parent
        self._disk = DiskGuard(disk, self.settings.disk_reserve)
        self._invalid = False
        self._con = self._connect()

    # -- opening -------------------------------------------------------------------------

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb_file.connect(self.path, self.database, self.read_only)
        try:
            catalog = duckdb_file.FILE_ALIAS if self.read_only else self.database
            found = duckdb_file.check_version(con, catalog, self.path)
            if self.read_only:
                if found is None:
                    raise StoreError(f"{self.path} is not a Dendro store (no schema version)")
                keep = {t: self.settings.retention.of(t) for t in self._tables}
                duckdb_file.read_only_views(con, self.database, self.root, found, keep)
            else:
                hotfile.remove_leftover(self.path)
                duckdb_file.prepare(con, self.database, self._tables, found)
            duckdb_file.limit(con, self.root, self.settings.memory_limit, self._temp)
        except duckdb.Error as error:
            con.close()
            detail = _first_line(error)
            raise StoreError(f"{self.path}: cannot be used as a Dendro store ({detail})") from None
        except BaseException:
            con.close()
            raise
        if not self.read_only:
            self._con = con
            self._after_open()
        return con

    def _after_open(self) -> None:
        """Finish what a crash interrupted, rebuild every view, learn the file's columns."""
        tier = self._tier()
        recovery.recover(tier)
        recovery.check_objects(tier)
        cur = self._con.cursor()
        try:
            cur.execute("BEGIN")
            for table in tier.hot_tables():
                tier.refresh(cur, table)
            cur.execute("COMMIT")
        finally:
            cur.close()
        self._layout = duckdb_file.hot_columns(self._con, self.database)
        self._cold = {e.table for e in cold.entries(self._con.cursor(), quote(self.database))}
        _warm_up()

    def _tier(self) -> Tier:
        return Tier(self._con, self.database, self.root, self.settings.retention.of, self.step,
                    self.settings.work_share)

    def _reconnect(self) -> None:
        """Open the file again after DuckDB invalidated it (a write failed for lack of space)."""
        with contextlib.suppress(duckdb.Error):
            self._con.close()
        self._con = self._connect()
        self._invalid = False
        log.warning("%s reopened after a failed write", self.path)

    def close(self) -> None:
        with self._maintenance_lock, self._write_lock:
            try:
                if not self.read_only and not self._invalid:
                    self._con.execute("CHECKPOINT")
            except duckdb.Error:
                pass  # the WAL is replayed on the next open
            self._con.close()
            if self.read_only:
                shutil.rmtree(self._temp, ignore_errors=True)

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------

    def _table_of(self, event: Any) -> Table:
        if not isinstance(event, Mapping):
            raise Rejected("event is not a JSON object")
        table = table_for(self._tables, event)
        if table.name == REJECTED.name:
            raise Rejected("events cannot be written into the rejected table")
        return table

    def _group(self, events: list[Any]) -> tuple[dict[str, list[int]], dict[int, str]]:
        """Positions of the events of each table, and the reason of every event that has none."""
        groups: dict[str, list[int]] = {}
        refused: dict[int, str] = {}
        kinds = [event.get("type") for event in events] if set(map(type, events)) <= {dict} else None
        if kinds is None or not set(map(type, kinds)) <= {str, type(None)}:
            for i, event in enumerate(events):
                try:
                    groups.setdefault(self._table_of(event).name, []).append(i)
                except Rejected as reason:
                    refused[i] = str(reason)
            return groups, refused
        distinct = set(kinds)
        # plain dicts typed by a string (or untyped): decide once per distinct type
        names: dict[str | None, str] = {}
        reasons: dict[str | None, str] = {}
        for kind in distinct:
            try:
                names[kind] = self._table_of({"type": kind}).name
            except Rejected as reason:
                reasons[kind] = str(reason)
        if len(names) == 1 and not reasons:
            return {next(iter(names.values())): list(range(len(events)))}, refused
        for i, kind in enumerate(kinds):
            if kind in names:
                groups.setdefault(names[kind], []).append(i)
            else:
                refused[i] = reasons[kind]
        return groups, refused

    def _route(self, events: list[Any]) -> tuple[list[_Batch], list[Rejection]]:
        groups, refused = self._group(events)
        batches = []
        for name, positions in groups.items():
            table = self._tables[name]
            chosen = events if len(positions) == len(events) else [events[i] for i in positions]
            columns = to_columns(table, chosen)
            refused.update((positions[i], reason) for i, reason in columns.rejected.items())
            if len(columns):
                accepted = [p for i, p in enumerate(positions) if i not in columns.rejected]
                rows, unstorable = self._rows(table, columns)
                refused.update((accepted[i], reason) for i, reason in unstorable.items())
                if rows.num_rows:
                    batches.append(_Batch(table, rows))
        rejected = [Rejection(events[i], refused[i], _kind(events[i])) for i in sorted(refused)]
        return batches, rejected

    @staticmethod
    def _rows(table: Table, columns: Columns) -> tuple[pa.Table, dict[int, str]]:
        types = [_ARROW["TIMESTAMP"], *[_ARROW.get(c.type, pa.string()) for c in table.columns]]
        try:
            return _arrow(columns, types), {}
        except (pa.ArrowException, UnicodeError, OverflowError):
            unstorable = _unstorable(columns, types)
            keep = [i for i in range(len(columns)) if i not in unstorable]
            kept = Columns(columns.names, [[values[i] for i in keep] for values in columns.values])
            return _arrow(kept, types), unstorable

    def write(self, events: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Route events to their tables (what fits none to ``rejected``), in one transaction;
        DiskFull (nothing written) while the disk is full."""
        if self.read_only:
            raise StoreError("this store was opened read-only")
        batches, rejected = self._route(list(events))
        self._commit(batches, rejected)
        written: dict[str, int] = {}
        for batch in batches:
            written[batch.table.name] = batch.rows.num_rows
        return WriteResult(written, rejected)

    def _commit(self, batches: list[_Batch], rejected: list[Rejection]) -> None:
        inserts = [*batches]
        if rejected:
            inserts.append(_Batch(REJECTED, _rejected_rows(rejected)))
        with self._write_lock:
            self._disk.check()
            if self._invalid:
                self._reconnect()
            con = self._con
            try:
                con.execute("BEGIN TRANSACTION")
                for batch in inserts:
                    self._insert(batch)
                con.execute("COMMIT")
            except duckdb.Error as error:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise self._write_failed(error) from None

    def _write_failed(self, error: duckdb.Error) -> StoreError:
        """The StoreError for a failed commit; DiskFull when the disk is full (then the file is
        reopened before the next write, as DuckDB invalidates it)."""
        if diskspace.is_invalidated(error):
            self._invalid = True
        if diskspace.is_disk_full(error):
            return self._disk.refuse(f"no space left ({_first_line(error)})")
        return StoreError(f"the store could not commit the batch ({_first_line(error)})")

    def _insert(self, batch: _Batch) -> None:
        layout = self._layout.get(batch.table.name, [])
        if sorted(layout) == sorted(batch.rows.column_names):
            # the rows in the file's column order: one statement, no view to register
            target = f"{cold.HOT}.{quote(batch.table.name)}"
            self._con.from_arrow(batch.rows.select(layout)).insert_into(target)
            return
        self._con.register(_VIEW, batch.rows)
        try:
            self._con.execute(batch.insert_sql())
        finally:
            self._con.unregister(_VIEW)

    # -- maintenance ---------------------------------------------------------------------

    def maintain(self, now: datetime | None = None, stop: threading.Event | None = None) -> Maintenance:
        """Retention, then moves of closed periods to Parquet, then merges of closed days, then a
        scrub (``dendro up`` runs it when it starts and every hour). A table whose step fails is
        logged and left for the next run; once ``stop`` is set the work in progress is abandoned
        cleanly (as after a failure) and the run ends; ``now`` (naive UTC) is for tests and
        benchmarks."""
        if self.read_only:
            raise StoreError("this store was opened read-only")
        report = Maintenance()
        moment = now or utc_now()
        with self._maintenance_lock:
            if self._invalid:
                with self._write_lock:
                    self._reconnect()
            tier = self._tier()
            tier.stop = stop
            recovery.check_objects(tier)
            try:
                for table in tier.hot_tables():
                    self._maintain_table(tier, table, moment, report)
                with contextlib.suppress(duckdb.Error, OSError):
                    recovery.scrub(tier, self._verified, time.time())
            except Stopped:
                report.errors.append("stopped")
            self._cold = {e.table for e in cold.entries(self._con.cursor(), quote(self.database))}
        return report

    def _maintain_table(self, tier: Tier, table: str, now: datetime, report: Maintenance) -> None:
        try:
            dropped = retention.drop_expired(tier, table, tier.keep_days(table), now)
            report.dropped_objects += dropped.objects
            report.dropped_bytes += dropped.bytes
            report.moved_rows += mover.move_closed(tier, table, now)
            report.merged_days += mover.merge_closed(tier, table, now)
        except (duckdb.Error, OSError, pa.ArrowException) as error:
            report.errors.append(f"{table}: {_first_line(error)}")
            log.error("maintenance of %s failed, to be retried in the next run: %s", table,
                      _first_line(error))
            if diskspace.is_invalidated(error):
                self._invalid = True
                return
            with contextlib.suppress(duckdb.Error, OSError):
                recovery.recover(tier)
                recovery.quarantine_all(tier, dict(recovery.damaged(tier, [table])))

    def compact_if_sparse(self) -> tuple[int, int] | None:
        """Rewrite the DuckDB file without its free blocks when more than half of it is free
        (:mod:`dendro.store.hotfile`); (bytes before, after), or None when not worth it. Call it
        when nothing else uses the store (``dendro up`` does, when it starts)."""
        if self.read_only:
            return None
        with self._maintenance_lock, self._write_lock:
            free, total = hotfile.free_bytes(self._con, self.database)
            if not hotfile.worth_compacting(free, total):
                return None
            self._con.execute("CHECKPOINT")
            self._con.close()
            try:
                sizes = hotfile.compact(self.path, self.step)
            finally:
                self._con = self._connect()
        log.info("compacted %s: %d bytes to %d", self.path, *sizes)
        return sizes

    # -- reading -------------------------------------------------------------------------

    def tables(self) -> list[str]:
        rows = self._con.cursor().execute(
            "SELECT view_name FROM duckdb_views() WHERE database_name = ? AND schema_name = 'main'"
            " AND NOT internal ORDER BY view_name",
            [self.database],
        ).fetchall()
        return [r[0] for r in rows]

    def quarantined(self) -> list[dict[str, Any]]:
        """The objects found damaged and taken out of the queries whose file is still in
        ``quarantine/`` (one deleted there is given up or restored): path, table, day, rows (as the
        manifest had them), the reason and when; newest first."""
        cur = self._con.cursor()
        try:
            found = cur.execute(
                "SELECT path, tbl, day, rows, reason, noted_at"
                f" FROM {quote(self.database)}.{cold.META}.quarantined ORDER BY noted_at DESC"
            )
            names = [d[0] for d in found.description]
            rows = [dict(zip(names, row, strict=True)) for row in found.fetchall()]
            return [row for row in rows if (self.root / cold.QUARANTINE / row["path"]).exists()]
        finally:
            cur.close()

    def describe(self, table: str) -> list[ResultColumn]:
        if table not in self.tables():
            raise QueryError(f"unknown table {table!r} (tables: {', '.join(self.tables()) or 'none yet'})")
        rows = self._con.cursor().execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ?"
            " AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [self.database, table],
        ).fetchall()
        return [ResultColumn(name, str(kind)) for name, kind in rows]

    def query(self, sql: str, *, max_rows: int | None = None, max_bytes: int | None = None) -> QueryResult:
        """Run one read-only query in Dendro's Timestream dialect (cut at ``max_rows`` rows or
        ``max_bytes`` bytes, :data:`dendro.store.fetch.MAX_RESULT_BYTES` by default)."""
        started = time.perf_counter()
        statement = dialect.prepare(sql, self.database, self.tables())
        if statement.kind == "show_tables":
            result = QueryResult([ResultColumn("table", "VARCHAR")], [(t,) for t in self.tables()])
        elif statement.kind == "show_databases":
            result = QueryResult([ResultColumn("database", "VARCHAR")], [(self.database,)])
        elif statement.kind == "describe":
            described = self.describe(statement.table)
            result = QueryResult(
                [ResultColumn("column", "VARCHAR"), ResultColumn("type", "VARCHAR")],
                [(c.name, c.type) for c in described],
            )
        else:
            result = self._select(statement.sql, max_rows, max_bytes)
        result.elapsed_seconds = time.perf_counter() - started
        return result

    def _select(self, sql: str, max_rows: int | None, max_bytes: int | None = None) -> QueryResult:
        """Run ``sql`` (DuckDB), date-pruned; a damaged object found on the way is quarantined
        and the query run again (up to MAX_DAMAGED times)."""
        cold_tables = self._cold if not self.read_only else set(self.tables())
        bounded = pruning.bound(sql, self.database, cold_tables) if cold_tables else sql
        for _ in range(MAX_DAMAGED + 1):
            try:
                return self._run(bounded, max_rows, max_bytes)
            except duckdb.Error as error:
                if bounded != sql and isinstance(error, duckdb.BinderException | duckdb.ConversionException):
                    bounded = sql  # the pruned form failed where the query itself may not: run that
                    continue
                if not self._skip_damaged(error, sql):
                    raise self._query_error(error) from None
        raise QueryError("the query kept meeting damaged Parquet objects; run `dendro check --data`")

    def _run(self, sql: str, max_rows: int | None, max_bytes: int | None = None) -> QueryResult:
        cursor = self._con.cursor()
        cursor.execute(f"USE {quote(self.database)}")
        timer = threading.Timer(self.query_timeout, cursor.interrupt)
        timer.start()
        try:
            cursor.execute(sql)
            rows, truncated = fetch.rows(cursor, max_rows, max_bytes)
            description = cursor.description or []
        finally:
            timer.cancel()
            cursor.close()
        columns = [ResultColumn(d[0], _type_name(str(d[1]))) for d in description]
        decimals = [i for i, d in enumerate(description) if str(d[1]).startswith("DECIMAL")]
        if decimals:
            rows = [_floats(row, decimals) for row in rows]
        return QueryResult(columns, [tuple(r) for r in rows], truncated=truncated)

    def _query_error(self, error: duckdb.Error) -> StoreError:
        if isinstance(error, duckdb.InterruptException):
            return QueryError(f"the query ran longer than {self.query_timeout:g} s and was stopped")
        if isinstance(error, duckdb.OutOfMemoryException):
            limit = self.settings.memory_limit or "DuckDB's default"
            return QueryError(f"the query needs more memory than the store may use (local.memory_limit:"
                              f" {limit}): narrow its time range or its groups ({_first_line(error)})")
        if diskspace.is_invalidated(error):
            self._invalid = True
            return StoreError(f"the store must be reopened after a failed write ({_first_line(error)})")
        return QueryError(_first_line(error))

    def _skip_damaged(self, error: duckdb.Error, sql: str) -> bool:
        """After a query failed on a Parquet object: True when the query should run again
        (a damaged object was quarantined, or a file it read had just been dropped)."""
        if self.read_only or diskspace.is_invalidated(error) or not faults.about_objects(error):
            return False
        named = faults.object_path(error, self.root)
        tier = self._tier()
        if named is not None and not (self.root / named).exists():
            return True  # dropped by retention or a merge after the query began: a new snapshot has it right
        if not self._maintenance_lock.acquire(timeout=self.query_timeout):
            return False
        try:
            if named is not None:
                return recovery.quarantine(tier, named, _first_line(error))
            suspects = [t for t in self._cold if t in sql]
            return bool(recovery.quarantine_all(tier, dict(recovery.damaged(tier, suspects))))
        finally:
            self._cold = {e.table for e in cold.entries(self._con.cursor(), quote(self.database))}
            self._maintenance_lock.release()


def _type_name(duck_type: str) -> str:
    """DuckDB type names as the store protocol names them (DECIMAL literals become DOUBLE)."""
    if duck_type.startswith("DECIMAL"):
        return "DOUBLE"
    return {"TIMESTAMP WITH TIME ZONE": "TIMESTAMP", "INTEGER": "BIGINT", "HUGEINT": "BIGINT",
            "FLOAT": "DOUBLE"}.get(duck_type, duck_type)


def _floats(row: tuple[Any, ...], positions: list[int]) -> tuple[Any, ...]:
    values = list(row)
    for i in positions:
        if isinstance(values[i], Decimal):
            values[i] = float(values[i])
    return tuple(values)
