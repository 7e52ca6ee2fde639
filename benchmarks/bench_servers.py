"""The ingest's WSGI application on each in-process HTTP server candidate, against read_json.

``dendro up`` serves the ingest, the console and the exporter in one process over one DuckDB
connection, so only servers that run a WSGI application in the calling process qualify:
waitress (``create_server``) and cheroot (``cheroot.wsgi.Server``). For each, in alternating
rounds under the same load: the events/s of ``bench_ingest.py``'s client (200,000 nginx events
in ~1 MB NDJSON batches over 2 keep-alive connections, from another process), DuckDB's own
``read_json`` of the same events in the same round, their ratio, and the median latency of a
single-event POST on one keep-alive connection.

    .venv/bin/python benchmarks/bench_servers.py [ROUNDS] [EVENTS] [SERVER ...]
"""

from __future__ import annotations

import http.client
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import TOKEN, batches, events, read_json_rate

from dendro.ingest.app import IngestApp, IngestSettings
from dendro.ingest.http import HTTPServer, Limits
from dendro.services import tables_of
from dendro.services.nginx import SERVICE as NGINX
from dendro.store.local import LocalStore

MAX_BODY = 64 * 1024 * 1024


class _Cheroot:
    def __init__(self, app: Any) -> None:
        from cheroot import wsgi

        self.server = wsgi.Server(("127.0.0.1", 0), app, numthreads=4, timeout=30)
        self.server.max_request_body_size = MAX_BODY
        self.server.prepare()
        self.port = int(self.server.bind_addr[1])
        self.thread = threading.Thread(target=self.server.serve, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.stop()


class _Waitress:
    def __init__(self, app: Any) -> None:
        self.server = HTTPServer(app, "127.0.0.1", 0, Limits(max_body_bytes=MAX_BODY), "bench")
        self.port = self.server.port

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()


SERVERS: dict[str, Callable[[Any], Any]] = {"waitress": _Waitress, "cheroot": _Cheroot}


def _serve(name: str, directory: Path) -> tuple[Any, LocalStore]:
    store = LocalStore(directory / f"{name}-{time.monotonic_ns()}.duckdb", "dendro", tables_of([NGINX]))
    server = SERVERS[name](IngestApp(store, IngestSettings(TOKEN, MAX_BODY)))
    sys.setswitchinterval(0.0002)  # as IngestServer.start does
    server.start()
    return server, store


def http_rate(name: str, directory: Path, count: int) -> float:
    server, store = _serve(name, directory)
    bench = str(Path(__file__).resolve().parent / "bench_ingest.py")
    command = [sys.executable, bench, "--client", str(server.port), str(directory), "2"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    elapsed = float(output.strip().splitlines()[-1])
    stored = store.query("SELECT count(*) FROM nginx_access").rows[0][0]
    server.stop()
    store.close()
    assert stored == count, stored
    return count / elapsed


def latency_ms(name: str, directory: Path, requests: int = 200) -> float:
    server, store = _serve(name, directory)
    body = orjson.dumps(events(1)[0])
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"}
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        connection.request("POST", "/ingest", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        times.append(time.perf_counter() - started)
        assert response.status == 200, response.status
    connection.close()
    server.stop()
    store.close()
    return statistics.median(times) * 1000


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    names = sys.argv[3:] or list(SERVERS)
    lines = [orjson.dumps(e) for e in events(count)]
    results: dict[str, list[tuple[float, float, float]]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for number, body in enumerate(batches(lines)):
            (directory / f"batch-{number:05d}.ndjson").write_bytes(body)
        for _ in range(rounds):
            for name in names:
                rate = http_rate(name, directory, count)
                native = read_json_rate(Path(tempfile.mkdtemp(dir=tmp)), lines, count)
                results[name].append((rate, native, latency_ms(name, directory)))
                print(f"{name:9} {rate:10,.0f} events/s  read_json {native:10,.0f}  ratio {rate / native:.2f}"
                      f"  single event {results[name][-1][2]:.2f} ms", flush=True)
    for name, runs in results.items():
        ratio = statistics.median(r / n for r, n, _ in runs)
        print(f"{name}: median ratio {ratio:.2f}, median single-event latency "
              f"{statistics.median(ms for *_, ms in runs):.2f} ms over {len(runs)} rounds")


if __name__ == "__main__":
    main()
