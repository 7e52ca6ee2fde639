"""The SQL the console pages, the alerts and the example queries send, run on the athena store's
Parquet objects: the events go through the athena loader into moto's S3, the objects are downloaded,
and each query is run twice on DuckDB over them: as the local store runs it (Timestream SQL →
DuckDB, :mod:`dendro.store.dialect`) and as Athena would (Timestream SQL → Trino,
:mod:`dendro.store.athena_sql`, then Trino → DuckDB through sqlglot). Both give the same rows, and
the counts are exactly those of the events sent.

Trino → DuckDB needs one shim: sqlglot writes Trino's ``at_timezone(ts, zone)`` (Trino's function,
https://trino.io/docs/current/functions/datetime.html) as is, and DuckDB calls it ``timezone(zone, ts)``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from dendro.alerts import evaluation_sql
from dendro.analysis import queries
from dendro.pipeline.athena_loader import ParquetLoader
from dendro.pipeline.loader import Settings
from dendro.services import catalog
from dendro.store import athena_sql, dialect
from dendro.store import parquet_layout as layout
from tests.athena.helpers import BUCKET, download, s3  # noqa: F401
from tests.loader.helpers import ndjson, s3_event

DATABASE, GLUE = "my-app", "my_app"
NOW = datetime.now(UTC).replace(microsecond=0)
TABLES = catalog()["nginx"].tables + catalog()["postgres"].tables + catalog()["host"].tables
RED = catalog()["nginx"].red[0]


def _events() -> list[dict[str, Any]]:
    """nginx requests over the last 30 hours (some 5xx), postgres lines, agent heartbeats."""
    events: list[dict[str, Any]] = []
    for i in range(300):
        when = NOW - timedelta(minutes=6 * i + 1)  # one every 6 minutes: 30 hours back, across a date
        events.append({
            "type": "nginx_access", "host": f"web-{i % 3}", "timestamp": when.isoformat(), "method": "GET",
            "protocol": "HTTP/1.1", "status": 503 if i % 10 == 0 else 200, "path": f"/p/{i % 7}",
            "bytes": 100 + i, "duration": 0.001 * (i % 50), "client_ip": "10.0.0.1", "user_agent": "t",
        })  # fmt: skip
    for i in range(40):
        when = NOW - timedelta(minutes=17 * i + 2)
        level = "FATAL" if i % 8 == 0 else "LOG"
        events.append(
            {
                "type": "postgres",
                "host": "db-1",
                "timestamp": when.isoformat(),
                "level": level,
                "message": f"m{i}",
                "database": "app",
                "user": "u",
            }
        )
    for i in range(120):  # host metrics every 2 minutes for 4 hours
        when = (NOW - timedelta(minutes=2 * i + 1)).isoformat()
        for name, extra, v in (
            ("cpu_seconds_total", {"cpu": "0", "mode": "user"}, 1000.0 + i),
            ("cpu_seconds_total", {"cpu": "0", "mode": "idle"}, 9000.0 - i),
            ("filesystem_used_bytes", {"mountpoint": "/"}, 5e9 + 1e6 * i),
            ("filesystem_total_bytes", {"mountpoint": "/"}, 2e10),
            ("memory_used_bytes", {}, 1e9 + i),
            ("filesystem_used_ratio", {"mountpoint": "/"}, 0.25 + i / 1000),
        ):
            events.append(
                {
                    "type": "host",
                    "host": "node-1",
                    "timestamp": when,
                    "name": name,
                    "value": v,
                    "kind": "gauge",
                    **extra,
                }
            )
    for minute in (1, 3, 40):
        events.append(
            {
                "type": "agent",
                "host": f"node-{minute}",
                "timestamp": (NOW - timedelta(minutes=minute)).isoformat(),
            }
        )
    return events


def _at_timezone(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE MACRO at_timezone(ts, zone) AS timezone(zone, ts)")


@pytest.fixture
def stores(s3: Any, tmp_path: Path) -> duckdb.DuckDBPyConnection:  # noqa: F811
    tables = {t.name: t for t in TABLES}
    from dendro.services.internal import INTERNAL_TABLES

    tables.update({t.name: t for t in INTERNAL_TABLES})
    key = "raw/2026/11/26/12/my-app-1-x"
    s3.put_object(Bucket=BUCKET, Key=key, Body=ndjson(_events()))
    loaded = ParquetLoader(Settings(database=GLUE, tables=tables, bucket=BUCKET), s3).handle(
        s3_event(BUCKET, key)
    )
    assert loaded["objects"][0]["rejected"] == 0
    download(s3, tmp_path)
    for name, table in tables.items():  # a table without events is an empty object of its schema
        if not (tmp_path / "tables" / name).exists():
            empty = tmp_path / "tables" / name / "date=1970-01-01" / "19700101T000000Z-000000000000.parquet"
            empty.parent.mkdir(parents=True)
            layout.writer(str(empty), layout.arrow_schema(table)).close()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    _at_timezone(con)
    for schema in (DATABASE, GLUE):
        con.execute(f'CREATE SCHEMA "{schema}"')
        for name in tables:
            files = sorted((tmp_path / "tables" / name).glob("date=*/*.parquet"))
            if files:
                listed = ", ".join(f"'{f}'" for f in files)
                con.execute(
                    f'CREATE VIEW "{schema}"."{name}" AS SELECT * FROM read_parquet([{listed}], '
                    "hive_partitioning = true, hive_types = {'date': VARCHAR})"
                )
    return con


def _both(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[Any], list[Any]]:
    names = [t.name for t in TABLES] + ["agent", "parse_error"]
    local = dialect.prepare(sql, DATABASE, names).sql
    trino = athena_sql.prepare(sql, DATABASE, GLUE, names).sql
    assert '"my_app".' in trino and '"my-app"' not in trino
    return con.execute(local).fetchall(), con.execute(to_duckdb(trino)).fetchall()


def to_duckdb(trino: str) -> str:
    """Trino → DuckDB through sqlglot; ``approx_percentile`` as the exact ``quantile_disc`` the local
    store uses (Athena's, like Timestream's, is approximate: only exact values compare)."""
    tree = sqlglot.parse_one(trino, read="trino")
    exact = tree.transform(
        lambda n: (
            sqlglot.exp.Anonymous(this="quantile_disc", expressions=[n.this, n.args["quantile"]])
            if isinstance(n, sqlglot.exp.ApproxQuantile)
            else n
        )
    )
    return exact.sql(dialect="duckdb")


def _same(left: list[Any], right: list[Any]) -> bool:
    def close(a: Any, b: Any) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-9)
        return bool(a == b)

    return len(left) == len(right) and all(
        len(x) == len(y) and all(close(a, b) for a, b in zip(x, y, strict=True))
        for x, y in zip(left, right, strict=True)
    )


def _console_queries() -> dict[str, str]:
    start, end = NOW - timedelta(hours=30), NOW + timedelta(minutes=1)
    names = [t.name for t in TABLES]
    condition = queries.error_condition(RED) or "TRUE"
    return {
        "table activity": queries.table_activity(DATABASE, names),
        "rate by class": queries.rate_by_class(DATABASE, RED, start, end, 3600),
        "red summary": queries.red_summary(DATABASE, RED, start, end, 3600),
        "events by host": queries.events_by_host(DATABASE, "postgres", start, end, 600),
        "hosts of": queries.hosts_of(DATABASE, "nginx_access", start, end),
        "metric values": queries.metric_values(DATABASE, catalog()["host"].metrics[0],
                                               ["load1", "cpu_seconds_total"], start, end, 600),
        "hosts seen": queries.hosts_seen(DATABASE, ["nginx_access", "postgres"], 2),
        "agent heartbeats": queries.agent_heartbeats(DATABASE, 1),
        "count where": queries.count_where(DATABASE, "nginx_access", condition, 7200),
        "latest where": queries.latest_where(DATABASE, "nginx_access", condition, 86400),
        "red now": queries.red_now(DATABASE, RED, 86400),
        "requests by host": queries.requests_by_host(DATABASE, RED, start, end),
        "requests by host and hour": queries.requests_by_host(DATABASE, RED, start, end, 3600),
        "recent rows": queries.recent_rows(DATABASE, "postgres", ["host", "level", "message"], 2, 10, 0),
        "host gauges": queries.host_gauges(DATABASE, "host", start, end, 600),
        "host cpu": queries.host_cpu(DATABASE, "host", start, end, 600),
        "host disk": queries.host_disk(DATABASE, "host", start, end, 600),
        "host latest": queries.host_latest(
            DATABASE, "host", ["memory_used_bytes", "filesystem_used_bytes"], 7200
        ),
        "alert count where": evaluation_sql.count_where(DATABASE, "nginx_access", condition, start, end),
        "alert newest where": evaluation_sql.newest_where(
            DATABASE, "nginx_access", ["status", "path"], condition, start, end, ["web-1"]
        ),
        "alert red between": evaluation_sql.red_between(DATABASE, RED, start, end),
        "alert host latest": evaluation_sql.host_latest(
            DATABASE, "host", ["filesystem_used_bytes"], start, end
        ),
        "alert heartbeats": evaluation_sql.last_heartbeats(DATABASE, start, end),
        **{
            f"example: {title}": sql
            for title, sql in queries.examples(DATABASE, names)
            if sql != "SHOW TABLES"
        },
    }


@pytest.mark.parametrize("name", sorted(_console_queries()))
def test_each_console_query_gives_the_same_rows_on_athena_and_locally(
    stores: duckdb.DuckDBPyConnection, name: str
) -> None:
    sql = _console_queries()[name]
    local, athena = _both(stores, sql)
    if " LIMIT " not in sql:  # rows equal in their ORDER BY keys may come in any order
        local, athena = sorted(local, key=repr), sorted(athena, key=repr)
    assert _same(local, athena), (local[:5], athena[:5])
    assert local and any(v not in (None, 0) for row in local for v in row[1:] or row)  # not trivially equal


def test_the_counts_are_exactly_the_events_sent(stores: duckdb.DuckDBPyConnection) -> None:
    events = _events()

    def sent(table: str, since: timedelta) -> int:
        return sum(
            1 for e in events if e["type"] == table and datetime.fromisoformat(e["timestamp"]) >= NOW - since
        )

    _, rows = _both(stores, queries.table_activity(DATABASE, ["nginx_access", "postgres"]))
    got = {r[0]: r[1:4] for r in rows}
    for table in ("nginx_access", "postgres"):
        expected = (
            sent(table, timedelta(minutes=5)),
            sent(table, timedelta(hours=1)),
            sent(table, timedelta(hours=24)),
        )
        assert got[table] == expected
    _, rows = _both(stores, queries.agent_heartbeats(DATABASE, 1))
    assert [r[0] for r in rows] == ["node-1", "node-3", "node-40"]
    start, end = NOW - timedelta(hours=31), NOW + timedelta(minutes=1)
    _, by_host = _both(stores, queries.requests_by_host(DATABASE, RED, start, end))
    assert {r[0]: r[1] for r in by_host} == {"web-0": 100, "web-1": 100, "web-2": 100}


def test_a_time_bound_becomes_a_date_bound_so_athena_reads_only_those_dates() -> None:
    sql = 'SELECT count(*) FROM "my-app"."nginx_access" WHERE time >= ago(1h) AND status >= 500'
    trino = athena_sql.prepare(sql, DATABASE, GLUE, ["nginx_access"]).sql
    assert (
        "\"date\" >= CAST(CAST((CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)"
        " - INTERVAL '1' HOUR) AS DATE) AS VARCHAR)" in trino
    )
    no_bound = athena_sql.prepare(
        'SELECT count(*) FROM "my-app"."nginx_access"', DATABASE, GLUE, ["nginx_access"]
    )
    assert '"date"' not in no_bound.sql


def test_the_partition_bound_prunes_dates_in_duckdb_too(stores: duckdb.DuckDBPyConnection) -> None:
    """With the date bound, only today's (and, past midnight, yesterday's) objects are read."""
    sql = 'SELECT count(*) FROM "my-app"."nginx_access" WHERE time >= ago(10m)'
    trino = athena_sql.prepare(sql, DATABASE, GLUE, ["nginx_access"]).sql
    plan = stores.execute("EXPLAIN ANALYZE " + to_duckdb(trino)).fetchall()
    text = "\n".join(str(r[1]) for r in plan)
    yesterday = (NOW - timedelta(days=1)).date().isoformat()
    assert f"date={yesterday}" not in text or (NOW - timedelta(minutes=10)).date().isoformat() == yesterday


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ('DELETE FROM "my-app"."nginx_access"', "DELETE"),
        ('SELECT * FROM "other"."nginx_access"', "unknown database"),
        ("SELECT * FROM read_parquet('s3://x/y')", "reads files"),
        ('SELECT bin(time, 1.5s) FROM "my-app"."nginx_access"', "whole seconds"),
    ],
)
def test_what_the_local_store_refuses_athena_refuses_too(sql: str, message: str) -> None:
    with pytest.raises(dialect.QueryError, match=message):
        athena_sql.prepare(sql, DATABASE, GLUE, ["nginx_access"])
