"""Small-file compaction of the athena store: a date's many loader objects → one object.

The loader writes one object per raw object, table and date: with Firehose's 60-second buffer,
up to 1,440 small objects a table a day, and Athena opens every one a query reads. A scheduled
run (EventBridge → the loader function, ``{"dendro": "compact"}``) merges, for each table, the
objects of today and yesterday (UTC) into one object per batch of at most
:data:`BATCH_BYTES` of input, so a day's query reads a handful of objects.

Nothing is lost or counted twice, whatever stops a run where, and whatever the loader does
meanwhile:

1. the candidates are listed and downloaded (one missing since: the batch is left for the next run);
2. the merged object is put first. Its key-value metadata ``dendro.sources`` lists the ids of every
   object whose rows it holds (transitively: a merged object merged again passes its own on);
3. then a tombstone ``compacted/<table>/date=<day>/<id>`` (empty) for each input;
4. then the inputs are deleted.

A run that stopped after 2 leaves inputs beside the object that holds their rows: the next run
finds their ids in a candidate's ``dendro.sources`` and only deletes them. A raw object loaded
again after its rows were merged is put by the loader, which then finds its tombstone and
deletes what it just put (:func:`superseded`). The merged object's id is the layout's:
``<first time>-<12 hex of SHA-256 of the sorted input keys>``.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dendro.store import parquet_layout as layout
from dendro.store.athena_writer import open_writer

TOMBSTONES = "compacted/"
SOURCES_KEY = b"dendro.sources"
#: the most input bytes one merged object is made of (memory and /tmp of a 512 MB function)
BATCH_BYTES = 64 << 20
#: an object at least this big is left alone (it is a merged object already full enough)
FULL_BYTES = BATCH_BYTES // 2
#: how much of a big object's end is read for its footer
TAIL_BYTES = 1 << 20
MAGIC = b"PAR1"  # a Parquet file's first and last four bytes
CONTENT_TYPE = "application/vnd.apache.parquet"


@dataclass
class Candidate:
    path: layout.ObjectPath
    size: int

    @property
    def key(self) -> str:
        return str(self.path.path)


@dataclass
class Report:
    """What one run did, for its log line."""

    partitions: int = 0
    merged: dict[str, int] = field(default_factory=dict)  # merged object key → inputs
    deleted: int = 0
    leftovers: int = 0
    skipped: list[str] = field(default_factory=list)  # batches left for the next run, and why

    def to_dict(self) -> dict[str, Any]:
        return {"dendro": "compacted", **self.__dict__}


def tombstone_key(path: layout.ObjectPath) -> str:
    return f"{TOMBSTONES}{path.table}/date={path.day.isoformat()}/{path.object_id}"


def superseded(s3: Any, bucket: str, path: layout.ObjectPath) -> bool:
    """Whether ``path``'s rows were merged into another object already (its tombstone exists).

    A listing, not a HEAD: S3 answers a HEAD of a missing key with 403 unless the caller may
    list the whole bucket, and the loader may list only ``tables/`` and ``compacted/``."""
    key = tombstone_key(path)
    found = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("Contents", [])
    return any(item["Key"] == key for item in found)


def days_to_compact(today: date, days: int = 2) -> list[date]:
    return [today - timedelta(days=n) for n in range(days)]


def compact(s3: Any, bucket: str, tables: Iterable[str], days: Iterable[date]) -> Report:
    """Compact every listed partition (see the module docstring)."""
    report = Report()
    for table in sorted(tables):
        for day in days:
            report.partitions += 1
            compact_partition(s3, bucket, table, day, report)
    return report


def listing(s3: Any, bucket: str, table: str, day: date) -> list[Candidate]:
    """The layout's objects of one partition, in id (time) order."""
    prefix = f"{layout.partition_dir(table, day)}/"
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            path = layout.parse(item["Key"])
            if path is not None:
                found.append(Candidate(path, int(item["Size"])))
    return sorted(found, key=lambda c: c.path.object_id)


def batches(candidates: list[Candidate]) -> list[list[Candidate]]:
    """Consecutive runs of small objects, each at most :data:`BATCH_BYTES`, of two or more."""
    runs: list[list[Candidate]] = [[]]
    size = 0
    for candidate in candidates:
        if candidate.size >= FULL_BYTES:
            runs.append([])
            size = 0
            continue
        if runs[-1] and size + candidate.size > BATCH_BYTES:
            runs.append([])
            size = 0
        runs[-1].append(candidate)
        size += candidate.size
    return [run for run in runs if len(run) >= 2]


