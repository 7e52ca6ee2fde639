"""The demo looks like production: a day of history written first, nodes that differ, counters that
only grow, disks of a fixed size, incidents shaped like real ones and the alerts they should fire.

One backfill of the scripts/demo services (nginx, apache, postgres, mysql, syslog, host) into a
real local store, through ``LocalStore.write`` as ``dendro up --demo`` does it, of a story that
started 40 minutes before the end of the history (so the incidents that follow a demo's start,
a broken deploy on web-3 and a storm of slow statements, are in it too). The alerts are the
console's own evaluator (dendro.alerts.state) over that store, at the story's start and during
each incident.
"""

from __future__ import annotations

import itertools
import random
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dendro.alerts import model, state
from dendro.config import from_dict
from dendro.ingest import demo
from dendro.ingest.demo import AGENT_BUILD, Backfilled, Story
from dendro.services import catalog, tables_of
from dendro.services.internal import AGENT_METRICS
from dendro.store.local import LocalStore

NAMES = ["nginx", "apache", "postgres", "mysql", "syslog", "host"]
SERVICES = [catalog()[name] for name in NAMES]
NOW = datetime.now(UTC).replace(microsecond=0)
STARTED = NOW - timedelta(minutes=40)
#: the backfill of a day must take seconds: measured 15 to 31 s on two shared cores (docs/local.md)
SECONDS = 60


@pytest.fixture(scope="module")
def history() -> Iterator[tuple[LocalStore, Backfilled]]:
    directory = Path(tempfile.mkdtemp(prefix="dendro-demo-"))
    store = LocalStore(directory / "dendro.duckdb", "dendro", tables_of(list(catalog().values())))
    try:
        yield store, demo.backfill(store, SERVICES, Story(STARTED), NOW, seed=7)
    finally:
        store.close()


def _rows(store: LocalStore, sql: str) -> list[dict[str, Any]]:
    return store.query(sql, max_rows=1_000_000).dicts()


def _at(minutes: float) -> str:
    """A SQL time literal ``minutes`` before NOW."""
    moment = NOW - timedelta(minutes=minutes)
    return f"from_iso8601_timestamp('{moment.strftime('%Y-%m-%dT%H:%M:%S')}Z')"


def test_a_day_of_history_is_written_first_in_seconds(history: tuple[LocalStore, Backfilled]) -> None:
    store, done = history
    assert done.start == NOW - timedelta(hours=24) and done.end == NOW
    assert done.rejected == 0 and done.events > 300_000
    assert done.seconds < SECONDS, f"the backfill took {done.seconds:.1f} s"
    assert _rows(store, 'SELECT count(*) AS n FROM "dendro"."parse_error"')[0]["n"] == 0
    # every hour of the day has traffic on every web node: the 24-hour charts are full at first view
    rows = _rows(store, 'SELECT host, bin(time, 1h) AS hour, count(*) AS n FROM "dendro"."nginx_access"'
                        " GROUP BY host, bin(time, 1h)")
    hours = {(r["host"], r["hour"]) for r in rows if r["n"] > 0}
    assert len(hours) >= 3 * 24
    # a second start fills only the gap since the newest stored event (here: less than a second)
    again = demo.backfill(store, SERVICES, Story(STARTED), NOW, seed=8)
    assert again.start is not None and NOW - again.start < timedelta(seconds=2) and again.events < 50


def test_nodes_differ_in_traffic_latency_and_errors(history: tuple[LocalStore, Backfilled]) -> None:
    store, _ = history
    rows = _rows(store, "SELECT host, count(*) AS n, approx_percentile(duration, 0.5) AS p50,"
                        " sum(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS errors"
                        f' FROM "dendro"."nginx_access" WHERE time < {_at(60)} AND time >= {_at(6 * 60)}'
                        " GROUP BY host")
    by = {r["host"]: r for r in rows}
    assert by["web-1"]["n"] > 1.2 * by["web-2"]["n"] > 1.2 * 1.2 * by["web-3"]["n"]
    assert by["web-3"]["p50"] > 1.5 * by["web-1"]["p50"]
    share = {host: r["errors"] / r["n"] for host, r in by.items()}
    assert share["web-3"] > share["web-1"] and max(share.values()) < 0.02


def test_counters_only_go_up_into_live_traffic(history: tuple[LocalStore, Backfilled]) -> None:
    store, _ = history
    tags = {"host": "mountpoint, device, cpu, mode", "postgres_metrics": "db", "nginx_metrics": "state",
            "apache_metrics": "state"}
    checked = 0
    for table, extra in tags.items():
        rows = _rows(store, f"SELECT host, name, {extra}, time, value FROM \"dendro\".\"{table}\""
                            " WHERE kind = 'counter' ORDER BY time")
        last: dict[tuple[Any, ...], float] = {}
        for row in rows:
            key = tuple(v for k, v in row.items() if k not in ("time", "value"))
            assert row["value"] >= last.get(key, 0.0), (table, key)
            last[key] = row["value"]
            checked += 1
        # the first live second continues each series
        live = demo.tick_events(SERVICES, Story(STARTED), random.Random(1), NOW + timedelta(seconds=60), NOW)
        for event in live:
            if event["type"] == table and event["kind"] == "counter":
                key = tuple(event.get(k) for k in ("host", "name", *[c.strip() for c in extra.split(",")]))
                assert event["value"] >= last.get(key, 0.0), (table, key)
    assert checked > 50_000


