"""The local ingest endpoint for Vector's http sink, and the read API ``dendro query`` uses.

``POST /ingest`` takes NDJSON (or one JSON array) of events, optionally gzip-encoded, with
``Authorization: Bearer <token>``. The whole body is decoded and validated first, so a body that
is not JSON commits nothing (400); then the events are written in one transaction and only then
does the server answer 200, so Vector's retries give at-least-once delivery. 401: wrong token;
413: body over ``local.max_body_mb`` (compressed or not); 503: the store cannot commit.

``POST /query`` (same token) runs one read-only query: ``{"sql": ..., "max_rows": N}`` →
``{"columns": [{"name", "type"}], "rows": [[...]], "truncated": bool}``; a refused or wrong query
is a 400 with ``{"error": message}``. ``GET /healthz`` answers ``ok`` without a token, and
``HEAD /healthz`` an empty 200 (Vector's http sink health check).

It logs to the ``dendro.ingest`` logger (``dendro up`` writes it to ``DATA_DIR/ingest.log``):
every refused request and every rejected event with the reason, and once a minute a summary
of the batches and events received.
"""

from __future__ import annotations

import hmac
import logging
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from dendro.store import result_json
from dendro.store.base import QueryError, Store, StoreError

log = logging.getLogger("dendro.ingest")

#: seconds between the summary lines of the log
SUMMARY_SECONDS = 60.0

#: seconds a thread holds the GIL before another may take it, while the server runs
SWITCH_INTERVAL = 0.0002


class BadBody(ValueError):
    """The request body is not what the endpoint takes; ``str()`` says why."""


class TooLarge(ValueError):
    """The request body is over the size limit."""


def decode_events(body: bytes) -> list[Any]:
    """Every event of an NDJSON body (or a JSON array); BadBody if any part is not JSON."""
    text = body.strip()
    if not text:
        return []
    if text.startswith(b"["):
        try:
            events = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise BadBody(f"body is not JSON ({error})") from None
        if not isinstance(events, list):
            raise BadBody("body is not a JSON array of events")
        return events
    lines = text.split(b"\n")
    try:  # every line an event (the usual body): decoded in one pass in C
        return list(map(orjson.loads, lines))
    except orjson.JSONDecodeError:
        pass  # a blank line, or a line that is not JSON: the loop below skips or names it
    events = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append(orjson.loads(line))
        except orjson.JSONDecodeError as error:
            raise BadBody(f"line {number} is not JSON ({error})") from None
    return events


def gunzip(body: bytes, limit: int) -> bytes:
    """A gzip body inflated, refusing to grow past ``limit`` bytes (no gzip bombs)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise BadBody(f"body is not valid gzip ({error})") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"body is over {limit} bytes once decompressed")
    return data


class _Summary:
    """Batches, events and agents since the last summary line, logged about once a minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset(time.monotonic())

    def _reset(self, now: float) -> None:
        self.since, self.batches, self.written, self.rejected = now, 0, 0, 0
        self.agents: set[str] = set()

    def add(self, agent: str, written: int, rejected: int) -> None:
        with self._lock:
            self.batches += 1
            self.written += written
            self.rejected += rejected
            self.agents.add(agent)
            now = time.monotonic()
            if now - self.since >= SUMMARY_SECONDS:
                log.info(
                    "last %.0f s: %d batch(es) from %d agent(s), %d event(s) written, %d rejected",
                    now - self.since, self.batches, len(self.agents), self.written, self.rejected,
                )
                self._reset(now)


