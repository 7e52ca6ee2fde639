"""The athena store's writer: the rows of one raw S3 object → Parquet objects of the shared layout.

Rows (as :func:`dendro.store.schema.to_row` makes them) are grouped by table and UTC date; each
group becomes one object ``tables/<table>/date=YYYY-MM-DD/<object-id>.parquet`` of
:mod:`dendro.store.parquet_layout` (its schema, types, row groups sorted by ``time``, options).

**Idempotent.** The object id is ``<first time>-<12 hex of SHA-256(source)>``: the earliest
row's second (the layout's naming) and a hash of the raw object's ``bucket/key``, so the same
raw object loaded again gives the same keys, and the same bytes (row order is the input's, sorted
stably by time; the writer puts no clock into the file).

**Bounded memory.** Rows are kept as Python values only up to :data:`FLUSH_ROWS` per group,
then written as a row group to a spooled temporary file; a 128 MB raw object never sits in
memory as rows.

**Codec.** zstd, as the layout says, where the pyarrow at hand has it. The AWS SDK for pandas
Lambda layer (the default pyarrow of the loader) builds Arrow with ``ARROW_WITH_ZSTD=OFF``
(aws/aws-sdk-pandas ``building/lambda/build-lambda-layer.sh``, tag 3.17.0), so there the objects
are written with snappy, every other option the layout's; Athena, DuckDB and pyarrow read both.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from dendro.services.base import Table
from dendro.store import parquet_layout as layout

FLUSH_ROWS = 20_000
#: the codec when this pyarrow has no zstd (see the module docstring)
FALLBACK_COMPRESSION = "snappy"
SPOOL_BYTES = 16 << 20


def codec_available(name: str) -> bool:
    """Whether this pyarrow was built with the codec ``name``."""
    return bool(pa.Codec.is_available(name))


def compression() -> str:
    """The codec objects are written with: the layout's zstd, or snappy where pyarrow lacks it."""
    return layout.COMPRESSION if codec_available(layout.COMPRESSION) else FALLBACK_COMPRESSION


def open_writer(where: Any, schema: pa.Schema) -> pq.ParquetWriter:
    """The layout's writer; without zstd, the same options with :data:`FALLBACK_COMPRESSION`."""
    if compression() == layout.COMPRESSION:
        return layout.writer(where, schema)
    return pq.ParquetWriter(
        where,
        schema,
        compression=FALLBACK_COMPRESSION,
        use_dictionary=True,
        write_statistics=True,
        write_page_checksum=True,
        data_page_version="1.0",
        version="2.6",
        sorting_columns=[pq.SortingColumn(schema.get_field_index(layout.TIME))],
    )


def source_token(source: str) -> str:
    """12 hex digits naming the raw object ``bucket/key`` in its Parquet objects' ids."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def object_id(first: datetime, source: str) -> str:
    """The id of the object of a group whose earliest row is at ``first`` (naive UTC)."""
    return f"{first:%Y%m%dT%H%M%S}Z-{source_token(source)}"


def naive_utc(value: Any) -> Any:
    """A datetime as naive UTC (the layout's ``timestamp[us]``); anything else unchanged."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


@dataclass
class Written:
    """One object to put: where, its bytes and how many rows it holds."""

    path: layout.ObjectPath
    body: bytes
    rows: int

    @property
    def key(self) -> str:
        return str(self.path.path)


@dataclass
class _Group:
    """The rows of one table and date, buffered, then row groups in a spooled file."""

    table: Table
    schema: pa.Schema
    rows: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    first: datetime | None = None
    spool: IO[bytes] | None = None
    out: pq.ParquetWriter | None = None

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.count += 1
        when = row[layout.TIME]
        if self.first is None or when < self.first:
            self.first = when
        if len(self.rows) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self.out is None:
            self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
            self.out = open_writer(self.spool, self.schema)
        data = pa.Table.from_pylist(self.rows, schema=self.schema)
        layout.write(self.out, data)
        self.rows = []

    def finish(self) -> bytes:
        self.flush()
        assert self.out is not None and self.spool is not None
        self.out.close()
        self.spool.seek(0)
        body = self.spool.read()
        self.spool.close()
        return body


class ObjectWriter:
    """Collects the rows of one raw object (``source`` = ``bucket/key``) and makes its objects."""

    def __init__(self, tables: Mapping[str, Table], source: str) -> None:
        self.tables = tables
        self.source = source
        self._schemas: dict[str, pa.Schema] = {}
        self._groups: dict[tuple[str, date], _Group] = {}

    def schema(self, table: str) -> pa.Schema:
        if table not in self._schemas:
            self._schemas[table] = layout.arrow_schema(self.tables[table])
        return self._schemas[table]

    def add(self, table: str, row: Mapping[str, Any]) -> None:
        """One row of ``table`` (values as to_row gives them; datetimes aware or naive UTC)."""
        values = {name: naive_utc(value) for name, value in row.items()}
        key = (table, values[layout.TIME].date())
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(self.tables[table], self.schema(table))
        group.add(values)

    @property
    def rows(self) -> int:
        return sum(g.count for g in self._groups.values())

    def finish(self) -> list[Written]:
        """Every object, in key order (each group's row groups sorted by time)."""
        written = []
        for (table, day), group in sorted(self._groups.items()):
            assert group.first is not None
            path = layout.ObjectPath(table, day, object_id(group.first, self.source))
            written.append(Written(path, group.finish(), group.count))
        self._groups.clear()
        return written
