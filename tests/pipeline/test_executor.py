"""The executor's waiting and retrying, with a fake client layer and an injected sleep."""

from __future__ import annotations

from typing import Any
from unittest.mock import Mock

import pytest
from botocore.exceptions import ClientError

from dendro.pipeline.clients import Clients
from dendro.pipeline.errors import DeployError
from dendro.pipeline.executor import Backoff, DisplayExecutor, Executor, Progress
from dendro.pipeline.models import APICall, Plan, StoreValue, Variable, WaitFor


def _error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "op")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _backoff(clock: Clock, deadline: float = 600) -> Backoff:
    return Backoff(
        deadline_s=deadline, base_s=1, cap_s=20, sleep=clock.sleep, clock=lambda: clock.now, rng=lambda: 0.5
    )


def test_firehose_creating_is_polled_with_growing_delays() -> None:
    clients = Mock(spec=Clients)
    statuses = iter(["CREATING"] * 5 + ["ACTIVE"])
    clients.call.side_effect = lambda *a, **k: {
        "DeliveryStreamDescription": {"DeliveryStreamStatus": next(statuses)}
    }
    clock = Clock()
    Executor(clients, backoff=_backoff(clock)).execute(Plan((WaitFor("firehose_active", "s"),)))
    assert clients.call.call_count == 6
    assert clock.sleeps == [0.75, 1.5, 3.0, 6.0, 12.0]  # half the ceiling plus half the jitter (rng 0.5)


def test_jitter_stays_within_the_ceiling() -> None:
    high = Backoff(base_s=1, cap_s=8, rng=lambda: 0.999)
    low = Backoff(base_s=1, cap_s=8, rng=lambda: 0.0)
    ceilings = [1, 2, 4, 8, 8, 8]
    assert all(ceiling / 2 < high.delay(n) < ceiling for n, ceiling in enumerate(ceilings))
    assert [low.delay(n) for n in range(6)] == [c / 2 for c in ceilings]


def test_polling_stops_at_the_deadline_with_a_clear_message() -> None:
    clients = Mock(spec=Clients)
    clients.call.return_value = {"DeliveryStreamDescription": {"DeliveryStreamStatus": "CREATING"}}
    clock = Clock()
    with pytest.raises(DeployError, match=r"did not finish within 30 s.*again"):
        Executor(clients, backoff=_backoff(clock, deadline=30)).execute(
            Plan((WaitFor("firehose_active", "s"),))
        )
    assert clock.now <= 30


def test_firehose_deleting_waits_until_gone() -> None:
    clients = Mock(spec=Clients)
    answers: list[Any] = [{"DeliveryStreamDescription": {"DeliveryStreamStatus": "DELETING"}}] * 2
    answers.append(_error("ResourceNotFoundException", "gone"))
    clients.call.side_effect = answers
    clock = Clock()
    Executor(clients, backoff=_backoff(clock)).execute(Plan((WaitFor("firehose_deleted", "s"),)))
    assert len(clock.sleeps) == 2


def test_create_function_is_retried_while_the_role_propagates() -> None:
    clients = Mock(spec=Clients)
    assumable = _error(
        "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda."
    )
    clients.call.side_effect = [
        {"Role": {"Arn": "arn:role"}},
        assumable,
        assumable,
        {"FunctionArn": "arn:fn"},
    ]
    clock, events = Clock(), []
    plan = Plan(
        (
            APICall("iam", "create_role", {"RoleName": "r"}, output="r.arn", output_path=("Role", "Arn")),
            APICall(
                "lambda",
                "create_function",
                {"Role": Variable("r.arn")},
                output="fn",
                output_path=("FunctionArn",),
                retry_while_role_propagates=True,
            ),
        )
    )
    result = Executor(clients, on_progress=events.append, backoff=_backoff(clock)).execute(plan)
    assert result.variables == {"r.arn": "arn:role", "fn": "arn:fn"}
    assert clients.call.call_args_list[-1].kwargs == {"Role": "arn:role"}  # the variable was resolved
    assert len(clock.sleeps) == 2
    assert [e.state for e in events].count("retry") == 2


def test_role_retries_are_bounded() -> None:
    clients = Mock(spec=Clients)
    clients.call.side_effect = _error("InvalidArgumentException", "Firehose is unable to assume role arn:x")
    clock = Clock()
    call = APICall("firehose", "create_delivery_stream", {}, retry_while_role_propagates=True)
    with pytest.raises(DeployError, match="unable to assume role"):
        Executor(clients, backoff=_backoff(clock), role_attempts=4).execute(Plan((call,)))
    assert clients.call.call_count == 4 and len(clock.sleeps) == 3


def test_other_errors_are_not_retried() -> None:
    clients = Mock(spec=Clients)
    clients.call.side_effect = _error("ValidationException", "bad memory size")
    with pytest.raises(
        DeployError, match="lambda:CreateFunction failed: ValidationException: bad memory size"
    ):
        Executor(clients).execute(
            Plan((APICall("lambda", "create_function", {}, retry_while_role_propagates=True),))
        )
    assert clients.call.call_count == 1


def test_unknown_instructions_are_refused() -> None:
    with pytest.raises(DeployError, match="does not know"):
        Executor(Mock(spec=Clients)).execute(Plan(("drop table",)))  # type: ignore[arg-type]


def test_a_missing_target_of_a_tolerant_delete_is_done() -> None:
    clients = Mock(spec=Clients)
    clients.call.side_effect = _error("NoSuchEntity", "gone")
    Executor(clients).execute(Plan((APICall("iam", "delete_role", {"RoleName": "r"}, missing_ok=True),)))
    with pytest.raises(DeployError):
        Executor(clients).execute(Plan((APICall("iam", "delete_role", {"RoleName": "r"}),)))


def test_display_executor_calls_nothing_and_shows_variables_and_sizes() -> None:
    lines: list[str] = []
    plan = Plan(
        (
            StoreValue("x", 1),
            APICall("lambda", "create_function", {"Role": Variable("r.arn"), "Code": {"ZipFile": b"12345"}}),
            WaitFor("function_active", "fn"),
        )
    )
    DisplayExecutor(lines.append).execute(plan)
    assert lines == [
        '  1. lambda.create_function({"Code": {"ZipFile": "<5 bytes>"}, "Role": "${r.arn}"})',
        "  2. wait until function active: fn",
    ]


def test_progress_counts_steps() -> None:
    clients = Mock(spec=Clients)
    clients.call.return_value = {}
    events: list[Progress] = []
    plan = Plan((APICall("s3", "a", {}, description="one"), StoreValue("v", 1), APICall("s3", "b", {})))
    Executor(clients, on_progress=events.append).execute(plan)
    assert [(e.step, e.total, e.state) for e in events] == [
        (1, 2, "start"),
        (1, 2, "done"),
        (2, 2, "start"),
        (2, 2, "done"),
    ]
    assert events[0].text == "one"
