"""Dendro's Timestream SQL for Athena (Trino): the same parsed statement, rewritten where they differ.

Users, the console and the alerts write one SQL text in Dendro's Timestream dialect
(:mod:`dendro.store.dialect` parses and checks it: one read-only statement on the store's
tables). For Athena (engine version 3, Trino) the parsed statement is rewritten with sqlglot:

- **tables**: ``"<pipeline>"."t"`` → ``"<glue database>"."t"`` (Glue names have ``_`` for ``-``);
- **time functions** Timestream has and Trino has not: ``ago(d)`` → ``now - d``; ``now()`` →
  the current UTC time as a ``timestamp`` (Trino's ``current_timestamp`` carries a zone; the
  store's ``time`` has none and is UTC, as Timestream's); ``bin(t, d)`` → ``t`` truncated to a
  multiple of ``d`` since the epoch; ``from_milliseconds(n)`` → a UTC ``timestamp``. Duration
  literals (``15m``) become ``INTERVAL '15' MINUTE``, which Trino has;
- **partitions**: Athena bills the bytes it reads, and reads every date unless the query names
  the partition column ``date``. Each bound a query puts on ``time`` at the top level of a
  ``WHERE`` (``time >= x``, ``time > x``, ``time BETWEEN x AND y``, ``time < y``, ``time <= y``,
  ANDed) gets its ``date`` twin (``"date" >= CAST(CAST(x AS DATE) AS VARCHAR)``…), so partition
  projection reads only the dates the query can match. A query with no bound on ``time`` reads
  every date (and hits the workgroup's bytes-scanned cutoff sooner).

What stays as is because Trino has it too: ``approx_percentile``, ``max_by``, ``date_trunc``,
``CASE``, window functions, ``count(DISTINCT …)``. docs/aws.md lists the differences.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlglot import exp

from dendro.store import dialect

PARTITION = "date"
TIME = "time"
#: the functions rewritten here; anything else Timestream-only is refused by Athena with its message
REWRITTEN = ("ago", "bin", "from_milliseconds", "now")
#: ``bin(t, grafana_interval())``: a dashboard's interval, left to the Grafana Athena plugin's
#: ``$__timeGroup`` (:mod:`dendro.grafana.athena` writes the placeholder and the macro)
GRAFANA_INTERVAL = "grafana_interval"
GRAFANA_TIME_GROUP = "grafana_time_group"


def _utc_now() -> exp.Expression:
    zoned = exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=exp.Literal.string("UTC"))
    return exp.cast(zoned, exp.DataType.Type.TIMESTAMP)


def _utc(expression: exp.Expression) -> exp.Expression:
    """A zoned Trino timestamp as the naive UTC ``timestamp`` the store's ``time`` is."""
    return exp.cast(
        exp.AtTimeZone(this=expression, zone=exp.Literal.string("UTC")), exp.DataType.Type.TIMESTAMP
    )


def _seconds(duration: exp.Expression) -> int | None:
    """Whole seconds of a duration literal (``INTERVAL '5' MINUTE`` after parsing ``5m``)."""
    if not isinstance(duration, exp.Interval) or duration.unit is None:
        return None
    factors = {"DAY": 86_400, "HOUR": 3_600, "MINUTE": 60, "SECOND": 1}
    unit = duration.unit.name.upper()
    try:
        value = int(duration.this.name)
    except (TypeError, ValueError):
        return None
    return value * factors[unit] if unit in factors else None


