"""A non-local bind needs the token (login page or bearer header); forms need their CSRF token."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from dendro.runtime.console import console, console_token
from dendro.runtime.datadir import DataDir
from dendro.web import auth
from dendro.web.app import create_app
from tests.web.conftest import Known, csrf


def test_local_binds() -> None:
    assert auth.is_local("127.0.0.1") and auth.is_local("::1") and auth.is_local("localhost")
    assert not auth.is_local("0.0.0.0") and not auth.is_local("192.168.1.5")


def test_token_required_pages_redirect_and_api_refuses(known: Known) -> None:
    client = create_app(known.config, known.store, token="s3cret", log_dir=known.data_dir).test_client()
    page = client.get("/agents")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=/agents")
    assert client.get("/api/home").status_code == 401
    assert client.get("/api/home", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/home", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    # a bearer request sends no cookie and needs no CSRF token
    posted = client.post(
        "/api/query", json={"sql": "SELECT 1 AS one"}, headers={"Authorization": "Bearer s3cret"}
    )
    assert posted.status_code == 200 and posted.get_json()["rows"] == [[1]]
    assert client.get("/healthz").status_code == 200


def test_login_sets_a_session(known: Known) -> None:
    client = create_app(known.config, known.store, token="s3cret", log_dir=known.data_dir).test_client()
    token = csrf(client, "/login")
    wrong = client.post("/login", data={"token": "nope", "csrf_token": token, "next": "/agents"})
    assert wrong.status_code == 401 and "not the console" in wrong.get_data(as_text=True)
    assert client.post("/login", data={"token": "s3cret", "next": "/agents"}).status_code == 400  # no CSRF
    right = client.post("/login", data={"token": "s3cret", "csrf_token": token, "next": "//evil.example/"})
    assert right.status_code == 303 and right.headers["Location"] == "/"  # no open redirect
    assert client.get("/agents").status_code == 200
    client.post("/logout", data={"csrf_token": csrf(client, "/agents")})
    assert client.get("/agents").status_code == 302


def test_a_non_local_bind_without_the_token_is_refused(known: Known, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auth.TOKEN_ENV, "from-the-env")
    server, token = console(known.config, known.store, DataDir(known.data_dir), host="0.0.0.0", port=0)
    server.start()
    try:
        assert token == "from-the-env"
        url = f"http://127.0.0.1:{server.port}/api/home"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=5)
        assert refused.value.code == 401
        request = urllib.request.Request(url, headers={"Authorization": "Bearer from-the-env"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.stop()


def test_a_generated_token_is_kept_private(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(auth.TOKEN_ENV, raising=False)
    directory = DataDir(tmp_path)  # type: ignore[arg-type]
    first = console_token("0.0.0.0", directory)
    assert first and console_token("0.0.0.0", directory) == first
    assert (directory.console_token.stat().st_mode & 0o777) == 0o600
    assert console_token("127.0.0.1", directory) is None
