"""The athena store's deployer policy is exactly what its deploy, list and teardown call, and no more:
every request of real runs against moto is recorded and evaluated against the printed policy
(tests/pipeline/iam_calls.py, iam_eval.py), as tests/pipeline/test_deployer_policy.py does for Timestream.
The loader role is held to its own requests the same way (the loader run under moto's S3)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.client import BaseClient

from dendro import config as config_module
from dendro.config import Config
from dendro.pipeline import deployer, desired, policies
from dendro.pipeline.clients import Clients
from dendro.pipeline.models import Names
from tests.pipeline import awscheck
from tests.pipeline.iam_calls import Recorder, authorisations
from tests.pipeline.iam_eval import Request, decide
from tests.pipeline.test_athena_deploy import pyarrow_layer
from tests.pipeline.test_deployer_policy import NO_WAIT, _record
from tests.servers.moto import MotoServer

CLIENTS = Clients("us-east-1")
NAMES = Names("dpola", "123456789012", "us-east-1")
ALARMS = ["dpola-nginx_5xx", "dpola-nginx_error_critical"]
ADMINISTRATORS_PART = {f"iam:CreatePolicy on {NAMES.boundary_arn}", f"iam:TagPolicy on {NAMES.boundary_arn}"}


def _config(tmp_path: Path, layer: str, extra: str = "") -> Config:
    path = tmp_path / "dendro.yaml"
    path.write_text(
        "pipeline: dpola\nservices: [nginx]\n"
        f"aws: {{store: athena, emails: [ops@example.com], pyarrow_layer: '{layer}'{extra}}}\n",
        encoding="utf-8",
    )
    return config_module.load(path)


def _agent_object() -> None:
    """An agent heartbeat written a moment ago, so teardown's agent check reads an object."""
    from datetime import UTC, datetime

    now = datetime.now(UTC).replace(tzinfo=None)
    table = pa.table({"time": pa.array([now], pa.timestamp("us")), "host": ["web-1"]})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    key = f"tables/agent/date={now.date().isoformat()}/{now:%Y%m%dT%H%M%S}Z-0123456789ab.parquet"
    awscheck.client("s3").put_object(Bucket=NAMES.bucket, Key=key, Body=sink.getvalue())


