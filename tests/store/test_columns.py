"""to_columns decides exactly as to_row: same rows, same rejections, same reasons, on random events."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dendro.services.base import Column, Table
from dendro.store.schema import ROW_ERRORS, reason_of, to_columns, to_row

TABLE = Table(
    "mixed",
    (
        Column("host", "VARCHAR"),
        Column("path", "VARCHAR"),
        Column("status", "BIGINT"),
        Column("bytes", "BIGINT"),
        Column("duration", "DOUBLE"),
        Column("ratio", "DOUBLE"),
        Column("ok", "BOOLEAN"),
        Column("seen", "TIMESTAMP"),
    ),
)

EDGE_INTS = [
    0, -1, 2**53, 2**53 + 1, -(2**53) - 1, 2**63 - 1, 2**63, -(2**63), 10**20, 10**400, 10**5000,
]
EDGE_FLOATS = [0.0, -0.0, 0.5, 1e16, 2.0**53, 2.0**63, 1e308, math.nan, math.inf, -math.inf, 1e-320]
EDGE_TEXT = [
    "", "web-1", "200", " 12 ", "1_000", "1e3", "nan", "inf", "-Infinity", "0x10", "abc", "é", "true",
]
STAMPS = [
    "2026-11-26T12:00:00Z", "2026-11-26T12:00:00.123456Z", "2026-11-26T12:00:00.1Z",
    "2026-11-26T12:00:00.1234567Z", "2026-02-30T12:00:00Z", "2026-11-26 12:00:00.5 UTC",
    "2026-11-26T14:00:00+02:00", "2026-11-26T12:00:00", "2026-11-26", " 2026-11-26T12:00:00Z ",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-11-26T24:00:00Z",
    "2026-11-26T12:00:60Z", "yesterday", "", "2026-11-26T12:00:00z", "20261126T120000Z",
    "2026-11-26T12:00:00ZZ", "2026-W48-4",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(EDGE_INTS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(EDGE_FLOATS),
    st.text(max_size=8),
    st.sampled_from(EDGE_TEXT),
)
values = st.one_of(
    scalars,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
stamps = st.one_of(
    st.sampled_from(STAMPS),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))])).map(
        lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.datetimes(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(),
    st.sampled_from([10**20, 1e20, True, None, [1], {}]),
    st.text(max_size=12),
)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "mixed", "timestamp": draw(stamps)}
    for column in TABLE.columns:
        if draw(st.booleans()):  # a typical event: the column's own type
            event[column.name] = draw(typical(column.type))
        elif draw(st.booleans()):
            event[column.name] = draw(values)
    if draw(st.booleans()):
        event["source_type"] = draw(values)
    return event


def typical(kind: str) -> st.SearchStrategy[Any]:
    return {
        "VARCHAR": st.text(max_size=6),
        "BIGINT": st.integers(min_value=-(2**60), max_value=2**60),
        "DOUBLE": st.floats(allow_nan=False, allow_infinity=False),
        "BOOLEAN": st.booleans(),
        "TIMESTAMP": st.sampled_from(STAMPS),
    }[kind]


def expected(event: dict[str, Any]) -> dict[str, Any] | str:
    try:
        return to_row(TABLE, event)
    except ROW_ERRORS as error:
        return reason_of(error)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b and (not isinstance(a, datetime) or a.utcoffset() == b.utcoffset())


def check(batch: list[dict[str, Any]]) -> None:
    columns = to_columns(TABLE, batch)
    rows = iter(zip(*columns.values, strict=True))
    for i, event in enumerate(batch):
        want = expected(event)
        if isinstance(want, str):
            assert columns.rejected.get(i) == want, (event, want)
            continue
        assert i not in columns.rejected, (event, columns.rejected.get(i))
        got = dict(zip(columns.names, next(rows), strict=True))
        assert got.keys() == want.keys()
        for name in got:
            assert same(got[name], want[name]), (event, name, got[name], want[name])
    assert next(rows, None) is None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events(), min_size=1, max_size=12))
def test_to_columns_equals_to_row_on_random_events(batch: list[dict[str, Any]]) -> None:
    check(batch)


@settings(max_examples=150, deadline=None)
@given(st.lists(events(), min_size=1, max_size=5), st.integers(min_value=0, max_value=30))
def test_one_odd_event_among_typical_ones(odd: list[dict[str, Any]], typical_count: int) -> None:
    plain = {"type": "mixed", "timestamp": "2026-11-26T12:00:00.5Z", "host": "web-1", "status": 200,
             "duration": 0.25, "ratio": 1, "ok": True}
    check([*([plain] * typical_count), *odd, plain])


def test_known_edges_by_hand() -> None:
    base = {"type": "mixed", "timestamp": "2026-11-26T12:00:00Z", "host": "web-1"}
    batch = [
        base | {"status": 2**53 + 1},  # to_row goes through float: 9007199254740992
        base | {"status": 2**63 - 1},  # rounds to 2**63: rejected
        base | {"status": True},
        base | {"duration": math.nan},
        base | {"duration": 10**400},  # OverflowError in to_row: rejected with its message
        base | {"timestamp": 1e20},
        base | {"host": ""},
        base | {"host": 0},
        base | {"path": 10**5000},  # str() refuses: rejected with its message
        base | {"duration": 3, "status": 200.0, "path": 12},
        base,
    ]
    check(batch)
    columns = to_columns(TABLE, batch)
    assert sorted(columns.rejected) == [1, 2, 3, 4, 5, 6, 8]
    assert columns.values[columns.names.index("status")][0] == 2**53
    assert columns.values[columns.names.index("duration")][2] == 3.0  # rows 0, 7 (host "0"), 9, 10
