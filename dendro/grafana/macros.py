"""What Grafana and the Timestream plugin do to a query before Timestream sees it, and the same
for PromQL: shared by the tests (which run every panel's query) and the docs.

Two steps, in Grafana's order:

1. the frontend replaces dashboard variables (``$host``, ``${host}``); the Timestream plugin
   formats a multi-value variable as quoted SQL literals (``'web-1','web-2'``), Prometheus as a
   regex alternation (``web-1|web-2``); the ``$__`` names are left for the backend;
2. the plugin's backend expands its macros: ``$__database`` / ``$__table`` / ``$__measure`` from
   the target (or the datasource defaults), ``$__timeFilter`` → ``time BETWEEN
   from_milliseconds(<from>) AND from_milliseconds(<to>)``, ``$__timeFrom`` / ``$__timeTo`` →
   epoch milliseconds of the range, ``$__now_ms`` → the plugin's clock in epoch milliseconds
   (here: the end of the range, so a test is repeatable), ``$__interval_ms`` and ``$__interval``
   → a duration literal (``60000ms``), ``$__interval_raw_ms`` → the number of milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from dendro.grafana.timestream import TimestreamTarget
from dendro.store.sql import literal

Value = str | Sequence[str]
VARIABLE_RE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


@dataclass(frozen=True)
class Range:
    """A dashboard's time range, its panel interval and the variables' values."""

    start: datetime
    end: datetime
    interval_ms: int = 60_000
    variables: Mapping[str, Value] = field(default_factory=dict)
    database: str = ""  # the datasource's defaultDatabase


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _sql_value(value: Value) -> str:
    if isinstance(value, str):
        return value
    return ",".join(literal(v) for v in value)


def _prom_value(value: Value) -> str:
    if isinstance(value, str):
        return value
    return value[0] if len(value) == 1 else "(" + "|".join(re.escape(v) for v in value) + ")"


def variables(text: str, values: Mapping[str, Value], prometheus: bool = False) -> str:
    """Replace dashboard variables as Grafana's frontend does; ``$__`` names stay as they are."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name.startswith("__") or name not in values:
            return match.group(0)
        value = values[name]
        return _prom_value(value) if prometheus else _sql_value(value)

    return VARIABLE_RE.sub(replace, text)


def _or_default(value: str, default: str) -> str:
    return default if not value or value.startswith("${") else value


def expand_sql(target: TimestreamTarget, window: Range) -> str:
    """The SQL Timestream receives for this target over this range."""
    sql = variables(target.rawQuery, window.variables)
    names = {
        "$__database": _or_default(variables(target.database, window.variables), window.database),
        "$__table": variables(target.table, window.variables),
        "$__measure": variables(target.measure, window.variables),
        "$__timeFilter": f"time BETWEEN from_milliseconds({_ms(window.start)})"
        f" AND from_milliseconds({_ms(window.end)})",
        "$__timeFrom": str(_ms(window.start)),
        "$__timeTo": str(_ms(window.end)),
        "$__now_ms": str(_ms(window.end)),
        "$__interval": f"{window.interval_ms}ms",
        "$__interval_ms": f"{window.interval_ms}ms",
        "$__interval_raw_ms": str(window.interval_ms),
    }

    def replace(match: re.Match[str]) -> str:
        value = names.get(match.group(0))
        return match.group(0) if value is None or value == "" else value

    return re.sub(r"\$__\w+", replace, sql)


def expand_promql(expr: str, values: Mapping[str, Value], interval: str = "1m") -> str:
    """PromQL after Grafana replaced the variables and ``$__rate_interval`` / ``$__interval``."""
    text = variables(expr, values, prometheus=True)
    for name in ("$__rate_interval", "${__rate_interval}", "$__interval", "${__interval}"):
        text = text.replace(name, interval)
    return text
