"""Demo traffic for ``dendro up --demo``: raw log lines of several hosts, through the real path.

Every tick the generator asks each configured service's demo feeds (``Service.demo`` in the
catalog) for raw lines in the service's own log format and for input events shaped as its
sources emit them (metric samples as Vector's ``metric_to_log`` emits them), runs them through
the catalog's VRL programs with vrl-python, and POSTs the events as NDJSON to the server's own
``/ingest`` with the token, just as a Vector agent would. A database service runs on the demo's
database node, every other service on its web nodes. The load is steady, and every few minutes
an incident starts: each feed makes its errors (a burst of 5xx, a latency spike, PostgreSQL
errors…) for about a minute.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from dendro.services.base import DemoFeed, Parser, Service
from dendro.services.internal import AGENT_PARSER
from dendro.services.runner import run_events

WEB_HOSTS = ("web-1", "web-2", "web-3")
DB_HOSTS = ("db-1",)
#: ticks (seconds) between two inputs of a feed of input events, as a scrape interval
INPUT_EVERY = 10
#: ticks between two lines of a feed without a rate (outside incidents: during one, every tick)
RARE_EVERY = 5


class Traffic:
    """The demo's random source: one per demo, so a seed gives the same traffic."""

    def __init__(self, seed: int | None = None) -> None:
        self.random = random.Random(seed)


#: the Vector version the demo agents report in their heartbeats
DEMO_AGENT_VERSION = "0.42.0"


def _hosts_of(service: Service) -> tuple[str, ...]:
    return DB_HOSTS if service.role == "database" else WEB_HOSTS


def heartbeats(hosts: set[str], now: datetime, uptime: float) -> list[dict[str, Any]]:
    """Each demo agent's heartbeat: Vector's ``uptime_seconds`` through the agent program."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    events: list[dict[str, Any]] = []
    for host in sorted(hosts):
        metric = {
            "name": "uptime_seconds",
            "namespace": "vector",
            "tags": {"host": host, "version": DEMO_AGENT_VERSION},
            "kind": "absolute",
            "gauge": {"value": uptime},
            "timestamp": stamp,
        }
        events += run_events(AGENT_PARSER, metric, source="dendro_agent_metrics")
    return events


def _feed_events(feed: DemoFeed, parser: Parser, hosts: tuple[str, ...], traffic: Traffic, now: datetime,
                 incident: bool, tick: int) -> list[dict[str, Any]]:
    """One tick of one feed (of the source ``feed.source``, parsed by ``parser``) on these hosts."""
    source = feed.source
    events: list[dict[str, Any]] = []
    for host in hosts:
        if feed.inputs is not None:
            if tick % INPUT_EVERY == 0:
                for event in feed.inputs(traffic.random, now, incident, host):
                    events += run_events(parser, event, source=source)
            continue
        assert feed.line is not None
        count = feed.rate or (1 if incident or tick % RARE_EVERY == 0 else 0)
        for _ in range(count):
            line = feed.line(traffic.random, now, incident, host)
            events += run_events(parser, {"message": line, "host": host}, source=source)
    return events


def tick_events(
    services: list[Service], traffic: Traffic, now: datetime, incident: bool, tick: int
) -> list[dict[str, Any]]:
    """One tick of events for every configured service, parsed by the catalog's programs, and
    every 10 ticks the agents' heartbeats."""
    events: list[dict[str, Any]] = []
    if tick % 10 == 0:
        events += heartbeats({h for s in services for h in _hosts_of(s)}, now, float(tick))
    for service in services:
        feeds = {feed.source: feed for feed in service.demo}
        for source in service.active_sources(service.defaults()):
            if source.id in feeds:
                feed, parser, hosts = feeds[source.id], service.parser(source.parser), _hosts_of(service)
                events += _feed_events(feed, parser, hosts, traffic, now, incident, tick)
    return events


class Demo:
    """A component of ``dendro up``: a thread posting demo traffic every second."""

    name = "demo"

    def __init__(
        self,
        services: list[Service],
        post: Callable[[list[dict[str, Any]]], Any],
        *,
        interval: float = 1.0,
        incident_every: int = 240,
        incident_length: int = 60,
        seed: int | None = None,
    ) -> None:
        self.services = services
        self.post = post
        self.interval = interval
        self.incident_every = incident_every
        self.incident_length = incident_length
        self.traffic = Traffic(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dendro-demo", daemon=True)
        self.errors = 0

    urls: list[str] = []

    def ticks(self) -> Iterator[tuple[int, bool]]:
        tick = 0
        while True:
            phase = tick % self.incident_every
            yield tick, self.incident_every - self.incident_length <= phase
            tick += 1

    def _loop(self) -> None:
        for tick, incident in self.ticks():
            if self._stop.is_set():
                return
            events = tick_events(self.services, self.traffic, datetime.now(UTC), incident, tick)
            try:
                self.post(events)
            except Exception:  # the server is stopping or busy: the next tick tries again
                self.errors += 1
            if self._stop.wait(self.interval):
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
