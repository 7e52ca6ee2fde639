"""Grafana alerting provisioning: loads, conditions and datasources resolve, uids are stable,
and one config's output matches the committed golden files."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from dendro.alerts import grafana
from dendro.alerts.datasources import EXPRESSION_UID, PROMETHEUS_UID
from dendro.alerts.model import rules, settings
from dendro.alerts.render import contents
from tests.alerts import fixtures

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_ALERTS = {
    "emails": ["ops@example.com"],
    "runbook_url": "https://runbooks.example.com/{rule}",
    "rules": {"nginx": {"error_ratio": {"threshold": 2, "for": "5m"}}},
}


def _files(alerts: dict | None = None, pipeline: str = "dendro") -> dict[str, dict]:
    texts = contents(fixtures.config(alerts, pipeline=pipeline), "grafana", services=list(fixtures.SERVICES))
    return {name: yaml.safe_load(text) for name, text in texts.items()}


def test_rules_load_and_reference_what_exists() -> None:
    files = _files()
    assert set(files) == {"dendro-alert-rules.yaml", "dendro-notifications.yaml"}
    doc = files["dendro-alert-rules.yaml"]
    assert doc["apiVersion"] == 1
    all_rules = [r for g in doc["groups"] for r in g["rules"]]
    assert len(all_rules) == 10
    for rule in all_rules:
        refs = [d["refId"] for d in rule["data"]]
        assert rule["condition"] in refs
        assert {d["datasourceUid"] for d in rule["data"]} <= {PROMETHEUS_UID, EXPRESSION_UID}
        for d in rule["data"]:
            assert d["model"]["refId"] == d["refId"]
            if d["datasourceUid"] == EXPRESSION_UID:
                assert d["model"]["expression"] in refs  # expressions read a query of the rule
        assert set(rule) >= {"uid", "title", "condition", "data", "for", "labels", "annotations"}
        assert rule["noDataState"] in ("OK", "NoData", "Alerting") and rule["execErrState"] in ("Error", "OK")
        assert len(rule["uid"]) <= 40
    assert len({r["uid"] for r in all_rules}) == len(all_rules)


def test_uids_are_stable_and_depend_on_pipeline_and_rule() -> None:
    first, second = _files(), _files()
    assert first == second
    other = _files(pipeline="staging")["staging-alert-rules.yaml"]
    uids = {r["uid"] for g in first["dendro-alert-rules.yaml"]["groups"] for r in g["rules"]}
    assert not uids & {r["uid"] for g in other["groups"] for r in g["rules"]}
    assert grafana.uid("dendro", "host_cpu") == grafana.uid("dendro", "host_cpu")


def test_threshold_and_template_reach_the_rule() -> None:
    doc = _files(GOLDEN_ALERTS)["dendro-alert-rules.yaml"]
    rule = next(r for g in doc["groups"] for r in g["rules"] if r["title"] == "nginx_error_ratio")
    threshold = next(d for d in rule["data"] if d["refId"] == "C")["model"]
    assert threshold["conditions"][0]["evaluator"] == {"type": "gt", "params": [0.02]}
    assert rule["for"] == "5m"
    assert "{{ $values.B.Value | humanizePercentage }}" in rule["annotations"]["description"]
    assert rule["annotations"]["runbook_url"] == "https://runbooks.example.com/nginx_error_ratio"
    forecast = next(r for g in doc["groups"] for r in g["rules"] if r["title"] == "host_disk_forecast")
    assert (
        next(d for d in forecast["data"] if d["refId"] == "C")["model"]["conditions"][0]["evaluator"]["type"]
        == "lt"
    )


def test_contact_points_and_policy() -> None:
    doc = _files()["dendro-notifications.yaml"]
    (sns,) = doc["contactPoints"]  # aws backend, no emails: only the SNS contact point
    assert sns["receivers"][0]["type"] == "sns"
    assert sns["receivers"][0]["settings"]["topic_arn"] == "$DENDRO_SNS_TOPIC_ARN"
    assert doc["policies"][0]["receiver"] == sns["name"]

    config = fixtures.config({"contact": "email", "emails": ["a@example.com", "b@example.com"]})
    doc = grafana.notifications_file("dendro", settings(config), "eu-west-1")
    email = next(c for c in doc["contactPoints"] if c["receivers"][0]["type"] == "email")
    assert email["receivers"][0]["settings"]["addresses"] == "a@example.com;b@example.com"
    assert doc["policies"][0]["receiver"] == email["name"]
    names = {c["name"] for c in doc["contactPoints"]}
    assert len(names) == len(doc["contactPoints"])


def test_golden_files() -> None:
    """Regenerate with DENDRO_UPDATE_GOLDEN=1 after an intended change, and read the diff."""
    texts = contents(fixtures.config(GOLDEN_ALERTS), "grafana", services=list(fixtures.SERVICES))
    for name, text in texts.items():
        path = GOLDEN / name
        if os.environ.get("DENDRO_UPDATE_GOLDEN"):
            path.write_text(text, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == text, f"{name} differs from {path}"


def test_disabled_rules_are_left_out() -> None:
    config = fixtures.config({"rules": {"host": False}})
    doc = grafana.rules_file("dendro", rules(config, fixtures.SERVICES))
    assert "dendro-host" not in [g["name"] for g in doc["groups"]]
