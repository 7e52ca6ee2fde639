"""Demo traffic for ``dendro up --demo``: a day of history, then live traffic, through the real path.

The demo tells a story (:class:`Story`) over a few nodes: web nodes that differ from each other
(traffic, latency, the share of failing requests), a database node, the day's traffic curve, and
incidents scheduled around the moment the demo starts and repeated every day: a release that
breaks one web node for a quarter of an hour (5xx), a storm of slow statements on the database
(long durations, statement timeouts, connections piling up), a filesystem of the database node
filling for hours until it is cleaned up. Each node at each instant is a
:class:`~dendro.services.scene.Scene`, and each configured service's demo feeds (``Service.demo``
in the catalog) make what their server would write in it: raw lines in the service's own format,
and input events shaped as its sources emit them (metric samples as Vector's ``metric_to_log``
emits them). The catalog's VRL programs parse them with vrl-python, as Vector would.

Where services run: a ``database`` on the database node, an ``http`` service on the web nodes,
the others (host metrics, syslog…) on every node. Every node's agent sends Vector's heartbeat
(``build_info`` and ``uptime_seconds``, merged as the config's ``reduce`` merges them) once a
minute.

:func:`backfill` writes the last 24 hours (or the time since the newest stored event, when the
data dir already holds a demo) through the store's own ``write`` before anything is served, so
every chart is full at first view; :class:`Demo` then posts live traffic every second to the
server's ``/ingest`` with the token, just as a Vector agent would.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dendro.services import catalog
from dendro.services.base import DemoFeed, Parser, Service
from dendro.services.internal import AGENT, AGENT_PARSER, merge_heartbeats
from dendro.services.runner import run_events
from dendro.services.scene import DEPLOY, DISK_FILLING, SLOW_QUERIES, Scene
from dendro.store.sql import table_ref

WEB_HOSTS = ("web-1", "web-2", "web-3")
DB_HOSTS = ("db-1",)
#: seconds between two scrapes of a feed of input events: Vector's default for its metrics sources
#: live, once a minute in the history (the charts' smallest bin). Scrapes happen on a grid of the
#: clock (the last second of each interval), the history's on every fourth point of the live one,
#: so every chart bin's last sample falls on the same second before and after the demo starts
SCRAPE_EVERY = 15
HISTORY_SCRAPE_EVERY = 60
#: seconds between two heartbeats (the agent's internal_metrics scrape_interval_secs)
HEARTBEAT_EVERY = 60
#: the history's time step: the story is read once a step per node, lines fall anywhere in it
HISTORY_STEP = 10
HISTORY = timedelta(hours=24)
#: events written to the store at a time while backfilling
BATCH = 50_000
DAY = 86_400.0
#: the day's traffic curve: ±DAY_SWING around the mean, busiest at PEAK_HOUR (UTC)
DAY_SWING = 0.5
PEAK_HOUR = 14.0

#: the Vector the demo agents report: the heartbeat of Vector's source at the newest release read
#: (vectordotdev/vector src/internal_events/heartbeat.rs, v0.57.0: ``build_info`` tagged debug,
#: version, rust_version, arch and revision, and ``uptime_seconds``; Cargo.toml: version 0.57.0;
#: rust-toolchain.toml: channel 1.95). The revision (VECTOR_BUILD_DESC) is left empty, as Vector
#: does when it was not given one.
AGENT_BUILD = {"debug": "false", "version": "0.57.0", "rust_version": "1.95", "arch": "x86_64",
               "revision": ""}


@dataclass(frozen=True)
class Node:
    """How one demo node differs from the others."""

    size: float  # its share of the traffic (1: an average node)
    latency: float  # how slowly it answers
    errors: float  # the share of its requests failing with 5xx on a normal day
    booted: float  # days its servers have been running at the start of the demo's day


NODES = {
    "web-1": Node(size=1.3, latency=0.9, errors=0.001, booted=9.4),
    "web-2": Node(size=1.0, latency=1.2, errors=0.002, booted=2.6),
    "web-3": Node(size=0.6, latency=1.9, errors=0.005, booted=16.3),
    "db-1": Node(size=1.0, latency=1.0, errors=0.0, booted=37.8),
}


@dataclass(frozen=True)
class Incident:
    """An incident of the story: what happens on which node, from ``start`` (seconds after the
    demo starts) for ``length`` seconds, again ``every`` seconds (a day, unless it is rarer)."""

    kind: str
    host: str
    start: float
    length: float
    every: float = 86_400.0


#: the day's incidents around the demo's start (negative: already in the history). The live ones
#: come soon after the start, so that a person watching sees them happen and their alerts fire.
INCIDENTS = (
    Incident(DEPLOY, "web-3", 3 * 60, 15 * 60),
    Incident(SLOW_QUERIES, "db-1", 20 * 60, 12 * 60),
    Incident(DISK_FILLING, "db-1", -5 * 3600, 7 * 3600, every=7 * 86_400.0),
    Incident(DEPLOY, "web-2", -(7 * 3600 + 5 * 60), 14 * 60),
    Incident(SLOW_QUERIES, "db-1", -(15 * 3600 + 20 * 60), 25 * 60),
)


def _curve(t: float) -> float:
    """The day's traffic at epoch second ``t`` relative to the day's mean."""
    return 1.0 + DAY_SWING * math.sin(2 * math.pi * (t / DAY - PEAK_HOUR / 24) + math.pi / 2)


def _curve_integral(t: float) -> float:
    """∫ _curve from 0 to ``t`` (seconds), for counters."""
    phase = 2 * math.pi * (t / DAY - PEAK_HOUR / 24) + math.pi / 2
    start = 2 * math.pi * (-PEAK_HOUR / 24) + math.pi / 2
    return t - DAY_SWING * DAY / (2 * math.pi) * (math.cos(phase) - math.cos(start))


class Story:
    """The demo's nodes and incidents around ``started``, the moment the demo started."""

    def __init__(self, started: datetime, incidents: tuple[Incident, ...] = INCIDENTS) -> None:
        self.started = started.timestamp()
        midnight = started.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        # the servers' start times hang on the day, so a demo started again the same day keeps its counters
        self.boots = {host: midnight.timestamp() - node.booted * DAY for host, node in NODES.items()}
        self.incidents = incidents
        self._scenes: dict[tuple[str, float], Scene] = {}

    def _time_in(self, incident: Incident, t: float) -> float:
        """Seconds of ``incident`` (every day's occurrence) before epoch second ``t``, counted from
        a fixed origin: differences give the time spent in it between two moments."""
        first = self.started + incident.start
        times, into = divmod(t - first, incident.every)
        return times * incident.length + min(into, incident.length)

    def scene(self, host: str, moment: datetime) -> Scene:
        """The node ``host`` at ``moment`` (kept: every feed of a node asks for the same moments)."""
        key = (host, moment.timestamp())
        found = self._scenes.get(key)
        if found is None:
            if len(self._scenes) > 100_000:
                self._scenes.clear()
            found = self._scenes[key] = self._scene(host, key[1])
        return found

    def _scene(self, host: str, t: float) -> Scene:
        node, boot = NODES[host], self.boots[host]
        under_way, spent = dict[str, float](), dict[str, float]()
        for item in self.incidents:
            if item.host != host:
                continue
            spent[item.kind] = spent.get(item.kind, 0.0) + self._time_in(item, t) - self._time_in(item, boot)
            into = (t - self.started - item.start) % item.every
            if into < item.length:
                under_way[item.kind] = into / item.length
        return Scene(load=node.size * _curve(t), latency=node.latency, errors=node.errors,
                     incidents=under_way, uptime=t - boot,
                     served=node.size * (_curve_integral(t) - _curve_integral(boot)), spent=spent)


