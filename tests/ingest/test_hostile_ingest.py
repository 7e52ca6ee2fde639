"""The ingest (port 9880) against a hostile client: issue 15, items 1 to 6 and 8, each probe as
it was reproduced on ``dendro up``, over real sockets to the real server.

1. a missing, negative, non-numeric or too large ``Content-Length``: 411/400/413, nothing stored,
   and a too large one is refused before its body is read;
2. gzip: every member decoded, a missing trailer or trailing junk refused (400, nothing stored);
3. a body shorter than declared, then a half-close: 400, nothing stored;
4. slow and idle connections: closed after their timeout, bounded in number, and a legitimate
   agent still gets through while they are held;
5. the unread body of a 401 or 404 is never parsed as the next request;
6. an event nested 1,000 levels deep: a 400 with the reason, never a dropped connection;
8. ``--ingest-bind`` / ``local.ingest_bind``.

Item 7 (one decoder for both backends) is tests/ingest/test_hostile_decoding.py.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dendro.config import from_dict
from dendro.ingest.server import IngestServer, IngestSettings, Limits
from dendro.runtime.up import Up, UpOptions
from dendro.store.base import DiskFull
from dendro.store.local import LocalStore
from dendro.store.wire import MAX_DEPTH
from tests.ingest.conftest import TOKEN
from tests.store.conftest import TABLES, access
from tests.support import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]

MAX_BODY = 64 * 1024


@dataclass
class Served:
    store: LocalStore
    server: IngestServer

    @property
    def port(self) -> int:
        return self.server.port

    def count(self) -> int:
        return int(self.store.query("SELECT count(*) FROM nginx_access").rows[0][0])


def serve(tmp_path: Path, limits: Limits | None = None) -> Served:
    store = LocalStore(tmp_path / f"dendro-{time.monotonic_ns()}.duckdb", "dendro", TABLES)
    server = IngestServer(store, IngestSettings(TOKEN, MAX_BODY), host="127.0.0.1", port=0, limits=limits)
    server.start()
    return Served(store, server)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    running = serve(tmp_path)
    yield running
    running.server.stop()
    running.store.close()


def ndjson(count: int = 3) -> bytes:
    return b"\n".join(json.dumps(access("web-1", 0, i, 200, 0.1)).encode() for i in range(count)) + b"\n"


def head(length: str | None, extra: str = "", token: str = TOKEN, path: str = "/ingest") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: ingest", f"Authorization: Bearer {token}"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def answers(sock: socket.socket, wait: float = 3.0) -> bytes:
    """What the server sends: one whole answer (by its Content-Length) and anything after it
    until the connection closes or stays quiet for a moment; all it sent within ``wait``."""
    sock.settimeout(wait)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
            if _complete(data):
                sock.settimeout(0.3)
    except TimeoutError:
        pass
    return data


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def status_of(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


def exchange(port: int, raw: bytes, wait: float = 3.0) -> bytes:
    with connect(port) as sock:
        sock.sendall(raw)
        return answers(sock, wait)


# -- 1. Content-Length ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "status"),
    [(None, 411), ("-1", 400), ("abc", 400), ("1e3", 400), ("+12", 400), (str(MAX_BODY + 1), 413)],
)
def test_a_length_that_cannot_be_taken_is_refused_and_nothing_is_stored(
    served: Served, length: str | None, status: int
) -> None:
    data = exchange(served.port, head(length) + ndjson())
    assert status_of(data) == status, data
    assert b'"error"' in data
    assert served.count() == 0


def test_a_huge_declared_body_is_refused_before_it_is_sent(served: Served) -> None:
    # the probe sent 200 MB after "Content-Length: -1"; here the length is honest but too large,
    # and the 413 must come back before a single byte of the body was sent
    with connect(served.port) as sock:
        sock.sendall(head(str(200 * 1024 * 1024)))
        data = answers(sock, 3.0)
    assert status_of(data) == 413
    assert b"over the 65536 byte limit" in data
    assert served.count() == 0


def test_an_exact_length_still_works(served: Served) -> None:
    body = ndjson()
    data = exchange(served.port, head(str(len(body))) + body)
    assert status_of(data) == 200
    assert served.count() == 3


# -- 2. gzip --------------------------------------------------------------------------------------


def gz_post(port: int, body: bytes) -> bytes:
    return exchange(port, head(str(len(body)), "Content-Encoding: gzip\r\n") + body)


def test_every_gzip_member_is_stored(served: Served) -> None:
    first, second = ndjson(2), b"\n".join(ndjson(5).splitlines()[2:]) + b"\n"
    body = gzip.compress(first) + gzip.compress(second)
    assert status_of(gz_post(served.port, body)) == 200
    assert served.count() == 5


def test_gzip_padding_with_nul_bytes_is_accepted(served: Served) -> None:
    assert status_of(gz_post(served.port, gzip.compress(ndjson(2)) + b"\0" * 16)) == 200
    assert served.count() == 2


@pytest.mark.parametrize(
    "mangle",
    [
        lambda body: body[:-4],  # cut before the trailer's length
        lambda body: body[:-8],  # cut before the whole trailer
        lambda body: body + b"junk",
        lambda body: body + b"\0\0junk",
        lambda body: body + gzip.compress(b"x")[:12],  # a second member cut short
    ],
    ids=["no-length", "no-trailer", "junk", "padding-then-junk", "second-member-cut"],
)
def test_a_gzip_body_not_exactly_right_is_400_and_nothing_is_stored(served: Served, mangle: object) -> None:
    body = mangle(gzip.compress(ndjson(4)))  # type: ignore[operator]
    data = gz_post(served.port, body)
    assert status_of(data) == 400, data
    assert b"gzip" in data
    assert served.count() == 0


# -- 3. a short body ------------------------------------------------------------------------------


def test_a_short_body_then_half_close_is_400_and_nothing_is_stored(served: Served) -> None:
    body = ndjson(5)
    with connect(served.port) as sock:
        sock.sendall(head(str(len(body) + 100)) + body)
        time.sleep(0.3)
        sock.shutdown(socket.SHUT_WR)
        data = answers(sock, 5.0)
    assert status_of(data) == 400, data
    assert b"not the" in data and b"declared" in data
    time.sleep(0.3)
    assert served.count() == 0


# -- 4. slow and idle connections -----------------------------------------------------------------


def slow_clients(port: int, count: int) -> list[socket.socket]:
    """Connections that start a request and never finish it (the probe held 150 threads so)."""
    socks = []
    for number in range(count):
        sock = connect(port)
        sock.sendall(b"POST /ingest HTTP/1.1\r\nHost: x\r\nX-Slow-" + str(number).encode() + b": ")
        socks.append(sock)
    return socks


def test_a_legitimate_agent_gets_through_while_150_slow_connections_are_held(served: Served) -> None:
    socks = slow_clients(served.port, 150)
    try:
        body = ndjson(3)
        started = time.monotonic()
        data = exchange(served.port, head(str(len(body))) + body, wait=5.0)
        assert status_of(data) == 200
        assert time.monotonic() - started < 3.0
        assert served.count() == 3
    finally:
        for sock in socks:
            sock.close()


def closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


def test_slow_and_idle_connections_are_closed_after_their_timeouts(tmp_path: Path) -> None:
    running = serve(tmp_path, Limits(request_timeout=2, idle_timeout=3))
    try:
        slow = slow_clients(running.port, 3)
        idle = connect(running.port)
        trickle_stop = threading.Event()

        def trickle() -> None:  # a byte a second keeps the connection active, never complete
            with contextlib.suppress(OSError):
                while not trickle_stop.wait(0.5):
                    slow[0].sendall(b"x")

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        started = time.monotonic()
        assert all(closed_within(s, 6.0) for s in slow)
        assert time.monotonic() - started < 6.0
        assert closed_within(idle, 6.0)
        trickle_stop.set()
        with connect(running.port) as late:  # a body that stops half way: 408, nothing stored
            late.sendall(head("1000") + ndjson(1))
            data = answers(late, 6.0)
        assert status_of(data) == 408 and b"did not arrive in time" in data
        assert running.count() == 0
        for sock in [*slow, idle]:
            sock.close()
    finally:
        running.server.stop()
        running.store.close()


def test_the_number_of_connections_is_bounded(tmp_path: Path) -> None:
    running = serve(tmp_path, Limits(max_connections=5, request_timeout=2, idle_timeout=30))
    try:
        slow = slow_clients(running.port, 12)  # the kernel's backlog takes the ones not accepted
        time.sleep(0.5)
        held = [c for c in running.server._http._channels()]
        assert len(held) == 5
        body = ndjson(2)
        data = exchange(running.port, head(str(len(body))) + body, wait=8.0)  # served once slots free
        assert status_of(data) == 200
        for sock in slow:
            sock.close()
    finally:
        running.server.stop()
        running.store.close()


# -- 5. the unread body after a refusal -----------------------------------------------------------


@pytest.mark.parametrize(("token", "path", "status"), [("wrong", "/ingest", 401), (TOKEN, "/nowhere", 404)])
def test_the_body_of_a_refused_request_is_never_read_as_a_request(
    served: Served, token: str, path: str, status: int
) -> None:
    smuggled_body = ndjson(2)
    smuggled = head(str(len(smuggled_body))) + smuggled_body
    raw = head(str(len(smuggled)), token=token, path=path) + smuggled
    with connect(served.port) as sock:
        sock.sendall(raw)
        data = answers(sock, 2.0)
    assert status_of(data) == status
    assert data.count(b"HTTP/1.1 ") == 1, data
    assert served.count() == 0


# -- 6. nesting ---------------------------------------------------------------------------------


def nested(levels: int) -> dict:
    """An event whose objects nest ``levels`` deep (the event object itself is the first)."""
    value: object = 1
    for _ in range(levels - 1):
        value = {"a": value}
    return access("web-1", 0, 0, 200, 0.1) | {"extra": value}


@pytest.mark.parametrize("shape", ["object", "array"])
def test_an_event_nested_1000_deep_is_refused_with_a_reason_and_the_batch_is_not_lost(
    served: Served, shape: str
) -> None:
    deep = ("[" * 1000 + "]" * 1000) if shape == "array" else ('{"a":' * 1000 + "1" + "}" * 1000)
    line = json.dumps(access("web-1", 0, 0, 200, 0.1))[:-1] + ', "extra": ' + deep + "}"
    body = ndjson(3) + line.encode() + b"\n"
    data = exchange(served.port, head(str(len(body))) + body)
    assert status_of(data) == 400, data
    assert json.loads(data.split(b"\r\n\r\n", 1)[1]) == {
        "error": f"line 4: the record nests deeper than {MAX_DEPTH} levels"
    }
    assert served.count() == 0  # all or nothing, as for any other body refused
    assert status_of(exchange(served.port, head(str(len(ndjson(3)))) + ndjson(3))) == 200


def test_nesting_up_to_the_limit_is_accepted(served: Served) -> None:
    body = json.dumps(nested(MAX_DEPTH)).encode()
    assert status_of(exchange(served.port, head(str(len(body))) + body)) == 200
    too_deep = json.dumps(nested(MAX_DEPTH + 1)).encode()
    assert status_of(exchange(served.port, head(str(len(too_deep))) + too_deep)) == 400


# -- stop drains ------------------------------------------------------------------------------------


def test_stop_drains_a_batch_in_flight(tmp_path: Path) -> None:
    running = serve(tmp_path)
    write = running.store.write
    entered = threading.Event()

    def slow_write(events):  # type: ignore[no-untyped-def]
        entered.set()
        time.sleep(1.0)
        return write(events)

    running.store.write = slow_write  # type: ignore[method-assign]
    body = ndjson(4)
    result: list[bytes] = []
    client = threading.Thread(
        target=lambda: result.append(exchange(running.port, head(str(len(body))) + body, wait=5.0))
    )
    client.start()
    assert entered.wait(5)
    running.server.stop()  # while the batch is being written
    client.join(10)
    assert status_of(result[0]) == 200
    assert running.count() == 4
    running.store.close()


# -- 8. --ingest-bind --------------------------------------------------------------------------------


def test_the_ingest_listens_only_where_it_is_bound(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "bind.duckdb", "dendro", TABLES)
    port = free_port()
    server = IngestServer(store, IngestSettings(TOKEN, MAX_BODY), host="127.0.0.2", port=port)
    server.start()
    try:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        socket.create_connection(("127.0.0.2", port), timeout=2).close()
        assert server.urls == [f"http://127.0.0.2:{port}/ingest"]
    finally:
        server.stop()
        store.close()


def test_local_ingest_bind_in_dendro_yaml_is_where_dendro_up_listens(tmp_path: Path) -> None:
    config = from_dict({"services": {"nginx": {}}, "local": {"ingest_bind": "127.0.0.2"}})
    up = Up(config, UpOptions(tmp_path / "data", free_port(), free_port(), free_port()))
    up.start()
    try:
        assert up.server is not None and up.server.host == "127.0.0.2"
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", up.server.port), timeout=2).close()
        socket.create_connection(("127.0.0.2", up.server.port), timeout=2).close()
    finally:
        up.stop()


def test_dendro_up_ingest_bind_says_where_it_listens(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DENDRO_INGEST_TOKEN": "bind-test", "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "dendro.cli", "up", "--data-dir", str(tmp_path / "data"),
               "--ingest-port", str(port), "--ingest-bind", "127.0.0.2",
               "--console-port", str(free_port()), "--exporter-port", str(free_port())]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_for_port(port, timeout=30, host="127.0.0.2")
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert f"ingest on 127.0.0.2:{port} only" in " ".join(output.split())
    assert process.returncode == 0, output


def test_a_full_disk_is_507_with_a_log_line(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    def full(events):  # type: ignore[no-untyped-def]
        raise DiskFull("no space left on the data dir's disk")

    served.store.write = full  # type: ignore[method-assign]
    body = ndjson(2)
    with caplog.at_level("WARNING", logger="dendro.ingest"):
        data = exchange(served.port, head(str(len(body))) + body)
    assert status_of(data) == 507
    assert b"disk is full, nothing was written" in data
    assert any("refused (507)" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)


# -- what dendro/ingest/http.py relies on in waitress ------------------------------------------------


def test_a_body_of_exactly_the_limit_is_taken_and_one_byte_more_is_not(served: Served) -> None:
    # waitress 3.0.2, src/waitress/parser.py (HTTPRequestParser.received): a request is refused
    # when `self.content_length >= max_body`, so http.py passes max_body_bytes + 1
    line = json.dumps(access("web-1", 0, 0, 200, 0.1)).encode()
    body = line + b" " * (MAX_BODY - len(line))
    assert len(body) == MAX_BODY
    assert status_of(exchange(served.port, head(str(len(body))) + body)) == 200
    assert status_of(exchange(served.port, head(str(len(body) + 1)) + body + b" ")) == 413


def test_waitress_reads_its_loop_timeouts_as_whole_seconds() -> None:
    # waitress 3.0.2, src/waitress/adjustments.py: ("cleanup_interval", int), ("channel_timeout",
    # int), ("asyncore_loop_timeout", int): a fraction becomes 0 and the event loop spins
    from waitress.adjustments import Adjustments

    adjusted = Adjustments(cleanup_interval=0.5, channel_timeout=0.5, asyncore_loop_timeout=0.2)
    assert (adjusted.cleanup_interval, adjusted.channel_timeout, adjusted.asyncore_loop_timeout) == (0, 0, 0)
