"""``dendro alerts render`` and ``dendro alerts list``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.table import Table

from dendro.alerts.durations import format_duration
from dendro.alerts.kinds import Rule
from dendro.alerts.model import rule_key, rules
from dendro.alerts.render import FORMATS, render
from dendro.cli_common import CONFIG_OPTION, JSON_OPTION, console, fail, load_config, print_json, user_errors

alerts_app = typer.Typer(help="Alert rules: list them, render them for Grafana, Prometheus or CloudWatch.")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")


@alerts_app.command("render")
def render_command(
    format: str = typer.Option(..., "--format", "-f", help="grafana, prometheus or cloudwatch."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Directory to write into (default: alerts/<format>)."
    ),
    topic_arn: str | None = typer.Option(
        None, "--topic-arn",
        help="SNS topic of the alarms (cloudwatch) and of Grafana's sns contact point"
        " (overrides alerts.sns_topic_arn).",
    ),
    log_group: str | None = typer.Option(None, "--log-group", help="The loader's log group (cloudwatch)."),
    config: Path | None = CONFIG_OPTION,
) -> None:
    """Write the alert rules for one target."""
    if format not in FORMATS:
        fail(f"--format: expected one of {', '.join(FORMATS)}, got {format!r}", code=2)
    cfg = load_config(config)
    with user_errors():
        paths = render(cfg, format, out or Path("alerts") / format, topic_arn, log_group)
    for path in paths:
        console.print(f"wrote {path}", highlight=False)


def _row(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "key": f"alerts.rules.{rule.service}.{rule_key(rule)}",
        "service": rule.service,
        "kind": rule.kind,
        "severity": rule.severity,
        "threshold": rule.threshold,
        "condition": f"{rule.spec.op} {rule.threshold_text()}",
        "for": format_duration(rule.for_s),
        "window": format_duration(rule.window_s) if rule.window_s else None,
        "targets": list(rule.targets),
        "enabled": rule.enabled,
    }


@alerts_app.command("list")
def list_command(json_output: bool = JSON_OPTION, config: Path | None = CONFIG_OPTION) -> None:
    """Show every alert rule with its threshold, duration and outputs."""
    cfg = load_config(config)
    with user_errors():
        rows = [_row(r) for r in rules(cfg)]
    if json_output:
        print_json(rows)
        return
    # every cell but the outputs keeps to one line: the outputs wrap on a narrow terminal
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("rule", "severity", "when", "for", "window", "on"):
        table.add_column(name, no_wrap=True)
    table.add_column("outputs", min_width=11)
    for row in rows:
        table.add_row(
            str(row["name"]),
            str(row["severity"]),
            str(row["condition"]),
            str(row["for"]),
            str(row["window"] or ""),
            "yes" if row["enabled"] else "no",
            ", ".join(row["targets"]),
        )
    console.print(table)
