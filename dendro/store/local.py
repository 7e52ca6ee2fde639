"""The local store: one DuckDB file in the data dir, speaking Dendro's Timestream SQL.

Layout. The file (default ``.dendro/dendro.duckdb``) is ATTACHed to an in-memory DuckDB under
the pipeline's database name, so ``"dendro"."nginx_access"`` resolves exactly as on Timestream
(catalog ``dendro``, schema ``main``), and ``USE`` makes unqualified names work too. Each table
has ``time TIMESTAMP`` (UTC, no zone, as Timestream's ``time``) and the catalog's columns; the
``rejected`` table keeps every event that fits no table with the reason and the raw JSON; the
``dendro_meta.schema_version`` table lets an older Dendro refuse a newer file.

Writes are one transaction per call (what fits goes to its table, what does not to
``rejected``). Rows are inserted column-wise (``unnest`` of list parameters): two orders of
magnitude faster than ``executemany``. Events whose values already have their final types are
taken as they are; anything else goes through :func:`dendro.store.schema.to_row`, which decides
acceptance and the rejection reason exactly as on AWS.

Reads are guarded in layers: the parsed-statement check of :mod:`dendro.store.dialect`,
DuckDB's ``enable_external_access = false`` (locked), a read-only attachment when the store is
opened for queries, a time limit that interrupts the query, and a row cap marking truncation.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from dendro.services.base import Column, Table
from dendro.store import dialect
from dendro.store.base import QueryError, QueryResult, Rejection, ResultColumn, StoreError, WriteResult
from dendro.store.schema import Rejected, table_for, to_row

#: bumped when the file layout changes in a way an older Dendro cannot read
SCHEMA_VERSION = 1
META_SCHEMA = "dendro_meta"
DEFAULT_FILE = "dendro.duckdb"
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

#: an event timestamp DuckDB casts to TIMESTAMP as it is (RFC 3339 UTC, at most microseconds)
_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _time_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


#: Python type each column type arrives as when it needs no coercion
_NATIVE: dict[str, type] = {"VARCHAR": str, "BIGINT": int, "DOUBLE": float, "BOOLEAN": bool}
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63


def _fast_values(
    names: tuple[str, ...], kinds: tuple[type | None, ...], event: Mapping[str, Any]
) -> list[Any] | None:
    """The column values of ``event`` if they already have their final types, else None."""
    get = event.get
    values = [get(name) for name in names]
    for i, value in enumerate(values):
        if value is None:
            continue
        kind, actual = kinds[i], type(value)
        if actual is kind:
            out_of_range = kind is int and not _BIGINT_MIN < value < _BIGINT_MAX
            if out_of_range or (kind is float and value - value != 0):
                return None  # NaN, infinity, out of range: to_row says why
        elif kind is float and actual is int:
            values[i] = float(value)
        else:
            return None
    return values


class _Batch:
    """Rows of one table gathered column-wise."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.columns: list[list[Any]] = [[] for _ in range(len(table.columns) + 1)]
        self._names = tuple(c.name for c in table.columns)
        self._kinds = tuple(_NATIVE.get(c.type) for c in table.columns)
        self._host = self._names.index("host") if "host" in self._names else None

    def __len__(self) -> int:
        return len(self.columns[0])

    def add_fast(self, event: Mapping[str, Any]) -> bool:
        """Append the event if every value already has its final type (no coercion needed)."""
        stamp = event.get("timestamp")
        if type(stamp) is not str or not _CANONICAL_TIME.fullmatch(stamp):
            return False
        values = _fast_values(self._names, self._kinds, event)
        if values is None or (self._host is not None and not values[self._host]):
            return False
        self.columns[0].append(stamp)
        for target, value in zip(self.columns[1:], values, strict=True):
            target.append(value)
        return True

    def add_row(self, row: Mapping[str, Any]) -> None:
        self.columns[0].append(_time_text(row["time"]))
        for target, column in zip(self.columns[1:], self.table.columns, strict=True):
            value = row[column.name]
            target.append(_time_text(value) if isinstance(value, datetime) else value)

    def insert_sql(self) -> str:
        names = ", ".join(quote(name) for name in ("time", *[c.name for c in self.table.columns]))
        values = ["CAST(unnest(?::VARCHAR[]) AS TIMESTAMP)"]
        for column in self.table.columns:
            if column.type == "TIMESTAMP":
                values.append("CAST(unnest(?::VARCHAR[]) AS TIMESTAMP)")
            else:
                values.append(f"unnest(?::{column.type}[])")
        return f"INSERT INTO {quote(self.table.name)} ({names}) SELECT {', '.join(values)}"


