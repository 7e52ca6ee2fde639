"""Fixtures of the ingest tests: a store with the ingest server on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dendro.ingest.server import IngestServer, IngestSettings
from dendro.store.local import LocalStore
from tests.store.conftest import TABLES
from tests.support import free_port

TOKEN = "test-token"


@dataclass
class Running:
    store: LocalStore
    url: str


@pytest.fixture
def ingest(tmp_path: Path) -> Iterator[Running]:
    store = LocalStore(tmp_path / "dendro.duckdb", "dendro", TABLES)
    server = IngestServer(store, IngestSettings(TOKEN, 64 * 1024), host="127.0.0.1", port=free_port())
    server.start()
    try:
        yield Running(store, f"http://127.0.0.1:{server.port}")
    finally:
        server.stop()
        store.close()
