"""What the nginx and apache samples must cover, and the node their status metrics belong to.

Every sample itself is run by tests/catalog/test_samples.py (one test for the whole catalog).
"""

from __future__ import annotations

import socket

import pytest

from dendro.services import apache, nginx, runner
from dendro.services.base import Service

SERVICES = (nginx.SERVICE, apache.SERVICE)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_enough_samples(service: Service) -> None:
    access = service.parser(f"{service.name}_access").samples
    errors = service.parser(f"{service.name}_error").samples
    assert len(access) >= 12 and len(errors) >= 5
    assert sum(s.expects_parse_error for s in access) >= 1
    assert any(s.expected and s.expected["status"] and s.expected["status"] >= 500 for s in access)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_5xx_keeps_line_others_do_not(service: Service) -> None:
    for sample in service.parser(f"{service.name}_access").samples:
        if sample.expected is None:
            continue
        status = sample.expected["status"]
        if status is not None and status >= 500:
            assert sample.expected["message"] == sample.message
        else:
            assert sample.expected["message"] is None


@pytest.mark.parametrize(
    ("service", "endpoint", "tag_host"),
    [
        (nginx.SERVICE, "http://127.0.0.1/nginx_status", "127.0.0.1"),
        (nginx.SERVICE, "http://localhost:8080/nginx_status", "localhost:8080"),
        (apache.SERVICE, "http://127.0.0.1/server-status?auto", "127.0.0.1"),
    ],
)
def test_local_status_page_belongs_to_the_node(service: Service, endpoint: str, tag_host: str) -> None:
    """Vector tags status metrics with the endpoint's host; on loopback that is this node."""
    metric = {
        "name": "up",
        "namespace": service.name,
        "tags": {"endpoint": endpoint, "host": tag_host},
        "kind": "absolute",
        "gauge": {"value": 1.0},
        "timestamp": "2026-11-26T12:00:00Z",
        "host": tag_host,
    }
    event = runner.run(service.parser(f"{service.name}_metrics"), metric)
    assert event["host"] == socket.gethostname()
    assert event["endpoint"] == endpoint
    assert event["name"] == f"{service.name}_up"
    assert event["value"] == 1.0


def test_metric_without_value_is_a_parse_error() -> None:
    metric = {"name": "up", "namespace": "nginx", "tags": {}, "kind": "absolute",
              "timestamp": "2026-11-26T12:00:00Z"}
    assert runner.run(nginx.SERVICE.parser("nginx_metrics"), metric)["type"] == "parse_error"
