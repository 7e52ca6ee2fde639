"""A real PostgreSQL (Debian package) on 127.0.0.1 logging with Debian's default prefix.

Session-scoped: ``initdb`` into a temporary directory, the server started once and stopped at
the end. PostgreSQL refuses to run as root, so under root the programs run as the
``postgres`` user the package creates. The log goes to ``postgresql.log`` (stderr, no
collector) with ``log_line_prefix = '%m [%p] %q%u@%d '`` and
``log_min_duration_statement = 100`` ms, in UTC.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import free_port, require_binary, wait_for_port

SLOW_MS = 100


def _bin_candidates(name: str) -> list[str]:
    return sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)


@dataclass(frozen=True)
class PostgresServer:
    port: int
    directory: Path
    psql_binary: str

    @property
    def log(self) -> Path:
        return self.directory / "postgresql.log"

    def psql(self, sql: str, database: str = "postgres") -> subprocess.CompletedProcess[str]:
        """Run ``sql`` through psql over TCP; failures are returned, not raised."""
        return subprocess.run(
            [self.psql_binary, "-X", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", database, "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
        )


def _as_postgres() -> list[str]:
    """The prefix that runs a program as the postgres user when we are root."""
    if os.geteuid() != 0:
        return []
    runuser = require_binary("runuser", "util-linux", "/usr/sbin/runuser", "/sbin/runuser")
    return [runuser, "-u", "postgres", "--"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@contextlib.contextmanager
def running_postgres(**overrides: str) -> Iterator[PostgresServer]:
    """A server of its own, with these settings over the fixture's (e.g. ``log_timezone``)."""
    initdb = require_binary("initdb", "postgresql", *_bin_candidates("initdb"))
    postgres = require_binary("postgres", "postgresql", *_bin_candidates("postgres"))
    psql = require_binary("psql", "postgresql-client", *_bin_candidates("psql"))
    tmp = Path(tempfile.mkdtemp(prefix="dendro-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(tmp, account.pw_uid, account.pw_gid)
    data = tmp / "data"
    setup = subprocess.run(
        [*_as_postgres(), initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
         "--no-sync", "--no-instructions"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if setup.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AssertionError(f"initdb failed: {setup.stderr}")
    port = free_port()
    log = (tmp / "postgresql.log").open("ab")
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(tmp),
        "logging_collector": "off",
        "log_line_prefix": "%m [%p] %q%u@%d ",
        "log_min_duration_statement": str(SLOW_MS),
        "log_timezone": "UTC",
        "fsync": "off",
        **overrides,
    }
    args = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
    process = subprocess.Popen(
        [*_as_postgres(), postgres, "-D", str(data), *args],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        try:
            wait_for_port(port, timeout=30)
            _wait_ready(psql, port)
        except (TimeoutError, AssertionError):
            process.kill()
            process.wait()
            text = (tmp / "postgresql.log").read_text(errors="replace")
            raise AssertionError(f"postgres did not start: {text}") from None
        yield PostgresServer(port=port, directory=tmp, psql_binary=psql)
    finally:
        process.terminate()  # SIGTERM: smart shutdown
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_ready(psql: str, port: int, timeout: float = 20.0) -> None:
    """The port opens before the server accepts sessions ("the database system is starting up")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = subprocess.run(
            [psql, "-X", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres",
             "-c", "SELECT 1"],
            capture_output=True,
            timeout=10,
        )
        if done.returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError("postgres never accepted a session")
