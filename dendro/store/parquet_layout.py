"""The Parquet layout of closed periods: one definition for the local store and the S3 + Athena store.

Where. Below a root (the local data dir; the bucket on S3), in a hive-style layout::

    tables/<table>/date=YYYY-MM-DD/<object-id>.parquet

``date`` is the UTC date of every row's ``time`` (a partition key of the path, not a column of
the file: DuckDB, Athena, Spark and pyarrow read it back as a column with hive partitioning). A
date may hold several objects (each move of rows out of the local DuckDB tier writes one, a late
batch another); together they are the date's rows, each row in exactly one object. An object id
is ``<first time>-<random>``: ``YYYYMMDDTHHMMSSZ`` of the earliest row, then 12 hex digits, so
names are unique and list in time order. Names starting with ``.`` are unfinished writes: readers
skip them (DuckDB's and Hive's globs, Athena), and the local store removes them on start.

What. Column ``time`` (``timestamp[us]``, no zone, UTC by convention as Timestream's ``time``;
Parquet ``TIMESTAMP(MICROS, isAdjustedToUTC=false)``), then the table's columns in the catalog's
order: VARCHAR → ``string`` (UTF8), BIGINT → ``int64``, DOUBLE → ``float64``, BOOLEAN → ``bool``,
TIMESTAMP → ``timestamp[us]``. Every row group is sorted by ``time`` and says so in its
``sorting_columns``; row groups hold at most :data:`ROW_GROUP_ROWS` rows.

How. zstd (level 3), dictionary encoding, column statistics, a CRC32 on every page (so a
damaged page is found by a reader that verifies them, as ``dendro check --data`` does), Parquet
format 2.6 with version 1 data pages (the pages every reader knows). The file's key-value metadata
names the table (``dendro.table``) and this layout's version (``dendro.layout``).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dendro.services.base import Column, ColumnType, Table

#: bumped when a change to this layout needs readers to change
LAYOUT_VERSION = "1"
TABLES = "tables"
SUFFIX = ".parquet"
TIME = "time"
ROW_GROUP_ROWS = 262_144
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 3

#: the Arrow type of each catalog column type
ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
}

_OBJECT_RE = re.compile(r"^(?P<first>\d{8}T\d{6}Z)-(?P<token>[0-9a-f]{12})$")
_DATE_RE = re.compile(r"^date=(?P<day>\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class ObjectPath:
    """One object of the layout: its table, its date and its id."""

    table: str
    day: date
    object_id: str

    @property
    def path(self) -> PurePosixPath:
        """The object's path below the root."""
        return partition_dir(self.table, self.day) / f"{self.object_id}{SUFFIX}"


def arrow_type(column_type: str) -> pa.DataType:
    return ARROW_TYPES.get(column_type.upper(), pa.string())


def partition_dir(table: str, day: date) -> PurePosixPath:
    return PurePosixPath(TABLES, table, f"date={day.isoformat()}")


def new_object(table: str, first: datetime) -> ObjectPath:
    """A new object of ``table`` whose earliest row is at ``first`` (naive UTC)."""
    object_id = f"{first:%Y%m%dT%H%M%S}Z-{secrets.token_hex(6)}"
    return ObjectPath(table, first.date(), object_id)


def parse(path: PurePosixPath | str) -> ObjectPath | None:
    """The object at ``path`` (below the root), or None for anything else (a temporary file…)."""
    parts = PurePosixPath(path).parts
    if len(parts) != 4 or parts[0] != TABLES or not parts[3].endswith(SUFFIX):
        return None
    day = _DATE_RE.match(parts[2])
    object_id = parts[3].removesuffix(SUFFIX)
    if day is None or _OBJECT_RE.match(object_id) is None:
        return None
    try:
        return ObjectPath(parts[1], date.fromisoformat(day["day"]), object_id)
    except ValueError:
        return None


def arrow_schema(table: Table) -> pa.Schema:
    """The schema of ``table``'s objects: ``time`` then the catalog's columns, with the metadata."""
    fields = [pa.field(TIME, pa.timestamp("us"), nullable=False)]
    fields += [pa.field(c.name, arrow_type(c.type)) for c in table.columns if c.name != TIME]
    return pa.schema(fields, metadata={"dendro.table": table.name, "dendro.layout": LAYOUT_VERSION})


def table_of(name: str, columns: list[tuple[str, str]]) -> Table:
    """A catalog-shaped table from (name, type) pairs (``time`` included or not), e.g. a store's
    own columns when they differ from today's catalog."""
    return Table(name=name, columns=tuple(Column(n, cast(ColumnType, t)) for n, t in columns if n != TIME))


def sorted_by_time(data: pa.Table) -> pa.Table:
    """The rows ordered by ``time`` (stable), as each row group must be."""
    return data.take(pc.sort_indices(data, sort_keys=[(TIME, "ascending")]))


def conform(data: pa.Table, schema: pa.Schema) -> pa.Table:
    """``data`` with exactly ``schema``'s columns, in its order and types (absent columns null)."""
    arrays = []
    for field in schema:
        if field.name in data.column_names:
            column = data[field.name]
            arrays.append(column if column.type == field.type else column.cast(field.type))
        else:
            arrays.append(pa.nulls(data.num_rows, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def writer(where: Any, schema: pa.Schema) -> pq.ParquetWriter:
    """A writer of one object with the layout's options; write row groups with :func:`write`."""
    return pq.ParquetWriter(
        where,
        schema,
        compression=COMPRESSION,
        compression_level=COMPRESSION_LEVEL,
        use_dictionary=True,
        write_statistics=True,
        write_page_checksum=True,
        data_page_version="1.0",
        version="2.6",
        sorting_columns=[pq.SortingColumn(schema.get_field_index(TIME))],
    )


def write(out: pq.ParquetWriter, data: pa.Table) -> None:
    """Append ``data`` as row groups of at most :data:`ROW_GROUP_ROWS` rows, each sorted by time."""
    for start in range(0, data.num_rows, ROW_GROUP_ROWS):
        chunk = conform(data.slice(start, ROW_GROUP_ROWS), out.schema)
        out.write_table(sorted_by_time(chunk), row_group_size=ROW_GROUP_ROWS)
