"""Ingest over HTTP vs DuckDB's own read_json, on the same events, in the same run.

Posts NDJSON batches of about 1 MB (as Vector's http sink sends them, gzip off) to the ingest
server on loopback into a fresh store. The client is another process, as Vector is, with a few
concurrent keep-alive connections; it reads every batch before the clock starts. Then inserts
the same events from one NDJSON file with ``INSERT ... SELECT ... FROM read_json(...)`` into a
fresh DuckDB table of the same columns. Also the median time of a single-event POST on one
keep-alive connection (what an agent posting every second waits). Prints both rates and their
ratio last (goal: at least 0.3).

    .venv/bin/python benchmarks/bench_ingest.py [EVENTS] [CONNECTIONS]
"""

from __future__ import annotations

import http.client
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import orjson

from dendro.ingest.server import IngestServer, IngestSettings
from dendro.services import tables_of
from dendro.services.nginx import SERVICE as NGINX
from dendro.store.local import LocalStore

BATCH_BYTES = 1_000_000
TOKEN = "bench"


def events(count: int) -> list[dict]:
    rng = random.Random(1)
    base = 1_795_694_400
    result = []
    for i in range(count):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + i // 100)) + f".{i % 1_000_000:06d}Z"
        result.append({
            "type": "nginx_access", "host": f"web-{i % 5}", "timestamp": stamp, "method": "GET",
            "path": f"/api/orders/{rng.randint(1, 10_000)}", "status": 500 if i % 50 == 0 else 200,
            "bytes": rng.randint(100, 50_000), "duration": rng.random(), "client_ip": f"10.0.{i % 256}.7",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
            "referer": "-", "source_type": "file",
        })
    return result


def batches(lines: list[bytes]) -> list[bytes]:
    result, current, size = [], [], 0
    for line in lines:
        current.append(line)
        size += len(line) + 1
        if size >= BATCH_BYTES:
            result.append(b"\n".join(current))
            current, size = [], 0
    if current:
        result.append(b"\n".join(current))
    return result


def post_all(port: int, bodies: list[bytes]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"}
    for body in bodies:
        connection.request("POST", "/ingest", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
    connection.close()


def client(port: int, directory: Path, connections: int) -> None:
    """The client process: every batch of DIRECTORY over CONNECTIONS connections; prints seconds."""
    bodies = [path.read_bytes() for path in sorted(directory.glob("batch-*.ndjson"))]
    shares = [bodies[i::connections] for i in range(connections)]
    threads = [threading.Thread(target=post_all, args=(port, share)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(time.perf_counter() - started)


def single_event_ms(port: int, requests: int = 200) -> float:
    """Median milliseconds of a one-event POST, one after another on one keep-alive connection."""
    body = orjson.dumps(events(1)[0])
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        connection.request("POST", "/ingest", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        times.append(time.perf_counter() - started)
        assert response.status == 200, response.status
    connection.close()
    return sorted(times)[len(times) // 2] * 1000


def http_rate(directory: Path, bodies: list[bytes], count: int, connections: int) -> tuple[float, float]:
    for number, body in enumerate(bodies):
        (directory / f"batch-{number:05d}.ndjson").write_bytes(body)
    tables = tables_of([NGINX])
    store = LocalStore(directory / "http.duckdb", "dendro", tables)
    server = IngestServer(store, IngestSettings(TOKEN, 64 * 1024 * 1024), host="127.0.0.1", port=0)
    server.start()
    command = [sys.executable, __file__, "--client", str(server.port), str(directory), str(connections)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    elapsed = float(output.strip().splitlines()[-1])
    stored = store.query("SELECT count(*) FROM nginx_access").rows[0][0]
    latency = single_event_ms(server.port)
    server.stop()
    store.close()
    assert stored == count, stored
    return count / elapsed, latency


def read_json_rate(directory: Path, lines: list[bytes], count: int) -> float:
    path = directory / "events.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    table = NGINX.table("nginx_access")
    con = duckdb.connect(str(directory / "read_json.duckdb"))
    spec = ", ".join(["time TIMESTAMP", *[f'"{c.name}" {c.type}' for c in table.columns]])
    con.execute(f"CREATE TABLE nginx_access ({spec})")
    columns = {"timestamp": "VARCHAR", **{c.name: c.type for c in table.columns}}
    struct = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
    names = ", ".join(f'"{c.name}"' for c in table.columns)
    started = time.perf_counter()
    con.execute(
        f"INSERT INTO nginx_access SELECT CAST(timestamp AS TIMESTAMP), {names}"
        f" FROM read_json('{path}', format = 'newline_delimited', columns = {struct})"
    )
    elapsed = time.perf_counter() - started
    assert con.execute("SELECT count(*) FROM nginx_access").fetchone() == (count,)
    con.close()
    return count / elapsed


def main() -> None:
    if sys.argv[1:2] == ["--client"]:
        client(int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    connections = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    sample = events(count)
    lines = [orjson.dumps(e) for e in sample]
    bodies = batches(lines)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        http, latency = http_rate(directory, bodies, count, connections)
        native = read_json_rate(directory, lines, count)
    print(f"events: {count} in {len(bodies)} batches of ~{BATCH_BYTES // 1000} KB, {connections} connections")
    print(f"HTTP ingest:       {http:,.0f} events/s")
    print(f"DuckDB read_json:  {native:,.0f} events/s")
    print(f"single event:      {latency:.2f} ms (median of 200 POSTs on one connection)")
    print(f"ratio (HTTP / read_json): {http / native:.2f}")


if __name__ == "__main__":
    main()
