"""A real redis-server's own log lines and INFO reply, parsed by the catalog's VRL.

The server (tests/servers/redis.py) is made to write the lines the parser promises to know: its
startup with the ASCII-art logo, a failed BGSAVE (its ``dir`` removed under it), a replica whose
master refuses the connection, a SIGTERM (the signal-handler line) and a crash (``DEBUG
SEGFAULT``). The format is serverLogRaw's in redis/redis ``src/server.c`` at tag 7.0.15 (commit
f35f36a265403c07b119830aa4bb3b7d71653ec9): ``"%d:%c %s %c %s\\n"`` with the time
``"%d %b %Y %H:%M:%S."`` plus milliseconds, role ``X``/``C``/``S``/``M`` and level ``.-*#``.
The INFO lines come from running the very command the catalog's exec source declares.
"""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dendro.services import redis
from dendro.services.runner import decode_line, run_events
from dendro.vector import render
from tests.servers import redis as servers
from tests.servers.redis import RedisServer, running_redis
from tests.support import free_port, require_binary

pytestmark = pytest.mark.real

redis_server = servers.redis_server  # the session fixture


def _lines(path: Path, after: int = 0) -> list[str]:
    """The log's lines past byte ``after``, as Vector's file source reads them."""
    lines = [decode_line(raw) for raw in path.read_bytes()[after:].split(b"\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _parsed(lines: list[str]) -> list[tuple[str, list[dict[str, Any]]]]:
    parser = redis.SERVICE.parser("redis")
    return [(line, run_events(parser, {"message": line, "host": "cache-1"}, source="redis_logs"))
            for line in lines]


def _events(lines: list[str]) -> list[dict[str, Any]]:
    return [event for _, events in _parsed(lines) for event in events]


def _one(events: list[dict[str, Any]], message: str) -> dict[str, Any]:
    found = [e for e in events if e.get("message", "").startswith(message) and e["type"] == "redis"]
    assert len(found) == 1, (message, found)
    return found[0]


def _recent(event: dict[str, Any], slack: float = 120.0) -> bool:
    """The server runs with TZ=UTC, so its zone-less times read as UTC are the wall clock's."""
    when = datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return abs(when.timestamp() - time.time()) < slack


def test_startup_log_parses_and_the_logo_makes_no_event(redis_server: RedisServer) -> None:
    lines = _lines(redis_server.log)
    parsed = _parsed(lines)
    assert [line for line, events in parsed if events and events[0]["type"] == "parse_error"] == []
    quiet = [line for line, events in parsed if events == []]
    # asciilogo.h at 7.0.15: 17 lines of art, then the blank line its final "\n\n" makes
    assert len(quiet) == 18 and quiet[-1] == ""
    assert any(f"Port: {redis_server.port}" in line for line in quiet)
    assert any(f"PID: {redis_server.pid}" in line for line in quiet)
    events = [e for _, evs in parsed for e in evs]
    ready = _one(events, "Ready to accept connections")
    assert (ready["level"], ready["role"], ready["pid"], ready["host"]) == (
        "notice", "master", redis_server.pid, "cache-1")
    assert _recent(ready)
    initialized = _one(events, "Server initialized")
    assert (initialized["level"], initialized["role"]) == ("warning", "master")
    assert "problem" not in initialized  # a routine warning-level line is no problem
    for event in events:  # present when the machine's vm.overcommit_memory is 0
        if event["message"].startswith("WARNING"):
            assert event["problem"] == "config_warning"


def test_failed_background_save_is_a_problem_of_the_parent_only(redis_server: RedisServer) -> None:
    start = redis_server.log.stat().st_size
    gone = redis_server.directory / "gone"
    gone.mkdir()
    assert redis_server.cli("CONFIG", "SET", "dir", str(gone)).stdout.strip() == "OK"
    gone.rmdir()  # the child cannot create its temp file in a removed directory (even as root)
    try:
        assert "Background saving started" in redis_server.cli("BGSAVE").stdout
        redis_server.wait_for_log("Background saving error", after=start)
    finally:
        assert redis_server.cli("CONFIG", "SET", "dir", str(redis_server.directory)).stdout.strip() == "OK"
    events = _events(_lines(redis_server.log, after=start))
    assert [e for e in events if e["type"] == "parse_error"] == []
    # rdb.c rdbSave (7.0.15): the child logs the cause, backgroundSaveDoneHandlerDisk the outcome
    cause = _one(events, "Failed opening the temp RDB file temp-")
    assert (cause["level"], cause["role"]) == ("warning", "child") and "problem" not in cause
    assert cause["message"].endswith("for saving: No such file or directory")
    outcome = _one(events, "Background saving error")
    assert outcome == {
        "type": "redis", "host": "cache-1", "timestamp": outcome["timestamp"], "level": "warning",
        "message": "Background saving error", "pid": redis_server.pid, "role": "master",
        "problem": "rdb_save_failed",
    }
    assert _recent(outcome)
    assert [e["problem"] for e in events if e.get("problem")] == ["rdb_save_failed"]
    assert _info_value(redis_server, "rdb_last_bgsave_status") == 0.0
    # a good save turns the status back to ok
    start = redis_server.log.stat().st_size
    redis_server.cli("BGSAVE")
    redis_server.wait_for_log("Background saving terminated with success", after=start)
    assert _info_value(redis_server, "rdb_last_bgsave_status") == 1.0


def test_a_replica_whose_master_refuses_is_a_replication_error(redis_server: RedisServer) -> None:
    start = redis_server.log.stat().st_size
    closed = free_port()
    assert redis_server.cli("REPLICAOF", "127.0.0.1", str(closed)).stdout.strip() == "OK"
    try:
        redis_server.wait_for_log("Error condition on socket for SYNC", after=start)
        assert _info_value(redis_server, "master_link_status") == 0.0
    finally:
        assert redis_server.cli("REPLICAOF", "NO", "ONE").stdout.strip() == "OK"
    redis_server.wait_for_log("MASTER MODE enabled", after=start)
    events = _events(_lines(redis_server.log, after=start))
    assert [e for e in events if e["type"] == "parse_error"] == []
    errors = [e for e in events if e.get("problem") == "replication_error"]
    assert errors and all(e["role"] == "replica" and e["level"] == "warning" for e in errors)
    assert errors[0]["message"] == "Error condition on socket for SYNC: Connection refused"
    connecting = [e for e in events if e["message"] == f"Connecting to MASTER 127.0.0.1:{closed}"]
    assert connecting and connecting[0]["role"] == "replica" and connecting[0]["level"] == "notice"
    assert _one(events, "MASTER MODE enabled")["role"] == "master"


def _info_events(url: str) -> list[dict[str, Any]]:
    """Run the exec source's command as dendro renders it; parse each output line as Vector would."""
    require_binary("redis-cli", "redis-tools", "/usr/bin/redis-cli")
    source = next(s for s in redis.SERVICE.sources if s.id == "redis_metrics")
    component = render.source_component(source, {"metrics_url": url})
    assert component is not None and component["type"] == "exec"
    assert component["command"] == ["redis-cli", "--no-auth-warning", "-u", url, "INFO"]
    done = subprocess.run(component["command"], capture_output=True, timeout=30)
    parser = redis.SERVICE.parser("redis_metrics")
    events = []
    for stream, output in (("stdout", done.stdout), ("stderr", done.stderr)):
        # vectordotdev/vector v0.57.0: exec's default framing is newline_delimited (bytes codec),
        # which splits on \n and leaves Redis's \r in place; a final empty piece is no frame
        lines = [decode_line(raw) for raw in output.split(b"\n")]
        if lines and lines[-1] == "":
            lines.pop()
        for line in lines:
            event = redis.exec_event(line, url=url, stream=stream, timestamp="2026-12-04T12:00:00Z")
            events += run_events(parser, event, source="redis_metrics")
    return events


def _info_value(server: RedisServer, name: str) -> float:
    values = [e["value"] for e in _info_events(server.url) if e.get("name") == name]
    assert len(values) == 1, (name, values)
    return float(values[0])


def test_info_metrics_from_the_catalogs_own_command(redis_server: RedisServer) -> None:
    assert redis_server.cli("SET", "dendro:key", "1").stdout.strip() == "OK"
    assert redis_server.cli("GET", "dendro:key").stdout.strip() == "1"
    redis_server.cli("GET", "dendro:missing")
    assert "wrong number of arguments" in redis_server.cli("GET").stdout
    events = _info_events(redis_server.url)
    assert [e for e in events if e["type"] == "parse_error"] == []
    by_name = {e["name"]: e for e in events}
    assert set(by_name) >= {"up", "connected_clients", "used_memory", "total_commands_processed",
                            "keyspace_hits", "keyspace_misses", "evicted_keys", "rejected_connections",
                            "instantaneous_ops_per_sec", "rdb_last_bgsave_status", "keys", "errorstat_ERR"}
    assert all(e["host"] == "cache-1" for e in events)  # a server on loopback is the node itself
    assert all(e["timestamp"] == "2026-12-04T12:00:00.000000Z" for e in events)
    assert by_name["up"]["value"] == 1.0
    assert by_name["connected_clients"]["value"] >= 1 and by_name["connected_clients"]["kind"] == "gauge"
    assert by_name["used_memory"]["value"] > 0
    assert by_name["keyspace_hits"]["value"] >= 1 and by_name["keyspace_hits"]["kind"] == "counter"
    assert by_name["keyspace_misses"]["value"] >= 1
    assert by_name["errorstat_ERR"]["value"] >= 1 and by_name["errorstat_ERR"]["kind"] == "counter"
    assert by_name["keys"]["db"] == "db0" and by_name["keys"]["value"] >= 1
    names = [e["name"] for e in events]
    assert len(names) == len(set(names))  # one row per field and scrape


def test_info_of_a_server_that_is_down_says_up_zero() -> None:
    url = f"redis://127.0.0.1:{free_port()}"
    events = _info_events(url)
    assert [(e["type"], e["name"], e["value"]) for e in events] == [("redis_metrics", "up", 0.0)]


def test_sigterm_is_logged_from_the_signal_handler() -> None:
    with running_redis() as (server, process):
        start = server.log.stat().st_size
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        lines = _lines(server.log, after=start)
    events = _events(lines)
    assert [e for e in events if e["type"] == "parse_error"] == []
    # server.c sigShutdownHandler -> serverLogFromHandler: "pid:signal-handler (epoch) msg"
    line = next(line for line in lines if ":signal-handler (" in line)
    assert line.startswith(f"{server.pid}:signal-handler (")
    received = _one(events, "Received SIGTERM scheduling shutdown...")
    assert (received["pid"], received["level"]) == (server.pid, "warning") and "role" not in received
    assert _recent(received)
    assert _one(events, "Redis is now ready to exit, bye bye...")["role"] == "master"


def test_a_crash_is_a_crash_and_its_raw_report_stays_as_parse_errors() -> None:
    with running_redis() as (server, process):
        start = server.log.stat().st_size
        server.cli("DEBUG", "SEGFAULT")
        process.wait(timeout=60)
        server.wait_for_log("REDIS BUG REPORT END", after=start)
        lines = _lines(server.log, after=start)
    parsed = _parsed(lines)
    events = [e for _, evs in parsed for e in evs]
    crashes = [e for e in events if "crashed by signal: 11" in e["message"]]
    assert len(crashes) == 1
    crash = crashes[0]
    assert (crash["problem"], crash["role"], crash["pid"], crash["level"]) == ("crash", "master", server.pid,
                                                                            "warning")
    # debug.c: the report's stack trace, registers and INFO dump are written raw (serverLogRaw
    # with LL_RAW or fprintf): each such line is a parse_error that keeps it, none is dropped
    errors = [line.rstrip("\r") for line, evs in parsed if evs and evs[0]["type"] == "parse_error"]
    assert "------ STACK TRACE ------" in errors and "# Server" in errors  # the INFO dump keeps its \r
    assert any(line.startswith("redis_version:") for line in errors)
    assert all(evs[0]["message"] == line for line, evs in parsed if evs and evs[0]["type"] == "parse_error")
    assert [e["problem"] for e in events if e.get("problem")] == ["crash"]
