"""Every Timestream panel's SQL, with the plugin's macros expanded for a fixed range, runs on the
local store over known data (and every catalog sample's event) and returns the columns its panel
expects, with rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dendro.grafana.macros import Range, expand_sql
from dendro.grafana.timestream import TIME_SERIES, TimestreamTarget
from dendro.services import all_tables
from dendro.store.local import LocalStore
from tests.grafana.helpers import known_events, sample_events, timestream_targets

AT = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
WINDOW = Range(start=AT - timedelta(hours=1), end=AT + timedelta(minutes=5), interval_ms=60_000,
               variables={"host": ["web-1", "web-2", "db-1"], "database": "dendro"}, database="dendro")
TARGETS = timestream_targets()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStore]:
    path: Path = tmp_path_factory.mktemp("grafana-sql") / "dendro.duckdb"
    with LocalStore(path, "dendro", all_tables()) as local:
        # outside the range: must not be counted
        before = [*known_events(AT - timedelta(days=2)), *sample_events(AT - timedelta(days=2))]
        # with every catalog sample's event, so a service's panels have data without a list here
        result = local.write([*known_events(AT), *sample_events(AT), *before])
        assert not result.rejected, result.rejected
        yield local


def test_timestream_panels_are_on_the_logs_and_pipeline_dashboards() -> None:
    assert {name for name, _, _ in TARGETS} == {"logs", "pipeline"}
    assert len(TARGETS) >= 10


def test_macros_expand_as_the_plugin_does() -> None:
    target = TimestreamTarget(
        rawQuery='SELECT bin(time, $__interval_ms) AS time, count(*) AS n FROM "$__database"."nginx_access"'
        " WHERE $__timeFilter AND host IN ($host) AND $__interval_raw_ms > 0 GROUP BY 1 ORDER BY time",
        columns=("time", "n"))
    sql = expand_sql(target, WINDOW)
    assert sql == (
        'SELECT bin(time, 60000ms) AS time, count(*) AS n FROM "dendro"."nginx_access" WHERE time BETWEEN'
        " from_milliseconds(1795692600000) AND from_milliseconds(1795696500000) AND host IN"
        " ('web-1','web-2','db-1') AND 60000 > 0 GROUP BY 1 ORDER BY time")


@pytest.mark.parametrize(("dashboard", "title", "target"), TARGETS, ids=[f"{d}:{t}" for d, t, _ in TARGETS])
def test_panel_sql_runs_on_the_local_store(store: LocalStore, dashboard: str, title: str,
                                           target: TimestreamTarget) -> None:
    sql = expand_sql(target, WINDOW)
    assert "$" not in sql, f"unexpanded macro or variable in {sql}"
    result = store.query(sql)
    assert tuple(c.name for c in result.columns) == target.columns
    assert result.rows, f"{dashboard}/{title} returned nothing for the known data: {sql}"
    if target.format == TIME_SERIES:
        assert result.columns[0].type.startswith("TIMESTAMP")
        times = [row[0] for row in result.rows]
        assert times == sorted(times)
    stamps = [v for row in result.rows for v in row if isinstance(v, datetime)]
    assert all(WINDOW.start - timedelta(minutes=1) <= s.replace(tzinfo=UTC) <= WINDOW.end for s in stamps)
