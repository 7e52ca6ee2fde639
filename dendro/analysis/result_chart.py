"""A query result drawn as a line chart under its table, as Grafana's Explore draws one.

A result with a time column and numeric columns is a set of time series: one per numeric
column, or, when the result also has text columns (``host``, ``status`` class…), one per value
of those and numeric column (the long form of ``GROUP BY bin(time, 1m), host`` becomes one line
per host, as Grafana's SQL data sources turn long frames wide); more than :data:`MAX_LABELS`
text columns, or one with more than :data:`MAX_SERIES` values, means rows of events, not series,
and nothing is drawn. Each column's
kind (``time``, ``number``, ``text``) also tells the table how to show it: numbers right-aligned,
times on one line. With two numeric columns, the second has its own axis on the right (a count and a duration
on one axis would flatten the duration). Nothing is aggregated here: a series that has two rows
at one time keeps the last (the chart says how many), and a result too long or with too many
series to draw says so instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from dendro.analysis.ranges import epoch
from dendro.store.base import ResultColumn

Kind = Literal["time", "number", "text"]
#: rows a chart draws at most (more would be a long page for the browser, not more information)
MAX_ROWS = 20_000
MAX_SERIES = 20
#: text columns an aggregate's rows are grouped by at most (more: rows of events, not series)
MAX_LABELS = 3
NUMERIC = ("BIGINT", "INTEGER", "INT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT",
           "UTINYINT", "DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC")


def _by_type(type_name: str) -> Kind | None:
    name = type_name.upper()
    if name.startswith(("TIMESTAMP", "DATE")):
        return "time"
    if name.split("(")[0].strip() in NUMERIC:
        return "number"
    return None


def _by_value(values: Sequence[Any]) -> Kind:
    seen = [v for v in values if v is not None]
    if seen and all(isinstance(v, datetime | date) for v in seen):
        return "time"
    if seen and all(isinstance(v, int | float) and not isinstance(v, bool) for v in seen):
        return "number"
    return "text"


def kinds(columns: Sequence[ResultColumn], rows: Sequence[Sequence[Any]]) -> list[Kind]:
    """The kind of each column: by its type, else by its values (the first hundred rows)."""
    sample = rows[:100]
    return [_by_type(c.type) or _by_value([r[i] for r in sample]) for i, c in enumerate(columns)]


def _when(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    try:
        return epoch(value)
    except ValueError:
        return None


def chart(columns: Sequence[ResultColumn], rows: Sequence[Sequence[Any]]) -> dict[str, Any] | None:
    """The result as time series for uPlot (``x``, ``series``, ``time_column``, ``note``), or a
    ``note`` alone when it cannot be drawn; None when it is no time series at all."""
    found = kinds(columns, rows)
    if "time" not in found or "number" not in found:
        return None
    at = found.index("time")
    numbers = [i for i, k in enumerate(found) if k == "number"]
    labels = [i for i, k in enumerate(found) if k == "text"]
    if len(labels) > MAX_LABELS or any(len({row[i] for row in rows}) > MAX_SERIES for i in labels):
        return None  # rows of events (a path, a message per row), not series to draw
    if len(rows) > MAX_ROWS:
        return {"note": f"{len(rows):,} rows are too many to draw (at most {MAX_ROWS:,}): aggregate them,"
                        " e.g. GROUP BY bin(time, 1m)"}
    points: dict[str, dict[float, float | None]] = {}
    column_of: dict[str, str] = {}
    repeated = 0
    for row in rows:
        x = _when(row[at])
        if x is None:
            continue
        group = " ".join(str(row[i]) for i in labels)
        for i in numbers:
            name = " ".join(p for p in (group, columns[i].name if len(numbers) > 1 or not group else "") if p)
            series = points.setdefault(name, {})
            column_of[name] = columns[i].name
            repeated += x in series
            series[x] = float(row[i]) if row[i] is not None else None
    if len(points) > MAX_SERIES:
        return {"note": f"{len(points)} series are too many to draw (at most {MAX_SERIES}):"
                        " group by fewer columns"}
    xs = sorted({x for series in points.values() for x in series})
    note = ""
    if repeated:
        note = f"{repeated} row(s) share a time with another of their series: the chart shows the last"
    return {
        "time_column": columns[at].name,
        "x": xs,
        "series": [{"label": name or columns[numbers[0]].name, "column": column_of[name],
                    "values": [points[name].get(x) for x in xs]} for name in points],
        "note": note,
    }
