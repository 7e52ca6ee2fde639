"""The logs explorer's search: the stored events of every log table, newest first, in one query.

What a table offers the search comes from the catalog (:class:`~dendro.services.base.LogView`):
the columns its text query searches (a raw line, a message, a path, a statement), its level
column or HTTP status, and its RED mapping (what an error is). A search reads the tables that
can match it, one ``SELECT`` each, as one ``UNION ALL`` ordered by time, newest first, paged with
``LIMIT``/``OFFSET``; each row keeps all its fields (a table's columns it does not have are NULL,
a column two tables type differently is read as text). The SQL is Dendro's Timestream dialect
like every console query, so the same text runs on DuckDB and Timestream and is what the page's
"as SQL" link opens. A second query counts the matches per bin of the range, and the errors among
them, for the page's histogram.

The text query is a case-insensitive substring (``strpos(lower(column), 'text') > 0``); the
level is ``errors`` (the RED mapping's error condition, else a level among
:data:`~dendro.services.base.ERROR_WORDS`), a status class (``5xx``), a status (``503``) or a
level's value (``warning``, case-insensitive).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dendro.analysis import queries
from dendro.metrics import status
from dendro.services.base import ERROR_WORDS, LogView
from dendro.store.sql import literal, quote, table_ref

#: the columns every row of a search has besides ``time`` and its table's columns
SERVICE_COLUMN = "source_service"
TABLE_COLUMN = "source_table"
ERRORS = "errors"


@dataclass(frozen=True)
class Source:
    """One table a search may read, and the service it belongs to."""

    service: str
    view: LogView

    @property
    def table(self) -> str:
        return self.view.table.name

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.view.table.columns)


@dataclass(frozen=True)
class Search:
    """What to find: a time range, and optionally a text, a host and a level."""

    start: datetime
    end: datetime
    text: str = ""
    host: str = ""
    level: str = ""


def level_condition(view: LogView, level: str) -> str | None:
    """SQL keeping the rows of ``view`` at ``level`` (None: this table has no such level)."""
    wanted = level.strip().lower()
    if wanted == ERRORS:
        by_red = queries.error_condition(view.red) if view.red else None
        if by_red:
            return by_red
        if view.level:
            return f"lower({quote(view.level)}) IN ({', '.join(literal(w) for w in ERROR_WORDS)})"
        return None
    if wanted in status.CLASSES:  # the class of its first digit, as status.class_sql reads it
        low = int(wanted[0]) * 100
        return f"{quote(view.status)} BETWEEN {low} AND {low + 99}" if view.status else None
    if wanted.isdigit():
        return f"{quote(view.status)} = {int(wanted)}" if view.status else None
    return f"lower({quote(view.level)}) = {literal(wanted)}" if view.level else None


def text_condition(view: LogView, text: str) -> str | None:
    """SQL true where one of the searched columns holds ``text`` (any case); None: none can."""
    if not view.search:
        return None
    needle = literal(text.lower())
    return " OR ".join(f"strpos(lower({quote(c)}), {needle}) > 0" for c in view.search)


def _conditions(source: Source, search: Search) -> list[str] | None:
    """The WHERE of one table, or None when the table cannot hold a match."""
    where = [queries.time_range(search.start, search.end)]
    if search.host:
        if "host" not in source.columns:
            return None
        where.append(f"{quote('host')} = {literal(search.host)}")
    if search.level:
        condition = level_condition(source.view, search.level)
        if condition is None:
            return None
        where.append(f"({condition})")
    if search.text:
        condition = text_condition(source.view, search.text)
        if condition is None:
            return None
        where.append(f"({condition})")
    return where


def matching(sources: Sequence[Source], search: Search) -> list[Source]:
    """The sources that can hold a match of ``search``."""
    return [s for s in sources if _conditions(s, search) is not None]


def columns_of(sources: Sequence[Source]) -> dict[str, str]:
    """Every column of these tables, in the order they first appear, with its type: its own where
    every table that has it agrees, else VARCHAR (a UNION's column has one type)."""
    types: dict[str, str] = {}
    for source in sources:
        for column in source.view.table.columns:
            known = types.setdefault(column.name, column.type)
            if known != column.type:
                types[column.name] = "VARCHAR"
    return types


def search_sql(database: str, sources: Sequence[Source], search: Search, limit: int, offset: int = 0
               ) -> str | None:
    """One query for the newest ``limit`` matching rows after ``offset`` (None: no table can match)."""
    found = matching(sources, search)
    if not found:
        return None
    types = columns_of(found)
    parts = []
    for source in found:
        own = {c.name: c.type for c in source.view.table.columns}
        values = ", ".join(
            quote(n) if own.get(n) == kind
            else f"CAST({quote(n) if n in own else 'NULL'} AS {kind}) AS {quote(n)}"
            for n, kind in types.items()
        )
        where = " AND ".join(_conditions(source, search) or [])
        parts.append(
            f"SELECT time, {literal(source.service)} AS {SERVICE_COLUMN}, {literal(source.table)} AS"
            f" {TABLE_COLUMN}, {values} FROM {table_ref(database, source.table)} WHERE {where}"
        )
    union = "\nUNION ALL\n".join(parts)
    return (
        f"SELECT * FROM (\n{union}\n) ORDER BY time DESC, {TABLE_COLUMN}"
        f" LIMIT {int(limit)} OFFSET {int(offset)}"
    )


def volume_sql(database: str, sources: Sequence[Source], search: Search, step: int) -> str | None:
    """Matching rows per bin of ``step`` seconds, and how many of them are errors (the explorer's
    histogram); None when no table can match."""
    parts = []
    for source in matching(sources, search):
        errors = level_condition(source.view, ERRORS)
        counted = f"sum(CASE WHEN {errors} THEN 1 ELSE 0 END)" if errors else "0"
        where = " AND ".join(_conditions(source, search) or [])
        parts.append(
            f"SELECT bin(time, {int(step)}s) AS t, count(*) AS n, {counted} AS errors"
            f" FROM {table_ref(database, source.table)} WHERE {where} GROUP BY 1"
        )
    if not parts:
        return None
    union = "\nUNION ALL\n".join(parts)
    return f"SELECT t, sum(n) AS n, sum(errors) AS errors FROM (\n{union}\n) GROUP BY t ORDER BY t"


@dataclass
class Hit:
    """One row found: where it comes from, its level, its line, and every field it has."""

    time: Any
    service: str
    table: str
    host: str | None
    level: str | None
    line: str
    raw: str | None
    fields: list[tuple[str, str]] = field(default_factory=list)
    error: bool = False
    #: beside a raw line in a table without a level: its other fields (a parse error's reason)
    context: str = ""


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _logfmt(fields: Sequence[tuple[str, str]]) -> str:
    return " ".join(f'{k}="{v}"' if not v or " " in v or '"' in v else f"{k}={v}" for k, v in fields)


def _is_error(view: LogView, value: Mapping[str, Any]) -> bool:
    if view.status and value.get(view.status) is not None:
        try:
            return status.status_class(int(float(value[view.status]))) == status.ERROR_CLASS
        except ValueError:
            return False
    if view.red and view.red.level and view.red.error_levels:
        return value.get(view.red.level) in view.red.error_levels
    return bool(view.level) and str(value.get(view.level or "", "")).lower() in ERROR_WORDS


def hits(rows: Sequence[Mapping[str, Any]], sources: Sequence[Source]) -> list[Hit]:
    """The rows of a search as the explorer shows them: the line is the table's raw line where
    it kept one, else the record's fields as ``key=value``; a table with a raw line and no level
    (parse errors) shows its other fields beside it, so the reason is in sight."""
    views = {s.table: s for s in sources}
    found = []
    for row in rows:
        source = views.get(str(row[TABLE_COLUMN]))
        if source is None:
            continue
        view = source.view
        fields = [(c, _text(row[c])) for c in source.columns if row.get(c) is not None]
        level_column = view.status or view.level
        level = str(row[level_column]) if level_column and row.get(level_column) is not None else None
        raw = str(row[view.line]) if view.line and row.get(view.line) is not None else None
        summary = [(k, v) for k, v in fields if k not in ("host", view.line, level_column)]
        found.append(Hit(
            time=row["time"], service=source.service, table=source.table,
            host=str(row["host"]) if row.get("host") is not None else None, level=level,
            line=raw if raw is not None else _logfmt(summary), raw=raw, fields=fields,
            error=_is_error(view, row),
            context=_logfmt(summary) if raw is not None and level_column is None else "",
        ))
    return found