def hosts_of(service: Service) -> tuple[str, ...]:
    """The demo nodes a service runs on."""
    if service.role == "database":
        return DB_HOSTS
    if service.role == "http":
        return WEB_HOSTS
    return WEB_HOSTS + DB_HOSTS


def poisson(rng: random.Random, mean: float) -> int:
    """How many lines in a step whose expected count is ``mean`` (Poisson; normal when large)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def heartbeats(story: Story, hosts: set[str], now: datetime) -> list[dict[str, Any]]:
    """Each node's agent heartbeat at ``now``: Vector's two gauges through the agent program, merged
    as the config's reduce merges them (one agent event per node)."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    partials: list[dict[str, Any]] = []
    for host in sorted(hosts):
        uptime = float(int(story.scene(host, now).uptime))  # Vector reports whole seconds
        for name, tags, value in (("build_info", AGENT_BUILD, 1.0), ("uptime_seconds", {}, uptime)):
            metric = {"name": name, "namespace": "vector", "tags": {**tags, "host": host},
                      "kind": "absolute", "gauge": {"value": value}, "timestamp": stamp}
            partials += run_events(AGENT_PARSER, metric, source="dendro_agent_metrics")
    return merge_heartbeats(partials)


@dataclass(frozen=True)
class Running:
    """A feed of a configured service, with the parser of its source and the nodes it runs on."""

    feed: DemoFeed
    parser: Parser
    hosts: tuple[str, ...]
    settings: dict[str, Any]


