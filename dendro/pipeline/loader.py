"""The Lambda loader: Firehose objects in S3 → Timestream, rejections, aggregates and alerts.

``handler`` is the function's entry point (``dendro.pipeline.loader.handler``). For each S3
record of the event it streams the object (:mod:`dendro.pipeline.objects`), routes every
event by ``type`` to its table, maps it to a multi-measure record
(:mod:`dendro.store.timestream_records`) and writes it (:mod:`dendro.store.timestream_writer`).
Every input
record ends in Timestream or in ``rejected/`` in the bucket (one JSON line: raw input, table,
reason); each object also gets a RED aggregate under ``aggregates/`` for the exporter, of the
rows Timestream stored (a record it rejects is taken back out), with the count of its
``rejected/`` lines per table (``unknown`` where none applies), alert
lines and SNS messages (:mod:`dendro.alerts.notify`), and one summary log line.

Imports stay small on purpose: standard library, boto3/botocore and the Dendro modules the
deploy step zips (services base and catalog, store.schema and the Timestream mapping and writer,
metrics (names, status classes, aggregates), pipeline).
Configuration comes from the environment; see docs/loader.md.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import unquote_plus

from dendro.alerts.notify import AlertCollector, AlertRule, rules_by_table
from dendro.metrics.aggregates import AggregateBuilder, aggregate_key
from dendro.pipeline.objects import first_copies, read_records
from dendro.services.base import Column, Table
from dendro.store.schema import Rejected, table_for, to_row
from dendro.store.timestream_records import TableLayout, object_id, to_record
from dendro.store.timestream_writer import Backoff, RecordWriter

CHUNK_BYTES = 1 << 20
DEFAULT_MAX_INFLIGHT = 8
REJECTED_PREFIX = "rejected/"
#: prefixes the loader writes itself: an object there is never loaded (no feedback loop)
OWN_PREFIXES = (REJECTED_PREFIX, "aggregates/")
COLUMN_TYPES = ("VARCHAR", "BIGINT", "DOUBLE", "BOOLEAN", "TIMESTAMP")


class LoaderConfigError(Exception):
    """The function's environment is wrong; ``str()`` names the variable and what to do."""


@dataclass
class Settings:
    database: str
    tables: dict[str, Table]
    alert_rules: dict[str, list[AlertRule]] = field(default_factory=dict)
    bucket: str | None = None  # where rejected/ and aggregates/ go; default: the object's bucket
    topic_arn: str | None = None
    max_inflight: int = DEFAULT_MAX_INFLIGHT
    timestream_endpoint: str | None = None
    #: table → (service, Red) for the aggregates; None: the exporter module reads the catalog
    reds: Mapping[str, Any] | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        database = env.get("DENDRO_DATABASE", "").strip()
        if not database:
            raise LoaderConfigError("DENDRO_DATABASE is not set: give it the Timestream database name")
        tables = resolve_tables(env.get("DENDRO_TABLES", ""), env.get("DENDRO_CUSTOM_TABLES", ""))
        try:
            max_inflight = int(env.get("DENDRO_MAX_INFLIGHT") or DEFAULT_MAX_INFLIGHT)
        except ValueError:
            raise LoaderConfigError("DENDRO_MAX_INFLIGHT must be a whole number, e.g. 8") from None
        if not 1 <= max_inflight <= 64:
            raise LoaderConfigError("DENDRO_MAX_INFLIGHT must be between 1 and 64")
        from dendro.services import catalog

        return cls(
            database=database,
            tables=tables,
            alert_rules=rules_by_table(catalog().values(), tables),
            bucket=env.get("DENDRO_BUCKET") or None,
            topic_arn=env.get("DENDRO_SNS_TOPIC_ARN") or None,
            max_inflight=max_inflight,
            timestream_endpoint=env.get("DENDRO_TIMESTREAM_ENDPOINT") or None,
        )


def resolve_tables(names: str, custom_json: str) -> dict[str, Table]:
    """The tables named in DENDRO_TABLES (all built-in ones when empty), the custom tables of
    DENDRO_CUSTOM_TABLES, and always the internal ones (parse_error, agent)."""
    from dendro.services import all_tables
    from dendro.services.internal import INTERNAL_TABLES

    known = all_tables()
    custom = custom_tables(custom_json)
    known.update(custom)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    if not wanted:
        return known
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise LoaderConfigError(
            f"DENDRO_TABLES names unknown tables {', '.join(unknown)}: use built-in table names "
            "or describe them in DENDRO_CUSTOM_TABLES"
        )
    tables = {t.name: t for t in INTERNAL_TABLES}
    tables.update({n: known[n] for n in wanted})
    return tables


