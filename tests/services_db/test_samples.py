"""Every sample of the database services, run on Vector's VRL engine, gives its expected event."""

from __future__ import annotations

import socket

import pytest
import yaml

from dendro.config import from_dict
from dendro.services import mysql, postgres
from dendro.services.base import Parser, Sample, Service
from dendro.services.runner import compile_error, run, run_events
from dendro.store.schema import table_for, to_row
from dendro.vector import render

SERVICES: tuple[Service, ...] = (postgres.SERVICE, mysql.SERVICE)
CASES = [
    pytest.param(parser, sample, id=f"{parser.id}:{index}:{sample.note}")
    for service in SERVICES
    for parser in service.parsers
    for index, sample in enumerate(parser.samples)
]


@pytest.mark.parametrize("parser", [p for s in SERVICES for p in s.parsers], ids=lambda p: p.id)
def test_every_program_compiles(parser: Parser) -> None:
    assert compile_error(parser.vrl) is None


@pytest.mark.parametrize(("parser", "sample"), CASES)
def test_sample(parser: Parser, sample: Sample) -> None:
    events = run_events(parser, sample.input_event())
    if sample.no_event:
        assert events == []
        return
    assert len(events) == 1
    event = events[0]
    if sample.expects_parse_error:
        assert event["type"] == "parse_error"
        assert event["message"] == sample.input_event().get("message", "")
        assert event["source"] == parser.id
    else:
        assert event == sample.expected


@pytest.mark.parametrize(("parser", "sample"), [c for c in CASES if c.values[1].expected is not None])
def test_sample_events_fit_their_table(parser: Parser, sample: Sample) -> None:
    tables = {t.name: t for s in SERVICES for t in s.tables}
    event = run(parser, sample.input_event())
    row = to_row(table_for(tables, event), event)
    assert set(event) - {"type", "timestamp"} <= set(row)


def test_parsers_sources_tables_and_settings_agree() -> None:
    for service in SERVICES:
        names = {t.name for t in service.tables}
        for source in service.sources:
            service.parser(source.parser)
        for red in service.red:
            assert red.table in names
        for alert in service.alert_events:
            table = service.table(alert.table)
            for column in alert.match:
                table.column(column)
        keys = {s.key for s in service.settings}
        for source in service.sources:
            for value in source.options.values():
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, str) and item.startswith("{"):
                        assert item.strip("{}") in keys


def test_mysql_slow_log_structure_makes_no_event_and_says_so() -> None:
    samples = mysql.SERVICE.parser("mysql_slow").samples
    quiet = [s.message for s in samples if s.no_event]
    assert any(m.startswith("# Time: ") for m in quiet) and any("started with:" in m for m in quiet)
    # a parser emitting no event cannot be run as a one-event program by mistake
    with pytest.raises(ValueError, match="run_events"):
        run(mysql.SERVICE.parser("mysql_slow"), {"message": quiet[0], "host": "db-1"})


def test_rendered_slow_log_remap_needs_nothing_more_for_no_event() -> None:
    """vector.yaml carries the program as is: ``. = []`` emits nothing, failures still reroute."""
    document = yaml.safe_load(render.to_yaml(from_dict({"backend": "local", "services": {"mysql": {}}})))
    remap = document["transforms"]["mysql_slow_logs_parse"]
    assert (remap["drop_on_error"], remap["drop_on_abort"], remap["reroute_dropped"]) == (True, True, True)
    assert "mysql_slow_logs_parse.dropped" in document["transforms"]["parse_errors"]["inputs"]
    as_vector_reads_it = Parser(id="mysql_slow", vrl=render.unescape(remap["source"]), samples=())
    for sample in mysql.SERVICE.parser("mysql_slow").samples:
        events = run_events(as_vector_reads_it, sample.input_event())
        assert (events == []) == sample.no_event, sample.note


def test_red_mappings_and_alerts() -> None:
    red = {r.table: r for s in SERVICES for r in s.red}
    assert red["postgres"].error_levels == ("ERROR", "FATAL", "PANIC")
    assert red["mysql_error"].error_levels == ("Error",) and red["mysql_error"].duration is None
    assert red["mysql_slow"].duration == "duration"
    alerts = {a.name: a for s in SERVICES for a in s.alert_events}
    assert alerts["postgres_fatal"].match == {"level": ("FATAL", "PANIC")}
    assert alerts["postgres_fatal"].severity == "critical"
    assert alerts["postgres_error"].severity == "warning"
    assert alerts["mysql_error"].match == {"level": ("Error",)}


def test_unbounded_values_are_not_dimensions() -> None:
    for service in SERVICES:
        for table in service.tables:
            for name in ("statement", "message", "client_ip"):
                if any(c.name == name for c in table.columns):
                    assert not table.column(name).dimension, (table.name, name)


@pytest.mark.parametrize(
    ("endpoint", "tag_host", "expected"),
    [
        ("postgresql://postgres@localhost:5432/postgres", "localhost", None),
        ("postgresql://postgres@127.0.0.1:5432/postgres", "127.0.0.1:5432", None),
        ("postgresql://postgres@db-2:5432/postgres", "db-2", "db-2"),
    ],
)
def test_local_postgres_metrics_belong_to_the_node(
    endpoint: str, tag_host: str, expected: str | None
) -> None:
    """Vector tags the metrics with the endpoint's host; on loopback that is this node (as nginx's)."""
    metric = {
        "name": "pg_stat_database_numbackends",
        "namespace": "postgresql",
        "tags": {"endpoint": endpoint, "host": tag_host, "db": "app"},
        "kind": "absolute",
        "gauge": {"value": 3.0},
        "timestamp": "2026-11-26T12:00:00Z",
    }
    event = run(postgres.SERVICE.parser("postgres_metrics"), metric)
    assert event["host"] == (expected or socket.gethostname())
    assert (event["db"], event["value"]) == ("app", 3.0)
