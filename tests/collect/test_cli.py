"""``dendro configure`` and ``dendro check`` through the real CLI (typer's CliRunner)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dendro.cli import app
from dendro.config import load
from dendro.services import BUILTIN
from dendro.vector.check import check
from tests.collect.conftest import NODE_ZONE

runner = CliRunner()


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def _flat(output: str) -> str:
    """The CLI's table text without spaces, line breaks and cell borders (cells wrap at 80 columns)."""
    return re.sub(r"[\s│┃]", "", output)


@pytest.mark.parametrize("service", BUILTIN)
@pytest.mark.parametrize("backend", ["local", "aws"])
def test_configure_yes_then_check_passes(service: str, backend: str, tmp_path: Path) -> None:
    result = _invoke("configure", "--yes", "--backend", backend, "--service", service)
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((tmp_path / "dendro.yaml").read_text())
    assert list(config["services"]) == [service] and config["backend"] == backend
    assert yaml.safe_load((tmp_path / "vector.yaml").read_text())["sinks"]
    checked = _invoke("check")
    assert checked.exit_code == 0, checked.output
    assert "0 failed" in checked.output


def test_issue_command_line(tmp_path: Path) -> None:
    args = ["--service", "nginx", "--service", "postgres", "--service", "mysql", "--service", "host"]
    result = _invoke("configure", "--yes", "--backend", "local", *args)
    assert result.exit_code == 0, result.output
    assert "log_format" in result.output  # what to add to nginx's config for durations
    checked = _invoke("check")
    assert checked.exit_code == 0, checked.output
    sources = yaml.safe_load((tmp_path / "vector.yaml").read_text())["sources"]
    assert "host_metrics" in sources


def test_configure_flags_and_custom_app(tmp_path: Path) -> None:
    result = _invoke(
        "configure", "--yes", "--backend", "aws", "--pipeline", "shop", "--region", "eu-west-1",
        "--service", "syslog", "--custom", r"billing:/var/log/billing.log:^(?P<level>\w+): (?P<message>.*)$",
        "--config", "conf/dendro.yaml", "--vector-out", "conf/vector.yaml",
    )  # fmt: skip
    assert result.exit_code == 1  # conf/ does not exist
    (tmp_path / "conf").mkdir()
    result = _invoke(
        "configure", "--yes", "--backend", "aws", "--pipeline", "shop", "--region", "eu-west-1",
        "--service", "syslog", "--custom", r"billing:/var/log/billing.log:^(?P<level>\w+): (?P<message>.*)$",
        "--config", "conf/dendro.yaml", "--vector-out", "conf/vector.yaml",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((tmp_path / "conf/dendro.yaml").read_text())
    assert config["custom"][0]["regex"] == r"^(?P<level>\w+): (?P<message>.*)$"
    vector = yaml.safe_load((tmp_path / "conf/vector.yaml").read_text())
    assert vector["sinks"]["dendro_firehose"]["stream_name"] == "shop"
    assert vector["sources"]["custom_billing"]["include"] == ["/var/log/billing.log"]
    checked = _invoke("check", "--config", "conf/dendro.yaml", "--vector", "conf/vector.yaml")
    assert checked.exit_code == 0, checked.output


def test_configure_keeps_what_it_does_not_ask(tmp_path: Path) -> None:
    (tmp_path / "dendro.yaml").write_text(
        "services:\n  syslog: {paths: [/var/log/messages]}\nexporter: {port: 9999}\n"
    )
    result = _invoke("configure", "--yes", "--service", "syslog", "--service", "host")
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((tmp_path / "dendro.yaml").read_text())
    # configure writes where syslog comes from (the file it follows exists: conftest) and the node's
    # time zone its lines are written in
    assert config["services"]["syslog"] == {"paths": ["/var/log/messages"], "source": "file",
                                            "timezone": NODE_ZONE}
    assert config["exporter"]["port"] == 9999


def test_unknown_service_is_a_clear_error(tmp_path: Path) -> None:
    result = _invoke("configure", "--yes", "--service", "memcached")
    assert result.exit_code == 1
    assert "unknown service" in result.output and "memcached" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "dendro.yaml").exists()


def test_nothing_selected_is_a_clear_error() -> None:
    result = _invoke("configure", "--yes")
    assert result.exit_code == 1 and "--service" in result.output


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("services:\n  syslog: {paths: 3}\n", "services.syslog.paths"),
        ("services: [syslog]\nbackend: gcp\n", "backend"),
        ("services: [syslog]\nexporter: {port: high}\n", "exporter.port"),
        ("services:\n  nosuch: {}\n", "services.nosuch"),
    ],
)
def test_invalid_config_is_one_line_naming_the_key(text: str, key: str, tmp_path: Path) -> None:
    (tmp_path / "dendro.yaml").write_text(text)
    result = _invoke("check")
    assert result.exit_code == 1
    message = result.output.strip()
    assert len(message.splitlines()) == 1, message
    assert key in message
    assert "Traceback" not in message


def test_missing_config_says_what_to_do() -> None:
    result = _invoke("check")
    assert result.exit_code == 1 and "dendro configure" in result.output


LINE = "Nov 26 12:00:00 db-1 cron[9]: ran"


def test_failing_user_sample_fails_check_with_a_diff(tmp_path: Path) -> None:
    assert _invoke("configure", "--yes", "--service", "syslog").exit_code == 0
    config = yaml.safe_load((tmp_path / "dendro.yaml").read_text())
    config["samples_file"] = "samples.yaml"
    (tmp_path / "dendro.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "samples.yaml").write_text(
        yaml.safe_dump(
            [
                {"service": "syslog", "message": LINE, "expected": {"program": "cron"}},
                {"service": "syslog", "message": LINE, "expected": {"pid": 10}},
                {"service": "syslog", "message": "not syslog", "expected": None},
            ]
        )
    )
    result = _invoke("check")
    assert result.exit_code == 1
    assert "1 failed" in result.output
    assert "pid: expected 10, got 9" in result.output


