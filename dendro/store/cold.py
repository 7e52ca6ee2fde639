"""The local store's two tiers as one table: the manifest of Parquet objects and the views over them.

Each event table ``T`` of the store is three objects in the DuckDB file:

- ``hot.T``: the table the ingest appends to (recent rows, fast writes);
- ``main.T``: the view every query reads, ``hot.T`` ``UNION ALL`` the table's Parquet objects
  (:mod:`dendro.store.parquet_layout`) listed by path, each group of objects with the same
  columns read by one ``read_parquet``, absent columns as NULL;
- ``tiers.T(since, until)``: the same rows as a table macro whose Parquet part reads only the
  dates from ``since`` to ``until`` (DATE values): DuckDB prunes the other dates' objects
  without opening them. :mod:`dendro.store.pruning` calls it for a query bounded in ``time``.

``dendro_meta.objects`` lists the live objects (path relative to the store's root, table,
date, rows, bytes, first and last time, columns). A view lists exactly the live objects of its
table, and it is replaced in the same transaction as the manifest changes and as the rows leave
``hot.T``: a query (one snapshot of the file) sees a row in exactly one place.
``dendro_meta.pending`` lists files that may exist on disk and must go unless live (a move's
object before its commit, objects dropped by retention or a merge before they are unlinked);
``dendro_meta.quarantined`` lists objects found damaged, moved out of ``tables/`` to
``quarantine/`` (see :mod:`dendro.store.recovery`).

With a retention of ``keep_days`` (0: none) both views also hide rows older than that, so a
row past its limit is gone from queries at once, before its date's objects are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from dendro.store.sql import literal, quote

META = "dendro_meta"
HOT = "hot"
TIERS = "tiers"
QUARANTINE = "quarantine"
#: the dates a macro call reads when a query gives no bound on that side
FIRST_DAY = date(1, 1, 1)
LAST_DAY = date(9999, 12, 31)

DDL = (
    f"CREATE TABLE IF NOT EXISTS {META}.objects (path VARCHAR, tbl VARCHAR, day DATE, rows BIGINT,"
    " bytes BIGINT, min_time TIMESTAMP, max_time TIMESTAMP, columns VARCHAR, created TIMESTAMP)",
    f"CREATE TABLE IF NOT EXISTS {META}.pending (path VARCHAR, noted_at TIMESTAMP)",
    f"CREATE TABLE IF NOT EXISTS {META}.quarantined (path VARCHAR, tbl VARCHAR, day DATE, rows BIGINT,"
    " reason VARCHAR, noted_at TIMESTAMP)",
)

Columns = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Entry:
    """One live Parquet object of the manifest."""

    path: str  # POSIX, relative to the store's root
    table: str
    day: date
    rows: int
    bytes: int
    min_time: datetime
    max_time: datetime
    columns: Columns  # (name, DuckDB type), in the file's order

    def row(self, created: datetime) -> tuple[object, ...]:
        return (self.path, self.table, self.day, self.rows, self.bytes, self.min_time, self.max_time,
                json.dumps([list(c) for c in self.columns]), created)


def create(cur: duckdb.DuckDBPyConnection, prefix: str) -> None:
    """The manifest's tables in the database ``prefix`` (quoted), if missing."""
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {prefix}.{TIERS}")
    for statement in DDL:
        cur.execute(statement.replace(f"{META}.", f"{prefix}.{META}."))


def entries(cur: duckdb.DuckDBPyConnection, prefix: str, table: str | None = None) -> list[Entry]:
    """The live objects (of one table, or all), oldest first."""
    where, args = ("WHERE tbl = ?", [table]) if table else ("", [])
    rows = cur.execute(
        f"SELECT path, tbl, day, rows, bytes, min_time, max_time, columns FROM {prefix}.{META}.objects"
        f" {where} ORDER BY tbl, day, min_time, path",
        args,
    ).fetchall()
    return [Entry(p, t, d, n, b, lo, hi, tuple((c[0], c[1]) for c in json.loads(cols)))
            for p, t, d, n, b, lo, hi, cols in rows]


