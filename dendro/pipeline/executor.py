"""Run a plan: the only code of the deployer that changes anything in AWS.

AWS answers before it is done, so the executor polls with exponential backoff, jitter and a
deadline (Firehose CREATING/DELETING has no boto3 waiter), uses Lambda's waiters for the
function, and retries a call while a new IAM role cannot be assumed yet (IAM propagates in
seconds; matched by message, bounded attempts, injected ``sleep`` so tests never wait).
:class:`DisplayExecutor` is the same pipeline for ``--plan``: it prints and changes nothing.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError, WaiterError

from dendro.pipeline.clients import Clients, botocore_quiet
from dendro.pipeline.errors import DeployError, explain
from dendro.pipeline.models import APICall, EmptyBucket, Instruction, Plan, StoreValue, Variable, WaitFor

#: error codes meaning "no such thing": a delete answered with one of them has nothing to do
NOT_FOUND = frozenset({
    "NoSuchEntity", "ResourceNotFoundException", "NoSuchBucket", "NotFound", "NotFoundException",
    "ResourceNotFound", "404",
})  # fmt: skip

#: how a not-yet-assumable role shows in error messages (Lambda, Firehose)
ROLE_PROPAGATION = ("cannot be assumed", "unable to assume", "sts:assumerole", "role is not ready")


@dataclass(frozen=True)
class Progress:
    step: int
    total: int
    text: str
    state: Literal["start", "done", "wait", "retry"]


ProgressCallback = Callable[[Progress], None]


@dataclass
class Backoff:
    """Exponential backoff with jitter under a deadline; ``sleep``, ``clock`` and ``rng`` injectable."""

    deadline_s: float = 600.0
    base_s: float = 1.0
    cap_s: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: Callable[[], float] = random.random

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap_s, self.base_s * 2**attempt)
        return ceiling / 2 + self.rng() * ceiling / 2

    def poll(self, done: Callable[[], bool], what: str) -> int:
        """Call ``done`` until it answers True; the number of polls. Raises past the deadline."""
        start = self.clock()
        attempt = 0
        while True:
            attempt += 1
            if done():
                return attempt
            pause = self.delay(attempt - 1)
            if self.clock() + pause - start > self.deadline_s:
                raise DeployError(
                    f"{what} did not finish within {self.deadline_s:.0f} s; AWS is still working on it. "
                    "Run the same command again in a few minutes: it continues where this one stopped."
                )
            self.sleep(pause)


@dataclass
class Result:
    variables: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)  # never displayed nor logged
    executed: int = 0


def resolve(value: Any, variables: Mapping[str, Any]) -> Any:
    """Replace every :class:`Variable` inside ``value`` by its value."""
    if isinstance(value, Variable):
        if value.name not in variables:
            raise DeployError(f"internal error: the plan uses {value.name} before setting it")
        return variables[value.name]
    if isinstance(value, Mapping):
        return {k: resolve(v, variables) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, variables) for v in value]
    return value


def _dig(response: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = response
    for key in path:
        value = value[key]
    return value


class Executor:
    def __init__(
        self,
        clients: Clients,
        on_progress: ProgressCallback | None = None,
        backoff: Backoff | None = None,
        role_attempts: int = 10,
    ) -> None:
        self.clients = clients
        self.on_progress = on_progress or (lambda _p: None)
        self.backoff = backoff or Backoff()
        self.role_attempts = role_attempts

    def execute(self, plan: Plan) -> Result:
        result = Result()
        steps = [i for i in plan.instructions if not isinstance(i, StoreValue)]
        total, step = len(steps), 0
        for instruction in plan.instructions:
            if isinstance(instruction, StoreValue):
                result.variables[instruction.name] = instruction.value
                continue
            step += 1
            text = _text(instruction)
            self.on_progress(Progress(step, total, text, "start"))
            self._run(instruction, result, step, total)
            result.executed += 1
            self.on_progress(Progress(step, total, text, "done"))
        return result

    def _run(self, instruction: Instruction, result: Result, step: int, total: int) -> None:
        if isinstance(instruction, APICall):
            self._api_call(instruction, result, step, total)
        elif isinstance(instruction, WaitFor):
            self._wait(instruction)
        elif isinstance(instruction, EmptyBucket):
            self._empty_bucket(instruction.bucket, instruction.page_size)
        else:
            raise DeployError(f"internal error: the executor does not know {instruction!r}")

    def _api_call(self, call: APICall, result: Result, step: int, total: int) -> None:
        params = resolve(call.params, result.variables)
        attempts = self.role_attempts if call.retry_while_role_propagates else 1
        for attempt in range(attempts):
            try:
                if call.secret_output:
                    with botocore_quiet():
                        response = self.clients.call(call.service, call.method, **params)
                else:
                    response = self.clients.call(call.service, call.method, **params)
                break
            except ClientError as error:
                if call.missing_ok and error.response.get("Error", {}).get("Code") in NOT_FOUND:
                    return
                message = error.response.get("Error", {}).get("Message", "").lower()
                propagating = any(p in message for p in ROLE_PROPAGATION)
                if not propagating or attempt == attempts - 1:
                    raise _refused(call, explain(error, call.service, call.method)) from None
                self.on_progress(
                    Progress(step, total, f"{_text(call)}: the new role is not assumable yet", "retry")
                )
                self.backoff.sleep(self.backoff.delay(attempt))
            except Exception as error:
                raise explain(error, call.service, call.method) from None
        if call.output:
            value = _dig(response, call.output_path)
            (result.secrets if call.secret_output else result.variables)[call.output] = value

    def _wait(self, wait: WaitFor) -> None:
        if wait.condition in ("function_active", "function_updated"):
            waiter_name = (
                "function_active_v2" if wait.condition == "function_active" else "function_updated_v2"
            )
            self.clients.calls.append(("lambda", waiter_name))
            try:
                self.clients.client("lambda").get_waiter(waiter_name).wait(
                    FunctionName=wait.name,
                    WaiterConfig={"Delay": max(1, int(self.backoff.base_s)), "MaxAttempts": 300},
                )
            except WaiterError as error:
                raise DeployError(f"Lambda function {wait.name} did not become ready: {error}") from None
            return
        if wait.condition == "firehose_active":
            self.backoff.poll(
                lambda: self._firehose_status(wait.name) == "ACTIVE", f"Firehose stream {wait.name}"
            )
        elif wait.condition == "firehose_deleted":
            self.backoff.poll(
                lambda: self._firehose_status(wait.name) is None, f"deleting Firehose {wait.name}"
            )
        else:
            raise DeployError(f"internal error: unknown wait {wait.condition}")

    def _firehose_status(self, name: str) -> str | None:
        try:
            found = self.clients.call("firehose", "describe_delivery_stream", DeliveryStreamName=name)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise explain(error, "firehose", "describe_delivery_stream") from None
        status: str = found["DeliveryStreamDescription"]["DeliveryStreamStatus"]
        if status.endswith("_FAILED"):
            raise DeployError(f"Firehose stream {name} is {status}; run the command again to recreate it")
        return status

    def _empty_bucket(self, bucket: str, page_size: int) -> None:
        """Every version and delete marker, page after page (each page is deleted before the next
        is listed from the start, so markers never point at deleted keys)."""
        while True:
            try:
                page = self.clients.call("s3", "list_object_versions", Bucket=bucket, MaxKeys=page_size)
                keys = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", [])]
                keys += [
                    {"Key": m["Key"], "VersionId": m["VersionId"]} for m in page.get("DeleteMarkers", [])
                ]
                for start in range(0, len(keys), 1000):
                    batch = keys[start : start + 1000]
                    answer = self.clients.call(
                        "s3", "delete_objects", Bucket=bucket, Delete={"Objects": batch, "Quiet": True}
                    )
                    if answer.get("Errors"):
                        first = answer["Errors"][0]
                        raise DeployError(
                            f"S3 did not delete {first.get('Key')} from {bucket}: {first.get('Message')}"
                        )
            except ClientError as error:
                raise explain(error, "s3", "delete_objects") from None
            if not page.get("IsTruncated") or not keys:
                return


class DisplayExecutor:
    """The dry run: renders every instruction through ``out`` and calls nothing."""

    def __init__(self, out: Callable[[str], None]) -> None:
        self.out = out

    def execute(self, plan: Plan) -> Result:
        step = 0
        for instruction in plan.instructions:
            if isinstance(instruction, StoreValue):
                continue
            step += 1
            self.out(f"{step:3d}. {render(instruction)}")
        return Result()


def _refused(call: APICall, error: DeployError) -> DeployError:
    """AWS's refusal, with the plan's word on who makes that call when it has one."""
    if call.refused_hint and "AWS refused" in str(error):
        return DeployError(f"{error} {call.refused_hint}")
    return error


def _text(instruction: Instruction) -> str:
    if isinstance(instruction, APICall | WaitFor | EmptyBucket) and instruction.description:
        return instruction.description
    return render(instruction)


def _shown(value: Any) -> Any:
    if isinstance(value, Variable):
        return f"${{{value.name}}}"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, Mapping):
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_shown(v) for v in value]
    return value


def render(instruction: Instruction) -> str:
    """One instruction as a line a person reads (variables as ``${name}``, zips as sizes)."""
    if isinstance(instruction, APICall):
        params = json.dumps(_shown(dict(instruction.params)), sort_keys=True, default=str)
        return f"{instruction.service}.{instruction.method}({params})"
    if isinstance(instruction, WaitFor):
        return f"wait until {instruction.condition.replace('_', ' ')}: {instruction.name}"
    if isinstance(instruction, EmptyBucket):
        return f"empty bucket {instruction.bucket} (every object version, every page)"
    if isinstance(instruction, StoreValue):
        return f"store {instruction.name}"
    return repr(instruction)
