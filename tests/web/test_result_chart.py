"""Query results drawn as a chart (issue 18, item 8): which results are time series, and how."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dendro.analysis import result_chart
from dendro.store.base import ResultColumn

T0 = datetime(2026, 11, 26, 12, 0)


def test_a_long_result_becomes_one_series_per_group_and_column() -> None:
    columns = [ResultColumn("minute", "TIMESTAMP"), ResultColumn("host", "VARCHAR"),
               ResultColumn("n", "BIGINT"), ResultColumn("p95", "DOUBLE")]
    rows: list[tuple[datetime, str, int, float | None]] = [
        (T0 + timedelta(minutes=m), host, 10 * m, 0.1) for m in range(3) for host in ("web-1", "web-2")]
    rows.append((T0 + timedelta(minutes=3), "web-1", 30, None))
    assert result_chart.kinds(columns, rows) == ["time", "text", "number", "number"]
    chart = result_chart.chart(columns, rows)
    assert chart is not None and chart["time_column"] == "minute"
    assert chart["x"] == [(T0 + timedelta(minutes=m)).replace(tzinfo=UTC).timestamp() for m in range(4)]
    series = {s["label"]: s for s in chart["series"]}
    assert set(series) == {"web-1 n", "web-1 p95", "web-2 n", "web-2 p95"}
    assert series["web-2 n"]["values"] == [0.0, 10.0, 20.0, None]  # no row: a gap
    assert series["web-1 p95"]["values"][3] is None and series["web-1 p95"]["column"] == "p95"


def test_one_numeric_column_is_named_by_its_group_only() -> None:
    columns = [ResultColumn("t", "timestamp"), ResultColumn("class", "varchar"), ResultColumn("n", "bigint")]
    rows = [(T0, "2xx", 5), (T0, "5xx", 1)]
    chart = result_chart.chart(columns, rows)
    assert chart is not None and [s["label"] for s in chart["series"]] == ["2xx", "5xx"]


def test_what_is_not_drawn() -> None:
    text = [ResultColumn("host", "VARCHAR"), ResultColumn("n", "BIGINT")]
    assert result_chart.chart(text, [("web-1", 3)]) is None  # no time column
    events = [ResultColumn("time", "TIMESTAMP"), ResultColumn("path", "VARCHAR"),
              ResultColumn("status", "BIGINT")]
    rows = [(T0 + timedelta(seconds=i), f"/item/{i}", 200) for i in range(50)]
    assert result_chart.chart(events, rows) is None  # rows of events: a path each, not series
    wide = [ResultColumn("time", "TIMESTAMP"), *(ResultColumn(c, "VARCHAR") for c in "abcd"),
            ResultColumn("status", "BIGINT")]
    assert result_chart.chart(wide, [(T0, "x", "y", "z", "w", 200)]) is None  # a log search's rows
    many = [ResultColumn("t", "TIMESTAMP"), ResultColumn("v", "DOUBLE")]
    long = [(T0 + timedelta(seconds=i), 1.0) for i in range(result_chart.MAX_ROWS + 1)]
    note = result_chart.chart(many, long)
    assert note is not None and "too many to draw" in note["note"] and "x" not in note


def test_kinds_by_value_when_the_type_says_nothing() -> None:
    columns = [ResultColumn("t", "UNKNOWN"), ResultColumn("v", "UNKNOWN"), ResultColumn("ok", "UNKNOWN")]
    assert result_chart.kinds(columns, [(T0, 1.5, True)]) == ["time", "number", "text"]