def test_cpu_busy_wobbles_from_minute_to_minute_and_cpus_differ(
    history: tuple[LocalStore, Backfilled],
) -> None:
    """A CPU busy line that is a perfect curve is no machine's: each minute's busy share moves by a
    point or more, and the first CPU is busier than the others (its counters only grow: above)."""
    store, _ = history
    rows = _rows(store, 'SELECT cpu, mode, bin(time, 60s) AS t, max(value) AS v FROM "dendro"."host"'
                        f" WHERE host = 'web-1' AND name = 'cpu_seconds_total' AND time >= {_at(180)}"
                        f" AND time < {_at(60)} GROUP BY cpu, mode, bin(time, 60s)")
    seconds: dict[tuple[str, Any], dict[str, float]] = {}
    for row in rows:
        seconds.setdefault((row["cpu"], row["t"]), {})[row["mode"]] = row["v"]
    busy: dict[str, list[float]] = {}
    for cpu in ("0", "1"):
        minutes = sorted(t for c, t in seconds if c == cpu)
        for before, after in itertools.pairwise(minutes):
            spent = {m: seconds[(cpu, after)][m] - seconds[(cpu, before)][m] for m in seconds[(cpu, after)]}
            busy.setdefault(cpu, []).append(100 * (1 - spent["idle"] / sum(spent.values())))
    steps = [abs(b - a) for a, b in itertools.pairwise(busy["0"])]
    assert len(steps) > 100 and sorted(steps)[len(steps) // 2] > 0.5
    assert sum(busy["0"]) > 1.2 * sum(busy["1"])


def test_disks_and_memory_keep_their_size(history: tuple[LocalStore, Backfilled]) -> None:
    store, _ = history
    rows = _rows(store, 'SELECT host, name, count(DISTINCT value) AS sizes FROM "dendro"."host"'
                        " WHERE name IN ('filesystem_total_bytes', 'memory_total_bytes') GROUP BY host, name")
    assert len(rows) == 8 and all(r["sizes"] == 1 for r in rows)
    sizes = {r["value"] for r in _rows(store, "SELECT DISTINCT value FROM \"dendro\".\"host\""
                                              " WHERE name = 'filesystem_total_bytes'")}
    assert len(sizes) > 1  # nodes differ


def _share(store: LocalStore, table: str, host: str, start: float, end: float) -> float:
    row = _rows(store, "SELECT count(*) AS n, sum(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS errors"
                       f' FROM "dendro"."{table}" WHERE host = \'{host}\''
                       f" AND time >= {_at(start)} AND time < {_at(end)}")[0]
    return row["errors"] / row["n"]


def test_a_broken_deploy_raises_5xx_on_one_node(history: tuple[LocalStore, Backfilled]) -> None:
    store, _ = history
    before = 40 + 7 * 60 + 5  # the history's deploy on web-2, 14 minutes long
    for table in ("nginx_access", "apache_access"):
        assert _share(store, table, "web-2", before - 2, before - 12) > 0.15
        assert _share(store, table, "web-1", before - 2, before - 12) < 0.03
        assert _share(store, table, "web-2", before + 60, before + 5) < 0.03


def test_a_slow_query_storm_has_long_statements_and_timeouts(history: tuple[LocalStore, Backfilled]) -> None:
    store, _ = history
    storm = (40 + 15 * 60 + 20, 40 + 15 * 60 - 5)  # 25 minutes long
    inside = f"time >= {_at(storm[0])} AND time < {_at(storm[1])}"
    outside = f"time >= {_at(storm[0] + 300)} AND time < {_at(storm[0] + 60)}"
    p95 = ("SELECT approx_percentile(duration, 0.95) AS p95, sum(CASE WHEN message LIKE '%statement timeout%'"
           ' THEN 1 ELSE 0 END) AS timeouts FROM "dendro"."postgres" WHERE ')
    during, calm = _rows(store, p95 + inside)[0], _rows(store, p95 + outside)[0]
    assert during["p95"] > 5 and calm["p95"] < 1
    assert during["timeouts"] > 10 and calm["timeouts"] == 0
    backends = _rows(store, "SELECT max(value) AS most FROM \"dendro\".\"postgres_metrics\""
                            f" WHERE name = 'pg_stat_database_numbackends' AND {inside}")[0]["most"]
    assert backends > 60  # connections pile up towards max_connections


def test_a_disk_fills_for_hours_then_is_cleaned(history: tuple[LocalStore, Backfilled]) -> None:
    store, _ = history
    rows = _rows(store, "SELECT time, value FROM \"dendro\".\"host\" WHERE host = 'db-1'"
                        " AND name = 'filesystem_used_ratio' ORDER BY time")
    start = STARTED - timedelta(hours=5)
    before = [r["value"] for r in rows if r["time"].replace(tzinfo=UTC) < start]
    filling = [r["value"] for r in rows if r["time"].replace(tzinfo=UTC) >= start]
    assert max(before) - min(before) < 0.01  # a normal day: the same fill
    assert filling[-1] - filling[0] > 0.2 and filling[-1] > 0.9
    hourly = filling[::60]
    assert all(b > a for a, b in itertools.pairwise(hourly))


def _firing(store: LocalStore, at: datetime) -> set[tuple[str, str]]:
    config = from_dict({"services": NAMES})
    found = set()
    for result in state.states(store, config, model.rules(config), now=at):
        found |= {(result.rule.name, a.series) for a in result.active if a.state == "firing"}
    return found


def test_the_alerts_that_fire_are_the_incidents(history: tuple[LocalStore, Backfilled]) -> None:
    store, _ = history
    # when the demo starts: only the filling disk's forecast (it has been filling for five hours)
    assert _firing(store, STARTED) == {("host_disk_forecast", "db-1:/")}
    # twelve minutes into the deploy on web-3: its 5xx ratio (and the count CloudWatch would alert on)
    deploy = _firing(store, STARTED + timedelta(minutes=16))
    assert {("nginx_error_ratio", "web-3"), ("apache_error_ratio", "web-3")} <= deploy
    assert not {name for name, _ in deploy} & {"postgres_error", "postgres_fatal", "mysql_error", "host_cpu"}
    # six minutes into the storm: statement timeouts (ERROR) and connections refused at its peak (FATAL)
    storm = _firing(store, STARTED + timedelta(minutes=26))
    assert {("postgres_error", "db-1"), ("postgres_fatal", "db-1")} <= storm
    assert not {name for name, _ in storm} & {"nginx_error_ratio", "apache_error_ratio", "mysql_error"}
    # the disk has crossed 90% by now
    assert ("host_disk", "db-1:/") in _firing(store, NOW)


def test_levels_are_the_servers_own(history: tuple[LocalStore, Backfilled]) -> None:
    """A quiet MariaDB writes Notes and Warnings (an InnoDB buffer pool dump is a Note); Errors only
    when its filesystem is full, which this day's history never reaches."""
    store, _ = history
    sql = 'SELECT level, count(*) AS n FROM "dendro"."mysql_error" GROUP BY level'
    levels = {r["level"]: r["n"] for r in _rows(store, sql)}
    assert set(levels) <= {"Note", "Warning"} and levels
    sql = "SELECT DISTINCT level FROM \"dendro\".\"mysql_error\" WHERE message LIKE '%Buffer pool%'"
    notes = _rows(store, sql)
    assert [r["level"] for r in notes] == ["Note"]


def test_the_agents_are_vector_heartbeats(history: tuple[LocalStore, Backfilled]) -> None:
    """Shaped as Vector's heartbeat (build_info with its version tag, uptime_seconds) and merged as the
    config's reduce merges them: one row a minute per node, Vector's real version, uptimes that grow."""
    store, _ = history
    assert set(AGENT_METRICS) == {"build_info", "uptime_seconds"}
    assert AGENT_BUILD["version"] == "0.57.0"  # vectordotdev/vector Cargo.toml at v0.57.0
    rows = _rows(store, 'SELECT host, count(*) AS n, count(DISTINCT version) AS versions, max(version) AS v,'
                        ' min(uptime) AS first, max(uptime) AS last FROM "dendro"."agent" GROUP BY host')
    assert {r["host"] for r in rows} == {"web-1", "web-2", "web-3", "db-1"}
    for row in rows:
        assert row["n"] == 24 * 60 and row["versions"] == 1 and row["v"] == "0.57.0"
        assert row["last"] - row["first"] == pytest.approx(24 * 3600 - 60, abs=2)


def test_dendro_up_says_it_makes_demo_traffic_and_gives_no_agent_advice(tmp_path: Path) -> None:
    """The demo's `dendro up` names its traffic as the demo's and prints none of what real nodes need
    (where agents post, the ingest token); scripts/demo writes no vector.yaml and keeps the ingest local."""
    from dendro.cli_common import console
    from dendro.config import Config
    from dendro.ingest.commands import _ready
    from dendro.runtime.up import Up, UpOptions
    from tests.support import free_port

    options = UpOptions(tmp_path / "data", free_port(), free_port(), free_port(), demo=True, bind="127.0.0.1",
                        demo_history=timedelta(minutes=5))
    up = Up(Config(services={"nginx": {}}), options)
    up.start()
    try:
        with console.capture() as captured:
            _ready(up)
        said = captured.get()
    finally:
        up.stop()
    assert "generating demo traffic (not real nodes): web-1, web-2, web-3" in said
    assert "backfilled in" in said and "Dendro is up" in said
    assert "listening" not in said and up.token not in said and "agents" not in said
    script = (Path(__file__).resolve().parents[2] / "scripts" / "demo").read_text()
    assert "dendro configure" not in script and "--ingest-bind 127.0.0.1" in script
    assert "generating demo traffic" in script
