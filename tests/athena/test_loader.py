"""The athena store's loader under moto's S3: raw objects → Parquet objects of the shared layout,
rejected/ lines, aggregates and alerts as the Timestream loader writes them; the objects read back
with DuckDB give exactly the events sent; loading again writes the same keys and bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from dendro.metrics.aggregates import aggregate_key, parse
from dendro.pipeline import athena_loader
from dendro.pipeline.loader import rejected_key
from dendro.store import athena_writer
from dendro.store import parquet_layout as layout
from tests.athena.helpers import BUCKET, body, download, duck, keys, loader, parquet_file, s3  # noqa: F401
from tests.loader.helpers import ACCESS, LINE_500, TABLES, access, ndjson, s3_event

RAW = "raw/2026/11/26/12/dendro-1-2026-11-26-12-00-05-abc"


def _events() -> list[dict[str, Any]]:
    """60 requests over two UTC dates (10 of them 5xx), 3 postgres lines, 2 agent heartbeats."""
    events = [
        access(second=s % 60, status=502 if s % 6 == 0 else 200, host=f"web-{s % 3}") for s in range(40)
    ]
    late = [access(second=s, host="web-9", timestamp=f"2026-11-25T23:59:{s:02d}.250000Z") for s in range(20)]
    pg = [
        {"type": "postgres", "host": "db-1", "timestamp": f"2026-11-26T12:01:0{i}.000000Z", "level": "LOG",
         "message": f"checkpoint {i}", "duration": 1.5 * i}
        for i in range(3)
    ]
    agent = [
        {"type": "agent", "host": h, "timestamp": "2026-11-26T12:00:30.000000Z", "version": "0.57.0"}
        for h in ("web-0", "db-1")
    ]
    return events + late + pg + agent


def _bad_lines() -> bytes:
    return b'not json\n{"type": "nginx_access", "host": "web-1"}\n{"type": "nope", "timestamp": 1}\n'


def _load(s3: Any, data: bytes, key: str = RAW) -> dict[str, Any]:  # noqa: F811
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    return loader(s3).handle(s3_event(BUCKET, key))


def test_objects_hold_exactly_the_events_sent_and_the_rest_is_rejected(s3: Any, tmp_path: Path) -> None:  # noqa: F811
    events = _events()
    result = _load(s3, ndjson(events) + _bad_lines())
    summary = result["objects"][0]
    assert (summary["lines"], summary["written"], summary["rejected"]) == (len(events) + 3, len(events), 3)
    assert summary["tables"] == {"agent": 2, "nginx_access": 60, "postgres": 3}

    stored = keys(s3, "tables/")
    assert [layout.parse(k) is not None for k in stored] == [True] * 4  # 2 dates of access, pg, agent
    dates = {k.split("/")[2] for k in stored if "/nginx_access/" in k}
    assert dates == {"date=2026-11-25", "date=2026-11-26"}

    download(s3, tmp_path)
    con = duck(tmp_path, "dendro", list(TABLES))
    count = (
        "SELECT count(*), count(*) FILTER (WHERE status >= 500), count(DISTINCT host) "
        'FROM "dendro"."nginx_access"'
    )
    assert con.execute(count).fetchone() == (60, 7, 4)
    by_date = 'SELECT "date", count(*) FROM "dendro"."nginx_access" GROUP BY 1 ORDER BY 1'
    per_date = [(str(d), n) for d, n in con.execute(by_date).fetchall()]
    assert per_date == [("2026-11-25", 20), ("2026-11-26", 40)]
    first = con.execute('SELECT min(time) FROM "dendro"."nginx_access"').fetchone()
    assert str(first[0]) == "2026-11-25 23:59:00.250000"  # microseconds, naive UTC
    pg = con.execute('SELECT level, message, duration FROM "dendro"."postgres" ORDER BY time').fetchall()
    assert pg == [("LOG", f"checkpoint {i}", 1.5 * i) for i in range(3)]
    five = 'SELECT message FROM "dendro"."nginx_access" WHERE status = 502 LIMIT 1'
    assert con.execute(five).fetchone() == (LINE_500,)

    rejected = [json.loads(line) for line in body(s3, rejected_key(RAW)).splitlines()]
    assert [r["table"] for r in rejected] == [None, "nginx_access", None]
    assert rejected[1]["reason"] == "event has no timestamp"
    aggregate = parse(body(s3, aggregate_key(RAW)))
    assert aggregate.rejected == {"nginx_access": 1, "unknown": 2}


def test_a_batch_the_agent_sent_again_is_stored_once(s3: Any, tmp_path: Path) -> None:  # noqa: F811
    """As in the Timestream loader (tests/loader/test_properties.py): the records Firehose had
    accepted before the agent sent their batch again are left out by their event ids."""
    events = [dict(e, dendro_id=f"{i:032x}") for i, e in enumerate(_events())]
    summary = _load(s3, ndjson(events[:40] + events))["objects"][0]
    assert (summary["written"], summary["copies"], summary["lines"]) == (len(events), 40, len(events) + 40)
    download(s3, tmp_path)
    con = duck(tmp_path, "dendro", list(TABLES))
    assert con.execute('SELECT count(*) FROM "dendro"."nginx_access"').fetchone() == (60,)
    assert parse(body(s3, aggregate_key(RAW))).rejected == {}


def test_every_object_follows_the_shared_layout(s3: Any) -> None:  # noqa: F811
    _load(s3, ndjson(_events()))
    key = next(k for k in keys(s3, "tables/nginx_access/date=2026-11-26/"))
    parsed = layout.parse(key)
    assert parsed is not None and parsed.object_id.startswith("20261126T120000Z-")
    assert parsed.object_id.endswith(athena_writer.source_token(f"{BUCKET}/{RAW}"))
    pf = parquet_file(body(s3, key))
    assert pf.schema_arrow == layout.arrow_schema(ACCESS)
    assert pf.schema_arrow.metadata == layout.arrow_schema(ACCESS).metadata
    group = pf.metadata.row_group(0)
    assert group.column(0).compression == "ZSTD"
    assert [c.column_index for c in group.sorting_columns] == [0]
    times = pf.read().column("time").to_pylist()
    assert times == sorted(times)


def test_loading_the_same_object_again_puts_the_same_keys_and_bytes(s3: Any) -> None:  # noqa: F811
    _load(s3, ndjson(_events()))
    before = {k: body(s3, k) for k in keys(s3, "tables/")}
    _load(s3, ndjson(_events()))
    assert {k: body(s3, k) for k in keys(s3, "tables/")} == before


def test_another_raw_object_with_the_same_lines_is_another_object(s3: Any) -> None:  # noqa: F811
    _load(s3, ndjson(_events()))
    _load(s3, ndjson(_events()), key=RAW.replace("-abc", "-def"))
    assert len(keys(s3, "tables/nginx_access/date=2026-11-26/")) == 2


def test_alert_lines_are_logged_as_the_timestream_loader_logs_them(s3: Any) -> None:  # noqa: F811
    log: list[str] = []
    s3.put_object(Bucket=BUCKET, Key=RAW, Body=ndjson(_events()))
    loader(s3, log).handle(s3_event(BUCKET, RAW))
    alerts = [json.loads(line) for line in log if '"alert"' in line]
    assert sum(a["count"] for a in alerts if a["alert"] == "nginx_5xx") == 7


def test_own_objects_are_never_loaded(s3: Any) -> None:  # noqa: F811
    log: list[str] = []
    result = loader(s3, log).handle(s3_event(BUCKET, "tables/x/date=2026-01-01/a.parquet", "compacted/x"))
    assert result == {"objects": []}
    assert len([line for line in log if '"skipped"' in line]) == 2


def test_without_zstd_the_objects_are_snappy_with_the_layouts_other_options(
    s3: Any, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """The AWS SDK for pandas layer builds Arrow with -DARROW_WITH_ZSTD=OFF (and snappy, zlib on):
    aws/aws-sdk-pandas, building/lambda/build-lambda-layer.sh at tag 3.17.0."""
    without_zstd = lambda name: name != "zstd" and pa.Codec.is_available(name)  # noqa: E731
    monkeypatch.setattr(athena_writer, "codec_available", without_zstd)
    assert athena_writer.compression() == "snappy"
    _load(s3, ndjson(_events()))
    pf = parquet_file(body(s3, keys(s3, "tables/nginx_access/")[0]))
    assert pf.metadata.row_group(0).column(0).compression == "SNAPPY"
    assert pf.schema_arrow == layout.arrow_schema(ACCESS)
    assert [c.column_index for c in pf.metadata.row_group(0).sorting_columns] == [0]


def test_the_handler_reads_its_environment(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("DENDRO_DATABASE", "dendro")
    monkeypatch.setenv("DENDRO_BUCKET", BUCKET)
    monkeypatch.setenv("DENDRO_TABLES", "nginx_access")
    athena_loader.reset()
    s3.put_object(Bucket=BUCKET, Key=RAW, Body=ndjson(_events()))
    try:
        result = athena_loader.handler(s3_event(BUCKET, RAW))
    finally:
        athena_loader.reset()
    assert result["objects"][0]["tables"]["nginx_access"] == 60
