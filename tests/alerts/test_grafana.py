"""Grafana alerting provisioning: loads, conditions and datasources resolve, uids are stable,
contact points Grafana accepts at startup, and one config's output matches the golden files.

What Grafana does with these files, read (not copied) from its source; Grafana cannot run here:

* grafana/grafana (too large to mirror here; files read by commit from an index of its source, no
  release tag): pkg/services/provisioning/values/values.go (86d4e43d98a875798ba7ec57849a5f76978c79c8):
  every StringValue / JSONValue / StringMapValue goes through os.ExpandEnv after splitting at "$$",
  so an unset $VARIABLE becomes "". pkg/services/provisioning/alerting/contact_point_types.go
  (6403b8b50ec2ac9ae64e86ad8b3990703088e659): a receiver's `settings` are a JSONValue, mapped with
  their interpolated Value() and checked by provisioning.ValidateContactPoint while the file is
  read. pkg/services/provisioning/alerting/provisioner.go (b4241e5b839be965f0d957ee1ad345400bd2989d):
  Provision returns the first error; provisioning.go's RunInitProvisioners returns it from
  ProvisionAlerting, before Grafana serves, so Grafana stops. rules_types.go
  (9ff3317d34d219acd5a597934ac1c31914ba1f50): a rule's `data[].model` and `annotations` are taken
  raw (a later version, 0085cf867127ce5bf3217356bdd75f7fb04a4da9, expands only ${...} in
  annotations); its title, labels, group name and folder are interpolated.
* grafana/alerting at tag v0.0.0-release-12.4.3 (Grafana 12.4.3; commit
  8832a265bf69026255a855780f31337c47a82f40): notify/receivers.go parseNotifier calls
  receivers/email/v1 NewConfig ("could not find addresses in settings" when `addresses` is "";
  the addresses are split at "," ";" and newlines) and receivers/sns/v1 NewConfig (topic_arn must
  parse with aws-sdk-go's arn.Parse; one of topic_arn, target_arn, phone_number is required).
* aws/aws-sdk-go aws/arn/arn.go (commit 61adb16929f29ecace687066d6d88df297e48661): Parse wants the
  prefix "arn:" and six ":"-separated sections.
* The fields Grafana reads: grafana/grafana pkg/services/provisioning/alerting/types.go
  (ab5fab95370346832e97830fc120a914b345da36, AlertingFileV1), rules_types.go (9ff3317d…, groups,
  AlertRuleV1, QueryV1), contact_point_types.go (6403b8b5…, ContactPointV1, ReceiverV1),
  notification_policy_types.go (a5ee139b671c624e985777753da04be4f3bc1eb9: orgId plus an inline
  definitions.Route: receiver, group_by, matchers, object_matchers, mute_time_intervals,
  active_time_intervals, continue, routes, group_wait, group_interval, repeat_interval),
  pkg/services/ngalert/models NoDataStateFromString / ErrStateFromString (Alerting, NoData / Error,
  OK, KeepLast); durations go through prometheus/common's model.ParseDuration.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dendro.alerts import grafana
from dendro.alerts.datasources import EXPRESSION_UID, PROMETHEUS_UID
from dendro.alerts.model import rules, settings
from dendro.alerts.render import contents
from tests.alerts import fixtures

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_ALERTS = {
    "emails": ["ops@example.com"],
    "sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:dendro-alerts",
    "runbook_url": "https://runbooks.example.com/{rule}",
    "rules": {"nginx": {"error_ratio": {"threshold": 2, "for": "5m"}}},
}


def _files(alerts: dict | None = None, pipeline: str = "dendro") -> dict[str, dict]:
    texts = contents(fixtures.config(alerts, pipeline=pipeline), "grafana", services=list(fixtures.SERVICES))
    return {name: yaml.safe_load(text) for name, text in texts.items()}


def test_rules_load_and_reference_what_exists() -> None:
    files = _files()
    assert set(files) == {"dendro-alert-rules.yaml"}  # no address, no topic: no notifications file
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


ENV_REFERENCE = re.compile(r"\$(\{[^}]*\}|[A-Za-z0-9_]+|[*#$@!?-])")
TOPIC = "arn:aws:sns:us-east-1:123456789012:dendro-alerts"


def env_references(text: str) -> list[str]:
    """What Grafana's os.ExpandEnv would replace in a provisioned string ("$$" is a literal "$")."""
    return [m.group(0) for part in text.split("$$") for m in ENV_REFERENCE.finditer(part)]


def _expanded_strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    """(path, text) of every string Grafana interpolates: all but a rule's data models and annotations."""
    if isinstance(node, dict):
        return [pair for key, value in node.items() if key not in ("model", "annotations")
                for pair in _expanded_strings(value, f"{path}.{key}")]
    if isinstance(node, list):
        return [pair for i, value in enumerate(node) for pair in _expanded_strings(value, f"{path}[{i}]")]
    return [(path, node)] if isinstance(node, str) else []


DESTINATIONS = [{}, {"emails": ["ops@example.com"]}, {"sns_topic_arn": TOPIC},
                {"contact": "email", "emails": ["a@example.com"], "sns_topic_arn": TOPIC}]


@pytest.mark.parametrize("alerts", DESTINATIONS)
def test_nothing_refers_to_the_environment(alerts: dict[str, Any]) -> None:
    for name, doc in _files(alerts).items():
        for path, text in _expanded_strings(doc):
            assert not env_references(text), f"{name}{path}: {text!r} would be expanded by Grafana"
        for group in doc.get("groups", []):
            for rule in group["rules"]:
                assert not any("${" in text for text in rule["annotations"].values()), rule["title"]


