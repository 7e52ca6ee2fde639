"""Retention of the local store: how long each table keeps its rows, and dropping what is older.

``local.retention_days`` (0: keep everything) and ``local.retention_by_table`` (table → days)
give each table its limit. A row older than its limit is hidden by the table's view at once
(:mod:`dendro.store.cold`); :func:`drop_expired`, run by ``dendro up`` when it starts and every
hour, then removes whole Parquet objects whose every row is past the limit (and the rare hot
rows past it) and unlinks their files, which gives the disk space back.

The drop is crash-safe: one transaction removes the objects from the manifest and the view
and records their paths as pending; the files are unlinked after the commit and the pending
rows cleared; a crash in between leaves pending paths, which the next start unlinks
(:mod:`dendro.store.recovery`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dendro.store import cold
from dendro.store.tier import Tier

log = logging.getLogger("dendro.store")


@dataclass(frozen=True)
class Retention:
    """Days each table keeps its rows; 0 keeps them all."""

    days: int = 0
    by_table: Mapping[str, int] = field(default_factory=dict)

    def of(self, table: str) -> int:
        return int(self.by_table.get(table, self.days))


@dataclass
class Dropped:
    objects: int = 0
    bytes: int = 0
    hot_rows: int = 0


def drop_expired(tier: Tier, table: str, keep_days: int, now: datetime) -> Dropped:
    """Drop ``table``'s rows older than ``keep_days`` before ``now`` (naive UTC)."""
    if keep_days <= 0:
        return Dropped()
    limit = now - timedelta(days=keep_days)
    cur = tier.con.cursor()
    try:
        cur.execute("BEGIN")
        expired = [e for e in cold.entries(cur, tier.prefix, table) if e.max_time < limit]
        row = cur.execute(f"DELETE FROM {tier.hot(table)} WHERE time < ?", [limit]).fetchone()
        hot_rows = int(row[0]) if row else 0
        if not expired and not hot_rows:
            cur.execute("ROLLBACK")
            return Dropped()
        paths = [e.path for e in expired]
        cold.remove(cur, tier.prefix, paths)
        cold.set_pending(cur, tier.prefix, paths, now)
        tier.refresh(cur, table)
        tier.step("retention-deleted")
        cur.execute("COMMIT")
        tier.step("retention-committed")
    except BaseException:
        with contextlib.suppress(Exception):
            cur.execute("ROLLBACK")
        raise
    finally:
        cur.close()
    tier.unlink(paths)
    tier.step("retention-unlinked")
    tier.clear_pending(paths)
    dropped = Dropped(len(expired), sum(e.bytes for e in expired), hot_rows)
    if expired or hot_rows:
        log.info("retention: %s lost %d object(s) (%d bytes) and %d recent row(s) older than %d day(s)",
                 table, dropped.objects, dropped.bytes, hot_rows, keep_days)
    return dropped
