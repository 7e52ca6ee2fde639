"""The rule model: defaults per configured service, overrides, errors that name the rule."""

from __future__ import annotations

import pytest

from dendro.alerts.model import AlertConfigError, rules, settings
from dendro.config import ConfigError
from tests.alerts import fixtures


def _rules(alerts: dict | None = None) -> dict:
    return {r.name: r for r in rules(fixtures.config(alerts), fixtures.SERVICES)}


def test_defaults_follow_the_configured_services() -> None:
    assert list(_rules()) == [
        "nginx_error_ratio",
        "nginx_latency_p95",
        "nginx_rate_anomaly",
        "nginx_latency_anomaly",
        "nginx_5xx",
        "postgres_fatal",
        "host_cpu",
        "host_memory",
        "host_disk",
        "host_disk_forecast",
        "syslog_critical",
        "agent_silent",
    ]
    only_db = [r.name for r in rules(fixtures.config(), [fixtures.DB])]
    assert only_db == ["postgres_fatal", "agent_silent"]


def test_event_rules_map_onto_the_exporter_or_cloudwatch_only() -> None:
    by_name = _rules()
    assert by_name["postgres_fatal"].levels == ("fatal", "panic")  # the exporter lowercases levels
    assert by_name["postgres_fatal"].targets == ("prometheus", "grafana", "cloudwatch")
    assert by_name["syslog_critical"].targets == ("cloudwatch",)
    assert by_name["nginx_5xx"].targets == ("cloudwatch",)
    assert by_name["syslog_critical"].summary == "A critical syslog message on {host} from {program}"


def test_overrides_tune_and_disable() -> None:
    tuned = _rules(
        {
            "runbook_url": "https://runbooks.example.com/{service}/{rule}",
            "rules": {
                "nginx": {
                    "error_ratio": {"threshold": 2.5, "for": "5m", "severity": "warning"},
                    "5xx": False,
                },
                "host": {"disk_forecast": {"threshold": "12h", "window": "2h"}},
                "agent": {"silent": {"threshold": "15m", "labels": {"team": "ops"}}},
                "postgres": False,
            },
        }
    )
    ratio = tuned["nginx_error_ratio"]
    assert (ratio.threshold, ratio.metric_threshold, ratio.for_s, ratio.severity) == (
        2.5,
        0.025,
        300,
        "warning",
    )
    assert ratio.runbook_url == "https://runbooks.example.com/nginx/nginx_error_ratio"
    assert not tuned["nginx_5xx"].enabled and not tuned["postgres_fatal"].enabled
    assert (tuned["host_disk_forecast"].threshold, tuned["host_disk_forecast"].window_s) == (43200, 7200)
    assert tuned["agent_silent"].threshold == 900 and tuned["agent_silent"].labels == (("team", "ops"),)


@pytest.mark.parametrize(
    ("alerts", "message"),
    [
        ({"rules": {"memcached": {}}}, "alerts.rules.memcached: unknown service 'memcached'"),
        ({"rules": {"mysql": {}}}, "alerts.rules.mysql: service mysql is not configured"),
        ({"rules": {"nginx": {"error_ration": {}}}}, "alerts.rules.nginx.error_ration: unknown rule"),
        (
            {"rules": {"nginx": {"error_ratio": {"threshold": -1}}}},
            "alerts.rules.nginx.error_ratio.threshold: rule nginx_error_ratio: must not be negative, got -1",
        ),
        (
            {"rules": {"nginx": {"latency_p95": {"for": "ten minutes"}}}},
            "alerts.rules.nginx.latency_p95.for: rule nginx_latency_p95: cannot parse duration 'ten minutes'",
        ),
        (
            {"rules": {"nginx": {"error_ratio": {"threshold": 120}}}},
            "rule nginx_error_ratio: threshold is a percentage and must be below 100",
        ),
        (
            {"rules": {"nginx": {"latency_p95": {"threshold": "12s"}}}},
            "rule nginx_latency_p95: threshold must be below 10s, the largest latency bucket",
        ),
        (
            {"rules": {"postgres": {"fatal": {"window": "90s"}}}},
            "rule postgres_fatal: window must be whole minutes",
        ),
        (
            {"rules": {"host": {"cpu": {"severity": "page"}}}},
            "rule host_cpu: expected one of critical, warning",
        ),
        (
            {"rules": {"host": {"cpu": {"treshold": 3}}}},
            "alerts.rules.host.cpu.treshold: rule host_cpu: unknown key",
        ),
        (
            {"rules": {"host": {"cpu": {"labels": {"severity": "x"}}}}},
            "rule host_cpu: 'severity' is not a label",
        ),
        ({"contact": "pager"}, "alerts.contact: expected sns or email"),
        ({"runbook_url": "https://x/{team}"}, "alerts.runbook_url: unknown placeholder {team}"),
        ({"rule": {}}, "alerts.rule: unknown key"),
    ],
)
def test_mistakes_end_in_one_message_naming_the_rule(alerts: dict, message: str) -> None:
    config = fixtures.config(alerts)
    with pytest.raises(AlertConfigError) as error:
        rules(config, fixtures.SERVICES)
        settings(config)
    assert message in str(error.value)
    assert isinstance(error.value, ConfigError)  # the CLI prints it as one line, exit 1


def test_contact_defaults_to_sns_on_aws_and_email_locally() -> None:
    assert settings(fixtures.config(backend="aws")).contact == "sns"
    local = settings(fixtures.config({"emails": ["ops@example.com"]}, backend="local"))
    assert (local.contact, local.emails) == ("email", ("ops@example.com",))
