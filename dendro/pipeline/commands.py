"""``dendro deploy``, ``dendro list`` and ``dendro teardown``: parse, call one function, render."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from dendro.cli_common import CONFIG_OPTION, JSON_OPTION, YES_OPTION, console, err_console, fail, load_config
from dendro.config import Config
from dendro.pipeline.errors import DeployError
from dendro.pipeline.models import Plan

if TYPE_CHECKING:  # boto3 is loaded by the verbs that call AWS, not by `dendro --help`
    from dendro.pipeline import deployer
    from dendro.pipeline.clients import Clients
    from dendro.pipeline.executor import Progress
    from dendro.pipeline.inventory import Inventory

EMAIL_OPTION = typer.Option(None, "--email", help="Email address for alerts (repeat for several).")


def _progress(event: Progress) -> None:
    if event.state == "start":
        console.print(f"  [dim][{event.step}/{event.total}][/] {event.text}", highlight=False)
    elif event.state == "retry":
        console.print(f"  [yellow]…[/] {event.text}; retrying", highlight=False)


def _clients(config: Config) -> Clients:
    from dendro.pipeline.clients import Clients

    return Clients(region=config.aws.region)


def _ask_emails(config: Config, emails: list[str], yes: bool) -> list[str]:
    if yes or emails or config.aws.emails:
        return emails
    if not typer.confirm("Send alert emails (SNS)?", default=False):
        return []
    answer = typer.prompt("Email addresses, separated by commas", default="", show_default=False)
    return [a.strip() for a in answer.split(",") if a.strip()]


def _show_changes(plan: Plan) -> None:
    for change in plan.changes:
        colour = {"create": "green", "update": "yellow", "delete": "red"}[change.action]
        console.print(f"  [{colour}]{change.action:6}[/] {change.label}", highlight=False)


def deploy(
    config_path: Path | None = CONFIG_OPTION,
    plan: bool = typer.Option(
        False, "--plan", help="Print the API calls a deploy would make; change nothing."
    ),
    yes: bool = YES_OPTION,
    email: list[str] = EMAIL_OPTION,
    print_policy: bool = typer.Option(
        False, "--print-policy", help="Print the IAM policy the deployer needs."
    ),
    create_agent_user: bool = typer.Option(
        False, "--create-agent-user", help="Also create an IAM user for the agents; its key is printed once."
    ),
) -> None:
    """Create or update the AWS pipeline (Firehose → S3 → Lambda → Timestream or Parquet; alerts)."""
    from dendro.pipeline import deployer

    config = load_config(config_path)
    clients = _clients(config)
    if print_policy:
        document, known = deployer.deployer_policy(config, clients)
        if not known:
            err_console.print("No credentials: the account id is shown as *.")
        console.print_json(json.dumps(document))
        return
    emails = [] if plan else _ask_emails(config, list(email or []), yes)

    def confirm(p: Plan) -> bool:
        console.print(f"Changes to pipeline [bold]{config.pipeline}[/]:")
        _show_changes(p)
        return yes or typer.confirm("Apply them?", default=True)

    started = time.monotonic()
    try:
        report = deployer.deploy(
            config,
            clients,
            emails=emails,
            agent_user=create_agent_user,
            dry_run=plan,
            on_progress=_progress,
            show=lambda line: console.print(line, highlight=False, markup=False, soft_wrap=True),
            confirm=confirm,
            announce=lambda who: console.print(
                f"Pipeline {config.pipeline}: account {who.account} as {who.arn}, region {who.region}.",
                highlight=False,
            ),
        )
    except DeployError as error:
        fail(str(error))
    _render_deploy(report, plan, time.monotonic() - started)


def _render_deploy(report: deployer.DeployReport, dry_run: bool, seconds: float) -> None:
    names = report.names
    if report.plan.empty:
        console.print(
            f"Nothing to change: pipeline {names.pipeline} is up to date "
            f"({report.api_calls} API calls, all reads)."
        )
        return
    if dry_run:
        console.print(f"Plan only: {len(report.plan.changes)} resources would change; nothing was changed.")
        _show_changes(report.plan)
        return
    if not report.applied:
        console.print("Nothing was changed.")
        return
    console.print(
        f"[green]Deployed[/] pipeline {names.pipeline}: {len(report.plan.changes)} resources created or "
        f"updated in {seconds:.1f} s ({report.api_calls} API calls)."
    )
    if report.access_key:
        key = report.access_key
        console.print(
            "Agent credentials, shown ONCE and stored nowhere; put them in the agents' environment now:"
        )
        console.print(
            f"  AWS_ACCESS_KEY_ID={key['AccessKeyId']}\n  AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}",
            highlight=False,
            markup=False,
        )
    console.print("Next:")
    console.print(
        f"  1. Set `backend: aws` in dendro.yaml, run `dendro configure`, and start Vector with the "
        "generated "
        f"config on each node (it puts records into Firehose stream {names.stream}).",
        highlight=False,
    )
    console.print(
        f"  2. Give the agents' IAM identity the policy {names.agent_policy_arn} (it only allows "
        "putting records into that stream), or run deploy with --create-agent-user.",
        highlight=False,
    )
    if report.emails:
        console.print(
            "  3. Confirm the subscription email AWS sent to: " + ", ".join(report.emails), highlight=False
        )
    console.print("  `dendro list` shows every component; `dendro teardown` removes them.")


def list_pipeline(config_path: Path | None = CONFIG_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Show every component of the AWS pipeline with its state and console link."""
    from dendro.pipeline import deployer

    config = load_config(config_path)
    try:
        inventory = deployer.inventory(config, _clients(config))
    except DeployError as error:
        fail(str(error))
    if as_json:
        print(json.dumps(inventory.to_dict(), indent=2))
        return
    _render_inventory(inventory)


