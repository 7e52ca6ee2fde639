"""Rows to Timestream multi-measure records: keys, types, limits and truncation.

One row (``dendro.store.schema.to_row``) becomes one multi-measure record:

- dimensions: the table's dimension columns that have a value, plus ``object``, which says
  which raw object (and which thousand rows of it) the row came from;
- ``MeasureName``: the table name; measures: every other column that has a value;
- time in NANOSECONDS: the event's microsecond time followed by three digits of sequence.

Record keys (dimensions + measure name + time) are unique per event and identical on
reprocessing: the n-th row of a table in an object gets ``time = event_µs·1000 + n mod 1000``
and ``object = <16 hex of SHA-256 of bucket/key>.<n div 1000>``. Two events of one object differ
by n, so by the time digits or by the block; events of two objects differ by the hash. The
event's own time is untouched to the microsecond, so order between events is kept. A fixed
``Version`` (:data:`MAPPING_VERSION`) makes a reprocessed object an idempotent upsert; it is
raised when the mapping changes so that reloading an object updates its rows.

Timestream limits are enforced here by truncating with :data:`TRUNCATED` (values) or a short
hash (names), never by dropping a row.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dendro.services.base import Table
from dendro.store.schema import Rejected

#: raised when the mapping of rows to records changes, so reprocessing updates old rows
MAPPING_VERSION = 1
#: the extra dimension that keeps keys of different objects apart
OBJECT_DIMENSION = "object"
BLOCK = 1000  # rows per ``object`` dimension value: the three sub-microsecond digits

MAX_RECORDS_PER_REQUEST = 100
MAX_RECORD_BYTES = 2048
RECORD_BUDGET = 2000  # what we allow ourselves under MAX_RECORD_BYTES (size accounting slack)
MAX_VALUE_CHARS = 2048  # a measure value's length limit
MAX_DIMENSION_VALUE_BYTES = 256  # our own bound: dimensions are low-cardinality labels
MAX_DIMENSION_NAME_BYTES = 60
MAX_MEASURE_NAME_BYTES = 256
TRUNCATED = "…[truncated]"
_TRUNCATED_BYTES = len(TRUNCATED.encode())
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = datetime.resolution


def utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def clean(text: str) -> str:
    """``text`` without lone surrogates (JSON escapes can make them; UTF-8 cannot carry them)."""
    if text.isascii():
        return text
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode()
    return text


def truncate(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes, ending with the marker when cut."""
    raw = clean(text).encode()
    if len(raw) <= max_bytes:
        return text
    keep = max(0, max_bytes - _TRUNCATED_BYTES)
    return raw[:keep].decode("utf-8", "ignore") + TRUNCATED


def safe_name(name: str, max_bytes: int) -> str:
    """A column name within Timestream's name limit; a cut name keeps a hash so it stays unique."""
    if len(name.encode()) <= max_bytes:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return name.encode()[: max_bytes - 10].decode("utf-8", "ignore") + "~" + digest


def object_id(bucket: str, key: str) -> str:
    """16 hex digits naming a raw object (64 bits: collisions are not a practical concern)."""
    return hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()[:16]


def epoch_nanos(time: datetime, seq: int) -> int:
    """The record time: microseconds of the event, then ``seq mod 1000`` as nanoseconds."""
    micros = (time - _EPOCH) // _MICROSECOND
    return micros * 1000 + seq % BLOCK


