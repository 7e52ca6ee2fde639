"""One definition of HTTP status classes: the console's SQL classifies as the exporter's Python does.

The exporter's ``code`` label (and so the Prometheus rules' ``code="5xx"``) comes from
:func:`dendro.metrics.status.status_class`; the console's rate chart and error ratio run SQL on
the store. Both are checked here on the same statuses, at every class boundary and outside the
range RFC 9110 gives (100–599).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dendro.analysis import charts, queries
from dendro.metrics.status import CLASSES, UNKNOWN, status_class
from dendro.services.base import Red
from dendro.store.local import LocalStore
from tests.store.conftest import TABLES, access

STATUSES = [None, 0, 99, 100, 199, 200, 299, 300, 304, 399, 400, 404, 499, 500, 503, 599, 600, 999]
RED = Red(table="nginx_access", status="status", duration="duration", method="method")
START, END = datetime(2026, 11, 26, 12, tzinfo=UTC), datetime(2026, 11, 26, 13, tzinfo=UTC)


def test_python_classes() -> None:
    assert [status_class(s) for s in (None, 99, 100, 199, 200, 503, 599, 600)] == [
        UNKNOWN, UNKNOWN, "1xx", "1xx", "2xx", "5xx", "5xx", UNKNOWN]


def test_the_console_s_sql_classifies_as_the_exporter(tmp_path: Path) -> None:
    events = [{**access("web-1", 0, i, 200, 0.1), "status": s} for i, s in enumerate(STATUSES)]
    expected: dict[str, int] = {}
    for s in STATUSES:
        expected[status_class(s)] = expected.get(status_class(s), 0) + 1
    with LocalStore(tmp_path / "dendro.duckdb", "dendro", TABLES) as store:
        assert store.write(events).total_written == len(STATUSES)
        rows = store.query(queries.rate_by_class("dendro", RED, START, END, 3600)).dicts()
        assert {str(r["class"]): int(r["n"]) for r in rows} == expected
        summary = store.query(queries.red_summary("dendro", RED, START, END, 3600)).dicts()
        assert int(summary[0]["errors"]) == expected["5xx"] == 3


def test_the_rate_chart_orders_every_class() -> None:
    assert (*CLASSES, UNKNOWN) == charts.CLASS_ORDER
