"""A real Redis (Debian's redis-server) on 127.0.0.1, logging to a file in a temporary directory.

:func:`running_redis` starts one server and stops it when the block ends (tests that crash or
signal their own server use it); :func:`redis_server` is the session-scoped one the other tests
share. The server runs with ``TZ=UTC`` (Redis writes local time without a zone, and the runner
reads such times as UTC), ``--save ""`` (no snapshot unless a test asks for one), the ASCII-art
logo in its log (``always-show-logo yes``, as Redis < 4.0 always did) and, on Redis >= 7, the
protected configs (``CONFIG SET dir``) and ``DEBUG`` enabled for local connections.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import free_port, require_binary, wait_for_port


@dataclass(frozen=True)
class RedisServer:
    port: int
    directory: Path
    cli_binary: str
    pid: int

    @property
    def log(self) -> Path:
        return self.directory / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one command through redis-cli; failures are returned, not raised."""
        return subprocess.run(
            [self.cli_binary, "-h", "127.0.0.1", "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )

    def wait_for_log(self, text: str, timeout: float = 15.0, after: int = 0) -> None:
        """Wait until ``text`` appears in the log past byte ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log.exists() and text in self.log.read_bytes()[after:].decode(errors="replace"):
                return
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared in {self.log}")


def _major_version(server: str) -> int:
    out = subprocess.run([server, "--version"], capture_output=True, text=True, timeout=10).stdout
    found = re.search(r"v=(\d+)\.", out)
    return int(found.group(1)) if found else 0


def _arguments(server: str, port: int, directory: Path) -> list[str]:
    args = [
        server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
        "--logfile", str(directory / "redis.log"), "--loglevel", "notice", "--save", "",
        "--appendonly", "no", "--daemonize", "no", "--always-show-logo", "yes",
    ]
    if _major_version(server) >= 7:
        args += ["--enable-protected-configs", "yes", "--enable-debug-command", "local"]
    return args


@contextmanager
def running_redis() -> Iterator[tuple[RedisServer, subprocess.Popen[bytes]]]:
    """A fresh redis-server; stopped (SIGTERM, then SIGKILL) and removed when the block ends."""
    server = require_binary("redis-server", "redis-server", "/usr/bin/redis-server")
    cli = require_binary("redis-cli", "redis-tools", "/usr/bin/redis-cli")
    directory = Path(tempfile.mkdtemp(prefix="dendro-redis-"))
    port = free_port()
    process = subprocess.Popen(
        _arguments(server, port, directory),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TZ": "UTC"},
    )
    redis = RedisServer(port=port, directory=directory, cli_binary=cli, pid=process.pid)
    try:
        try:
            wait_for_port(port, timeout=20)
            redis.wait_for_log("Ready to accept connections")
        except (TimeoutError, AssertionError):
            text = redis.log.read_text(errors="replace") if redis.log.exists() else "(no log)"
            raise AssertionError(f"redis-server did not start: {text}") from None
        yield redis, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as (redis, _process):
        yield redis
