"""What every CLI command shares: the console, loading dendro.yaml, failing with one message.

Exit codes mean something: 0 ok, 1 failure (the message says what to do), 2 usage (typer).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from dendro import config as config_module
from dendro.config import Config, ConfigError
from dendro.store.base import StoreError

console = Console()
err_console = Console(stderr=True)

CONFIG_OPTION = typer.Option(None, "--config", "-c", help="Path of dendro.yaml (default: ./dendro.yaml).")
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")
YES_OPTION = typer.Option(False, "--yes", "-y", help="Do not ask; use flags and defaults.")


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load_config(path: Path | None) -> Config:
    try:
        return config_module.load(path)
    except ConfigError as error:
        fail(str(error))


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can cause into one clear message and exit 1."""
    try:
        yield
    except (ConfigError, StoreError, FileNotFoundError, PermissionError) as error:
        fail(str(error))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
