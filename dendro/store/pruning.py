"""Date pruning: a query bounded in ``time`` reads only the Parquet dates that can hold its rows.

The store's views list every object of a table, and DuckDB would open each one (to read its
footer) for every query. For a table reference whose SELECT has a ``WHERE`` conjunct bounding
``time`` by a constant expression (``time > ago(1h)`` arrives translated as ``time >
CAST(CURRENT_TIMESTAMP AS TIMESTAMP) - INTERVAL '1' HOUR``; ``BETWEEN``, ``<``, ``<=``, ``>=``
too), :func:`bound` replaces the reference with the table's macro
(``"db".tiers."T"(since, until)``, :mod:`dendro.store.cold`) called with the dates of those
bounds; DuckDB then skips the other dates' objects without opening them (hive partition
pruning on ``date``, which it does for such expressions, ``now()`` included).

This changes no result: a row the macro leaves out lies on a date before ``since`` (or after
``until``), so the conjunct, which the WHERE requires of every row it keeps (joined rows and
NULL-extended ones alike), is false or NULL for it. It is applied only where it is plainly
safe: the bound is a constant (no column, no subquery, not a bare string), and ``time`` is
unqualified in a SELECT of one source or qualified by that source's name or alias; anything
else is left as it was. The DuckDB SQL comes from :mod:`dendro.store.dialect`; a statement
with no such reference is returned unchanged, character for character.
"""

from __future__ import annotations

from collections.abc import Collection

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from dendro.store import cold

TIME = "time"


def _is_time(node: exp.Expr, names: set[str], single: bool) -> bool:
    if not isinstance(node, exp.Column) or node.name.lower() != TIME or node.args.get("db"):
        return False
    return node.table.lower() in names if node.table else single


def _constant(node: exp.Expr) -> bool:
    if isinstance(node, exp.Literal) and node.is_string:
        return False
    return node.find(exp.Column, exp.Select, exp.Subquery, exp.Placeholder) is None


def _conjuncts(where: exp.Expr) -> list[exp.Expr]:
    node = where.unnest()
    if isinstance(node, exp.And):
        return [*_conjuncts(node.left), *_conjuncts(node.right)]
    return [node]


def _bounds(where: exp.Where, names: set[str], single: bool) -> tuple[exp.Expr | None, ...]:
    """(lower, upper) bound of ``time`` given by the WHERE's conjuncts, each None if none."""
    since: exp.Expr | None = None
    until: exp.Expr | None = None
    for node in _conjuncts(where.this):
        if isinstance(node, exp.Between) and _is_time(node.this, names, single):
            low, high = node.args["low"], node.args["high"]
            since = since or (low if _constant(low) else None)
            until = until or (high if _constant(high) else None)
        elif isinstance(node, exp.GT | exp.GTE | exp.LT | exp.LTE | exp.EQ):
            left, right = node.left, node.right
            upward = isinstance(node, exp.GT | exp.GTE)
            if _is_time(left, names, single) and _constant(right):
                lower, upper = (right, None) if upward else (None, right)
            elif _is_time(right, names, single) and _constant(left):
                lower, upper = (None, left) if upward else (left, None)
            else:
                continue
            if isinstance(node, exp.EQ):
                lower = upper = right if lower is None and upper is None else (lower or upper)
            since, until = since or lower, until or upper
    return since, until


def _day(bound: exp.Expr | None, default: str) -> exp.Expression:
    if bound is None:
        return exp.cast(exp.Literal.string(default), exp.DataType.Type.DATE)
    timestamp = exp.cast(exp.paren(bound.copy(), copy=False), exp.DataType.Type.TIMESTAMP)
    return exp.cast(timestamp, exp.DataType.Type.DATE)


def _sources(select: exp.Select) -> list[exp.Expression]:
    found = []
    source = select.args.get("from_")
    if source is not None:
        found.append(source.this)
    found += [join.this for join in select.args.get("joins") or []]
    return found


def _ours(node: exp.Expression, database: str, tables: Collection[str], ctes: set[str]) -> bool:
    if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Identifier) or node.catalog:
        return False
    if node.db and node.db != database:
        return False
    return node.name in tables and (bool(node.db) or node.name not in ctes)


def _bounded_call(node: exp.Table, database: str, since: exp.Expr | None,
                  until: exp.Expr | None) -> exp.Table:
    call = exp.Anonymous(this=exp.to_identifier(node.name, quoted=True),
                         expressions=[_day(since, cold.FIRST_DAY.isoformat()),
                                      _day(until, cold.LAST_DAY.isoformat())])
    alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name, quoted=True))
    catalog = exp.to_identifier(database, quoted=True)
    return exp.Table(this=call, db=exp.to_identifier(cold.TIERS), catalog=catalog, alias=alias)


def _rewrite_select(select: exp.Select, database: str, tables: Collection[str], ctes: set[str]) -> bool:
    where = select.args.get("where")
    sources = _sources(select)
    if where is None or not sources:
        return False
    changed = False
    for node in sources:
        if not isinstance(node, exp.Table) or not _ours(node, database, tables, ctes):
            continue
        names = {node.name.lower(), node.alias_or_name.lower()}
        since, until = _bounds(where, names, single=len(sources) == 1)
        if since is None and until is None:
            continue
        node.replace(_bounded_call(node, database, since, until))
        changed = True
    return changed


def bound(sql: str, database: str, tables: Collection[str]) -> str:
    """``sql`` (DuckDB) with each time-bounded reference to one of ``tables`` read through its
    macro; ``sql`` itself when there is none (or it does not parse back)."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except SqlglotError:
        return sql
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    changed = False
    for select in list(tree.find_all(exp.Select)):
        changed = _rewrite_select(select, database, tables, ctes) or changed
    return tree.sql(dialect="duckdb", normalize_functions=False) if changed else sql
