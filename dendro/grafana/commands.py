"""``dendro grafana build``: write the Grafana provisioning tree (datasources, dashboards, alerting)."""

from __future__ import annotations

from pathlib import Path

import typer

from dendro.cli_common import CONFIG_OPTION, console, fail, load_config, user_errors
from dendro.config import Config
from dendro.grafana.build import DashboardError
from dendro.grafana.provisioning import DEFAULT_DASHBOARDS_PATH, PROMETHEUS_URL, write
from dendro.grafana.selection import all_services

grafana_app = typer.Typer(help="Grafana: dashboards as code and a ready provisioning tree.")


def register(app: typer.Typer) -> None:
    app.add_typer(grafana_app, name="grafana")


def _config(path: Path | None, every_service: bool) -> Config:
    if not every_service:
        return load_config(path)
    if path is None:
        return all_services()
    config = load_config(path)
    config.services = {**{name: {} for name in all_services().services}, **config.services}
    return config


def _with_destinations(config: Config, topic_arn: str | None, emails: list[str]) -> Config:
    """The config with ``alerts.sns_topic_arn`` / ``alerts.emails`` replaced by what was passed."""
    alerts = dict(config.alerts)
    if topic_arn:
        alerts["sns_topic_arn"] = topic_arn
    if emails:
        alerts["emails"] = list(emails)
    config.alerts = alerts
    return config


@grafana_app.command("build")
def build_command(
    out: Path = typer.Option(..., "--out", "-o", help="Directory to write the provisioning tree into."),
    config: Path | None = CONFIG_OPTION,
    every_service: bool = typer.Option(False, "--all-services",
                                       help="Every built-in service on (how the repository's provisioning/ is"
                                       " built); without --config, the default config."),
    dashboards_path: str = typer.Option(DEFAULT_DASHBOARDS_PATH, "--dashboards-path",
                                        help="Where the dashboards directory is inside Grafana."),
    prometheus_url: str = typer.Option(PROMETHEUS_URL, "--prometheus-url",
                                       help="URL Grafana reaches Prometheus at."),
    topic_arn: str | None = typer.Option(None, "--sns-topic-arn",
                                         help="SNS topic for Grafana's sns contact point (instead of"
                                         " alerts.sns_topic_arn; dendro deploy prints it)."),
    emails: list[str] = typer.Option([], "--email",
                                     help="Address for Grafana's email contact point (repeat it; instead"
                                     " of alerts.emails)."),
) -> None:
    """Write datasources/, dashboards/ and alerting/ for Grafana's provisioning directory."""
    cfg = _with_destinations(_config(config, every_service), topic_arn, emails)
    with user_errors():
        try:
            paths = write(cfg, out, dashboards_path, prometheus_url)
        except DashboardError as error:
            fail(str(error))
    for path in paths:
        console.print(f"wrote {path}", highlight=False)