def test_samples_file_errors_are_one_message(tmp_path: Path) -> None:
    assert _invoke("configure", "--yes", "--service", "syslog").exit_code == 0
    config = yaml.safe_load((tmp_path / "dendro.yaml").read_text())
    config["samples_file"] = "samples.yaml"
    (tmp_path / "dendro.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "samples.yaml").write_text(yaml.safe_dump([{"service": "nginx", "message": "x"}]))
    result = _invoke("check")
    assert result.exit_code == 1
    assert "samples_file[0].service" in result.output and "Traceback" not in result.output


def test_user_samples_can_expect_no_event(tmp_path: Path) -> None:
    assert _invoke("configure", "--yes", "--service", "mysql").exit_code == 0
    config = yaml.safe_load((tmp_path / "dendro.yaml").read_text())
    config["samples_file"] = "samples.yaml"
    (tmp_path / "dendro.yaml").write_text(yaml.safe_dump(config))
    marker = "# Time: 261127  0:02:13"
    (tmp_path / "samples.yaml").write_text(
        yaml.safe_dump(
            [
                {"parser": "mysql_slow", "message": marker, "expected": []},  # passes: log structure
                {"parser": "mysql_slow", "message": marker, "expected": None},  # fails: no parse_error
                {"parser": "mysql_slow", "message": "SELECT 1;", "expected": []},  # fails: a parse_error
            ]
        )
    )
    rows = [r for r in check(load(tmp_path / "dendro.yaml")).rows if r.kind == "user sample"]
    assert [(r.ok, r.detail) for r in rows[:2]] == [(True, "no event as expected"), (False, "no event")]
    assert not rows[2].ok and rows[2].detail.startswith("expected 0 event(s), got parse_error: ")
    assert rows[2].detail.endswith("could not find any pattern matches")
    result = _invoke("check")
    assert result.exit_code == 1 and "2 failed" in result.output


def test_user_sample_expected_must_be_a_mapping_or_a_list_of_them(tmp_path: Path) -> None:
    assert _invoke("configure", "--yes", "--service", "mysql").exit_code == 0
    config = yaml.safe_load((tmp_path / "dendro.yaml").read_text())
    config["samples_file"] = "samples.yaml"
    (tmp_path / "dendro.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "samples.yaml").write_text(yaml.safe_dump([{"parser": "mysql_slow", "expected": ["x"]}]))
    result = _invoke("check")
    assert result.exit_code == 1
    assert "samples_file[0].expected" in result.output and "Traceback" not in result.output


CST_LINE = "2026-12-04 18:03:11.123 CST [42] app@shop ERROR:  division by zero"
IST_LINE = "2026-12-04 15:33:11.123 IST [42] app@shop ERROR:  division by zero"


def test_check_reads_abbreviations_in_the_configured_zone_and_shows_them(tmp_path: Path) -> None:
    """A PostgreSQL in Asia/Shanghai writes CST: check reads it as +08:00 (not US Central), says which
    abbreviations the zone gives, and a user's IST line (India? Ireland? Israel?) is a parse_error."""
    assert _invoke("configure", "--yes", "--service", "postgres").exit_code == 0
    config = yaml.safe_load((tmp_path / "dendro.yaml").read_text())
    assert config["services"]["postgres"]["timezone"] == NODE_ZONE  # the node's zone, offered and written
    config["services"]["postgres"]["timezone"] = "Asia/Shanghai"
    config["samples_file"] = "samples.yaml"
    (tmp_path / "dendro.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "samples.yaml").write_text(yaml.safe_dump([
        {"service": "postgres", "message": CST_LINE,
         "expected": {"timestamp": "2026-12-04T10:03:11.123000Z"}},
        {"service": "postgres", "message": IST_LINE, "expected": None},
    ]))
    result = _invoke("check")
    assert result.exit_code == 0, result.output
    assert "CST(+08:00)" in _flat(result.output)  # the row's detail is shown though it passes
    (row,) = [r for r in check(load(tmp_path / "dendro.yaml")).rows if r.kind == "timezone"]
    assert row.name == "services.postgres.timezone" and row.ok and row.shown
    assert row.detail == "Asia/Shanghai: CDT (+09:00), CST (+08:00); UTC and numeric offsets as written"


def test_an_unknown_time_zone_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "dendro.yaml").write_text("services:\n  postgres: {timezone: Asia/Shangai}\n")
    result = _invoke("check")
    assert result.exit_code == 1
    assert "services.postgres.timezone" in result.output and "Asia/Shangai" in result.output
    assert "Traceback" not in result.output


def test_configure_store_flag_chooses_the_aws_store(tmp_path: Path) -> None:
    result = _invoke("configure", "--yes", "--backend", "aws", "--store", "athena", "--region", "eu-west-1",
                     "--service", "nginx")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load((tmp_path / "dendro.yaml").read_text())["aws"]["store"] == "athena"
    wrong = _invoke("configure", "--yes", "--backend", "aws", "--store", "bigquery", "--service", "nginx")
    assert wrong.exit_code == 1 and "timestream or athena" in wrong.output
    local = _invoke("configure", "--yes", "--store", "athena", "--service", "nginx")
    assert local.exit_code == 1 and "--backend aws" in local.output
