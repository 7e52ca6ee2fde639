"""``dendro exporter``: the scrape config it prints, help, and a clear error on a bad port."""

from __future__ import annotations

import socket
from pathlib import Path

import yaml
from typer.testing import CliRunner

from dendro.cli import app
from dendro.config import load
from dendro.store.local import DEFAULT_FILE, LocalStore


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "dendro.yaml"
    path.write_text("services: [nginx]\nexporter: {port: 9999, interval: 30}\n", encoding="utf-8")
    return path


def test_print_scrape_config_is_valid_prometheus_yaml(tmp_path: Path) -> None:
    arguments = ["exporter", "--config", str(config_file(tmp_path)), "--print-scrape-config"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    job = yaml.safe_load(result.output)["scrape_configs"][0]
    assert job["static_configs"][0]["targets"] == ["127.0.0.1:9999"]
    assert job["scrape_interval"] == "30s"


def test_help_names_every_option() -> None:
    result = CliRunner().invoke(app, ["exporter", "--help"])
    assert result.exit_code == 0
    for option in ("--config", "--port", "--interval", "--delay", "--bind", "--print-scrape-config"):
        assert option in result.output


def test_a_busy_port_ends_in_one_message(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        path = config_file(tmp_path)
        LocalStore(tmp_path / ".dendro" / DEFAULT_FILE, "dendro", load(path).tables()).close()
        result = CliRunner().invoke(app, ["exporter", "--config", str(path), "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot serve /metrics on 127.0.0.1:{port}" in result.output
