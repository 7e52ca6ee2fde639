"""Fixtures of the store tests: a small table set and a store of known events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dendro.services.base import Column, Table
from dendro.services.internal import INTERNAL_TABLES
from dendro.store.local import LocalStore

ACCESS = Table(
    "nginx_access",
    (
        Column("host", "VARCHAR", dimension=True),
        Column("method", "VARCHAR", dimension=True),
        Column("path", "VARCHAR"),
        Column("status", "BIGINT"),
        Column("bytes", "BIGINT"),
        Column("duration", "DOUBLE"),
    ),
)
TABLES = {t.name: t for t in (*INTERNAL_TABLES, ACCESS)}


def access(host: str, minute: int, second: int, status: int, duration: float) -> dict:
    return {
        "type": "nginx_access",
        "host": host,
        "timestamp": f"2026-11-26T12:{minute:02d}:{second:02d}.000000Z",
        "method": "GET",
        "path": "/",
        "status": status,
        "bytes": 100,
        "duration": duration,
    }


def known_events() -> list[dict]:
    """web-1: minute 0 has durations 0.01..0.10 (10 requests, 2 of them 5xx); minute 1 has 5
    requests of 1.0 s, all 200. web-2: minute 0 has 4 requests, durations 0.5, one 503."""
    events = [access("web-1", 0, i, 500 if i in (3, 7) else 200, (i + 1) / 100) for i in range(10)]
    events += [access("web-1", 1, i, 200, 1.0) for i in range(5)]
    events += [access("web-2", 0, i, 503 if i == 0 else 200, 0.5) for i in range(4)]
    return events


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path / "dendro.duckdb", "dendro", TABLES) as opened:
        yield opened


@pytest.fixture(scope="module")
def known_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStore]:
    path = tmp_path_factory.mktemp("known") / "dendro.duckdb"
    with LocalStore(path, "dendro", TABLES) as opened:
        opened.write(known_events())
        yield opened
