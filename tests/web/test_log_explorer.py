"""The logs explorer (issue 18, item 6): ``/logs`` searches the stored events of every log table.

Over the known data of tests/web/data.py (nginx access rows of four hosts, postgres records,
parse errors, one rejected event): a text query over the searched columns the catalog declares,
service, table, host, level (errors, a status class, a level's value) and the time range; newest
first, paged; every row carries all its fields and its raw line; the same search as SQL on the
query page gives the same rows; ``?table=parse_error`` and ``?table=rejected`` show those rows
with their reasons; Dendro's own logs stay one tab away; the home page's link to parse errors
opens them (it opened ingest.log before).
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from dendro.analysis import logsearch
from dendro.services import catalog
from dendro.web.app import create_app
from tests.web.conftest import Known
from tests.web.data import HOSTILE_PATH


def _hits(page: str) -> list[dict[str, str]]:
    """The rows of a page: their table, host, time, level and line, as shown."""
    found = []
    for match in re.finditer(r'<details class="hit[^"]*" data-table="([^"]*)" data-host="([^"]*)">\s*'
                             r"<summary>(.*?)</summary>(.*?)</details>", page, re.S):
        summary = match.group(3)
        time = re.search(r'<span class="t">([^<]*)</span>', summary)
        level = re.search(r'<span class="lvl">(?:<span class="badge[^"]*">([^<]*)</span>)?</span>', summary)
        line = re.search(r'<span class="line">(?:<span class="ctx">(.*?)</span> )?(.*?)</span>$', summary,
                         re.S)
        found.append({
            "table": match.group(1), "host": match.group(2), "time": time.group(1) if time else "",
            "level": (level.group(1) or "") if level else "",
            "line": html.unescape(line.group(2)) if line else "", "body": match.group(4),
            "context": html.unescape(line.group(1) or "") if line else "",
        })
    return found


def _count(known: Known, page: str, table: str, **match: str) -> int:
    """Known events of ``table`` in the range the page searched (it starts at a whole minute)."""
    meta = re.search(r'id="search-meta" data-start="([^"]+)" data-end="([^"]+)"', page)
    assert meta
    start, end = (datetime.fromisoformat(meta.group(i)) for i in (1, 2))
    return sum(
        1 for e in known.events if e.get("type") == table
        and start <= datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) < end
        and all(e.get(k) == v for k, v in match.items())
    )


def _get(client: FlaskClient, **args: str) -> str:
    response = client.get("/logs", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_every_log_table_is_searched_newest_first(client: FlaskClient, known: Known) -> None:
    page = _get(client)
    hits = _hits(page)
    assert len(hits) == 50 and 'rel="next"' in page
    assert {h["table"] for h in _hits(_get(client, range="1h", page="2"))} | {h["table"] for h in hits} >= {
        "nginx_access", "postgres", "parse_error", "rejected"}
    times = [h["time"] for h in hits]
    assert times == sorted(times, reverse=True)
    # one page after another gives every row of the hour once
    later = _get(client, page="2")
    tables = ("nginx_access", "postgres", "parse_error")
    in_hour = sum(_count(known, later, t) for t in tables) + 1  # and the rejected event
    assert len(hits) + len(_hits(later)) == in_hour and 'rel="next"' not in later


def test_the_histogram_counts_every_match_and_its_errors(client: FlaskClient, known: Known) -> None:
    page = _get(client)
    volume = json.loads(html.unescape(re.search(  # type: ignore[union-attr]
        r'<script type="application/json" id="volume-data">(.*?)</script>', page, re.S).group(1)))
    tables = ("nginx_access", "postgres", "parse_error")
    assert sum(volume["n"]) == sum(_count(known, page, t) for t in tables) + 1  # and the rejected event
    errors = _get(client, level="errors")
    assert sum(volume["errors"]) == len(_hits(errors))
    assert volume["step"] == 60 and len(volume["x"]) == len(volume["n"])
    narrowed = _get(client, q="garbage")
    assert 'id="volume-total">2<' in narrowed


def test_text_query_searches_the_declared_columns(client: FlaskClient) -> None:
    garbage = _hits(_get(client, q="GARBAGE"))  # any case
    assert [h["table"] for h in garbage] == ["parse_error", "parse_error"]
    assert garbage[0]["line"] == "garbage <line> 0"
    by_path = _hits(_get(client, q="<script>"))  # the path column of the access table
    assert [h["table"] for h in by_path] == ["nginx_access"]
    body = by_path[0]["body"]
    assert HOSTILE_PATH not in body and f"<pre class=\"msg\">{HOSTILE_PATH}</pre>" in html.unescape(body)
    assert [h["level"] for h in _hits(_get(client, q="fatal number"))] == ["FATAL"]  # postgres message


def test_filters_host_level_service_table(client: FlaskClient, known: Known) -> None:
    page = _get(client, host="web-2")
    web2 = _hits(page)
    assert len(web2) == _count(known, page, "nginx_access", host="web-2")
    assert {h["host"] for h in web2} == {"web-2"}
    fives = _hits(_get(client, level="5xx"))
    assert sorted(h["level"] for h in fives) == ["500", "503"]
    page = _get(client, level="errors")
    errors = _hits(page)
    expected = sum(_count(known, page, "postgres", level=level) for level in ("ERROR", "FATAL")) + 2
    assert len(errors) == expected and {h["table"] for h in errors} == {"nginx_access", "postgres"}
    assert all("is-error" in re.search(r'class="hit([^"]*)"', e)[1] for e in  # type: ignore[index]
               re.findall(r'<details class="hit[^"]*"', _get(client, level="errors")))
    warn = _hits(_get(client, level="fatal"))  # a level's value, any case
    assert [h["line"] for h in warn] == ["fatal number 0"]
    page = _get(client, service="postgres")
    postgres = _hits(page)
    assert {h["table"] for h in postgres} == {"postgres"} and len(postgres) == _count(known, page, "postgres")
    table = _hits(_get(client, table="nginx_access", level="errors", host="web-1"))
    assert len(table) == 2


def test_time_range(client: FlaskClient, known: Known) -> None:
    page = _get(client, range="15m", table="nginx_access")
    assert len(_hits(page)) == _count(known, page, "nginx_access")
    start = (known.now - timedelta(minutes=31)).strftime("%Y-%m-%dT%H:%M:%S")
    end = (known.now - timedelta(minutes=29)).strftime("%Y-%m-%dT%H:%M:%S")
    window = _hits(_get(client, range="custom", start=start, end=end, table="nginx_access", host="web-1"))
    assert len(window) == 15  # the half-hour burst: 10 requests, the hostile one, 4 formulas
    bad = _get(client, range="custom", start="yesterday", end="now")
    assert "is not a date and time" in bad


def test_each_row_has_every_field_and_its_raw_line(client: FlaskClient) -> None:
    row = _hits(_get(client, level="5xx"))[0]
    assert row["level"] == "503" and row["line"] == '10.0.0.1 - - "GET /api/orders HTTP/1.1" 503 512'
    fields = dict(re.findall(r"<tr><th>([^<]*)</th><td><pre class=\"msg\">([^<]*)</pre>", row["body"]))
    assert fields["status"] == "503" and fields["path"] == "/api/orders" and fields["duration"] == "0.6"
    assert fields["user_agent"] == "curl/8.5.0" and "message" in fields
    assert '<pre class="raw">' in row["body"]
    plain = _hits(_get(client, host="web-2"))[0]  # no raw line kept (a 200): its fields as key=value
    assert plain["line"].startswith("method=GET protocol=HTTP/1.1 path=/api/orders")


def test_the_same_search_as_sql(client: FlaskClient, known: Known) -> None:
    page = _get(client, level="errors", q="number")
    link = html.unescape(re.search(r'<a id="as-sql" href="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    assert urlsplit(link).path == "/query"
    sql = parse_qs(urlsplit(link).query)["sql"][0]
    rows = known.store.query(sql).dicts()
    assert [r["message"] for r in rows] == [h["line"] for h in _hits(page)]
    editor = client.get(link).get_data(as_text=True)
    area = re.search(r'<textarea name="sql" id="sql"[^>]*>(.*?)</textarea>', editor, re.S)
    assert area and html.unescape(area.group(1)) == sql


def test_parse_errors_and_rejected_events_with_their_reasons(client: FlaskClient) -> None:
    parse_errors = _get(client, table="parse_error")
    rows = _hits(parse_errors)
    assert len(rows) == 2 and all("no match" in r["body"] for r in rows)
    # the reason and the source are in sight, beside the raw line
    assert rows[0]["context"] == 'source=nginx_access_log error="no match"'
    assert rows[0]["line"] == "garbage <line> 0"
    rejected = _hits(_get(client, table="rejected"))
    assert len(rejected) == 1 and "unknown event type" in rejected[0]["line"]


def test_the_home_page_links_to_the_parse_errors(client: FlaskClient) -> None:
    home = client.get("/").get_data(as_text=True)
    links = re.findall(r'href="(/logs\?[^"]*)">see them', home)
    parse_errors = next(html.unescape(link) for link in links if "parse_error" in link)
    page = client.get(parse_errors).get_data(as_text=True)
    assert [h["table"] for h in _hits(page)] == ["parse_error", "parse_error"]
    assert "garbage &lt;line&gt; 0" in page


def test_dendro_s_own_logs_are_one_more_source(known: Known, tmp_path: Path) -> None:
    (tmp_path / "ingest.log").write_text("summary: 12 events from 2 agents\n", encoding="utf-8")
    client = create_app(known.config, known.store, log_dir=tmp_path).test_client()
    explorer = _get(client)
    assert 'href="/logs?source=dendro"' in explorer
    own = _get(client, source="dendro")
    assert "summary: 12 events from 2 agents" in own and "ingest.log" in own


class _WithoutParseErrors:
    """The known store as one that has no parse_error table yet (a remote store before its first)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def tables(self) -> list[str]:
        return [t for t in self._store.tables() if t != "parse_error"]


