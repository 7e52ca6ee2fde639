"""CloudWatch metric filters and alarms: valid boto3 parameters, accepted by moto in order, and
a filter that matches the loader's alert line."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator
from moto import mock_aws

from dendro.alerts import cloudwatch, notify
from dendro.alerts.model import rules
from tests.alerts import fixtures

REGION = "us-east-1"
TOPIC = "arn:aws:sns:us-east-1:123456789012:dendro-alerts"
LOG_GROUP = "/aws/lambda/dendro-loader"


def _params(alerts: dict | None = None) -> tuple[list[dict], list[dict]]:
    config = fixtures.config(alerts)
    rule_list = rules(config, fixtures.SERVICES)
    return (
        cloudwatch.metric_filters(config, LOG_GROUP, rule_list),
        cloudwatch.alarms(config, TOPIC, rule_list),
    )


def test_one_filter_and_alarm_per_cloudwatch_rule() -> None:
    filters, alarms = _params(
        {"rules": {"postgres": {"fatal": {"threshold": 3, "window": "10m", "for": "20m"}}}}
    )
    assert [f["filterName"] for f in filters] == [
        "dendro-nginx_5xx",
        "dendro-postgres_fatal",
        "dendro-syslog_critical",
    ]
    assert filters[1]["filterPattern"] == '{ $.dendro = "alert" && $.alert = "postgres_fatal" }'
    assert filters[1]["metricTransformations"][0]["metricValue"] == "$.count"
    assert filters[1]["metricTransformations"][0]["metricNamespace"] == "Dendro/dendro"
    fatal = next(a for a in alarms if a["AlarmName"] == "dendro-postgres_fatal")
    assert (fatal["Threshold"], fatal["Period"], fatal["EvaluationPeriods"]) == (3.0, 600, 2)
    assert fatal["AlarmActions"] == [TOPIC] and fatal["MetricName"] == "postgres_fatal"
    assert "<program>" in next(a for a in alarms if a["MetricName"] == "syslog_critical")["AlarmDescription"]


@pytest.mark.parametrize(
    ("service", "operation", "index"), [("logs", "PutMetricFilter", 0), ("cloudwatch", "PutMetricAlarm", 1)]
)
def test_parameters_validate_against_the_botocore_model(service: str, operation: str, index: int) -> None:
    model = botocore.session.get_session().get_service_model(service).operation_model(operation)
    for params in _params()[index]:
        report = ParamValidator().validate(params, model.input_shape)
        assert not report.has_errors(), report.generate_report()


@mock_aws
def test_moto_accepts_them_once_the_log_group_exists() -> None:
    logs = boto3.client("logs", region_name=REGION)
    cw = boto3.client("cloudwatch", region_name=REGION)
    config = fixtures.config()
    rule_list = rules(config, fixtures.SERVICES)
    filters = cloudwatch.metric_filters(config, LOG_GROUP, rule_list)
    # AWS refuses a filter on a missing log group (moto does not check): create the group first
    logs.create_log_group(logGroupName=LOG_GROUP)
    for params in filters:
        logs.put_metric_filter(**params)
    for params in cloudwatch.alarms(config, TOPIC, rule_list):
        cw.put_metric_alarm(**params)
    stored = logs.describe_metric_filters(logGroupName=LOG_GROUP)["metricFilters"]
    assert sorted(f["filterName"] for f in stored) == [f["filterName"] for f in filters]
    alarms = cw.describe_alarms(AlarmNamePrefix="dendro-")["MetricAlarms"]
    assert {a["AlarmName"]: a["Threshold"] for a in alarms} == {
        "dendro-nginx_5xx": 10.0,
        "dendro-postgres_fatal": 0.0,
        "dendro-syslog_critical": 0.0,
    }


def _matches(pattern: str, line: dict) -> bool:
    """CloudWatch's JSON pattern of ``$.field = "value"`` clauses joined by && (moto has no
    TestMetricFilter)."""
    clauses = re.findall(r'\$\.(\w+) = "([^"]*)"', pattern)
    assert clauses and pattern.count("&&") == len(clauses) - 1
    return all(str(line.get(field)) == value for field, value in clauses)


def test_filters_match_the_lines_the_loader_logs() -> None:
    rule = notify.AlertRule("postgres", fixtures.DB.alert_events[0], "status")
    collector = notify.AlertCollector({"postgres": [rule]}, "bucket", "raw/x.gz")
    row = {
        "host": "db-1",
        "level": "FATAL",
        "time": datetime(2026, 11, 26, 12, tzinfo=UTC),
        "message": "boom",
    }
    collector.check("postgres", row, "2026-11-26 12:00:00 UTC FATAL: boom")
    collector.check("postgres", row, "2026-11-26 12:00:00 UTC FATAL: boom")
    (line,) = [json.loads(text) for text in collector.log_lines()]
    filters, _ = _params()
    by_metric = {f["metricTransformations"][0]["metricName"]: f for f in filters}
    assert _matches(by_metric["postgres_fatal"]["filterPattern"], line)
    assert not _matches(by_metric["nginx_5xx"]["filterPattern"], line)
    assert line[by_metric["postgres_fatal"]["metricTransformations"][0]["metricValue"][2:]] == 2


def test_calls_put_filters_before_alarms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cloudwatch, "all_rules", lambda config: rules(config, fixtures.SERVICES))
    ordered = cloudwatch.calls(fixtures.config(), LOG_GROUP, TOPIC)
    kinds = [method for _, method, _ in ordered]
    assert kinds == ["put_metric_filter"] * 3 + ["put_metric_alarm"] * 3
    assert cloudwatch.REQUIRES == ("log_group", "sns_topic")


def test_disabled_rules_have_no_alarm() -> None:
    filters, alarms = _params({"rules": {"syslog": False, "nginx": {"5xx": False}}})
    assert [a["MetricName"] for a in alarms] == ["postgres_fatal"] and len(filters) == 1
