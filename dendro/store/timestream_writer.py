"""Write Timestream records: batches of 100, CommonAttributes, requests in flight, retries.

:class:`RecordWriter` takes records one by one (each with a reference the caller gets back if
the record is rejected), groups them per table into WriteRecords calls of at most 100 records,
moves what the records of a batch share into CommonAttributes, keeps up to ``max_inflight``
calls running at once, and retries throttling, 5xx answers and connection errors with
exponential backoff and full jitter until a deadline.

A RejectedRecordsException means the other records of the batch were written: only the
rejected ones come back, with Timestream's reason, and the batch is never sent again. A
ValidationException is isolated by sending the batch's records one by one; a missing table
rejects the batch with a reason a user can act on. Anything else (access denied, retries
exhausted) raises :class:`WriteFailed`: the caller's whole object is then retried, which is
safe because records are idempotent.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from dendro.store.timestream_records import MAX_RECORDS_PER_REQUEST, common_attributes

RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


class WriteFailed(Exception):
    """Records could not be written and retrying later is the answer; ``str()`` says why."""


@dataclass
class Rejected:
    ref: Any
    table: str
    reason: str


@dataclass
class WriteTotals:
    written: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    calls: int = 0
    retries: int = 0

    def merge(self, other: WriteTotals) -> None:
        for table, count in other.written.items():
            self.written[table] = self.written.get(table, 0) + count
        self.rejected.extend(other.rejected)
        self.calls += other.calls
        self.retries += other.retries


@dataclass
class Backoff:
    """Exponential backoff with full jitter, bounded by attempts and a deadline."""

    base: float = 0.05
    cap: float = 5.0
    max_attempts: int = 10
    deadline: Callable[[], float] | None = None  # seconds left, e.g. from the Lambda context
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = random.random

    def wait(self, attempt: int, why: str) -> None:
        if attempt + 1 >= self.max_attempts:
            raise WriteFailed(f"gave up after {attempt + 1} attempts: {why}")
        delay = self.rng() * min(self.cap, self.base * 2**attempt)
        if self.deadline is not None and self.deadline() < delay + 1.0:
            raise WriteFailed(f"no time left to retry: {why}")
        self.sleep(delay)


class RecordWriter:
    """Batches and writes records of one database; use as a context manager or call close()."""

    def __init__(
        self,
        client: Any,
        database: str,
        *,
        max_inflight: int = 8,
        backoff: Backoff | None = None,
        use_common_attributes: bool = True,
    ) -> None:
        self.client = client
        self.database = database
        self.max_inflight = max(1, max_inflight)
        self.backoff = backoff or Backoff()
        self.use_common_attributes = use_common_attributes
        self.totals = WriteTotals()
        self._batches: dict[str, tuple[list[dict[str, Any]], list[Any]]] = {}
        self._pool = ThreadPoolExecutor(max_workers=self.max_inflight, thread_name_prefix="dendro-write")
        self._inflight: set[Future[WriteTotals]] = set()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, table: str, record: dict[str, Any], ref: Any = None) -> None:
        records, refs = self._batches.setdefault(table, ([], []))
        records.append(record)
        refs.append(ref)
        if len(records) >= MAX_RECORDS_PER_REQUEST:
            del self._batches[table]
            self._submit(table, records, refs)

    def flush(self) -> WriteTotals:
        """Send what is buffered, wait for every call, and return the totals so far."""
        for table, (records, refs) in list(self._batches.items()):
            self._submit(table, records, refs)
        self._batches.clear()
        while self._inflight:
            self._collect(wait(self._inflight).done)
        return self.totals

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, table: str, records: list[dict[str, Any]], refs: list[Any]) -> None:
        if self.max_inflight == 1:  # one request at a time: no thread hand-offs
            self.totals.merge(self.write_batch(table, records, refs))
            return
        while len(self._inflight) >= self.max_inflight:
            self._collect(wait(self._inflight, return_when=FIRST_COMPLETED).done)
        self._inflight.add(self._pool.submit(self.write_batch, table, records, refs))

    def _collect(self, done: set[Future[WriteTotals]]) -> None:
        for future in done:
            self._inflight.discard(future)
            self.totals.merge(future.result())  # a WriteFailed propagates to the caller

    def write_batch(self, table: str, records: Sequence[dict[str, Any]], refs: Sequence[Any]) -> WriteTotals:
        """One WriteRecords call for ≤ 100 records of ``table`` (retried); the outcome per record."""
        totals = WriteTotals()
        request: dict[str, Any] = {"DatabaseName": self.database, "TableName": table}
        if self.use_common_attributes:
            common, rest = common_attributes(list(records))
            if common:
                request["CommonAttributes"] = common
            request["Records"] = rest
        else:
            request["Records"] = list(records)
        while True:
            totals.calls += 1
            try:
                self.client.write_records(**request)
            except ClientError as error:
                outcome = self._on_error(error, table, records, refs, totals)
                if outcome is not None:
                    return outcome
            except (ConnectionError, HTTPClientError) as error:
                self.backoff.wait(totals.retries, f"connection error writing to {table}: {error}")
            else:
                totals.written[table] = totals.written.get(table, 0) + len(records)
                return totals
            totals.retries += 1

    def _on_error(
        self,
        error: ClientError,
        table: str,
        records: Sequence[dict[str, Any]],
        refs: Sequence[Any],
        totals: WriteTotals,
    ) -> WriteTotals | None:
        """The outcome of a failed call, or None after waiting to retry it."""
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "") or code
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code == "RejectedRecordsException":
            reasons = {
                int(item.get("RecordIndex", -1)): _rejection_reason(item)
                for item in error.response.get("RejectedRecords", [])
            }
            for index, reason in sorted(reasons.items()):
                if 0 <= index < len(records):
                    totals.rejected.append(Rejected(refs[index], table, reason))
            written = len(records) - sum(1 for i in reasons if 0 <= i < len(records))
            totals.written[table] = totals.written.get(table, 0) + written
            return totals
        if code in RETRYABLE_CODES or status >= 500:
            self.backoff.wait(totals.retries, f"{code or status} writing to {table}: {message}")
            return None
        if code == "ValidationException" and len(records) > 1:
            for record, ref in zip(records, refs, strict=True):
                totals.merge(self.write_batch(table, [record], [ref]))
            return totals
        if code in ("ValidationException", "ResourceNotFoundException"):
            reason = f"Timestream refused the record: {message}"
            if code == "ResourceNotFoundException":
                reason = f"table {table} does not exist in database {self.database}: {message}"
            totals.rejected.extend(Rejected(ref, table, reason) for ref in refs)
            return totals
        raise WriteFailed(f"writing to {self.database}.{table} failed: {code}: {message}") from error


def _rejection_reason(item: dict[str, Any]) -> str:
    reason = str(item.get("Reason") or "rejected by Timestream")
    if "ExistingVersion" in item:
        reason += f" (existing version {item['ExistingVersion']})"
    return reason
