"""Demo traffic for ``dendro up --demo``: raw log lines of several hosts, through the real path.

Every tick the generator writes raw lines in each configured service's own log format (nginx's
pinned ``log_format``, Apache's ``LogFormat`` with ``%D``, PostgreSQL's Debian prefix, MySQL slow
and error logs, RFC 3164 syslog) and metric events shaped as Vector's ``metric_to_log`` emits
them (cloned from the parser's own samples), runs them through the catalog's VRL programs with
vrl-python, and POSTs the events as NDJSON to the server's own ``/ingest`` with the token, just
as a Vector agent would. The load is steady, and every few minutes an incident starts: a burst
of 5xx, a latency spike and PostgreSQL errors for about a minute.
"""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from dendro.services.base import Parser, Service
from dendro.services.internal import AGENT_PARSER
from dendro.services.runner import run_events

WEB_HOSTS = ("web-1", "web-2", "web-3")
DB_HOSTS = ("db-1",)
PATHS = ("/", "/api/orders", "/api/cart", "/api/pay", "/login", "/static/app.js", "/healthz")
AGENTS = ("Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", "curl/8.5.0",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15")
QUERIES = ("SELECT * FROM orders WHERE id = $1", "UPDATE carts SET total = $1 WHERE id = $2",
           "SELECT count(*) FROM payments WHERE status = 'pending'")


class Traffic:
    """Raw lines per table for one tick; ``incident`` makes errors and slow requests."""

    def __init__(self, seed: int | None = None) -> None:
        self.random = random.Random(seed)

    def _status(self, incident: bool) -> int:
        roll = self.random.random()
        if roll < (0.3 if incident else 0.01):
            return self.random.choice((500, 502, 503, 504))
        if roll < 0.06:
            return self.random.choice((404, 401, 302))
        return 200

    def _duration(self, incident: bool) -> float:
        base = self.random.lognormvariate(-3.5, 0.8)  # median about 30 ms
        return base * (25 if incident and self.random.random() < 0.5 else 1)

    def _request(self) -> tuple[str, str, str]:
        path = self.random.choice(PATHS)
        method = "POST" if path in ("/api/pay", "/login") else "GET"
        return f"10.1.{self.random.randint(0, 9)}.{self.random.randint(1, 254)}", method, path

    def nginx_access(self, now: datetime, incident: bool) -> str:
        ip, method, path = self._request()
        stamp = now.strftime("%d/%b/%Y:%H:%M:%S +0000")
        agent = self.random.choice(AGENTS)
        status, size = self._status(incident), self.random.randint(200, 40_000)
        return (f'{ip} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} "-" "{agent}"'
                f" {self._duration(incident):.3f}")

    def apache_access(self, now: datetime, incident: bool) -> str:
        ip, method, path = self._request()
        stamp = now.strftime("%d/%b/%Y:%H:%M:%S +0000")
        agent = self.random.choice(AGENTS)
        status, size = self._status(incident), self.random.randint(200, 40_000)
        micros = int(self._duration(incident) * 1_000_000)
        return f'{ip} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} "-" "{agent}" {micros}'

    def nginx_error(self, now: datetime, incident: bool) -> str:
        stamp = now.strftime("%Y/%m/%d %H:%M:%S")
        if incident:
            return (f"{stamp} [error] 4242#4242: *{self.random.randint(1, 999)} upstream timed out (110:"
                    " Connection timed out) while reading response header from upstream, client: 10.1.0.7,"
                    ' server: shop, request: "POST /api/pay HTTP/1.1"')
        connection = self.random.randint(1, 999)
        return f"{stamp} [warn] 4242#4242: *{connection} an upstream response is buffered to a temporary file"

    def apache_error(self, now: datetime, incident: bool) -> str:
        stamp = now.strftime("%a %b %d %H:%M:%S.%f %Y")
        level = "error" if incident else "notice"
        return (f"[{stamp}] [proxy:{level}] [pid 2101:tid 139811] [client 10.1.0.7:51234] AH01084: pass"
                " request body failed to backend")

    def postgres(self, now: datetime, incident: bool) -> str:
        stamp = now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d} UTC"
        pid = self.random.randint(1000, 9999)
        if incident and self.random.random() < 0.5:
            return f'{stamp} [{pid}] app@shop ERROR:  deadlock detected'
        if incident and self.random.random() < 0.1:
            return f'{stamp} [{pid}] app@shop FATAL:  remaining connection slots are reserved'
        millis = self.random.lognormvariate(3, 1) * (20 if incident else 1)
        statement = self.random.choice(QUERIES)
        return f"{stamp} [{pid}] app@shop LOG:  duration: {millis:.3f} ms  statement: {statement}"

    def mysql_slow(self, now: datetime, incident: bool) -> str:
        seconds = self.random.uniform(1, 3) * (5 if incident else 1)
        return "\n".join([
            f"# Time: {now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}",
            "# User@Host: app[app] @ localhost []  Id:    16",
            f"# Query_time: {seconds:.6f}  Lock_time: 0.000145 Rows_sent: 10  Rows_examined: 31457",
            "use shop;",
            f"SET timestamp={int(now.timestamp())};",
            "SELECT * FROM orders ORDER BY created_at;",
        ])

    def mysql_error(self, now: datetime, incident: bool) -> str:
        level = "ERROR" if incident else "Note"
        return f"{now.strftime('%Y-%m-%d %H:%M:%S')} 0 [{level}] InnoDB: Buffer pool(s) load completed"

    def syslog(self, now: datetime, incident: bool, host: str) -> str:
        stamp = now.strftime("%b ") + f"{now.day:>2}" + now.strftime(" %H:%M:%S")
        pid = self.random.randint(100, 9999)
        if incident:
            return f"{stamp} {host} kernel: [ 12.345678] Out of memory: Killed process {pid}"
        return f"{stamp} {host} CRON[{pid}]: (root) CMD (command -v debian-sa1 > /dev/null)"


