"""The local store's upkeep in ``dendro up``: retention, moves to Parquet, merges, compaction.

:class:`Housekeeping` is a component of ``dendro up``. When it starts it compacts the DuckDB
file if more than half of it is free (nothing else uses the store yet), then runs
:meth:`~dendro.store.local.LocalStore.maintain` (retention, closed periods to Parquet, merges
of closed days, a scrub) in a thread at once and every :data:`INTERVAL` seconds after, at a
lower CPU priority and paced (the store's ``work_share``) so the ingest keeps its speed; the
ingest starts without waiting for a first run over a large backlog. Stopping ends the run in
progress at its next pause (its work is abandoned cleanly, as after a failure). It also sends the store's log
(``dendro.store``: retention, moves, damaged objects, a full disk) to ``DATA_DIR/store.log``,
rotated, which the console's Logs page shows.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import threading

from dendro.runtime.datadir import DataDir
from dendro.store.base import Store
from dendro.store.local import LocalStore

INTERVAL = 3600.0
LOG_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 3
log = logging.getLogger("dendro.store")


class Housekeeping:
    """Runs the store's maintenance at start and every ``interval`` seconds (a component)."""

    name = "housekeeping"

    def __init__(self, store: LocalStore, data_dir: DataDir, interval: float = INTERVAL) -> None:
        self.store = store
        self.data_dir = data_dir
        self.interval = interval
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dendro-housekeeping", daemon=True)
        self._log: logging.Handler | None = None

    @property
    def urls(self) -> list[str]:
        return []

    def start(self) -> None:
        self._log = _file_log(self.data_dir)
        self.store.compact_if_sparse()  # nothing else uses the store yet
        self._thread.start()

    def run_once(self) -> None:
        report = self.store.maintain(stop=self._stop)
        self.runs += 1
        if report.moved_rows or report.dropped_objects or report.merged_days:
            log.info("maintenance: %d row(s) moved to Parquet, %d day(s) merged, %d object(s) (%d bytes)"
                     " dropped by retention", report.moved_rows, report.merged_days,
                     report.dropped_objects, report.dropped_bytes)

    def _loop(self) -> None:
        lower_priority()
        while True:
            try:
                self.run_once()
            except Exception:  # a failed run is logged and retried at the next interval
                log.exception("maintenance failed; it runs again in %g s", self.interval)
            if self._stop.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._log is not None:
            log.removeHandler(self._log)
            self._log.close()
            self._log = None


def lower_priority() -> None:
    """Give the calling thread a nice value of 10 (Linux schedules threads by their own nice
    value), so the ingest's threads win the CPU when both want it."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def _file_log(data_dir: DataDir) -> logging.Handler:
    handler = logging.handlers.RotatingFileHandler(
        data_dir.store_log, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    return handler


def housekeeping(store: Store, data_dir: DataDir) -> Housekeeping | None:
    """The upkeep of ``store`` if it is a local store opened for writing (Timestream needs none)."""
    if isinstance(store, LocalStore) and not store.read_only:
        return Housekeeping(store, data_dir)
    return None
