"""``dendro up``: one process running the local store, the ingest, and whatever else is installed.

The process opens the DuckDB store (it is its only writer), starts the ingest server, announces
itself in ``DATA_DIR/server.json`` so that ``dendro query`` and ``dendro ingest`` go through it,
then starts the components, each a thread with ``start()`` / ``stop()``:

- the Prometheus exporter (``dendro.exporter.server.start_exporter``) and the web console
  (``dendro.web.app.component``), both given an :class:`UpContext`;
- the demo traffic (``--demo``), which posts through the same ``/ingest`` as a Vector agent.

Ctrl-C (or SIGTERM) stops the components in reverse order, then the server, then checkpoints and
closes the store.
"""

from __future__ import annotations

import logging
import logging.handlers
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dendro.config import Config
from dendro.ingest.client import SERVER_FILE, announce
from dendro.ingest.demo import Demo
from dendro.ingest.server import IngestServer, IngestSettings
from dendro.ingest.token import ingest_token
from dendro.services import catalog
from dendro.store.base import Store
from dendro.store.factory import open_store
from dendro.store.remote import post_events


class Component(Protocol):
    name: str
    urls: list[str]

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class UpOptions:
    data_dir: Path | None = None
    ingest_port: int | None = None
    console_port: int | None = None
    exporter_port: int | None = None
    exporter_interval: float | None = None
    exporter_delay: float | None = None
    demo: bool = False
    bind: str = "0.0.0.0"


@dataclass
class UpContext:
    """What a component gets: the config, the open store and the chosen ports."""

    config: Config
    store: Store
    data_dir: Path
    token: str
    ingest_url: str
    console_port: int
    exporter_port: int
    exporter_interval: float
    exporter_delay: float
    extra: dict[str, Any] = field(default_factory=dict)


def _either(option: Any, default: Any) -> Any:
    return default if option is None else option


class _Exporter:
    """The exporter (``dendro.exporter.server.start_exporter``) as a component."""

    name = "exporter"

    def __init__(self, context: UpContext) -> None:
        self.context = context
        self.handle: Any = None
        self.urls: list[str] = []

    def start(self) -> None:
        from dendro.exporter.server import start_exporter

        c = self.context
        self.handle = start_exporter(
            c.config,
            port=c.exporter_port,
            interval=c.exporter_interval,
            delay=c.exporter_delay,
            store=c.store,
        )
        self.urls = [self.handle.url]

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.stop()


#: the ingest's own log in the data dir (the console's Logs page shows it), rotated
LOG_FILE = "ingest.log"
LOG_BYTES = 10 * 1024 * 1024


def _file_log(data_dir: Path) -> logging.Handler:
    """Send the ingest's log (refusals, rejections, a summary a minute) to DATA_DIR/ingest.log."""
    handler = logging.handlers.RotatingFileHandler(
        data_dir / LOG_FILE, maxBytes=LOG_BYTES, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("dendro.ingest")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler


class Up:
    """The running process: build with :meth:`start`, end with :meth:`stop`."""

    def __init__(self, config: Config, options: UpOptions) -> None:
        self.config = config
        self.options = options
        self.data_dir = options.data_dir or config.data_dir()
        self.components: list[Component] = []
        self.server: IngestServer | None = None
        self.store: Any = None
        self.token = ""
        self.log_handler: logging.Handler | None = None

    def start(self) -> None:
        config, options = self.config, self.options
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_handler = _file_log(self.data_dir)
        self.token = ingest_token(self.data_dir, config.local.token_env)
        self.store = open_store(config, data_dir=self.data_dir)
        try:
            settings = IngestSettings(self.token, config.local.max_body_mb * 1024 * 1024)
            port = options.ingest_port if options.ingest_port is not None else config.local.ingest_port
            self.server = IngestServer(self.store, settings, host=options.bind, port=port)
            self.server.start()
            announce(self.data_dir, self.server.port)
            from dendro.web.app import component as console  # imported here: it imports this module

            context = self._context()
            self._start(_Exporter(context))
            self._start(console(context))
            if options.demo:
                self._start(self._demo())
        except BaseException:
            self.stop()
            raise

    def _start(self, component: Component) -> None:
        component.start()
        self.components.append(component)

    def _context(self) -> UpContext:
        options, config = self.options, self.config
        assert self.server is not None
        return UpContext(
            config=config,
            store=self.store,
            data_dir=self.data_dir,
            token=self.token,
            ingest_url=self.server.urls[0],
            console_port=_either(options.console_port, config.console.port),
            exporter_port=_either(options.exporter_port, config.exporter.port),
            exporter_interval=_either(options.exporter_interval, config.exporter.interval),
            exporter_delay=_either(options.exporter_delay, config.exporter.delay),
        )

    def _demo(self) -> Demo:
        assert self.server is not None
        services = self.config.enabled_services() or list(catalog().values())
        url, token = self.server.urls[0], self.token
        return Demo(services, lambda events: post_events(url, token, events))

    @property
    def urls(self) -> list[tuple[str, str]]:
        found = []
        if self.server:
            found.append(("ingest", self.server.urls[0]))
        for component in self.components:
            found += [(component.name, url) for url in getattr(component, "urls", [])]
        return found

    def stop(self) -> None:
        for component in reversed(self.components):
            component.stop()
        self.components.clear()
        if self.server is not None:
            self.server.stop()
            self.server = None
            (self.data_dir / SERVER_FILE).unlink(missing_ok=True)
        if self.store is not None:
            self.store.close()
            self.store = None
        if self.log_handler is not None:
            logging.getLogger("dendro.ingest").removeHandler(self.log_handler)
            self.log_handler.close()
            self.log_handler = None


def run_until_stopped(up: Up, ready: Callable[[Up], None]) -> None:
    """Start, report, and block until Ctrl-C or SIGTERM; then stop cleanly."""
    stopping = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        up.start()
        ready(up)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        up.stop()