@dataclass
class IngestSettings:
    token: str
    max_body_bytes: int
    max_query_rows: int = 100_000


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # the headers and the body of an answer leave in two writes: without TCP_NODELAY the body
    # waits for the client's delayed ACK of the headers (40 ms on Linux) on every request
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: Vector posts every second; errors are answered to the client instead."""

    def _send(self, status: HTTPStatus, payload: dict[str, Any] | bytes) -> None:
        if status >= 400 and isinstance(payload, dict):
            level = logging.ERROR if status >= 500 else logging.WARNING
            log.log(level, "%s %s refused (%d): %s", self.client_address[0], self.path, status,
                    payload.get("error"))
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        expected = self.server.settings.token
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode()):
            return True
        self._send(HTTPStatus.UNAUTHORIZED, {"error": "missing or wrong bearer token"})
        return False

    def _body(self) -> bytes:
        limit = self.server.settings.max_body_bytes
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            raise BadBody("Content-Length is required")
        try:
            length = int(length_header)
        except ValueError:
            raise BadBody("Content-Length is not a number") from None
        if length > limit:
            self.close_connection = True  # the unread body must not be taken for a request
            raise TooLarge(f"body of {length} bytes is over the {limit} byte limit")
        body = self.rfile.read(length)
        encoding = self.headers.get("Content-Encoding", "identity").lower()
        if encoding == "gzip":
            return gunzip(body, limit)
        if encoding not in ("identity", ""):
            raise BadBody(f"Content-Encoding {encoding} is not supported (use gzip or none)")
        return body

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/healthz":
            self._send(HTTPStatus.OK, {"status": "ok"})
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_HEAD(self) -> None:
        """Vector's http sink health check: HEAD to its ``healthcheck.uri``, 200 means healthy."""
        found = self.path.split("?")[0] == "/healthz"
        self.send_response(HTTPStatus.OK if found else HTTPStatus.NOT_FOUND)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        route = self.path.split("?")[0]
        if route not in ("/ingest", "/query"):
            self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        if not self._authorized():
            return
        try:
            body = self._body()
            if route == "/ingest":
                self._ingest(body)
            else:
                self._query(body)
        except TooLarge as error:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": str(error)})
        except BadBody as error:
            self._send(HTTPStatus.BAD_REQUEST, {"error": str(error)})

    def _ingest(self, body: bytes) -> None:
        events = decode_events(body)
        try:
            result = self.server.store.write(events)
        except StoreError as error:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(error)})
            return
        agent = self.client_address[0]
        if result.rejected:
            reason = result.rejected[0].reason
            log.warning("%s: %d event(s) rejected, the first for: %s", agent, len(result.rejected), reason)
        self.server.summary.add(agent, result.total_written, len(result.rejected))
        self._send(HTTPStatus.OK, {"written": result.total_written, "rejected": len(result.rejected)})

    def _query(self, body: bytes) -> None:
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise BadBody("body is not JSON") from None
        if not isinstance(request, dict) or not isinstance(request.get("sql"), str):
            raise BadBody('body must be {"sql": "...", "max_rows": N}')
        cap = self.server.settings.max_query_rows
        max_rows = request.get("max_rows")
        max_rows = min(max_rows, cap) if isinstance(max_rows, int) and max_rows >= 0 else cap
        try:
            result = self.server.store.query(request["sql"], max_rows=max_rows)
        except QueryError as error:
            self._send(HTTPStatus.BAD_REQUEST, {"error": str(error)})
            return
        except StoreError as error:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(error)})
            return
        self._send(HTTPStatus.OK, result_json.to_json(result))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: Store, settings: IngestSettings) -> None:
        self.store = store
        self.settings = settings
        self.summary = _Summary()
        super().__init__(address, _Handler)


class IngestServer:
    """The HTTP server as a component of ``dendro up``: bind on creation, serve in a thread."""

    name = "ingest"

    def __init__(
        self, store: Store, settings: IngestSettings, host: str = "0.0.0.0", port: int = 9880
    ) -> None:
        try:
            self._server = _Server((host, port), store, settings)
        except OSError as error:
            reason = error.strerror or error
            message = f"cannot listen on {host}:{port} ({reason}); pick another --ingest-port"
            raise StoreError(message) from None
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="dendro-ingest", daemon=True)
        self._switch_interval = sys.getswitchinterval()

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.port}/ingest"]

    def start(self) -> None:
        # DuckDB takes the GIL back many times while it inserts a batch; at Python's default
        # switch interval (5 ms) every take waits behind the thread decoding the next batch, and
        # a 10 ms insert lasts 80 ms. A 0.2 ms interval keeps the two overlapping.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        sys.setswitchinterval(self._switch_interval)  # the process's own setting again
