"""Small-file compaction under moto's S3: a date's objects become one, nothing is lost or doubled,
whatever stops a run where, and a raw object loaded again after the merge adds nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dendro.store import athena_compact
from dendro.store import parquet_layout as layout
from tests.athena.helpers import BUCKET, body, download, duck, keys, loader, parquet_file, s3  # noqa: F401
from tests.loader.helpers import TABLES, access, ndjson, s3_event

DAY = date(2026, 11, 26)
PARTITION = "tables/nginx_access/date=2026-11-26/"


def _raw(minute: int) -> str:
    return f"raw/2026/11/26/12/dendro-1-2026-11-26-12-{minute:02d}-00-k{minute}"


def _load_minutes(s3: Any, minutes: range) -> None:  # noqa: F811
    """One raw object a minute, 10 requests each (as Firehose's 60-second buffer delivers)."""
    for minute in minutes:
        events = [
            access(second=s, host=f"web-{minute}", timestamp=f"2026-11-26T12:{minute:02d}:{s:02d}Z")
            for s in range(10)
        ]
        s3.put_object(Bucket=BUCKET, Key=_raw(minute), Body=ndjson(events))
        loader(s3).handle(s3_event(BUCKET, _raw(minute)))


def _count(s3: Any, tmp_path: Path) -> int:  # noqa: F811
    root = tmp_path / f"copy{len(list(tmp_path.iterdir()))}"
    download(s3, root)
    row = (
        duck(root, "dendro", list(TABLES)).execute('SELECT count(*) FROM "dendro"."nginx_access"').fetchone()
    )
    return int(row[0]) if row else 0


def _compact(s3: Any) -> athena_compact.Report:  # noqa: F811
    return athena_compact.run(s3, BUCKET, ["nginx_access", "postgres"], lambda: DAY)


def test_a_days_objects_become_one_with_every_row_once(s3: Any, tmp_path: Path) -> None:  # noqa: F811
    _load_minutes(s3, range(30))
    assert len(keys(s3, PARTITION)) == 30
    report = _compact(s3)
    assert report.partitions == 4 and report.deleted == 30
    merged = keys(s3, PARTITION)
    assert len(merged) == 1 and layout.parse(merged[0]) is not None
    assert _count(s3, tmp_path) == 300
    pf = parquet_file(body(s3, merged[0]))
    assert pf.metadata.num_row_groups == 1
    assert pf.schema_arrow.remove_metadata() == layout.arrow_schema(TABLES["nginx_access"]).remove_metadata()
    times = pf.read().column("time").to_pylist()
    assert times == sorted(times)
    assert len(keys(s3, "compacted/nginx_access/date=2026-11-26/")) == 30

    _load_minutes(s3, range(30, 35))  # later arrivals join the merged object at the next run
    _compact(s3)
    assert len(keys(s3, PARTITION)) == 1
    assert _count(s3, tmp_path) == 350
    assert _compact(s3).merged == {}  # nothing left to do


def test_a_raw_object_loaded_again_after_the_merge_adds_nothing(s3: Any, tmp_path: Path) -> None:  # noqa: F811
    _load_minutes(s3, range(5))
    _compact(s3)
    merged = keys(s3, PARTITION)
    loader(s3).handle(s3_event(BUCKET, _raw(2)))  # Lambda retries, or someone reprocesses
    assert keys(s3, PARTITION) == merged
    assert _count(s3, tmp_path) == 50


def test_a_run_stopped_after_putting_the_merged_object_is_finished_by_the_next(
    s3: Any,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _load_minutes(s3, range(6))

    def crash(*_: Any) -> None:
        raise RuntimeError("the function timed out")

    with monkeypatch.context() as patch:
        patch.setattr(athena_compact, "_retire", crash)
        with pytest.raises(RuntimeError):
            _compact(s3)
    assert len(keys(s3, PARTITION)) == 7  # the merged object beside its six inputs
    report = _compact(s3)
    assert report.leftovers == 6 and report.merged == {}
    assert len(keys(s3, PARTITION)) == 1
    assert _count(s3, tmp_path) == 60


def test_an_input_deleted_during_a_run_leaves_the_partition_for_the_next(s3: Any) -> None:  # noqa: F811
    _load_minutes(s3, range(3))
    real = s3.get_object

    def vanished(**kw: Any) -> Any:
        if kw["Key"].startswith(PARTITION):
            s3.delete_object(Bucket=BUCKET, Key=kw["Key"])
        return real(**kw)

    s3_view = type("S3", (), {"get_object": staticmethod(vanished), "get_paginator": s3.get_paginator})()
    report = athena_compact.run(s3_view, BUCKET, ["nginx_access"], lambda: DAY)
    assert report.skipped and report.merged == {}
    assert len(keys(s3, PARTITION)) == 2


def test_batches_keep_each_merge_within_its_byte_budget() -> None:
    def c(i: int, size: int) -> athena_compact.Candidate:
        return athena_compact.Candidate(layout.ObjectPath("t", DAY, f"20261126T1200{i:02d}Z-{i:012x}"), size)

    small = athena_compact.BATCH_BYTES // 3
    full = athena_compact.FULL_BYTES
    runs = athena_compact.batches([c(0, full), c(1, small), c(2, small), c(3, small), c(4, small), c(5, 10)])
    assert [[x.size for x in run] for run in runs] == [[small] * 3, [small, 10]]
