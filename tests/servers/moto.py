"""moto's server (ThreadedMotoServer) on 127.0.0.1: a stand-in for AWS in end-to-end tests.

Session-scoped: started once and stopped at the end. It changes no environment variable by
itself (other areas' tests use moto's in-process mocks, which AWS_ENDPOINT_URL would bypass):
a test applies :attr:`MotoServer.environment` (dummy credentials and ``AWS_ENDPOINT_URL``
pointing at the server) with monkeypatch, so every boto3 client of the code under test, and of
the CLI run in-process, talks to it. ``reset()`` wipes every resource between tests.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support import free_port, wait_for_port

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-not-real",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@dataclass(frozen=True)
class MotoServer:
    url: str

    @property
    def environment(self) -> dict[str, str]:
        return {**DUMMY_ENV, "AWS_ENDPOINT_URL": self.url}

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wait_for_port(port)
    try:
        yield MotoServer(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
