"""Finding a running ``dendro up`` through its data dir (its API is read by :mod:`dendro.store.remote`).

``dendro up`` owns the DuckDB file (DuckDB allows one writer), so while it runs, ``dendro
query`` and ``dendro ingest`` go through its HTTP API. It announces itself in
``DATA_DIR/server.json`` (pid and port); a file left by a killed server is recognised because
nothing answers on that port.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from dendro.ingest.token import DEFAULT_ENV, TOKEN_FILE
from dendro.store.base import StoreError

SERVER_FILE = "server.json"


@dataclass(frozen=True)
class Running:
    """A running ``dendro up`` on this data dir."""

    pid: int
    port: int
    token: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def announce(data_dir: Path, port: int) -> Path:
    path = data_dir / SERVER_FILE
    path.write_text(json.dumps({"pid": os.getpid(), "port": port}), encoding="utf-8")
    return path


def read_token(data_dir: Path, env: str = DEFAULT_ENV) -> str | None:
    value = os.environ.get(env, "").strip()
    if value:
        return value
    try:
        return (data_dir / TOKEN_FILE).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def running(data_dir: Path, env: str = DEFAULT_ENV) -> Running | None:
    """The server holding this data dir, if one answers."""
    try:
        info = json.loads((data_dir / SERVER_FILE).read_text(encoding="utf-8"))
        pid, port = int(info["pid"]), int(info["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _healthy(port):
        return None
    token = read_token(data_dir, env)
    if token is None:
        raise StoreError(f"dendro up is running on {data_dir} but its token is unknown: set ${env}")
    return Running(pid, port, token)
