"""Open the store a config describes: the DuckDB file locally, Timestream on AWS.

``open_store`` is for the process that owns the store (``dendro up``, ``dendro ingest`` with
no server running); ``open_for_query`` is for readers such as ``dendro query``: through the
running ``dendro up`` when there is one (it holds DuckDB's single writer lock), else the file
opened read-only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dendro import services
from dendro.config import Config
from dendro.services.base import Table
from dendro.store.local import DEFAULT_FILE, LocalStore


def store_tables(config: Config) -> dict[str, Table]:
    """Every built-in table (so dashboards and the exporter find them) plus the config's own."""
    return {**services.all_tables(), **config.tables()}


def store_path(config: Config, data_dir: Path | None = None) -> Path:
    return (data_dir or config.data_dir()) / DEFAULT_FILE


def open_store(config: Config, *, read_only: bool = False, data_dir: Path | None = None) -> Any:
    """The store of ``config``: a LocalStore, or the Timestream store for backend aws."""
    if config.backend == "aws":
        from dendro.store import timestream  # another component's module, loaded only for AWS

        return timestream.TimestreamStore(config.database, store_tables(config), region=config.aws.region)
    path = store_path(config, data_dir)
    return LocalStore(path, config.database, store_tables(config), read_only=read_only)


def open_for_query(config: Config, data_dir: Path | None = None) -> Any:
    """A store to read from: the running server's API, or the file read-only."""
    if config.backend == "aws":
        return open_store(config, read_only=True)
    from dendro.ingest.client import running
    from dendro.store.remote import RemoteStore

    directory = data_dir or config.data_dir()
    server = running(directory, config.local.token_env)
    if server is not None:
        return RemoteStore(server.base_url, server.token, config.database)
    return LocalStore(store_path(config, directory), config.database, {}, read_only=True)
