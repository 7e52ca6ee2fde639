"""Opening the local store's DuckDB file: the connection, its limits and guards, the schema.

The file is ATTACHed to an in-memory DuckDB under the pipeline's database name, so
``"dendro"."nginx_access"`` resolves as on Timestream. Opened for writing, the file's own views
are used (``main.T``, see :mod:`dendro.store.cold`); opened read-only (``dendro query`` with no
server running) it is attached as :data:`FILE_ALIAS` and the views are built in an in-memory
database of the pipeline's name, from the file's manifest, with the paths of wherever the store
is now.

Every connection: ``TimeZone`` UTC (so ``now()`` is the UTC wall clock ``time`` is stored in),
``memory_limit`` (``local.memory_limit``) with spilling to ``temp_directory``, the Parquet
footer cache, and file access limited to the store's ``tables/`` directory
(``allowed_directories``, then ``enable_external_access = false``), all locked.

Schema versions: 1 kept the event tables in ``main``; 2 keeps them in ``hot`` behind views and
adds the manifest. A version 1 file is migrated when opened for writing, read as it is when
opened read-only; a newer version is refused.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path

import duckdb

from dendro.services.base import Table
from dendro.store import cold
from dendro.store.base import StoreError
from dendro.store.parquet_layout import TABLES
from dendro.store.sql import literal, quote

#: bumped when the file layout changes in a way an older Dendro cannot read
SCHEMA_VERSION = 2
META_SCHEMA = cold.META
FILE_ALIAS = "dendro_store_file"
ColumnList = list[tuple[str, str]]  # pipeline names have no "_", so it cannot be a database's name


def first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def connect(path: Path, database: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the file attached (as ``database``, or as FILE_ALIAS read-only)."""
    if read_only and not path.is_file():
        raise StoreError(f"no store at {path}: start `dendro up` or run `dendro ingest` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:")
    alias, mode = (FILE_ALIAS, " (READ_ONLY)") if read_only else (database, "")
    try:
        con.execute(f"ATTACH {literal(str(path))} AS {quote(alias)}{mode}")
    except duckdb.Error as error:
        con.close()
        detail = first_line(error)
        if "lock" in detail.lower():
            raise StoreError(
                f"{path} is in use by another process ({detail}); stop it, or query"
                " through the running `dendro up`"
            ) from None
        raise StoreError(
            f"{path} cannot be opened: it is not a DuckDB database, it was written by a newer"
            f" DuckDB, or it is damaged ({detail}). Move it away to start a new store."
        ) from None
    if read_only:
        con.execute(f"ATTACH ':memory:' AS {quote(database)}")
    con.execute(f"USE {quote(database)}")
    return con


def limit(con: duckdb.DuckDBPyConnection, root: Path, memory_limit: str | None, temp: Path) -> None:
    """The settings every store connection runs under (see the module docstring), then locked."""
    con.execute("SET TimeZone = 'UTC'")
    if memory_limit:
        con.execute(f"SET memory_limit = {literal(memory_limit)}")
    with contextlib.suppress(OSError):  # DuckDB makes the last directory only
        temp.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET temp_directory = {literal(str(temp))}")
    con.execute("SET parquet_metadata_cache = true")
    tables = (root / TABLES).resolve()
    con.execute(f"SET allowed_directories = [{literal(str(tables) + '/')}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _meta(catalog: str) -> str:
    return f"{quote(catalog)}.{META_SCHEMA}.schema_version"


def version(con: duckdb.DuckDBPyConnection, catalog: str) -> int | None:
    """The file's schema version; None for a file with no Dendro schema yet."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?"
        " AND table_name = 'schema_version'", [catalog, META_SCHEMA]).fetchone()
    if not exists or not exists[0]:
        return None
    row = con.execute(f"SELECT max(version) FROM {_meta(catalog)}").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def check_version(con: duckdb.DuckDBPyConnection, catalog: str, path: Path) -> int | None:
    found = version(con, catalog)
    if found is not None and found > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer Dendro (store schema {found}; this one reads up to"
            f" {SCHEMA_VERSION}): upgrade Dendro, or use another --data-dir"
        )
    return found


def _tables_in(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> dict[str, ColumnList]:
    """(column, type) of every base table of ``catalog.schema``, in the file's order."""
    rows = con.execute(
        "SELECT c.table_name, c.column_name, c.data_type FROM duckdb_columns() c JOIN duckdb_tables() t"
        " ON c.database_name = t.database_name AND c.schema_name = t.schema_name"
        " AND c.table_name = t.table_name"
        " WHERE c.database_name = ? AND c.schema_name = ? ORDER BY c.table_name, c.column_index",
        [catalog, schema]).fetchall()
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        found.setdefault(table, []).append((column, kind))
    return found


def prepare(con: duckdb.DuckDBPyConnection, database: str, tables: Mapping[str, Table],
            found: int | None) -> None:
    """Bring a file opened for writing to this schema version (one transaction)."""
    db = quote(database)
    con.execute("BEGIN")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {db}.{META_SCHEMA}")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {db}.{cold.HOT}")
        cold.create(con, db)
        if found is not None and found < 2:
            for name in _tables_in(con, database, "main"):  # version 1: event tables in main
                con.execute(f"CREATE TABLE {db}.{cold.HOT}.{quote(name)} AS FROM {db}.main.{quote(name)}")
                con.execute(f"DROP TABLE {db}.main.{quote(name)}")
        _create_tables(con, database, tables)
        con.execute(f"CREATE TABLE IF NOT EXISTS {_meta(database)} (version INTEGER)")
        con.execute(f"DELETE FROM {_meta(database)}")
        con.execute(f"INSERT INTO {_meta(database)} VALUES (?)", [SCHEMA_VERSION])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _create_tables(con: duckdb.DuckDBPyConnection, database: str, tables: Mapping[str, Table]) -> None:
    existing = _tables_in(con, database, cold.HOT)
    hot = f"{quote(database)}.{cold.HOT}"
    for table in tables.values():
        columns = {name for name, _ in existing.get(table.name, [])}
        if table.name not in existing:
            spec = ", ".join(["time TIMESTAMP", *[f"{quote(c.name)} {c.type}" for c in table.columns]])
            con.execute(f"CREATE TABLE {hot}.{quote(table.name)} ({spec})")
            continue
        for column in table.columns:  # a newer catalog added a column: add it, keep the rows
            if column.name not in columns:
                con.execute(
                    f"ALTER TABLE {hot}.{quote(table.name)} ADD COLUMN {quote(column.name)} {column.type}")


def hot_columns(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[str]]:
    """The columns of every hot table, in their order in the file."""
    return {table: [name for name, _ in columns]
            for table, columns in _tables_in(con, database, cold.HOT).items()}


def read_only_views(con: duckdb.DuckDBPyConnection, database: str, root: Path, found: int | None,
                    keep_days: Mapping[str, int]) -> None:
    """Views (and macros) of the file attached read-only, built in the in-memory ``database``."""
    file_schema = cold.HOT if (found or 0) >= 2 else "main"
    db = quote(database)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {db}.{cold.TIERS}")
    for table, columns in _tables_in(con, FILE_ALIAS, file_schema).items():
        objects = cold.entries(con, quote(FILE_ALIAS), table) if (found or 0) >= 2 else []
        hot = f"{quote(FILE_ALIAS)}.{file_schema}.{quote(table)}"
        cold.refresh(con, db, hot, table, tuple(columns), objects, root, keep_days.get(table, 0))
