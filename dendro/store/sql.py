"""Quoting for the SQL Dendro writes, in Timestream's dialect (which the local store reads too).

Every name and text value that goes into a statement goes through these functions; nothing is
pasted in raw. A name is double-quoted with ``"`` doubled, a text value single-quoted with ``'``
doubled: both Timestream and DuckDB read them so.
"""

from __future__ import annotations


def quote(name: str) -> str:
    """A quoted identifier (a table or column name)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A quoted text value."""
    return "'" + value.replace("'", "''") + "'"


def table_ref(database: str, table: str) -> str:
    """``"database"."table"``, as a FROM clause names a table."""
    return f"{quote(database)}.{quote(table)}"
