"""Serve ``/metrics``: build the source for the configured backend, poll it, expose the state.

:func:`start_exporter` starts the poller thread and prometheus_client's HTTP server (127.0.0.1
by default) and returns a handle to stop them. :class:`Exporter` is the same as a component with
``start()`` / ``stop()``: ``dendro up`` runs one over its own store, ``dendro exporter`` one over
the store it opened (locally) or the pipeline's bucket (on AWS).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import start_http_server

from dendro.config import Config
from dendro.exporter.collector import registry
from dendro.exporter.local_source import LocalSource
from dendro.exporter.poller import Poller, Source
from dendro.exporter.s3_source import S3Source
from dendro.exporter.state import State
from dendro.metrics.aggregates import red_map, roles
from dendro.store.base import Store, StoreError

DEFAULT_BIND = "127.0.0.1"
ClientFactory = Callable[[str], Any]  # AWS service name → boto3 client


@dataclass
class ExporterHandle:
    """A running exporter: its URL, state and poller; :meth:`stop` ends both threads."""

    url: str
    state: State
    poller: Poller
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.poller.stop()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def boto3_clients(region: str) -> ClientFactory:
    import boto3

    session = boto3.session.Session(region_name=region)
    return lambda service: session.client(service)


def pipeline_bucket(config: Config, clients: ClientFactory) -> str:
    """The pipeline's bucket (named after the pipeline, the account and the region)."""
    from dendro.pipeline.models import Names

    account = clients("sts").get_caller_identity()["Account"]
    return Names(config.pipeline, str(account), config.aws.region).bucket


def build_source(config: Config, state: State, *, delay: float, store: Store | None = None,
                 clients: ClientFactory | None = None, clock: Callable[[], float] = time.time) -> Source:
    """The local source over ``store``, or the S3 source of the pipeline's bucket on AWS."""
    if config.backend == "aws":
        clients = clients or boto3_clients(config.aws.region)
        bucket = pipeline_bucket(config, clients)
        return S3Source(clients("s3"), bucket, delay=delay, usage=state.record_usage, clock=clock)
    if store is None:
        raise StoreError("the local exporter reads a store: pass the one it polls")
    tables = config.store_tables()  # every table the store holds, configured or not
    services = config.enabled_services()
    reds = {**red_map(), **red_map(services)}
    return LocalSource(store, tables, roles(tables, reds), delay=delay, usage=state.record_usage, clock=clock)


def start_exporter(config: Config, *, port: int | None = None, interval: float | None = None,
                   delay: float | None = None, bind: str = DEFAULT_BIND, store: Store | None = None,
                   clients: ClientFactory | None = None, source: Source | None = None) -> ExporterHandle:
    """Start polling and serving ``/metrics``; defaults come from dendro.yaml's ``exporter``."""
    settings = config.exporter
    port = settings.port if port is None else port
    interval = settings.interval if interval is None else interval
    delay = settings.delay if delay is None else delay
    if interval <= 0:
        raise StoreError(f"the exporter interval must be positive, got {interval}")
    state = State()
    if source is None:
        source = build_source(config, state, delay=delay, store=store, clients=clients)
    poller = Poller(source, state, interval)
    try:
        server, thread = start_http_server(port, addr=bind, registry=registry(state))
    except OSError as error:
        raise StoreError(f"cannot serve /metrics on {bind}:{port} ({error.strerror or error})") from None
    poller.start()
    host = f"[{bind}]" if ":" in bind else bind
    return ExporterHandle(f"http://{host}:{server.server_port}/metrics", state, poller, server, thread)


class Exporter:
    """The exporter as a component (:func:`start_exporter` on ``start()``, its handle's ``stop()``)."""

    name = "exporter"

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config
        self.options = options
        self.handle: ExporterHandle | None = None
        self.urls: list[str] = []

    def start(self) -> None:
        self.handle = start_exporter(self.config, **self.options)
        self.urls = [self.handle.url]

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.stop()
            self.handle = None


def scrape_config(config: Config, port: int | None = None, target_host: str = "127.0.0.1") -> str:
    """A Prometheus ``scrape_configs`` entry for this exporter (YAML text)."""
    port = config.exporter.port if port is None else port
    interval = max(int(config.exporter.interval), 1)
    return (
        "scrape_configs:\n"
        f"  - job_name: dendro\n"
        f"    scrape_interval: {interval}s\n"
        "    static_configs:\n"
        f"      - targets: ['{target_host}:{port}']\n"
        f"        labels: {{pipeline: {config.pipeline}}}\n"
    )
