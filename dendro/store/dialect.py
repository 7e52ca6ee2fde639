"""Dendro's Timestream SQL on DuckDB: parse with sqlglot, check it only reads, emit DuckDB SQL.

Users, the console, the exporter and the dashboards write one SQL text in the Timestream
dialect. The local store runs it on DuckDB after three steps on the parsed statement (never on
the raw text, so ``'15m'`` inside a string literal stays a string):

1. **parse**: Trino's grammar plus Timestream's duration literals (``15m``, ``2h``, ``1d``,
   ``30s``, ``60000ms``, ``10us``, ``5ns``). A duration literal is a number token immediately
   followed by a unit word; the token pair becomes ``INTERVAL '<n>' <UNIT>`` before parsing.
2. **check**: one statement; SELECT (WITH … SELECT, UNION …), SHOW or DESCRIBE only; no node
   that writes, attaches or configures; tables only from the store, or a CTE of the query *where
   that CTE is in scope* (its own WITH's query, and the CTEs after it in that WITH): a CTE named
   ``duckdb_databases`` inside a subquery does not make the outer ``duckdb_databases`` (DuckDB's
   catalog) readable;
   table functions only from a short allow-list (``unnest``, ``range``, ``generate_series``), so
   ``read_csv`` or ``FROM 'file.parquet'`` are refused.
3. **translate**: ``ago(d)`` → ``now - d``; ``bin(t, d)`` → ``time_bucket(d, t, epoch)``;
   ``now()`` → the current UTC time as TIMESTAMP; ``from_milliseconds`` → ``epoch_ms``;
   ``from_iso8601_timestamp`` → a UTC TIMESTAMP; ``approx_percentile`` → ``quantile_disc``
   (exact, and a value of the data as Timestream's is). The store keeps ``time`` as a
   TIMESTAMP (no zone) in UTC, like Timestream, so no zone arithmetic is needed anywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from sqlglot import exp
from sqlglot.dialects.trino import Trino
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from dendro.store.base import QueryError

#: unit suffix of a Timestream duration literal → (DuckDB interval unit, factor)
DURATION_UNITS: dict[str, tuple[str, int]] = {
    "d": ("DAY", 1),
    "h": ("HOUR", 1),
    "m": ("MINUTE", 1),
    "s": ("SECOND", 1),
    "ms": ("MILLISECOND", 1),
    "us": ("MICROSECOND", 1),
    "ns": ("MICROSECOND", 1000),  # DuckDB intervals stop at microseconds
}

#: table functions a query may read from (they compute, they do not read files)
TABLE_FUNCTIONS = frozenset({"unnest", "range", "generate_series"})

#: nodes that write, attach, configure or run commands: refused wherever they appear
FORBIDDEN = (
    exp.DML,
    exp.DDL,
    exp.Command,
    exp.Pragma,
    exp.Set,
    exp.Use,
    exp.Into,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Alter,
    exp.Drop,
    exp.TruncateTable,
    exp.LoadData,
)

# sqlglot logs a warning when SHOW falls back to a Command; the check below handles it.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

EPOCH = exp.cast(exp.Literal.string("1970-01-01 00:00:00"), exp.DataType.Type.TIMESTAMP)


class Timestream(Trino):
    """The Timestream dialect: Trino's grammar; duration literals are handled in :func:`parse`."""


@dataclass(frozen=True)
class Statement:
    """A parsed, checked statement: a query for DuckDB, or a SHOW / DESCRIBE the store answers."""

    kind: str  # "select", "show_tables", "show_databases", "describe"
    sql: str = ""  # DuckDB SQL (kind "select")
    table: str = ""  # the table to describe (kind "describe")


def _duration_tokens(number: Token, unit: Token) -> list[Token] | None:
    """``INTERVAL '<n>' <UNIT>`` tokens for a number token glued to a unit word, else None."""
    spec = DURATION_UNITS.get(unit.text.lower())
    if spec is None or unit.start != number.end + 1:
        return None
    name, divisor = spec
    try:
        value = Decimal(number.text) / divisor
    except InvalidOperation:
        return None
    if value != value.to_integral_value():  # 1.5h, 500ns: express in microseconds
        micros = {"DAY": 86_400_000_000, "HOUR": 3_600_000_000, "MINUTE": 60_000_000, "SECOND": 1_000_000,
                  "MILLISECOND": 1000, "MICROSECOND": 1}[name]
        value, name = (value * micros).to_integral_value(), "MICROSECOND"
    text = str(int(value))
    return [
        Token(TokenType.INTERVAL, "INTERVAL", number.line, number.col, number.start, number.end),
        Token(TokenType.STRING, text, number.line, number.col, number.start, number.end),
        Token(TokenType.VAR, name, unit.line, unit.col, unit.start, unit.end),
    ]


