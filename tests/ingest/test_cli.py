"""``dendro ingest`` (backfill of rotated and gzipped files), ``dendro query``, and ``dendro up --demo``."""

from __future__ import annotations

import gzip
import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dendro.cli import app
from dendro.config import Config
from dendro.runtime.datadir import DataDir
from dendro.runtime.stores import open_for_query
from dendro.runtime.up import Up, UpOptions
from tests.support import free_port

NGINX = ('203.0.113.7 - - [26/Nov/2026:12:00:{s:02d} +0000] "GET /api/{s} HTTP/1.1" {status} 1534 "-"'
         ' "curl/8.5.0" 0.{s:03d}')
POSTGRES = """2026-11-26 12:00:00.123 UTC [1234] app@shop ERROR:  relation "nope" does not exist
2026-11-26 12:00:00.124 UTC [1234] app@shop STATEMENT:  SELECT *
	FROM nope;
2026-11-26 12:00:02.000 UTC [2001] app@shop LOG:  duration: 1234.567 ms  statement: SELECT pg_sleep(1.2);
"""

MARIADB_SLOW = """/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:
Tcp port: 3306  Unix socket: /run/mysqld/mysqld.sock
Time\t\t    Id Command\tArgument
# Time: 261127  0:02:13
# User@Host: root[root] @ localhost []
# Thread_id: 3  Schema:   QC_hit: No
# Query_time: 0.300291  Lock_time: 0.000000  Rows_sent: 1  Rows_examined: 0
# Rows_affected: 0  Bytes_sent: 67
SET timestamp=1795737733;
SELECT SLEEP(0.3);
# User@Host: root[root] @ localhost []
# Thread_id: 4  Schema: shop  QC_hit: No
# Query_time: 0.500000  Lock_time: 0.000000  Rows_sent: 1  Rows_examined: 0
# Rows_affected: 0  Bytes_sent: 67
SET timestamp=1795737733;
SELECT SLEEP(0.5);
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DENDRO_INGEST_TOKEN", "cli-test")
    return tmp_path


def query_json(sql: str) -> list[dict]:
    code, output = run("query", "--data-dir", "data", "--format", "json", sql)
    assert code == 0, output
    return list(json.loads(output))


def test_backfill_rotated_gzip_and_multiline_files_then_query(workdir: Path) -> None:
    (workdir / "access.log").write_text("\n".join(NGINX.format(s=s, status=200) for s in range(10)) + "\n")
    rotated = "\n".join(NGINX.format(s=s, status=502) for s in range(10, 15)) + "\nnot a log line\n"
    (workdir / "access.log.2.gz").write_bytes(gzip.compress(rotated.encode()))
    code, output = run("ingest", "access.log", "access.log.2.gz", "--service", "nginx", "--host", "web-9",
                       "--data-dir", "data")
    assert code == 0, output
    assert "16 record(s) from 2 file(s): 16 written, 1 parse error(s), 0 rejected" in output
    (workdir / "postgresql-15-main.log").write_text(POSTGRES)
    code, output = run("ingest", "postgresql-15-main.log", "--service", "postgres", "--host", "db-1",
                       "--data-dir", "data")
    assert code == 0, output
    assert "3 record(s) from 1 file(s): 3 written" in output  # the tab-indented line joins STATEMENT

    rows = query_json('SELECT host, count(*) AS n, count_if(status >= 500) AS errors'
                      ' FROM "dendro"."nginx_access" GROUP BY host')
    assert rows == [{"host": "web-9", "n": 15, "errors": 5}]
    assert query_json("SELECT count(*) AS n FROM parse_error WHERE message = 'not a log line'") == [{"n": 1}]
    levels = query_json("SELECT level, duration FROM postgres WHERE level IN ('ERROR', 'LOG') ORDER BY level")
    assert levels == [{"level": "ERROR", "duration": None}, {"level": "LOG", "duration": 1.234567}]
    statement = query_json("SELECT message FROM postgres WHERE message LIKE '%FROM nope%'")
    assert len(statement) == 1 and "SELECT *" in statement[0]["message"]

    code, output = run("query", "--data-dir", "data", "-f", "csv", "SELECT host FROM nginx_access LIMIT 1")
    assert (code, output) == (0, "host\nweb-9\n")


def test_backfill_of_a_mariadb_slow_log_reports_log_structure_not_parse_errors(workdir: Path) -> None:
    (workdir / "mysql-slow.log").write_text(MARIADB_SLOW)
    code, output = run("ingest", "mysql-slow.log", "--service", "mysql", "--data-dir", "data")
    assert code == 0, output
    assert ("4 record(s) from 1 file(s): 2 written, 0 parse error(s), 0 rejected, 2 log structure (no event)"
            in " ".join(output.split()))  # the console wraps long lines
    assert query_json("SELECT database, duration FROM mysql_slow ORDER BY duration") == [
        {"database": None, "duration": 0.300291}, {"database": "shop", "duration": 0.5}]
    assert query_json("SELECT count(*) AS n FROM parse_error") == [{"n": 0}]


def test_query_errors_are_one_message_and_exit_1(workdir: Path) -> None:
    code, output = run("query", "--data-dir", "data", "SELECT 1")
    assert code == 1 and "no store at" in output
    (workdir / "access.log").write_text(NGINX.format(s=1, status=200) + "\n")
    assert run("ingest", "access.log", "--service", "nginx", "--data-dir", "data")[0] == 0
    for sql, message in [("DELETE FROM nginx_access", "DELETE is refused"), ("SELEC 1", "does not parse"),
                         ("SELECT * FROM read_csv('x')", "reads files")]:
        code, output = run("query", "--data-dir", "data", sql)
        assert code == 1 and message in output and "Traceback" not in output


def test_backfill_needs_a_parser_when_the_file_name_is_ambiguous(workdir: Path) -> None:
    (workdir / "other.log").write_text(NGINX.format(s=1, status=200) + "\n")
    code, output = run("ingest", "other.log", "--service", "nginx", "--data-dir", "data")
    assert code == 1 and "pass --parser" in output
    code, output = run("ingest", "other.log", "-s", "nginx", "--parser", "nginx_access", "--data-dir", "data")
    assert code == 0 and "1 written" in output


def test_up_with_demo_shows_data_through_query_within_10_seconds(tmp_path: Path) -> None:
    config = Config(services={"nginx": {}, "postgres": {}})
    options = UpOptions(tmp_path / "data", free_port(), free_port(), free_port(), demo=True, bind="127.0.0.1",
                        demo_history=timedelta(minutes=10))
    up = Up(config, options)
    up.start()
    try:
        deadline, seen = time.monotonic() + 10, 0
        while time.monotonic() < deadline and not seen:
            reader = open_for_query(config, DataDir(tmp_path / "data"))
            seen = reader.query("SELECT count(*) FROM nginx_access").rows[0][0]
            time.sleep(0.5)
        assert seen > 0
        assert type(reader).__name__ == "RemoteStore"  # dendro up holds the file: queries go through it
    finally:
        up.stop()

