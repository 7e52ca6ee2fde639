"""``dendro alerts list`` and ``dendro alerts render`` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from dendro.cli import app

CONFIG = """
pipeline: shop
backend: aws
services: {nginx: {}, host: {}}
alerts:
  emails: [ops@example.com]
  rules:
    nginx:
      error_ratio: {threshold: 2, for: 5m}
    host: {disk_forecast: false}
"""


def _config(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "dendro.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_list_shows_thresholds(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["alerts", "list", "--json", "-c", str(_config(tmp_path))])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["nginx_error_ratio"]["condition"] == "> 2%" and rows["nginx_error_ratio"]["for"] == "5m"
    assert rows["nginx_error_ratio"]["key"] == "alerts.rules.nginx.error_ratio"
    assert rows["host_disk_forecast"]["enabled"] is False
    table = CliRunner().invoke(app, ["alerts", "list", "-c", str(_config(tmp_path))], terminal_width=200)
    assert "nginx_error_ratio" in table.stdout and "> 2%" in table.stdout
    narrow = CliRunner().invoke(app, ["alerts", "list", "-c", str(_config(tmp_path))], terminal_width=80)
    assert "nginx_error_ratio" in narrow.stdout and "prometheus," in narrow.stdout  # nothing cut short
    assert "…" not in narrow.stdout


def test_render_each_format(tmp_path: Path) -> None:
    config = str(_config(tmp_path))
    runner = CliRunner()
    for fmt in ("prometheus", "grafana"):
        result = runner.invoke(
            app, ["alerts", "render", "--format", fmt, "--out", str(tmp_path / fmt), "-c", config]
        )
        assert result.exit_code == 0, result.output
    rules = yaml.safe_load((tmp_path / "prometheus" / "shop-alerts.rules.yml").read_text())
    ratio = next(r for g in rules["groups"] for r in g["rules"] if r["alert"] == "nginx_error_ratio")
    assert ratio["expr"].endswith("> 0.02") and ratio["for"] == "5m"
    assert (tmp_path / "grafana" / "shop-notifications.yaml").exists()

    missing = runner.invoke(
        app, ["alerts", "render", "-f", "cloudwatch", "--out", str(tmp_path / "cw"), "-c", config]
    )
    assert missing.exit_code == 1 and "--topic-arn" in missing.output
    topic = "arn:aws:sns:us-east-1:123456789012:shop-alerts"
    args = [
        "alerts",
        "render",
        "-f",
        "cloudwatch",
        "--topic-arn",
        topic,
        "--out",
        str(tmp_path / "cw"),
        "-c",
        config,
    ]
    assert runner.invoke(app, args).exit_code == 0
    document = json.loads((tmp_path / "cw" / "shop-cloudwatch.json").read_text())
    assert document["requires"]["log_group"] == "/aws/lambda/shop-loader"
    assert {a["AlarmName"] for a in document["alarms"]} >= {"shop-nginx_5xx"}


def test_user_mistakes_end_in_one_line(tmp_path: Path) -> None:
    bad = _config(tmp_path, "services: {nginx: {}}\nalerts: {rules: {nginx: {latency_p95: {for: soon}}}}\n")
    result = CliRunner().invoke(app, ["alerts", "list", "-c", str(bad)])
    assert result.exit_code == 1
    assert "rule nginx_latency_p95: cannot parse duration 'soon'" in result.output
    assert "Traceback" not in result.output
    usage = CliRunner().invoke(app, ["alerts", "render", "--format", "pagerduty", "-c", str(bad)])
    assert usage.exit_code == 2
