"""The console in a process: the token its bind needs, and the data dir whose logs it shows."""

from __future__ import annotations

from dendro.config import Config
from dendro.runtime.datadir import DataDir, stored_token
from dendro.store.base import Store
from dendro.web.app import ConsoleServer, console_server
from dendro.web.auth import TOKEN_ENV, is_local


def console_token(bind: str, data_dir: DataDir) -> str | None:
    """None for a loopback bind; else ``$DENDRO_CONSOLE_TOKEN``, or the data dir's stored token
    (made on first use, mode 0600)."""
    if is_local(bind):
        return None
    return stored_token(data_dir.console_token, TOKEN_ENV)


def console(
    config: Config, store: Store, data_dir: DataDir, *, host: str, port: int
) -> tuple[ConsoleServer, str | None]:
    """The console over ``store`` on ``host:port`` (not started) and the token it requires."""
    token = console_token(host, data_dir)
    server = console_server(config, store, host=host, port=port, token=token, log_dir=data_dir.path)
    return server, token
