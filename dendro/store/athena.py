"""The athena store's implementation of the Store protocol: Dendro's SQL run by Amazon Athena.

A query is parsed and checked as the local store does it, translated to Trino
(:mod:`dendro.store.athena_sql`, with ``date`` partition bounds so Athena reads only the dates a
query can match) and run in the pipeline's workgroup (which enforces its results location and
its bytes-scanned cutoff): ``StartQueryExecution``, ``GetQueryExecution`` polled with backoff
until it ends, then ``GetQueryResults`` pages (the first row of a SELECT's first page is the
header). Values are typed from the result's column types; ``bytes_scanned`` is Athena's
``DataScannedInBytes`` (what it bills, at least 10 MB a query). A row cap stops the query.

Writes are the loader's job on AWS (:mod:`dendro.pipeline.athena_loader`): ``write`` refuses.
``tables``/``describe`` answer from the catalog without a billed query.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from dendro.services.base import Table
from dendro.store import athena_sql, fetch
from dendro.store.base import QueryError, QueryResult, ResultColumn, StoreError, WriteResult

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
#: Athena's result type names → the Store's
TYPES = {
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "bigint": "BIGINT",
    "integer": "BIGINT",
    "smallint": "BIGINT",
    "tinyint": "BIGINT",
    "double": "DOUBLE",
    "float": "DOUBLE",
    "real": "DOUBLE",
    "decimal": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMP",
    "date": "DATE",
}


def client(region: str | None = None, endpoint_url: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=10, read_timeout=60, retries={"mode": "standard"})
    return boto3.client("athena", region_name=region, endpoint_url=endpoint_url, config=config)


def _timestamp(text: str) -> datetime:
    day, _, clock = text.strip().partition(" ")
    clock = clock.split(" ")[0]  # "… UTC" of a zoned timestamp
    whole, _, fraction = clock.partition(".")
    return datetime.fromisoformat(f"{day}T{whole}.{(fraction + '000000')[:6]}").replace(tzinfo=UTC)


def value(kind: str, text: str | None) -> Any:
    """The Python value of one result cell (Athena sends every value as text, NULL as absent)."""
    if text is None:
        return None
    if kind == "BIGINT":
        return int(text)
    if kind == "DOUBLE":
        return float(Decimal(text)) if text not in ("NaN", "Infinity", "-Infinity") else float(text)
    if kind == "BOOLEAN":
        return text.lower() == "true"
    if kind == "TIMESTAMP":
        return _timestamp(text)
    if kind == "DATE":
        return date.fromisoformat(text)
    return text


class AthenaStore:
    """One pipeline's tables in Glue, queried through its Athena workgroup."""

    def __init__(
        self,
        database: str,
        tables: Mapping[str, Table],
        *,
        glue_database: str | None = None,
        workgroup: str | None = None,
        athena: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_s: float = 300.0,
    ) -> None:
        self.database = database
        self.glue_database = glue_database or database.replace("-", "_")
        self.workgroup = workgroup or database
        self.schemas = dict(tables)
        self._athena = athena
        self._made = athena is None
        self._region, self._endpoint_url = region, endpoint_url
        self.sleep = sleep
        self.max_wait_s = max_wait_s
        self.queries = 0
        self.bytes_scanned = 0

    @property
    def athena(self) -> Any:
        if self._athena is None:
            self._athena = client(self._region, self._endpoint_url)
        return self._athena

    def translate(self, sql: str) -> str:
        """The Trino SQL Athena runs for ``sql`` (QueryError when it is not a read of this store)."""
        statement = athena_sql.prepare(sql, self.database, self.glue_database, self.schemas)
        if statement.kind != "select":
            raise QueryError("SHOW and DESCRIBE are answered by the store, not translated")
        return statement.sql

    def query(self, sql: str, *, max_rows: int | None = None, max_bytes: int | None = None) -> QueryResult:
        statement = athena_sql.prepare(sql, self.database, self.glue_database, self.schemas)
        if statement.kind == "show_tables":
            return QueryResult([ResultColumn("Table", "VARCHAR")], [(t,) for t in self.tables()])
        if statement.kind == "show_databases":
            return QueryResult([ResultColumn("Database", "VARCHAR")], [(self.database,)])
        if statement.kind == "describe":
            rows = [(c.name, c.type) for c in self.describe(statement.table)]
            return QueryResult([ResultColumn("Column", "VARCHAR"), ResultColumn("Type", "VARCHAR")], rows)
        return self._run(statement.sql, max_rows, max_bytes)

    def _run(self, sql: str, max_rows: int | None, max_bytes: int | None = None) -> QueryResult:
        from botocore.exceptions import BotoCoreError, ClientError

        started = time.monotonic()
        self.queries += 1
        try:
            query_id = self.athena.start_query_execution(
                QueryString=sql,
                QueryExecutionContext={"Database": self.glue_database, "Catalog": "AwsDataCatalog"},
                WorkGroup=self.workgroup,
            )["QueryExecutionId"]
            execution = self._wait(query_id)
            columns, rows, truncated = self._results(query_id, max_rows, max_bytes)
        except ClientError as error:
            info = error.response.get("Error", {})
            if info.get("Code") == "InvalidRequestException":
                raise QueryError(info.get("Message", "Athena refused the query")) from None
            raise StoreError(f"Athena query failed ({info.get('Code')}): {info.get('Message')}") from None
        except BotoCoreError as error:
            raise StoreError(f"Athena query failed: {error}") from None
        scanned = execution.get("Statistics", {}).get("DataScannedInBytes")
        if scanned is not None:
            self.bytes_scanned += int(scanned)
        return QueryResult(
            columns, rows, truncated, time.monotonic() - started, None if scanned is None else int(scanned)
        )

    def _wait(self, query_id: str) -> dict[str, Any]:
        """Poll until the query ends (0.1 s, doubling to 2 s); its execution, or QueryError."""
        deadline = time.monotonic() + self.max_wait_s
        pause = 0.1
        while True:
            execution = self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            status = execution.get("Status", {})
            state = status.get("State")
            if state == "SUCCEEDED":
                return dict(execution)
            if state in TERMINAL:
                raise QueryError(status.get("StateChangeReason") or f"the query was {state.lower()}")
            if time.monotonic() > deadline:
                self.athena.stop_query_execution(QueryExecutionId=query_id)
                raise StoreError(f"the Athena query ran past {self.max_wait_s:.0f} s and was stopped")
            self.sleep(pause)
            pause = min(pause * 2, 2.0)

    def _results(
        self, query_id: str, max_rows: int | None, max_bytes: int | None = None
    ) -> tuple[list[ResultColumn], list[tuple[Any, ...]], bool]:
        cap = fetch.Cap(max_rows, max_bytes)  # rows and bytes, as every store cuts a result
        columns: list[ResultColumn] = []
        rows: list[tuple[Any, ...]] = []
        header = True
        for page in self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
            if not columns:
                info = page.get("ResultSet", {}).get("ResultSetMetadata", {}).get("ColumnInfo", [])
                columns = [
                    ResultColumn(i["Name"], TYPES.get(i.get("Type", "varchar").lower(), "VARCHAR"))
                    for i in info
                ]
            for row in page.get("ResultSet", {}).get("Rows", []):
                cells = [d.get("VarCharValue") for d in row.get("Data", [])]
                if header:  # a SELECT's first row repeats the column names
                    header = False
                    if cells == [c.name for c in columns]:
                        continue
                values = tuple(value(c.type, cell) for c, cell in zip(columns, cells, strict=False))
                if not cap.take(values):
                    return columns, rows, True
                rows.append(values)
        return columns, rows, False

    def tables(self) -> list[str]:
        return sorted(self.schemas)

    def describe(self, table: str) -> list[ResultColumn]:
        schema = self.schemas.get(table)
        if schema is None:
            raise QueryError(f"unknown table {table!r}")
        return [ResultColumn("time", "TIMESTAMP"), *(ResultColumn(c.name, c.type) for c in schema.columns)]

    def write(self, events: Iterable[Mapping[str, Any]]) -> WriteResult:
        raise StoreError("the athena store is written by the pipeline's loader: send events through Firehose")

    def close(self) -> None:
        if self._made and self._athena is not None:
            self._athena.close()
            self._athena = None
