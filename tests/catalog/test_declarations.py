"""What every built-in service declares fits together, so that no reader silently skips it.

Every source has a parser, every setting a source uses exists, every RED mapping, alert event,
kept metric, log panel and example names a table of its own service and columns that exist,
every source has demo traffic (a source without it would be missing from ``dendro up --demo``),
the role agrees with the RED mapping, alert kinds exist, and ``--service`` aliases are unique.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest

from dendro.alerts.kinds import KINDS
from dendro.services import BUILTIN, catalog, runner
from dendro.services.base import Service
from dendro.services.scene import INCIDENTS, QUIET, scene_of

SERVICES = [pytest.param(service, id=name) for name, service in catalog().items()]


@pytest.mark.parametrize("service", SERVICES)
def test_sources_parsers_tables_and_settings_agree(service: Service) -> None:
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


@pytest.mark.parametrize("service", SERVICES)
def test_the_role_agrees_with_the_red_mapping(service: Service) -> None:
    if service.role == "http":
        assert any(r.is_http for r in service.red)
    elif service.role == "database":
        assert any(r.level and not r.is_http for r in service.red)
    elif service.role == "host_metrics":
        assert service.metrics and not service.red
    else:
        assert not service.red


@pytest.mark.parametrize("service", SERVICES)
def test_kept_metrics_name_their_table_and_its_columns(service: Service) -> None:
    for metrics in service.metrics:
        table = service.table(metrics.table)
        assert table.holds_metrics
        for tag in metrics.tags:
            assert table.column(tag).dimension
        assert len(set(metrics.names)) == len(metrics.names)
        assert metrics.gauges


@pytest.mark.parametrize("service", SERVICES)
def test_log_panels_and_examples_name_their_tables(service: Service) -> None:
    for row in service.log_panels:
        assert row.panels
        for panel in row.panels:
            table = service.table(panel.table)
            assert "{table}" in panel.sql and "{where}" in panel.sql, panel.title
            for column in panel.columns:  # a table's column, or one the query computes
                if column != "time" and f" AS {column}" not in panel.sql:
                    table.column(column)
    for example in service.examples:
        for name in example.tables:
            service.table(name)
        assert "{db}" in example.sql
        assert re.search(r'\{db\}\."(\w+)"', example.sql).group(1) in example.tables  # type: ignore[union-attr]


#: a quiet node, then each incident of the demo's story under way
SCENES = (QUIET, *(scene_of(incident, progress) for incident in INCIDENTS for progress in (0.5, 0.99)))


@pytest.mark.parametrize("service", SERVICES)
def test_every_source_has_demo_traffic_that_parses(service: Service) -> None:
    """A source without a feed would be silently missing from ``dendro up --demo``."""
    feeds = {feed.source: feed for feed in service.demo}
    assert set(feeds) == {s.id for s in service.sources if s.active(service.defaults())}
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    for source in service.sources:
        feed = feeds.get(source.id)
        if feed is None:
            continue
        parser = service.parser(source.parser)
        for scene in SCENES:
            rng = random.Random(3)
            assert feed.lines_per_second(scene) >= 0
            if feed.line is not None:
                inputs = [{"message": feed.line(rng, now, scene, "node-9"), "host": "node-9"}
                          for _ in range(20)]
            else:
                assert feed.inputs is not None
                inputs = feed.inputs(rng, now, scene, "node-9")
            events = [e for event in inputs for e in runner.run_events(parser, event)]
            assert events, source.id
            errors = [e for e in events if e["type"] == "parse_error"]
            assert not errors, errors
            assert {e["host"] for e in events} == {"node-9"}, source.id


@pytest.mark.parametrize("service", SERVICES)
def test_alert_kinds_exist(service: Service) -> None:
    for kind in service.alert_kinds:
        assert kind in KINDS


def test_aliases_are_unique_and_no_service_name() -> None:
    aliases = [alias for service in catalog().values() for alias in service.aliases]
    assert len(aliases) == len(set(aliases))
    assert not set(aliases) & set(BUILTIN)