def _value_text(kind: str, value: Any) -> str | None:
    if value is None:
        return None
    if kind == "VARCHAR":
        text = clean(str(value))
        return text if text else None  # Timestream refuses empty values: "" is stored as NULL
    if kind == "BIGINT":
        return str(int(value))
    if kind == "DOUBLE":
        number = float(value)
        return repr(number) if math.isfinite(number) else None
    if kind == "BOOLEAN":
        return "true" if value else "false"
    if kind == "TIMESTAMP":
        # multi-measure TIMESTAMP values are epoch milliseconds
        return str((value - _EPOCH) // (_MICROSECOND * 1000))
    raise Rejected(f"unsupported column type {kind}")


@dataclass(frozen=True)
class TableLayout:
    """How one table's rows become records: names fitted to the limits, types, dimensions."""

    table: Table
    measure_name: str
    dimensions: tuple[tuple[str, str], ...]  # (column, timestream name)
    measures: tuple[tuple[str, str, str], ...]  # (column, timestream name, type)

    @classmethod
    def of(cls, table: Table) -> TableLayout:
        return cls(
            table=table,
            measure_name=safe_name(table.name, MAX_MEASURE_NAME_BYTES),
            dimensions=tuple(
                (c.name, safe_name(c.name, MAX_DIMENSION_NAME_BYTES)) for c in table.dimensions
            ),
            measures=tuple(
                (c.name, safe_name(c.name, MAX_MEASURE_NAME_BYTES), c.type) for c in table.measures
            ),
        )


def to_record(layout: TableLayout, row: Mapping[str, Any], obj: str, seq: int) -> dict[str, Any]:
    """The full multi-measure record of ``row``, the ``seq``-th row of its table in object ``obj``.

    Raises Rejected when the row has no measure at all (Timestream needs one).
    """
    dimensions = []
    size = len(layout.measure_name) + 40  # time, object dimension, slack
    for column, name in layout.dimensions:
        value = row.get(column)
        if value is None or value == "":
            continue
        text = _text(value)
        if len(text) > MAX_DIMENSION_VALUE_BYTES // 4:
            text = truncate(text, MAX_DIMENSION_VALUE_BYTES)
        dimensions.append({"Name": name, "Value": text})
        size += utf8_len(name) + utf8_len(text)
    dimensions.append({"Name": OBJECT_DIMENSION, "Value": f"{obj}.{seq // BLOCK}"})
    measures = []
    for column, name, kind in layout.measures:
        value = row.get(column)
        if value is None:
            continue
        if kind == "VARCHAR":
            text = _text(value)
            if not text:
                continue  # Timestream refuses empty values: "" is stored as NULL
            if len(text) > MAX_VALUE_CHARS // 4:
                text = truncate(text, MAX_VALUE_CHARS)
        else:
            converted = _value_text(kind, value)
            if converted is None:
                continue
            text = converted
        measures.append({"Name": name, "Value": text, "Type": kind})
        size += utf8_len(name) + len(kind) + utf8_len(text)
    if not measures:
        raise Rejected(f"event has no value for any measure of {layout.table.name}")
    record = {
        "Dimensions": dimensions,
        "MeasureName": layout.measure_name,
        "MeasureValueType": "MULTI",
        "MeasureValues": measures,
        "Time": str(epoch_nanos(row["time"], seq)),
        "TimeUnit": "NANOSECONDS",
        "Version": MAPPING_VERSION,
    }
    if size > RECORD_BUDGET - 200:  # close to the limit: count exactly, shorten if needed
        _fit(record)
    return record


def _text(value: Any) -> str:
    text = value if type(value) is str else str(value)
    return text if text.isascii() else clean(text)


def record_size(record: Mapping[str, Any]) -> int:
    """Bytes a record counts against the 2 KB limit: its names and values, UTF-8 encoded."""
    size = len(record["MeasureName"]) + len(record["Time"]) + 8
    for item in record["Dimensions"]:
        size += utf8_len(item["Name"]) + utf8_len(item["Value"])
    for item in record["MeasureValues"]:
        size += utf8_len(item["Name"]) + utf8_len(item["Value"]) + len(item["Type"])
    return size


def _fit(record: dict[str, Any]) -> None:
    """Shrink the longest VARCHAR measures until the record fits the record size budget."""
    excess = record_size(record) - RECORD_BUDGET
    while excess > 0:
        texts = [m for m in record["MeasureValues"] if m["Type"] == "VARCHAR"]
        if not texts:
            raise Rejected("record exceeds 2 KB without any text to shorten")
        longest = max(texts, key=lambda m: utf8_len(m["Value"]))
        current = utf8_len(longest["Value"])
        target = max(current - excess, _TRUNCATED_BYTES + 1)
        if target >= current:
            raise Rejected("record exceeds 2 KB even with its texts shortened")
        longest["Value"] = truncate(longest["Value"], target)
        excess = record_size(record) - RECORD_BUDGET


def common_attributes(records: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Split a batch into CommonAttributes and the per-record rest, where that saves bytes.

    Everything equal across the batch moves to CommonAttributes: measure name, value type, time
    unit, version, and the dimensions every record carries with the same value.
    """
    first = records[0]
    shared_dims = [d for d in first["Dimensions"] if all(d in r["Dimensions"] for r in records[1:])]
    common: dict[str, Any] = {
        "MeasureName": first["MeasureName"],
        "MeasureValueType": "MULTI",
        "TimeUnit": "NANOSECONDS",
        "Version": first["Version"],
    }
    if shared_dims:
        common["Dimensions"] = shared_dims
    uniform = all(
        r["MeasureName"] == first["MeasureName"] and r["Version"] == first["Version"] for r in records
    )
    if not uniform:  # only one table's rows go in a batch; keep correct anyway
        return {}, records
    rest = []
    for record in records:
        own = {"MeasureValues": record["MeasureValues"], "Time": record["Time"]}
        dims = [d for d in record["Dimensions"] if d not in shared_dims]
        if dims:
            own["Dimensions"] = dims
        rest.append(own)
    return common, rest


def apply_common(common: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """The full record Timestream stores for ``record`` sent with ``common`` (as the service merges)."""
    full = {k: v for k, v in common.items() if k != "Dimensions"}
    full.update({k: v for k, v in record.items() if k != "Dimensions"})
    full["Dimensions"] = [*common.get("Dimensions", ()), *record.get("Dimensions", ())]
    return full
