"""Retention: rows past their table's limit leave every query at once, whole objects leave the
disk at the next maintenance (``dendro up`` runs one when it starts), per-table limits win."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

from dendro.config import from_dict
from dendro.runtime.datadir import DataDir
from dendro.runtime.housekeeping import housekeeping
from dendro.runtime.stores import open_store as open_configured
from dendro.store.local import LocalStore, Maintenance
from tests.store.tiering import access_at, history, live, objects, open_store, rows, stamp, utc_now


def disk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / "tables").rglob("*") if p.is_file())


def test_whole_days_past_the_limit_leave_the_disk(tmp_path: Path) -> None:
    now = utc_now()
    with open_store(tmp_path) as keeping:  # no retention: six closed days in Parquet
        keeping.write(history(days=6, per_day=300, now=now))
        keeping.maintain()
        assert len(live(keeping)) >= 6
    before = disk_bytes(tmp_path)
    with open_store(tmp_path, days=3) as store:
        report = store.maintain()
        assert report.dropped_objects >= 3
        assert disk_bytes(tmp_path) < before * 0.7
        assert objects(tmp_path) == live(store)
        oldest = store.query("SELECT min(time) FROM nginx_access").rows[0][0]
        assert oldest >= now - timedelta(days=3, minutes=1)
        days = sorted({p.split("/")[2] for p in live(store)})
        assert len(days) <= 4  # the 3 days kept, and the boundary's object while some of it is not expired


def test_rows_past_the_limit_are_gone_from_queries_before_any_maintenance(tmp_path: Path) -> None:
    now = utc_now()
    with open_store(tmp_path, days=2) as store:
        store.write([access_at(now - timedelta(days=5), 1), access_at(now - timedelta(hours=1), 2)])
        assert [r[3] for r in rows(store)] == ["/n/2"]
        assert store.query("SELECT count(*) FROM nginx_access WHERE time < ago(3d)").rows == [(0,)]


def test_a_table_keeps_its_own_limit(tmp_path: Path) -> None:
    now = utc_now()
    old = now - timedelta(days=3)
    error = {"type": "parse_error", "host": "web-1", "timestamp": stamp(old), "source": "s", "error": "e",
             "message": "m"}
    with open_store(tmp_path, days=30, by_table={"parse_error": 1}) as store:
        store.write([access_at(old, 1), error])
        store.maintain()
        assert store.query("SELECT count(*) FROM nginx_access").rows == [(1,)]
        assert store.query("SELECT count(*) FROM parse_error").rows == [(0,)]
        assert [p for p in live(store) if "parse_error" in p] == []


def test_zero_days_keeps_everything(tmp_path: Path) -> None:
    with open_store(tmp_path, days=0) as store:
        store.write([access_at(utc_now() - timedelta(days=4000), 1)])
        store.maintain()
        assert store.query("SELECT count(*) FROM nginx_access").rows == [(1,)]


def test_dendro_yaml_retention_reaches_the_store_and_runs_when_dendro_up_starts(tmp_path: Path) -> None:
    now = utc_now()
    data = tmp_path / "data"
    with open_store(data) as keeping:
        keeping.write(history(days=5, per_day=20, now=now))
        keeping.maintain()
    config = from_dict({"local": {"retention_days": 2, "retention_by_table": {"nginx_access": 3},
                                  "memory_limit": "256MB"}})
    store = open_configured(config, DataDir(data))
    assert isinstance(store, LocalStore)
    try:
        assert store.settings.retention.of("nginx_access") == 3
        assert store.settings.retention.of("agent") == 2
        setting = store._con.execute("SELECT current_setting('memory_limit')").fetchone()
        assert setting is not None and setting[0].startswith("244")  # DuckDB shows 256 MB in MiB
        keeper = housekeeping(store, DataDir(data))
        assert keeper is not None
        keeper.start()  # a maintenance when dendro up starts (in its thread, the ingest not waiting)
        deadline = time.monotonic() + 60
        while keeper.runs < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        keeper.stop()
        assert keeper.runs == 1
        days = {p.split("/")[2] for p in live(store)}
        assert len(days) <= 4 and objects(data) == live(store)
        assert "retention: nginx_access lost" in (data / "store.log").read_text()
    finally:
        store.close()


def test_stopping_dendro_up_ends_a_long_move_at_once_and_leaves_nothing_half_done(tmp_path: Path) -> None:
    now = utc_now()
    with open_store(tmp_path, work_share=0.01) as store:  # a move busy 1% of the time: very long
        store.write(history(days=3, per_day=2000, now=now))
        expected = rows(store)
        stop = threading.Event()
        runner = threading.Thread(target=lambda: reports.append(store.maintain(stop=stop)))
        reports: list[Maintenance] = []
        runner.start()
        time.sleep(0.3)
        started = time.monotonic()
        stop.set()
        runner.join(timeout=30)
        assert time.monotonic() - started < 5 and reports[0].errors == ["stopped"]
        assert rows(store) == expected and objects(tmp_path) == live(store)
        assert not [p for p in tmp_path.rglob("*.tmp")]
