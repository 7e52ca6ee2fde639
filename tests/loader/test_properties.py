"""Property tests: bad data never makes the loader raise, and every input line is accounted for."""

from __future__ import annotations

import gzip
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dendro.metrics.aggregates import aggregate_key
from dendro.pipeline.loader import rejected_key
from dendro.store.timestream_records import MAX_RECORD_BYTES, MAX_VALUE_CHARS, record_size
from tests.loader.helpers import FakeTimestream, access, concatenated, fake_loader, ndjson, record_key

KEY = "raw/2026/11/26/12/dendro-1-2026-11-26-12-00-05-abc"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
field_values = st.one_of(
    json_values,
    st.text(min_size=0, max_size=5000),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(["2026-11-26T12:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", 1e300, -1e20]),
)


@st.composite
def events(draw: Any) -> dict[str, Any]:
    event = access(second=draw(st.integers(0, 59)))
    for name in draw(st.lists(st.sampled_from(sorted(event)), max_size=4)):
        event[name] = draw(field_values)
    return event


def check(data: bytes) -> tuple[Any, Any, Any]:
    loader, s3, ts = fake_loader({("b", KEY): data})
    summary = loader.load_object("b", KEY)
    rejected = s3.lines("b", rejected_key(KEY))
    stored = [r for table in ts.tables.values() for r in table.values()]
    assert summary.lines == summary.written + summary.rejected + summary.copies
    assert summary.rejected == len(rejected)
    assert summary.written == len(stored)  # no key was shared by two events
    assert ts.rejected_writes == 0
    for record in stored:
        assert record_size(record) <= MAX_RECORD_BYTES
        assert all(len(m["Value"]) <= MAX_VALUE_CHARS for m in record["MeasureValues"])
    return summary, rejected, stored


@FAST
@given(st.binary(max_size=3000))
def test_arbitrary_bytes(data: bytes) -> None:
    check(data)


@FAST
@given(st.lists(events(), max_size=12), st.booleans(), st.booleans(), st.data())
def test_events_any_encoding_and_truncation(
    items: list[dict[str, Any]], gz: bool, concat: bool, data: Any
) -> None:
    body = (concatenated if concat else ndjson)(items)
    body = gzip.compress(body) if gz else body
    cut = data.draw(st.integers(0, len(body)))
    truncated = data.draw(st.booleans())
    summary, _, _ = check(body[:cut] if truncated else body)
    if not truncated:
        assert summary.lines == len(items)


@FAST
@given(st.lists(events(), min_size=1, max_size=6), st.binary(min_size=1, max_size=40), st.integers(0, 10**6))
def test_invalid_utf8_inside_lines(items: list[dict[str, Any]], junk: bytes, where: int) -> None:
    body = bytearray(ndjson(items))
    position = where % len(body)
    body[position:position] = b"\xff\xfe" + junk
    check(bytes(body))


def test_huge_fields_are_truncated_with_a_marker() -> None:
    event = access(path="/" + "é" * 5000, user_agent="u" * 3000, referer="r" * 3000)
    _, rejected, stored = check(ndjson([event]))
    assert rejected == []
    values = {m["Name"]: m["Value"] for m in stored[0]["MeasureValues"]}
    assert values["path"].endswith("…[truncated]")
    assert record_size(stored[0]) <= MAX_RECORD_BYTES


def test_a_record_far_beyond_firehose_limits_is_rejected_not_buffered() -> None:
    body = b'{"type":"nginx_access","path":"' + b"x" * (3 << 20) + b'"}' + json.dumps(access()).encode()
    _, rejected, stored = check(body)
    assert len(stored) == 1
    assert any("longer than" in r["reason"] for r in rejected)


def test_many_identical_lines_in_one_second_are_distinct_records() -> None:
    summary, _, stored = check(ndjson([access(second=7)] * 2500))
    assert summary.written == 2500
    assert len({record_key(r) for r in stored}) == 2500
    times = sorted(int(r["Time"]) for r in stored)
    assert times[-1] - times[0] < 1000  # all within the event's own microsecond


def test_the_same_object_twice_is_idempotent_with_timestream_semantics() -> None:
    body = ndjson([access(second=s % 3, path=f"/p{s % 5}") for s in range(1200)])
    ts = FakeTimestream()
    first, _, _ = fake_loader({("b", KEY): body}, ts)
    first.load_object("b", KEY)
    snapshot = {k: dict(v) for k, v in ts.tables.items()}
    again, _, _ = fake_loader({("b", KEY): body}, ts)
    summary = again.load_object("b", KEY)
    assert summary.rejected == 0 and ts.rejected_writes == 0
    assert ts.tables == snapshot
    assert len(ts.tables["nginx_access"]) == 1200


def test_two_objects_with_the_same_lines_never_share_keys() -> None:
    body = ndjson([access(second=1)] * 10)
    ts = FakeTimestream()
    loader, _, _ = fake_loader({("b", KEY): body, ("b", KEY + "2"): body}, ts)
    loader.load_object("b", KEY)
    loader.load_object("b", KEY + "2")
    assert len(ts.tables["nginx_access"]) == 20 and ts.rejected_writes == 0


def test_a_batch_the_agent_sent_again_is_written_once() -> None:
    """Firehose refused part of a batch (throttling): Vector sends the whole batch again
    (request_retry_partial), so the records it had accepted come twice, in the same buffer, so the
    same object. With the agent's event ids the copies are left out and counted (``copies``), the
    RED aggregate counts each request once; identical lines with other ids stay apart."""
    batch = [dict(access(second=s % 60, path=f"/p{s % 7}", status=500 if s % 50 == 0 else 200),
                  dendro_id=f"{s:032x}") for s in range(300)]
    batch += [dict(access(second=5), dendro_id=f"same-line-{n}") for n in range(3)]  # three real requests
    accepted_first = batch[:280]
    loader, s3, ts = fake_loader({("b", KEY): ndjson(accepted_first + batch)})
    summary = loader.load_object("b", KEY)
    assert (summary.written, summary.copies, summary.rejected) == (303, 280, 0)
    assert len(ts.tables["nginx_access"]) == 303
    cells = json.loads(s3.objects[("b", aggregate_key(KEY))])
    assert sum(n for c in cells["cells"] for _, _, n in c["requests"]) == 303
