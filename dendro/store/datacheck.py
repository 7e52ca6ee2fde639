"""Reading every Parquet object of a store, to find the damaged ones (``dendro check --data``).

A file is sound when pyarrow opens it (the footer and its magic bytes are there), its schema
has the layout's ``time`` column, and every page of every row group decodes and matches its
CRC32 (the layout writes one on each page; ``page_checksum_verification``). This reads the
files only, not the DuckDB file, so it works while ``dendro up`` runs. Files in the store's
``quarantine/`` directory were found damaged before; they are reported too, as their rows are
no longer queried.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dendro.store import parquet_layout as layout
from dendro.store.cold import QUARANTINE


@dataclass(frozen=True)
class FileReport:
    path: Path
    rows: int
    problem: str | None  # None: sound
    quarantined: bool = False


def problem(path: Path) -> str | None:
    """Why the object at ``path`` cannot be read whole, or None when it can."""
    try:
        source = pq.ParquetFile(path, page_checksum_verification=True)
        field = source.schema_arrow.field(layout.TIME) if layout.TIME in source.schema_arrow.names else None
        if field is None or not pa.types.is_timestamp(field.type):
            return f"no {layout.TIME} timestamp column"
        for group in range(source.num_row_groups):
            source.read_row_group(group)
    except (OSError, pa.ArrowException, ValueError) as error:
        return str(error).splitlines()[0] if str(error).strip() else type(error).__name__
    return None


def footer_problem(path: Path) -> str | None:
    """Why the footer of the object at ``path`` cannot be read, or None (pages are not read)."""
    try:
        pq.read_metadata(path)
    except (OSError, pa.ArrowException, ValueError) as error:
        return str(error).splitlines()[0] if str(error).strip() else type(error).__name__
    return None


def _rows(path: Path) -> int:
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, pa.ArrowException, ValueError):
        return 0


def objects(root: Path) -> Iterator[tuple[Path, bool]]:
    """Every object file below ``root`` (``tables/`` then ``quarantine/``), with whether it is
    quarantined; unfinished writes (dot files) are left out."""
    for base, quarantined in ((root / layout.TABLES, False), (root / QUARANTINE, True)):
        if base.is_dir():
            for path in sorted(base.rglob(f"*{layout.SUFFIX}")):
                if not path.name.startswith("."):
                    yield path, quarantined


def check(root: Path) -> list[FileReport]:
    """A report on every object of the store at ``root``."""
    reports = []
    for path, quarantined in objects(root):
        found = problem(path)
        if quarantined and found is None:
            found = "quarantined, though it reads whole now"
        reports.append(FileReport(path, _rows(path), found, quarantined))
    return reports
