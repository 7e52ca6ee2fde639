"""The HTTP server the ingest and the console run on: waitress, in a thread of ``dendro up``.

Both are WSGI applications served in the same process as the DuckDB store (its only writer), so
the server must run in-process: waitress was measured the fastest such server for the ingest
(benchmarks/README.md). Its event loop holds every connection without a thread; a request goes
to a worker thread only once it has been received whole, so slow or idle clients tie up no
worker and a request whose client stops early is never handed to the application.

:class:`Limits` are what a hostile client meets (docs/local.md and docs/console.md list them):

- ``max_body_bytes``: a declared ``Content-Length`` over it is a 413 before a byte of the body is
  read (a chunked body is cut at it too);
- ``max_connections``: connections held at once; past it the server stops accepting until one
  closes (the kernel's backlog holds the rest);
- ``request_timeout``: seconds a request may take to arrive whole (headers and body) from its
  first byte, however slowly it trickles in; then the connection is closed;
- ``idle_timeout``: seconds a connection may stay open with no request in progress.

:meth:`HTTPServer.stop` drains: it stops accepting, closes idle keep-alive connections, lets
every request already received (or still arriving) finish and be answered for up to
``drain_seconds``, and only then closes what is left.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer, create_server
from waitress.task import ErrorTask

logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" notes are not errors

#: bytes read from a socket at a time (waitress's default, 8 KiB, costs a loop turn per 8 KiB)
RECV_BYTES = 256 * 1024
#: a body up to this size stays in memory; a larger one goes to a temporary file
IN_MEMORY_BODY = 4 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 16 * 1024 * 1024
    max_connections: int = 256
    request_timeout: float = 30.0
    idle_timeout: float = 60.0
    threads: int = 4
    drain_seconds: float = 10.0


def _answer(message: str) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body of a JSON error answer after which the connection closes."""
    body = json.dumps({"error": message}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return [*headers, ("Connection", "close")], body


class _ErrorTask(ErrorTask):
    """The server's own refusals (413 before the body, 400 for a malformed request) as JSON,
    logged like the application's."""

    def execute(self) -> None:
        error = self.request.error
        message = str(error.body)
        if error.code == 413 and self.request.content_length:
            limit = self.channel.adj.max_request_body_size - 1
            message = f"body of {self.request.content_length} bytes is over the {limit} byte limit"
        log = getattr(self.channel.server, "dendro_log", logging.getLogger("dendro.http"))
        where = self.request.path or "-"
        log.warning("%s %s refused (%d): %s", self.channel.addr[0], where, error.code, message)
        headers, body = _answer(message)
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend(headers[:1])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    """A connection that knows when its current request began, answers a body cut short with a
    400, and refuses new requests while the server drains."""

    error_task_class = _ErrorTask
    request_started = 0.0
    draining = False
    late = False  # closed by the sweep: its request did not arrive whole in time

    def handle_close(self) -> None:
        request: Any = getattr(self, "request", None)
        if request is not None and request.headers_finished and not request.completed and self.connected:
            received, declared = request.body_bytes_received, request.content_length
            status = "408 Request Timeout" if self.late else "400 Bad Request"
            message = f"body is {received} bytes, not the {declared} declared: nothing was stored"
            if self.late:
                message = f"the body did not arrive in time ({received} of {declared} bytes), nothing stored"
            log = getattr(self.server, "dendro_log", logging.getLogger("dendro.http"))
            log.warning("%s %s refused (%s): %s", self.addr[0], request.path, status[:3], message)
            headers, body = _answer(message)
            head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
            with contextlib.suppress(OSError):  # the client closed both ways: nobody to tell
                self.socket.send(head.encode("latin-1") + b"\r\n" + body)
            self.request = None
        super().handle_close()

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            if self.draining:  # a new request while stopping: close; the client retries elsewhere
                self.will_close = True
                return False
            self.request_started = time.monotonic()
        return bool(super().received(data))

    def busy(self) -> bool:
        """Whether a request is arriving, being served, or its answer is still being sent."""
        return bool(self.request is not None or self.requests or self.total_outbufs_len)


def _maintenance(server: Any, limits: Limits) -> Callable[[float], None]:
    """waitress's idle sweep, plus the deadline for a request to arrive whole."""
    idle = server.maintenance

    def sweep(now: float) -> None:
        idle(now)
        deadline = time.monotonic() - limits.request_timeout
        for channel in list(server.active_channels.values()):
            if channel.request is not None and channel.request_started < deadline:
                channel.late = True
                channel.will_close = True

    return sweep


class HTTPServer:
    """A WSGI application served by waitress in a thread: bind on creation, ``start``, ``stop``."""

    def __init__(
        self,
        app: Callable[..., Any],
        host: str,
        port: int,
        limits: Limits,
        name: str,
        log: logging.Logger | None = None,
    ) -> None:
        self.name = name
        self.limits = limits
        self._map: dict[int, Any] = {}
        self._server = create_server(
            app,
            map=self._map,
            host=host,
            port=port,
            threads=limits.threads,
            connection_limit=limits.max_connections + 2,  # the map holds the listener and a trigger too
            channel_timeout=max(1, round(limits.idle_timeout)),  # waitress takes whole seconds
            cleanup_interval=1,  # seconds between sweeps for idle and late connections (whole seconds)
            max_request_body_size=limits.max_body_bytes + 1,  # waitress refuses length >= this
            inbuf_overflow=IN_MEMORY_BODY,
            recv_bytes=RECV_BYTES,
            expose_tracebacks=False,
            ident="dendro",
        )
        self._listeners = self._server.map.values() if isinstance(self._server, MultiSocketServer) else [
            self._server
        ]
        self._listeners = [s for s in self._listeners if isinstance(s, TcpWSGIServer)]
        for listener in self._listeners:
            listener.channel_class = _Channel
            listener.dendro_log = log or logging.getLogger(f"dendro.{name}")
            listener.maintenance = _maintenance(listener, limits)
        self.port = int(self._listeners[0].effective_port)
        self._thread = threading.Thread(target=self._server.run, name=f"dendro-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _channels(self) -> list[_Channel]:
        return [c for c in list(self._map.values()) if isinstance(c, _Channel)]

    def _in_loop(self, thunk: Callable[[], None]) -> None:
        """Run ``thunk`` in the event loop's thread (the loop's objects are not thread-safe)."""
        done = threading.Event()

        def run() -> None:
            try:
                thunk()
            finally:
                done.set()

        self._listeners[0].trigger.pull_trigger(run)
        done.wait(5)

    def stop(self) -> None:
        """Stop accepting, drain the requests in flight, then close every connection."""
        if not self._thread.is_alive():
            self._close_sockets()
            return
        self._in_loop(self._stop_accepting)
        deadline = time.monotonic() + self.limits.drain_seconds
        while time.monotonic() < deadline and any(c.busy() for c in self._channels()):
            time.sleep(0.02)
        self._in_loop(self._close_all)
        self._thread.join(timeout=5)
        self._listeners[0].task_dispatcher.shutdown(cancel_pending=True, timeout=5)

    def _stop_accepting(self) -> None:
        for listener in self._listeners:
            listener.accepting = False
            listener.del_channel()
            listener.socket.close()
        for channel in self._channels():
            channel.draining = True
            if not channel.busy():
                channel.will_close = True

    def _close_all(self) -> None:
        for item in list(self._map.values()):
            with contextlib.suppress(OSError):
                item.close()
        self._map.clear()

    def _close_sockets(self) -> None:
        for listener in self._listeners:
            listener.close()
