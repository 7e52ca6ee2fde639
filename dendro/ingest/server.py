"""The local ingest as a component of ``dendro up``: :mod:`dendro.ingest.app` on the HTTP server of
:mod:`dendro.ingest.http`, bound on creation, served in a thread, drained on stop.

What the endpoints take and answer is in :mod:`dendro.ingest.app`; the limits a client meets
(body size, connections, timeouts) in :mod:`dendro.ingest.http` and docs/local.md.
"""

from __future__ import annotations

import sys

from dendro.ingest.app import IngestApp, IngestSettings
from dendro.ingest.http import HTTPServer, Limits
from dendro.store.base import Store, StoreError

__all__ = ["SWITCH_INTERVAL", "IngestServer", "IngestSettings", "Limits"]

#: seconds a thread holds the GIL before another may take it, while the server runs
SWITCH_INTERVAL = 0.0002


class IngestServer:
    """The ingest on ``host:port``: bind on creation, serve in a thread, drain on stop."""

    name = "ingest"

    def __init__(
        self,
        store: Store,
        settings: IngestSettings,
        host: str = "0.0.0.0",
        port: int = 9880,
        limits: Limits | None = None,
    ) -> None:
        base = limits or Limits()
        self.limits = Limits(
            max_body_bytes=settings.max_body_bytes,
            max_connections=base.max_connections,
            request_timeout=base.request_timeout,
            idle_timeout=base.idle_timeout,
            threads=base.threads,
            drain_seconds=base.drain_seconds,
        )
        self.host = host
        self.app = IngestApp(store, settings)
        try:
            self._http = HTTPServer(self.app, host, port, self.limits, "ingest")
        except OSError as error:
            reason = error.strerror or error
            message = f"cannot listen on {host}:{port} ({reason}); pick another --ingest-port or bind"
            raise StoreError(message) from None
        self.port = self._http.port
        self._switch_interval = sys.getswitchinterval()

    @property
    def urls(self) -> list[str]:
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        shown = f"[{shown}]" if ":" in shown else shown  # an IPv6 address in a URL
        return [f"http://{shown}:{self.port}/ingest"]

    def start(self) -> None:
        # DuckDB takes the GIL back many times while it inserts a batch; at Python's default
        # switch interval (5 ms) every take waits behind the thread decoding the next batch, and
        # a 10 ms insert lasts 80 ms. A 0.2 ms interval keeps the two overlapping.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, SWITCH_INTERVAL))
        self._http.start()

    def stop(self) -> None:
        self._http.stop()
        sys.setswitchinterval(self._switch_interval)  # the process's own setting again