def running(services: list[Service]) -> list[Running]:
    """The demo feeds of the sources the services run with their default settings."""
    found = []
    for service in services:
        feeds = {feed.source: feed for feed in service.demo}
        settings = service.defaults()
        for source in service.active_sources(settings):
            if source.id in feeds:
                found.append(Running(feeds[source.id], service.parser(source.parser), hosts_of(service),
                                     settings))
    return found


def _parse(item: Running, raw: dict[str, Any]) -> list[dict[str, Any]]:
    return run_events(item.parser, raw, source=item.feed.source, settings=item.settings)


def grid(start: datetime, end: datetime, every: int) -> list[datetime]:
    """The moments in (start, end] on the demo's clock grid of ``every`` seconds (the last second
    of each interval: 14, 29, 44, 59 for 15)."""
    first = (math.floor(start.timestamp()) // every + 1) * every - 1
    if first <= start.timestamp():
        first += every
    return [datetime.fromtimestamp(t, UTC) for t in range(int(first), math.floor(end.timestamp()) + 1, every)]


def line_events(item: Running, story: Story, rng: random.Random, start: datetime,
                seconds: float) -> list[dict[str, Any]]:
    """The lines one feed writes on its nodes during ``seconds`` from ``start``, parsed."""
    events: list[dict[str, Any]] = []
    assert item.feed.line is not None
    for host in item.hosts:
        scene = story.scene(host, start + timedelta(seconds=seconds / 2))
        for _ in range(poisson(rng, item.feed.lines_per_second(scene) * seconds)):
            moment = start + timedelta(seconds=rng.uniform(0, seconds))
            events += _parse(item, {"message": item.feed.line(rng, moment, scene, host), "host": host})
    return events


def scrape_events(item: Running, story: Story, rng: random.Random, moment: datetime) -> list[dict[str, Any]]:
    """One scrape of a feed of input events on its nodes at ``moment``, parsed."""
    assert item.feed.inputs is not None
    events: list[dict[str, Any]] = []
    for host in item.hosts:
        for raw in item.feed.inputs(rng, moment, story.scene(host, moment), host):
            events += _parse(item, raw)
    return events


def span_events(services: list[Service], story: Story, rng: random.Random, start: datetime,
                end: datetime, scrape_every: int, step: float) -> list[dict[str, Any]]:
    """Everything from ``start`` to ``end``: lines ``step`` seconds at a time, scrapes and heartbeats
    on the clock's grid."""
    feeds = running(services)
    hosts = {h for item in feeds for h in item.hosts}
    events: list[dict[str, Any]] = []
    for moment in grid(start, end, HEARTBEAT_EVERY):
        events += heartbeats(story, hosts, moment)
    seconds = (end - start).total_seconds()
    for item in feeds:
        if item.feed.inputs is not None:
            for moment in grid(start, end, scrape_every):
                events += scrape_events(item, story, rng, moment)
            continue
        offset = 0.0
        while offset < seconds:
            length = min(step, seconds - offset)
            events += line_events(item, story, rng, start + timedelta(seconds=offset), length)
            offset += length
    return events


def tick_events(services: list[Service], story: Story, rng: random.Random, now: datetime,
                previous: datetime | None = None) -> list[dict[str, Any]]:
    """Live traffic of every configured service since ``previous`` (a second before ``now`` unless
    given): its lines, the scrapes and heartbeats whose moment came."""
    previous = previous or now - timedelta(seconds=1)
    return span_events(services, story, rng, previous, now, SCRAPE_EVERY, (now - previous).total_seconds())


@dataclass
class Backfilled:
    """What :func:`backfill` wrote: how many events from when to when, in how many seconds."""

    events: int = 0
    rejected: int = 0
    start: datetime | None = None
    end: datetime | None = None
    seconds: float = 0.0


def hour_events(services: list[Service], story: Story, rng: random.Random, start: datetime,
                seconds: int) -> list[dict[str, Any]]:
    """The history of ``seconds`` (an hour at most) from ``start``: lines, scrapes once a minute and
    heartbeats."""
    end = start + timedelta(seconds=seconds)
    return span_events(services, story, rng, start, end, HISTORY_SCRAPE_EVERY, HISTORY_STEP)


@dataclass(frozen=True)
class HourTask:
    """An hour of history to make in a worker process (what it needs, all picklable)."""

    services: tuple[str, ...]  # catalog names
    started: float  # the story's start, epoch seconds
    incidents: tuple[Incident, ...]
    start: float  # epoch seconds
    seconds: int
    seed: int


def _hour_of(task: HourTask) -> list[dict[str, Any]]:
    """A worker's hour of history (a module-level function: the process pool pickles its name)."""
    services = [catalog()[name] for name in task.services]
    story = Story(datetime.fromtimestamp(task.started, UTC), task.incidents)
    start = datetime.fromtimestamp(task.start, UTC)
    return hour_events(services, story, random.Random(task.seed), start, task.seconds)


def _tasks(services: list[Service], story: Story, start: datetime, end: datetime,
           rng: random.Random) -> list[HourTask]:
    names = tuple(s.name for s in services if s.demo and s.name in catalog())
    total = int((end - start).total_seconds())
    return [HourTask(names, story.started, story.incidents, start.timestamp() + hour, min(3600, total - hour),
                     rng.randrange(2**32)) for hour in range(0, total, 3600)]


def history_of(services: list[Service], story: Story, start: datetime, end: datetime,
               rng: random.Random, workers: int) -> Iterator[list[dict[str, Any]]]:
    """The history from ``start`` to ``end`` an hour at a time, made by ``workers`` processes (VRL
    holds the interpreter's lock: threads would not help), or here when ``workers`` is 1."""
    tasks = _tasks(services, story, start, end, rng)
    if workers <= 1 or len(tasks) <= 1:
        yield from (_hour_of(task) for task in tasks)
        return
    context = multiprocessing.get_context("spawn")  # fork is unsafe in a process with threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending = [pool.submit(_hour_of, task) for task in tasks[: workers * 2]]
        for task in tasks[workers * 2:]:
            done = pending.pop(0)
            pending.append(pool.submit(_hour_of, task))
            yield done.result()
        for done in pending:
            yield done.result()


def newest_event(store: Any, services: list[Service]) -> datetime | None:
    """The time of the newest event the store holds in the demo's tables (None: none yet), where a
    demo started again picks up."""
    known = set(store.tables())
    names = [AGENT.name, *(t.name for s in services for t in s.tables)]
    parts = [f"SELECT max(time) AS newest FROM {table_ref(store.database, n)}" for n in names if n in known]
    if not parts:
        return None
    values = [row[0] for row in store.query(" UNION ALL ".join(parts)).rows if row[0] is not None]
    if not values:
        return None
    moment = max(v if isinstance(v, datetime) else datetime.fromisoformat(str(v)) for v in values)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def backfill(store: Any, services: list[Service], story: Story, now: datetime, *, seed: int | None = None,
             workers: int | None = None, history: timedelta = HISTORY) -> Backfilled:
    """Write the history the store lacks (the last ``history`` at most, from its newest event on)
    through ``store.write``, before any live traffic; ``workers`` processes make it (default:
    one per CPU)."""
    newest = newest_event(store, services)
    start = now - history if newest is None else max(now - history, newest + timedelta(milliseconds=1))
    done = Backfilled(start=start, end=now)
    if start >= now:
        return done
    began, batch = time.monotonic(), []
    count = workers if workers is not None else (os.cpu_count() or 1)
    for events in history_of(services, story, start, now, random.Random(seed), count):
        batch += events
        if len(batch) >= BATCH:
            _write(store, batch, done)
            batch = []
    if batch:
        _write(store, batch, done)
    done.seconds = time.monotonic() - began
    return done


def _write(store: Any, batch: list[dict[str, Any]], done: Backfilled) -> None:
    result = store.write(batch)
    done.events += result.total_written
    done.rejected += len(result.rejected)


class Demo:
    """A component of ``dendro up``: a thread posting live demo traffic every second."""

    name = "demo"

    def __init__(
        self,
        services: list[Service],
        post: Callable[[list[dict[str, Any]]], Any],
        *,
        story: Story | None = None,
        interval: float = 1.0,
        seed: int | None = None,
        backfilled: Backfilled | None = None,
    ) -> None:
        self.services = services
        self.post = post
        self.story = story or Story(datetime.now(UTC))
        self.interval = interval
        self.random = random.Random(seed)
        self.backfilled = backfilled
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="dendro-demo", daemon=True)
        self.errors = 0

    @property
    def urls(self) -> list[str]:
        """What ``dendro up`` prints for it: that the traffic is the demo's, on which nodes."""
        hosts = sorted({h for item in running(self.services) for h in item.hosts})
        said = [f"generating demo traffic (not real nodes): {', '.join(hosts)}"]
        done = self.backfilled
        if done is not None and done.events:
            hours = (done.end - done.start).total_seconds() / 3600 if done.start and done.end else 0
            said.append(f"{done.events:,} events of the last {hours:.1f} h backfilled"
                        f" in {done.seconds:.1f} s")
        return said

    def _loop(self) -> None:
        previous = self.backfilled.end if self.backfilled and self.backfilled.end else datetime.now(UTC)
        while not self._stop.is_set():
            now = datetime.now(UTC)
            events = tick_events(self.services, self.story, self.random, now, previous)
            previous = now
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
