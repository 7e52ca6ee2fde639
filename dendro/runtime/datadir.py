"""The local data dir (``local.data_dir``, ``.dendro`` by default): the one place naming its files.

- ``dendro.duckdb``: the local store's recent rows and manifest (:class:`dendro.store.local.LocalStore`);
- ``tables/<table>/date=YYYY-MM-DD/*.parquet``: its closed periods (:mod:`dendro.store.parquet_layout`),
  readable by any Parquet tool (the user's backup and export format); ``quarantine/``: objects
  found damaged, taken out of the queries; ``tmp/``: DuckDB's spill files;
- ``server.json``: the running ``dendro up`` (pid and ingest port), so other verbs go through it;
- ``ingest-token``, ``console-token``: bearer tokens generated once, mode 0600, when the
  environment gives none;
- ``ingest.log`` (rotated ``ingest.log.1``…): the ingest's own log, which the console's Logs page
  shows with every other ``*.log`` file of the directory;
- ``store.log`` (rotated): the store's own log (retention, moves, damaged objects, a full disk).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from dendro.config import Config


@dataclass(frozen=True)
class DataDir:
    path: Path

    STORE = "dendro.duckdb"
    SERVER = "server.json"
    INGEST_TOKEN = "ingest-token"
    CONSOLE_TOKEN = "console-token"
    INGEST_LOG = "ingest.log"
    STORE_LOG = "store.log"

    @classmethod
    def of(cls, config: Config, path: Path | None = None) -> DataDir:
        """``path`` when given (``--data-dir``), else the config's ``local.data_dir``."""
        return cls(path or config.data_dir())

    @property
    def store(self) -> Path:
        return self.path / self.STORE

    @property
    def server(self) -> Path:
        return self.path / self.SERVER

    @property
    def ingest_token(self) -> Path:
        return self.path / self.INGEST_TOKEN

    @property
    def console_token(self) -> Path:
        return self.path / self.CONSOLE_TOKEN

    @property
    def ingest_log(self) -> Path:
        return self.path / self.INGEST_LOG

    @property
    def store_log(self) -> Path:
        return self.path / self.STORE_LOG


def read_token(path: Path, env: str) -> str | None:
    """``$env`` if set, else the token stored in ``path``, else None."""
    value = os.environ.get(env, "").strip()
    if value:
        return value
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def stored_token(path: Path, env: str) -> str:
    """``$env`` if set, else the token stored in ``path``, else a new one stored there (mode 0600)."""
    found = read_token(path, env)
    if found:
        return found
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)
    return token
