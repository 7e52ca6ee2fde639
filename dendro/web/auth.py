"""Who may use the console: anyone on the machine for a loopback bind, token holders otherwise.

- ``127.0.0.1`` (the default) needs no token. Any other bind needs one: ``$DENDRO_CONSOLE_TOKEN``,
  or a token generated once and kept in the data directory (``console-token``, mode 0600; the
  process serving the console finds it, see :mod:`dendro.runtime.console`).
  A browser signs in on the login page, which sets a session cookie (HttpOnly, SameSite=Lax);
  scripts send ``Authorization: Bearer <token>``. Without either, pages redirect to the login
  page and the API answers 401.
- Every form POST carries a CSRF token kept in the session (a hidden ``csrf_token`` field, or the
  ``X-CSRF-Token`` header for the page's own fetch calls); a request authenticated by its
  bearer header sends no cookie and needs none.
- Every answer carries a Content-Security-Policy allowing only the app's own scripts (no inline
  script, no CDN), and ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from flask import Flask, Response, abort, g, jsonify, redirect, request, session, url_for

TOKEN_ENV = "DENDRO_CONSOLE_TOKEN"
LOCAL_NAMES = ("localhost",)
#: paths that never need a token (the login page itself, static files, the health check)
OPEN_ENDPOINTS = ("auth.login", "static", "healthz")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
    " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class AuthError(ValueError):
    """The console cannot be served as asked (a non-local bind without a token)."""


def is_local(bind: str) -> bool:
    if bind in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(bind).is_loopback
    except ValueError:
        return False


def matches(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def csrf_token() -> str:
    """The session's CSRF token (made on first use); templates put it in every form."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def _bearer() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" and value else None


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def safe_next(target: str | None) -> str:
    """Only a path of this site (no scheme, no //host) may be the page after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def install(app: Flask, token: str | None) -> None:
    """Authentication (when ``token`` is set), CSRF checks and security headers."""
    app.config["CONSOLE_TOKEN"] = token
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _authenticate() -> Response | None:
        g.bearer = False
        expected = app.config["CONSOLE_TOKEN"]
        given = _bearer()
        if expected and given is not None:
            if not matches(given, expected):
                return _refuse("wrong bearer token")
            g.bearer = True
        elif expected and not session.get("signed_in") and request.endpoint not in OPEN_ENDPOINTS:
            return _refuse("sign in first: this console is served beyond localhost and needs its token")
        if request.method in UNSAFE_METHODS and not g.bearer:
            sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
            if not sent or "csrf" not in session or not hmac.compare_digest(sent, str(session["csrf"])):
                abort(
                    400,
                    description="the form's CSRF token is missing or stale: reload the page and try again",
                )
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        return response


def _refuse(message: str) -> Response:
    if _wants_json() or _bearer() is not None:
        response = jsonify({"error": message})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="dendro console"'
        return response
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))  # type: ignore[return-value]
