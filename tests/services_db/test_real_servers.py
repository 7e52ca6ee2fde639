"""Real PostgreSQL and MariaDB log lines, cut by the multiline rules and parsed by the catalog's VRL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dendro.services import mysql, postgres
from dendro.services.base import Service
from dendro.services.multiline import records
from dendro.services.runner import decode_line, run_events
from dendro.store.schema import parse_time
from tests.servers.mariadb import MariaDBServer
from tests.servers.postgres import PostgresServer, running_postgres

pytestmark = pytest.mark.real


def _per_record(path: Path, service: Service, source_id: str) -> list[tuple[str, list[dict]]]:
    """Each record of the file with the events it makes (none for log structure)."""
    source = next(s for s in service.sources if s.id == source_id)
    parser = service.parser(source.parser)
    lines = [decode_line(raw) for raw in path.read_bytes().split(b"\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return [
        (record, run_events(parser, {"message": record, "host": "db-1"}, source=source.id))
        for record in records(lines, source.multiline)
    ]


def _parse(path: Path, service: Service, source_id: str) -> list[dict]:
    return [event for _, events in _per_record(path, service, source_id) for event in events]


def _wait_for(path: Path, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in {path}")


def test_postgres_error_fatal_and_slow_statements(postgres_server: PostgresServer) -> None:
    assert postgres_server.psql("SELECT 1/0").returncode != 0
    assert postgres_server.psql("SELECT 1", database="dendro_missing_db").returncode != 0
    assert postgres_server.psql("SELECT pg_sleep(0.3)").returncode == 0
    multi = "SELECT pg_sleep(0.15),\n       'dendro' AS marker\nWHERE 1 = 1"
    assert postgres_server.psql(multi).returncode == 0
    _wait_for(postgres_server.log, "AS marker")

    events = _parse(postgres_server.log, postgres.SERVICE, "postgres_logs")
    assert [e for e in events if e["type"] == "parse_error"] == []
    assert all(e["host"] == "db-1" and e["timestamp"].endswith("Z") for e in events)

    errors = [e for e in events if e["level"] == "ERROR"]
    assert [e["message"] for e in errors] == ["division by zero"]
    assert errors[0]["user"] == "postgres" and errors[0]["database"] == "postgres" and errors[0]["pid"] > 0
    statements = [e["statement"] for e in events if e["level"] == "STATEMENT"]
    assert "SELECT 1/0" in statements

    fatals = [e for e in events if e["level"] == "FATAL"]
    assert [e["message"] for e in fatals] == ['database "dendro_missing_db" does not exist']
    assert fatals[0]["database"] == "dendro_missing_db"

    slow = [e for e in events if e.get("duration") is not None]
    sleep = [e for e in slow if e["statement"] == "SELECT pg_sleep(0.3)"]
    assert len(sleep) == 1 and sleep[0]["duration"] >= 0.3
    marked = [e for e in slow if "AS marker" in e["statement"]]
    assert len(marked) == 1 and marked[0]["duration"] >= 0.15
    assert marked[0]["statement"] == "SELECT pg_sleep(0.15),\n\t       'dendro' AS marker\n\tWHERE 1 = 1"


def test_mariadb_slow_log(mariadb_server: MariaDBServer) -> None:
    assert mariadb_server.query("SELECT SLEEP(0.3)").returncode == 0
    multi = "USE mysql; SELECT SLEEP(0.25),\n  'dendro' AS marker FROM user LIMIT 1"
    assert mariadb_server.query(multi).returncode == 0
    assert mariadb_server.query("SELECT 1").returncode == 0  # fast: not logged
    _wait_for(mariadb_server.slow_log, "AS marker")

    per_record = _per_record(mariadb_server.slow_log, mysql.SERVICE, "mysql_slow_logs")
    events = [event for _, made in per_record for event in made]
    slow = [e for e in events if e["type"] == "mysql_slow"]
    assert [e for e in events if e["type"] == "parse_error"] == []
    # the start header and the lone "# Time:" markers are log structure: they make no event
    silent = [record for record, made in per_record if not made]
    assert any("started with:" in record for record in silent)
    assert any(record.startswith("# Time: ") for record in silent)  # MariaDB: on its own line
    assert all(r.startswith(("# Time: ", "/")) and "Query_time" not in r for r in silent)
    assert len(per_record) == len(silent) + len(slow)
    assert [e["statement"] for e in slow] == [
        "SELECT SLEEP(0.3);",
        "SELECT SLEEP(0.25),\n  'dendro' AS marker FROM user LIMIT 1;",
    ]
    assert slow[0]["duration"] >= 0.3 and slow[1]["duration"] >= 0.25
    assert slow[0]["user"] == "root" and slow[0]["client_ip"] == "127.0.0.1"
    assert slow[1]["database"] == "mysql"
    assert abs(_epoch(slow[0]["timestamp"]) - time.time()) < 120


def test_mariadb_error_log(mariadb_server: MariaDBServer) -> None:
    assert mariadb_server.query("SELECT 1", user="dendro_nobody", password="wrong").returncode != 0
    _wait_for(mariadb_server.error_log, "dendro_nobody")
    # an event that fails writes a real [ERROR] line
    failing_event = (
        "SET GLOBAL event_scheduler = ON; CREATE DATABASE IF NOT EXISTS dendro_test; "
        "CREATE EVENT dendro_test.fail ON SCHEDULE AT CURRENT_TIMESTAMP "
        "DO SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'dendro event failure'"
    )
    assert mariadb_server.query(failing_event).returncode == 0
    _wait_for(mariadb_server.error_log, "dendro event failure")

    events = _parse(mariadb_server.error_log, mysql.SERVICE, "mysql_error_logs")
    assert [e for e in events if e["type"] == "parse_error"] == []
    levels = {e["level"] for e in events}
    assert {"Note", "Warning", "Error"} <= levels <= {"Note", "Warning", "Error", "System"}
    assert any(e["message"].startswith("InnoDB:") and e.get("subsystem") == "InnoDB" for e in events)
    denied = [e for e in events if "dendro_nobody" in e["message"]]
    assert len(denied) == 1 and denied[0]["level"] == "Warning" and denied[0]["thread"] > 0
    failure = next(e for e in events if "dendro event failure" in e["message"])
    assert failure["level"] == "Error" and failure["subsystem"] == "Event Scheduler"
    ready = next(e for e in events if "ready for connections" in e["message"])
    assert "\nVersion: '" in ready["message"]  # the Version line joined by the multiline rule


def _epoch(timestamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def shanghai_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL whose log_timezone is Asia/Shanghai (a server of its own: the setting is the
    command line's, which ALTER SYSTEM cannot override)."""
    with running_postgres(log_timezone="Asia/Shanghai") as server:
        yield server