def _render_inventory(inventory: Inventory) -> None:
    names = inventory.names
    if not inventory.owned:
        console.print(
            f"No Dendro pipeline {names.pipeline} in account {names.account}, region {names.region}."
        )
    else:
        console.print(f"Pipeline [bold]{names.pipeline}[/] (account {names.account}, {names.region}):")
        for found in inventory.owned:
            console.print(f"  {found.kind:<20} {found.name:<40} {found.state}", highlight=False)
            if found.link:
                console.print(f"    [dim]{found.link}[/]", highlight=False, soft_wrap=True)
    for sub in inventory.subscriptions:
        console.print(f"  alert {sub['protocol']} {sub['endpoint']}: {sub['state']}", highlight=False)
    for found in inventory.foreign:
        console.print(
            f"  [yellow]not Dendro's:[/] {found.kind} {found.name} ({found.detail})", highlight=False
        )


def teardown(config_path: Path | None = CONFIG_OPTION, yes: bool = YES_OPTION) -> None:
    """Delete every resource of the AWS pipeline (found by name and tag), then check none is left."""
    from dendro.pipeline import deployer

    config = load_config(config_path)
    clients = _clients(config)
    try:
        inventory, plan = deployer.plan_removal(config, clients)
        if not inventory.owned:
            _render_inventory(inventory)
            console.print("Nothing to delete.")
            return
        console.print(f"Will delete pipeline [bold]{config.pipeline}[/] ({len(inventory.owned)} resources):")
        _show_changes(plan)
        for found in inventory.foreign:
            console.print(
                f"  [yellow]left alone:[/] {found.kind} {found.name} ({found.detail})", highlight=False
            )
        hosts = deployer.recent_agent_hosts(config, clients)
        if hosts:
            err_console.print(
                f"[bold yellow]warning:[/] agents sent events in the last 10 minutes from: "
                f"{', '.join(hosts)}. They will fail to deliver once the stream is gone."
            )
        if not yes and not typer.confirm("Delete all of it?", default=False):
            console.print("Nothing was deleted.")
            raise typer.Exit(1)
        report = deployer.teardown(config, clients, inventory, plan, on_progress=_progress)
    except DeployError as error:
        fail(str(error))
    if report.left.owned:
        left = ", ".join(f"{f.kind} {f.name}" for f in report.left.owned)
        fail(f"still there after teardown: {left}. Run `dendro teardown` again.")
    console.print(
        f"[green]Deleted[/] pipeline {config.pipeline}: nothing of it is left ({report.api_calls} API calls)."
    )


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
    app.command("list")(list_pipeline)
    app.command("teardown")(teardown)
