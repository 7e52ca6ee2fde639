"""HTTP status classes, defined once: the exporter's ``code`` label, the console's rate chart and
error ratio, and the local alert evaluator all read them from here.

A status code is three digits from 100 to 599 and its first digit is its class (RFC 9110,
section 15); anything else, or no status, is :data:`UNKNOWN`, never a class. An error is a
:data:`ERROR_CLASS` answer, as the Prometheus rules count it (``code="5xx"``).
:func:`status_class` classifies in Python (the exporter's aggregates), :func:`class_sql` and
:func:`error_sql` write the same rules in SQL (the console's queries).
"""

from __future__ import annotations

CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
UNKNOWN = "unknown"
ERROR_CLASS = "5xx"


def _bounds(name: str) -> tuple[int, int]:
    first = int(name[0]) * 100
    return first, first + 99


def status_class(status: int | None) -> str:
    """``code`` label of an HTTP status: 2xx, 4xx, 5xx…; ``unknown`` when absent or odd."""
    if status is None or not 100 <= status <= 599:
        return UNKNOWN
    return f"{status // 100}xx"


def class_sql(column: str) -> str:
    """SQL giving the class of the status in ``column`` (an expression, already quoted)."""
    cases = " ".join(f"WHEN {column} BETWEEN {low} AND {high} THEN '{name}'" for name in CLASSES
                     for low, high in [_bounds(name)])
    return f"CASE {cases} ELSE '{UNKNOWN}' END"


def error_sql(column: str) -> str:
    """SQL true for an error status (a 5xx) in ``column`` (an expression, already quoted)."""
    low, high = _bounds(ERROR_CLASS)
    return f"{column} BETWEEN {low} AND {high}"
