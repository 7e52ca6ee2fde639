"""The ingest endpoint over real HTTP: auth, body checks, gzip, commit-before-2xx, the query API."""

from __future__ import annotations

import gzip
import http.client
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dendro.ingest.server import SWITCH_INTERVAL, IngestServer, IngestSettings
from dendro.store.base import QueryError
from dendro.store.local import LocalStore
from dendro.store.remote import RemoteStore
from tests.ingest.conftest import TOKEN, Running
from tests.store.conftest import TABLES, access, known_events


def post(url: str, body: bytes, token: str = TOKEN, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token}", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def ndjson(events: list[dict]) -> bytes:
    return b"\n".join(json.dumps(e).encode() for e in events) + b"\n"


def count(running: Running) -> int:
    return int(running.store.query("SELECT count(*) FROM nginx_access").rows[0][0])


def test_ndjson_and_array_bodies_are_committed_before_200(ingest: Running) -> None:
    status, answer = post(f"{ingest.url}/ingest", ndjson(known_events()))
    assert (status, answer) == (200, {"written": 19, "rejected": 0})
    assert count(ingest) == 19
    status, answer = post(f"{ingest.url}/ingest", json.dumps([access("web-3", 0, 0, 200, 0.1),
                                                              {"type": "zzz"}]).encode())
    assert (status, answer) == (200, {"written": 1, "rejected": 1})
    assert count(ingest) == 20
    assert ingest.store.query("SELECT reason FROM rejected").rows == [("unknown event type 'zzz'",)]


def test_gzip_body(ingest: Running) -> None:
    status, _ = post(f"{ingest.url}/ingest", gzip.compress(ndjson(known_events())),
                     headers={"Content-Encoding": "gzip"})
    assert status == 200
    assert count(ingest) == 19


def test_wrong_token_is_401_and_commits_nothing(ingest: Running) -> None:
    assert post(f"{ingest.url}/ingest", ndjson(known_events()), token="nope")[0] == 401
    assert post(f"{ingest.url}/query", b'{"sql": "SELECT 1"}', token="")[0] == 401
    assert count(ingest) == 0


def test_body_not_json_is_400_and_commits_nothing(ingest: Running) -> None:
    body = ndjson(known_events()) + b"{not json\n"
    status, answer = post(f"{ingest.url}/ingest", body)
    assert status == 400
    assert "line 20: not JSON" in answer["error"]
    assert count(ingest) == 0
    assert post(f"{ingest.url}/ingest", b"\x1f\x8bgarbage", headers={"Content-Encoding": "gzip"})[0] == 400


def test_body_over_the_limit_is_413(ingest: Running) -> None:
    big = ndjson([access("web-1", 0, 0, 200, 0.1) | {"path": "x" * 1000}] * 100)  # about 120 KB
    assert post(f"{ingest.url}/ingest", big)[0] == 413
    bomb = gzip.compress(b" " * (1024 * 1024))  # 1 MB of spaces in 1 KB
    assert post(f"{ingest.url}/ingest", bomb, headers={"Content-Encoding": "gzip"})[0] == 413
    assert count(ingest) == 0


def test_store_that_cannot_commit_is_503(ingest: Running) -> None:
    ingest.store.read_only = True  # writes now raise StoreError, as a full disk would
    try:
        status, answer = post(f"{ingest.url}/ingest", ndjson(known_events()))
    finally:
        ingest.store.read_only = False
    assert status == 503
    assert "read-only" in answer["error"]


