"""The local ingest as a WSGI application: ``/ingest`` for Vector's http sink, ``/query`` for
``dendro query``, ``/healthz``. The HTTP server under it is :mod:`dendro.ingest.http`.

``POST /ingest`` takes NDJSON (or one JSON array) of events, optionally gzip-encoded, with
``Authorization: Bearer <token>``. The body's length must be declared (411 without
``Content-Length``, 400 for one that is not a number, 413 over ``max_body_bytes``: the server
refuses it before reading a byte of the body), and the body must be complete (the server never
hands over a request whose client closed early; a short body is a 400 here too). The whole body
is decoded by :mod:`dendro.store.wire` first (every gzip member with its trailer, strict JSON,
bounded nesting), so a body that is not exactly right commits nothing (400); then the events are
written in one transaction and only then does the answer say 200, so Vector's retries give
at-least-once delivery; a batch of events with the agent's ids sent again after it was written
(a timeout, a broken connection) is answered 200 and not written twice (:class:`Written`).
401: wrong token; 413: over ``local.max_body_mb`` (compressed or not);
503: the store cannot commit; 507: its disk is full (the agent keeps the batch and retries).

``POST /query`` (same token) runs one read-only query: ``{"sql": ..., "max_rows": N,
"max_bytes": B}`` → ``{"columns": [{"name", "type"}], "rows": [[...]], "truncated": bool}`` (cut at
100,000 rows or 64 MB of values, or less when asked); a refused or wrong query, one too deep to
parse included, is a 400 with ``{"error": message}``. ``GET /healthz`` answers ``ok`` without a token, and
``HEAD /healthz`` an empty 200 (Vector's http sink health check).

It logs to the ``dendro.ingest`` logger (``dendro up`` writes it to ``DATA_DIR/ingest.log``):
every refused request and every rejected event with the reason, and once a minute a summary
of the batches and events received.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import orjson

from dendro.store import fetch, result_json, wire
from dendro.store.base import DiskFull, QueryError, Store, StoreError, WriteResult

log = logging.getLogger("dendro.ingest")

#: seconds between the summary lines of the log
SUMMARY_SECONDS = 60.0

StartResponse = Callable[..., Any]


@dataclass
class IngestSettings:
    token: str
    max_body_bytes: int
    max_query_rows: int = 100_000
    max_query_bytes: int = fetch.MAX_RESULT_BYTES


class Refusal(Exception):
    """A request answered with an error status; ``str()`` says why."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


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


def _within(asked: Any, cap: int) -> int:
    """What a request asked for, if a whole number within the cap; else the cap."""
    return min(asked, cap) if isinstance(asked, int) and not isinstance(asked, bool) and asked >= 0 else cap