def test_postgres_in_shanghai_writes_cst_read_as_china_time(shanghai_postgres: PostgresServer) -> None:
    """PostgreSQL with log_timezone = 'Asia/Shanghai' writes CST (+08:00); read with the service's
    timezone setting it is the instant it happened, and read by a node configured as UTC it is a
    parse_error that says why, not a time 14 hours away (CST as US Central)."""
    server = shanghai_postgres
    started = datetime.now(UTC)
    assert server.psql("SELECT 'dendro-shanghai' || (1/0)").returncode != 0
    _wait_for(server.log, "dendro-shanghai")
    ended = datetime.now(UTC)
    records = [r for r in server.log.read_text().splitlines() if "dendro-shanghai" in r]
    assert records and all(" CST [" in r for r in records), records  # what PostgreSQL really wrote
    parser = postgres.SERVICE.parser("postgres")
    shanghai = {**postgres.SERVICE.defaults(), "timezone": "Asia/Shanghai"}
    for record in records:
        (event,) = run_events(parser, {"message": record, "host": "db-1"}, settings=shanghai)
        assert event["type"] == "postgres", event
        stamp = parse_time(event["timestamp"])
        assert started - timedelta(seconds=1) <= stamp <= ended + timedelta(seconds=1)
        as_utc = postgres.SERVICE.defaults()
        (refused,) = run_events(parser, {"message": record, "host": "db-1"}, settings=as_utc)
        assert refused["type"] == "parse_error" and refused["message"] == record
        assert "CST is not one UTC uses" in refused["error"]