def add(cur: duckdb.DuckDBPyConnection, prefix: str, new: Iterable[Entry], now: datetime) -> None:
    rows = [entry.row(now) for entry in new]
    if rows:
        cur.executemany(f"INSERT INTO {prefix}.{META}.objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def remove(cur: duckdb.DuckDBPyConnection, prefix: str, paths: Iterable[str]) -> None:
    listed = list(paths)
    if listed:
        cur.execute(f"DELETE FROM {prefix}.{META}.objects WHERE list_contains(?, path)", [listed])


def set_pending(cur: duckdb.DuckDBPyConnection, prefix: str, paths: Iterable[str], now: datetime) -> None:
    rows = [(path, now) for path in paths]
    if rows:
        cur.executemany(f"INSERT INTO {prefix}.{META}.pending VALUES (?, ?)", rows)


def clear_pending(cur: duckdb.DuckDBPyConnection, prefix: str, paths: Iterable[str]) -> None:
    listed = list(paths)
    if listed:
        cur.execute(f"DELETE FROM {prefix}.{META}.pending WHERE list_contains(?, path)", [listed])


def pending(cur: duckdb.DuckDBPyConnection, prefix: str) -> list[str]:
    return [r[0] for r in cur.execute(f"SELECT DISTINCT path FROM {prefix}.{META}.pending").fetchall()]


# -- the views -------------------------------------------------------------------------------


def _select_list(columns: Columns, present: dict[str, str]) -> str:
    """``columns`` from a source holding ``present`` (name → type): cast where the type differs,
    NULL where the column is absent."""
    items = []
    for name, kind in columns:
        found = present.get(name)
        if found is None:
            items.append(f"CAST(NULL AS {kind}) AS {quote(name)}")
        elif found.upper() != kind.upper():
            items.append(f"CAST({quote(name)} AS {kind}) AS {quote(name)}")
        else:
            items.append(quote(name))
    return ", ".join(items)


def _parquet_parts(columns: Columns, objects: list[Entry], root: Path) -> list[tuple[str, str]]:
    """(select list, read_parquet call) per group of objects with the same columns."""
    groups: dict[Columns, list[Entry]] = {}
    for entry in objects:
        groups.setdefault(entry.columns, []).append(entry)
    parts = []
    for group_columns, group in groups.items():
        files = ", ".join(literal(str(root / entry.path)) for entry in group)
        source = f"read_parquet([{files}], hive_partitioning = true, hive_types = {{'date': DATE}})"
        parts.append((_select_list(columns, dict(group_columns)), source))
    return parts


def _kept(keep_days: int) -> str:
    if keep_days <= 0:
        return ""
    return f"time >= CAST(CURRENT_TIMESTAMP AS TIMESTAMP) - INTERVAL {keep_days} DAY"


def _where(*conditions: str) -> str:
    found = [c for c in conditions if c]
    return f" WHERE {' AND '.join(found)}" if found else ""


def view_body(hot: str, columns: Columns, objects: list[Entry], root: Path, keep_days: int,
              dates: tuple[str, str] | None = None) -> str:
    """The SELECT of a table's view (or, with ``dates``, of its macro's body)."""
    kept = _kept(keep_days)
    names = ", ".join(quote(name) for name, _ in columns)
    selects = [f"SELECT {names} FROM {hot}{_where(kept)}"]
    in_dates = f'"date" BETWEEN {dates[0]} AND {dates[1]}' if dates else ""
    for select_list, source in _parquet_parts(columns, objects, root):
        selects.append(f"SELECT {select_list} FROM {source}{_where(kept, in_dates)}")
    return " UNION ALL ".join(selects)


def refresh(cur: duckdb.DuckDBPyConnection, prefix: str, hot: str, table: str, columns: Columns,
            objects: list[Entry], root: Path, keep_days: int) -> None:
    """Replace ``table``'s view and macro in ``prefix`` (inside the caller's transaction)."""
    view = view_body(hot, columns, objects, root, keep_days)
    cur.execute(f"CREATE OR REPLACE VIEW {prefix}.main.{quote(table)} AS {view}")
    body = view_body(hot, columns, objects, root, keep_days, dates=("since", "until"))
    cur.execute(f"CREATE OR REPLACE MACRO {prefix}.{TIERS}.{quote(table)}(since, until) AS TABLE {body}")


def macro_call(database: str, table: str, since: str, until: str) -> str:
    """The SQL calling ``table``'s macro for the dates ``since``..``until`` (SQL DATE expressions)."""
    return f"{quote(database)}.{TIERS}.{quote(table)}({since}, {until})"
