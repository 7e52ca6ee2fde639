"""Vector's own check of a config: ``vector validate --no-environment``, when Vector is installed.

``dendro check`` proves the VRL programs and the topology itself; Vector's ``validate`` also
knows every option of every component (a misspelt or unknown key, a wrong type). It runs only
when a ``vector`` binary is on PATH; otherwise the check is reported as skipped.

``--no-environment`` (vectordotdev/vector src/validate.rs) leaves out what depends on the node
(component checks such as the data directory, and health checks), so the config can be checked
on a laptop. Vector still interpolates environment variables while loading the file, and the
ingest token is ``${TOKEN:?…}`` (a missing token is an error), so when that variable is unset a
placeholder is put in Vector's environment, and the report says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ARGS = ("validate", "--no-environment")
PLACEHOLDER_TOKEN = "dendro-check-placeholder"
TIMEOUT_S = 120


@dataclass(frozen=True)
class Outcome:
    """``status``: pass, fail or skipped; ``detail``: what Vector said, or why it did not run."""

    status: str
    detail: str


def command(vector: str, path: Path) -> list[str]:
    return [vector, *ARGS, str(path)]


def _environment(token_env: str | None) -> tuple[dict[str, str], str]:
    env = dict(os.environ)
    if token_env and not env.get(token_env):
        env[token_env] = PLACEHOLDER_TOKEN
        return env, f" ({token_env} unset: a placeholder was given to Vector)"
    return env, ""


def _head(text: str, count: int = 12) -> str:
    return "\n".join([line for line in text.splitlines() if line.strip()][:count])


def validate(path: Path, token_env: str | None = None) -> Outcome:
    """``vector validate --no-environment path`` with the token variable set if need be."""
    vector = shutil.which("vector")
    if vector is None:
        return Outcome("skipped", "no vector binary on PATH: Vector's own validation did not run")
    env, note = _environment(token_env)
    try:
        done = subprocess.run(
            command(vector, path), env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return Outcome("fail", f"vector validate did not finish within {TIMEOUT_S} s")
    except OSError as error:
        return Outcome("fail", f"{vector} could not run: {error.strerror}")
    said = _head(done.stdout + "\n" + done.stderr)
    if done.returncode != 0:
        return Outcome("fail", f"vector validate exited with {done.returncode}{note}:\n{said}")
    return Outcome("pass", f"{vector} validate: {said or 'ok'}{note}")
