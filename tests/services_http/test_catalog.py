"""What the nginx and apache modules declare: settings, sources, pinned formats, tables, RED, alerts."""

from __future__ import annotations

import pytest

from dendro.services import apache, nginx
from dendro.services.base import Service

NGINX_FORMAT = (
    "log_format dendro '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent "
    "\"$http_referer\" \"$http_user_agent\" $request_time';"
)
APACHE_FORMAT = 'LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" %D" dendro'


def test_pinned_formats() -> None:
    assert nginx.LOG_FORMAT == NGINX_FORMAT
    assert apache.LOG_FORMAT == APACHE_FORMAT
    assert nginx.SERVICE.server_config.splitlines()[0] == NGINX_FORMAT
    assert apache.SERVICE.server_config.splitlines() == [
        APACHE_FORMAT,
        "CustomLog ${APACHE_LOG_DIR}/access.log dendro",
    ]
    assert "http {" in nginx.SERVICE.server_config_help
    assert "a2enconf" in apache.SERVICE.server_config_help


@pytest.mark.parametrize(
    ("service", "log_dir", "status_kind"),
    [
        (nginx.SERVICE, "/var/log/nginx", "nginx_metrics"),
        (apache.SERVICE, "/var/log/apache2", "apache_metrics"),
    ],
    ids=["nginx", "apache"],
)
def test_settings_and_sources(service: Service, log_dir: str, status_kind: str) -> None:
    name = service.name
    assert service.defaults() == {
        "access_log": [f"{log_dir}/access.log"],
        "error_log": [f"{log_dir}/error.log"],
        "status_url": "",
        "timezone": "UTC",  # the error log's local times (dendro configure offers the node's zone)
    }
    by_id = {s.id: s for s in service.sources}
    assert set(by_id) == {f"{name}_access_logs", f"{name}_error_logs", f"{name}_metrics"}
    assert by_id[f"{name}_access_logs"].kind == "file"
    assert dict(by_id[f"{name}_access_logs"].options) == {"include": "{access_log}", "read_from": "end"}
    assert dict(by_id[f"{name}_error_logs"].options) == {"include": "{error_log}", "read_from": "end"}
    metrics = by_id[f"{name}_metrics"]
    assert metrics.kind == status_kind
    assert dict(metrics.options) == {"endpoints": ["{status_url}"]}
    for source in service.sources:
        parser = service.parser(source.parser)
        assert parser.metrics == (source.kind == status_kind)


@pytest.mark.parametrize("service", [nginx.SERVICE, apache.SERVICE], ids=lambda s: s.name)
def test_tables_red_alerts(service: Service) -> None:
    name = service.name
    access = service.table(f"{name}_access")
    assert {c.name for c in access.dimensions} == {"host", "method", "protocol"}
    types = {c.name: c.type for c in access.columns}
    assert types["status"] == types["bytes"] == "BIGINT" and types["duration"] == "DOUBLE"
    for unbounded in ("path", "client_ip", "user_agent", "referer", "message"):
        assert types[unbounded] == "VARCHAR" and not access.column(unbounded).dimension
    error = service.table(f"{name}_error")
    assert {c.name for c in error.dimensions} == {"host", "level"}
    assert {c.name for c in error.columns} == {"host", "level", "pid", "client_ip", "message"}
    metrics = service.table(f"{name}_metrics")
    assert metrics.column("value").type == "DOUBLE"
    assert {"host", "name", "kind"} <= {c.name for c in metrics.dimensions}

    (red,) = service.red
    assert (red.table, red.status, red.duration, red.method) == (
        f"{name}_access", "status", "duration", "method")
    alerts = {a.name: a for a in service.alert_events}
    five = alerts[f"{name}_5xx"]
    assert (five.table, five.where, five.status_at_least, five.severity) == (
        f"{name}_access", "status >= 500", 500, "critical")
    crit = alerts[f"{name}_error_critical"]
    assert crit.table == f"{name}_error" and crit.severity == "warning"
    assert dict(crit.match) == {"level": ("crit", "alert", "emerg")}


@pytest.mark.parametrize("service", [nginx.SERVICE, apache.SERVICE], ids=lambda s: s.name)
def test_every_sample_event_uses_only_table_columns(service: Service) -> None:
    for parser in service.parsers:
        for sample in parser.samples:
            if sample.expected is None:
                continue
            table = service.table(sample.expected["type"])
            extra = set(sample.expected) - {c.name for c in table.columns} - {"type", "timestamp"}
            assert not extra, f"{parser.id}: {extra}"
