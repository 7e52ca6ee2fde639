"""The Redis catalog module on its own: every sample, the upstream facts it relies on, its fixtures.

No server runs here (tests/services_db/test_redis.py has the real redis-server). Upstream
sources read: redis/redis ``src/server.c`` (serverLogRaw, serverLogFromHandler,
sigShutdownHandler), ``src/rdb.c``, ``src/aof.c``, ``src/replication.c``, ``src/networking.c``,
``src/debug.c`` and ``src/asciilogo.h`` at tag 7.0.15 (f35f36a265403c07b119830aa4bb3b7d71653ec9),
plus the prefix of tags 2.6.0/2.8.24 and 3.0.0-4.0.0; vectordotdev/vector v0.57.0
(8832452f57afb536ea0de53a093f9fd1b669ccec) ``src/sources/redis/mod.rs``, ``src/sources/exec/mod.rs``
and ``lib/vector-core/src/config/global_options.rs``.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from vrl_python import VRLRuntime

from dendro.alerts.defaults import service_rules
from dendro.services import catalog, redis
from dendro.services.runner import decode_line, run, run_events
from dendro.services.scene import DISK_FILLING, QUIET, scene_of
from dendro.vector import render
from tests.support import shared_samples

SERVICE = redis.SERVICE
def test_parsers_sources_tables_and_settings_agree() -> None:
    names = {t.name for t in SERVICE.tables}
    assert names == {"redis", "redis_metrics"}
    for source in SERVICE.sources:
        SERVICE.parser(source.parser)
    for red in SERVICE.red:
        assert red.table in names
        SERVICE.table(red.table).column(red.level or "")
    for alert in SERVICE.alert_events:
        table = SERVICE.table(alert.table)
        for column in alert.match:
            table.column(column)
    keys = {s.key for s in SERVICE.settings}
    assert keys == {"log", "metrics_url", "timezone"}  # timezone: Redis writes local time
    assert SERVICE.defaults()["log"] == ["/var/log/redis/redis-server.log"]  # Debian's redis.conf


def test_levels_and_roles_are_server_logs() -> None:
    # redis/redis src/server.c serverLogRaw (7.0.15): c = ".-*#" indexed by LL_DEBUG, LL_VERBOSE,
    # LL_NOTICE, LL_WARNING; role_char 'X' sentinel, 'C' (pid != server.pid) child, 'S' if
    # server.masterhost else 'M'
    assert list(redis.LEVELS) == list(".-*#")
    assert list(redis.LEVELS.values()) == ["debug", "verbose", "notice", "warning"]
    assert redis.ROLES == {"M": "master", "S": "replica", "C": "child", "X": "sentinel"}


def _problem(message: str, role: str = "M", level: str = "#") -> str | None:
    line = f"4100:{role} 04 Dec 2026 16:40:00.000 {level} {message}"
    event = run(SERVICE.parser("redis"), {"message": line, "host": "cache-1"})
    assert event["type"] == "redis", event
    return event.get("problem")


#: messages as the 7.0.15 sources write them (file: function), and the class each must get
UPSTREAM_MESSAGES = [
    ("Background saving error", "rdb_save_failed"),  # rdb.c backgroundSaveDoneHandlerDisk
    ("Background saving terminated by signal 9", "rdb_save_failed"),
    ("Background saving terminated by signal 10", None),  # SIGUSR1: lastbgsave_status stays ok
    ("Can't save in background: fork: Cannot allocate memory", "rdb_save_failed"),  # rdb.c rdbSaveBackground
    ("Error trying to save the DB, can't exit.", "rdb_save_failed"),  # server.c finishShutdown
    ("Write error saving DB on disk(fsync): Input/output error", "rdb_save_failed"),  # rdb.c rdbSave
    ("Error moving temp DB file temp-1.rdb on the final destination dump.rdb (in server root dir /x): E",
     "rdb_save_failed"),
    ("Background AOF rewrite terminated with error", "aof_failed"),  # aof.c backgroundRewriteDoneHandler
    ("Background AOF rewrite terminated by signal 9", "aof_failed"),
    ("Error writing to the AOF file: No space left on device", "aof_failed"),  # aof.c flushAppendOnlyFile
    ("Can't rewrite append only file in background: fork: Cannot allocate memory", "aof_failed"),
    ("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...", "aof_failed"),
    ("Error condition on socket for SYNC: Connection refused", "replication_error"),  # replication.c
    ("MASTER timeout: no data nor PING received...", "replication_error"),
    ("Connection with master lost.", "replication_error"),  # networking.c freeClient
    ("Unable to connect to MASTER: Connection refused", "replication_error"),
    ("I/O error reading bulk count from MASTER: Connection reset by peer", "replication_error"),
    ("Timeout connecting to the MASTER...", "replication_error"),
    ("Redis 7.0.15 crashed by signal: 11, si_code: 2", "crash"),  # debug.c sigsegvHandler
    ("Guru Meditation: Unknown encoding type #object.c:123", "crash"),  # debug.c _serverPanic
    ("=== ASSERTION FAILED ===", "crash"),  # debug.c _serverAssert
    ("Out Of Memory allocating 1048576 bytes!", "crash"),  # server.c redisOutOfMemoryHandler
    ("WARNING overcommit_memory is set to 0! Background save may fail under low memory condition.",
     "config_warning"),  # server.c (<= 6.x)
    ("WARNING: The TCP backlog setting of 511 cannot be enforced because "
     "/proc/sys/net/core/somaxconn is set to the lower value of 128.", "config_warning"),
    ("+switch-master mymaster 127.0.0.1 6379 127.0.0.1 6380", "failover"),  # sentinel.c
    ("+odown master mymaster 127.0.0.1 6379 #quorum 2/2", "failover"),
    ("+sdown slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379", None),
    ("Server initialized", None),
    ("User requested shutdown...", None),
    ("Setting secondary replication ID to abc, valid up to offset: 1. New replication ID is def", None),
]


@pytest.mark.parametrize(("message", "problem"), UPSTREAM_MESSAGES,
                         ids=[m[:40] for m, _ in UPSTREAM_MESSAGES])
def test_upstream_messages_get_their_problem(message: str, problem: str | None) -> None:
    assert _problem(message) == problem


def test_only_the_parents_warning_lines_are_problems() -> None:
    assert _problem("Background saving error", level="*") is None  # not at warning level
    # the child's own failure is the cause of the parent's "Background saving error"
    assert _problem("Failed opening the temp RDB file temp-9.rdb (in server root dir /x) for saving: E",
                    role="C") is None
    assert _problem("Failed opening the temp RDB file temp-9.rdb (in server root dir /x) for saving: E",
                    role="M") == "rdb_save_failed"
    assert _problem("Error condition on socket for SYNC: Connection refused", role="S") == "replication_error"


def test_times_without_zone_are_read_in_the_transforms_zone() -> None:
    """No ``timezone:`` in the program: Vector reads Redis's local time in its ``timezone`` option,
    which defaults to the node's local zone (vectordotdev/vector v0.57.0
    ``lib/vector-core/src/config/global_options.rs``: ``self.timezone.unwrap_or(TimeZone::Local)``)."""
    line = {"message": "1:M 04 Dec 2026 16:36:08.116 * Ready to accept connections", "host": "cache-1"}
    assert run(SERVICE.parser("redis"), line)["timestamp"] == "2026-12-04T16:36:08.116000Z"
    paris = VRLRuntime(timezone="Europe/Paris").execute(redis.REDIS_VRL, line).processed_event
    assert paris["timestamp"] == "2026-12-04T15:36:08.116000Z"
    # the signal handler writes epoch seconds: exact whatever the zone
    signal = {"message": "1:signal-handler (1796402168) Received SIGTERM scheduling shutdown...",
              "host": "cache-1"}
    handled = VRLRuntime(timezone="Europe/Paris").execute(redis.REDIS_VRL, signal).processed_event
    assert handled["timestamp"] == "2026-12-04T16:36:08.000000Z"


def test_vector_has_no_redis_metrics_source_so_info_comes_through_exec() -> None:
    """vectordotdev/vector v0.57.0 ``src/sources/redis/mod.rs``: the ``redis`` source's
    ``data_type`` is ``list`` or ``channel`` (it consumes messages, it is no metrics source), and
    ``src/sources/`` has no redis_metrics. ``src/sources/exec/mod.rs``: ``mode`` scheduled with
    ``scheduled.exec_interval_secs``, ``command`` a list, ``include_stderr`` (default true)."""
    source = next(s for s in SERVICE.sources if s.id == "redis_metrics")
    assert source.kind == "exec"
    component = render.source_component(source, {"metrics_url": "redis://127.0.0.1:6379"})
    assert component == {
        "type": "exec",
        "mode": "scheduled",
        "scheduled": {"exec_interval_secs": 15},
        "command": ["redis-cli", "--no-auth-warning", "-u", "redis://127.0.0.1:6379", "INFO"],
        "include_stderr": True,
    }
    assert render.source_component(source, {"metrics_url": ""}) is None  # empty: no metrics source
    logs = next(s for s in SERVICE.sources if s.id == "redis_logs")
    assert render.source_component(logs, {"log": ["/var/log/redis/redis-server.log"]}) == {
        "type": "file", "include": ["/var/log/redis/redis-server.log"], "read_from": "end"}


def test_exec_events_are_shaped_as_vector_emits_them() -> None:
    """src/sources/exec/mod.rs handle_event (v0.57.0), legacy namespace: ``stream`` (STREAM_KEY),
    ``pid`` (PID_KEY), ``host``, ``command`` (COMMAND_KEY, the argument list), plus the standard
    source metadata ``timestamp`` and ``source_type``; the line itself is ``message``."""
    event = redis.exec_event("connected_clients:1\r", url="redis://127.0.0.1:6400")
    assert set(event) == {"message", "timestamp", "source_type", "stream", "pid", "host", "command"}
    assert event["source_type"] == "exec" and event["stream"] == "stdout"
    assert event["command"] == ["redis-cli", "--no-auth-warning", "-u", "redis://127.0.0.1:6400", "INFO"]


def test_a_remote_server_is_named_by_its_url_and_a_local_one_by_the_node() -> None:
    parser = SERVICE.parser("redis_metrics")
    for url, host in (("redis://localhost:6379", "cache-1"), ("redis://127.0.0.1:6379/0", "cache-1"),
                      ("rediss://user:pw@cache-9.internal:6380", "cache-9.internal")):
        assert run(parser, redis.exec_event("connected_clients:1\r", url=url))["host"] == host


def test_red_mapping_and_alerts() -> None:
    (red,) = SERVICE.red
    assert (red.table, red.level, red.duration) == ("redis", "problem", None)
    assert red.error_levels == ("rdb_save_failed", "aof_failed", "replication_error", "crash")
    classes = {name for name, _ in redis.PROBLEMS}
    alerts = {a.name: a for a in SERVICE.alert_events}
    for alert in alerts.values():
        assert set(alert.match["problem"]) <= classes
    assert alerts["redis_persistence_failed"].severity == "critical"
    assert alerts["redis_crash"].severity == "critical"
    rules = {r.name: r for r in service_rules(SERVICE)}
    # problems counted as errors alert through the exporter's error counts, the others through events
    assert rules["redis_persistence_failed"].levels == ("rdb_save_failed", "aof_failed")
    assert rules["redis_config_warning"].levels == ()


def test_unbounded_values_are_not_dimensions() -> None:
    assert not SERVICE.table("redis").column("message").dimension
    assert not SERVICE.table("redis").column("pid").dimension


# file -> (lines, events, lines that make no event, parse_errors)
FIXTURES = {
    "redis-5.0.3.log": (1, 1, 0, 0),
    "redis-darwin-3.0.2.log": (54, 18, 36, 0),  # two starts, each with the 17-line logo and a blank
    "redis-windows-2.4.6.log": (34, 34, 0, 0),
    "test.log": (4, 4, 0, 0),
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_upstream_fixture_files(name: str) -> None:
    path: Path = shared_samples() / "redis" / name
    lines = [decode_line(raw) for raw in path.read_bytes().split(b"\n")]
    if lines and lines[-1] == "":
        lines.pop()
    results = [run_events(SERVICE.parser("redis"), {"message": line, "host": "cache-1"}) for line in lines]
    events = [e for r in results for e in r]
    counted = (len(lines), sum(1 for e in events if e["type"] == "redis"), sum(1 for r in results if r == []),
               sum(1 for e in events if e["type"] == "parse_error"))
    assert counted == FIXTURES[name]


def test_the_fixture_readme_names_every_file() -> None:
    readme = (shared_samples() / "redis" / "README.md").read_text()
    for name in FIXTURES:
        assert f"`redis/{name}`" in readme


def test_demo_lines_parse_and_a_full_disk_fails_the_saves() -> None:
    rng = random.Random(7)
    start = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    parser = SERVICE.parser("redis")
    calm, stormy = [], []
    for second in range(200):
        now = start + timedelta(seconds=second, milliseconds=second)
        calm.append(run(parser, {"message": redis.demo_line(rng, now, QUIET), "host": "cache-1"}))
        stormy.append(run(parser, {"message": redis.demo_line(rng, now, FULL_DISK), "host": "cache-1"}))
    assert all(e["type"] == "redis" for e in calm + stormy)
    assert calm[5]["timestamp"] == "2026-12-04T12:00:05.005000Z"
    assert not any(e.get("problem") for e in calm)
    problems = {e.get("problem") for e in stormy}
    assert problems == {None, "rdb_save_failed"}  # no room for the RDB file: saves fail (the child's
    # line says why, the parent's is the problem)


#: a filesystem filling to its last percent, and the same ten seconds later
FULL_DISK = scene_of(DISK_FILLING, progress=0.99)
LATER_FULL = replace(FULL_DISK, uptime=QUIET.uptime + 10, served=QUIET.served + 10)


def test_redis_is_registered() -> None:
    """In BUILTIN, so tests/catalog runs its samples and shows it everywhere (test_everywhere.py)."""
    assert catalog()["redis"] is SERVICE
    assert SERVICE.role == "database" and {f.source for f in SERVICE.demo} == {s.id for s in SERVICE.sources}


def test_demo_info_is_the_charted_fields_and_counters_grow() -> None:
    parser = SERVICE.parser("redis_metrics")
    rng = random.Random(3)
    start = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    first = [e for m in redis.demo_info(rng, start, QUIET, "cache-7") for e in run_events(parser, m)]
    later = [e for m in redis.demo_info(rng, start + timedelta(seconds=10), LATER_FULL, "cache-7")
             for e in run_events(parser, m)]
    assert {e["name"] for e in first} == set(redis.METRICS.names)
    assert all(e["type"] == "redis_metrics" and e["host"] == "cache-7" for e in first + later)
    before = {e["name"]: e["value"] for e in first}
    after = {e["name"]: e["value"] for e in later}
    for gauge in redis.METRICS.gauges:
        if gauge.counter:
            assert after[gauge.name] >= before[gauge.name], gauge.name
    assert after["total_commands_processed"] > before["total_commands_processed"]
    assert (before["rdb_last_bgsave_status"], after["rdb_last_bgsave_status"]) == (1.0, 0.0)
    assert [e.get("db") for e in first if e["name"] == "keys"] == ["db0"]
