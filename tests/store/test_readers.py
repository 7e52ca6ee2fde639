"""The console and the exporter read across both tiers without knowing they exist: their own SQL
answers the same before and after a move, through the Store protocol alone."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from dendro.analysis import overview
from dendro.exporter.local_source import late_query, table_query
from dendro.metrics.aggregates import roles
from dendro.services import catalog, tables_of
from dendro.store.local import LocalStore, StoreSettings
from tests.store.tiering import access_at, live, utc_now

EPOCH = datetime(1970, 1, 1)


def test_the_exporters_and_the_consoles_queries_answer_alike_from_either_tier(tmp_path: Path) -> None:
    tables = tables_of([catalog()["nginx"]])
    now = utc_now()
    events = [access_at(now - timedelta(hours=h, minutes=m), h * 100 + m, host=f"web-{m % 3}")
              for h in range(0, 40, 2) for m in range(0, 60, 7)]
    start_ms = int((now - timedelta(days=2) - EPOCH).total_seconds() * 1000)
    end_ms = int((now - EPOCH).total_seconds() * 1000)
    table = tables["nginx_access"]
    role = roles(tables)["nginx_access"]
    questions = [
        table_query("dendro", table, role, start_ms, end_ms),
        late_query("dendro", ["nginx_access"], start_ms, end_ms),
    ]
    settings = StoreSettings(root=tmp_path)
    with LocalStore(tmp_path / "dendro.duckdb", "dendro", tables, settings=settings) as store:
        store.write(events)
        before = [sorted(store.query(sql, max_rows=None).rows) for sql in questions]
        activity = overview.activity(store, "dendro", ["nginx_access"])
        store.maintain()
        assert live(store)  # the rows before today moved to Parquet
        assert [sorted(store.query(sql, max_rows=None).rows) for sql in questions] == before
        assert overview.activity(store, "dendro", ["nginx_access"]) == activity
        assert before[0]  # the exporter's window held rows of both days
