"""Who may use the console: anyone on the machine for a loopback bind, token holders otherwise.

- ``127.0.0.1`` (the default) needs no token. Any other bind needs one: ``$DENDRO_CONSOLE_TOKEN``,
  or a token generated once and kept in the data directory (``console-token``, mode 0600; the
  process serving the console finds it, see :mod:`dendro.runtime.console`).
  A browser signs in on the login page, which sets a session cookie (HttpOnly, SameSite=Lax);
  scripts send ``Authorization: Bearer <token>``. Without either, pages redirect to the login
  page and the API answers 401.
- Every form POST carries a CSRF token kept in the session (a hidden ``csrf_token`` field, or the
  ``X-CSRF-Token`` header for the page's own fetch calls). The JSON API (``/api/…``) needs none
  from a script: it takes ``Authorization: Bearer <token>`` (checked when the console has a
  token), and a POST with a JSON body (``Content-Type: application/json``), which no page of
  another site can send without a CORS preflight this console never grants.
- Every request must name as its ``Host`` the address the console is bound to, ``localhost``
  (or a loopback address), or a name of ``console.allowed_hosts``; any other is a 400. A page
  that rebinds its own DNS name to 127.0.0.1 therefore cannot read the console (DNS
  rebinding). A bind on every interface (``0.0.0.0``) also takes any IP address as Host (a
  rebinding attack needs a name).
- Every answer carries a Content-Security-Policy allowing only the app's own scripts (no inline
  script, no CDN), and ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

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
    """Only a path of this site may be the page after signing in; anything else is ``/``.

    Browsers drop tabs and newlines from a URL and read a backslash as ``/``, so ``/%09/evil.example``
    is ``//evil.example`` to them: a target holding any control character, space or backslash, or
    one that a URL parser reads with a scheme or a host, is refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in target) or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


@dataclass(frozen=True)
class AllowedHosts:
    """The Host names the console answers (compared without the port, case-insensitive)."""

    names: frozenset[str]
    any_ip: bool  # bound on every interface: any IP literal is one of this machine's

    def allows(self, host: str) -> bool:
        name = _host_name(host)
        if name in self.names or name == "localhost" or name.endswith(".localhost"):
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        return address.is_loopback or self.any_ip


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:3000
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts(bind: str, names: Iterable[str] = ()) -> AllowedHosts:
    """What a console bound to ``bind`` answers: its bind address, localhost, and ``names``."""
    wildcard = bind in ("0.0.0.0", "::", "")
    known = {n.strip().lower() for n in names if n.strip()}
    if not wildcard:
        known.add(_host_name(bind))
    return AllowedHosts(frozenset(known), wildcard)


def _is_json_api_post() -> bool:
    return _wants_json() and request.mimetype == "application/json"


def install(app: Flask, token: str | None, hosts: AllowedHosts | None = None) -> None:
    """Authentication (when ``token`` is set), the Host check, CSRF checks and security headers."""
    app.config["CONSOLE_TOKEN"] = token
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app.jinja_env.globals["csrf_token"] = csrf_token
    allowed = hosts or allowed_hosts("127.0.0.1")

    @app.before_request
    def _authenticate() -> Response | None:
        g.bearer = False
        if not allowed.allows(request.headers.get("Host", "")):
            abort(400, description="this console does not answer to that Host name"
                  " (add it to console.allowed_hosts in dendro.yaml)")
        expected = app.config["CONSOLE_TOKEN"]
        given = _bearer()
        if expected and given is not None:
            if not matches(given, expected):
                return _refuse("wrong bearer token")
            g.bearer = True
        elif expected and not session.get("signed_in") and request.endpoint not in OPEN_ENDPOINTS:
            return _refuse("sign in first: this console is served beyond localhost and needs its token")
        if request.method in UNSAFE_METHODS and not g.bearer and not _is_json_api_post():
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
