"""The console's Flask app, its server thread, and its place in ``dendro up``.

``create_app(config, store)`` builds the app over any Store; ``ConsoleServer`` serves it with
werkzeug's threaded server in a thread (``start()`` / ``stop()``), which is what ``dendro start
server`` runs and what ``dendro up`` starts through :func:`component`. A non-loopback bind
without a token is refused before anything listens (see :mod:`dendro.web.auth`).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import WSGIRequestHandler, make_server

from dendro.config import Config
from dendro.store.base import Store
from dendro.web import auth, formatting
from dendro.web.state import Console

if TYPE_CHECKING:
    from dendro.ingest.up import UpContext


def create_app(
    config: Config,
    store: Store,
    *,
    token: str | None = None,
    data_dir: Path | None = None,
    logs_client: Callable[[], Any] | None = None,
) -> Flask:
    """The console over ``store``; with ``token`` every request must present it."""
    from dendro.web import api
    from dendro.web.views import agents, alerts, charts, home, login, logs, query

    app = Flask(__name__)
    app.secret_key = secrets.token_bytes(32)  # sessions last as long as the process
    app.extensions["dendro"] = Console(config, store, data_dir or config.data_dir(), logs_client=logs_client)
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


def serve(
    config: Config,
    store: Store,
    *,
    host: str = "127.0.0.1",
    port: int = 3000,
    data_dir: Path | None = None,
    token: str | None = None,
) -> tuple[ConsoleServer, str | None]:
    """A started console server and the token it requires (None on a loopback bind)."""
    directory = data_dir or config.data_dir()
    required = auth.token_for_bind(host, directory, token)
    if not auth.is_local(host) and not required:
        raise auth.AuthError(f"binding {host} needs a token: set {auth.TOKEN_ENV}")
    server = ConsoleServer(create_app(config, store, token=required, data_dir=directory), host, port)
    server.start()
    return server, required


class _UpConsole:
    """The console as ``dendro up`` runs it: over the process's own store."""

    name = "console"

    def __init__(self, context: UpContext) -> None:
        self.context = context
        self.server: ConsoleServer | None = None
        self.urls: list[str] = []

    def start(self) -> None:
        c = self.context
        self.server, token = serve(
            c.config, c.store, host=c.config.console.bind, port=c.console_port, data_dir=c.data_dir
        )
        self.urls = list(self.server.urls)
        if token:
            self.urls.append(
                f"(sign in with the token in {c.data_dir / auth.TOKEN_FILE} or ${auth.TOKEN_ENV})"
            )

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def component(context: UpContext) -> _UpConsole:
    """The console component of ``dendro up``."""
    return _UpConsole(context)


def json_response(data: Any, status: int = 200) -> Response:
    response = jsonify(data)
    response.status_code = status
    return response


def serve_forever(
    config: Config,
    *,
    host: str,
    port: int,
    data_dir: Path | None = None,
    ready: Callable[[str, str | None], None] | None = None,
) -> None:
    """``dendro start server``: open the store for reading, serve until Ctrl-C or SIGTERM."""
    import signal

    from dendro.store.factory import open_for_query

    directory = data_dir or config.data_dir()
    store = open_for_query(config, data_dir=directory)
    stopping = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    server: ConsoleServer | None = None
    try:
        server, token = serve(config, store, host=host, port=port, data_dir=directory)
        if ready:
            ready(server.urls[0], token)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server is not None:
            server.stop()
        close = getattr(store, "close", None)
        if close is not None:
            close()
