"""The athena store's Lambda loader: Firehose objects in S3 → Parquet objects, rejections, aggregates, alerts.

``handler`` (``dendro.pipeline.athena_loader.handler``) is the function's entry point when
``aws.store`` is ``athena``. For each raw object it does what the Timestream loader does
(:mod:`dendro.pipeline.loader`: the same decoding, routing, ``to_row`` coercion, ``rejected/``
lines, RED aggregate under ``aggregates/``, alert lines and SNS messages, one summary line) except
that the rows go to Parquet objects of the shared layout (:mod:`dendro.store.athena_writer`)
under ``tables/``, which Glue's tables (partition projection on ``date``) give to Athena.

The same raw object loaded again puts the same keys with the same bytes; if its rows were merged
by compaction meanwhile, its tombstone is found after the put and the object is taken back
(:func:`dendro.store.athena_compact.superseded`). The scheduled event ``{"dendro": "compact"}``
runs the compaction (:mod:`dendro.store.athena_compact`) instead.

Runs on python3.12 with pyarrow from a Lambda layer (``aws.pyarrow_layer``; docs/loader.md).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from dendro.alerts.notify import AlertCollector
from dendro.metrics.aggregates import AggregateBuilder
from dendro.pipeline.loader import (
    CHUNK_BYTES,
    OWN_PREFIXES,
    RejectedSink,
    Settings,
    Summary,
    _stdout,
    rejected_key,
    report,
    s3_objects,
)
from dendro.pipeline.objects import first_copies, read_records
from dendro.store import athena_compact
from dendro.store.athena_writer import ObjectWriter, Written, compression
from dendro.store.schema import ROW_ERRORS, reason_of, table_for, to_row

#: prefixes of the athena store's own objects: never loaded
ATHENA_PREFIXES = (*OWN_PREFIXES, "tables/", athena_compact.TOMBSTONES, "athena-results/")
COMPACT_EVENT = "compact"


class ParquetLoader:
    """Loads objects with injected clients (the handler builds them from the environment)."""

    def __init__(
        self,
        settings: Settings,
        s3: Any,
        sns: Any = None,
        log: Callable[[str], None] | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        self.settings = settings
        self.s3 = s3
        self.sns = sns
        self.log = log or _stdout
        self.today = today or (lambda: datetime.now(UTC).date())

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        if event.get("dendro") == COMPACT_EVENT:
            return self.compact(str(event.get("bucket") or self.settings.bucket or ""))
        summaries = []
        for bucket, key in s3_objects(event):
            if key.startswith(ATHENA_PREFIXES):
                self.log(json.dumps({"dendro": "skipped", "bucket": bucket, "key": key}))
                continue
            summaries.append(self.load_object(bucket, key).__dict__)
        return {"objects": summaries}

    def compact(self, bucket: str) -> dict[str, Any]:
        if not bucket:
            raise ValueError("compaction needs DENDRO_BUCKET (or a bucket in the event)")
        report = athena_compact.run(self.s3, bucket, self.settings.tables, self.today)
        self.log(json.dumps(report.to_dict(), sort_keys=True))
        return report.to_dict()

    def load_object(self, bucket: str, key: str) -> Summary:
        started = time.monotonic()
        summary = Summary(bucket, key)
        out_bucket = self.settings.bucket or bucket
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"]
        reds = self.settings.reds
        builder = AggregateBuilder(self.settings.tables) if reds is None else AggregateBuilder(
            self.settings.tables, reds
        )
        alerts = AlertCollector(self.settings.alert_rules, bucket, key)
        rejected = RejectedSink(key)
        writer = ObjectWriter(self.settings.tables, f"{bucket}/{key}")
        try:
            self._read(body.iter_chunks(CHUNK_BYTES), writer, builder, alerts, rejected, summary)
            written = writer.finish()
            self._put(out_bucket, written, summary)
            rejected.upload(self.s3, out_bucket, rejected_key(key))
            for table, count in rejected.by_table.items():
                builder.reject(table, count)
        finally:
            rejected.close()
            body.close()
        report(self.s3, self.sns, self.settings.topic_arn, self.log, out_bucket, key, builder, alerts)
        summary.written = sum(summary.tables.values())
        summary.rejected = rejected.count
        summary.alerts = {name: f.count for name, f in sorted(alerts.folded.items())}
        summary.seconds = round(time.monotonic() - started, 3)
        self.log(summary.log_line())
        return summary

    def _read(
        self,
        chunks: Iterable[bytes],
        writer: ObjectWriter,
        builder: AggregateBuilder,
        alerts: AlertCollector,
        rejected: RejectedSink,
        summary: Summary,
    ) -> None:
        tables = self.settings.tables
        for piece in first_copies(read_records(chunks), summary.copy):
            summary.lines += 1
            if piece.event is None:
                rejected.add(piece.raw, None, piece.error or "not an event")
                continue
            table_name = None
            try:
                table_name = table_for(tables, piece.event).name
                row = to_row(tables[table_name], piece.event)
            except ROW_ERRORS as error:
                rejected.add(piece.raw, table_name, reason_of(error))
                continue
            writer.add(table_name, row)
            builder.add(table_name, row)
            alerts.check(table_name, row, piece.raw)

    def _put(self, bucket: str, written: list[Written], summary: Summary) -> None:
        """Put each object; one whose rows compaction merged already is taken back at once."""
        for obj in written:
            summary.calls += 1
            self.s3.put_object(Bucket=bucket, Key=obj.key, Body=obj.body,
                               ContentType=athena_compact.CONTENT_TYPE)
            if athena_compact.superseded(self.s3, bucket, obj.path):
                self.s3.delete_object(Bucket=bucket, Key=obj.key)
            table = obj.path.table
            summary.tables[table] = summary.tables.get(table, 0) + obj.rows
        summary.tables = dict(sorted(summary.tables.items()))


def clients(settings: Settings) -> tuple[Any, Any]:
    """boto3 clients for S3 and SNS."""
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", config=Config(max_pool_connections=4, retries={"mode": "standard"}))
    sns = boto3.client("sns") if settings.topic_arn else None
    return s3, sns


_loader: ParquetLoader | None = None


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """The Lambda entry point: load every object the S3 notification names, or compact."""
    global _loader
    if _loader is None:
        settings = Settings.from_env(os.environ)
        _loader = ParquetLoader(settings, *clients(settings))
        _loader.log(json.dumps({"dendro": "parquet", "compression": compression()}))
    return _loader.handle(event)


def reset() -> None:
    """Forget the cached loader; the next call reads the environment again."""
    global _loader
    _loader = None
