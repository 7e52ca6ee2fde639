"""The disk under the local store: refuse writes before it is full, and recognise when it was.

DuckDB cannot take a write back once its disk is full: a commit or checkpoint that fails for
lack of space invalidates the attached database ("Detach and reattach it before using it
again"), and the commit may or may not have reached the WAL. So the store checks the free space
of its directory before every write (:meth:`DiskGuard.check`, one ``statvfs``) and refuses the
batch with :class:`~dendro.store.base.DiskFull` while less than a reserve is left (the ingest
answers 507 and the agent keeps the batch); an error DuckDB still raises for lack of space is
recognised (:func:`is_disk_full`) and becomes the same refusal, after which the store reopens
its file. The first refusal logs one error line, and the first write after space returns logs
that writes resume.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

from dendro.store.base import DiskFull

log = logging.getLogger("dendro.store")

#: free bytes a store keeps in hand (a checkpoint writes a WAL's worth of blocks before it frees any)
DEFAULT_RESERVE = 64 * 1024 * 1024
_MB = 1024 * 1024


def is_disk_full(error: BaseException) -> bool:
    """True for an error caused by a full disk or an exceeded quota."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(error)
    return "No space left on device" in text or "Disk quota exceeded" in text


def is_invalidated(error: BaseException) -> bool:
    """True when DuckDB invalidated the database after a failed write (it must be reopened)."""
    return "invalidated" in str(error).lower()


class DiskGuard:
    """Free space of one directory's file system against a reserve."""

    def __init__(self, directory: Path, reserve: int = DEFAULT_RESERVE) -> None:
        self.directory = directory
        self.reserve = reserve
        self.full = False

    def free(self) -> int:
        stats = os.statvfs(self.directory)
        return stats.f_bavail * stats.f_frsize

    def check(self) -> None:
        """Raise DiskFull while less than the reserve is free; log the first refusal and the return."""
        free = self.free()
        if free < self.reserve:
            raise self.refuse(f"{free // _MB} MB free")
        if self.full:
            self.full = False
            log.warning("disk space returned: %s has %d MB free; writes resume", self.directory, free // _MB)

    def refuse(self, detail: str) -> DiskFull:
        """The DiskFull to raise (logged once per episode of a full disk)."""
        message = (f"disk full: {self.directory} has {detail} (the store keeps {self.reserve // _MB} MB in"
                   " reserve); writes are refused until space is freed (lower local.retention_days, or"
                   " remove files)")
        if not self.full:
            self.full = True
            log.error("%s", message)
        return DiskFull(message)
