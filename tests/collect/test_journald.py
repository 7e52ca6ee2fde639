"""Syslog from the systemd journal: Vector's journald source, its program, and choosing it.

The journal entries in ``journald/journalctl.ndjson`` were written by systemd 252's
``systemd-journald`` and read back with ``journalctl --all --output=json`` (what Vector runs);
see ``journald/README.md``.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from dendro import config as config_module
from dendro.cli import app
from dendro.config import ConfigError
from dendro.ingest import demo
from dendro.services import runner, syslog
from dendro.vector import check, render
from tests.collect.conftest import NODE_ZONE

RECORDING = Path(__file__).parent / "journald" / "journalctl.ndjson"
PARSER = syslog.SERVICE.parser("syslog_journald")
NODE = syslog._NODE


def vector_event(record: dict[str, Any]) -> dict[str, Any]:
    """A ``journalctl --output=json`` record as Vector's journald source emits it (legacy namespace).

    vectordotdev/vector src/sources/journald.rs (v0.44.0, v0.57.0): ``decode_record`` turns a
    field given as an array of byte values (journalctl's form for non-UTF-8 data) into a string,
    lossily; ``create_log_event_from_record`` keeps every field at the top level and moves
    ``MESSAGE`` to ``message``; ``enrich_log_event`` moves ``_HOSTNAME`` to ``host``, sets
    ``timestamp`` from ``_SOURCE_REALTIME_TIMESTAMP`` else ``__REALTIME_TIMESTAMP`` (left in
    place) and ``source_type`` to ``journald``.
    """
    event: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, list):
            value = bytes(value).decode("utf-8", "replace")
        event[key] = value
    if "MESSAGE" in event:
        event["message"] = event.pop("MESSAGE")
    if "_HOSTNAME" in event:
        event["host"] = event.pop("_HOSTNAME")
    event["source_type"] = "journald"
    return event


def _recorded() -> list[dict[str, Any]]:
    return [json.loads(line) for line in RECORDING.read_text().splitlines()]


def test_every_recorded_entry_becomes_a_syslog_event() -> None:
    events = []
    for record in _recorded():
        (event,) = runner.run_events(PARSER, vector_event(record), source="syslog_journald_parse")
        events.append(event)
    assert {e["type"] for e in events} == {"syslog"}
    assert {e["host"] for e in events} == {NODE} and {e["hostname"] for e in events} == {"web-1"}
    got = [(e["program"], e.get("pid"), e.get("severity"), e.get("facility"), e["message"]) for e in events]
    assert got == [
        ("sshd", 20721, "info", "auth", "Accepted publickey for deploy from 10.0.0.5 port 50022 ssh2"),
        # logger(1) may not log as the kernel: journald has the facility it got, user
        ("kernel", 20722, "crit", "user", "Out of memory: Killed process 4242 (java)"),
        ("systemd", 20723, "info", "daemon", "Started Daily apt upgrade and clean activities."),
        ("app", 20723, "err", None, "first line\nsecond line"),
        ("legacy", 20723, "warning", None, "caf\ufffd bytes"),  # journalctl's byte array
    ]
    # the sender's time (_SOURCE_REALTIME_TIMESTAMP, µs) wins over the journal's receive time
    assert events[0]["timestamp"] == "2026-12-04T16:26:43.832180Z"


def test_the_severity_names_are_those_of_the_file_parser() -> None:
    """The alert on critical syslog lines matches the same names whichever source read them."""
    line = "<34>1 2026-11-26T12:00:00.003Z web-1 su 77 ID47 - 'su root' failed on /dev/pts/8"
    (from_file,) = runner.run_events(syslog.SERVICE.parser("syslog"), {"message": line, "host": "n"})
    entry = {"message": "x", "host": "web-1", "PRIORITY": "2", "SYSLOG_FACILITY": "4",
             "__REALTIME_TIMESTAMP": "1796401603835342"}  # fmt: skip
    (from_journal,) = runner.run_events(PARSER, entry)
    assert (from_file["severity"], from_file["facility"]) == (
        from_journal["severity"],
        from_journal["facility"],
    )


def test_journald_source_replaces_the_file_source() -> None:
    # vectordotdev/vector src/sources/journald.rs (v0.44.0, v0.57.0): `since_now` "Only include
    # entries that appended to the journal after the entries have been read"; with a checkpoint
    # Vector passes --after-cursor instead, so only a first start skips the past.
    config = config_module.from_dict({"services": {"syslog": {"source": "journald"}}})
    document = render.render(config)
    assert document["sources"]["syslog_journald"] == {"type": "journald", "since_now": True}
    assert "syslog_logs" not in document["sources"]
    assert document["transforms"]["syslog_journald_parse"]["inputs"] == ["syslog_journald"]
    assert check.topology_errors(document) == []
    assert (
        runner.compile_error(render.unescape(document["transforms"]["syslog_journald_parse"]["source"]))
        is None
    )
    assert render.render(config_module.from_dict({"services": ["syslog"]}))["sources"]["syslog_logs"]


def test_a_wrong_source_names_the_key() -> None:
    config = config_module.from_dict({"services": {"syslog": {"source": "rsyslog"}}})
    with pytest.raises(ConfigError, match=r"services\.syslog\.source: expected file or journald"):
        render.render(config)


def test_a_user_sample_of_syslog_goes_to_the_parser_the_node_runs(tmp_path: Path) -> None:
    samples = tmp_path / "samples.yaml"
    samples.write_text(
        yaml.safe_dump([{"service": "syslog", "message": "Nov 26 12:00:00 web-1 cron[9]: ran"}])
    )
    for source, parser in (("file", "syslog"), ("journald", "syslog_journald")):
        config = config_module.from_dict(
            {"services": {"syslog": {"source": source}}, "samples_file": str(samples)}
        )
        (row,) = check.user_sample_rows(config, config.enabled_services())
        assert row.name.endswith(parser)
    assert row.ok is False  # a text line is no journal entry


@pytest.mark.usefixtures("real_files")
@pytest.mark.parametrize("present", [True, False])
def test_configure_reads_the_journal_when_no_syslog_file_exists(
    present: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rsyslog = tmp_path / "syslog"
    if present:
        rsyslog.write_text("")
    monkeypatch.setattr(syslog, "RSYSLOG_FILE", str(rsyslog))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["configure", "--yes", "--service", "syslog"])
    assert result.exit_code == 0, result.output
    written = yaml.safe_load((tmp_path / "dendro.yaml").read_text())["services"]["syslog"]
    vector = yaml.safe_load((tmp_path / "vector.yaml").read_text())
    sources, transforms = vector["sources"], vector["transforms"]
    if present:
        assert written == {"source": "file", "timezone": NODE_ZONE} and "syslog_logs" in sources
        assert transforms["syslog_logs_parse"]["timezone"] == NODE_ZONE
    else:
        assert written == {"source": "journald"} and "syslog_journald" in sources  # the journal has epochs


@pytest.mark.usefixtures("real_files")
def test_configure_keeps_the_file_a_node_already_follows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = tmp_path / "messages"
    messages.write_text("")
    monkeypatch.setattr(syslog, "RSYSLOG_FILE", str(tmp_path / "absent"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dendro.yaml").write_text(
        yaml.safe_dump({"services": {"syslog": {"paths": [str(messages)]}}})
    )
    result = CliRunner().invoke(app, ["configure", "--yes", "--service", "syslog"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((tmp_path / "dendro.yaml").read_text())["services"]["syslog"]["source"] == "file"


def test_the_demo_writes_syslog_lines_only_through_the_file_parser() -> None:
    """The demo makes text lines: the journal's program must not see them (they'd be parse_errors)."""
    story = demo.Story(datetime.now(UTC))
    events = demo.tick_events([syslog.SERVICE], story, random.Random(1), datetime.now(UTC))
    events += demo.hour_events([syslog.SERVICE], story, random.Random(2), datetime.now(UTC), 3600)
    assert {e["type"] for e in events} == {"syslog", "agent"}