def moto_update_work_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2.5 has no UpdateWorkGroup (its server answers 500): below the recorder, the call is
    carried out as a delete and a create with the updated settings (the recorder sees the update)."""
    original = BaseClient._make_api_call

    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation != "UpdateWorkGroup":
            return original(client, operation, params)
        name, updates = params["WorkGroup"], params["ConfigurationUpdates"]
        arn = f"arn:aws:athena:us-east-1:123456789012:workgroup/{name}"
        tags = original(client, "ListTagsForResource", {"ResourceARN": arn}).get("Tags", [])
        configuration = {k: v for k, v in updates.items() if k != "ResultConfigurationUpdates"}
        configuration["ResultConfiguration"] = updates["ResultConfigurationUpdates"]
        original(client, "DeleteWorkGroup", {"WorkGroup": name, "RecursiveDeleteOption": True})
        return original(
            client, "CreateWorkGroup", {"Name": name, "Configuration": configuration, "Tags": tags}
        )

    monkeypatch.setattr(BaseClient, "_make_api_call", call)


def test_every_call_of_the_athena_store_is_allowed_and_every_statement_is_used(
    aws: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_update_work_group(monkeypatch)
    layer = pyarrow_layer()
    config = _config(tmp_path, layer)
    assert desired.alarm_names(config, NAMES) == ALARMS
    policy = deployer.deployer_policy(config, CLIENTS.sharing())[0]
    assert policy == policies.deployer(NAMES, ALARMS, "athena", layer)
    recorder, used = Recorder(), {}

    def refused(calls: list[Any]) -> set[str]:
        found = set()
        for call in calls:
            for request in authorisations(NAMES, call, recorder):
                decision, sids = decide(policy, request)
                if decision != "allow":
                    found.add(f"{request.action} on {request.resource}")
                for sid in sids:
                    used.setdefault(sid, set()).add(request.action)
        return found

    def run(cfg: Config) -> Any:
        return lambda: deployer.deploy(cfg, CLIENTS.sharing(), backoff=NO_WAIT, agent_user=True)

    assert refused(_record(monkeypatch, recorder, run(config))) == ADMINISTRATORS_PART
    unchanged = _record(monkeypatch, recorder, run(config))
    assert refused(unchanged) == set()

    changed = _config(tmp_path, layer, ", athena_scan_limit_mb: 50, compaction_interval_minutes: 15")
    awscheck.client("glue").update_table(
        DatabaseName="dpola",
        TableInput={
            "Name": "nginx_access",
            "StorageDescriptor": {"Columns": [{"Name": "x", "Type": "string"}]},
        },
    )
    update = _record(monkeypatch, recorder, run(changed))
    assert {c.operation for c in update} >= {"UpdateWorkGroup", "PutRule", "UpdateTable"}
    assert refused(update) == set()

    _agent_object()
    hosts: list[Any] = []

    def teardown() -> None:
        deployer.inventory(changed, CLIENTS.sharing())
        inventory, plan = deployer.plan_removal(changed, CLIENTS.sharing())
        hosts.append(deployer.recent_agent_hosts(changed, CLIENTS.sharing()))
        assert (
            deployer.teardown(changed, CLIENTS.sharing(), inventory, plan, backoff=NO_WAIT).left.owned == []
        )

    assert refused(_record(monkeypatch, recorder, teardown)) == set()
    assert hosts == [["web-1"]]
    assert awscheck.remains("dpola") == []

    # the statements the athena store adds are each used whole; those it shares with the Timestream
    # policy are held to that by test_deployer_policy (its drift and foreign-identity runs)
    shared = {s["Sid"] for s in policies.deployer(NAMES, ALARMS)["Statement"]}
    allow = {s["Sid"]: set(s["Action"]) for s in policy["Statement"] if s["Effect"] == "Allow"}
    unused = {sid: actions - used.get(sid, set()) for sid, actions in allow.items() if sid not in shared}
    assert set(unused) == {
        "GlueDatabaseAndTables",
        "AthenaWorkgroup",
        "CompactionSchedule",
        "OnlyTheScheduleMayInvokeTheFunction",
        "ReadTheAgentsRecentObjects",
        "UseThePyarrowLayer",
    }
    assert {sid: actions for sid, actions in unused.items() if actions} == {}


def _other_pipeline() -> list[Request]:
    two = Names("dpola-two", "123456789012", "us-east-1")
    return [
        Request("glue:DeleteDatabase", two.glue_database_arn),
        Request("glue:UpdateTable", two.glue_table_arn("nginx_access")),
        Request("athena:UpdateWorkGroup", two.workgroup_arn),
        Request("athena:DeleteWorkGroup", "arn:aws:athena:us-east-1:123456789012:workgroup/primary"),
        Request("events:PutTargets", two.compaction_rule_arn),
        Request("lambda:AddPermission", NAMES.function_arn, {"lambda:Principal": "sns.amazonaws.com"}),
        Request("s3:GetObject", f"{NAMES.bucket_arn}/tables/nginx_access/date=2026-01-01/x.parquet"),
        Request("lambda:GetLayerVersion", "arn:aws:lambda:us-east-1:999999999999:layer:evil:1"),
    ]


@pytest.mark.parametrize("request_", _other_pipeline(), ids=str)
def test_nothing_of_another_pipeline_or_the_data(request_: Request) -> None:
    policy = policies.deployer(
        NAMES, ALARMS, "athena", "arn:aws:lambda:us-east-1:123456789012:layer:pyarrow:1"
    )
    assert decide(policy, request_)[0] != "allow"


def test_the_athena_loader_role_allows_its_calls_and_nothing_of_timestream() -> None:
    role = policies.loader_role(NAMES, ["nginx_access"], "athena")
    bucket = NAMES.bucket_arn
    allowed = [
        Request("s3:GetObject", f"{bucket}/raw/2026/11/26/12/x"),
        Request("s3:PutObject", f"{bucket}/tables/nginx_access/date=2026-11-26/a.parquet"),
        Request("s3:GetObject", f"{bucket}/tables/nginx_access/date=2026-11-26/a.parquet"),
        Request("s3:DeleteObject", f"{bucket}/tables/nginx_access/date=2026-11-26/a.parquet"),
        Request("s3:PutObject", f"{bucket}/compacted/nginx_access/date=2026-11-26/a"),
        Request("s3:ListBucket", bucket, {"s3:prefix": "compacted/nginx_access/date=2026-11-26/a"}),
        Request("s3:ListBucket", bucket, {"s3:prefix": "tables/nginx_access/date=2026-11-26/"}),
        Request("s3:PutObject", f"{bucket}/aggregates/2026/x.json"),
    ]
    refused = [
        Request("s3:ListBucket", bucket, {"s3:prefix": "raw/"}),
        Request("s3:ListBucket", bucket),
        Request("s3:DeleteObject", f"{bucket}/raw/x"),
        Request("s3:GetObject", f"{bucket}/athena-results/x.csv"),
        Request("timestream:WriteRecords", NAMES.table_arn("nginx_access")),
        Request("glue:GetTable", NAMES.glue_table_arn("nginx_access")),
    ]
    assert [decide(role, r)[0] for r in allowed] == ["allow"] * len(allowed)
    assert [decide(role, r)[0] for r in refused] == ["implicit deny"] * len(refused)
    boundary = policies.boundary(NAMES, "athena")
    assert [decide(boundary, r)[0] for r in allowed] == ["allow"] * len(allowed)
