"""A real Prometheus (Debian package) for tests: 127.0.0.1, a free port, a temp dir, 1 s scrapes.

Targets come from a file_sd file that tests rewrite (:meth:`Prometheus.set_targets`), and rules
from a rules file (:meth:`Prometheus.set_rules`, which reloads), so one server serves the whole
session. Use the ``prometheus`` fixture from an area's conftest (``from tests.servers.prometheus
import prometheus``), or :func:`start_prometheus` as a context manager.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support import free_port, require_binary, wait_for_port

SCRAPE_INTERVAL = "1s"

CONFIG = """\
global:
  scrape_interval: {interval}
  evaluation_interval: {interval}
rule_files:
  - {rules}
scrape_configs:
  - job_name: tests
    scrape_interval: {interval}
    scrape_timeout: {interval}
    file_sd_configs:
      - files: [{targets}]
        refresh_interval: 1s
"""


class Prometheus:
    """A running Prometheus and a small client for its HTTP API."""

    def __init__(self, directory: Path, port: int, process: subprocess.Popen[bytes]) -> None:
        self.directory = directory
        self.port = port
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self.targets_file = directory / "targets.json"
        self.rules_file = directory / "rules.yml"

    def set_targets(self, targets: Sequence[str], labels: dict[str, str] | None = None) -> None:
        """Scrape exactly these ``host:port`` targets (job ``tests``); Prometheus picks it up within ~1 s."""
        entries = [{"targets": list(targets), "labels": labels or {}}] if targets else []
        temporary = self.targets_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(entries), encoding="utf-8")
        temporary.replace(self.targets_file)

    def set_rules(self, text: str) -> None:
        """Replace the rules file and reload the configuration."""
        self.rules_file.write_text(text, encoding="utf-8")
        self.reload()

    def reload(self) -> None:
        request = urllib.request.Request(f"{self.url}/-/reload", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200

    def api(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=10) as answer:
            body = json.loads(answer.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str, at: float | str | None = None) -> list[dict[str, Any]]:
        """The instant vector (or matrix for a range selector) of ``expr``."""
        result: list[dict[str, Any]] = self.api("query", query=expr, time=at)["result"]
        return result

    def targets(self) -> list[dict[str, Any]]:
        active: list[dict[str, Any]] = self.api("targets")["activeTargets"]
        return active

    def wait_for(self, expr: str, predicate: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll ``expr`` until ``predicate(result)`` holds; the last result, or AssertionError."""
        deadline = time.monotonic() + timeout
        result: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            result = self.query(expr)
            if predicate(result):
                return result
            time.sleep(0.25)
        raise AssertionError(f"{expr} did not reach the expected value in {timeout}s; last: {result}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@contextmanager
def start_prometheus(interval: str = SCRAPE_INTERVAL) -> Iterator[Prometheus]:
    """Start Prometheus in a temp dir; stop it and remove the dir on exit."""
    binary = require_binary("prometheus", "prometheus")
    with tempfile.TemporaryDirectory(prefix="dendro-prometheus-") as name:
        directory = Path(name)
        (directory / "targets.json").write_text("[]", encoding="utf-8")
        (directory / "rules.yml").write_text("groups: []\n", encoding="utf-8")
        config = directory / "prometheus.yml"
        config.write_text(CONFIG.format(interval=interval, rules=directory / "rules.yml",
                                        targets=directory / "targets.json"), encoding="utf-8")
        port = free_port()
        log = (directory / "prometheus.log").open("wb")
        process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}",
             f"--storage.tsdb.path={directory / 'data'}", "--web.enable-lifecycle",
             "--storage.tsdb.retention.time=1h", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT, cwd=directory,
        )
        server = Prometheus(directory, port, process)
        try:
            wait_for_port(port, timeout=30)
            _wait_ready(server)
            yield server
        finally:
            server.stop()
            log.close()


def _wait_ready(server: Prometheus, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            output = (server.directory / "prometheus.log").read_text(errors="replace")
            raise AssertionError(f"prometheus exited with {server.process.returncode}: {output[-2000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("prometheus did not become ready")


@pytest.fixture(scope="session")
def prometheus() -> Iterator[Prometheus]:
    """One Prometheus for the test session (targets and rules are per test: set them)."""
    with start_prometheus() as server:
        yield server
