"""Write the alert rules of a config for one target: Grafana, Prometheus or CloudWatch.

``render(config, target, out_dir)`` writes the target's files and returns their paths. The
CloudWatch target writes the ordered API calls as JSON (what ``dendro deploy`` runs), so it needs
the loader's log group and the SNS topic ARN; a topic given here is also the Grafana target's sns
contact point.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from dendro.alerts import cloudwatch, grafana, prometheus
from dendro.alerts.model import AlertConfigError, rules, settings
from dendro.config import Config
from dendro.services.base import Service

Format = Literal["grafana", "prometheus", "cloudwatch"]
FORMATS: tuple[Format, ...] = ("grafana", "prometheus", "cloudwatch")


def log_group_of(config: Config) -> str:
    """The loader's log group, as the AWS pipeline names it."""
    return f"/aws/lambda/{config.pipeline}-loader"


def contents(
    config: Config,
    target: Format,
    topic_arn: str | None = None,
    log_group: str | None = None,
    services: list[Service] | None = None,
) -> dict[str, str]:
    """File name → text for the target."""
    rule_list = rules(config, services)
    if target == "prometheus":
        return {
            name: prometheus.dump(c) for name, c in prometheus.rule_files(config.pipeline, rule_list).items()
        }
    alert_settings = settings(config)
    if topic_arn:  # the topic given on the command line is the one Grafana's sns contact point uses too
        alert_settings = replace(alert_settings, sns_topic_arn=topic_arn)
    if target == "grafana":
        files = grafana.files(config.pipeline, rule_list, alert_settings, config.aws.region)
        return {name: grafana.dump(c) for name, c in files.items()}
    topic = topic_arn or alert_settings.sns_topic_arn
    if not topic:
        raise AlertConfigError(
            "the CloudWatch alarms need the pipeline's SNS topic: pass --topic-arn (dendro deploy prints it)"
            " or set alerts.sns_topic_arn in dendro.yaml"
        )
    group = log_group or log_group_of(config)
    document: dict[str, Any] = {
        "requires": {"log_group": group, "sns_topic": topic},
        "metric_filters": cloudwatch.metric_filters(config, group, rule_list),
        "alarms": cloudwatch.alarms(config, topic, rule_list),
    }
    return {f"{config.pipeline}-cloudwatch.json": json.dumps(document, indent=2) + "\n"}


def render(
    config: Config,
    target: Format,
    out_dir: Path,
    topic_arn: str | None = None,
    log_group: str | None = None,
    services: list[Service] | None = None,
) -> list[Path]:
    """Write the target's files into ``out_dir`` (created if needed); their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in contents(config, target, topic_arn, log_group, services).items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
