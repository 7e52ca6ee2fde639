"""A full disk stops writes with DiskFull (507 at the ingest) and a clear log line; writes resume
when space returns, with every acknowledged batch kept.

The disk is a real small file system: a tmpfs mounted for the test (the tests run as root; a
machine where ``mount`` is refused fails here, it does not skip). Two paths: the store's reserve
refuses a batch before DuckDB runs out of space; with no reserve, DuckDB itself fails (and
invalidates its database, as duckdb/duckdb src/main/attached_database.cpp Invalidate says at
commit 044a04a7cd39e6e8235f756597ae42dde084e5e5: "Detach and reattach it before using it
again"), the store reopens its file when space is back.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dendro.config import Config
from dendro.runtime.datadir import DataDir
from dendro.runtime.up import Up, UpOptions
from dendro.store.base import DiskFull
from dendro.store.local import LocalStore
from tests.store.tiering import access_at, open_store, utc_now
from tests.support import free_port

MB = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    size = getattr(request, "param", 24)
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"a tmpfs is needed for this test (run as root): {done.stderr}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(where: Path, leave: int) -> Path:
    """A filler file taking all but ``leave`` bytes of the file system."""
    stats = os.statvfs(where)
    size = stats.f_bavail * stats.f_frsize - leave
    filler = where / "filler"
    with open(filler, "wb") as handle:
        handle.truncate(0)
        chunk = os.urandom(MB)
        for _ in range(size // MB):
            handle.write(chunk)
    return filler


def batch(number: int) -> list[dict[str, Any]]:
    now = utc_now()
    return [access_at(now, number * 1000 + i) | {"path": f"/batch/{number}/{i}/" + "x" * 100}
            for i in range(500)]


def stored_batches(store: LocalStore) -> Counter[int]:
    rows = store.query("SELECT split_part(path, '/', 3), count(*) FROM nginx_access GROUP BY 1",
                       max_rows=None).rows
    return Counter({int(b): n for b, n in rows})


def write_until_full(store: LocalStore, limit: int = 2000) -> tuple[list[int], DiskFull]:
    acked = []
    for number in range(limit):
        try:
            store.write(batch(number))
        except DiskFull as error:
            return acked, error
        acked.append(number)
    raise AssertionError("the disk never filled")


def test_the_reserve_refuses_writes_before_the_disk_is_full_and_they_resume(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    filler = fill(small_disk, leave=12 * MB)
    with caplog.at_level(logging.INFO, logger="dendro.store"), \
            open_store(small_disk, disk_reserve=6 * MB) as store:
        acked, error = write_until_full(store)
        assert acked and "disk full" in str(error) and "writes are refused until space is freed" in str(error)
        with pytest.raises(DiskFull):
            store.write(batch(9999))  # still full: refused again, logged once
        filler.unlink()
        store.write(batch(len(acked)))
        acked.append(len(acked))
        stored = stored_batches(store)
    assert all(stored[n] == 500 for n in acked) and sum(stored.values()) == 500 * len(acked)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith(f"disk full: {small_disk}")
    assert any("disk space returned" in r.getMessage() for r in caplog.records)


def test_when_duckdb_itself_runs_out_of_space_the_store_reopens_once_space_returns(small_disk: Path) -> None:
    filler = fill(small_disk, leave=10 * MB)
    with open_store(small_disk, disk_reserve=0) as store:
        acked, error = write_until_full(store)  # the WAL write fails: DuckDB rolls the batch back
        assert "No space left on device" in str(error)
        with pytest.raises(duckdb.Error, match="No space left"):
            store._con.execute("CHECKPOINT")  # as an automatic checkpoint would: the file is invalidated
        with pytest.raises(DiskFull):
            store.write(batch(4000))
        assert store._invalid
        filler.unlink()
        store.write(batch(5000))  # the store reopens its file (the WAL is replayed) and writes
        assert not store._invalid
        stored = stored_batches(store)
    assert all(stored[n] == 500 for n in [*acked, 5000])  # nothing acknowledged is lost
    assert set(stored.values()) == {500}  # a refused batch is all there or not at all
    assert set(stored) <= {*acked, len(acked), 4000, 5000}


@pytest.mark.parametrize("small_disk", [100], indirect=True)
def test_dendro_up_answers_507_when_the_disk_is_full_and_takes_batches_again_after(small_disk: Path) -> None:
    data = small_disk / "data"
    options = UpOptions(data, free_port(), free_port(), free_port(), bind="127.0.0.1")
    up = Up(Config(services={"nginx": {}}), options)
    up.start()
    try:
        assert up.server is not None
        url, token = up.server.urls[0], up.token
        filler = fill(small_disk, leave=70 * MB)  # the store's reserve is 64 MB
        acked, refused = [], None
        for number in range(3000):
            code = post(url, token, batch(number))
            if code == 507:
                refused = number
                break
            assert code == 200
            acked.append(number)
        assert refused is not None and acked
        assert post(url, token, batch(refused)) == 507  # the agent's retry, still refused
        filler.unlink()
        assert post(url, token, batch(refused)) == 200  # the retry once space is back
        assert isinstance(up.store, LocalStore)
        stored = stored_batches(up.store)
        assert {n: stored[n] for n in [*acked, refused]} == dict.fromkeys([*acked, refused], 500)
    finally:
        up.stop()
    log = (data / DataDir.STORE_LOG).read_text()
    assert f"ERROR disk full: {data}" in log and "writes resume" in log


def post(url: str, token: str, events: list[dict[str, Any]]) -> int:
    body = "\n".join(json.dumps(e) for e in events).encode()
    headers = {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
