"""A real headless Chromium over a running console: every page loads, charts draw data points, a
query runs and its CSV downloads, and no page logs a JavaScript error. Screenshots are kept in
test-artifacts/console/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dendro.web.app import ConsoleServer, create_app
from tests.support import free_port, require_binary, wait_for_port
from tests.web.conftest import Known
from tests.web.data import HOSTILE_AGENT

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def base_url(known: Known) -> Iterator[str]:
    port = free_port()
    server = ConsoleServer(create_app(known.config, known.store, log_dir=known.data_dir), "127.0.0.1", port)
    server.start()
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    executable = require_binary("chromium", "chromium", "/usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            accept_downloads=True,
            viewport={"width": 1400, "height": 1000},
        )
        yield context
        context.close()


class Page:
    """A browser tab recording every JavaScript error and console error."""

    def __init__(self, context: Any) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))

    def open(self, url: str, shot: str) -> Any:
        response = self.page.goto(url, wait_until="networkidle")
        assert response is not None and response.status == 200, url
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
        return self.page


def test_every_page_loads_without_javascript_errors(browser: Any, base_url: str) -> None:
    tab = Page(browser)
    for path, shot in (
        ("/", "home"),
        ("/agents", "agents"),
        ("/alerts", "alerts"),
        ("/logs", "logs"),
        ("/logs?table=parse_error", "logs-parse-errors"),
        ("/charts", "charts-index"),
    ):
        page = tab.open(base_url + path, shot)
        assert page.locator("h1").count() == 1
    page = tab.open(base_url + "/agents", "agents")
    assert page.locator("tr.silent").first.get_attribute("data-host") == "web-old"
    assert tab.errors == []
    tab.page.close()


@pytest.mark.parametrize("service", ["nginx", "host", "postgres"])
def test_charts_are_drawn_with_data_points(browser: Any, base_url: str, service: str) -> None:
    tab = Page(browser)
    page = tab.page
    page.goto(f"{base_url}/charts/{service}?range=1h", wait_until="networkidle")
    page.wait_for_selector("#charts .uplot canvas", timeout=15_000)
    page.wait_for_function("document.getElementById('status').textContent.startsWith('From')")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"charts-{service}.png"), full_page=True)
    drawn = page.eval_on_selector_all("section.chart[data-points]", "els => els.map(e => +e.dataset.points)")
    assert drawn and max(drawn) > 0
    assert page.locator(".uplot").count() >= 1
    if service == "nginx":  # baseline band and forecast series are in the legend of the rate chart
        legend = page.locator("#chart-nginx_access-rate .u-legend").inner_text()
        assert "baseline high" in legend and "forecast" in legend
    if service == "host":
        assert page.locator("table.disks tr[data-host='web-1']").count() == 1
    assert tab.errors == []
    page.close()


def test_a_query_runs_and_its_csv_downloads(browser: Any, base_url: str, known: Known) -> None:
    tab = Page(browser)
    page = tab.open(base_url + "/query", "query-editor")
    assert page.locator(".CodeMirror").count() == 1  # the editor with SQL highlighting
    assert page.locator(".CodeMirror .cm-keyword").count() > 0
    page.evaluate(
        "sql => window.dendroEditor.setValue(sql)",
        "SELECT host, path, user_agent FROM nginx_access WHERE host = 'web-1' ORDER BY time",
    )
    page.click("#run")
    page.wait_for_selector("#result")
    page.screenshot(path=str(ARTIFACTS / "query-result.png"), full_page=True)
    rows = known.count("nginx_access", 7 * 86400, host="web-1")
    assert page.locator("#result tbody tr").count() == min(rows, 100)
    assert page.locator("#result td", has_text=HOSTILE_AGENT).count() == 1  # shown as text, not markup
    with page.expect_download() as info:
        page.click("#export-csv")
    path = info.value.path()
    text = Path(path).read_text(encoding="utf-8")
    assert text.splitlines()[0] == "host,path,user_agent"
    assert len(text.strip().splitlines()) == rows + 1
    page.evaluate("() => window.dendroEditor.setValue('DELETE FROM nginx_access')")
    page.click("#run")
    page.wait_for_selector("#query-error")
    page.screenshot(path=str(ARTIFACTS / "query-refused.png"), full_page=True)
    assert "DELETE is refused" in page.locator("#query-error").inner_text()
    # the refused query answers 400, which Chromium logs as a failed resource load: not a script error
    assert [e for e in tab.errors if "status of 400" not in e] == []
    page.close()
