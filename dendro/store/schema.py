"""Events to rows: the one place that decides whether an event fits its table.

Both stores (DuckDB locally, Timestream through the loader) coerce events with
:func:`to_row`, so an event is accepted or rejected for the same reason everywhere. A reason
is a sentence a user can act on; it is stored with the raw event in ``rejected``.
:func:`to_columns` applies the same rules to many events at once, column by column, for the
local store's ingest (a property test checks it against :func:`to_row`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dendro.services.base import Column, Table


class Rejected(ValueError):
    """An event that fits no table; ``str()`` is the reason."""


def _show(value: Any) -> str:
    """``repr`` for a reason, bounded (an int of 5,000 digits has no repr in Python 3.11+)."""
    try:
        text = repr(value)
    except ValueError:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    return text if len(text) <= 200 else text[:200] + "…"


def parse_time(value: Any) -> datetime:
    """An event timestamp (RFC 3339 string, epoch seconds or datetime) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise Rejected(f"timestamp {value!r} is not a time")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):  # NaN, inf, beyond year 9999
            raise Rejected(f"timestamp {_show(value)} is out of range") from None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(" UTC"):  # vrl-python renders timestamps as "2026-01-01 00:00:00.5 UTC"
            text = text[:-4].replace(" ", "T") + "+00:00"
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise Rejected(f"timestamp {_show(value)} is not RFC 3339") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise Rejected("event has no timestamp")


def _coerce(column: Column, value: Any) -> Any:
    try:
        return _convert(column, value)
    except (OverflowError, ValueError) as error:
        if isinstance(error, Rejected):
            raise
        # Python's own limits: str() of an int of 5,000 digits, float() of 10**400
        raise Rejected(f"{column.name} is out of range: {_show(value)}") from None


def _convert(column: Column, value: Any) -> Any:
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
        raise Rejected(f"{column.name} must be a boolean, got {_show(value)}")
    if kind == "TIMESTAMP":
        return parse_time(value)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Rejected(f"{column.name} must be a number, got {_show(value)}")
    try:
        number = float(value)
    except ValueError:
        raise Rejected(f"{column.name} must be a number, got {_show(value)}") from None
    if not math.isfinite(number):
        raise Rejected(f"{column.name} must be a finite number, got {_show(value)}")
    if kind == "BIGINT":
        if number != int(number) or abs(number) >= 2**63:
            raise Rejected(f"{column.name} must be an integer, got {_show(value)}")
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


# -- the same rules, column by column ---------------------------------------------------------

#: what :func:`to_row` raises for an event that fits no table (it turns Python's own conversion
#: limits — a year past 9999, an int of 5,000 digits, 1e400 as an int — into Rejected too; the
#: wider set stays as a guard); the loader rejects on the same set, with the same reason
ROW_ERRORS: tuple[type[Exception], ...] = (Rejected, ValueError, TypeError, OverflowError, OSError)

#: integers a float holds exactly: for these ``int(float(v)) == v``, so to_row keeps them as they are
_EXACT_INT = 2**53
_NONE = type(None)


def reason_of(error: Exception) -> str:
    """The reason stored with an event that :func:`to_row` refused (as the loader words it)."""
    return str(error) or type(error).__name__


@dataclass
class Columns:
    """The rows of one table for a list of events, column by column.

    ``values[0]`` is ``time``, then one list per column of the table, holding for each accepted
    event (in order) exactly what :func:`to_row` gives; ``rejected`` maps the index of every
    other event to its reason.
    """

    names: tuple[str, ...]
    values: list[list[Any]]
    rejected: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.values[0])


def to_columns(table: Table, events: Sequence[Mapping[str, Any]]) -> Columns:
    """:func:`to_row` for many events at once, column by column: same rows, same rejections.

    A value that already has its final type (a str for VARCHAR, an int a float holds exactly
    for BIGINT, a finite float or such an int for DOUBLE, a bool for BOOLEAN) is checked in
    bulk; an event with any other value is handed whole to :func:`to_row`, so every rejection
    and every coercion is to_row's own.
    """
    names = ("time", *(column.name for column in table.columns))
    fields = _fields(("timestamp", *names[1:]), events)
    slow: set[int] = set()
    values = [_times(fields[0], slow)]
    for column, given in zip(table.columns, fields[1:], strict=True):
        values.append(_column(column, given, slow))
    if "host" in names:
        hosts = values[names.index("host")]
        if not all(hosts):
            slow.update(i for i, host in enumerate(hosts) if not host)
    rejected: dict[int, str] = {}
    for i in sorted(slow):
        try:
            row = to_row(table, events[i])
        except ROW_ERRORS as error:
            rejected[i] = reason_of(error)
            continue
        for target, name in zip(values, names, strict=True):
            target[i] = row[name]
    if rejected:
        keep = [i for i in range(len(events)) if i not in rejected]
        values = [[target[i] for i in keep] for target in values]
    return Columns(names, values, rejected)


def _fields(names: tuple[str, ...], events: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    return [[event.get(name) for event in events] for name in names]


def _times(stamps: list[Any], slow: set[int]) -> list[Any]:
    if set(map(type, stamps)) == {str}:
        # datetime.fromisoformat reads "...Z" itself: where it succeeds with a zone, parse_time
        # (which also takes " UTC", spaces, and no zone) gives the same datetime
        try:
            parsed = list(map(datetime.fromisoformat, stamps))
        except ValueError:
            parsed = None
        if parsed is not None and not any(stamp.tzinfo is None for stamp in parsed):
            return parsed
    result: list[Any] = []
    append = result.append
    for i, stamp in enumerate(stamps):
        try:
            append(parse_time(stamp))
        except ROW_ERRORS:
            slow.add(i)
            append(None)
    return result


def _column(column: Column, values: list[Any], slow: set[int]) -> list[Any]:
    """The column's values, marking in ``slow`` every event whose value is not final already."""
    kind = column.type
    types = set(map(type, values))
    types.discard(_NONE)
    if kind == "VARCHAR" and types <= {str}:
        return values
    if kind == "BOOLEAN" and types <= {bool}:
        return values
    if kind == "BIGINT" and types <= {int} and _exact_ints(values):
        return values
    if kind == "DOUBLE" and types <= {float} and _finite(values):
        return values
    return _by_value(kind, values, slow)


def _present(values: list[Any]) -> list[Any]:
    return [v for v in values if v is not None]


def _exact_ints(values: list[int | None]) -> bool:
    present = _present(values)
    return not present or (min(present) >= -_EXACT_INT and max(present) <= _EXACT_INT)


def _finite(values: list[float | None]) -> bool:
    # a NaN or an infinity makes the sum NaN or infinite; so may an overflow (then value by value)
    return math.isfinite(sum(_present(values)))


def _by_value(kind: str, values: list[Any], slow: set[int]) -> list[Any]:
    result = list(values)
    for i, value in enumerate(values):
        actual = type(value)
        if value is None:
            continue
        if (kind == "VARCHAR" and actual is str) or (kind == "BOOLEAN" and actual is bool):
            continue
        if kind in ("BIGINT", "DOUBLE") and actual is int and -_EXACT_INT <= value <= _EXACT_INT:
            if kind == "DOUBLE":
                result[i] = float(value)
            continue
        if kind == "DOUBLE" and actual is float and math.isfinite(value):
            continue
        slow.add(i)
    return result
