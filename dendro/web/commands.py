"""CLI verbs of the web console: ``dendro start server``."""

from __future__ import annotations

from pathlib import Path

import typer

from dendro.cli_common import CONFIG_OPTION, console, fail, load_config, user_errors
from dendro.config import DEFAULT_PATH, Config

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
    from dendro.web.app import serve_forever
    from dendro.web.auth import AuthError

    config = _config(config_path)
    with user_errors():
        try:
            serve_forever(
                config,
                host=bind or config.console.bind,
                port=port if port is not None else config.console.port,
                data_dir=data_dir.resolve() if data_dir else None,
                ready=lambda url, token: _ready(url, token),
            )
        except AuthError as error:
            fail(str(error))
        except OSError as error:
            fail(f"cannot serve the console: {error.strerror or error}")


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
