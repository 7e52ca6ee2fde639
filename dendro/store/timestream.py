"""The Timestream implementation of the Store (AWS backend).

Queries go through the ``timestream-query`` paginator: Timestream may answer a first page with
no rows and a NextToken while the query runs, so pages are followed until the last one or the
row cap. Values come back typed from the column types (BIGINT → int, DOUBLE → float, TIMESTAMP
→ aware datetime…), and the bytes the query scanned (what older accounts pay for) are kept in
the result. The read timeout is above Timestream's 60-second query time.

Writes use the record mapping and the writer the loader uses too
(:mod:`dendro.store.timestream_records`, :mod:`dendro.store.timestream_writer`), so a row written
here is the record the loader would write.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from dendro.services.base import Table
from dendro.store import fetch
from dendro.store.base import QueryError, QueryResult, Rejection, ResultColumn, StoreError, WriteResult
from dendro.store.schema import Rejected, table_for, to_row
from dendro.store.sql import table_ref
from dendro.store.timestream_records import TableLayout, to_record
from dendro.store.timestream_writer import RecordWriter, WriteFailed

READ_TIMEOUT_SECONDS = 90  # Timestream queries may run 60 s; the answer must still arrive
CLOSED_SERVICE_HINT = (
    "Timestream for LiveAnalytics is closed to AWS accounts that did not use it before "
    "2025-06-20; use the local backend (backend: local in dendro.yaml) instead"
)


def query_client(region: str | None = None, endpoint_url: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(read_timeout=READ_TIMEOUT_SECONDS, connect_timeout=10, retries={"mode": "standard"})
    return boto3.client("timestream-query", region_name=region, endpoint_url=endpoint_url, config=config)


def write_client(region: str | None = None, endpoint_url: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"total_max_attempts": 1}, max_pool_connections=12)
    return boto3.client("timestream-write", region_name=region, endpoint_url=endpoint_url, config=config)


def _parse_timestamp(text: str) -> datetime:
    # "2026-11-26 12:00:00.123456789": Python keeps microseconds
    date, _, clock = text.partition(" ")
    whole, _, fraction = clock.partition(".")
    micro = (fraction + "000000")[:6]
    return datetime.fromisoformat(f"{date}T{whole}.{micro}").replace(tzinfo=UTC)


def _scalar(kind: str, text: str) -> Any:
    if kind in ("BIGINT", "INTEGER"):
        return int(text)
    if kind == "DOUBLE":
        return float(text)
    if kind == "BOOLEAN":
        return text.lower() == "true"
    if kind == "TIMESTAMP":
        return _parse_timestamp(text)
    if kind == "DATE":
        return datetime.fromisoformat(text).date()
    return text


def column_type(info: Mapping[str, Any]) -> str:
    kind = info.get("Type", {})
    if "ScalarType" in kind:
        return str(kind["ScalarType"])
    if "ArrayColumnInfo" in kind:
        return "ARRAY"
    if "TimeSeriesMeasureValueColumnInfo" in kind:
        return "TIMESERIES"
    return "ROW"


def datum_value(info: Mapping[str, Any], datum: Mapping[str, Any]) -> Any:
    """The Python value of one Timestream datum of a column described by ``info``."""
    if datum.get("NullValue"):
        return None
    if "ScalarValue" in datum:
        return _scalar(column_type(info), datum["ScalarValue"])
    kind = info.get("Type", {})
    if "ArrayValue" in datum:
        inner = kind.get("ArrayColumnInfo", {})
        return [datum_value(inner, item) for item in datum["ArrayValue"]]
    if "RowValue" in datum:
        fields = kind.get("RowColumnInfo", [])
        return tuple(datum_value(f, d) for f, d in zip(fields, datum["RowValue"]["Data"], strict=False))
    if "TimeSeriesValue" in datum:
        inner = kind.get("TimeSeriesMeasureValueColumnInfo", {})
        points = datum["TimeSeriesValue"]
        return [(_parse_timestamp(p["Time"]), datum_value(inner, p["Value"])) for p in points]
    return None


class TimestreamStore:
    """One Timestream database, read with SQL and written with the loader's mapping."""

    def __init__(
        self,
        database: str,
        tables: Mapping[str, Table],
        *,
        query: Any = None,
        write: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        max_inflight: int = 8,
    ) -> None:
        self.database = database
        self.schemas = dict(tables)
        self._query = query
        self._write = write
        self._region = region
        self._endpoint_url = endpoint_url
        self.max_inflight = max_inflight
        self.queries = 0
        self.bytes_scanned = 0
        self._made: list[Any] = []  # the clients this store created, closed by close()

    @property
    def query_client(self) -> Any:
        if self._query is None:
            self._query = query_client(self._region, self._endpoint_url)
            self._made.append(self._query)
        return self._query

    @property
    def write_client(self) -> Any:
        if self._write is None:
            self._write = write_client(self._region, self._endpoint_url)
            self._made.append(self._write)
        return self._write

    def query(self, sql: str, *, max_rows: int | None = None, max_bytes: int | None = None) -> QueryResult:
        from botocore.exceptions import BotoCoreError, ClientError

        started = time.monotonic()
        columns: list[ResultColumn] = []
        infos: list[Mapping[str, Any]] = []
        rows: list[tuple[Any, ...]] = []
        cap = fetch.Cap(max_rows, max_bytes)
        truncated = False
        scanned: int | None = None
        query_id = None
        self.queries += 1
        try:
            for page in self.query_client.get_paginator("query").paginate(QueryString=sql):
                query_id = page.get("QueryId", query_id)
                if not infos and page.get("ColumnInfo"):
                    infos = page["ColumnInfo"]
                    columns = [ResultColumn(i.get("Name", ""), column_type(i)) for i in infos]
                status = page.get("QueryStatus") or {}
                if "CumulativeBytesScanned" in status:
                    scanned = int(status["CumulativeBytesScanned"])
                for row in page.get("Rows", []):
                    values = tuple(datum_value(i, d) for i, d in zip(infos, row["Data"], strict=False))
                    if not cap.take(values):
                        truncated = True
                        break
                    rows.append(values)
                if truncated:
                    self._cancel(query_id)
                    break
        except ClientError as error:
            raise self._query_error(error) from None
        except BotoCoreError as error:
            raise StoreError(f"Timestream query failed: {error}") from None
        if scanned is not None:
            self.bytes_scanned += scanned
        return QueryResult(columns, rows, truncated, time.monotonic() - started, scanned)

    def _cancel(self, query_id: str | None) -> None:
        if not query_id:
            return
        try:
            self.query_client.cancel_query(QueryId=query_id)
        except Exception:  # the rows are already here; a failed cancel only costs the rest of the scan
            return

    def _query_error(self, error: Any) -> StoreError:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "") or code
        if code == "ValidationException":
            return QueryError(message)
        if code == "AccessDeniedException" and ("not available" in message or "new customer" in message):
            return StoreError(CLOSED_SERVICE_HINT)
        if code == "AccessDeniedException":
            return StoreError(f"access to Timestream denied: {message}")
        return StoreError(f"Timestream query failed ({code}): {message}")

    def tables(self) -> list[str]:
        from botocore.exceptions import ClientError

        names: list[str] = []
        try:
            paginator = self.write_client.get_paginator("list_tables")
            for page in paginator.paginate(DatabaseName=self.database):
                names.extend(t["TableName"] for t in page.get("Tables", []))
        except ClientError as error:
            raise self._query_error(error) from None
        return sorted(names)

    def describe(self, table: str) -> list[ResultColumn]:
        """Columns of a table: from its schema when Dendro knows it (no query billed), else DESCRIBE."""
        schema = self.schemas.get(table)
        if schema is not None:
            return [
                ResultColumn("time", "TIMESTAMP"),
                *(ResultColumn(c.name, c.type) for c in schema.columns),
            ]
        result = self.query(f"DESCRIBE {table_ref(self.database, table)}")
        return [ResultColumn(str(r[0]), str(r[1])) for r in result.rows]

    def close(self) -> None:
        """Close the clients this store made (a client passed in is its owner's to close)."""
        for client in self._made:
            client.close()
        self._query = None if any(c is self._query for c in self._made) else self._query
        self._write = None if any(c is self._write for c in self._made) else self._write
        self._made.clear()

    def write(self, events: Iterable[Mapping[str, Any]]) -> WriteResult:
        """Route events to their tables and write them as the loader does.

        Keys stay unique per event and stable for the same events: the ``object`` dimension is
        a hash of the whole call's events, and the time digits their order within it.
        """
        batch = list(events)
        digest = hashlib.sha256()
        for event in batch:
            digest.update(json.dumps(event, sort_keys=True, default=str).encode())
        obj = digest.hexdigest()[:16]
        result = WriteResult()
        layouts = {name: TableLayout.of(t) for name, t in self.schemas.items()}
        seqs: dict[str, int] = {}
        with RecordWriter(self.write_client, self.database, max_inflight=self.max_inflight) as writer:
            for event in batch:
                name = None
                try:
                    table = table_for(self.schemas, event)
                    name = table.name
                    row = to_row(table, event)
                    seq = seqs.get(name, 0)
                    record = to_record(layouts[name], row, obj, seq)
                except (Rejected, ValueError, TypeError, OverflowError) as error:
                    result.rejected.append(Rejection(event, str(error), name))
                    continue
                seqs[name] = seq + 1
                writer.add(name, record, event)
            try:
                totals = writer.flush()
            except WriteFailed as error:
                raise StoreError(str(error)) from None
        result.written = dict(totals.written)
        result.rejected.extend(Rejection(r.ref, r.reason, r.table) for r in totals.rejected)
        return result
