"""Fixtures of the Grafana tests: the session's real Prometheus."""

from tests.servers.prometheus import prometheus

__all__ = ["prometheus"]