def compact_partition(s3: Any, bucket: str, table: str, day: date, report: Report) -> None:
    candidates = listing(s3, bucket, table, day)
    if len(candidates) < 2:
        return
    loaded = _download(s3, bucket, candidates, report)
    if loaded is None:
        return
    small, covered = loaded
    leftovers = [c for c in candidates if c.path.object_id in covered]
    if leftovers:
        _retire(s3, bucket, leftovers, report)
        report.leftovers += len(leftovers)
    rest = [c for c in candidates if c.path.object_id not in covered]
    for batch in batches(rest):
        _merge(s3, bucket, batch, {c.key: small[c.key] for c in batch}, report)


def _download(
    s3: Any, bucket: str, candidates: list[Candidate], report: Report
) -> tuple[dict[str, bytes], set[str]] | None:
    """The bytes of every small candidate, and the ids all candidates hold the rows of (a big one
    is read only at its footer). None when one was deleted meanwhile (left for the next run)."""
    from botocore.exceptions import ClientError

    small: dict[str, bytes] = {}
    covered: set[str] = set()
    for candidate in candidates:
        try:
            if candidate.size < FULL_BYTES:
                small[candidate.key] = s3.get_object(Bucket=bucket, Key=candidate.key)["Body"].read()
                covered |= sources_of(small[candidate.key])
            else:
                covered |= _tail_sources(s3, bucket, candidate.key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise
            report.skipped.append(f"{candidate.key}: deleted while this run read it")
            return None
    return small, covered


def sources_of(data: bytes) -> set[str]:
    """The ids a merged object's rows came from (empty for a loader's object)."""
    metadata = pq.read_metadata(io.BytesIO(data)).metadata or {}
    raw = metadata.get(SOURCES_KEY)
    return set(json.loads(raw)) if raw else set()


def _tail_sources(s3: Any, bucket: str, key: str) -> set[str]:
    """:func:`sources_of` a big object from its last MiB (its footer), not the whole of it."""
    tail = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=-{TAIL_BYTES}")["Body"].read()
    footer = int.from_bytes(tail[-8:-4], "little")
    if footer + 8 > len(tail):
        raise ValueError(f"{key}: its footer is longer than {TAIL_BYTES} bytes")
    return sources_of(MAGIC + tail[-8 - footer :])


def merged_id(batch: list[Candidate]) -> str:
    first = min(c.path.object_id for c in batch)[:16]  # YYYYMMDDTHHMMSSZ of the earliest input
    digest = hashlib.sha256("\n".join(sorted(c.key for c in batch)).encode("utf-8")).hexdigest()[:12]
    return f"{first}-{digest}"


def _merge(s3: Any, bucket: str, batch: list[Candidate], data: dict[str, bytes], report: Report) -> None:
    tables = [pq.read_table(io.BytesIO(data[c.key])) for c in batch]
    sources = sorted({c.path.object_id for c in batch}.union(*(sources_of(data[c.key]) for c in batch)))
    schema = _merged_schema(tables, sources)
    target = layout.ObjectPath(batch[0].path.table, batch[0].path.day, merged_id(batch))
    body = _write(schema, tables)
    s3.put_object(Bucket=bucket, Key=str(target.path), Body=body, ContentType=CONTENT_TYPE)
    _retire(s3, bucket, batch, report)
    report.merged[str(target.path)] = len(batch)


def _merged_schema(tables: list[pa.Table], sources: list[str]) -> pa.Schema:
    """Every input's columns (a newer catalog may have added some), the layout's metadata, the sources."""
    unified = pa.unify_schemas([t.schema.remove_metadata() for t in tables])
    metadata = dict(tables[-1].schema.metadata or {})
    metadata[SOURCES_KEY] = json.dumps(sources, separators=(",", ":")).encode("utf-8")
    return unified.with_metadata(metadata)


def _write(schema: pa.Schema, tables: list[pa.Table]) -> bytes:
    with tempfile.SpooledTemporaryFile(max_size=16 << 20) as spool:
        out = open_writer(spool, schema)
        pending: list[pa.Table] = []
        rows = 0
        for table in tables:
            pending.append(layout.conform(table, schema))
            rows += table.num_rows
            if rows >= layout.ROW_GROUP_ROWS:
                layout.write(out, pa.concat_tables(pending))
                pending, rows = [], 0
        if pending:
            layout.write(out, pa.concat_tables(pending))
        out.close()
        spool.seek(0)
        return spool.read()


def _retire(s3: Any, bucket: str, objects: list[Candidate], report: Report) -> None:
    """Tombstone each object, then delete it (its rows are in a merged object now)."""
    for candidate in objects:
        s3.put_object(Bucket=bucket, Key=tombstone_key(candidate.path), Body=b"")
    for start in range(0, len(objects), 1000):
        chunk = objects[start : start + 1000]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": c.key} for c in chunk], "Quiet": True})
        report.deleted += len(chunk)


def run(s3: Any, bucket: str, tables: Iterable[str], today: Callable[[], date], days: int = 2) -> Report:
    """One scheduled run: today's and yesterday's partitions (UTC) of every table."""
    return compact(s3, bucket, tables, days_to_compact(today(), days))