def declared_length(environ: dict[str, Any], limit: int) -> int:
    """The body length the request declares; Refusal (411, 400, 413) when it cannot be taken."""
    header = environ.get("CONTENT_LENGTH")
    if header is None or header == "":
        raise Refusal(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
    if not header.isascii() or not header.isdigit():
        raise Refusal(HTTPStatus.BAD_REQUEST, f"Content-Length {header[:20]!r} is not a length")
    length = int(header)
    if length > limit:
        message = f"body of {length} bytes is over the {limit} byte limit"
        raise Refusal(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, message)
    return length


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The whole declared body, inflated if gzip; Refusal if short, too large or not decodable."""
    length = declared_length(environ, limit)
    body = environ["wsgi.input"].read(length) if length else b""
    if len(body) != length:
        raise Refusal(HTTPStatus.BAD_REQUEST, f"body is {len(body)} bytes, not the {length} declared")
    encoding = environ.get("HTTP_CONTENT_ENCODING", "identity").strip().lower()
    if encoding == "gzip":
        try:
            return wire.inflate(body, limit)
        except wire.Oversize as error:
            raise Refusal(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, str(error)) from None
        except wire.BadGzip as error:
            raise Refusal(HTTPStatus.BAD_REQUEST, f"body is not valid gzip: {error}") from None
    if encoding not in ("identity", ""):
        message = f"Content-Encoding {encoding} is not supported (use gzip or none)"
        raise Refusal(HTTPStatus.BAD_REQUEST, message)
    return body


class Written:
    """The digests of the last :data:`REMEMBERED` bodies written whose events carry the agent's ids
    (:data:`dendro.store.wire.EVENT_ID`): Vector sends a batch again, byte for byte, when its
    request timed out or its connection broke after the commit, and a body of events with ids is
    never sent twice otherwise. A body without ids (an older agent, a script) is never looked up:
    two equal batches of those may be two real ones."""

    REMEMBERED = 4096

    def __init__(self) -> None:
        self._digests: OrderedDict[bytes, None] = OrderedDict()
        self.lock = threading.Lock()  # held from the look-up to the record: one write at a time

    @staticmethod
    def digest(body: bytes, events: list[Any]) -> bytes | None:
        """The body's digest when its events carry ids, else None."""
        with_ids = all(isinstance(e, dict) and isinstance(e.get(wire.EVENT_ID), str) for e in events)
        if not events or not with_ids:
            return None
        return hashlib.sha256(body).digest()

    def __contains__(self, digest: bytes) -> bool:
        return digest in self._digests

    def add(self, digest: bytes) -> None:
        self._digests[digest] = None
        while len(self._digests) > self.REMEMBERED:
            self._digests.popitem(last=False)


class IngestApp:
    """The WSGI application over one store (the server calls it from its worker threads)."""

    def __init__(self, store: Store, settings: IngestSettings) -> None:
        self.store = store
        self.settings = settings
        self.summary = _Summary()
        self.written = Written()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        route = environ.get("PATH_INFO", "")
        agent = str(environ.get("REMOTE_ADDR", "-"))
        try:
            status, payload = self._route(method, route, environ, agent)
        except Refusal as refusal:
            level = logging.ERROR if refusal.status >= 500 else logging.WARNING
            log.log(level, "%s %s refused (%d): %s", agent, route, refusal.status, refusal)
            status, payload = refusal.status, {"error": str(refusal)}
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response(f"{status.value} {status.phrase}", headers)
        return [b""] if method == "HEAD" else [body]

    def _route(
        self, method: str, route: str, environ: dict[str, Any], agent: str
    ) -> tuple[HTTPStatus, dict[str, Any] | bytes]:
        if route == "/healthz" and method in ("GET", "HEAD"):
            return HTTPStatus.OK, {"status": "ok"}
        if route not in ("/ingest", "/query"):
            raise Refusal(HTTPStatus.NOT_FOUND, "not found")
        if method != "POST":
            raise Refusal(HTTPStatus.METHOD_NOT_ALLOWED, f"{route} takes POST")
        self._authorize(environ)
        body = read_body(environ, self.settings.max_body_bytes)
        if route == "/ingest":
            return self._ingest(body, agent)
        return self._query(body)

    def _authorize(self, environ: dict[str, Any]) -> None:
        scheme, _, given = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
        expected = self.settings.token.encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise Refusal(HTTPStatus.UNAUTHORIZED, "missing or wrong bearer token")

    def _ingest(self, body: bytes, agent: str) -> tuple[HTTPStatus, dict[str, Any]]:
        try:
            events = wire.events(body, orjson.loads)
        except wire.BadBody as error:
            raise Refusal(HTTPStatus.BAD_REQUEST, str(error)) from None
        digest = Written.digest(body, events)
        if digest is None:
            result = self._write(events)
        else:
            with self.written.lock:
                if digest in self.written:
                    log.info("%s: a batch of %d event(s) already written was sent again: not written twice",
                             agent, len(events))
                    return HTTPStatus.OK, {"written": 0, "rejected": 0, "copy_of_earlier_batch": True}
                result = self._write(events)
                self.written.add(digest)
        if result.rejected:
            reason = result.rejected[0].reason
            log.warning("%s: %d event(s) rejected, the first for: %s", agent, len(result.rejected), reason)
        self.summary.add(agent, result.total_written, len(result.rejected))
        return HTTPStatus.OK, {"written": result.total_written, "rejected": len(result.rejected)}

    def _write(self, events: list[Any]) -> WriteResult:
        try:
            return self.store.write(events)
        except DiskFull as error:
            message = f"the store's disk is full, nothing was written: {error}"
            raise Refusal(HTTPStatus.INSUFFICIENT_STORAGE, message) from None
        except StoreError as error:
            raise Refusal(HTTPStatus.SERVICE_UNAVAILABLE, str(error)) from None

    def _query(self, body: bytes) -> tuple[HTTPStatus, bytes]:
        try:
            request = orjson.loads(body)
        except (orjson.JSONDecodeError, RecursionError):
            raise Refusal(HTTPStatus.BAD_REQUEST, "body is not JSON") from None
        if not isinstance(request, dict) or not isinstance(request.get("sql"), str):
            raise Refusal(HTTPStatus.BAD_REQUEST, 'body must be {"sql": "...", "max_rows": N}')
        max_rows = _within(request.get("max_rows"), self.settings.max_query_rows)
        max_bytes = _within(request.get("max_bytes"), self.settings.max_query_bytes)
        try:
            result = self.store.query(request["sql"], max_rows=max_rows, max_bytes=max_bytes)
        except QueryError as error:
            raise Refusal(HTTPStatus.BAD_REQUEST, str(error)) from None
        except StoreError as error:
            raise Refusal(HTTPStatus.SERVICE_UNAVAILABLE, str(error)) from None
        return HTTPStatus.OK, result_json.to_json(result)