def _bin(column: exp.Expression, duration: exp.Expression) -> exp.Expression:
    if isinstance(duration, exp.Anonymous) and duration.name.lower() == GRAFANA_INTERVAL:
        return exp.Anonymous(this=GRAFANA_TIME_GROUP, expressions=[column.copy()])
    seconds = _seconds(duration)
    if seconds is None or seconds <= 0:
        raise dialect.QueryError("bin() takes a duration of whole seconds on Athena, such as 1m or 30s")
    epoch = exp.Anonymous(this="to_unixtime", expressions=[column.copy()])
    whole = exp.cast(exp.Floor(this=epoch), exp.DataType.Type.BIGINT)
    offset = exp.Mod(this=exp.paren(whole, copy=False), expression=exp.Literal.number(seconds))
    truncated = exp.Anonymous(this="date_trunc", expressions=[exp.Literal.string("second"), column.copy()])
    return exp.Anonymous(
        this="date_add",
        expressions=[exp.Literal.string("second"), exp.Neg(this=exp.paren(offset)), truncated],
    )


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous):
        name, args = node.name.lower(), node.expressions
        if name == "ago" and len(args) == 1:
            return exp.paren(exp.Sub(this=_utc_now(), expression=args[0]), copy=False)
        if name == "bin" and len(args) == 2:
            return _bin(args[0], args[1])
        if name == "from_milliseconds" and len(args) == 1:
            seconds = exp.Div(this=args[0], expression=exp.Literal.number("1000.0"))
            return _utc(exp.Anonymous(this="from_unixtime", expressions=[seconds]))
        if name == "now" and not args:
            return _utc_now()
        if name in REWRITTEN:
            raise dialect.QueryError(f"{name}() takes {2 if name == 'bin' else 1} argument(s)")
    if isinstance(node, exp.CurrentTimestamp) and not isinstance(node.parent, exp.AtTimeZone):
        return _utc_now()
    return node


def _is_time(node: exp.Expression) -> bool:
    return isinstance(node, exp.Column) and node.name.lower() == TIME


def _constant(node: exp.Expression) -> bool:
    return not any(isinstance(n, exp.Column) for n in node.walk())


def _day(expression: exp.Expression) -> exp.Expression:
    day = exp.cast(expression.copy(), exp.DataType.Type.DATE)
    return exp.cast(day, exp.DataType.Type.VARCHAR)


def _partition_column(time: exp.Column) -> exp.Column:
    return exp.column(PARTITION, table=time.table or None, quoted=True)


def _twins(condition: exp.Expression) -> list[exp.Expression]:
    """The ``date`` bounds implied by one conjunct on ``time`` (none for anything else)."""
    lower = (exp.GTE, exp.GT)
    upper = (exp.LTE, exp.LT)
    if isinstance(condition, exp.Between) and _is_time(condition.this):
        low, high = condition.args.get("low"), condition.args.get("high")
        if low is not None and high is not None and _constant(low) and _constant(high):
            column = _partition_column(condition.this)
            return [
                exp.GTE(this=column, expression=_day(low)),
                exp.LTE(this=column.copy(), expression=_day(high)),
            ]
        return []
    if isinstance(condition, lower + upper):
        left, right = condition.this, condition.expression
        if _is_time(left) and _constant(right):
            column, bound, is_lower = _partition_column(left), right, isinstance(condition, lower)
        elif _is_time(right) and _constant(left):
            column, bound, is_lower = _partition_column(right), left, isinstance(condition, upper)
        else:
            return []
        op = exp.GTE if is_lower else exp.LTE
        return [op(this=column, expression=_day(bound))]
    return []


def _conjuncts(condition: exp.Expression) -> list[exp.Expression]:
    if isinstance(condition, exp.And):
        return _conjuncts(condition.this) + _conjuncts(condition.expression)
    if isinstance(condition, exp.Paren):
        return _conjuncts(condition.this)
    return [condition]


def _prune(select: exp.Select) -> None:
    where = select.args.get("where")
    if where is None:
        return
    twins = [twin for c in _conjuncts(where.this) for twin in _twins(c)]
    if twins:
        select.where(exp.and_(*twins, copy=False), append=True, copy=False)


def translate(tree: exp.Expression, database: str, glue_database: str) -> str:
    """Trino SQL for a checked statement of the store ``database`` (Glue database ``glue_database``)."""
    rewritten = tree.copy()
    for table in rewritten.find_all(exp.Table):
        if table.db == database:
            table.set("db", exp.to_identifier(glue_database, quoted=True))
    for select in list(rewritten.find_all(exp.Select)):
        _prune(select)
    rewritten = rewritten.transform(_rewrite, copy=False)
    return rewritten.sql(dialect="trino")


def prepare(sql: str, database: str, glue_database: str, tables: Collection[str]) -> dialect.Statement:
    """Parse, check (as the local store does) and translate one query for Athena."""
    tree = dialect.parse(sql)
    statement = dialect.check(tree, database, tables)
    if statement.kind != "select":
        return statement
    return dialect.Statement("select", sql=translate(tree, database, glue_database))
