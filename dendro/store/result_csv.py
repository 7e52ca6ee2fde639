"""Query results as CSV, the one way the console's export and ``dendro query -f csv`` write it.

Values are written as the console's page shows them (a timestamp as ISO 8601 with a space, an
interval as seconds, a float by ``repr``, NULL as an empty cell). A text cell that a spreadsheet
would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is
prefixed with a single quote, as OWASP's "CSV Injection" page recommends; numbers stay numbers (a
negative number is data, not a formula). Column names are cells too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dendro.store.base import QueryResult

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: rows written between two chunks of a streamed export
CHUNK_ROWS = 1000


def cell_text(value: Any) -> str:
    """A value as the page and the CSV show it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value.total_seconds())
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_cell(value: Any) -> str:
    """A value as a CSV cell: numbers as numbers, text that could run as a formula neutralised."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | Decimal):
        return cell_text(value)
    text = cell_text(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def chunks(result: QueryResult) -> Iterator[str]:
    """The result as CSV (a header row, then every row; CRLF line ends), a thousand rows a chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(c.name) for c in result.columns])
    for i, row in enumerate(result.rows, start=1):
        writer.writerow([csv_cell(v) for v in row])
        if i % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
