"""Fixtures of the AWS pipeline tests: moto's server once per session, wiped before each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.moto import MotoServer, moto_server  # noqa: F401 - a fixture


@pytest.fixture
def aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:  # noqa: F811
    """moto's server, emptied, with this test's environment pointing every AWS client at it."""
    for key, value in moto_server.environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    moto_server.reset()
    yield moto_server


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "dendro.yaml"
    path.write_text("pipeline: dtest\nbackend: aws\nservices: {nginx: {}, postgres: {}}\n", encoding="utf-8")
    return path