def custom_tables(text: str) -> dict[str, Table]:
    """Tables from JSON: ``[{"name": ..., "columns": [{"name", "type", "dimension"}]}]``."""
    if not text.strip():
        return {}
    try:
        items = json.loads(text)
        tables = {}
        for item in items:
            columns = tuple(
                Column(str(c["name"]), _column_type(c.get("type", "VARCHAR")), bool(c.get("dimension")))
                for c in item["columns"]
            )
            tables[str(item["name"])] = Table(str(item["name"]), columns)
    except (ValueError, TypeError, KeyError) as error:
        raise LoaderConfigError(
            f"DENDRO_CUSTOM_TABLES is not a JSON list of tables with columns ({error})"
        ) from None
    return tables


def _column_type(value: Any) -> Any:
    text = str(value).upper()
    if text not in COLUMN_TYPES:
        raise ValueError(f"column type {value!r} is not one of {', '.join(COLUMN_TYPES)}")
    return text


@dataclass
class Summary:
    """What happened to one object; the handler logs it as one line."""

    bucket: str
    key: str
    lines: int = 0
    written: int = 0
    rejected: int = 0
    #: events left out as copies of one earlier in the object (a batch the agent sent again)
    copies: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    retries: int = 0
    seconds: float = 0.0

    def copy(self) -> None:
        """One more line read that was a copy of an earlier one."""
        self.lines += 1
        self.copies += 1

    def log_line(self) -> str:
        return json.dumps({"dendro": "loaded", **self.__dict__}, sort_keys=True)


