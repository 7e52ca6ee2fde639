"""The interactive ``dendro configure`` questions, answered by a script instead of a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import questionary
import yaml

from dendro.config import ConfigError
from dendro.vector import configure, wizard
from tests.collect.conftest import NODE_ZONE


class _Scripted:
    def __init__(self, answers: Iterator[Any], prompts: list[str], message: str) -> None:
        self.answers, self.message = answers, message
        prompts.append(message)

    def ask(self) -> Any:
        return next(self.answers)


def _script(monkeypatch: pytest.MonkeyPatch, answers: list[Any]) -> list[str]:
    prompts: list[str] = []
    feed = iter(answers)
    for name in ("checkbox", "text", "select", "confirm"):
        monkeypatch.setattr(questionary, name, lambda message, *a, **k: _Scripted(feed, prompts, message))
    return prompts


def test_wizard_asks_each_setting_then_the_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    prompts = _script(
        monkeypatch,
        [
            ["syslog", "host", "custom"],
            "file",  # syslog source
            "/var/log/syslog, /var/log/auth.log",  # syslog paths
            "Europe/Paris",  # the time zone of syslog's lines
            "cpu, memory",  # host collectors
            "30",  # scrape interval
            "billing",
            "/var/log/billing.log",
            "a regex",
            r"^(?P<level>\w+) (?P<message>.*)$",
            False,  # no other application
            "aws",
            "eu-west-1",
            "shop",
            "athena",  # the AWS store
        ],
    )
    answers = wizard.ask()
    assert any("Syslog files" in p for p in prompts)
    assert answers.services == {
        "syslog": {"source": "file", "paths": ["/var/log/syslog", "/var/log/auth.log"],
                   "timezone": "Europe/Paris"},
        "host": {"collectors": ["cpu", "memory"], "scrape_interval_secs": 30},
    }
    regex = r"^(?P<level>\w+) (?P<message>.*)$"
    assert answers.custom == [{"name": "billing", "path": "/var/log/billing.log", "regex": regex}]
    assert (answers.backend, answers.region, answers.pipeline) == ("aws", "eu-west-1", "shop")
    assert any(p == "AWS store" for p in prompts) and answers.store == "athena"
    assert [c.value for c in wizard.STORE_CHOICES] == ["athena", "timestream"]
    assert "Athena plugin" in wizard.STORE_CHOICES[0].title and "2025-06-20" in wizard.STORE_CHOICES[1].title
    config = configure.build_config(answers, tmp_path / "dendro.yaml")
    assert config.aws.store == "athena"
    configure.write(config, tmp_path / "dendro.yaml", tmp_path / "vector.yaml")
    vector = yaml.safe_load((tmp_path / "vector.yaml").read_text())
    assert vector["sources"]["host_metrics"]["scrape_interval_secs"] == 30
    assert vector["sinks"]["dendro_firehose"]["region"] == "eu-west-1"


def test_wizard_ctrl_c_and_empty_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    _script(monkeypatch, [None])
    with pytest.raises(wizard.Cancelled):
        wizard.ask()
    _script(monkeypatch, [[]])
    with pytest.raises(ConfigError, match="nothing selected"):
        wizard.ask()


def test_wizard_reading_the_journal_asks_no_file_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    script = [["syslog"], "journald", "local", "http://10.0.0.9:9880/ingest", "100", "30"]  # rate, retention
    prompts = _script(monkeypatch, script)
    answers = wizard.ask()
    assert answers.services == {"syslog": {"source": "journald"}}
    assert not any("Syslog files" in p for p in prompts)
    config = configure.build_config(answers, tmp_path / "dendro.yaml")
    configure.write(config, tmp_path / "dendro.yaml", tmp_path / "vector.yaml")
    sources = yaml.safe_load((tmp_path / "vector.yaml").read_text())["sources"]
    assert sources["syslog_journald"] == {"type": "journald", "since_now": True}
    assert "syslog_logs" not in sources


def test_wizard_asks_postgres_for_its_log_time_zone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """PostgreSQL's log_timezone decides what CST means: the wizard asks it, offering the node's zone,
    refuses a name that is no zone, and the answer reaches the Vector config."""
    offered: dict[str, Any] = {}

    def text(message: str, default: str = "", validate: Any = None, **kwargs: Any) -> _Scripted:
        if "log_timezone" in message:
            offered.update(default=default, validate=validate)
        return _Scripted(feed, [], message)

    answers = [["postgres"], "/var/log/postgresql/postgresql-15-main.log", "", "Asia/Shanghai", "local",
               "http://10.0.0.9:9880/ingest", "100", "30"]
    feed = iter(answers)
    _script(monkeypatch, [])
    monkeypatch.setattr(questionary, "text", text)
    monkeypatch.setattr(questionary, "select", lambda message, *a, **k: _Scripted(feed, [], message))
    monkeypatch.setattr(questionary, "checkbox", lambda message, *a, **k: _Scripted(feed, [], message))
    result = wizard.ask()
    assert offered["default"] == NODE_ZONE  # the node's own zone (conftest)
    assert offered["validate"]("Asia/Shanghai") is True
    assert "IANA" in offered["validate"]("Asia/Shangai")
    assert result.services["postgres"]["timezone"] == "Asia/Shanghai"
    config = configure.build_config(result, tmp_path / "dendro.yaml")
    configure.write(config, tmp_path / "dendro.yaml", tmp_path / "vector.yaml")
    remap = yaml.safe_load((tmp_path / "vector.yaml").read_text())["transforms"]["postgres_logs_parse"]
    assert remap["timezone"] == "Asia/Shanghai"
    assert '"CST": ["+08:00"]' in remap["source"]
