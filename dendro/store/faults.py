"""Recognising a query that failed on one of the store's Parquet objects, and which one.

DuckDB names the file when it cannot open it or finds no footer there ("No magic bytes found at
end of file '…'", "File '…' too small to be a Parquet file", "No files found that match the
pattern …"); for a damaged page inside a file it often does not ("Parquet file is likely
corrupted…", a decompression error). :func:`object_path` finds a named object of the store;
:func:`about_objects` tells whether an error is of that family at all, so that a query
failing on anything else (a wrong column, a timeout) is never taken for damage.
"""

from __future__ import annotations

import re
from pathlib import Path

from dendro.store import parquet_layout as layout

#: words of DuckDB's errors about a Parquet file it could not read (matched without case)
_PARQUET_TROUBLE = ("parquet", "magic bytes", "no files found", "zstd", "snappy", "decompress",
                    "thrift", "corrupt", "could not read", "cannot open file", "no such file")
_QUOTED = re.compile(r"""["']([^"']+\.parquet)["']""")


def about_objects(error: BaseException) -> bool:
    text = str(error).lower()
    return any(word in text for word in _PARQUET_TROUBLE)


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
