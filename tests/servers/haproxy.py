"""A real HAProxy (Debian package) on 127.0.0.1 in front of the real nginx, logging with option httplog.

Session-scoped: started once, stopped at the end. HAProxy writes every line twice: to its standard
output in the raw format (``log stdout format raw``, the file :attr:`HaproxyServer.raw_log`) and
as RFC 3164 datagrams to a UDP listener of this fixture, which appends each datagram as one line
to :attr:`HaproxyServer.syslog_log` (what a syslog daemon receives, ``<PRI>`` included). The
request line is logged up to 4096 bytes (``tune.http.logurilen``); the standard output keeps the
default line length of 1024 bytes, the syslog target takes 8192. HAProxy
runs with ``TZ=UTC``: it writes times in local time without a zone.

Frontend ``web``: ``/down…`` goes to backend ``down`` (one server on a closed port, health-checked,
so it is DOWN and HAProxy logs that and "no server available"), ``/empty…`` to backend ``empty``
(no server at all), everything else to backend ``app`` (server ``nginx1``: the nginx fixture,
which answers /ok 200, /missing 404, /boom 500 and /slow after slow_backend.DELAY). Frontend
``stats`` serves the Prometheus exporter on /metrics and logs nothing. ``option dontlognull`` (as
in Debian's haproxy.cfg) keeps the fixture's port probes out of the log. The fixture returns once
HAProxy listens and has logged that backend ``down`` has no server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers.nginx import NginxServer
from tests.support import free_port, require_binary, wait_for_port

CONFIG = """
global
    tune.http.logurilen 4096
    log stdout format raw local0
    log 127.0.0.1:{syslog_port} len 8192 format rfc3164 local0
defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout http-request 5s
frontend web
    bind 127.0.0.1:{port}
    use_backend down if {{ path_beg /down }}
    use_backend empty if {{ path_beg /empty }}
    default_backend app
frontend stats
    bind 127.0.0.1:{metrics_port}
    no log
    http-request use-service prometheus-exporter if {{ path /metrics }}
backend app
    server nginx1 127.0.0.1:{nginx_port}
backend down
    server gone 127.0.0.1:{closed_port} check inter 100ms fall 1 rise 1
backend empty
"""

#: what HAProxy logs once the health check found backend ``down`` without a server
READY_TEXT = "backend down has no server available!"


@dataclass(frozen=True)
class HaproxyServer:
    port: int
    metrics_port: int
    directory: Path
    pid: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    @property
    def raw_log(self) -> Path:
        return self.directory / "haproxy.log"

    @property
    def syslog_log(self) -> Path:
        return self.directory / "syslog.log"


@contextmanager
def _syslog_listener(path: Path) -> Iterator[int]:
    """A UDP syslog receiver writing each datagram as one line of ``path``; yields its port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def receive() -> None:
        with path.open("ab") as out:
            while not stop.is_set():
                try:
                    datagram = sock.recv(65535)
                except TimeoutError:
                    continue
                out.write(datagram.rstrip(b"\n") + b"\n")
                out.flush()

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


def _wait_for_text(path: Path, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in _text(path):
            return True
        time.sleep(0.05)
    return False


def _text(path: Path) -> str:
    return path.read_text(errors="replace")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def haproxy_server(nginx_server: NginxServer) -> Iterator[HaproxyServer]:
    binary = require_binary("haproxy", "haproxy", "/usr/sbin/haproxy")
    tmp = Path(tempfile.mkdtemp(prefix="dendro-haproxy-"))
    port, metrics_port, closed_port = free_port(), free_port(), free_port()
    with _syslog_listener(tmp / "syslog.log") as syslog_port:
        conf = CONFIG.format(syslog_port=syslog_port, port=port, metrics_port=metrics_port,
                             nginx_port=nginx_server.port, closed_port=closed_port)
        (tmp / "haproxy.cfg").write_text(conf)
        stdout = (tmp / "haproxy.log").open("wb")
        stderr = (tmp / "stderr.log").open("wb")
        # the accept date and the syslog header are local time: UTC, as the docs tell users to run it
        process = subprocess.Popen([binary, "-db", "-f", str(tmp / "haproxy.cfg")], stdout=stdout,
                                   stderr=stderr, env={**os.environ, "TZ": "UTC"})
        try:
            try:
                wait_for_port(port, timeout=10)
                wait_for_port(metrics_port, timeout=10)
            except TimeoutError:
                raise AssertionError(f"haproxy did not start: {_text(tmp / 'stderr.log')}") from None
            if not _wait_for_text(tmp / "haproxy.log", READY_TEXT, timeout=10):
                raise AssertionError(f"haproxy never logged {READY_TEXT!r}: {_text(tmp / 'stderr.log')}")
            yield HaproxyServer(port=port, metrics_port=metrics_port, directory=tmp, pid=process.pid)
        finally:
            _stop(process)
            stdout.close()
            stderr.close()
            shutil.rmtree(tmp, ignore_errors=True)
