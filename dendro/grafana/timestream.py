"""A grafanalib-style target for the ``grafana-timestream-datasource`` plugin.

The plugin's query model (its ``TimestreamQuery`` / backend ``QueryModel``): ``rawQuery`` (Timestream
SQL with the plugin's macros and dashboard variables), ``format`` (0 table, 1 time series: the
plugin's ``FormatOptions { Table, TimeSeries }``; with 1 the backend turns a long frame into a wide
one, which fails on rows not in ascending time), and ``database`` / ``table`` / ``measure``, which
fill ``$__database`` / ``$__table`` / ``$__measure`` (falling back to the datasource's defaults).
The backend expands ``$__timeFilter`` into ``time BETWEEN from_milliseconds(<from>) AND
from_milliseconds(<to>)`` and ``$__interval_ms`` into a duration literal such as ``60000ms``;
:mod:`dendro.grafana.macros` does the same for tests and docs. The plugin version these facts come
from is pinned in tests/grafana/test_upstream.py.

Like grafanalib's classes, a target is validated when it is built: an unknown macro, a query
that is not bounded by the dashboard's time range (Timestream bills every query by the compute
it takes, so every panel reads only the range on screen), a time series without ``ORDER BY``,
or a time series whose first column is not ``time`` fails at once, not in Grafana.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attr

from dendro.alerts.datasources import TIMESTREAM_UID

PLUGIN_TYPE = "grafana-timestream-datasource"
#: the plugin's format values (``FormatOptions``: Table = 0, TimeSeries = 1)
TABLE = 0
TIME_SERIES = 1
FORMATS = (TABLE, TIME_SERIES)

#: the macros the plugin's backend expands (its ``macroFuncs``)
MACROS = frozenset({
    "$__database", "$__table", "$__measure", "$__timeFilter", "$__timeFrom", "$__timeTo",
    "$__interval", "$__interval_ms", "$__interval_raw_ms", "$__now_ms",
})
MACRO_RE = re.compile(r"\$__\w+")
COLUMN_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


def _check_query(instance: TimestreamTarget, attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("rawQuery must be a non-empty SQL text")
    unknown = sorted(set(MACRO_RE.findall(value)) - MACROS)
    if unknown:
        known = ", ".join(sorted(MACROS))
        raise ValueError(f"rawQuery uses unknown macro(s) {', '.join(unknown)} (known: {known})")
    if "$__timeFilter" not in value and "$__timeFrom" not in value:
        raise ValueError("rawQuery must be bounded by the dashboard's range ($__timeFilter): Timestream bills"
                         " every query")


def _check_format(instance: TimestreamTarget, attribute: Any, value: int) -> None:
    if value not in FORMATS:
        raise ValueError(f"format must be 0 (table) or 1 (time series), got {value!r}")


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _check_columns(instance: TimestreamTarget, attribute: Any, value: tuple[str, ...]) -> None:
    if not value:
        raise ValueError("columns: name the columns the query returns, in order")
    bad = [c for c in value if not COLUMN_RE.match(c)]
    if bad:
        raise ValueError(f"columns: {bad} are not plain lowercase names")


@attr.s(frozen=True, auto_attribs=True)
class TimestreamTarget:
    """One Timestream query of a panel.

    ``columns`` names what the query returns, in order; it is not part of the plugin's model
    (``to_json_data`` leaves it out) but the tests run every query and compare.
    """

    rawQuery: str = attr.ib(validator=_check_query)
    columns: tuple[str, ...] = attr.ib(converter=_names, validator=_check_columns)
    format: int = attr.ib(default=TABLE, validator=_check_format)
    refId: str = attr.ib(default="A", validator=attr.validators.matches_re(r"^[A-Z]$"))
    database: str = "$database"
    table: str = ""
    measure: str = ""
    datasource: str = TIMESTREAM_UID
    hide: bool = False

    def __attrs_post_init__(self) -> None:
        if self.format == TIME_SERIES:
            if self.columns[0] != "time":
                raise ValueError(f"a time series query returns time first, not {self.columns[0]!r}")
            if not re.search(r"ORDER\s+BY", self.rawQuery, re.IGNORECASE):
                raise ValueError("a time series query must ORDER BY time (the plugin needs ascending times)")

    def to_json_data(self) -> dict[str, Any]:
        return {
            "datasource": {"type": PLUGIN_TYPE, "uid": self.datasource},
            "refId": self.refId,
            "rawQuery": self.rawQuery,
            "format": self.format,
            "database": self.database,
            "table": self.table,
            "measure": self.measure,
            "hide": self.hide,
        }
