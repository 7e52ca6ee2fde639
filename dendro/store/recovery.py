"""Putting the cold tier back in order: after a crash (on open) and around a damaged object.

:func:`recover` runs when the store opens for writing (and after a failed maintenance step).
It removes unfinished writes (``.<id>.parquet.tmp``), unlinks every pending path the manifest
does not list as live (a move that never committed, objects a retention or a merge dropped),
clears the pending list, and finishes quarantines a crash interrupted. Objects it does not know
(neither live nor pending) are files someone put there, say restored from a backup: one whose
path and schema fit the layout, of a table the store has, whose rows all lie on its date, is
adopted (it joins the manifest and the table's view); any other is left alone, with a warning.

:func:`quarantine` takes a damaged object out of its table: in one transaction it leaves the
manifest and the view (a row of ``dendro_meta.quarantined`` keeps its path and the reason),
then its file moves from ``tables/`` to ``quarantine/`` (same relative path), where ``dendro
check --data`` keeps reporting it until someone deletes or restores it. A warning names it in
the store's log. On open, a quarantined path found under ``tables/`` again is either a
quarantine a crash interrupted (the file is damaged: it moves out) or a good copy restored from
a backup (it reads whole: it leaves the list and is adopted).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dendro.store import cold, datacheck
from dendro.store import parquet_layout as layout
from dendro.store.mover import TMP_SUFFIX
from dendro.store.tier import Tier, fsync_dir, utc_now

log = logging.getLogger("dendro.store")


def recover(tier: Tier) -> None:
    """Remove what interrupted moves, merges and drops left (see the module docstring)."""
    tables = tier.root / layout.TABLES
    if tables.is_dir():
        for leftover in tables.rglob(f".*{TMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)
    cur = tier.con.cursor()
    try:
        objects = cold.entries(cur, tier.prefix)
        live = {entry.path for entry in objects}
        waiting = cold.pending(cur, tier.prefix)
        stale = [path for path in waiting if path not in live]
        tier.unlink(stale)
        cold.clear_pending(cur, tier.prefix, waiting)
        if stale:
            log.info("recovery: removed %d file(s) of an interrupted move, merge or drop", len(stale))
        quarantined = [r[0] for r in cur.execute(f"SELECT path FROM {tier.prefix}.{cold.META}.quarantined")
                       .fetchall()]
        restored = [path for path in quarantined
                    if (tier.root / path).exists() and datacheck.problem(tier.root / path) is None]
        if restored:  # a copy that reads whole is back under tables/: no longer out, adopted below
            cur.executemany(f"DELETE FROM {tier.prefix}.{cold.META}.quarantined WHERE path = ?",
                            [[path] for path in restored])
    finally:
        cur.close()
    for path in quarantined:
        if path not in restored:  # a quarantine a crash interrupted: the damaged file goes out
            _move_out(tier, path)
    _adopt(tier, objects)


#: Arrow types of a restored object's columns → the store's column types
_DUCK_TYPES = {"string": "VARCHAR", "large_string": "VARCHAR", "int64": "BIGINT", "double": "DOUBLE",
               "bool": "BOOLEAN", "timestamp[us]": "TIMESTAMP"}


def _adopt(tier: Tier, objects: list[cold.Entry]) -> None:
    live = {entry.path for entry in objects}
    tables = tier.root / layout.TABLES
    if not tables.is_dir():
        return
    known = set(tier.hot_tables())
    for file in sorted(tables.rglob(f"*{layout.SUFFIX}")):
        relative = file.relative_to(tier.root).as_posix()
        if relative in live or file.name.startswith("."):
            continue
        found = layout.parse(relative)
        entry = _entry_of(file, relative, found) if found is not None and found.table in known else None
        if entry is None:
            log.warning("%s is not part of the store (not a readable object of one of its tables, on its"
                        " date): left as it is", relative)
            continue
        if any(_overlap(entry, other) for other in objects):
            log.warning("%s overlaps the time range of a live object of %s on %s (it would count rows"
                        " twice): left as it is", relative, entry.table, entry.day.isoformat())
            continue
        objects.append(entry)
        cur = tier.con.cursor()
        try:
            cur.execute("BEGIN")
            cold.add(cur, tier.prefix, [entry], utc_now())
            tier.refresh(cur, entry.table)
            cur.execute("COMMIT")
        finally:
            cur.close()
        log.warning("%s adopted: its %d row(s) of %s are queried again", relative, entry.rows, entry.table)


def _overlap(one: cold.Entry, other: cold.Entry) -> bool:
    return (one.table == other.table and one.day == other.day and one.min_time <= other.max_time
            and other.min_time <= one.max_time)


def _entry_of(file: os.PathLike[str], relative: str, found: layout.ObjectPath) -> cold.Entry | None:
    """The manifest entry of a readable object whose rows all lie on its date, else None."""
    try:
        source = pq.ParquetFile(file)
        columns = tuple((f.name, _DUCK_TYPES[str(f.type)]) for f in source.schema_arrow)
        times = source.read(columns=[layout.TIME])[layout.TIME]
    except (OSError, KeyError, pa.ArrowException, ValueError):
        return None
    if not times or times.null_count or columns[0] != (layout.TIME, "TIMESTAMP"):
        return None
    low, high = pc.min(times).as_py(), pc.max(times).as_py()
    if low.date() != found.day or high.date() != found.day:
        return None
    size = os.path.getsize(file)
    return cold.Entry(relative, found.table, found.day, len(times), size, low, high, columns)


def _move_out(tier: Tier, path: str) -> None:
    source, target = tier.root / path, tier.root / cold.QUARANTINE / path
    if not source.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    fsync_dir(target.parent)
    fsync_dir(source.parent)
    with contextlib.suppress(OSError):
        source.parent.rmdir()


def quarantine(tier: Tier, path: str, reason: str) -> bool:
    """Take the live object ``path`` out of its table (see the module docstring); False if it
    was not live (already quarantined, dropped, or never the store's)."""
    return bool(quarantine_all(tier, {path: reason}))


def quarantine_all(tier: Tier, reasons: dict[str, str], missing: bool = False) -> list[cold.Entry]:
    """Take these live objects out of their tables in one transaction (each view is rebuilt once,
    after all are out: DuckDB opens a view's files when it creates it). ``missing``: the files are
    gone, so they are only forgotten. Returns the objects taken out."""
    cur = tier.con.cursor()
    try:
        cur.execute("BEGIN")
        found = [e for e in cold.entries(cur, tier.prefix) if e.path in reasons]
        if not found:
            cur.execute("ROLLBACK")
            return []
        cold.remove(cur, tier.prefix, [e.path for e in found])
        if not missing:
            cur.executemany(f"INSERT INTO {tier.prefix}.{cold.META}.quarantined VALUES (?, ?, ?, ?, ?, ?)",
                            [[e.path, e.table, e.day, e.rows, reasons[e.path], utc_now()] for e in found])
        for table in sorted({e.table for e in found}):
            tier.refresh(cur, table)
        cur.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):
            cur.execute("ROLLBACK")
        raise
    finally:
        cur.close()
    for entry in found:
        _report(tier, entry, reasons[entry.path], missing)
    return found


