"""``dendro start server`` serves the console over a store file, read-only, and stops on SIGTERM;
a non-local bind prints that a token is required."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from dendro.config import Config
from dendro.runtime.datadir import DataDir
from dendro.runtime.stores import open_store
from tests.support import free_port, wait_for_port
from tests.web import data


def test_start_server_serves_the_store(tmp_path: Path) -> None:
    store = open_store(Config(), DataDir(tmp_path))
    store.write(data.events(datetime.now(UTC)))
    store.close()
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dendro.cli",
            "start",
            "server",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, timeout=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/agents", timeout=10) as answer:
            hosts = {h["host"] for h in json.load(answer)["hosts"]}
        assert {"web-1", "web-old", "db-1"} <= hosts
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in out


def test_start_server_without_a_store_says_what_to_do(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dendro.cli",
            "start",
            "server",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path / "empty"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "dendro up" in result.stderr and "Traceback" not in result.stderr