def _with_durations(tokens: list[Token]) -> list[Token]:
    result: list[Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        glued = i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.VAR
        if token.token_type == TokenType.NUMBER and glued:
            replaced = _duration_tokens(token, tokens[i + 1])
            if replaced:
                result.extend(replaced)
                i += 2
                continue
        result.append(token)
        i += 1
    return result


def _first_line(error: Exception) -> str:
    text = str(error).replace("\x1b[4m", "").replace("\x1b[0m", "")
    return text.splitlines()[0].strip() if text.strip() else type(error).__name__


#: said when a query nests deeper than the parser's recursion allows (sqlglot recurses per level)
TOO_DEEP = "the query nests too deeply to parse; write it with fewer nested parentheses or subqueries"


def parse(sql: str) -> exp.Expression:
    """The one statement of ``sql`` in the Timestream dialect (QueryError if not exactly one)."""
    dialect = Timestream()
    try:
        tokens = _with_durations(dialect.tokenize(sql))
        statements = [s for s in dialect.parser().parse(tokens, sql) if s is not None]
    except (ParseError, TokenError) as error:
        raise QueryError(f"the query does not parse: {_first_line(error)}") from None
    except RecursionError:
        raise QueryError(TOO_DEEP) from None
    if not statements:
        raise QueryError("the query is empty")
    if len(statements) > 1:
        raise QueryError("only one statement at a time is allowed")
    return cast(exp.Expression, statements[0])


def _show(statement: exp.Command) -> Statement:
    words = str(statement.expression.name if statement.expression else "").split()
    head = [w.lower() for w in words[:1]]
    if head == ["tables"]:
        return Statement("show_tables")
    if head in (["databases"], ["schemas"]):
        return Statement("show_databases")
    raise QueryError("only SHOW TABLES and SHOW DATABASES are supported")


def _with_of(node: Any) -> exp.With | None:
    """The WITH clause a query node carries (sqlglot names the argument ``with`` or ``with_``)."""
    return next((v for v in node.args.values() if isinstance(v, exp.With)), None)


def visible_ctes(table: exp.Table) -> set[str]:
    """Names of the CTEs in scope where ``table`` is read: those of every enclosing WITH whose
    query holds it, and, inside a CTE's own definition, the CTEs before it (itself too if the
    WITH is RECURSIVE)."""
    names: set[str] = set()
    child: Any = table
    node: Any = table.parent
    while node is not None:
        if isinstance(node, exp.With):
            ctes = list(node.expressions)
            index = next(i for i, cte in enumerate(ctes) if cte is child)
            visible = ctes[: index + 1] if node.args.get("recursive") else ctes[:index]
            names.update(cte.alias_or_name for cte in visible)
        else:
            clause = _with_of(node)
            if clause is not None and clause is not child:
                names.update(cte.alias_or_name for cte in clause.expressions)
        child, node = node, node.parent
    return names


def _check_tables(tree: exp.Expression, database: str, tables: Collection[str]) -> None:
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            function = table.this
            name = function.name if isinstance(function, exp.Anonymous) else function.sql_name()
            if name.lower() not in TABLE_FUNCTIONS:
                raise QueryError(f"table function {name}() is not allowed; query the store's tables")
            continue
        if table.catalog or (table.db and table.db != database):
            where = ".".join(p for p in (table.catalog, table.db) if p)
            raise QueryError(f"unknown database {where!r}: this store's database is {database!r}")
        if not table.db and table.name in visible_ctes(table):
            continue
        if table.name not in tables:
            known = ", ".join(sorted(tables)) or "none yet"
            raise QueryError(f"unknown table {table.name!r} (tables: {known})")


def _check_functions(tree: exp.Expression) -> None:
    for func in tree.find_all(exp.Func):
        name = func.name if isinstance(func, exp.Anonymous) else func.sql_name()
        lowered = name.lower()
        if lowered.startswith(("read_", "parquet_", "sniff_")) or lowered in {"glob", "query", "query_table"}:
            raise QueryError(f"function {name}() reads files and is not allowed")


def check(tree: exp.Expression, database: str, tables: Collection[str]) -> Statement:
    """The statement if it only reads this store's tables; QueryError saying why otherwise."""
    if isinstance(tree, exp.Command) and tree.name.upper() == "SHOW":
        return _show(tree)
    if isinstance(tree, exp.Describe):
        target = tree.this
        if not isinstance(target, exp.Table):
            raise QueryError("DESCRIBE takes a table name")
        _check_tables(target, database, tables)
        return Statement("describe", table=target.name)
    if not isinstance(tree, exp.Select | exp.SetOperation | exp.Subquery):
        kind = tree.key.upper()
        raise QueryError(f"only SELECT, SHOW and DESCRIBE are allowed here ({kind} is refused)")
    for node in tree.walk():
        if isinstance(node, FORBIDDEN):
            raise QueryError(f"{node.key.upper()} is not allowed in a read-only query")
    _check_functions(tree)
    _check_tables(tree, database, tables)
    return Statement("select", sql=translate(tree))


def _now() -> exp.Expression:
    return exp.cast(exp.CurrentTimestamp(), exp.DataType.Type.TIMESTAMP)


def _anonymous(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _rewrite_anonymous(node: exp.Anonymous) -> exp.Expression:
    name = node.name.lower()
    args = node.expressions
    if name == "ago" and len(args) == 1:
        return exp.paren(exp.Sub(this=_now(), expression=args[0]), copy=False)
    if name == "bin" and len(args) == 2:
        return _anonymous("time_bucket", args[1], args[0], EPOCH.copy())
    if name == "from_milliseconds" and len(args) == 1:
        return _anonymous("epoch_ms", exp.cast(args[0], exp.DataType.Type.BIGINT))
    if name == "from_nanoseconds" and len(args) == 1:
        nanos = exp.cast(args[0], exp.DataType.Type.BIGINT)
        micros = exp.IntDiv(this=nanos, expression=exp.Literal.number(1000))
        return _anonymous("make_timestamp", micros)
    if name in ("ago", "bin", "from_milliseconds", "from_nanoseconds"):
        raise QueryError(f"{name}() takes {2 if name == 'bin' else 1} argument(s)")
    return node


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous):
        return _rewrite_anonymous(node)
    if isinstance(node, exp.CurrentTimestamp):
        return _now()
    if isinstance(node, exp.FromISO8601Timestamp):
        zoned = exp.cast(node.this, exp.DataType.Type.TIMESTAMPTZ)
        return exp.cast(zoned, exp.DataType.Type.TIMESTAMP)
    if isinstance(node, exp.ApproxQuantile):
        if node.args.get("weight") is not None or node.args.get("accuracy") is not None:
            raise QueryError("approx_percentile with a weight or accuracy is not supported locally")
        return _anonymous("quantile_disc", node.this, node.args["quantile"])
    return node


def _name_columns(tree: exp.Expression) -> None:
    """Unnamed output columns are called ``_col0``, ``_col1``… as Timestream (Trino) calls them."""
    if not isinstance(tree, exp.Select):
        return
    for i, expression in enumerate(tree.expressions):
        if not isinstance(expression, exp.Alias | exp.Column | exp.Star):
            expression.replace(exp.alias_(expression.copy(), f"_col{i}", quoted=True))


def translate(tree: exp.Expression) -> str:
    """DuckDB SQL for a checked statement."""
    rewritten = tree.copy()
    _name_columns(rewritten)
    rewritten = rewritten.transform(_rewrite, copy=False)
    return rewritten.sql(dialect="duckdb")


def prepare(sql: str, database: str, tables: Collection[str]) -> Statement:
    """Parse, check and translate one user query (QueryError for anything refused, a query too
    deep for the parser or the translation included)."""
    try:
        return check(parse(sql), database, tables)
    except RecursionError:
        raise QueryError(TOO_DEEP) from None
