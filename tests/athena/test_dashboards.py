"""The Logs explorer and the Pipeline dashboard on the athena store: every panel's query goes to the
Grafana Athena plugin (grafana-athena-datasource), translated from the one query text the
Timestream variant sends; run on the loader's Parquet objects it gives the Timestream variant's rows.

Upstream facts pinned here, read in grafana/athena-datasource at tag v3.3.3:
- ``src/plugin.json``: the plugin id ``grafana-athena-datasource``;
- ``src/types.ts``: ``AthenaQuery`` has ``rawSQL``, ``format`` and ``connectionArgs``
  ``{region, catalog, database}`` (``__default``: the datasource's own); ``FormatOptions`` is
  ``TimeSeries, Table, Logs`` (0, 1, 2); ``AthenaDataSourceOptions`` has ``catalog``, ``database``,
  ``workgroup``, ``outputLocation``;
- ``pkg/athena/macros.go``: ``$__timeFrom()``/``$__timeTo()`` → ``TIMESTAMP 'yyyy-MM-dd HH:mm:ss'``
  of the range in UTC; ``$__timeGroup(col, '<interval>')`` →
  ``FROM_UNIXTIME(FLOOR(TO_UNIXTIME(col)/<s>)*<s>)`` with the interval in seconds (Go's ``%v`` of a
  float: ``60``); ``$__dateFilter`` compares with ``date '…'`` literals (not used: the partition
  column is a string).
:func:`expand` below does what those macros do; the Timestream variant is expanded by
:mod:`dendro.grafana.macros` and translated by the local store's dialect, as tests/grafana do.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dendro import config as config_module
from dendro.grafana import athena
from dendro.grafana.build import dashboards
from dendro.grafana.macros import Range, expand_sql, variables
from dendro.grafana.provisioning import datasources_file
from dendro.grafana.timestream import TimestreamTarget
from dendro.pipeline.athena_loader import ParquetLoader
from dendro.pipeline.loader import Settings
from dendro.services import BUILTIN
from dendro.store import dialect
from dendro.store import parquet_layout as layout
from tests.athena.helpers import BUCKET, download, s3  # noqa: F401
from tests.athena.test_queries import _at_timezone, to_duckdb
from tests.loader.helpers import ndjson, s3_event

END = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
START = END - timedelta(hours=3)
HOSTS = ["web-0", "web-1", "db-1", "node-1"]


def _config(store: str) -> config_module.Config:
    return config_module.from_dict(
        {"pipeline": "dendro", "backend": "aws", "services": list(BUILTIN), "aws": {"store": store}}
    )


def _events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for i in range(200):
        when = END - timedelta(minutes=i) + timedelta(seconds=7)  # a few after the range's end too
        events.append({
            "type": "nginx_access", "host": f"web-{i % 2}", "timestamp": when.isoformat(), "method": "GET",
            "protocol": "HTTP/1.1", "status": (503, 404, 200, 200)[i % 4], "path": f"/p/{i % 5}",
            "bytes": i, "duration": 0.01 * (i % 9), "client_ip": "10.0.0.1", "user_agent": "t",
            "message": "raw line" if i % 4 == 0 else None,
        })  # fmt: skip
    for i in range(30):
        when = END - timedelta(minutes=7 * i + 1)
        events.append(
            {
                "type": "postgres",
                "host": "db-1",
                "timestamp": when.isoformat(),
                "level": ("ERROR", "FATAL", "LOG")[i % 3],
                "message": f"m{i}",
                "duration": 1.0 * i,
            }
        )
        events.append(
            {
                "type": "parse_error",
                "host": "node-1",
                "timestamp": when.isoformat(),
                "source": "nginx",
                "error": "no match",
                "message": f"line {i}",
            }
        )
    return events


def _targets(board: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(panel["title"], t) for panel in board["panels"] for t in panel.get("targets", [])]


def _athena_targets() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    boards = dashboards(_config("athena"))
    return {
        name: [(t, q) for t, q in _targets(boards[name]) if "rawSQL" in q] for name in ("logs", "pipeline")
    }


def expand(
    sql: str, start: datetime, end: datetime, values: dict[str, list[str]], interval: str = "1m"
) -> str:
    """The SQL Athena receives: Grafana's variables, then the plugin's macros (macros.go, v3.3.3)."""
    text = variables(sql.replace("$__interval", interval), values)

    def group(match: re.Match[str]) -> str:
        column, spec = match.group(1).strip(), match.group(2).strip().strip("'")
        seconds = int(spec[:-1]) * {"s": 1, "m": 60, "h": 3600}[spec[-1]]
        return f"FROM_UNIXTIME(FLOOR(TO_UNIXTIME({column})/{seconds})*{seconds})"

    text = re.sub(r"\$__timeGroup\(([^,]+),([^)]+)\)", group, text)
    text = text.replace("$__timeFrom()", f"TIMESTAMP '{start.astimezone(UTC):%Y-%m-%d %H:%M:%S}'")
    return text.replace("$__timeTo()", f"TIMESTAMP '{end.astimezone(UTC):%Y-%m-%d %H:%M:%S}'")


@pytest.fixture
def duck(s3: Any, tmp_path: Path) -> duckdb.DuckDBPyConnection:  # noqa: F811
    tables = _config("athena").store_tables()
    key = "raw/2026/11/26/12/dendro-1-x"
    s3.put_object(Bucket=BUCKET, Key=key, Body=ndjson(_events()))
    ParquetLoader(Settings(database="dendro", tables=tables, bucket=BUCKET), s3).handle(s3_event(BUCKET, key))
    download(s3, tmp_path)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    _at_timezone(con)
    con.execute('CREATE SCHEMA "dendro"')
    for name, table in tables.items():
        files = sorted((tmp_path / "tables" / name).glob("date=*/*.parquet"))
        if not files:
            empty = tmp_path / "tables" / name / "date=1970-01-01" / "19700101T000000Z-000000000000.parquet"
            empty.parent.mkdir(parents=True)
            layout.writer(str(empty), layout.arrow_schema(table)).close()
            files = [empty]
        listed = ", ".join(f"'{f}'" for f in files)
        con.execute(
            f'CREATE VIEW "dendro"."{name}" AS SELECT * FROM read_parquet([{listed}], '
            "hive_partitioning = true, hive_types = {'date': VARCHAR})"
        )
    return con


def _naive(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    def plain(v: Any) -> Any:
        return v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) and v.tzinfo else v

    return sorted((tuple(plain(v) for v in row) for row in rows), key=repr)


def test_every_athena_panel_gives_the_timestream_panels_rows(duck: duckdb.DuckDBPyConnection) -> None:
    timestream = dashboards(_config("timestream"))
    window = Range(START, END, 60_000, {"host": HOSTS, "database": "dendro"}, "dendro")
    names = list(_config("athena").store_tables())
    compared = 0
    for board, targets in _athena_targets().items():
        reference = [(t, q) for t, q in _targets(timestream[board]) if "rawQuery" in q]
        assert [t for t, _ in targets] == [t for t, _ in reference]
        for (title, target), (_, ts) in zip(targets, reference, strict=True):
            local_sql = expand_sql(
                TimestreamTarget(rawQuery=ts["rawQuery"], columns=("x",), database="dendro"), window
            )
            local = duck.execute(dialect.prepare(local_sql, "dendro", names).sql).fetchall()
            trino = expand(target["rawSQL"], START, END, {"host": HOSTS})
            got = duck.execute(to_duckdb(trino)).fetchall()
            assert _naive(got) == _naive(local), (board, title)
            compared += 1 if local else 0
    assert compared >= 8  # panels with rows (nginx, postgres, parse errors), not only empty ones


def test_the_athena_targets_follow_the_plugins_query_model() -> None:
    targets = [q for pairs in _athena_targets().values() for _, q in pairs]
    assert len(targets) >= 20
    for target in targets:
        assert target["datasource"] == {"type": "grafana-athena-datasource", "uid": athena.ATHENA_UID}
        assert target["format"] in (0, 1)
        assert target["connectionArgs"] == {
            "region": "__default",
            "catalog": "__default",
            "database": "__default",
        }
        assert (
            "$__timeFrom()" in target["rawSQL"]
            and '"date" >= CAST(CAST($__timeFrom() AS DATE)' in target["rawSQL"]
        )
        assert "$__database" not in target["rawSQL"] and "from_milliseconds" not in target["rawSQL"].lower()
    series = [q for q in targets if "$__timeGroup" in q["rawSQL"]]
    assert series and all(q["format"] == athena.TIME_SERIES for q in series)


def test_the_provisioning_tree_gets_the_athena_datasource() -> None:
    sources = datasources_file(_config("athena"))["datasources"]
    assert [s["type"] for s in sources] == ["prometheus", "grafana-athena-datasource"]
    assert sources[1]["jsonData"] == {
        "authType": "default",
        "defaultRegion": "us-east-1",
        "catalog": "AwsDataCatalog",
        "database": "dendro",
        "workgroup": "dendro",
    }
    assert [s["type"] for s in datasources_file(_config("timestream"))["datasources"]] == [
        "prometheus",
        "grafana-timestream-datasource",
    ]


def test_a_macro_without_an_athena_form_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\$__now_ms"):
        athena.athena_sql_of(
            'SELECT 1 FROM "$__database"."agent" WHERE time > $__now_ms', "dendro", ["agent"]
        )
