"""Increments from the AWS pipeline: the aggregate objects the loader writes under ``aggregates/``.

No Timestream query at all: Timestream bills every query (a 30 s, 4-TCU minimum on newer
accounts), while a LIST and a few GETs cost a ten-thousandth of a cent. The loader writes one
aggregate per raw object, keyed by the object's delivery time (see
:func:`~dendro.metrics.aggregates.aggregate_key`), so keys sort by arrival.

Each poll lists keys from ``watermark − LATE_LOOKBACK`` on (one LIST request per 1,000 keys)
and reads those not read yet whose delivery time is settled (``< now − delay``, which leaves
the loader time to write them): delivered at or after the watermark, they are added; delivered
before it, they came too late and their events go to ``dendro_late_events_total`` (their
rejected counts are still added: ``dendro_rejected_events_total`` is not a RED metric of a
window, and each key is read once, so they are counted once either way). A key is
read once: a reprocessed object rewrites the same key and is not counted again. The watermark
advances only when the whole poll succeeded; a new source starts at ``now − delay``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from dendro.exporter.poller import PollResult, UsageRecorder
from dendro.metrics.aggregates import (
    AGGREGATES_PREFIX,
    Aggregate,
    AggregateError,
    key_prefix_at,
    key_time,
    parse,
)

log = logging.getLogger(__name__)

LATE_LOOKBACK = 600.0  # seconds of delivery time listed again to find late aggregate objects


class S3Source:
    """Polls the pipeline bucket's ``aggregates/`` prefix for RED increments."""

    def __init__(self, s3: Any, bucket: str, *, delay: float, usage: UsageRecorder,
                 clock: Callable[[], float] = time.time) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.delay = delay
        self.usage = usage
        self.clock = clock
        self.watermark = clock() - delay
        self.seen: dict[str, float] = {}  # key → delivery time, within the look-back
        self.undated: set[str] | None = None  # keys without a delivery time (known at the first poll)

    def _keys(self, start_after: str) -> Iterator[str]:
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": AGGREGATES_PREFIX,
                                      "StartAfter": start_after}
            if token:
                params["ContinuationToken"] = token
            page = self._call("ListObjectsV2", self.s3.list_objects_v2, **params)
            for item in page.get("Contents", ()):
                yield str(item["Key"])
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if not token:
                return

    def _call(self, operation: str, method: Callable[..., Any], **params: Any) -> Any:
        try:
            answer = method(**params)
        except Exception:
            self.usage(errors=1, s3={operation: 1})
            raise
        self.usage(s3={operation: 1})
        return answer

    def _read(self, key: str) -> Aggregate | None:
        answer = self._call("GetObject", self.s3.get_object, Bucket=self.bucket, Key=key)
        body = answer["Body"]
        try:
            data = body.read()
        finally:
            body.close()
        try:
            return parse(data)
        except AggregateError as error:  # a damaged object must not stop every later poll
            log.warning("skipping aggregate s3://%s/%s: %s", self.bucket, key, error)
            self.usage(errors=1)
            return None

    def poll(self) -> PollResult:
        end = self.clock() - self.delay
        if end <= self.watermark:
            return PollResult(Aggregate(), Counter(), self.watermark)
        aggregate = Aggregate()
        late: Counter[str] = Counter()
        seen = dict(self.seen)
        undated = set(self.undated or ())
        for key in self._keys(key_prefix_at(self.watermark - LATE_LOOKBACK)):
            delivered = self._delivery(key, seen, undated, end)
            if delivered is None:
                continue
            found = self._read(key)
            if found is None:
                continue
            if delivered >= self.watermark:
                aggregate.merge(found)
            else:
                late.update(found.events_by_table())
                aggregate.rejected.update(found.rejected)
        self.watermark = end
        self.seen = {k: t for k, t in seen.items() if t >= end - LATE_LOOKBACK}
        self.undated = undated
        return PollResult(aggregate, late, end)

    def _delivery(self, key: str, seen: dict[str, float], undated: set[str], end: float) -> float | None:
        """Delivery time of a key to read now (recorded in ``seen``), None to skip it."""
        delivered = key_time(key)
        if delivered is None:  # not a Firehose key: read once, when first listed after start
            first_poll, known = self.undated is None, key in undated
            undated.add(key)
            return None if first_poll or known else self.watermark
        if key in seen or delivered >= end:
            return None
        seen[key] = delivered
        return delivered
