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
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from dendro.services.base import Column, Table
from dendro.store import dialect, fetch
from dendro.store.base import QueryError, QueryResult, Rejection, ResultColumn, StoreError, WriteResult
from dendro.store.schema import Columns, Rejected, table_for, to_columns
from dendro.store.sql import literal, quote

#: bumped when the file layout changes in a way an older Dendro cannot read
SCHEMA_VERSION = 1
META_SCHEMA = "dendro_meta"
DEFAULT_QUERY_TIMEOUT = 30.0

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


#: the Arrow type each column type travels as from Python to DuckDB
_ARROW: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
}
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
        return f"INSERT INTO {quote(self.table.name)} ({names}) SELECT {names} FROM {_VIEW}"


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
    ) -> None:
        self.path = Path(path)
        self.database = database
        self.read_only = read_only
        self.query_timeout = query_timeout
        self._tables = {**tables, REJECTED.name: REJECTED}
        self._write_lock = threading.Lock()
        self._layout: dict[str, list[str]] = {}
        self._con = self._open()
        try:
            self._check_version()
            if not read_only:
                self._create_tables()
                self._layout = self._existing_columns()
                _warm_up()
        except duckdb.Error as error:
            self._con.close()
            detail = _first_line(error)
            raise StoreError(f"{self.path}: cannot be used as a Dendro store ({detail})") from None
        except StoreError:
            self._con.close()
            raise

    # -- opening -------------------------------------------------------------------------

    def _open(self) -> duckdb.DuckDBPyConnection:
        if self.read_only and not self.path.is_file():
            raise StoreError(f"no store at {self.path}: start `dendro up` or run `dendro ingest` first")
        if not self.read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(":memory:")
        mode = " (READ_ONLY)" if self.read_only else ""
        try:
            con.execute(f"ATTACH {literal(str(self.path))} AS {quote(self.database)}{mode}")
        except duckdb.Error as error:
            con.close()
            detail = _first_line(error)
            if "lock" in detail.lower():
                raise StoreError(
                    f"{self.path} is in use by another process ({detail}); stop it, or query"
                    " through the running `dendro up`"
                ) from None
            raise StoreError(
                f"{self.path} cannot be opened: it is not a DuckDB database, it was written by a newer"
                f" DuckDB, or it is damaged ({detail}). Move it away to start a new store."
            ) from None
        con.execute(f"USE {quote(self.database)}")
        # Nothing this store does reads or writes other files: user queries cannot either.
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        return con

    def _check_version(self) -> None:
        meta = f"{quote(self.database)}.{META_SCHEMA}.schema_version"
        exists = self._con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?"
            " AND table_name = 'schema_version'",
            [self.database, META_SCHEMA],
        ).fetchone()
        if not exists or not exists[0]:
            if self.read_only:
                raise StoreError(f"{self.path} is not a Dendro store (no schema version)")
            self._con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(self.database)}.{META_SCHEMA}")
            self._con.execute(f"CREATE TABLE {meta} (version INTEGER)")
            self._con.execute(f"INSERT INTO {meta} VALUES (?)", [SCHEMA_VERSION])
            return
        row = self._con.execute(f"SELECT max(version) FROM {meta}").fetchone()
        version = int(row[0]) if row and row[0] is not None else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer Dendro (store schema {version}; this one reads up to"
                f" {SCHEMA_VERSION}): upgrade Dendro, or use another --data-dir"
            )

    def _create_tables(self) -> None:
        existing = self._existing_columns()
        for table in self._tables.values():
            columns = existing.get(table.name)
            if columns is None:
                spec = ", ".join(
                    ["time TIMESTAMP", *[f"{quote(c.name)} {c.type}" for c in table.columns]]
                )
                self._con.execute(f"CREATE TABLE {quote(table.name)} ({spec})")
                continue
            for column in table.columns:  # a newer catalog added a column: add it, keep the rows
                if column.name not in columns:
                    self._con.execute(
                        f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {column.type}"
                    )

    def _existing_columns(self) -> dict[str, list[str]]:
        """The columns of every table, in their order in the file."""
        rows = self._con.execute(
            "SELECT table_name, column_name FROM duckdb_columns()"
            " WHERE database_name = ? AND schema_name = 'main' ORDER BY table_name, column_index",
            [self.database],
        ).fetchall()
        result: dict[str, list[str]] = {}
        for table, column in rows:
            result.setdefault(table, []).append(column)
        return result

    def close(self) -> None:
        with self._write_lock:
            try:
                if not self.read_only:
                    self._con.execute("CHECKPOINT")
            except duckdb.Error:
                pass  # the WAL is replayed on the next open
            self._con.close()

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
        """Route events to their tables (what fits none to ``rejected``), in one transaction."""
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
            con = self._con
            try:
                con.execute("BEGIN TRANSACTION")
                for batch in inserts:
                    self._insert(batch)
                con.execute("COMMIT")
            except duckdb.Error as error:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise StoreError(f"the store could not commit the batch ({_first_line(error)})") from None

    def _insert(self, batch: _Batch) -> None:
        layout = self._layout.get(batch.table.name, [])
        if sorted(layout) == sorted(batch.rows.column_names):
            # the rows in the file's column order: one statement, no view to register
            self._con.from_arrow(batch.rows.select(layout)).insert_into(quote(batch.table.name))
            return
        self._con.register(_VIEW, batch.rows)
        try:
            self._con.execute(batch.insert_sql())
        finally:
            self._con.unregister(_VIEW)

    # -- reading -------------------------------------------------------------------------

    def tables(self) -> list[str]:
        rows = self._con.cursor().execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'"
            " ORDER BY table_name",
            [self.database],
        ).fetchall()
        return [r[0] for r in rows]

    def describe(self, table: str) -> list[ResultColumn]:
        rows = self._con.cursor().execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ?"
            " AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [self.database, table],
        ).fetchall()
        if not rows:
            raise QueryError(f"unknown table {table!r} (tables: {', '.join(self.tables()) or 'none yet'})")
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
        cursor = self._con.cursor()
        cursor.execute(f"USE {quote(self.database)}")
        timer = threading.Timer(self.query_timeout, cursor.interrupt)
        timer.start()
        try:
            cursor.execute(sql)
            rows, truncated = fetch.rows(cursor, max_rows, max_bytes)
            description = cursor.description or []
        except duckdb.InterruptException:
            raise QueryError(f"the query ran longer than {self.query_timeout:g} s and was stopped") from None
        except duckdb.Error as error:
            raise QueryError(_first_line(error)) from None
        finally:
            timer.cancel()
            cursor.close()
        columns = [ResultColumn(d[0], _type_name(str(d[1]))) for d in description]
        decimals = [i for i, d in enumerate(description) if str(d[1]).startswith("DECIMAL")]
        if decimals:
            rows = [_floats(row, decimals) for row in rows]
        return QueryResult(columns, [tuple(r) for r in rows], truncated=truncated)


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