def _metric_inputs(parser: Parser, host: str, now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """The parser's own metric samples, re-stamped for ``host`` and ``now`` with jittered values."""
    inputs = []
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for sample in parser.samples:
        if sample.input is None or sample.expected is None:
            continue
        event = copy.deepcopy(dict(sample.input))
        event["timestamp"] = stamp
        if isinstance(event.get("tags"), dict) and "host" in event["tags"]:
            event["tags"]["host"] = host
        for kind in ("gauge", "counter"):
            value = event.get(kind)
            if isinstance(value, dict) and isinstance(value.get("value"), int | float):
                value["value"] = float(value["value"]) * rng.uniform(0.9, 1.1)
        inputs.append(event)
    return inputs


LINE_TABLES = ("nginx_access", "apache_access", "nginx_error", "apache_error", "postgres", "mysql_slow",
               "mysql_error", "syslog")
#: lines per host per tick for each table (errors and slow logs are rarer than requests)
RATES = {"nginx_access": 20, "apache_access": 10, "postgres": 8}


def _table_of(parser: Parser) -> str | None:
    for sample in parser.samples:
        if sample.expected is not None:
            return str(sample.expected.get("type"))
    return None


#: the Vector version the demo agents report in their heartbeats
DEMO_AGENT_VERSION = "0.42.0"


def _hosts_of(service: Service) -> tuple[str, ...]:
    return DB_HOSTS if service.name in ("postgres", "mysql") else WEB_HOSTS


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


def tick_events(
    services: list[Service], traffic: Traffic, now: datetime, incident: bool, tick: int
) -> list[dict[str, Any]]:
    """One tick of events for every configured service, parsed by the catalog's programs, and
    every 10 ticks the agents' heartbeats."""
    events: list[dict[str, Any]] = []
    if tick % 10 == 0:
        events += heartbeats({h for s in services for h in _hosts_of(s)}, now, float(tick))
    for service in services:
        hosts = _hosts_of(service)
        for source in service.active_sources(service.defaults()):
            parser = service.parser(source.parser)
            table = _table_of(parser)
            for host in hosts:
                if parser.metrics:
                    if tick % 10 == 0:  # metrics every 10 s, as a scrape interval
                        inputs = _metric_inputs(parser, host, now, traffic.random)
                        for event in inputs:
                            events += run_events(parser, event, source=source.id)
                    continue
                if table not in LINE_TABLES:
                    continue
                count = RATES.get(table, 1 if incident or tick % 5 == 0 else 0)
                for _ in range(count):
                    line = traffic.syslog(now, incident, host) if table == "syslog" else \
                        getattr(traffic, table)(now, incident)
                    events += run_events(parser, {"message": line, "host": host}, source=source.id)
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