def test_no_destination_no_contact_point_and_no_policy() -> None:
    config = fixtures.config({})  # aws backend, contact sns, no topic ARN and no addresses
    assert grafana.notifications_file("dendro", settings(config), "us-east-1") is None


def test_contact_points_carry_what_dendro_yaml_gives() -> None:
    doc = _files({"sns_topic_arn": TOPIC})["dendro-notifications.yaml"]
    (sns,) = doc["contactPoints"]
    assert sns["receivers"][0]["type"] == "sns"
    assert sns["receivers"][0]["settings"] == {"topic_arn": TOPIC, "sigv4": {"region": "us-east-1"}}
    assert doc["policies"][0]["receiver"] == sns["name"]

    config = fixtures.config({"contact": "email", "emails": ["a@example.com", "b@example.com"]})
    doc = grafana.notifications_file("dendro", settings(config), "eu-west-1")
    assert doc is not None
    email = next(c for c in doc["contactPoints"] if c["receivers"][0]["type"] == "email")
    assert email["receivers"][0]["settings"]["addresses"] == "a@example.com;b@example.com"
    assert doc["policies"][0]["receiver"] == email["name"]
    names = {c["name"] for c in doc["contactPoints"]}
    assert len(names) == len(doc["contactPoints"])


def test_a_topic_given_to_render_is_the_sns_contact_point() -> None:
    """`dendro alerts render --format grafana --topic-arn …` wrote no contact point: the topic was
    read for the CloudWatch target only."""
    texts = contents(fixtures.config({}), "grafana", topic_arn=TOPIC, services=list(fixtures.SERVICES))
    doc = yaml.safe_load(texts["dendro-notifications.yaml"])
    assert [r["settings"]["topic_arn"] for c in doc["contactPoints"] for r in c["receivers"]] == [TOPIC]


def test_the_policy_falls_back_to_the_contact_point_that_exists() -> None:
    doc = _files({"emails": ["ops@example.com"]})["dendro-notifications.yaml"]  # contact: sns, no topic
    assert [c["name"] for c in doc["contactPoints"]] == ["dendro-email"]
    assert doc["policies"][0]["receiver"] == "dendro-email"


def test_receivers_pass_grafanas_checks() -> None:
    assert grafana.email_addresses("a@example.com;b@example.com,c@example.com\n") == [
        "a@example.com", "b@example.com", "c@example.com"]
    assert grafana.is_arn(TOPIC) and grafana.is_arn("arn:aws:sns:::t")
    assert not grafana.is_arn("arn:aws:sns:us-east-1:t") and not grafana.is_arn("sns:a:b:c:d:e")
    for alerts in ({"emails": ["ops@example.com"]}, {"sns_topic_arn": TOPIC}):
        doc = _files(alerts)["dendro-notifications.yaml"]
        for point in doc["contactPoints"]:
            receiver = point["receivers"][0]
            grafana.check_receiver(receiver["type"], receiver["settings"])
    with pytest.raises(grafana.ReceiverError, match=r"alerts\.sns_topic_arn"):
        _files({"sns_topic_arn": "arn:aws:sns:dendro-alerts"})
    with pytest.raises(grafana.ReceiverError, match="at least one address"):
        grafana.check_receiver("email", {"addresses": ";"})


FILE_KEYS = {"apiVersion", "groups", "deleteRules", "contactPoints", "deleteContactPoints", "policies",
             "resetPolicies", "muteTimes", "deleteMuteTimes", "templates", "deleteTemplates"}
GROUP_KEYS = {"orgId", "name", "folder", "interval", "rules"}
RULE_KEYS = {"uid", "title", "condition", "data", "dasboardUid", "dashboardUid", "panelId", "noDataState",
             "execErrState", "for", "keepFiringFor", "missing_series_evals_to_resolve", "annotations",
             "labels", "isPaused", "notification_settings", "record"}
QUERY_KEYS = {"refId", "queryType", "relativeTimeRange", "datasourceUid", "model"}
CONTACT_POINT_KEYS = {"orgId", "name", "receivers"}
RECEIVER_KEYS = {"uid", "type", "settings", "disableResolveMessage"}
POLICY_KEYS = {"orgId", "receiver", "group_by", "matchers", "object_matchers", "mute_time_intervals",
               "active_time_intervals", "continue", "routes", "group_wait", "group_interval",
               "repeat_interval"}
PROM_DURATION = re.compile(r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")


def _durations_parse(*texts: str) -> bool:
    return all(text and PROM_DURATION.match(text) for text in texts)


def test_files_use_only_fields_grafana_reads() -> None:
    files = _files(GOLDEN_ALERTS)
    assert all(set(doc) <= FILE_KEYS and doc["apiVersion"] == 1 for doc in files.values())
    for group in files["dendro-alert-rules.yaml"]["groups"]:
        assert set(group) <= GROUP_KEYS and _durations_parse(group["interval"])
        for rule in group["rules"]:
            assert set(rule) <= RULE_KEYS, rule["title"]
            assert rule["noDataState"] in {"Alerting", "NoData", "OK", "KeepLast"}
            assert rule["execErrState"] in {"Alerting", "Error", "OK", "KeepLast"}
            assert _durations_parse(rule["for"]), rule["for"]
            assert all(set(query) <= QUERY_KEYS for query in rule["data"])
    notifications = files["dendro-notifications.yaml"]
    for point in notifications["contactPoints"]:
        assert set(point) <= CONTACT_POINT_KEYS
        assert all(set(receiver) <= RECEIVER_KEYS for receiver in point["receivers"])
    for policy in notifications["policies"]:
        assert set(policy) <= POLICY_KEYS
        assert _durations_parse(policy["group_wait"], policy["group_interval"], policy["repeat_interval"])
        assert policy["receiver"] in {point["name"] for point in notifications["contactPoints"]}


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
