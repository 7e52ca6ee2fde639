"""Shared pieces of the athena store's tests: moto's S3, the Parquet loader, DuckDB over its objects."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from moto import mock_aws

from dendro.pipeline.athena_loader import ParquetLoader
from tests.loader.helpers import settings

BUCKET = "dendro-123456789012-us-east-1"
REGION = "us-east-1"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's S3 (in process) with the pipeline's bucket."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


def loader(s3: Any, log: list[str] | None = None, **overrides: Any) -> ParquetLoader:
    sink = log if log is not None else []
    return ParquetLoader(settings(bucket=BUCKET, **overrides), s3, log=sink.append)


def keys(s3: Any, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def download(s3: Any, root: Path, prefix: str = "tables/") -> list[Path]:
    """Every object under ``prefix`` written below ``root`` at its key."""
    paths = []
    for key in keys(s3, prefix):
        target = root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        paths.append(target)
    return paths


def body(s3: Any, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def duck(root: Path, database: str, tables: list[str]) -> duckdb.DuckDBPyConnection:
    """DuckDB with one view per table over its downloaded objects, hive-partitioned on ``date``,
    in a schema named after the database (so ``"db"."table"`` resolves as on Athena)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f'CREATE SCHEMA "{database}"')
    for table in tables:
        files = sorted((root / "tables" / table).glob("date=*/*.parquet"))
        if not files:
            continue
        listed = ", ".join(f"'{f}'" for f in files)
        con.execute(
            f'CREATE VIEW "{database}"."{table}" AS SELECT * FROM read_parquet([{listed}], '
            "hive_partitioning = true, hive_types = {'date': DATE}, union_by_name = true)"
        )
    return con


def parquet_file(data: bytes) -> Any:
    import pyarrow.parquet as pq

    return pq.ParquetFile(io.BytesIO(data))
