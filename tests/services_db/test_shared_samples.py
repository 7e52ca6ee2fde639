"""Real log files of many server versions, cut into records by each source's multiline rule.

Every record parses, makes no event (log structure such as a lone slow-log ``# Time:`` line)
or becomes a parse_error that keeps it; none crashes. The counts of each are pinned per file, so
a regression fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dendro.services import mysql, postgres
from dendro.services.base import Service, Source
from dendro.services.multiline import records
from dendro.services.runner import decode_line, run_events
from tests.support import shared_samples

# file -> (records, events that parse, records that make no event, parse_errors)
POSTGRES_FILES = {
    "postgresql-10-default.log": (7, 7, 0, 0),
    "postgresql-10-min-duration-statement.log": (6, 6, 0, 0),
    "postgresql-11.4.log": (29, 29, 0, 0),
    "postgresql-12-default.log": (10, 10, 0, 0),
    "postgresql-12-min-duration-statement.log": (10, 10, 0, 0),
    "postgresql-13-default.log": (3, 3, 0, 0),
    "postgresql-13-log-statement-all.log": (221, 221, 0, 0),
    "postgresql-9-log-statement-all.log": (202, 202, 0, 0),
    "postgresql-9.5-multi-core.log": (5, 5, 0, 0),
    "postgresql-9.6-debian-with-slowlog.log": (18, 18, 0, 0),
    "postgresql-9.6-multi-core.log": (8, 5, 0, 3),  # CEST in November: no zone writes it
    "postgresql-9.6-new-timestamp.log": (5, 5, 0, 0),
    "postgresql-query-steps-slowlog.log": (2, 2, 0, 0),
    "postgresql-ubuntu-9.5.log": (78, 78, 0, 0),
}

#: the log_timezone each file was written in (the service's timezone setting; UTC when not
#: listed): an abbreviation is read only as that zone writes it. The "9.6-new-timestamp" file has
#: EST in July (a zone on Eastern Standard Time all year, such as America/Panama); "9.6-multi-core"
#: has three CEST records dated in November (edited dates: no zone writes CEST then) before its EST
#: ones, so under America/New_York those three are parse_errors that say why; "ubuntu-9.5" has CEST
#: and UTC records (UTC is read as written).
POSTGRES_ZONES = {
    "postgresql-10-default.log": "Europe/Berlin",
    "postgresql-12-default.log": "Europe/Berlin",
    "postgresql-12-min-duration-statement.log": "Europe/Berlin",
    "postgresql-9.5-multi-core.log": "America/New_York",
    "postgresql-9.6-debian-with-slowlog.log": "Europe/Berlin",
    "postgresql-9.6-multi-core.log": "America/New_York",
    "postgresql-9.6-new-timestamp.log": "America/Panama",
    "postgresql-query-steps-slowlog.log": "Europe/Berlin",
    "postgresql-ubuntu-9.5.log": "Europe/Berlin",
}

# every record with "# Query_time" parses; lone "# Time:" markers and start headers are log
# structure and make no event; nothing is a parse_error
MYSQL_SLOW_FILES = {
    "mariadb-10.1.21.log": (2, 1, 1, 0),
    "mariadb-10.2.12.log": (2, 1, 1, 0),
    "mariadb-10.3.13.log": (3, 1, 2, 0),
    "mariadb-explain.log": (2, 1, 1, 0),
    "mysql-5.7.22.log": (8, 4, 4, 0),
    "mysql-darwin-brew-5.7.10.log": (3, 1, 2, 0),
    "mysql-debian-5.7.17.log": (5, 3, 2, 0),
    "mysql-debian-5.7.19.log": (2, 1, 1, 0),
    "mysql-ubuntu-5.5.53.log": (19, 14, 5, 0),
    "mysql-ubuntu-8.0.15.log": (5, 2, 3, 0),
    "percona-ubuntu-5.7.19-innodb.log": (4, 2, 2, 0),
    "percona-ubuntu-5.7.19.log": (16, 8, 8, 0),
    "percona-ubuntu-8.0.15.log": (6, 2, 4, 0),
}

MYSQL_ERROR_FILES = {
    "error.log": (8, 8, 0, 0),
    "mariadb-10.4.8.log": (28, 28, 0, 0),
    "mysql-darwin-brew-5.7.10.log": (185, 185, 0, 0),
    "mysql-ubuntu-5.5.53-extented.log": (1, 1, 0, 0),
    "mysql-ubuntu-5.5.53.log": (167, 167, 0, 0),
    "mysql-ubuntu-8.0.15.log": (14, 14, 0, 0),
}


def _source(service: Service, source_id: str) -> Source:
    return next(s for s in service.sources if s.id == source_id)


def _per_record(path: Path, service: Service, source: Source) -> list[list[dict]]:
    """The events each record of the file makes (an empty list: no event), read in the zone the
    file was written in (:data:`POSTGRES_ZONES`)."""
    lines = [decode_line(raw) for raw in path.read_bytes().split(b"\n")]
    if lines and lines[-1] == "":
        lines.pop()  # the final line break ends the last line, it does not start another
    parser = service.parser(source.parser)
    settings = {**service.defaults(), "timezone": POSTGRES_ZONES.get(path.name, "UTC")}
    return [run_events(parser, {"message": record, "host": "db-1"}, source=source.id, settings=settings)
            for record in records(lines, source.multiline)]


def _events(path: Path, service: Service, source: Source) -> list[dict]:
    return [event for events in _per_record(path, service, source) for event in events]


def _check(path: Path, service: Service, source_id: str, expected: tuple[int, int, int, int]) -> list[dict]:
    source = _source(service, source_id)
    per_record = _per_record(path, service, source)
    assert all(len(events) <= 1 for events in per_record)
    events = [event for events in per_record for event in events]
    parsed = [e for e in events if e["type"] != "parse_error"]
    errors = [e for e in events if e["type"] == "parse_error"]
    for event in errors:
        assert event["message"] and event["source"] == source_id and event["error"]
    silent = sum(not events for events in per_record)
    assert (len(per_record), len(parsed), silent, len(errors)) == expected
    return parsed


@pytest.mark.parametrize(("name", "expected"), POSTGRES_FILES.items())
def test_postgres_files(name: str, expected: tuple[int, int, int, int]) -> None:
    parsed = _check(shared_samples() / "postgresql" / name, postgres.SERVICE, "postgres_logs", expected)
    assert all(e["type"] == "postgres" and e["level"] for e in parsed)


@pytest.mark.parametrize(("name", "expected"), MYSQL_SLOW_FILES.items())
def test_mysql_slow_files(name: str, expected: tuple[int, int, int, int]) -> None:
    path = shared_samples() / "mysql" / "slowlog" / name
    parsed = _check(path, mysql.SERVICE, "mysql_slow_logs", expected)
    assert len(parsed) == path.read_text(errors="replace").count("# Query_time:")
    assert all(e["duration"] >= 0 and e["statement"] for e in parsed)


@pytest.mark.parametrize(("name", "expected"), MYSQL_ERROR_FILES.items())
def test_mysql_error_files(name: str, expected: tuple[int, int, int, int]) -> None:
    parsed = _check(shared_samples() / "mysql" / "error" / name, mysql.SERVICE, "mysql_error_logs", expected)
    assert {e["level"] for e in parsed} <= {"Note", "Warning", "Error", "System"}


def test_postgres_multi_line_statement_is_whole() -> None:
    path = shared_samples() / "postgresql" / "postgresql-12-min-duration-statement.log"
    events = _events(path, postgres.SERVICE, _source(postgres.SERVICE, "postgres_logs"))
    create = next(e for e in events if e.get("statement", "").startswith("CREATE TABLE weather"))
    assert create["duration"] == 0.003431
    assert create["statement"].endswith("date            date\n\t);")
    assert create["statement"].count("\n") == 6


def test_postgres_error_then_statement() -> None:
    path = shared_samples() / "postgresql" / "postgresql-ubuntu-9.5.log"
    events = _events(path, postgres.SERVICE, _source(postgres.SERVICE, "postgres_logs"))
    index = next(i for i, e in enumerate(events) if e["level"] == "ERROR")
    assert events[index]["message"] == "operator does not exist: jsonb @> at character 49"
    assert events[index]["timestamp"] == "2017-04-07T20:45:30.218000Z"  # CEST is UTC+2
    assert events[index + 1]["level"] == "HINT"
    assert events[index + 2]["statement"] == "SELECT id, user FROM users WHERE NOT user @> %s"
