"""A real Apache httpd (Debian's apache2) on 127.0.0.1 logging in Dendro's recommended format.

Session-scoped: started once in the foreground, stopped at the end. ``/ok`` is a file (200),
``/boom`` a RewriteRule answering 500, ``/slow`` is proxied to a backend that waits
:data:`slow_backend.DELAY` seconds, ``/server-status`` is mod_status, anything else a real 404.
Running as root, apache hands its children to www-data, so the directory is world-readable.
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

from dendro.services.apache import LOG_FORMAT
from tests.servers.slow_backend import slow_backend
from tests.support import free_port, require_binary, wait_for_port

MODULES = ("mpm_event", "authz_core", "status", "rewrite", "proxy", "proxy_http")
MODULE_DIR = Path("/usr/lib/apache2/modules")

CONFIG = """
ServerRoot "{tmp}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
{modules}
{user}
PidFile "{tmp}/httpd.pid"
DefaultRuntimeDir "{tmp}/run"
ErrorLog "{tmp}/error.log"
LogLevel info
{log_format}
CustomLog "{tmp}/access.log" dendro
DocumentRoot "{tmp}/htdocs"
<Directory "{tmp}/htdocs">
    Require all granted
</Directory>
RewriteEngine On
RewriteRule "^/boom$" - [R=500]
ProxyPass "/slow" "http://127.0.0.1:{backend}/slow"
<Location "/server-status">
    SetHandler server-status
    Require all granted
</Location>
"""


@dataclass(frozen=True)
class ApacheServer:
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


def _config(tmp: Path, port: int, backend: int) -> str:
    modules = "\n".join(f"LoadModule {name}_module {MODULE_DIR / f'mod_{name}.so'}" for name in MODULES)
    user = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
    return CONFIG.format(tmp=tmp, port=port, backend=backend, modules=modules, user=user,
                         log_format=LOG_FORMAT)


@pytest.fixture(scope="session")
def apache_server() -> Iterator[ApacheServer]:
    binary = require_binary("apache2", "apache2", "/usr/sbin/apache2")
    tmp = Path(tempfile.mkdtemp(prefix="dendro-apache-"))
    tmp.chmod(0o755)
    (tmp / "htdocs").mkdir(mode=0o755)
    (tmp / "run").mkdir()
    (tmp / "htdocs" / "ok").write_text("ok\n")
    port = free_port()
    with slow_backend() as backend:
        (tmp / "httpd.conf").write_text(_config(tmp, port, backend))
        stderr = (tmp / "stderr.log").open("wb")
        process = subprocess.Popen(
            [binary, "-d", str(tmp), "-f", str(tmp / "httpd.conf"), "-DFOREGROUND"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            try:
                wait_for_port(port, timeout=15)
            except TimeoutError:
                process.kill()
                process.wait()
                logs = [tmp / "stderr.log", tmp / "error.log"]
                text = "".join(p.read_text(errors="replace") for p in logs if p.exists())
                raise AssertionError(f"apache2 did not start: {text}") from None
            yield ApacheServer(port=port, directory=tmp)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            stderr.close()
            shutil.rmtree(tmp, ignore_errors=True)
