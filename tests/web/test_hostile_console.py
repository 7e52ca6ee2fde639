"""The console (port 3000) against a hostile page or client: issue 15, items 13 to 16, and the
console's side of items 10 to 12.

13. DNS rebinding: a request whose Host is not the bound address, localhost or a name of
    ``console.allowed_hosts`` is refused, so a page that rebinds its name to 127.0.0.1 cannot
    read the query page (and its CSRF token);
14. ``/login?next=`` sends only to a path of this site (``/%09/evil.example`` was
    ``//evil.example``; a CR/LF was a 500);
15. a script calls ``/api/query`` with the console's bearer token, or on a loopback console with
    a JSON body, without any CSRF token; forms keep theirs;
16. the CSV export names its charset once;
10-12. the page says a result was cut by bytes; a query too deep to parse is a 400; the JSON
    export keeps repeated column names (and ``?_shape=arrays``).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from dendro.config import from_dict
from dendro.web.app import ConsoleServer, create_app
from tests.support import require_binary
from tests.web.conftest import Known, csrf

EVIL = "rebound.evil.example"


def client_for(
    known: Known, *, token: str | None = None, bind: str = "127.0.0.1", **console: Any
) -> FlaskClient:
    config = known.config
    if console:
        raw = {"services": {"nginx": {}, "postgres": {}, "host": {}}, "console": console}
        config = from_dict(raw)
    return create_app(config, known.store, token=token, log_dir=known.data_dir, bind=bind).test_client()


# -- 13. Host --------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", [EVIL, f"{EVIL}:3000", "127.0.0.1.nip.io", "localhost.evil.example", ""])
def test_a_foreign_host_is_refused_before_anything_is_read(known: Known, host: str) -> None:
    client = client_for(known)
    page = client.get("/query", headers={"Host": host})
    assert page.status_code == 400
    assert b"csrf_token" not in page.data
    assert client.post("/api/query", json={"sql": "SELECT 1"}, headers={"Host": host}).status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1:3000", "localhost:3000", "LOCALHOST", "[::1]:3000", "127.0.0.1"])
def test_the_bound_address_and_localhost_are_answered(known: Known, host: str) -> None:
    assert client_for(known).get("/query", headers={"Host": host}).status_code == 200


def test_names_listed_in_dendro_yaml_are_answered(known: Known) -> None:
    client = client_for(known, bind="10.1.2.3", token="t", allowed_hosts=["dendro.example.org"])
    headers = {"Authorization": "Bearer t"}
    assert client.get("/api/home", headers={**headers, "Host": "dendro.example.org:3000"}).status_code == 200
    assert client.get("/api/home", headers={**headers, "Host": "10.1.2.3:3000"}).status_code == 200
    assert client.get("/api/home", headers={**headers, "Host": "10.9.9.9:3000"}).status_code == 400
    assert client.get("/api/home", headers={**headers, "Host": EVIL}).status_code == 400


def test_a_wildcard_bind_answers_ip_addresses_but_not_names(known: Known) -> None:
    client = client_for(known, bind="0.0.0.0", token="t")
    headers = {"Authorization": "Bearer t"}
    assert client.get("/api/home", headers={**headers, "Host": "192.0.2.10:3000"}).status_code == 200
    assert client.get("/api/home", headers={**headers, "Host": EVIL}).status_code == 400


def test_the_real_server_refuses_a_rebound_host(known: Known) -> None:
    server = ConsoleServer(create_app(known.config, known.store, log_dir=known.data_dir), "127.0.0.1", 0)
    server.start()
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{server.port}/query", headers={"Host": EVIL})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 400
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/query", timeout=5) as page:
            assert page.status == 200
    finally:
        server.stop()


# -- 14. next --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["/%09/evil.example/phish", "/%0a/evil.example", "/%0d%0aSet-Cookie:%20x=1", "//evil.example",
     "/\\evil.example", "https://evil.example/", "/%20/evil.example", "%2F%2Fevil.example"],
)
@pytest.mark.parametrize("token", [None, "t"])
def test_login_sends_only_to_a_path_of_this_site(known: Known, token: str | None, target: str) -> None:
    client = client_for(known, token=token)
    if token is None:
        answer = client.get(f"/login?next={target}")
    else:
        form = {"token": "t", "csrf_token": csrf(client, "/login"), "next": ""}
        answer = client.post(f"/login?next={target}", data=form)
    assert answer.status_code in (302, 303), answer.data
    assert answer.headers["Location"] == "/"


def test_a_path_of_this_site_is_kept(known: Known) -> None:
    answer = client_for(known).get("/login?next=/query%3Fsql%3DSELECT%25201")
    assert answer.headers["Location"] == "/query?sql=SELECT%201"


# -- 15. scripts and the JSON API --------------------------------------------------------------------


def test_a_script_calls_the_json_api_without_a_csrf_token(known: Known) -> None:
    local = client_for(known)
    sql = {"sql": "SELECT 1 AS one"}
    answer = local.post("/api/query", json=sql, headers={"Authorization": "Bearer anything"})
    assert answer.status_code == 200 and answer.get_json()["rows"] == [[1]]
    with_token = client_for(known, token="t", bind="0.0.0.0")
    answer = with_token.post("/api/query", json=sql, headers={"Authorization": "Bearer t"})
    assert answer.status_code == 200
    assert with_token.post("/api/query", json=sql, headers={"Authorization": "Bearer x"}).status_code == 401


def test_forms_keep_their_csrf_token(known: Known) -> None:
    client = client_for(known)
    assert client.post("/query", data={"sql": "SELECT 1"}).status_code == 400
    assert client.post("/api/query", data={"sql": "SELECT 1"}).status_code == 400  # a form any page can post
    assert client.post("/query", data={"sql": "SELECT 1", "csrf_token": csrf(client)}).status_code == 303


def docs_curl_line() -> str:
    """The curl command docs/console.md gives for scripts (its continuation lines joined)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "console.md").read_text(encoding="utf-8")
    block = text.split("```sh\n  curl", 1)[1].split("```", 1)[0]
    return "curl" + " ".join(line.strip().rstrip("\\") for line in block.splitlines())


