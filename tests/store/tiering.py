"""Helpers of the two-tier store tests: events at chosen times, a store with a retention, the
rows a store holds (as a multiset the tests compare), and the files of its data dir."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dendro.store.cold import META
from dendro.store.local import LocalStore, StoreSettings
from dendro.store.retention import Retention
from tests.store.conftest import TABLES


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def access_at(at: datetime, n: int, host: str = "web-1") -> dict[str, Any]:
    """An nginx_access event at ``at`` whose ``path`` (``/n/<n>``) identifies it."""
    return {"type": "nginx_access", "host": host, "timestamp": stamp(at), "method": "GET",
            "path": f"/n/{n}", "status": 500 if n % 7 == 0 else 200, "bytes": n, "duration": n / 1000}


def history(days: int, per_day: int, now: datetime, start: int = 0) -> list[dict[str, Any]]:
    """``per_day`` events on each of the ``days`` days before ``now`` (and today), numbered from
    ``start``, spread over each day."""
    events = []
    n = start
    for day in range(days, -1, -1):
        for i in range(per_day):
            at = now - timedelta(days=day) - timedelta(seconds=(i * 86_399) // per_day)
            events.append(access_at(at, n))
            n += 1
    return events


def open_store(root: Path, days: int = 0, by_table: dict[str, int] | None = None, **kw: Any) -> LocalStore:
    settings = StoreSettings(root=root, retention=Retention(days, by_table or {}), **kw)
    return LocalStore(root / "dendro.duckdb", "dendro", TABLES, settings=settings)


def rows(store: LocalStore, table: str = "nginx_access") -> Counter[tuple[Any, ...]]:
    """Every row of ``table`` as the store's view answers, as a multiset."""
    result = store.query(f'SELECT * FROM "dendro"."{table}"', max_rows=None, max_bytes=1 << 40)
    assert not result.truncated
    return Counter(result.rows)


def objects(root: Path) -> list[str]:
    """Object files of the data dir (relative, sorted), temporary ones included."""
    base = root / "tables"
    if not base.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file())


def live(store: LocalStore) -> list[str]:
    """The manifest's live objects."""
    found = store._con.execute(f'SELECT path FROM "dendro".{META}.objects ORDER BY path').fetchall()
    return [r[0] for r in found]


def hot_count(store: LocalStore, table: str = "nginx_access") -> int:
    row = store._con.execute(f'SELECT count(*) FROM "dendro".hot."{table}"').fetchone()
    return int(row[0]) if row else 0
