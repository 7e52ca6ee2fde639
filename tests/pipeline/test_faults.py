"""Faults: every step of a fresh deploy fails in turn; deploy again converges, teardown cleans.

A step fails through the client layer's ``before_call`` hook (the request is never sent), so
the state left behind is exactly what steps 1..k-1 made. Against moto's server, in-process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dendro import config as config_module
from dendro.config import Config
from dendro.pipeline import deployer
from dendro.pipeline.clients import Clients
from dendro.pipeline.errors import DeployError
from dendro.pipeline.executor import Backoff
from tests.pipeline import awscheck
from tests.servers.moto import MotoServer

READS = ("get_", "describe_", "list_", "head_")
NO_WAIT = Backoff(deadline_s=5, base_s=0.01, cap_s=0.05, sleep=lambda _s: None)


class FailAt:
    """Fails the k-th change (a call that is not a read) with a server error."""

    def __init__(self, k: int) -> None:
        self.k, self.seen, self.failed = k, 0, None

    def __call__(self, service: str, method: str, params: dict[str, Any]) -> None:
        if method.startswith(READS) or service == "sts":
            return
        self.seen += 1
        if self.seen == self.k:
            self.failed = f"{service}.{method}"
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "injected"}}, method)


CLIENTS = Clients("us-east-1")  # one set of boto3 clients for the whole test: creating them is slow


def _config(tmp_path: Path) -> Config:
    path = tmp_path / "dendro.yaml"
    path.write_text(
        "pipeline: dfault\nservices: [nginx]\naws: {emails: [ops@example.com]}\n", encoding="utf-8"
    )
    return config_module.load(path)


def _deploy(config: Config, hook: Any = None) -> deployer.DeployReport:
    return deployer.deploy(config, CLIENTS.sharing(hook), agent_user=True, backoff=NO_WAIT)


def _teardown(config: Config) -> None:
    inventory, plan = deployer.plan_removal(config, CLIENTS.sharing())
    report = deployer.teardown(config, CLIENTS.sharing(), inventory, plan, backoff=NO_WAIT)
    assert report.left.owned == []


def _fresh_changes(config: Config) -> int:
    counter = FailAt(0)
    _deploy(config, counter)
    return counter.seen


def test_every_failed_step_converges_and_tears_down(aws: MotoServer, tmp_path: Path) -> None:
    config = _config(tmp_path)
    total = _fresh_changes(config)
    assert total >= 20
    full = awscheck.remains("dfault")
    aws.reset()
    failed_calls = []
    for k in range(1, total + 1):
        hook = FailAt(k)
        with pytest.raises(DeployError, match="injected"):
            _deploy(config, hook)
        failed_calls.append(hook.failed)
        _teardown(config)  # from the failed state
        assert awscheck.remains("dfault") == [], f"step {k} ({hook.failed}) left resources"

        with pytest.raises(DeployError):
            _deploy(config, FailAt(k))
        _deploy(config)  # converges from the failed state
        assert _deploy(config).plan.empty, f"deploy after step {k} ({hook.failed}) did not converge"
        assert awscheck.remains("dfault") == full, f"after failing at step {k} ({hook.failed})"
        aws.reset()
    assert len(set(failed_calls)) > 15  # the faults hit many different calls, not one
