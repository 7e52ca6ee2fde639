"""Prometheus rule files: promtool accepts them, and every default rule fires above its threshold
after its ``for`` and stays silent just below it (tests generated from the rule model)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from dendro.alerts import prometheus
from dendro.alerts.model import rules
from dendro.alerts.promql import query
from dendro.metrics import names
from tests.alerts import fixtures
from tests.alerts.promcases import promtool_tests
from tests.alerts.promtests import expected_alert, notation, selector
from tests.support import require_binary

pytestmark = pytest.mark.real


def _write(directory: Path, alerts: dict | None = None) -> list[str]:
    files = prometheus.rule_files("dendro", rules(fixtures.config(alerts), fixtures.SERVICES))
    for name, content in files.items():
        (directory / name).write_text(prometheus.dump(content), encoding="utf-8")
    return list(files)


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    promtool = require_binary("promtool", "prometheus")
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_promtool_checks_every_rule_file(tmp_path: Path) -> None:
    names = _write(tmp_path)
    assert names == ["dendro-recording.rules.yml", "dendro-alerts.rules.yml"]
    result = _promtool("check", "rules", *names, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == 2


def test_every_default_rule_fires_above_and_not_below(tmp_path: Path) -> None:
    names = _write(tmp_path)
    all_rules = rules(fixtures.config(), fixtures.SERVICES)
    tests = promtool_tests(names, all_rules)
    tested = {t["alert_rule_test"][0]["alertname"] for t in tests["tests"]}
    expressible = {r.name for r in all_rules if "prometheus" in r.targets}
    assert tested == expressible and len(tested) == 10
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False, width=100_000))
    result = _promtool("test", "rules", "tests.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_changed_threshold_is_tested_with_its_own_value(tmp_path: Path) -> None:
    """Tests follow an override; and tests made for one threshold fail against another."""
    tuned = {
        "rules": {
            "nginx": {"error_ratio": {"threshold": 20, "for": "2m"}},
            "host": {"cpu": {"threshold": 50}},
        }
    }
    names = _write(tmp_path, tuned)
    tuned_rules = [
        r for r in rules(fixtures.config(tuned), fixtures.SERVICES) if r.service in ("nginx", "host")
    ]
    tuned_rules = [r for r in tuned_rules if r.kind in ("error_ratio", "cpu")]
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(promtool_tests(names, tuned_rules), sort_keys=False))
    assert _promtool("test", "rules", "tests.yml", cwd=tmp_path).returncode == 0

    _write(tmp_path)  # the default thresholds (5%, 90%) under the tests made for 20% and 50%
    result = _promtool("test", "rules", "tests.yml", cwd=tmp_path)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "host_cpu" in output and "nginx_error_ratio" in output


def test_recording_rules_follow_the_level_metric_operations_convention() -> None:
    files = prometheus.rule_files("dendro", rules(fixtures.config(), fixtures.SERVICES))
    records = [r["record"] for r in files["dendro-recording.rules.yml"]["groups"][0]["rules"]]
    assert "service_host:dendro_http_requests:rate5m" in records
    assert "service_host:dendro_http_requests:avg1d_rate5m" in records
    assert "service_host:dendro_http_request_duration_seconds:stddev1d_p95_rate5m" in records
    assert all(len(r.split(":")) == 3 for r in records)
    # dependencies first: every recording rule only reads the ones above it
    for i, name in enumerate(records):
        for later in records[i + 1 :]:
            expr = files["dendro-recording.rules.yml"]["groups"][0]["rules"][i]["expr"]
            assert later not in expr.split("[")[0].split(), f"{name} reads {later}, defined after it"


def test_disabled_rules_and_services_leave_the_files() -> None:
    alerts = {"rules": {"nginx": False, "host": {"disk_forecast": False}}}
    files = prometheus.rule_files("dendro", rules(fixtures.config(alerts), fixtures.SERVICES))
    alerts_file = files["dendro-alerts.rules.yml"]
    names = [r["alert"] for g in alerts_file["groups"] for r in g["rules"]]
    assert "host_disk_forecast" not in names and not any(n.startswith("nginx") for n in names)
    assert "dendro-recording.rules.yml" not in files  # nothing needs a recording rule any more
    assert names == ["postgres_fatal", "host_cpu", "host_memory", "host_disk", "agent_silent"]


def test_agent_silent_counts_agents_only(tmp_path: Path) -> None:
    """A host that only arrived by backfill (events, no agent heartbeat) never counts as silent,
    in the Prometheus rule and in the expression Grafana's rule evaluates; an agent whose
    heartbeats stop does, even while another table still has its older events."""
    names_ = _write(tmp_path)
    rule = next(r for r in rules(fixtures.config(), fixtures.SERVICES) if r.kind == "agent_silent")
    q = query(rule)
    assert q is not None
    end = 30  # minutes
    moving = [60.0 * m for m in range(end + 1)]  # a heartbeat every minute up to the end
    stopped = [60.0 * min(m, 5) for m in range(end + 1)]  # the last one at minute 5
    series = {
        selector(names.LAST_EVENT, table="nginx_access", host="backfill-1"): [60.0] * (end + 1),
        selector(names.LAST_EVENT, table="agent", host="web-1"): stopped,
        selector(names.LAST_EVENT, table="nginx_access", host="web-1"): stopped,
        selector(names.LAST_EVENT, table="agent", host="web-2"): moving,
        selector(names.LAST_EVENT, table="nginx_access", host="web-2"): [60.0] * (end + 1),
    }
    silent = (end - 5) * 60.0
    tests = {
        "rule_files": names_,
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [{"series": s, "values": notation(v)} for s, v in series.items()],
            "alert_rule_test": [{"eval_time": f"{end}m", "alertname": rule.name,
                                 "exp_alerts": [expected_alert(rule, {"host": "web-1"}, silent)]}],
            "promql_expr_test": [{"expr": q.grafana_expr, "eval_time": f"{end}m",
                                  "exp_samples": [{"labels": '{host="web-1"}', "value": silent},
                                                  {"labels": '{host="web-2"}', "value": 0}]}],
        }],
    }
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False, width=100_000))
    result = _promtool("test", "rules", "tests.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
