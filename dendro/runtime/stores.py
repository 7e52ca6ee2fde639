"""Open the store a verb works on: the DuckDB file, a running ``dendro up``, or Timestream.

``dendro up`` owns the DuckDB file (DuckDB allows one writer) and announces itself in the data
dir's ``server.json`` (pid and ingest port); a file left by a killed server is recognised because
nothing answers on that port. While it runs, the other verbs read and write through its API
(:class:`~dendro.store.remote.RemoteStore`); otherwise they open the file themselves.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass

from dendro.config import Config
from dendro.runtime.datadir import DataDir, read_token
from dendro.store.base import Store, StoreError
from dendro.store.local import WORK_SHARE, LocalStore, StoreSettings
from dendro.store.remote import RemoteStore
from dendro.store.retention import Retention


@dataclass(frozen=True)
class Running:
    """A running ``dendro up`` on a data dir."""

    pid: int
    port: int
    token: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def announce(data_dir: DataDir, port: int) -> None:
    data_dir.server.write_text(json.dumps({"pid": os.getpid(), "port": port}), encoding="utf-8")


def withdraw(data_dir: DataDir) -> None:
    data_dir.server.unlink(missing_ok=True)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def running(data_dir: DataDir, token_env: str) -> Running | None:
    """The server holding this data dir, if one answers."""
    try:
        info = json.loads(data_dir.server.read_text(encoding="utf-8"))
        pid, port = int(info["pid"]), int(info["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _healthy(port):
        return None
    token = read_token(data_dir.ingest_token, token_env)
    if token is None:
        raise StoreError(
            f"dendro up is running on {data_dir.path} but its token is unknown: set ${token_env}"
        )
    return Running(pid, port, token)


def store_settings(config: Config, data_dir: DataDir) -> StoreSettings:
    """The local store's settings from dendro.yaml (retention, memory) and the data dir."""
    local = config.local
    retention = Retention(local.retention_days, dict(local.retention_by_table))
    return StoreSettings(root=data_dir.path, memory_limit=local.memory_limit, retention=retention,
                         work_share=WORK_SHARE)


def open_store(config: Config, data_dir: DataDir, *, read_only: bool = False) -> Store:
    """The store of ``config`` itself: the data dir's DuckDB file, or Timestream for backend aws."""
    if config.backend == "aws" and config.aws.store == "athena":
        from dendro.store.athena import AthenaStore  # boto3 only for the aws backend

        return AthenaStore(config.database, config.store_tables(), region=config.aws.region)
    if config.backend == "aws":
        from dendro.store.timestream import TimestreamStore  # boto3 only for the aws backend

        return TimestreamStore(config.database, config.store_tables(), region=config.aws.region)
    return LocalStore(data_dir.store, config.database, config.store_tables(), read_only=read_only,
                      settings=store_settings(config, data_dir))


def open_for_query(config: Config, data_dir: DataDir) -> Store:
    """A store to read from: the running server's API, or the file read-only."""
    if config.backend == "aws":
        return open_store(config, data_dir, read_only=True)
    server = running(data_dir, config.local.token_env)
    if server is not None:
        return RemoteStore(server.base_url, server.token, config.database)
    return LocalStore(data_dir.store, config.database, {}, read_only=True,
                      settings=store_settings(config, data_dir))


def open_for_writing(config: Config, data_dir: DataDir) -> Store:
    """A store to write to: through the running server, else the store itself."""
    server = running(data_dir, config.local.token_env)
    if server is not None:
        return RemoteStore(server.base_url, server.token, config.database)
    return open_store(config, data_dir)
