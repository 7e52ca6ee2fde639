"""Every page and API route over a local store of known data: the numbers shown are the data's."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient

from dendro.analysis.ranges import epoch as _epoch
from tests.web.conftest import Known

HOUR, FIVE_MIN = 3600, 300


def _cell(page: str, table: str, cls: str) -> str:
    row = re.search(rf'<tr data-table="{table}".*?</tr>', page, re.S)
    assert row, f"no row for {table}"
    found = re.search(rf'class="num {cls}">([^<]*)<', row.group(0))
    assert found
    return found.group(1).replace(",", "")


def test_home_counts_equal_the_data(client: FlaskClient, known: Known) -> None:
    page = client.get("/").get_data(as_text=True)
    for table in ("nginx_access", "postgres", "host"):
        assert int(_cell(page, table, "last-5m")) == known.count_now(table, FIVE_MIN)
        assert int(_cell(page, table, "last-1h")) == known.count_now(table, HOUR)
    assert re.search(r'id="rejected-1h">1<', page)
    assert re.search(rf'id="parse-errors-1h">{known.count_now("parse_error", HOUR)}<', page)
    assert 'href="/charts/nginx"' in page


def test_home_api(client: FlaskClient, known: Known) -> None:
    body = client.get("/api/home").get_json()
    tables = {t["table"]: t for t in body["tables"]}
    assert tables["nginx_access"]["last_5m"] == known.count_now("nginx_access", FIVE_MIN)
    assert known.count("nginx_access", FIVE_MIN) == 13  # when the data was written
    assert tables["nginx_access"]["last_24h"] == known.count("nginx_access", 86400)
    assert tables["nginx_error"]["last_1h"] == 0 and tables["nginx_error"]["last_time"] is None
    assert body["rejected_last_hour"] == 1 and body["parse_errors_last_hour"] == 2
    assert body["services"] == ["nginx", "postgres", "host"]


def test_agents_page_and_api(client: FlaskClient, known: Known) -> None:
    body = client.get("/api/agents").get_json()
    hosts = {h["host"]: h for h in body["hosts"]}
    assert set(hosts) == {"web-1", "web-2", "web-3", "web-old", "db-1"}
    assert hosts["web-old"]["silent"] and not hosts["web-1"]["silent"]
    assert body["hosts"][0]["host"] == "web-old"  # silent hosts first
    assert hosts["web-1"]["tables"]["nginx_access"] == known.count("nginx_access", 7 * 86400, host="web-1")
    assert hosts["web-1"]["agent_version"] == "0.42.0"
    page = client.get("/agents").get_data(as_text=True)
    assert re.search(r'<tr data-host="web-old" class="silent">', page)
    assert "5 host(s)" in page and "1 silent" in page


def test_alerts_state_from_the_data(client: FlaskClient, known: Known) -> None:
    states = {a["name"]: a for a in client.get("/api/alerts").get_json()}
    ratio = states["nginx_error_ratio"]
    # web-1: 2 of its 6 requests of the last 5 minutes were 5xx, none before: pending for its 10m
    assert ratio["state"] == "pending"
    assert ["web-1", "33.33%"] in ratio["values"]
    assert states["postgres_fatal"]["state"] == "firing"
    assert states["postgres_fatal"]["cause"]["line"] == "fatal number 0"  # the line behind the alert
    assert states["postgres_fatal"]["cause"]["host"] == "db-1"
    five = states["nginx_5xx"]["cause"]  # the newest 5xx of the data: web-1's 503
    assert five["host"] == "web-1" and five["line"].endswith('"GET /api/orders HTTP/1.1" 503 512')
    assert states["host_memory"]["cause"] is None
    assert ["db-1", "1"] in states["postgres_fatal"]["values"]
    assert ["db-1", "3"] in states["postgres_error"]["values"]
    assert states["host_memory"]["state"] == "ok" and ["web-1", "25.00%"] in states["host_memory"]["values"]
    assert states["agent_silent"]["state"] == "firing"
    anomaly = states["nginx_rate_anomaly"]  # a request a minute at most: under the 1 request/s guard
    assert anomaly["state"] == "ok" and "4 host(s) under 1 requests/s" in anomaly["detail"]
    page = client.get("/alerts").get_data(as_text=True)
    assert re.search(r'data-rule="nginx_error_ratio" data-state="pending"', page)
    assert "<pre>fatal number 0</pre>" in page
    assert "&gt; 5%" in page  # the threshold of the rule model


def test_charts_api_rates_equal_the_counts(client: FlaskClient, known: Known) -> None:
    body = client.get("/api/charts/nginx?range=6h").get_json()
    step = body["range"]["step"]
    charts = {c["id"]: c for c in body["charts"]}
    rate = charts["nginx_access-rate"]
    series = {s["label"]: s["values"] for s in rate["series"]}
    # a rate is events over the seconds of its bin with data (a partial bin's are fewer); a bin
    # the data began in and covered under a quarter is left out, with its events
    covered = rate["covered"]
    left_out = [i for i, v in enumerate(series["total"]) if v is None and covered[i] > 0]
    assert all(covered[i] < step / 4 for i in left_out)
    drawn = {b for i, b in enumerate(rate["x"]) if i not in left_out}
    events = [e for e in known.events if e["type"] == "nginx_access"
              and int(_epoch(e["timestamp"])) // step * step in drawn]
    assert round(sum((v or 0) * c for v, c in zip(series["total"], covered, strict=True))) == len(events)
    assert round(sum((v or 0) * c for v, c in zip(series["5xx"], covered, strict=True))) == len(
        [e for e in events if e["status"] >= 500])
    assert rate["baseline"] is not None and rate["forecast"] is not None
    assert len(rate["baseline"]["lower"]) == len(rate["x"])
    latency = charts["nginx_access-latency"]
    assert [s["label"] for s in latency["series"]] == ["p50", "p95", "p99"]
    assert "nginx_access-errors" in charts


def test_charts_api_one_hour_has_outliers_and_forecast(client: FlaskClient) -> None:
    rate = client.get("/api/charts/nginx?range=1h").get_json()["charts"][0]
    assert rate["baseline"]["outliers"], "the burst of 15 requests half an hour ago is outside the band"
    forecast = rate["forecast"]
    assert all(
        lo <= m <= hi
        for lo, m, hi in zip(forecast["lower"], forecast["mean"], forecast["upper"], strict=True)
    )
    # it starts at the last bin judged: the last one is still filling (partial, or left out while
    # it holds under a quarter of its minute)
    last = len(rate["x"]) - 1
    assert last in rate["partial"] or rate["series"][-1]["values"][last] is None
    assert set(rate["partial"]) <= {0, last}  # the first bin too, when the data began in it
    assert forecast["x"][0] == rate["x"][-2]


def test_host_charts_and_disk_time_to_full(client: FlaskClient, known: Known) -> None:
    from tests.web.data import DISK_GROWTH_PER_MIN, DISK_TOTAL

    body = client.get("/api/charts/host?range=1h").get_json()
    charts = {c["id"]: c for c in body["charts"]}
    assert {"host-cpu", "host-memory", "host-load", "host-disk", "host-disks"} <= set(charts)
    cpu = [v for v in charts["host-cpu"]["series"][0]["values"] if v is not None]
    assert cpu and all(abs(v - 25.0) < 1e-6 for v in cpu)  # 15 s user of 60 s each minute
    disk = charts["host-disks"]["disks"][0]
    assert disk["host"] == "web-1" and disk["mountpoint"] == "/"
    assert abs(disk["bytes_per_hour"] - DISK_GROWTH_PER_MIN * 60) < 1
    expected = (DISK_TOTAL - disk["used_bytes"]) / (DISK_GROWTH_PER_MIN / 60)
    assert abs(disk["full_in_seconds"] - expected) < 1


def test_charts_pages_and_bad_range(client: FlaskClient) -> None:
    for name in ("nginx", "postgres", "host"):
        page = client.get(f"/charts/{name}").get_data(as_text=True)
        assert f'data-api="/api/charts/{name}"' in page and "uPlot.iife.min.js" in page
    assert client.get("/charts/nope").status_code == 404
    bad = client.get("/api/charts/nginx?range=custom&start=2026-01-02&end=2026-01-01")
    assert bad.status_code == 400 and "after its start" in bad.get_json()["error"]
    custom = client.get("/api/charts/postgres?range=custom&start=2020-01-01T00:00&end=2020-01-01T06:00")
    assert custom.status_code == 200
    assert all(v is None for v in custom.get_json()["charts"][0]["series"][-1]["values"])  # no data: gaps


def test_services_api(client: FlaskClient) -> None:
    services = {s["name"]: s for s in client.get("/api/services").get_json()}
    assert "nginx_access" in services["nginx"]["tables_present"]


def test_static_vendor_files_are_served(client: FlaskClient) -> None:
    for path in (
        "vendor/uplot/uPlot.iife.min.js",
        "vendor/codemirror/codemirror.js",
        "vendor/codemirror/mode/sql/sql.js",
        "charts.js",
        "console.css",
    ):
        response = client.get(f"/static/{path}")
        assert response.status_code == 200 and len(response.data) > 1000
        response.close()


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unescaped_text_never_reaches_a_page(client: FlaskClient) -> None:
    page = client.get("/logs?table=parse_error").get_data(as_text=True)
    assert "garbage &lt;line&gt; 0" in page and "garbage <line>" not in page
    assert html.escape("<line>") in page
