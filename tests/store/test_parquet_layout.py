"""The Parquet layout: names, schema, sorted row groups, and objects any Parquet reader takes.

The layout is what the local store writes and the S3 + Athena store shares; these tests read the
store's own objects with readers that know nothing of Dendro (pyarrow's dataset with hive
partitioning, a plain DuckDB connection), as a user's backup or export would be read.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time
from pathlib import Path, PurePosixPath

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from dendro.services import catalog
from dendro.store import mover
from dendro.store import parquet_layout as layout
from tests.store.tiering import history, live, open_store, rows, utc_now


def test_names_parse_back_and_unfinished_files_are_not_objects() -> None:
    made = layout.new_object("nginx_access", datetime(2026, 11, 26, 7, 5, 3))
    assert str(made.path).startswith("tables/nginx_access/date=2026-11-26/20261126T070503Z-")
    assert layout.parse(made.path) == made
    for other in ("tables/nginx_access/date=2026-11-26/.20261126T070503Z-0123456789ab.parquet.tmp",
                  "tables/nginx_access/date=2026-02-30/20261126T070503Z-0123456789ab.parquet",
                  "tables/nginx_access/20261126T070503Z-0123456789ab.parquet",
                  "quarantine/tables/nginx_access/date=2026-11-26/20261126T070503Z-0123456789ab.parquet"):
        assert layout.parse(PurePosixPath(other)) is None
    assert layout.partition_dir("agent", date(2026, 1, 2)) == PurePosixPath("tables/agent/date=2026-01-02")


def test_the_schema_is_time_then_the_catalogs_columns_in_order() -> None:
    table = catalog()["nginx"].table("nginx_access")
    schema = layout.arrow_schema(table)
    assert schema.names == ["time", *[c.name for c in table.columns]]
    assert schema.field("time").type == pa.timestamp("us") and not schema.field("time").nullable
    assert {schema.field(c.name).type for c in table.columns} <= {pa.string(), pa.int64(), pa.float64()}
    assert schema.metadata == {b"dendro.table": b"nginx_access", b"dendro.layout": b"1"}


def test_objects_read_back_whole_with_tools_that_know_nothing_of_dendro(tmp_path: Path) -> None:
    now = utc_now()
    with open_store(tmp_path) as store:
        store.write(history(days=3, per_day=700, now=now))
        store.maintain()
        cutoff = datetime.combine((utc_now() - mover.GRACE).date(), time())  # the move's, for a quiet table
        moved = Counter({row: n for row, n in rows(store).items() if row[0] < cutoff})
        paths = live(store)
    expected_schema = layout.arrow_schema(layout.table_of("nginx_access", [
        ("host", "VARCHAR"), ("method", "VARCHAR"), ("path", "VARCHAR"), ("status", "BIGINT"),
        ("bytes", "BIGINT"), ("duration", "DOUBLE")]))
    for path in paths:
        source = pq.ParquetFile(tmp_path / path)
        assert source.schema_arrow.equals(expected_schema, check_metadata=True)
        for group in range(source.num_row_groups):
            meta = source.metadata.row_group(group)
            assert meta.sorting_columns == (pq.SortingColumn(0),)
            assert meta.column(0).compression == "ZSTD"
            times = source.read_row_group(group, columns=["time"])["time"].to_pylist()
            assert times == sorted(times)
    dataset = ds.dataset(tmp_path / "tables" / "nginx_access", format="parquet", partitioning="hive")
    table = dataset.to_table()
    assert table.num_rows == sum(moved.values())
    assert all(str(t.date()) == str(d) for t, d in zip(table["time"].to_pylist(), table["date"].to_pylist(),
                                                      strict=True))
    plain = duckdb.connect()
    found = plain.execute(
        f"SELECT * EXCLUDE (date) FROM read_parquet('{tmp_path}/tables/nginx_access/*/*.parquet',"
        " hive_partitioning = true) WHERE date = CAST(time AS DATE)").fetchall()
    assert Counter(found) == moved
