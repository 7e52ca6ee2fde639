"""``dendro up``: one process running the local store, the ingest, the exporter and the console.

:class:`Up` is the composition root of the local backend. It opens the DuckDB store (it is its
only writer), starts the ingest server and announces itself in the data dir (so ``dendro query``
and ``dendro ingest`` go through it), then the Prometheus exporter and the web console over the
same store, and the demo traffic with ``--demo`` (its history written into the store before
anything is served, then live traffic posted through the same ``/ingest`` as a Vector agent).
Each part is a component with ``start()`` / ``stop()``; :meth:`Up.stop` stops them in
reverse order, then checkpoints and closes the store. The ingest's log goes to the data dir's
``ingest.log``. :func:`dendro.runtime.lifecycle.run_until_stopped` runs it until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import logging
import logging.handlers
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dendro.config import Config
from dendro.exporter.server import Exporter
from dendro.ingest.demo import HISTORY, Backfilled, Demo, Story, backfill
from dendro.ingest.server import IngestServer, IngestSettings, Limits
from dendro.runtime.console import console
from dendro.runtime.datadir import DataDir, stored_token
from dendro.runtime.housekeeping import housekeeping
from dendro.runtime.lifecycle import Component
from dendro.runtime.stores import announce, open_store, withdraw
from dendro.services import catalog
from dendro.services.base import Service
from dendro.store.base import Store
from dendro.store.remote import post_events
from dendro.web.auth import TOKEN_ENV

LOG_BYTES = 10 * 1024 * 1024
LOG_BACKUPS = 3


@dataclass
class UpOptions:
    """The command line's choices; None takes dendro.yaml's value."""

    data_dir: Path | None = None
    ingest_port: int | None = None
    console_port: int | None = None
    exporter_port: int | None = None
    exporter_interval: float | None = None
    exporter_delay: float | None = None
    demo: bool = False
    bind: str | None = None  # the ingest's address; None: local.ingest_bind (every interface)
    demo_history: timedelta = HISTORY  # how much history the demo writes first (at most)


def _either(option: Any, default: Any) -> Any:
    return default if option is None else option


def _limits(config: Config) -> Limits:
    """The ingest's connection cap and timeouts from dendro.yaml (its body limit is in settings)."""
    local = config.local
    return Limits(max_connections=local.max_connections, request_timeout=local.request_timeout_s,
                  idle_timeout=local.idle_timeout_s)


def _file_log(path: Path) -> logging.Handler:
    """Send the ingest's log (refusals, rejections, a summary a minute) to ``path``, rotated."""
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("dendro.ingest")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler


class Up:
    """The running process: build with :meth:`start`, end with :meth:`stop`."""

    name = "dendro up"

    def __init__(self, config: Config, options: UpOptions) -> None:
        self.config = config
        self.options = options
        self.data_dir = DataDir.of(config, options.data_dir)
        self.components: list[Component] = []
        self.server: IngestServer | None = None
        self.store: Store | None = None
        self.token = ""
        self.console_token: str | None = None
        self._announced = False
        self._log: logging.Handler | None = None
        self.story: Story | None = None

    def start(self) -> None:
        config, options = self.config, self.options
        self.data_dir.path.mkdir(parents=True, exist_ok=True)
        self._log = _file_log(self.data_dir.ingest_log)
        self.token = stored_token(self.data_dir.ingest_token, config.local.token_env)
        self.store = store = open_store(config, self.data_dir)
        try:
            backfilled = self._backfill(store) if options.demo else None
            keeper = housekeeping(store, self.data_dir)  # retention and Parquet moves, now and hourly
            if keeper is not None:
                self._start(keeper)
            settings = IngestSettings(self.token, config.local.max_body_mb * 1024 * 1024)
            port = _either(options.ingest_port, config.local.ingest_port)
            host = _either(options.bind, config.local.ingest_bind)
            self.server = IngestServer(store, settings, host=host, port=port, limits=_limits(config))
            self._start(self.server)
            announce(self.data_dir, self.server.port)
            self._announced = True
            self._start(self._exporter(store))
            server, self.console_token = console(
                config, store, self.data_dir, host=config.console.bind,
                port=_either(options.console_port, config.console.port),
            )
            self._start(server)
            if options.demo:
                self._start(self._demo(self.server.urls[0], backfilled))
        except BaseException:
            self.stop()
            raise

    def _start(self, component: Component) -> None:
        component.start()
        self.components.append(component)

    def _exporter(self, store: Store) -> Exporter:
        options, settings = self.options, self.config.exporter
        return Exporter(
            self.config,
            store=store,
            port=_either(options.exporter_port, settings.port),
            interval=_either(options.exporter_interval, settings.interval),
            delay=_either(options.exporter_delay, settings.delay),
        )

    def _demo_services(self) -> list[Service]:
        return self.config.enabled_services() or list(catalog().values())

    def _backfill(self, store: Store) -> Backfilled:
        """The demo's history, written through the store before anything is served."""
        now = datetime.now(UTC)
        self.story = Story(now)
        return backfill(store, self._demo_services(), self.story, now, history=self.options.demo_history)

    def _demo(self, url: str, backfilled: Backfilled | None) -> Demo:
        token = self.token
        return Demo(self._demo_services(), lambda events: post_events(url, token, events), story=self.story,
                    backfilled=backfilled)

    @property
    def urls(self) -> list[tuple[str, str]]:
        found = []
        for component in self.components:
            found += [(component.name, url) for url in component.urls]
            if component.name == "console" and self.console_token:
                hint = f"(sign in with the token in {self.data_dir.console_token} or ${TOKEN_ENV})"
                found.append((component.name, hint))
        return found

    def stop(self) -> None:
        for component in reversed(self.components):
            component.stop()
        self.components.clear()
        self.server = None
        if self._announced:
            withdraw(self.data_dir)
            self._announced = False
        if self.store is not None:
            self.store.close()
            self.store = None
        if self._log is not None:
            logging.getLogger("dendro.ingest").removeHandler(self._log)
            self._log.close()
            self._log = None
