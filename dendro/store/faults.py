"""Recognising a query that failed on one of the store's Parquet objects, and which one.

DuckDB names the file when it cannot open it or finds no footer there ("No magic bytes found at
end of file '…'", "File '…' too small to be a Parquet file", "No files found that match the
pattern …"); for a damaged page inside a file it often does not, and its words vary with the damage ("Parquet
file is likely corrupted…", "don't know what type", "Out of buffer", "Decode bit width too
large", a decompression error), often as DuckDB's plain ``Error``. :func:`object_path` finds a
named object of the store; :func:`about_objects` tells whether an error may come from a damaged
object at all: never an error about the query itself (it does not parse or bind, a value does
not convert, it ran out of time or memory), which would otherwise send every wrong query on a
search through the files.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from dendro.store import parquet_layout as layout

#: words of DuckDB's errors about a Parquet file it could not read (matched without case)
_PARQUET_TROUBLE = ("parquet", "magic bytes", "no files found", "zstd", "snappy", "decompress",
                    "thrift", "corrupt", "could not read", "cannot open file", "no such file")
_QUOTED = re.compile(r"""["']([^"']+\.parquet)["']""")


#: DuckDB errors about the query, its values or its limits, never about a file
_THE_QUERY = (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException,
              duckdb.ConversionException, duckdb.OutOfRangeException, duckdb.InterruptException,
              duckdb.OutOfMemoryException, duckdb.PermissionException, duckdb.NotImplementedException,
              duckdb.TransactionException, duckdb.ConstraintException, duckdb.SyntaxException)


def about_objects(error: BaseException) -> bool:
    """True when ``error`` may come from a damaged or vanished Parquet object."""
    if isinstance(error, _THE_QUERY):
        return False
    text = str(error).lower()
    return type(error) in (duckdb.Error, duckdb.IOException, duckdb.InvalidInputException,
                           duckdb.InternalException) or any(word in text for word in _PARQUET_TROUBLE)


def object_path(error: BaseException, root: Path) -> str | None:
    """The object (path relative to ``root``, as the manifest has it) the error names, if any."""
    base = (root / layout.TABLES).resolve()
    for match in _QUOTED.finditer(str(error)):
        path = Path(match.group(1))
        try:
            relative = path.resolve().relative_to(base.parent)
        except ValueError:
            continue
        if layout.parse(relative.as_posix()) is not None:
            return relative.as_posix()
    return None
