"""The console's Flask app and its server.

``create_app(config, store)`` builds the app over any Store; ``ConsoleServer`` serves it on the
same production HTTP server as the ingest (:mod:`dendro.ingest.http`: waitress in a thread, with
its limits on body size, connections and timeouts, drained on ``stop()``), a component of
``dendro up`` and of ``dendro start server``; :func:`console_server` makes one for a bind, and
refuses a non-loopback bind without a token before anything listens (see :mod:`dendro.web.auth`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from dendro.config import Config
from dendro.ingest.http import HTTPServer, Limits
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
    bind: str = "127.0.0.1",
) -> Flask:
    """The console over ``store``; with ``token`` every request must present it. The Logs page
    shows the ``*.log`` files of ``log_dir`` (locally), or the loader's log streams (on AWS).
    Requests must name ``bind``, localhost or one of ``console.allowed_hosts`` as their Host."""
    from dendro.web import api
    from dendro.web.views import agents, alerts, charts, home, login, logs, query

    app = Flask(__name__)
    app.secret_key = secrets.token_bytes(32)  # sessions last as long as the process
    app.extensions["dendro"] = Console(config, store, log_dir, logs_client=logs_client)
    app.jinja_env.autoescape = True
    formatting.install(app)
    auth.install(app, token, auth.allowed_hosts(bind, config.console.allowed_hosts))
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


#: the console's limits: a form or JSON query is small, a page is a few per user
CONSOLE_LIMITS = Limits(max_body_bytes=1024 * 1024, max_connections=64, request_timeout=30, idle_timeout=60,
                        threads=8)


class ConsoleServer:
    """The console served in a thread; a component of ``dendro up``."""

    name = "console"

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 3000,
                 limits: Limits = CONSOLE_LIMITS) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.limits = limits
        self.urls: list[str] = []
        self._server: HTTPServer | None = None

    def start(self) -> None:
        self._server = HTTPServer(self.app, self.host, self.port, self.limits, "console")
        self.port = self._server.port
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        self.urls = [f"http://{shown}:{self.port}/"]
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def console_server(
    config: Config, store: Store, *, host: str, port: int, token: str | None, log_dir: Path | None = None
) -> ConsoleServer:
    """The console on ``host:port`` (not started yet). A non-loopback bind needs a token."""
    if not auth.is_local(host) and not token:
        raise auth.AuthError(f"binding {host} needs a token: set {auth.TOKEN_ENV}")
    return ConsoleServer(create_app(config, store, token=token, log_dir=log_dir, bind=host), host, port)
