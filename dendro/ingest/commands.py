"""CLI verbs of the local backend: ``dendro up``, ``dendro ingest`` and ``dendro query``."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from dendro.cli_common import CONFIG_OPTION, console, fail, load_config, print_json, user_errors
from dendro.config import DEFAULT_PATH, Config
from dendro.runtime.datadir import DataDir
from dendro.runtime.lifecycle import run_until_stopped
from dendro.services import get as get_service
from dendro.store import result_csv, result_json
from dendro.store.base import QueryResult, Store

if TYPE_CHECKING:
    from dendro.runtime.up import Up

Writer = Callable[[list[dict[str, Any]]], tuple[int, int]]  # a batch → (written, rejected)
DATA_DIR_OPTION = typer.Option(None, "--data-dir", help="Store directory (default: local.data_dir, .dendro).")


def _config(path: Path | None) -> Config:
    """dendro.yaml when there is one; defaults otherwise (``dendro up`` works without one)."""
    if path is None and not DEFAULT_PATH.exists():
        return Config()
    return load_config(path)


def _ready(up: Up) -> None:
    for name, url in up.urls:
        console.print(f"[bold]{name:>9}[/]  {url}", highlight=False)
    if up.server is not None and not up.options.demo:  # what agents on real nodes need
        where = _listening(up.server.host, up.server.port)
        console.print(f"[bold]{'listening':>9}[/]  {where}", highlight=False)
        console.print(f"[bold]{'token':>9}[/]  {up.token}", highlight=False)
    console.print(f"[bold]{'data':>9}[/]  {up.data_dir.path}", highlight=False)
    console.print("Dendro is up. Ctrl-C stops it.")


def _listening(host: str, port: int) -> str:
    """Where the ingest listens, and what that means for agents on other nodes."""
    if host in ("0.0.0.0", "::", ""):
        return (f"ingest on {host or '0.0.0.0'}:{port}: every interface, so agents on other nodes can post"
                " (--ingest-bind 127.0.0.1 keeps it on this machine)")
    return f"ingest on {host}:{port} only (--ingest-bind, local.ingest_bind): agents elsewhere cannot post"


def _render(result: QueryResult, output: str) -> None:
    names = [c.name for c in result.columns]
    if output == "json":
        print_json(result_json.dicts(result))  # a repeated column name keeps its values (x, x_2)
    elif output == "csv":  # as the console exports it: formula cells neutralised
        for chunk in result_csv.chunks(result):
            sys.stdout.write(chunk)
    else:
        table = RichTable(*names)
        for row in result.rows:
            table.add_row(*["" if v is None else str(v) for v in row])
        console.print(table)
        more = " (truncated)" if result.truncated else ""
        console.print(f"{len(result.rows)} row(s){more} in {result.elapsed_seconds:.3f} s", style="dim")


def _writer(config: Config, data_dir: DataDir) -> tuple[Store, Writer]:
    """A function writing a batch through the running server, else into the store itself."""
    from dendro.runtime.stores import open_for_writing

    store = open_for_writing(config, data_dir)

    def write(batch: list[dict[str, Any]]) -> tuple[int, int]:
        result = store.write(batch)
        return result.total_written, len(result.rejected)

    return store, write


def register(app: typer.Typer) -> None:
    @app.command()
    def up(
        config_path: Path | None = CONFIG_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
        ingest_port: int | None = typer.Option(None, "--ingest-port", help="Ingest port (9880)."),
        ingest_bind: str | None = typer.Option(
            None, "--ingest-bind", help="Ingest address (local.ingest_bind; 0.0.0.0: every interface)."
        ),
        console_port: int | None = typer.Option(None, "--console-port", help="Console port (3000)."),
        exporter_port: int | None = typer.Option(None, "--exporter-port", help="Exporter port (9108)."),
        exporter_interval: float | None = typer.Option(None, "--exporter-interval", help="Poll every S s."),
        exporter_delay: float | None = typer.Option(None, "--exporter-delay", help="Settle delay in s."),
        demo: bool = typer.Option(False, "--demo", help="Feed realistic demo traffic through the ingest."),
    ) -> None:
        """Run Dendro locally: store, ingest for Vector (every interface unless --ingest-bind), console and
        exporter."""
        from dendro.runtime.up import Up, UpOptions

        config = _config(config_path)
        options = UpOptions(
            data_dir.resolve() if data_dir else None,
            ingest_port,
            console_port,
            exporter_port,
            exporter_interval,
            exporter_delay,
            demo,
            ingest_bind,
        )
        with user_errors():
            run_until_stopped(Up(config, options), _ready)

    @app.command()
    def ingest(
        files: list[Path] = typer.Argument(..., help="Log files to backfill (rotated and .gz too)."),
        service: str = typer.Option(..., "--service", "-s", help="The service whose logs these are."),
        host: str = typer.Option(socket.gethostname(), "--host", help="Host name to record."),
        parser: str | None = typer.Option(None, "--parser", help="Parser, if the file name is ambiguous."),
        config_path: Path | None = CONFIG_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Backfill existing log files through the service's parsers into the store."""
        from dendro.ingest import backfill as backfill_module

        config = _config(config_path)
        try:
            chosen = get_service(service)
        except KeyError as error:
            fail(str(error.args[0]))
        settings = {**chosen.defaults(), **config.services.get(service, {})}
        directory = DataDir.of(config, data_dir.resolve() if data_dir else None)
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            fail(f"not a file: {', '.join(missing)}")
        total = sum(f.stat().st_size for f in files)
        with user_errors():
            store, write = _writer(config, directory)
            try:
                columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
                with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as progress:
                    task = progress.add_task("parsing", total=total)
                    result = backfill_module.backfill(
                        files, chosen, settings, write, host=host, parser=parser,
                        progress=lambda n: progress.advance(task, n),
                    )
            except backfill_module.BackfillError as error:
                fail(str(error))
            finally:
                store.close()
        structure = f", {result.no_event} log structure (no event)" if result.no_event else ""
        console.print(
            f"{result.records} record(s) from {result.files} file(s): {result.written} written,"
            f" {result.parse_errors} parse error(s), {result.rejected} rejected{structure}",
            highlight=False,
        )

    @app.command()
    def query(
        sql: str = typer.Argument(..., help='Timestream SQL, e.g. "SELECT count(*) FROM nginx_access".'),
        output: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
        max_rows: int = typer.Option(10_000, "--max-rows", help="Stop after this many rows."),
        config_path: Path | None = CONFIG_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
    ) -> None:
        """Run a read-only query on the store (through `dendro up` when it is running)."""
        if output not in ("table", "csv", "json"):
            fail(f"--format {output}: expected table, csv or json", code=2)
        from dendro.runtime.stores import open_for_query

        config = _config(config_path)
        with user_errors():
            store = open_for_query(config, DataDir.of(config, data_dir.resolve() if data_dir else None))
            try:
                result = store.query(sql, max_rows=max_rows)
            finally:
                store.close()
        _render(result, output)