class RejectedSink:
    """Rejected input as JSON lines, spooled to disk beyond a few MB (objects reach 128 MB)."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.count = 0
        self.by_table: Counter[str | None] = Counter()  # lines per table they were meant for
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115

    def add(self, raw: str, table: str | None, reason: str) -> None:
        line = {"raw": raw, "table": table, "reason": reason, "object": self.key}
        self._file.write(json.dumps(line, ensure_ascii=False).encode("utf-8", "replace") + b"\n")
        self.count += 1
        self.by_table[table] += 1

    def upload(self, s3: Any, bucket: str, key: str) -> None:
        """Write the rejected object, or remove a stale one when nothing was rejected this time."""
        if self.count == 0:
            s3.delete_object(Bucket=bucket, Key=key)
            return
        self._file.seek(0)
        s3.put_object(Bucket=bucket, Key=key, Body=self._file.read(), ContentType="application/x-ndjson")

    def close(self) -> None:
        self._file.close()


def rejected_key(raw_key: str) -> str:
    """``raw/2026/…/name`` → ``rejected/2026/…/name.ndjson`` (reprocessing overwrites it)."""
    return f"{REJECTED_PREFIX}{raw_key.removeprefix('raw/')}.ndjson"


def report(
    s3: Any, sns: Any, topic_arn: str | None, log: Callable[[str], None], bucket: str, key: str,
    builder: Any, alerts: Any,
) -> None:
    """What every loader does after an object: its RED aggregate to S3, its alert lines to the log
    (CloudWatch's metric filters read them) and, with a topic, the alert e-mails."""
    body = builder.to_json()
    s3.put_object(Bucket=bucket, Key=aggregate_key(key), Body=body, ContentType="application/json")
    for line in alerts.log_lines():
        log(line)
    if topic_arn and sns is not None:
        alerts.publish(sns, topic_arn, log)


class Loader:
    """Loads objects with injected clients (the handler builds them from the environment)."""

    def __init__(
        self,
        settings: Settings,
        s3: Any,
        timestream: Any,
        sns: Any = None,
        log: Callable[[str], None] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings = settings
        self.s3 = s3
        self.timestream = timestream
        self.sns = sns
        self.log = log or _stdout
        self.backoff = backoff
        self.layouts = {name: TableLayout.of(table) for name, table in settings.tables.items()}

    def handle(
        self, event: Mapping[str, Any], seconds_left: Callable[[], float] | None = None
    ) -> dict[str, Any]:
        summaries = []
        for bucket, key in s3_objects(event):
            if key.startswith(OWN_PREFIXES):
                self.log(json.dumps({"dendro": "skipped", "bucket": bucket, "key": key}))
                continue
            summaries.append(self.load_object(bucket, key, seconds_left).__dict__)
        return {"objects": summaries}

    def load_object(self, bucket: str, key: str, seconds_left: Callable[[], float] | None = None) -> Summary:
        started = time.monotonic()
        summary = Summary(bucket, key)
        out_bucket = self.settings.bucket or bucket
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"]
        backoff = self.backoff or Backoff(deadline=seconds_left)
        if self.settings.reds is None:
            builder = AggregateBuilder(self.settings.tables)
        else:
            builder = AggregateBuilder(self.settings.tables, self.settings.reds)
        alerts = AlertCollector(self.settings.alert_rules, bucket, key)
        rejected = RejectedSink(key)
        try:
            with RecordWriter(
                self.timestream,
                self.settings.database,
                max_inflight=self.settings.max_inflight,
                backoff=backoff,
            ) as writer:
                self._load_pieces(body.iter_chunks(CHUNK_BYTES), object_id(bucket, key), writer, builder,
                                  alerts, rejected, summary)
                totals = writer.flush()
            for item in totals.rejected:  # Timestream refused them: not stored, so not counted
                raw, row = item.ref
                rejected.add(raw, item.table, item.reason)
                builder.remove(item.table, row)
            rejected.upload(self.s3, out_bucket, rejected_key(key))
            for table, count in rejected.by_table.items():  # everything under rejected/, by table
                builder.reject(table, count)
        finally:
            rejected.close()
            body.close()
        report(self.s3, self.sns, self.settings.topic_arn, self.log, out_bucket, key, builder, alerts)
        summary.tables = dict(sorted(totals.written.items()))
        summary.written = sum(totals.written.values())
        summary.rejected = rejected.count
        summary.alerts = {name: f.count for name, f in sorted(alerts.folded.items())}
        summary.calls, summary.retries = totals.calls, totals.retries
        summary.seconds = round(time.monotonic() - started, 3)
        self.log(summary.log_line())
        return summary

    def _load_pieces(
        self,
        chunks: Iterable[bytes],
        obj: str,
        writer: RecordWriter,
        builder: AggregateBuilder,
        alerts: AlertCollector,
        rejected: RejectedSink,
        summary: Summary,
    ) -> None:
        seqs: dict[str, int] = {}
        tables = self.settings.tables
        for piece in first_copies(read_records(chunks), summary.copy):
            summary.lines += 1
            event = piece.event
            if event is None:
                rejected.add(piece.raw, None, piece.error or "not an event")
                continue
            table_name = None
            try:
                table = table_for(tables, event)
                table_name = table.name
                row = to_row(table, event)
                seq = seqs.get(table_name, 0)
                record = to_record(self.layouts[table_name], row, obj, seq)
            except (Rejected, ValueError, TypeError, OverflowError, OSError) as error:
                rejected.add(piece.raw, table_name, str(error) or type(error).__name__)
                continue
            seqs[table_name] = seq + 1
            writer.add(table_name, record, (piece.raw, row))
            builder.add(table_name, row)
            alerts.check(table_name, row, piece.raw)


def s3_objects(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(bucket, decoded key) of every object-created record of an S3 notification."""
    found = []
    for record in event.get("Records") or ():
        name = str(record.get("eventName", "ObjectCreated:Put"))
        if not name.startswith("ObjectCreated"):
            continue
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name")
        key = (s3.get("object") or {}).get("key")
        if bucket and key:
            found.append((str(bucket), unquote_plus(str(key))))
    return found


def _stdout(line: str) -> None:
    # plain stdout lines stay plain in CloudWatch Logs, so JSON metric filters can match them
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def clients(settings: Settings) -> tuple[Any, Any, Any]:
    """boto3 clients for S3, Timestream writes and SNS, sized for the requests in flight."""
    import boto3
    from botocore.config import Config

    pool = Config(max_pool_connections=settings.max_inflight + 4, retries={"total_max_attempts": 1},
                  parameter_validation=False)
    s3 = boto3.client("s3", config=Config(max_pool_connections=4, retries={"mode": "standard"}))
    kwargs: dict[str, Any] = {"config": pool}
    if settings.timestream_endpoint:
        kwargs["endpoint_url"] = settings.timestream_endpoint
    timestream = boto3.client("timestream-write", **kwargs)
    sns = boto3.client("sns") if settings.topic_arn else None
    return s3, timestream, sns


_loader: Loader | None = None


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """The Lambda entry point: load every object the S3 notification names."""
    global _loader
    if _loader is None:
        settings = Settings.from_env(os.environ)
        _loader = Loader(settings, *clients(settings))
    seconds_left = None
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        seconds_left = lambda: context.get_remaining_time_in_millis() / 1000.0  # noqa: E731
    return _loader.handle(event, seconds_left)


def reset() -> None:
    """Forget the cached loader (its settings and clients); the next call reads the environment."""
    global _loader
    _loader = None