@pytest.mark.real
def test_the_curl_line_of_the_docs_works(known: Known) -> None:
    curl = require_binary("curl", "curl")
    app = create_app(known.config, known.store, token="s3cret", log_dir=known.data_dir, bind="127.0.0.1")
    server = ConsoleServer(app, "127.0.0.1", 0)
    server.start()
    try:
        line = docs_curl_line().replace("http://127.0.0.1:3000/", f"http://127.0.0.1:{server.port}/")
        args = shlex.split(line.replace("$DENDRO_CONSOLE_TOKEN", "s3cret"))
        done = subprocess.run([curl, *args[1:]], capture_output=True, text=True, timeout=30, check=True)
        answer = json.loads(done.stdout)
        assert answer["columns"][0]["name"] == "host", answer
    finally:
        server.stop()


# -- 16, 10, 11, 12: results ----------------------------------------------------------------------------


def run(client: FlaskClient, sql: str) -> str:
    answer = client.post("/query", data={"sql": sql, "csrf_token": csrf(client)})
    assert answer.status_code == 303, answer.data
    return str(answer.headers["Location"])


def test_the_csv_export_names_its_charset_once(known: Known) -> None:
    client = client_for(known)
    export = client.get(run(client, "SELECT 1 AS one") + ".csv")
    assert export.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_the_page_says_a_result_was_cut_by_bytes(known: Known) -> None:
    client = client_for(known, max_result_mb=1)
    location = run(client, "SELECT repeat('x', 100000) AS s FROM range(50)")
    page = client.get(location).get_data(as_text=True)
    assert "10 row(s)" in page and "cut: the result reached its cap of 100,000 rows or 1 MB" in page
    assert "cut at 100000 rows or 1 MB" in client.get(location + ".csv").headers["X-Dendro-Truncated"]


def test_a_query_too_deep_to_parse_is_a_400_with_a_message(known: Known) -> None:
    deep = "SELECT " + "(" * 3000 + "1" + ")" * 3000
    client = client_for(known)
    answer = client.post("/api/query", json={"sql": deep})
    assert answer.status_code == 400 and "nests too deeply" in answer.get_json()["error"]
    page = client.post("/query", data={"sql": deep, "csrf_token": csrf(client)})
    assert page.status_code == 400 and b"nests too deeply" in page.data


def test_the_json_export_keeps_columns_of_the_same_name(known: Known) -> None:
    client = client_for(known)
    location = run(client, "SELECT 1 AS x, 2 AS x")
    exported = json.loads(client.get(location + ".json").data)
    assert exported["rows"] == [{"x": 1, "x_2": 2}]
    assert exported["columns"] == [{"name": "x", "type": "BIGINT"}, {"name": "x", "type": "BIGINT"}]
    arrays = json.loads(client.get(location + ".json?_shape=arrays").data)
    assert arrays["rows"] == [[1, 2]]
    assert client.get(location + ".json?_shape=nope").status_code == 400


def test_the_result_cache_is_bounded_by_bytes() -> None:
    from dendro.store.base import QueryResult, ResultColumn
    from dendro.web.results import ResultCache

    cache = ResultCache(size=16, max_bytes=3_000_000)
    big = QueryResult([ResultColumn("s", "VARCHAR")], [("x" * 1_000_000,)])
    kept = [cache.put("SELECT big", big) for _ in range(5)]
    assert cache.bytes <= 3_000_000
    assert [cache.get(k.id) is not None for k in kept] == [False, False, True, True, True]
    huge = QueryResult([ResultColumn("s", "VARCHAR")], [("x" * 5_000_000,)])
    alone = cache.put("SELECT huge", huge)  # one result over the budget is still kept for its pages
    assert cache.get(alone.id) is not None and all(cache.get(k.id) is None for k in kept)
