"""Ingest rate while the maintenance moves days to Parquet, against the rate without it.

A store holds a backlog of BACKLOG_DAYS closed days of nginx_access rows in DuckDB (as after a
restart that missed the hourly runs). A client process (as Vector is) posts the same NDJSON
batches of today's events (about 1 MB each) over two keep-alive connections to the ingest
server, twice: once with nothing else running, once while the store's maintenance moves the
backlog to Parquet as ``dendro up``'s housekeeping thread does (lower priority, paced to the
store's WORK_SHARE). The backlog is sized so the move outlasts the posting (the overlap is
printed). PAIRS pairs of runs in turns; prints the median events/s of both and their ratio last
(goal: at least 0.9).

    .venv/bin/python benchmarks/bench_move_ingest.py [EVENTS] [BACKLOG_ROWS] [PAIRS]
"""

from __future__ import annotations

import http.client
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import orjson
from history import now

from dendro.ingest.server import IngestServer, IngestSettings
from dendro.runtime.housekeeping import lower_priority
from dendro.services import catalog, tables_of
from dendro.store.local import WORK_SHARE, LocalStore, StoreSettings

TOKEN = "bench"
BATCH_EVENTS = 3000
BACKLOG_DAYS = 4


def bodies(count: int) -> list[bytes]:
    at = now() - timedelta(minutes=5)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S")
    events = [orjson.dumps({
        "type": "nginx_access", "host": f"web-{i % 20}", "timestamp": f"{stamp}.{i % 1_000_000:06d}Z",
        "method": "GET", "protocol": "HTTP/1.1", "path": f"/api/v1/users/{i * 7919 % 200_000}/orders",
        "status": 500 if i % 97 == 0 else 200, "bytes": 1000 + i % 40_000, "duration": (i % 997) / 1000,
        "client_ip": f"10.{i % 200}.{i % 13}.7", "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:132.0)",
        "referer": None, "vhost": None, "message": None}) for i in range(count)]
    return [b"\n".join(events[i:i + BATCH_EVENTS]) for i in range(0, count, BATCH_EVENTS)]


def post_all(port: int, share: list[bytes]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"}
    for body in share:
        connection.request("POST", "/ingest", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
    connection.close()


def client(port: int, directory: Path) -> None:
    """The client process: post every batch file over two connections; print the seconds taken."""
    loaded = [p.read_bytes() for p in sorted(directory.glob("batch-*.ndjson"))]
    threads = [threading.Thread(target=post_all, args=(port, loaded[i::2])) for i in range(2)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(time.perf_counter() - started)


def backlog(store: LocalStore, rows: int) -> None:
    """``rows`` rows over the BACKLOG_DAYS days before today, in DuckDB."""
    end = now().replace(hour=0, minute=0, second=0)
    step = BACKLOG_DAYS * 86_400_000_000 // rows
    store._con.execute(
        f"""INSERT INTO "dendro".hot.nginx_access (time, host, method, protocol, status, path, bytes,
                                                    duration, client_ip, user_agent)
        SELECT TIMESTAMP '{end.isoformat()}' - to_microseconds(CAST(j * {step} AS BIGINT)),
               'web-' || (j % 20), 'GET', 'HTTP/1.1', CASE WHEN hash(j) % 100 = 0 THEN 503 ELSE 200 END,
               '/api/v1/users/' || (hash(j) % 200000) || '/orders', 1000 + j % 40000, (j % 997) / 1000,
               '10.' || (j % 200) || '.' || (j % 13) || '.7', 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0)'
        FROM range(1, {rows + 1}) AS r(j)""")
    store._con.execute("CHECKPOINT")


def rate(root: Path, directory: Path, count: int, rows: int, moving: bool) -> tuple[float, float]:
    """(events/s of the posting, share of the posting during which the move ran)."""
    store = LocalStore(root / "dendro.duckdb", "dendro", tables_of([catalog()["nginx"]]),
                       settings=StoreSettings(root=root, work_share=WORK_SHARE))
    backlog(store, rows)
    server = IngestServer(store, IngestSettings(TOKEN, 64 * 1024 * 1024), host="127.0.0.1", port=0)
    server.start()
    span: list[float] = []

    def move() -> None:  # as dendro up's housekeeping thread runs it
        lower_priority()
        span.append(time.perf_counter())
        store.maintain()
        span.append(time.perf_counter())

    mover = threading.Thread(target=move)
    command = [sys.executable, __file__, "--client", str(server.port), str(directory)]
    started = time.perf_counter()
    if moving:
        mover.start()
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    finished = time.perf_counter()
    if moving:
        mover.join()
    elapsed = float(output.strip().splitlines()[-1])
    stored = store.query("SELECT count(*) FROM nginx_access").rows[0][0]
    server.stop()
    store.close()
    assert stored == count + rows, stored
    overlap = (min(span[1], finished) - started) / (finished - started) if moving else 0.0
    return count / elapsed, overlap


def main() -> None:
    if sys.argv[1:2] == ["--client"]:
        client(int(sys.argv[2]), Path(sys.argv[3]))
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 3_000_000
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    quiet, busy, overlaps = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for number, body in enumerate(bodies(count)):
            (directory / f"batch-{number:05d}.ndjson").write_bytes(body)
        for pair in range(pairs):  # in turns: the machine's load changes both alike
            quiet.append(rate(directory / f"quiet-{pair}", directory, count, rows, moving=False)[0])
            moved, overlap = rate(directory / f"busy-{pair}", directory, count, rows, moving=True)
            busy.append(moved)
            overlaps.append(overlap)
    alone, during = statistics.median(quiet), statistics.median(busy)
    print(f"{count:,} events posted; backlog of {rows:,} rows over {BACKLOG_DAYS} days;"
          f" {pairs} pairs of runs")
    print(f"ingest alone: {alone:,.0f} events/s; while the move ran: {during:,.0f} events/s (medians; the"
          f" move ran through {min(overlaps):.0%} of each posting)")
    print(f"ratio with / without the move: {during / alone:.2f}")


if __name__ == "__main__":
    main()
