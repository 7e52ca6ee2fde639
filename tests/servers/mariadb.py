"""A real MariaDB (Debian package) on 127.0.0.1 with its slow query log and error log.

Session-scoped: ``mariadb-install-db`` into a temporary directory, ``mariadbd`` started once
(``--user=mysql`` under root) and stopped at the end. Statements slower than
:data:`LONG_QUERY_TIME` seconds go to ``slow.log``; the error log is ``error.log``.
"""

from __future__ import annotations

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

LONG_QUERY_TIME = 0.2


@dataclass(frozen=True)
class MariaDBServer:
    port: int
    directory: Path
    server_binary: str
    client_binary: str

    @property
    def socket(self) -> Path:
        return self.directory / "mysqld.sock"

    @property
    def slow_log(self) -> Path:
        return self.directory / "slow.log"

    @property
    def error_log(self) -> Path:
        return self.directory / "error.log"

    def query(
        self, sql: str, user: str = "root", password: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``sql`` through the client over TCP; failures are returned, not raised."""
        auth = [f"--password={password}"] if password is not None else []
        return subprocess.run(
            [self.client_binary, "--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P", str(self.port),
             "-u", user, *auth, "-e", sql],
            capture_output=True,
            text=True,
            timeout=30,
        )


def _user_args() -> list[str]:
    return ["--user=mysql"] if os.geteuid() == 0 else []


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDBServer]:
    install = require_binary("mariadb-install-db", "mariadb-server", "mysql_install_db")
    server = require_binary("mariadbd", "mariadb-server", "/usr/sbin/mariadbd", "/usr/sbin/mysqld")
    client = require_binary("mariadb", "mariadb-client", "mysql")
    tmp = Path(tempfile.mkdtemp(prefix="dendro-mariadb-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("mysql")
        os.chown(tmp, account.pw_uid, account.pw_gid)
    setup = subprocess.run(
        [install, "--no-defaults", f"--datadir={tmp / 'data'}", *_user_args(),
         "--auth-root-authentication-method=normal", "--skip-test-db"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if setup.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AssertionError(f"mariadb-install-db failed: {setup.stdout}{setup.stderr}")
    port = free_port()
    process = subprocess.Popen(
        [server, "--no-defaults", f"--datadir={tmp / 'data'}", f"--socket={tmp / 'mysqld.sock'}",
         f"--port={port}", "--bind-address=127.0.0.1", *_user_args(), f"--pid-file={tmp / 'mysqld.pid'}",
         "--slow-query-log", f"--long-query-time={LONG_QUERY_TIME}",
         f"--slow-query-log-file={tmp / 'slow.log'}",
         f"--log-error={tmp / 'error.log'}", "--innodb-buffer-pool-size=16M", "--skip-name-resolve"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result = MariaDBServer(port=port, directory=tmp, server_binary=server, client_binary=client)
    try:
        try:
            wait_for_port(port, timeout=30)
            _wait_ready(result)
        except (TimeoutError, AssertionError):
            process.kill()
            process.wait()
            text = result.error_log.read_text(errors="replace") if result.error_log.exists() else ""
            raise AssertionError(f"mariadbd did not start: {text}") from None
        yield result
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_ready(server: MariaDBServer, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.query("SELECT 1").returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError("mariadbd never accepted a session")
