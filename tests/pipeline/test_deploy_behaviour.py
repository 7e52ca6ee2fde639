"""Deploy behaviour against moto's server, in-process: updates, refusals, emptying (the
deployer policy against every call: test_deployer_policy.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dendro import config as config_module
from dendro.config import Config
from dendro.pipeline import deployer
from dendro.pipeline.clients import Clients
from dendro.pipeline.errors import TimestreamUnavailable
from dendro.pipeline.executor import Backoff, Executor
from dendro.pipeline.models import APICall, EmptyBucket, Plan, WaitFor
from tests.pipeline import awscheck
from tests.servers.moto import MotoServer

NO_WAIT = Backoff(deadline_s=5, base_s=0.01, cap_s=0.05, sleep=lambda _s: None)
CLIENTS = Clients("us-east-1")


def _config(tmp_path: Path, extra: str = "") -> Config:
    path = tmp_path / "dendro.yaml"
    path.write_text(f"pipeline: dbeh\nservices: [nginx]\n{extra}", encoding="utf-8")
    return config_module.load(path)


def _teardown(config: Config, clients: Clients) -> None:
    inventory, plan = deployer.plan_removal(config, clients)
    assert deployer.teardown(config, clients, inventory, plan, backoff=NO_WAIT).left.owned == []


def test_a_changed_setting_updates_only_what_it_touches(aws: MotoServer, tmp_path: Path) -> None:
    deployer.deploy(_config(tmp_path), CLIENTS.sharing(), backoff=NO_WAIT)
    changed = _config(
        tmp_path,
        "aws: {buffer_interval: 120, lambda_memory_mb: 1024, memory_retention_hours: 48,"
        " raw_expiry_days: 3}\n",
    )
    plan = deployer.deploy(changed, CLIENTS.sharing(), dry_run=True, show=lambda _l: None).plan
    calls = sorted({(i.service, i.method) for i in plan.instructions if isinstance(i, APICall)})
    assert calls == [
        ("firehose", "update_destination"),
        ("lambda", "update_function_configuration"),
        ("s3", "put_bucket_lifecycle_configuration"),
        ("timestream-write", "update_table"),
    ]
    updated_tables = [
        i.params["TableName"]
        for i in plan.instructions
        if isinstance(i, APICall) and i.method == "update_table"
    ]
    assert sorted(updated_tables) == sorted(changed.tables())
    assert {c.action for c in plan.changes} == {"update"}

    deployer.deploy(changed, CLIENTS.sharing(), backoff=NO_WAIT)
    assert deployer.deploy(changed, CLIENTS.sharing(), backoff=NO_WAIT).plan.empty
    lam = awscheck.client("lambda").get_function_configuration(FunctionName="dbeh-loader")
    assert lam["MemorySize"] == 1024
    stream = awscheck.client("firehose").describe_delivery_stream(DeliveryStreamName="dbeh")
    hints = stream["DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"][
        "BufferingHints"
    ]
    assert hints == {"IntervalInSeconds": 120, "SizeInMBs": 1}
    _teardown(changed, CLIENTS.sharing())


def _refuse_timestream(method: str) -> Any:
    def hook(service: str, called: str, params: dict[str, Any]) -> None:
        if service == "timestream-write" and called == method:
            message = "Only existing Timestream for LiveAnalytics customers can access the service."
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": message}}, called)

    return hook


@pytest.mark.parametrize("method", ["describe_database", "create_database", "create_table"])
def test_timestream_refusal_says_so_and_leaves_no_half_pipeline(
    aws: MotoServer, tmp_path: Path, method: str
) -> None:
    with pytest.raises(TimestreamUnavailable, match="local backend"):
        deployer.deploy(_config(tmp_path), CLIENTS.sharing(_refuse_timestream(method)), backoff=NO_WAIT)
    assert awscheck.remains("dbeh") == []


def test_emptying_a_bucket_follows_every_page_and_every_version(aws: MotoServer) -> None:
    s3 = awscheck.client("s3")
    s3.create_bucket(Bucket="dbeh-versions")
    s3.put_bucket_versioning(Bucket="dbeh-versions", VersioningConfiguration={"Status": "Enabled"})
    for n in range(5):
        for body in (b"one", b"two"):
            s3.put_object(Bucket="dbeh-versions", Key=f"raw/{n}", Body=body)
        s3.delete_object(Bucket="dbeh-versions", Key=f"raw/{n}")  # a delete marker
    clients = CLIENTS.sharing()
    plan = Plan(
        (
            EmptyBucket("dbeh-versions", page_size=4),
            APICall("s3", "delete_bucket", {"Bucket": "dbeh-versions"}),
        )
    )
    Executor(clients).execute(plan)
    assert clients.calls.count(("s3", "list_object_versions")) == 4  # 15 entries, 4 per page
    assert "s3:dbeh-versions" not in awscheck.remains("dbeh")


def test_plans_are_frozen_data() -> None:
    wait = WaitFor("firehose_active", "s")
    with pytest.raises(dataclasses.FrozenInstanceError):
        wait.name = "other"  # type: ignore[misc]
