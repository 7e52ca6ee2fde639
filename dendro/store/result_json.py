"""Query results as JSON, in the one form every reader of a result over HTTP gets.

The ingest's ``/query`` answer (which :class:`~dendro.store.remote.RemoteStore` reads back), the
console's ``/api/query`` answer and its JSON export all write values the same way (rows as lists
in column order; where rows are objects, :func:`row_keys` keeps columns of the same name apart): a timestamp
as ISO 8601 with a space (``2026-11-26 12:00:00.123456``), a date as ISO 8601, an interval as
seconds, a decimal as a float, bytes as UTF-8 text; everything else JSON has is written as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from dendro.store.base import QueryResult, ResultColumn

#: datetimes go through :func:`json_value` (orjson would write them with a ``T``)
OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_PASSTHROUGH_DATETIME


def json_value(value: Any) -> Any:
    """The JSON form of a value JSON has no type for."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def dumps(data: Any) -> bytes:
    """``data`` as JSON, its values written by :func:`json_value` where JSON has no type for them."""
    return orjson.dumps(data, default=json_value, option=OPTIONS)


def head(result: QueryResult) -> dict[str, Any]:
    """Everything about a result but its rows."""
    return {
        "columns": [{"name": c.name, "type": c.type} for c in result.columns],
        "truncated": result.truncated,
        "elapsed_seconds": result.elapsed_seconds,
        "bytes_scanned": result.bytes_scanned,
    }


def row_keys(columns: list[ResultColumn]) -> list[str]:
    """One key per column for rows written as objects: its name, with ``_2``, ``_3``… added to a
    name already taken (``SELECT 1 AS x, 2 AS x`` → ``x``, ``x_2``), so no column is lost."""
    keys: list[str] = []
    taken: set[str] = set()
    for column in columns:
        key, number = column.name, 1
        while key in taken:
            number += 1
            key = f"{column.name}_{number}"
        keys.append(key)
        taken.add(key)
    return keys


def dicts(result: QueryResult) -> list[dict[str, Any]]:
    """The rows as objects keyed by :func:`row_keys` (every column kept)."""
    keys = row_keys(result.columns)
    return [dict(zip(keys, row, strict=True)) for row in result.rows]


def to_json(result: QueryResult) -> bytes:
    """The whole result, rows as lists (the ingest's ``/query`` answer)."""
    return dumps({**head(result), "rows": [list(row) for row in result.rows]})


def from_json(answer: Mapping[str, Any]) -> QueryResult:
    """The result :func:`to_json` wrote, timestamps read back as datetimes."""
    columns = [ResultColumn(c["name"], c["type"]) for c in answer["columns"]]
    times = [i for i, c in enumerate(columns) if c.type == "TIMESTAMP"]
    rows = []
    for row in answer["rows"]:
        for i in times:
            if isinstance(row[i], str):
                row[i] = datetime.fromisoformat(row[i])
        rows.append(tuple(row))
    scanned = answer.get("bytes_scanned")
    return QueryResult(
        columns,
        rows,
        truncated=bool(answer.get("truncated")),
        elapsed_seconds=float(answer.get("elapsed_seconds", 0.0)),
        bytes_scanned=int(scanned) if scanned is not None else None,
    )
