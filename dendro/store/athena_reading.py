"""Read the athena store's newest Parquet objects straight from S3, without an Athena query.

For the few questions that need only the last minutes of one table (``dendro teardown``'s "which
agents are still sending"), listing today's partition and reading the objects written since is
faster than Athena and costs a few S3 requests instead of a 10 MB minimum scan.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from dendro.store import parquet_layout as layout


def recent_hosts(
    s3: Any,
    bucket: str,
    table: str,
    minutes: int,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[str]:
    """The hosts of ``table``'s rows of the last ``minutes`` (from objects written since)."""
    until = now()
    since = until - timedelta(minutes=minutes)
    hosts: set[str] = set()
    for day in sorted({since.date(), until.date()}):
        prefix = f"{layout.partition_dir(table, day)}/"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if item["LastModified"] < since or layout.parse(item["Key"]) is None:
                    continue
                data = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                rows = pq.read_table(io.BytesIO(data), columns=[layout.TIME, "host"])
                recent = rows.filter(pc.greater_equal(rows[layout.TIME], since.replace(tzinfo=None)))
                hosts.update(str(h) for h in recent["host"].to_pylist() if h)
    return sorted(hosts)
