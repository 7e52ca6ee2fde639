"""Events to rows: the one place that decides whether an event fits its table.

Both stores (DuckDB locally, Timestream through the loader) coerce events with
:func:`to_row`, so an event is accepted or rejected for the same reason everywhere. A reason
is a sentence a user can act on; it is stored with the raw event in ``rejected``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dendro.services.base import Column, Table


class Rejected(ValueError):
    """An event that fits no table; ``str()`` is the reason."""


def parse_time(value: Any) -> datetime:
    """An event timestamp (RFC 3339 string, epoch seconds or datetime) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise Rejected(f"timestamp {value!r} is not a time")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise Rejected(f"timestamp {value!r} is not a time")
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(" UTC"):  # vrl-python renders timestamps as "2026-01-01 00:00:00.5 UTC"
            text = text[:-4].replace(" ", "T") + "+00:00"
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise Rejected(f"timestamp {value!r} is not RFC 3339") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise Rejected("event has no timestamp")


def _coerce(column: Column, value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if kind == "VARCHAR":
        if isinstance(value, dict | list):
            raise Rejected(f"{column.name} must be a string, got {type(value).__name__}")
        return str(value)
    if kind == "BOOLEAN":
        if isinstance(value, bool):
            return value
        raise Rejected(f"{column.name} must be a boolean, got {value!r}")
    if kind == "TIMESTAMP":
        return parse_time(value)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Rejected(f"{column.name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise Rejected(f"{column.name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise Rejected(f"{column.name} must be a finite number, got {value!r}")
    if kind == "BIGINT":
        if number != int(number) or abs(number) >= 2**63:
            raise Rejected(f"{column.name} must be an integer, got {value!r}")
        return int(number)
    return number


def to_row(table: Table, event: Mapping[str, Any]) -> dict[str, Any]:
    """The row of ``table`` for ``event``: ``time`` plus every column (None where absent).

    Fields the table does not have are ignored (Vector adds its own, such as ``source_type``);
    a field of the wrong type, a missing timestamp or a missing host rejects the event.
    """
    row: dict[str, Any] = {"time": parse_time(event.get("timestamp"))}
    for column in table.columns:
        row[column.name] = _coerce(column, event.get(column.name))
    if "host" in row and not row["host"]:
        raise Rejected("event has no host")
    return row


def table_for(tables: Mapping[str, Table], event: Mapping[str, Any]) -> Table:
    """The table an event belongs to, by its ``type``."""
    kind = event.get("type")
    if not isinstance(kind, str) or not kind:
        raise Rejected("event has no type")
    try:
        return tables[kind]
    except KeyError:
        raise Rejected(f"unknown event type {kind!r}") from None
