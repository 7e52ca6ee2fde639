"""``dendro exporter``: the scrape config it prints, help, and a clear error on a bad port."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml
from typer.testing import CliRunner

from dendro.cli import app
from dendro.config import load
from dendro.runtime.datadir import DataDir
from dendro.store.local import LocalStore
from tests.support import free_port, wait_for_port


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
        LocalStore(tmp_path / ".dendro" / DataDir.STORE, "dendro", load(path).tables()).close()
        result = CliRunner().invoke(app, ["exporter", "--config", str(path), "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot serve /metrics on 127.0.0.1:{port}" in result.output


def test_sigterm_stops_the_exporter_cleanly(tmp_path: Path) -> None:
    """kill, systemd and docker stop with SIGTERM: the exporter ends as on Ctrl-C, with status 0."""
    path = config_file(tmp_path)
    LocalStore(tmp_path / ".dendro" / DataDir.STORE, "dendro", load(path).tables()).close()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "dendro.cli", "exporter", "--config", str(path), "--port", str(port)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_port(port, timeout=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            assert b"dendro_exporter_up" in answer.read()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert f"http://127.0.0.1:{port}/metrics" in out