def _event_json(event: Any) -> str:
    try:
        return json.dumps(event, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return json.dumps(str(event))


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
        self._con = self._open()
        try:
            self._check_version()
            if not read_only:
                self._create_tables()
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
            con.execute(f"ATTACH {_literal(str(self.path))} AS {quote(self.database)}{mode}")
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

    def _existing_columns(self) -> dict[str, set[str]]:
        rows = self._con.execute(
            "SELECT table_name, column_name FROM duckdb_columns()"
            " WHERE database_name = ? AND schema_name = 'main'",
            [self.database],
        ).fetchall()
        result: dict[str, set[str]] = {}
        for table, column in rows:
            result.setdefault(table, set()).add(column)
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

    def _route(
        self, events: Iterable[Mapping[str, Any]], fast: bool
    ) -> tuple[dict[str, _Batch], list[Rejection]]:
        batches: dict[str, _Batch] = {}
        rejected: list[Rejection] = []
        for event in events:
            try:
                if not isinstance(event, Mapping):
                    raise Rejected("event is not a JSON object")
                table = table_for(self._tables, event)
                if table.name == REJECTED.name:
                    raise Rejected("events cannot be written into the rejected table")
                batch = batches.get(table.name)
                if batch is None:
                    batch = batches[table.name] = _Batch(table)
                if not (fast and batch.add_fast(event)):
                    batch.add_row(to_row(table, event))
            except Rejected as reason:
                kind = event.get("type") if isinstance(event, Mapping) else None
                rejected.append(Rejection(event, str(reason), kind if isinstance(kind, str) else None))
        return batches, rejected

    def write(self, events: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Route events to their tables (what fits none to ``rejected``), in one transaction."""
        if self.read_only:
            raise StoreError("this store was opened read-only")
        items = list(events)
        batches, rejected = self._route(items, fast=True)
        try:
            self._commit(batches, rejected)
        except duckdb.ConversionException:
            # a value looked final but DuckDB refused it (e.g. 2026-02-30): redo it the slow way
            batches, rejected = self._route(items, fast=False)
            self._commit(batches, rejected)
        return WriteResult({name: len(b) for name, b in batches.items() if len(b)}, rejected)

    def _commit(self, batches: Mapping[str, _Batch], rejected: list[Rejection]) -> None:
        with self._write_lock:
            con = self._con
            try:
                con.execute("BEGIN TRANSACTION")
                for batch in batches.values():
                    if len(batch):
                        con.execute(batch.insert_sql(), batch.columns)
                if rejected:
                    now = _time_text(datetime.now(UTC))
                    con.executemany(
                        'INSERT INTO "rejected" VALUES (CAST(? AS TIMESTAMP), ?, ?, ?)',
                        [(now, r.table, r.reason, _event_json(r.event)) for r in rejected],
                    )
                con.execute("COMMIT")
            except duckdb.ConversionException:
                con.execute("ROLLBACK")
                raise
            except duckdb.Error as error:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise StoreError(f"the store could not commit the batch ({_first_line(error)})") from None

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

    def query(self, sql: str, *, max_rows: int | None = None) -> QueryResult:
        """Run one read-only query in Dendro's Timestream dialect."""
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
            result = self._select(statement.sql, max_rows)
        result.elapsed_seconds = time.perf_counter() - started
        return result

    def _select(self, sql: str, max_rows: int | None) -> QueryResult:
        cursor = self._con.cursor()
        cursor.execute(f"USE {quote(self.database)}")
        timer = threading.Timer(self.query_timeout, cursor.interrupt)
        timer.start()
        try:
            cursor.execute(sql)
            rows = cursor.fetchmany(max_rows + 1) if max_rows is not None else cursor.fetchall()
            description = cursor.description or []
        except duckdb.InterruptException:
            raise QueryError(f"the query ran longer than {self.query_timeout:g} s and was stopped") from None
        except duckdb.Error as error:
            raise QueryError(_first_line(error)) from None
        finally:
            timer.cancel()
            cursor.close()
        truncated = max_rows is not None and len(rows) > max_rows
        if truncated:
            rows = rows[:max_rows]
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