def test_a_store_without_the_table_yet_says_so(known: Known) -> None:
    """The home page's link to parse errors still opens, and says there is nothing yet."""
    client = create_app(known.config, _WithoutParseErrors(known.store)).test_client()  # type: ignore[arg-type]
    page = _get(client, table="parse_error")
    assert 'id="nothing"' in page and "No event yet" in page and not _hits(page)
    assert _hits(_get(client, table="nginx_access"))


def test_unknown_table_or_service_is_a_404(client: FlaskClient) -> None:
    assert client.get("/logs?table=nope").status_code == 404
    assert client.get("/logs?service=nope").status_code == 404


def test_what_is_searched_comes_from_the_catalog() -> None:
    """The text query reads the columns the catalog marks searched: an access table's path and raw
    line, a database's statement and message, never a dimension such as the host.

    It is ``strpos(lower(column), 'text') > 0``: both functions are in the Amazon Timestream
    Developer Guide's string functions (docs.aws.amazon.com/timestream/latest/developerguide/
    string-functions.html: ``lower(x)``, ``strpos(x1, x2)`` "Returns the starting position of the
    first instance of x2 in x1 ... If not found, 0 is returned"), as in Trino; DuckDB runs it here."""
    views = {v.table.name: v for s in catalog().values() for v in s.log_views}
    access = next(v for v in views.values() if v.status)
    assert {"path", "message"} <= set(access.search) and "host" not in access.search
    assert any("statement" in v.search for v in views.values())
    source = logsearch.Source("svc", access)
    start = datetime(2026, 11, 26, 12, tzinfo=UTC)
    search = logsearch.Search(start, start + timedelta(hours=1), text="x", level="5xx")
    sql = logsearch.search_sql("db", [source], search, 10) or ""
    assert "strpos(lower(\"path\"), 'x') > 0" in sql and '"status" BETWEEN 500 AND 599' in sql

