"""CLI verbs of the collection side: ``dendro configure`` and ``dendro check``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dendro.cli_common import CONFIG_OPTION, YES_OPTION, console, fail, load_config, user_errors
from dendro.config import Config, ConfigError
from dendro.services import BUILTIN
from dendro.store import sizing
from dendro.vector import check as check_module
from dendro.vector.configure import Answers, build_config, parse_custom, server_notes, service_name, write

#: ``--service``'s help: the catalog's names (its modules are not loaded for it)
SERVICE_HELP = f"{', '.join(BUILTIN[:-1])} or {BUILTIN[-1]} (repeatable)."
CUSTOM_OPTION = typer.Option([], "--custom", help="A custom app as NAME:PATH:REGEX (repeatable).")
CONFIG_OUT_OPTION = typer.Option(Path("dendro.yaml"), "--config", "-c", help="Where to write dendro.yaml.")
VECTOR_OUT_OPTION = typer.Option(Path("vector.yaml"), "--vector-out", help="Where to write vector.yaml.")


def _answers_from_flags(
    backend: str,
    services: list[str],
    custom: list[str],
    pipeline: str | None,
    region: str | None,
    ingest_url: str | None,
    store: str | None = None,
) -> Answers:
    if backend not in ("local", "aws"):
        raise ConfigError(f"--backend {backend}: expected local or aws")
    if store is not None and backend != "aws":
        raise ConfigError("--store is for --backend aws (the local backend has one store)")
    answers = Answers(backend=backend, pipeline=pipeline, region=region, ingest_url=ingest_url, store=store)
    answers.services = {service_name(name): {} for name in services}
    answers.custom = [parse_custom(spec) for spec in custom]
    if not answers.services and not answers.custom:
        raise ConfigError("nothing to collect: give --service NAME (repeatable) or --custom NAME:PATH:REGEX")
    return answers


def _print_notes(config: Config, config_path: Path, vector_path: Path) -> None:
    console.print(f"[green]wrote[/] {config_path} and {vector_path}")
    for service in server_notes(config):
        console.print(f"\n[bold]{service.title}[/]: {service.server_config_help}", highlight=False)
        console.print(service.server_config, highlight=False, markup=False)
    if config.backend == "local":
        console.print(
            f"\nRun the agent: {config.local.token_env}=<token> vector --config {vector_path}",
            highlight=False,
        )
        for line in sizing.retention_lines(config.local.retention_days, config.local.retention_by_table):
            console.print(line, highlight=False, markup=False)
    else:
        console.print(f"\nRun the agent: vector --config {vector_path}", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def configure(
        yes: bool = YES_OPTION,
        backend: str = typer.Option("local", "--backend", help="local (Dendro's ingest) or aws (Firehose)."),
        service: list[str] = typer.Option(
            [], "--service", "-s", help=SERVICE_HELP
        ),
        custom: list[str] = CUSTOM_OPTION,
        pipeline: str | None = typer.Option(None, "--pipeline", help="Pipeline (and database) name."),
        region: str | None = typer.Option(None, "--region", help="AWS region (backend aws)."),
        ingest_url: str | None = typer.Option(None, "--ingest-url", help="Ingest URL (backend local)."),
        store: str | None = typer.Option(
            None, "--store", help="AWS store (backend aws): timestream, or athena (no Timestream needed)."
        ),
        config: Path = CONFIG_OUT_OPTION,
        vector_out: Path = VECTOR_OUT_OPTION,
    ) -> None:
        """Choose this node's services and backend; write dendro.yaml and vector.yaml."""
        with user_errors():
            if yes:
                answers = _answers_from_flags(backend, service, custom, pipeline, region, ingest_url, store)
            else:
                from dendro.vector import wizard

                try:
                    answers = wizard.ask()
                except wizard.Cancelled:
                    fail("cancelled; nothing written")
            result = build_config(answers, config)
            write(result, config, vector_out)
        _print_notes(result, config, vector_out)

    @app.command()
    def check(
        config: Path | None = CONFIG_OPTION,
        vector: Path | None = typer.Option(
            None, "--vector", help="Check this vector.yaml instead of a fresh render of dendro.yaml."
        ),
        data: bool = typer.Option(False, "--data", help="Also read every Parquet object of the local store."),
    ) -> None:
        """Validate dendro.yaml, compile every VRL program and run every sample; exit 1 on a failure."""
        loaded = load_config(config)
        with user_errors():
            report = check_module.check(loaded, vector)
            if data:
                from dendro.runtime.data_check import with_data  # pyarrow only for --data

                report = with_data(report, loaded)
        table = Table(title="dendro check", show_lines=False)
        table.add_column("check")
        table.add_column("name", overflow="fold")
        table.add_column("result")
        table.add_column("detail", overflow="fold")
        for row in report.rows:
            if row.skipped:
                table.add_row(row.kind, row.name, "[yellow]skipped[/]", row.detail)
                continue
            mark = "[green]pass[/]" if row.ok else "[bold red]FAIL[/]"
            table.add_row(row.kind, row.name, mark, row.detail if row.shown or not row.ok else "")
        console.print(table)
        failed = len(report.failures)
        skipped = sum(1 for row in report.rows if row.skipped)
        console.print(f"{len(report.rows)} checks, {failed} failed, {skipped} skipped", highlight=False)
        if failed:
            raise typer.Exit(1)
