"""A real nginx (Debian package) on 127.0.0.1 logging in Dendro's recommended format.

Session-scoped: started once, stopped at the end. Locations: ``/ok`` (200), ``/boom`` (500),
``/slow`` (proxied to a backend that waits :data:`slow_backend.DELAY` seconds),
``/nginx_status`` (stub_status); anything else is looked up under an empty root, so
``/missing`` is a real 404 with a real error-log line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dendro.services.nginx import LOG_FORMAT
from tests.servers.slow_backend import slow_backend
from tests.support import free_port, require_binary, wait_for_port

CONFIG = """
{user}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 64; }}
http {{
    {log_format}
    access_log {tmp}/access.log dendro;
    default_type text/plain;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {tmp}/html;
        location = /ok {{ return 200 "ok\\n"; }}
        location = /boom {{ return 500; }}
        location = /slow {{ proxy_pass http://127.0.0.1:{backend}; }}
        location = /nginx_status {{ stub_status; }}
    }}
}}
"""


@dataclass(frozen=True)
class NginxServer:
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.directory / "access.log"

    @property
    def error_log(self) -> Path:
        return self.directory / "error.log"


@pytest.fixture(scope="session")
def nginx_server() -> Iterator[NginxServer]:
    binary = require_binary("nginx", "nginx", "/usr/sbin/nginx")
    tmp = Path(tempfile.mkdtemp(prefix="dendro-nginx-"))
    (tmp / "html").mkdir()
    port = free_port()
    with slow_backend() as backend:
        user = "user root;" if os.geteuid() == 0 else ""
        conf = CONFIG.format(user=user, tmp=tmp, port=port, backend=backend, log_format=LOG_FORMAT)
        (tmp / "nginx.conf").write_text(conf)
        stderr = (tmp / "stderr.log").open("wb")
        process = subprocess.Popen(
            [binary, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log"),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            try:
                wait_for_port(port, timeout=10)
            except TimeoutError:
                process.kill()
                process.wait()
                text = (tmp / "stderr.log").read_text(errors="replace")
                raise AssertionError(f"nginx did not start: {text}") from None
            yield NginxServer(port=port, directory=tmp)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            stderr.close()
            shutil.rmtree(tmp, ignore_errors=True)
