"""The database services' samples beyond their events: log structure, RED mappings, dimensions.

Every sample itself is run by tests/catalog/test_samples.py (one test for the whole catalog).
"""

from __future__ import annotations

import socket

import pytest
import yaml

from dendro.config import from_dict
from dendro.services import mysql, postgres
from dendro.services.base import Parser, Service
from dendro.services.runner import run, run_events
from dendro.vector import render

SERVICES: tuple[Service, ...] = (postgres.SERVICE, mysql.SERVICE)


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
