"""``kill -9`` of a real ``dendro up`` while a client posts: every batch that got a 2xx survives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from dendro.config import Config
from dendro.store.local import LocalStore
from tests.support import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]


def start_up(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DENDRO_INGEST_TOKEN": "kill-test", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "dendro.cli", "up", "--data-dir", str(data_dir),
               "--ingest-port", str(port),
               "--console-port", str(free_port()), "--exporter-port", str(free_port())]
    process = subprocess.Popen(command, cwd=data_dir.parent, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    wait_for_port(port, timeout=30)
    return process


def batch(number: int) -> bytes:
    events = [{"type": "nginx_access", "host": "web-1", "timestamp": "2026-11-26T12:00:00.000000Z",
               "method": "GET", "path": f"/batch/{number}/{i}", "status": 200, "bytes": 1, "duration": 0.01}
              for i in range(200)]
    return b"\n".join(json.dumps(e).encode() for e in events)


def post_until_dead(url: str, acked: list[int], stop: threading.Event) -> None:
    number = 0
    while not stop.is_set():
        request = urllib.request.Request(url, data=batch(number), method="POST",
                                         headers={"Authorization": "Bearer kill-test"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    acked.append(number)
        except (urllib.error.URLError, OSError):
            return
        number += 1


def test_every_acknowledged_batch_survives_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    process = start_up(data_dir, port)
    acked: list[int] = []
    stop = threading.Event()
    client = threading.Thread(target=post_until_dead, args=(f"http://127.0.0.1:{port}/ingest", acked, stop))
    client.start()
    deadline = time.monotonic() + 20
    while len(acked) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    stop.set()
    client.join(timeout=10)
    assert len(acked) >= 20, process.stderr.read().decode() if process.stderr else ""

    with LocalStore(data_dir / "dendro.duckdb", "dendro", Config().store_tables()) as store:
        rows = store.query(
            "SELECT split_part(path, '/', 3) AS batch, count(*) FROM nginx_access GROUP BY 1", max_rows=None
        ).rows
    stored = {int(b): n for b, n in rows}
    missing = [n for n in acked if stored.get(n) != 200]
    assert missing == []
    assert all(n == 200 for n in stored.values())  # a batch is all or nothing

    process = start_up(data_dir, port)  # and the store opens again for dendro up
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert not (data_dir / "server.json").exists()
