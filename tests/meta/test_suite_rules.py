"""Rules the test suite keeps about itself: real components are marked, nothing outside the clone is read.

`pytest -m "not real"` must be a fast subset that needs no Debian server or browser, so every test
module that starts one (through :func:`tests.support.require_binary` or a fixture of
``tests/servers``) marks it real: the whole module (``pytestmark = pytest.mark.real``) or the tests
that need it (``@pytest.mark.real``). And a user's clone has no team
folder beside it, so no test names one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
#: fixtures of tests/servers that start a real Debian server
REAL_FIXTURES = (
    "apache_server",
    "mariadb_server",
    "nginx_server",
    "postgres_server",
    "redis_server",
    "haproxy_server",
    "running_redis(",
    "prometheus: Prometheus",
)
REAL_MARKS = ("pytestmark = pytest.mark.real", "@pytest.mark.real")
THIS = Path(__file__).resolve()


def _test_modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if p.resolve() != THIS)


def _uses_a_real_component(text: str) -> bool:
    return "require_binary(" in text or any(re.search(rf"\b{re.escape(f)}\b", text) for f in REAL_FIXTURES)


@pytest.mark.parametrize("path", _test_modules(), ids=lambda p: str(p.relative_to(TESTS)))
def test_a_module_that_starts_a_real_component_is_marked_real(path: Path) -> None:
    text = path.read_text()
    if _uses_a_real_component(text):
        assert any(mark in text for mark in REAL_MARKS), f"{path.name} starts a real component: mark it real"


def test_the_rule_sees_the_known_real_modules() -> None:
    marked = {p.name for p in _test_modules() if _uses_a_real_component(p.read_text())}
    assert {"test_browser.py", "test_real_servers.py", "test_promql.py"} <= marked


def test_no_test_reads_outside_the_clone() -> None:
    for path in TESTS.rglob("*.py"):
        if path.resolve() == THIS:
            continue
        text = path.read_text()
        assert "../shared" not in text and '"shared"' not in text, f"{path} reads the team folder"