def test_healthz_and_query_api_through_remote_store(ingest: Running) -> None:
    with urllib.request.urlopen(f"{ingest.url}/healthz", timeout=5) as response:
        assert response.status == 200
    post(f"{ingest.url}/ingest", ndjson(known_events()))
    remote = RemoteStore(ingest.url, TOKEN, "dendro")
    result = remote.query('SELECT host, min(time) AS t, count(*) AS n FROM "dendro"."nginx_access"'
                          " GROUP BY host ORDER BY host")
    assert [tuple(r) for r in result.rows] == [
        ("web-1", result.rows[0][1], 15), ("web-2", result.rows[1][1], 4)]
    assert result.rows[0][1].isoformat() == "2026-11-26T12:00:00"
    assert "nginx_access" in remote.tables()
    with pytest.raises(QueryError, match="DROP is refused"):
        remote.query("DROP TABLE nginx_access")


def test_blank_lines_are_skipped_and_a_bad_line_is_named(ingest: Running) -> None:
    lines = [json.dumps(access("web-1", 0, i, 200, 0.1)).encode() for i in range(3)]
    body = lines[0] + b"\n\n  \r\n" + lines[1] + b"\r\n" + lines[2]
    assert post(f"{ingest.url}/ingest", body) == (200, {"written": 3, "rejected": 0})
    status, answer = post(f"{ingest.url}/ingest", lines[0] + b"\n\n" + b'{"type": NaN}\n' + lines[1])
    assert status == 400
    assert answer["error"] == "line 3: NaN is not a JSON value"
    assert count(ingest) == 3


def test_small_posts_on_one_keep_alive_connection_are_each_answered(ingest: Running) -> None:
    # an agent posts every second on one connection; how fast each answer comes is measured in
    # benchmarks/bench_ingest.py, not asserted here (timings belong in benchmarks)
    port = int(ingest.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps(access("web-1", 0, 0, 200, 0.1)).encode()
    for _ in range(15):
        connection.request("POST", "/ingest", body=body, headers={"Authorization": f"Bearer {TOKEN}"})
        response = connection.getresponse()
        assert response.status == 200, response.read()
        response.read()
    connection.close()
    assert count(ingest) == 15


def test_the_shorter_switch_interval_lasts_only_while_the_server_runs(tmp_path: Path) -> None:
    before = sys.getswitchinterval()
    store = LocalStore(tmp_path / "switch.duckdb", "dendro", TABLES)
    server = IngestServer(store, IngestSettings(TOKEN, 1024), host="127.0.0.1", port=0)
    try:
        server.start()
        assert sys.getswitchinterval() == pytest.approx(min(before, SWITCH_INTERVAL))  # kept in µs
    finally:
        server.stop()
        store.close()
    assert sys.getswitchinterval() == pytest.approx(before)


def test_a_batch_sent_again_after_it_was_written_is_not_written_twice(ingest: Running) -> None:
    """Vector sends a batch again, byte for byte, when its request timed out or its connection broke
    after the ingest had written it. With the agent's event ids (the ``dendro_outgoing`` remap of
    vector.yaml) the copy is answered 200 and not written; a batch that failed is written when it
    comes again; bodies without ids (an older agent, a script) are always written."""
    with_ids = [dict(e, dendro_id=f"id-{i}") for i, e in enumerate(known_events())]
    body = ndjson(with_ids)
    ingest.store.read_only = True  # the first attempt fails: nothing was written, nothing is known
    try:
        assert post(f"{ingest.url}/ingest", body)[0] == 503
    finally:
        ingest.store.read_only = False
    assert post(f"{ingest.url}/ingest", body) == (200, {"written": 19, "rejected": 0})
    assert post(f"{ingest.url}/ingest", gzip.compress(body), headers={"Content-Encoding": "gzip"}) == (
        200, {"written": 0, "rejected": 0, "copy_of_earlier_batch": True})
    assert count(ingest) == 19
    other = ndjson([dict(e, dendro_id=f"other-{i}") for i, e in enumerate(known_events())])
    assert post(f"{ingest.url}/ingest", other)[1]["written"] == 19
    plain = ndjson(known_events())
    assert post(f"{ingest.url}/ingest", plain)[1]["written"] == 19
    assert post(f"{ingest.url}/ingest", plain)[1]["written"] == 19
    assert count(ingest) == 19 * 4
