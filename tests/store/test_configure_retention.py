"""``dendro configure`` shows the retention and what a day costs on disk, and the wizard asks for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import questionary
import yaml
from typer.testing import CliRunner

from dendro.cli import app
from dendro.store import sizing
from dendro.vector import configure, wizard


def test_a_day_costs_what_the_storage_benchmark_measured() -> None:
    cost = sizing.DayCost(100)
    assert cost.events == 8_640_000
    assert cost.parquet == 8_640_000 * sizing.PARQUET_BYTES
    assert cost.duckdb == 8_640_000 * sizing.DUCKDB_BYTES
    assert cost.kept(30) == 30 * cost.parquet + cost.duckdb
    assert [sizing.size(n) for n in (950e6, 1.44e9, 46.2e9, 512)] == ["950 MB", "1.4 GB", "46 GB", "512 B"]


def test_configure_prints_the_retention_and_a_day_at_three_rates(tmp_path: Path) -> None:
    local = "local: {retention_days: 14, retention_by_table: {parse_error: 3}}\n"
    (tmp_path / "dendro.yaml").write_text(local)
    arguments = ["configure", "--yes", "--service", "nginx", "--config", str(tmp_path / "dendro.yaml"),
                 "--vector-out", str(tmp_path / "v.yaml")]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Retention: 14 days (local.retention_days; parse_error: 3)." in text
    day = sizing.size(sizing.DayCost(1000).parquet)
    assert f"at 1,000 events/s: a day is {day} in Parquet" in text
    assert f"14 days kept: about {sizing.size(sizing.DayCost(10).kept(14))}" in text
    assert yaml.safe_load((tmp_path / "dendro.yaml").read_text())["local"]["retention_days"] == 14  # kept


#: the wizard's questions this test answers, by a word of their prompt (any other takes its default)
ANSWERS = {
    "Which services": ["nginx"],
    "Backend": "local",
    "Ingest URL": "http://10.0.0.9:9880/ingest",
    "events a second": "250",
    "how many days": "7",
}


class _Scripted:
    def __init__(self, message: str, default: Any) -> None:
        self.message, self.default = message, default

    def ask(self) -> Any:
        for word, answer in ANSWERS.items():
            if word in self.message:
                return answer
        return self.default


def test_the_wizard_prices_the_rate_given_and_writes_the_days(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts: list[str] = []

    def question(message: str, *args: Any, default: Any = "", **kwargs: Any) -> _Scripted:
        prompts.append(message)
        return _Scripted(message, default)

    for name in ("checkbox", "text", "select", "confirm"):
        monkeypatch.setattr(questionary, name, question)
    monkeypatch.setattr(questionary, "print", lambda text, **k: print(text))
    answers = wizard.ask()
    assert answers.retention_days == 7
    assert any("events a second" in p for p in prompts) and any("how many days" in p for p in prompts)
    day = sizing.size(sizing.DayCost(250).parquet)
    assert f"at 250 events/s: a day is {day} in Parquet" in capsys.readouterr().out
    config = configure.build_config(answers, tmp_path / "dendro.yaml")
    assert config.local.retention_days == 7
