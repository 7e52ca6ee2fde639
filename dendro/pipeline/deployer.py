"""Deploy, list and tear down one pipeline: the functions the CLI calls, one per command.

Each starts with the credentials check (who am I, which region), derives the names, and
works through the planner/executor machinery. A Timestream refusal of the account removes
whatever the pipeline has, so no half pipeline stays behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dendro.config import Config
from dendro.pipeline import desired as desired_module
from dendro.pipeline import package as package_module
from dendro.pipeline import policies
from dendro.pipeline.clients import Clients
from dendro.pipeline.errors import DeployError, TimestreamUnavailable, explain
from dendro.pipeline.executor import Backoff, DisplayExecutor, Executor, ProgressCallback
from dendro.pipeline.inventory import Inventory, discover
from dendro.pipeline.models import Names, Plan
from dendro.pipeline.plan import Planner
from dendro.pipeline.teardown import plan_teardown


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    region: str


@dataclass
class DeployReport:
    names: Names
    identity: Identity
    plan: Plan
    api_calls: int = 0
    access_key: dict[str, str] | None = None  # printed once by the CLI, never stored
    emails: tuple[str, ...] = ()
    applied: bool = True

    @property
    def changed(self) -> bool:
        return not self.plan.empty


@dataclass
class TeardownReport:
    names: Names
    deleted: Inventory
    left: Inventory
    api_calls: int = 0
    agent_hosts: list[str] | None = field(default=None)


def identity(clients: Clients) -> Identity:
    """Who is deploying, checked before anything else."""
    try:
        me = clients.call("sts", "get_caller_identity")
    except (ClientError, BotoCoreError) as error:
        raise explain(error, "sts", "get_caller_identity") from None
    return Identity(account=me["Account"], arn=me["Arn"], region=clients.region)


def names_of(config: Config, who: Identity) -> Names:
    return Names(config.pipeline, who.account, who.region)


def plan_deploy(
    config: Config, clients: Clients, names: Names, emails: Sequence[str] = (), agent_user: bool = False
) -> Plan:
    entry = package_module.ATHENA_ENTRY if desired_module.is_athena(config) else package_module.ENTRY
    pipeline = desired_module.desired(config, names, package_module.build(entry), emails, agent_user)
    return Planner(clients, names).plan(pipeline)


def deploy(
    config: Config,
    clients: Clients,
    *,
    emails: Sequence[str] = (),
    agent_user: bool = False,
    dry_run: bool = False,
    on_progress: ProgressCallback | None = None,
    show: Callable[[str], None] | None = None,
    confirm: Callable[[Plan], bool] | None = None,
    announce: Callable[[Identity], None] | None = None,
    backoff: Backoff | None = None,
) -> DeployReport:
    """Plan, then execute (or, with ``dry_run``, display) the calls. ``confirm`` sees the plan
    before anything changes and may decline it (the report then has ``applied`` False)."""
    who = identity(clients)
    if announce is not None:
        announce(who)
    names = names_of(config, who)
    try:
        plan = plan_deploy(config, clients, names, emails, agent_user)
        report = DeployReport(names, who, plan, emails=desired_module.emails_of(config, emails))
        if dry_run:
            DisplayExecutor(show or print).execute(plan)
        elif not plan.empty:
            if confirm is not None and not confirm(plan):
                report.applied = False
                report.api_calls = len(clients.calls)
                return report
            result = Executor(clients, on_progress, backoff).execute(plan)
            report.access_key = _access_key(result.secrets.get("agent_access_key"))
    except TimestreamUnavailable:
        if not dry_run:
            _remove_everything(clients, names, backoff)
        raise
    report.api_calls = len(clients.calls)
    return report


def _access_key(raw: Any) -> dict[str, str] | None:
    if not raw:
        return None
    return {"AccessKeyId": raw["AccessKeyId"], "SecretAccessKey": raw["SecretAccessKey"]}


def _remove_everything(clients: Clients, names: Names, backoff: Backoff | None) -> None:
    inventory = discover(clients, names, policies.TIMESTREAM)
    if inventory.owned:
        Executor(clients, backoff=backoff).execute(plan_teardown(clients, inventory))


def inventory(config: Config, clients: Clients) -> Inventory:
    """Every component of the pipeline with its state (``dendro list``)."""
    return discover(clients, names_of(config, identity(clients)), config.aws.store)


def plan_removal(config: Config, clients: Clients) -> tuple[Inventory, Plan]:
    inv = inventory(config, clients)
    return inv, plan_teardown(clients, inv)


def teardown(
    config: Config,
    clients: Clients,
    inv: Inventory,
    plan: Plan,
    on_progress: ProgressCallback | None = None,
    backoff: Backoff | None = None,
) -> TeardownReport:
    """Run a removal plan, then look again: ``left`` should own nothing."""
    Executor(clients, on_progress, backoff).execute(plan)
    left = discover(clients, inv.names, inv.store)
    return TeardownReport(inv.names, inv, left, api_calls=len(clients.calls))


def recent_agent_hosts(config: Config, clients: Clients, minutes: int = 10) -> list[str] | None:
    """Hosts whose agents sent a heartbeat in the last minutes, or None when unknown."""
    if desired_module.is_athena(config):
        return _recent_agent_hosts_in_s3(config, clients, minutes)
    from dendro.pipeline.clients import endpoint_url
    from dendro.store.base import StoreError
    from dendro.store.timestream import TimestreamStore

    store = TimestreamStore(
        config.database, config.tables(), region=clients.region, endpoint_url=endpoint_url()
    )
    sql = f'SELECT DISTINCT host FROM "{config.database}"."agent" WHERE time > ago({int(minutes)}m)'
    try:
        result = store.query(sql)
    except (StoreError, ClientError, BotoCoreError):
        return None
    return sorted(str(row[0]) for row in result.rows)


def _recent_agent_hosts_in_s3(config: Config, clients: Clients, minutes: int) -> list[str] | None:
    """The athena store: the agents' Parquet objects of today written in the last minutes (read
    directly: no Athena query, nothing billed per byte)."""
    from dendro.store.athena_reading import recent_hosts

    try:
        names = names_of(config, identity(clients))
        return recent_hosts(clients.client("s3"), names.bucket, "agent", minutes)
    except (DeployError, ClientError, BotoCoreError, ValueError):
        return None


def deployer_policy(config: Config, clients: Clients) -> tuple[dict[str, Any], bool]:
    """The deploying identity's policy; the bool says whether the account is known."""
    try:
        names, known = names_of(config, identity(clients)), True
    except DeployError:
        names, known = Names(config.pipeline, "*", clients.region), False
    layer = ""
    if desired_module.is_athena(config):
        from dendro.pipeline.layers import pyarrow_layer

        layer = pyarrow_layer(names.region, config.aws.pyarrow_layer)
    alarms = desired_module.alarm_names(config, names)
    return policies.deployer(names, alarms, config.aws.store, layer), known
