"""CLI verbs of the web console: ``dendro start server``."""

from __future__ import annotations

from pathlib import Path

import typer

from dendro.cli_common import CONFIG_OPTION, console, fail, load_config, user_errors
from dendro.config import DEFAULT_PATH, Config
from dendro.runtime.datadir import DataDir
from dendro.runtime.lifecycle import run_until_stopped

start_app = typer.Typer(help="Start a Dendro component on its own.", no_args_is_help=True)


def _config(path: Path | None) -> Config:
    if path is None and not DEFAULT_PATH.exists():
        return Config()
    return load_config(path)


@start_app.command("server")
def server(
    config_path: Path | None = CONFIG_OPTION,
    port: int | None = typer.Option(None, "--port", help="Port (default: console.port, 3000)."),
    bind: str | None = typer.Option(
        None, "--bind", help="Address (default: console.bind, 127.0.0.1). Any other address requires a token."
    ),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Store directory (default: local.data_dir)."
    ),
) -> None:
    """Serve the web console over the configured store (local DuckDB or Timestream)."""
    from dendro.runtime.console import console as console_server
    from dendro.runtime.stores import open_for_query
    from dendro.web.auth import AuthError

    config = _config(config_path)
    directory = DataDir.of(config, data_dir.resolve() if data_dir else None)
    host, chosen = bind or config.console.bind, port if port is not None else config.console.port
    with user_errors():
        store = open_for_query(config, directory)
        try:
            server, token = console_server(config, store, directory, host=host, port=chosen)
            run_until_stopped(server, lambda started: _ready(started.urls[0], token))
        except AuthError as error:
            fail(str(error))
        except OSError as error:
            fail(f"cannot serve the console: {error.strerror or error}")
        finally:
            store.close()


def _ready(url: str, token: str | None) -> None:
    console.print(f"[bold]console[/]  {url}", highlight=False)
    if token:
        console.print(
            "[bold]  token[/]  required: sign in with $DENDRO_CONSOLE_TOKEN or the data dir's"
            " console-token file",
            highlight=False,
        )
    console.print("Ctrl-C stops it.")


def register(app: typer.Typer) -> None:
    app.add_typer(start_app, name="start")
