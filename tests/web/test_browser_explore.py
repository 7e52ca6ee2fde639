"""Issue 18, items 6–10 in a real headless Chromium over a console of designed data.

The data: half an hour of one request a second on web-1 (one request in 25 takes 1.3 s), after
half an hour of nothing; ten minutes ago a burst of 503s from web-2; an nginx error line every two
minutes. On the 1 h charts: the empty half hour is a gap, the baseline never goes below 0, the
latency axis has one unit, the still-filling bin is never judged, every panel has the same time
axis; a click on the burst's red dot opens the logs of nginx_access in that minute. The logs
explorer searches, filters, opens a row and links to the same search as SQL; a query result with
a time column is drawn under its table, numbers right-aligned, times on one line. Screenshots in
test-artifacts/console/ (looked at while writing these tests).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from dendro.config import from_dict
from dendro.runtime.datadir import DataDir
from dendro.runtime.stores import open_store
from dendro.web.app import ConsoleServer, create_app
from tests.support import free_port, wait_for_port
from tests.web.test_browser import ARTIFACTS, Page, browser  # noqa: F401  (the Chromium fixture)

pytestmark = pytest.mark.real
BURST_MINUTES_AGO = 10


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _access(at: datetime, host: str, status: int, duration: float) -> dict[str, Any]:
    return {
        "type": "nginx_access", "host": host, "timestamp": _stamp(at), "method": "GET",
        "protocol": "HTTP/1.1", "status": status, "path": f"/api/items/{int(at.timestamp()) % 97}",
        "bytes": 2048, "duration": duration, "client_ip": "10.1.2.3", "user_agent": "k6/0.50",
        "message": f'10.1.2.3 - - "GET /api HTTP/1.1" {status} 2048' if status >= 500 else None,
    }


def designed(now: datetime) -> tuple[list[dict[str, Any]], datetime]:
    events = []
    start = now - timedelta(minutes=30)
    for second in range(30 * 60):
        at = start + timedelta(seconds=second)
        events.append(_access(at, "web-1", 200, 1.3 if second % 25 == 0 else 0.04 + (second % 7) * 0.002))
    burst = (now - timedelta(minutes=BURST_MINUTES_AGO)).replace(second=0, microsecond=0)
    events += [_access(burst + timedelta(seconds=5 + i * 0.1), "web-2", 503, 0.2) for i in range(240)]
    for minute in range(0, 30, 2):
        events.append({
            "type": "nginx_error", "host": "web-1", "level": "error", "pid": 4242, "client_ip": "10.1.2.3",
            "timestamp": _stamp(start + timedelta(minutes=minute, seconds=7)),
            "message": f"*{minute} upstream timed out (110: Connection timed out) while reading the response",
        })
    return events, burst


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, datetime]]:
    directory = tmp_path_factory.mktemp("explore-store")
    config = from_dict({"services": {"nginx": {}}, "local": {"data_dir": str(directory)}})
    store = open_store(config, DataDir(directory))
    events, burst = designed(datetime.now(UTC))
    assert not store.write(events).rejected
    port = free_port()
    server = ConsoleServer(create_app(config, store, log_dir=directory), "127.0.0.1", port)
    server.start()
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}", burst
    server.stop()
    store.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _series(page: Any, chart: str, label: str) -> list[float | None]:
    return page.evaluate(
        "([id, label]) => { const u = window.dendroPlots[id];"
        " const i = u.series.findIndex(s => s.label === label); return Array.from(u.data[i]); }",
        [chart, label],
    )


def _open_charts(browser: Any, base: str) -> tuple[Page, Any]:  # noqa: F811
    tab = Page(browser)
    page = tab.page
    page.goto(f"{base}/charts/nginx?range=1h", wait_until="networkidle")
    page.wait_for_selector("#chart-nginx_access-rate .uplot canvas", timeout=15_000)
    page.wait_for_function("document.getElementById('status').textContent.startsWith('From')")
    return tab, page


def _assert_round_ticks(page: Any) -> None:
    """Every chart's y ticks step by 1, 2, 2.5 or 5 × 10^k of its axis' unit (a KiB/s axis once
    ticked 1.953125, 3.906250…)."""
    for chart_id, drawn in page.eval_on_selector_all(
        "section.chart[data-y-ticks]", "els => els.map(e => [e.id, e.dataset.yTicks])"
    ):
        values = [float(t) for t in drawn.split("|")]
        if len(values) > 1:
            gap = values[1] - values[0]
            mantissa = gap / 10 ** math.floor(math.log10(gap))
            assert any(abs(mantissa - m) < 1e-6 for m in (1, 2, 2.5, 5, 10)), (chart_id, values)


def test_charts_share_one_time_axis_and_invent_nothing(browser: Any, console: tuple[str, datetime]) -> None:  # noqa: F811
    tab, page = _open_charts(browser, console[0])
    _shot(page, "explore-charts-nginx")
    axes = page.eval_on_selector_all(
        "section.chart[data-x-min]", "els => els.map(e => [e.id, e.dataset.xMin, e.dataset.xMax])"
    )
    ids = {a[0] for a in axes}
    assert {"chart-nginx_access-rate", "chart-nginx_access-latency", "chart-nginx_error-events"} <= ids
    assert len({(a[1], a[2]) for a in axes}) == 1, axes  # forecast panels do not stretch theirs alone
    total = _series(page, "nginx_access-rate", "total")
    assert all(v is None for v in total[:25]), total[:30]  # the empty half hour is a gap, not 0
    assert sum(v is not None for v in total[30:62]) >= 25
    low = [v for v in _series(page, "nginx_access-rate", "baseline low") if v is not None]
    assert low and min(low) >= 0
    errors_high = [v for v in _series(page, "nginx_access-errors", "baseline high") if v is not None]
    assert errors_high and max(errors_high) <= 100
    latency = page.locator("#chart-nginx_access-latency")
    ticks = latency.get_attribute("data-y-ticks").split("|")
    assert latency.get_attribute("data-unit") == "s"
    assert all(re.fullmatch(r"\d+(\.\d+)?", t) for t in ticks), ticks  # numbers: the unit labels the axis
    _assert_round_ticks(page)
    outliers = _series(page, "nginx_access-rate", "outside baseline")
    bins = page.evaluate("() => window.dendroPlots['nginx_access-rate'].data[0].length")
    last_bin = len(total) - 1 - (bins - len(total))  # the range's last bin (the forecast's follow it)
    assert outliers[last_bin] is None  # the still-filling bin is never judged
    assert tab.errors == []
    page.close()


def test_a_click_on_the_red_dot_opens_the_logs_of_that_minute(
    browser: Any, console: tuple[str, datetime]  # noqa: F811
) -> None:
    base, burst = console
    tab, page = _open_charts(browser, base)
    outliers = _series(page, "nginx_access-rate", "outside baseline")
    times = page.evaluate("() => Array.from(window.dendroPlots['nginx_access-rate'].data[0])")
    spike = times.index(int(burst.timestamp()))
    assert outliers[spike] is not None, "the burst is outside the baseline"
    x, y = page.evaluate(
        "([i, v]) => { const u = window.dendroPlots['nginx_access-rate'];"
        " const r = u.over.getBoundingClientRect();"
        " return [r.left + u.valToPos(u.data[0][i], 'x'), r.top + u.valToPos(v, 'y')]; }",
        [spike, outliers[spike]],
    )
    with page.expect_navigation():
        page.mouse.click(x, y)
    query = parse_qs(urlsplit(page.url).query)
    assert urlsplit(page.url).path == "/logs"
    assert query["service"] == ["nginx"] and query["table"] == ["nginx_access"]
    assert query["start"] == [burst.strftime("%Y-%m-%dT%H:%M:%S")]
    assert query["end"] == [(burst + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")]
    page.wait_for_selector("#hits details")
    _shot(page, "explore-logs-from-chart")
    times_shown = page.eval_on_selector_all("#hits summary .t", "els => els.map(e => e.textContent)")
    minute = burst.strftime("%Y-%m-%d %H:%M")
    assert times_shown and all(t.startswith(minute) for t in times_shown)
    levels = page.eval_on_selector_all("#hits summary .lvl", "els => els.map(e => e.textContent.trim())")
    assert "503" in levels
    assert tab.errors == []
    page.close()


def test_the_log_explorer_searches_opens_a_row_and_links_its_sql(
    browser: Any, console: tuple[str, datetime]  # noqa: F811
) -> None:
    tab = Page(browser)
    page = tab.open(console[0] + "/logs", "explore-logs")
    assert page.locator("#hits details").count() == 50 and page.locator("a[rel=next]").count() == 1
    page.wait_for_selector("#volume .uplot canvas")
    # a bar a minute of the hour, plus the filling minute once it covers a quarter of it (charts rule)
    assert page.locator("#volume").get_attribute("data-bins") in ("60", "61")
    box = page.locator("#volume .u-over").bounding_box()
    with page.expect_navigation():  # dragging across the bars searches that stretch of time
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + 20)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + 20, steps=5)
        page.mouse.up()
    assert parse_qs(urlsplit(page.url).query)["range"] == ["custom"]
    assert page.locator("#hits details").count() > 0
    page.goto(console[0] + "/logs")
    page.fill("#q", "TIMED OUT")
    page.click("form.log-search button[type=submit]")
    page.wait_for_selector("#hits details")
    assert page.locator("#hits details").count() == 15
    tables = page.eval_on_selector_all("#hits details", "els => els.map(e => e.dataset.table)")
    assert set(tables) == {"nginx_error"}
    page.locator("#hits details summary").first.click()
    body = page.locator("#hits details[open] .hit-body")
    assert body.is_visible() and "upstream timed out" in body.locator("pre.raw").inner_text()
    assert body.locator("table.fields th", has_text="pid").count() == 1
    _shot(page, "explore-logs-row-open")
    page.fill("#q", "")
    page.fill("#level", "5xx")
    page.select_option("#table", "nginx_access")
    page.click("form.log-search button[type=submit]")
    page.wait_for_selector("#hits details")
    levels = page.eval_on_selector_all("#hits summary .lvl", "els => els.map(e => e.textContent.trim())")
    assert set(levels) == {"503"}
    _shot(page, "explore-logs-5xx")
    page.click("#as-sql")
    page.wait_for_selector(".CodeMirror")
    page.click("#run")
    page.wait_for_selector("#result")
    assert page.locator("#result tbody tr").count() == 50
    assert page.locator("#result-chart").count() == 0  # rows of events, not series: no chart
    _shot(page, "explore-logs-as-sql")
    page.screenshot(path=str(ARTIFACTS / "explore-logs-as-sql-top.png"))
    assert tab.errors == []
    page.close()


def test_a_time_series_result_is_drawn_under_its_table(browser: Any, console: tuple[str, datetime]) -> None:  # noqa: F811
    tab = Page(browser)
    page = tab.open(console[0] + "/query", "explore-query-editor")
    page.evaluate(
        "sql => window.dendroEditor.setValue(sql)",
        "SELECT bin(time, 1m) AS minute, host, count(*) AS requests, avg(duration) AS mean_duration\n"
        "FROM nginx_access WHERE time > ago(1h) GROUP BY 1, 2 ORDER BY 1, 2",
    )
    page.click("#run")
    page.wait_for_selector("#result-chart .uplot canvas")
    _shot(page, "explore-query-chart")
    chart = page.locator("#result-chart")
    assert chart.get_attribute("data-series") == "4"  # requests and mean_duration of web-1 and web-2
    assert chart.get_attribute("data-axes") == "2"  # the durations on their own axis
    legend = chart.locator(".u-legend").inner_text()
    assert "web-1 requests" in legend and "web-2 mean_duration" in legend
    number = page.locator("#result tbody tr").first.locator("td.number").first
    assert number.evaluate("e => getComputedStyle(e).textAlign") == "right"
    when = page.locator("#result tbody tr").first.locator("td.time")
    assert when.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    line = page.locator("#result tbody tr").first.locator("td").nth(2)  # host: one line of text
    assert when.evaluate("e => e.getBoundingClientRect().height") <= line.evaluate(
        "e => e.getBoundingClientRect().height") + 1
    no_time = "SELECT host, count(*) FROM nginx_access GROUP BY 1"
    page.evaluate("sql => window.dendroEditor.setValue(sql)", no_time)
    page.click("#run")
    page.wait_for_selector("#result")
    assert page.locator("#result-chart").count() == 0  # no time column: a table only
    assert tab.errors == []
    page.close()


def test_a_bytes_axis_ticks_at_round_numbers_of_its_unit(browser: Any, console: tuple[str, datetime]) -> None:  # noqa: F811
    """A chart in bytes/s drawn in KiB/s (its axis' factor 1/1024) ticked at round byte values
    shown as 1.953125, 3.906250, 5.859375 KiB/s. The page's charts API answer is given one such
    chart (Apache's bytes sent, 2,600 to 6,700 bytes/s) and its ticks must be round in KiB/s."""
    import json

    tab = Page(browser)
    page = tab.page

    def with_bytes_chart(route: Any) -> None:
        answer = route.fetch()
        body = answer.json()
        x = body["charts"][0]["x"]
        sent = [2600 + 70 * i for i in range(len(x))]
        body["charts"].append({"id": "bytes-sent", "title": "Bytes sent per second", "unit": "bytes/s",
                               "axis": {"unit": "KiB/s", "factor": 1 / 1024}, "x": x,
                               "series": [{"label": "web-1", "values": sent}]})
        route.fulfill(response=answer, body=json.dumps(body))

    page.route("**/api/charts/nginx*", with_bytes_chart)
    page.goto(f"{console[0]}/charts/nginx?range=1h", wait_until="networkidle")
    page.wait_for_selector("#chart-bytes-sent .uplot canvas", timeout=15_000)
    ticks = [float(t) for t in page.locator("#chart-bytes-sent").get_attribute("data-y-ticks").split("|")]
    assert len(ticks) >= 3 and all(t == round(t) for t in ticks), ticks
    assert tab.errors == []
    page.close()