def _report(tier: Tier, entry: cold.Entry, reason: str, missing: bool) -> None:
    rows, day = entry.rows, entry.day.isoformat()
    if missing:
        log.error("%s is missing: its %d row(s) of %s on %s are lost (put the file back from a backup and"
                  " restart dendro up to have them again)", entry.path, rows, entry.table, day)
        return
    _move_out(tier, entry.path)
    log.warning("%s is damaged (%s): its %d row(s) of %s on %s are skipped by every query; it was moved to"
                " %s (restore it from a backup or delete it)", entry.path, reason, rows, entry.table, day,
                tier.root / cold.QUARANTINE / entry.path)


def damaged(tier: Tier, tables: Iterable[str]) -> list[tuple[str, str]]:
    """(path, problem) of every live object of ``tables`` that does not read whole."""
    wanted = set(tables)
    found = []
    for entry in cold.entries(tier.con.cursor(), tier.prefix):
        if entry.table in wanted:
            trouble = datacheck.problem(tier.root / entry.path)
            if trouble is not None:
                found.append((entry.path, trouble))
    return found


def check_objects(tier: Tier) -> None:
    """Every live object has its file and a readable footer: a missing one leaves the manifest
    (its rows are lost: logged as an error), an unreadable one is quarantined. Reading footers
    is cheap; :func:`damaged` and :func:`scrub` read whole files."""
    missing: dict[str, str] = {}
    broken: dict[str, str] = {}
    for entry in cold.entries(tier.con.cursor(), tier.prefix):
        target = tier.root / entry.path
        if not target.exists():
            missing[entry.path] = "missing"
        elif (trouble := datacheck.footer_problem(target)) is not None:
            broken[entry.path] = trouble
    if missing:
        quarantine_all(tier, missing, missing=True)
    if broken:
        quarantine_all(tier, broken)


#: bytes of objects one maintenance reads whole to find damage DuckDB would not notice
SCRUB_BYTES = 256 * 1024 * 1024
#: an object found sound is read again after this many seconds
SCRUB_EVERY = 7 * 86400.0


def scrub(tier: Tier, verified: dict[str, float], now: float, budget: int = SCRUB_BYTES) -> int:
    """Read whole (every page against its CRC) the live objects least recently found sound, up to
    ``budget`` bytes, quarantining the damaged ones; ``verified`` (path → when found sound) is
    updated. DuckDB does not check page CRCs, so a flipped bit in a page can read as a wrong
    value instead of an error: this is how ``dendro up`` finds such an object without a query
    failing. Returns how many were quarantined."""
    found = 0
    entries = cold.entries(tier.con.cursor(), tier.prefix)
    for entry in sorted(entries, key=lambda e: verified.get(e.path, 0.0)):
        if budget <= 0 or now - verified.get(entry.path, 0.0) < SCRUB_EVERY:
            break
        budget -= entry.bytes
        started = time.perf_counter()
        trouble = datacheck.problem(tier.root / entry.path)
        tier.pace(time.perf_counter() - started)
        if trouble is None:
            verified[entry.path] = now
        else:
            found += len(quarantine_all(tier, {entry.path: trouble}))
    return found
