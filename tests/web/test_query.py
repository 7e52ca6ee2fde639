"""The query page: run, page, export CSV and JSON of the whole result; hostile data; writes refused."""

from __future__ import annotations

import csv
import io
import json

from flask.testing import FlaskClient

from tests.web.conftest import Known, csrf
from tests.web.data import FORMULAS, HOSTILE_AGENT, HOSTILE_PATH

ALL_WEB1 = (
    "SELECT time, path, status, user_agent, referer FROM nginx_access WHERE host = 'web-1' ORDER BY time"
)


def _run(client: FlaskClient, sql: str) -> str:
    response = client.post("/query", data={"sql": sql, "csrf_token": csrf(client)})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def test_run_page_and_export(client: FlaskClient, known: Known) -> None:
    location = _run(client, ALL_WEB1)
    page = client.get(location).get_data(as_text=True)
    rows = known.count("nginx_access", 7 * 86400, host="web-1")
    assert f"{rows} row(s)" in page
    result_id = location.rsplit("/", 1)[1]
    exported = client.get(f"/query/{result_id}.csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in exported.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert table[0] == ["time", "path", "status", "user_agent", "referer"]
    assert len(table) == rows + 1
    body = json.loads(client.get(f"/query/{result_id}.json").get_data(as_text=True))
    assert len(body["rows"]) == rows and body["columns"][2] == {"name": "status", "type": "BIGINT"}
    assert client.get(f"/query/{result_id}.xml").status_code == 404


def test_paging_over_a_kept_result(client: FlaskClient, known: Known) -> None:
    location = _run(client, "SELECT name, value FROM host ORDER BY time, name")
    total = known.count("host", 7 * 86400)
    first = client.get(location).get_data(as_text=True)
    assert f"Page 1 of {-(-total // 100)}" in first
    last = client.get(f"{location}?page=99").get_data(as_text=True)
    assert f'<td class="num dim">{total}</td>' in last
    assert client.get("/query/unknown-id").status_code == 404


def test_hostile_values_are_escaped_and_neutralised(client: FlaskClient) -> None:
    location = _run(client, ALL_WEB1)
    page = client.get(location).get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page and "&#34;quoted&#34;" in page
    result_id = location.rsplit("/", 1)[1]
    rows = list(csv.DictReader(io.StringIO(client.get(f"/query/{result_id}.csv").get_data(as_text=True))))
    agents = {r["user_agent"] for r in rows}
    assert HOSTILE_AGENT in agents  # quotes survive CSV quoting intact
    assert {"'" + f for f in FORMULAS} <= agents and not agents & set(FORMULAS)
    assert {"'" + f for f in FORMULAS} <= {r["referer"] for r in rows}
    assert HOSTILE_PATH in {r["path"] for r in rows}
    assert all(not r["status"].startswith("'") for r in rows)


def test_negative_numbers_stay_numbers_in_csv(client: FlaskClient) -> None:
    location = _run(client, "SELECT -5 AS n, '-5' AS s")
    result_id = location.rsplit("/", 1)[1]
    text = client.get(f"/query/{result_id}.csv").get_data(as_text=True)
    assert text.splitlines() == ["n,s", "-5,'-5"]


def test_a_writing_query_is_refused_next_to_the_query(client: FlaskClient, known: Known) -> None:
    before = known.store.query("SELECT count(*) FROM nginx_access").rows[0][0]
    for sql in ("DELETE FROM nginx_access", "DROP TABLE nginx_access", "INSERT INTO agent VALUES (1)"):
        response = client.post("/query", data={"sql": sql, "csrf_token": csrf(client)})
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert 'id="query-error"' in page and ("not allowed" in page or "refused" in page)
        assert "<textarea" in page and sql.split()[0] in page  # the query stays in the editor
    assert known.store.query("SELECT count(*) FROM nginx_access").rows[0][0] == before


def test_bad_sql_shows_the_store_message(client: FlaskClient) -> None:
    response = client.post(
        "/query", data={"sql": "SELECT nope FROM nginx_access", "csrf_token": csrf(client)}
    )
    assert response.status_code == 400 and "nope" in response.get_data(as_text=True)


def test_query_page_offers_examples(client: FlaskClient, known: Known) -> None:
    page = client.get("/query").get_data(as_text=True)
    assert "nginx 500s of the last 2 hours" in page and "PostgreSQL errors by database" in page
    assert "codemirror.js" in page
    # only the configured services' (nginx, postgres, host), though the store has every table
    assert "HAProxy" not in page and "Redis" not in page and "haproxy_access" in known.store.tables()


def test_examples_run_on_the_local_store(client: FlaskClient, known: Known) -> None:
    from dendro.analysis.queries import examples

    for title, sql in examples(known.config.database, known.store.tables()):
        response = client.post("/api/query", json={"sql": sql}, headers={"X-CSRF-Token": csrf(client)})
        assert response.status_code == 200, (title, response.get_json())
    five_hundreds = examples(known.config.database, known.store.tables())[0][1]
    body = client.post(
        "/api/query", json={"sql": five_hundreds}, headers={"X-CSRF-Token": csrf(client)}
    ).get_json()
    assert body["total_rows"] == known.count("nginx_access", 7200, status=500) + known.count(
        "nginx_access", 7200, status=503
    )


def test_query_api(client: FlaskClient, known: Known) -> None:
    token = csrf(client)
    body = client.post(
        "/api/query",
        json={"sql": "SELECT host, count(*) AS n FROM postgres GROUP BY host"},
        headers={"X-CSRF-Token": token},
    ).get_json()
    assert body["rows"] == [["db-1", known.count("postgres", 86400)]]
    assert body["export"]["csv"].endswith(".csv")
    again = client.get(f"/api/query/{body['id']}").get_json()
    assert again["rows"] == body["rows"]
    refused = client.post("/api/query", json={"sql": "DELETE FROM postgres"}, headers={"X-CSRF-Token": token})
    assert refused.status_code == 400 and "DELETE is refused" in refused.get_json()["error"]


def test_post_without_csrf_token_is_refused(client: FlaskClient) -> None:
    assert client.post("/query", data={"sql": "SELECT 1"}).status_code == 400
    csrf(client)
    assert client.post("/query", data={"sql": "SELECT 1", "csrf_token": "forged"}).status_code == 400
    # a form's body (which any page can post cross-site) needs the token on the API too; a JSON
    # body (which needs a CORS preflight) does not: tests/web/test_hostile_console.py, item 15
    assert client.post("/api/query", data={"sql": "SELECT 1"}).status_code == 400
    assert client.post("/api/query", data='{"sql": "SELECT 1"}', content_type="text/plain").status_code == 400
