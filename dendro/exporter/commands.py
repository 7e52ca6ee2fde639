"""``dendro exporter``: serve the RED metrics on /metrics for Prometheus, or print a scrape config."""

from __future__ import annotations

from pathlib import Path

import typer

from dendro.cli_common import CONFIG_OPTION, console, fail, load_config, user_errors
from dendro.config import Config
from dendro.exporter.server import DEFAULT_BIND, Exporter, scrape_config
from dendro.runtime.lifecycle import run_until_stopped
from dendro.store.base import Store


def exporter(
    config_path: Path | None = CONFIG_OPTION,
    port: int | None = typer.Option(None, "--port", "-p", help="Port of /metrics (default: exporter.port)."),
    interval: float | None = typer.Option(
        None, "--interval", help="Seconds between polls (default: exporter.interval)."
    ),
    delay: float | None = typer.Option(
        None, "--delay", help="Seconds an event may take to arrive and still count (default: exporter.delay)."
    ),
    bind: str = typer.Option(DEFAULT_BIND, "--bind", help="Address to listen on."),
    print_scrape_config: bool = typer.Option(
        False, "--print-scrape-config", help="Print a Prometheus scrape config for this exporter and exit."
    ),
) -> None:
    """Serve Dendro's RED metrics, host gauges and agent liveness on /metrics for Prometheus.

    Every interval, one poll adds what arrived to counters and histograms (one query per table on
    the local store; the loader's aggregate objects on AWS, never a Timestream query); scrapes read
    the result of the last poll.
    """
    config = load_config(config_path)
    if print_scrape_config:
        target = "127.0.0.1" if bind in ("0.0.0.0", "::") else bind
        typer.echo(scrape_config(config, port, target), nl=False)
        return
    for name, value in (("--interval", interval), ("--delay", delay)):
        if value is not None and value < 0:
            fail(f"{name} must not be negative", code=2)

    def started(component: Exporter) -> None:
        console.print(f"Dendro exporter ({config.backend} backend) serving [bold]{component.urls[0]}[/]"
                      " — Ctrl-C stops it")

    with user_errors():
        store = _local_store(config)
        try:
            options = {"port": port, "interval": interval, "delay": delay, "bind": bind, "store": store}
            run_until_stopped(Exporter(config, **options), started)
        finally:
            if store is not None:
                store.close()


def _local_store(config: Config) -> Store | None:
    """The local store to poll: through the running ``dendro up`` if there is one (it holds
    DuckDB's writer lock), else the file read-only; None on AWS (the exporter reads S3)."""
    if config.backend == "aws":
        return None
    from dendro.runtime.datadir import DataDir
    from dendro.runtime.stores import open_for_query

    return open_for_query(config, DataDir.of(config))


def register(app: typer.Typer) -> None:
    app.command("exporter")(exporter)
