"""The syslog service's shared sample files, and custom applications (every catalog sample is run
by tests/catalog/test_samples.py)."""

from __future__ import annotations

import pytest

from dendro.config import ConfigError
from dendro.services import custom, multiline, runner, syslog
from tests.support import shared_samples

#: file -> (records after the multiline rule, parsed, parse_error)
SYSLOG_FILES = {
    "darwin-syslog-sample.log": (3, 3, 0),
    "darwin-syslog.log": (382, 382, 0),
    "iso8601_timestamp_multiline_syslog.log": (1, 1, 0),
    "suse-syslog.log": (2, 2, 0),
    "test-syslog.log": (2, 1, 1),  # its second line, "syslog", is no record
    "tz-offset.log": (3, 3, 0),
}


def test_every_shared_syslog_file_parses_or_becomes_parse_error() -> None:
    source = syslog.SERVICE.sources[0]
    parser = syslog.SERVICE.parser(source.parser)
    files = sorted((shared_samples() / "syslog").rglob("*.log"))
    assert {f.name for f in files} == set(SYSLOG_FILES)
    for path in files:
        lines = runner.decode_line(path.read_bytes()).splitlines()
        records = list(multiline.records(lines, source.multiline))
        events = [runner.run(parser, {"message": r, "host": "node-1"}) for r in records]
        parsed = [e for e in events if e["type"] == "syslog"]
        errors = [e for e in events if e["type"] == "parse_error"]
        assert (len(records), len(parsed), len(errors)) == SYSLOG_FILES[path.name], path.name
        assert all(e["host"] == "node-1" and e["hostname"] for e in parsed)
        assert all(e["message"] in records for e in errors)


def test_darwin_continuation_lines_join_their_record() -> None:
    source = syslog.SERVICE.sources[0]
    path = shared_samples() / "syslog" / "darwin-syslog-sample.log"
    records = list(multiline.records(path.read_text().splitlines(), source.multiline))
    event = runner.run(syslog.SERVICE.parsers[0], {"message": records[0], "host": "mac"})
    assert event["program"] == "GoogleSoftwareUpdateAgent"
    assert event["pid"] == 21412
    assert "\n" in event["message"] and "ticketStore" in event["message"]


REGEX = (
    r"^(?P<timestamp>\S+) (?P<level>\w+) (?P<status>\d+|-) (?P<duration>[\d.]+) (?P<route>\S+)"
    r"(?: (?P<message>.*))?$"
)


def test_custom_regex_types_its_groups() -> None:
    service = custom.build("billing", "/var/log/billing.log", regex=REGEX)
    parser = service.parsers[0]
    assert service.sources[0].id == "custom_billing"
    assert runner.compile_error(parser.vrl) is None
    line = "2026-11-26T12:00:00+01:00 ERROR 502 0.25 /pay it's down"
    got = runner.run(parser, {"message": line, "host": "a"})
    assert got == {
        "type": "billing",
        "host": "a",
        "timestamp": "2026-11-26T11:00:00.000000Z",
        "level": "error",
        "status": 502,
        "duration": 0.25,
        "route": "/pay",
        "message": "it's down",
    }
    columns = {c.name: (c.type, c.dimension) for c in service.tables[0].columns}
    assert columns == {
        "host": ("VARCHAR", True),
        "level": ("VARCHAR", True),
        "message": ("VARCHAR", False),
        "status": ("BIGINT", False),
        "duration": ("DOUBLE", False),
        "route": ("VARCHAR", False),
    }
    assert service.red[0].status == "status" and service.red[0].duration == "duration"


def test_custom_regex_missing_values_and_whole_line_message() -> None:
    parser = custom.build("billing", "/x", regex=REGEX).parsers[0]
    got = runner.run(parser, {"message": "2026-11-26 12:00:00 INFO - 0.5 /health", "host": "a"})
    assert got["type"] == "parse_error"  # "2026-11-26 12:00:00" has a space: no match, kept raw
    line = "2026-11-26T12:00:00Z INFO - 0.5 /health"
    got = runner.run(parser, {"message": line, "host": "a"})
    assert "status" not in got  # "-": no value
    assert got["message"] == line  # the optional message group did not match: the whole line
    plain = custom.build("jobs", "/x", regex=r"^(?P<job>\w+) done$").parsers[0]
    got = runner.run(plain, {"message": "nightly done", "host": "a"})
    assert got["message"] == "nightly done" and got["job"] == "nightly" and got["type"] == "jobs"


def test_custom_vrl_gets_type_host_and_timestamp() -> None:
    service = custom.build("api", "/var/log/api.json", vrl=". = parse_json!(.message)")
    parser = service.parsers[0]
    assert runner.compile_error(parser.vrl) is None
    line = '{"level": "warn", "timestamp": "2026-11-26T12:00:00Z"}'
    got = runner.run(parser, {"message": line, "host": "b"})
    assert got == {"type": "api", "host": "b", "level": "warn", "timestamp": "2026-11-26T12:00:00.000000Z"}
    got = runner.run(parser, {"message": "not json", "host": "b"})
    assert got["type"] == "parse_error" and got["message"] == "not json"


@pytest.mark.parametrize(
    ("regex", "vrl", "words"),
    [
        (r"^(?P<host>\S+) (?P<message>.*)$", None, "reserved"),
        (r"^(\w+)$", None, "named groups"),
        (r"^(?P<a>", None, "not valid"),
        (None, None, "exactly one"),
    ],
)
def test_custom_errors_name_the_application(regex: str | None, vrl: str | None, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as info:
        custom.build("shop", "/x", regex=regex, vrl=vrl)
    assert "shop" in str(info.value)
