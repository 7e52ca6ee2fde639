"""The console's Flask app and its server thread.

``create_app(config, store)`` builds the app over any Store; ``ConsoleServer`` serves it with
werkzeug's threaded server in a thread (``start()`` / ``stop()``), a component of ``dendro up``
and of ``dendro start server``; :func:`console_server` makes one for a bind, and refuses a
non-loopback bind without a token before anything listens (see :mod:`dendro.web.auth`).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import WSGIRequestHandler, make_server

from dendro.config import Config
from dendro.store.base import Store
from dendro.web import auth, formatting
from dendro.web.state import Console


def create_app(
    config: Config,
    store: Store,
    *,
    token: str | None = None,
    log_dir: Path | None = None,
    logs_client: Callable[[], Any] | None = None,
) -> Flask:
    """The console over ``store``; with ``token`` every request must present it. The Logs page
    shows the ``*.log`` files of ``log_dir`` (locally), or the loader's log streams (on AWS)."""
    from dendro.web import api
    from dendro.web.views import agents, alerts, charts, home, login, logs, query

    app = Flask(__name__)
    app.secret_key = secrets.token_bytes(32)  # sessions last as long as the process
    app.extensions["dendro"] = Console(config, store, log_dir, logs_client=logs_client)
    app.jinja_env.autoescape = True
    formatting.install(app)
    auth.install(app, token)
    for module in (home, charts, query, logs, alerts, agents, login, api):
        app.register_blueprint(module.blueprint)

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            response = jsonify({"error": error.description})
            response.status_code = error.code or 500
            return response
        return render_template("error.html", error=error), error.code or 500

    return app


class _QuietHandler(WSGIRequestHandler):
    """No line per request on the terminal of ``dendro up`` (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class ConsoleServer:
    """The console served in a thread; a component of ``dendro up``."""

    name = "console"

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 3000) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.urls: list[str] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        self.urls = [f"http://{shown}:{self.port}/"]
        self._thread = threading.Thread(target=self._server.serve_forever, name="dendro-console", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def console_server(
    config: Config, store: Store, *, host: str, port: int, token: str | None, log_dir: Path | None = None
) -> ConsoleServer:
    """The console on ``host:port`` (not started yet). A non-loopback bind needs a token."""
    if not auth.is_local(host) and not token:
        raise auth.AuthError(f"binding {host} needs a token: set {auth.TOKEN_ENV}")
    return ConsoleServer(create_app(config, store, token=token, log_dir=log_dir), host, port)
