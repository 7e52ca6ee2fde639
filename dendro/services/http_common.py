"""What the nginx and apache integrations share: their tables, alert events and VRL pieces.

Both HTTP servers produce the same kinds of events (access lines, error lines, status-page
metrics), so the tables, the RED mapping, the alert events and the metrics program are built
here once, and ``dendro.services.nginx`` / ``dendro.services.apache`` only declare what differs:
their log formats, the regular expressions that read them, their settings and samples.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from dendro.services.base import (
    ENDPOINT_NODE_VRL,
    TIMESTAMP_FORMAT,
    AlertEvent,
    Column,
    Example,
    Parser,
    Red,
    Sample,
    Table,
)
from dendro.services.scene import DEPLOY, Scene

#: error-log levels worth an alert on their own (both servers use these names)
CRITICAL_LEVELS = ("crit", "alert", "emerg")


def _extended(table: Table, described: dict[str, str] | None, extra: Iterable[Column]) -> Table:
    """``table`` with some column descriptions replaced and ``extra`` columns after the shared ones."""
    described = described or {}
    unknown = set(described) - {c.name for c in table.columns}
    if unknown:
        raise KeyError(f"table {table.name} has no column {sorted(unknown)}")
    columns = tuple(replace(c, description=described.get(c.name, c.description)) for c in table.columns)
    return replace(table, columns=columns + tuple(extra))


def access_table(name: str, server: str, description: str = "", described: dict[str, str] | None = None,
                 extra: Iterable[Column] = ()) -> Table:
    """The access table: DESIGN.md's HTTP columns plus the virtual host when it is logged.

    A server that logs more gives its ``extra`` columns (after the shared ones), its own table
    ``description`` and the shared columns' descriptions it ``described`` differently."""
    return _extended(_access_table(name, server, description), described, extra)


def _access_table(name: str, server: str, description: str) -> Table:
    return Table(
        name=name,
        description=description or f"One row per request {server} served, from its access log.",
        columns=(
            Column("host", "VARCHAR", dimension=True, description="node that served the request"),
            Column("method", "VARCHAR", dimension=True, description="HTTP method; null if unreadable"),
            Column("protocol", "VARCHAR", dimension=True, description="HTTP/1.1, HTTP/2.0…"),
            Column("status", "BIGINT", description="response status"),
            Column("path", "VARCHAR", description="request target as logged, query included"),
            Column("bytes", "BIGINT", description="response body bytes (0 when logged as -)"),
            Column("duration", "DOUBLE", description="seconds; null in the default combined format"),
            Column("client_ip", "VARCHAR", description="first address of a forwarded-for list"),
            Column("user_agent", "VARCHAR"),
            Column("referer", "VARCHAR"),
            Column("vhost", "VARCHAR", description="virtual host, when the format logs it"),
            Column("message", "VARCHAR", description="the raw line, kept for 5xx responses only"),
        ),
    )


def error_table(name: str, server: str, description: str = "", described: dict[str, str] | None = None,
                extra: Iterable[Column] = ()) -> Table:
    """The error-log table (``extra``, ``description`` and ``described`` as for the access table)."""
    return _extended(_error_table(name, server, description), described, extra)


def _error_table(name: str, server: str, description: str) -> Table:
    return Table(
        name=name,
        description=description or f"One row per {server} error-log record (times read as UTC).",
        columns=(
            Column("host", "VARCHAR", dimension=True),
            Column("level", "VARCHAR", dimension=True, description="debug … emerg"),
            Column("pid", "BIGINT", description="worker process id"),
            Column("client_ip", "VARCHAR", description="client address, when the record names one"),
            Column("message", "VARCHAR", description="the record after its time/level/pid header"),
        ),
    )


def metrics_table(name: str, server: str) -> Table:
    return Table(
        name=name,
        description=f"{server} status-page metrics, as Vector's {name} source collects them.",
        columns=(
            Column("host", "VARCHAR", dimension=True),
            Column("name", "VARCHAR", dimension=True, description="Prometheus-style name, e.g. "
                   "nginx_connections_active"),
            Column("kind", "VARCHAR", dimension=True, description="gauge or counter"),
            Column("endpoint", "VARCHAR", dimension=True, description="status URL scraped"),
            Column("state", "VARCHAR", dimension=True, description="the state/type tag, if any"),
            Column("value", "DOUBLE"),
        ),
    )


def red(table: str) -> Red:
    return Red(table=table, status="status", duration="duration", method="method")


def alert_events(prefix: str, access: str, error: str, title: str) -> tuple[AlertEvent, ...]:
    levels = ", ".join(f"'{level}'" for level in CRITICAL_LEVELS)
    return (
        AlertEvent(
            name=f"{prefix}_5xx",
            table=access,
            where="status >= 500",
            match={},
            status_at_least=500,
            summary=f"{title} answered a request with a 5xx status",
            severity="critical",
        ),
        AlertEvent(
            name=f"{prefix}_error_critical",
            table=error,
            where=f"level IN ({levels})",
            match={"level": CRITICAL_LEVELS},
            summary=f"{title} logged a crit, alert or emerg record",
            severity="warning",
        ),
    )


#: the request line "GET /path HTTP/1.1", kept as the client wrote it: methods and the protocol name
#: in any case (nginx answers "get /x HTTP/1.1" with a 400 and apache with a 501, and both log the line
#: as received). "-", "" or garbage (a TLS handshake on a plain port) leave method/path/protocol null.
REQUEST_RE = (
    r"^(?P<method>[A-Za-z][A-Za-z0-9_-]{0,23}) (?P<path>.+?)(?: (?P<protocol>(?i:HTTP)/[0-9.]+))?$"
)
REQUEST_VRL = f"""
req = parse_regex(m.request, r'{REQUEST_RE}') ?? {{}}
"""

#: a double-quoted log value in which the server escaped quotes with a backslash
QUOTED = r'(?:[^"\\]|\\.)*'


#: the fields every access program sets the same way once ``m``, ``req``, ``client``,
#: ``vhost``, ``referer``, ``agent`` and ``secs`` are known
ACCESS_EVENT_VRL = r"""
status = null
if m.status != null { status = to_int!(m.status) }
nbytes = 0
if m.bytes != null && m.bytes != "-" { nbytes = to_int!(m.bytes) }
ts = parse_timestamp!(m.time, "%d/%b/%Y:%H:%M:%S %z")
if referer == "-" || referer == "" { referer = null }
if agent == "-" || agent == "" { agent = null }
raw = null
if is_integer(status) && int!(status) >= 500 { raw = line }
. = {
  "type": TABLE,
  "host": string(.host) ?? "unknown",
  "timestamp": format_timestamp!(ts, "TSFORMAT", timezone: "UTC"),
  "method": req.method,
  "path": req.path,
  "protocol": req.protocol,
  "status": status,
  "bytes": nbytes,
  "duration": secs,
  "client_ip": client,
  "user_agent": agent,
  "referer": referer,
  "vhost": vhost,
  "message": raw
}
""".replace("TSFORMAT", TIMESTAMP_FORMAT)


def access_event_vrl(table: str) -> str:
    return ACCESS_EVENT_VRL.replace("TABLE", f'"{table}"')


def metrics_vrl(table: str) -> str:
    """VRL for a status-page metric after metric_to_log.

    The host is the node's (:data:`~dendro.services.base.ENDPOINT_NODE_VRL`). Names get their
    namespace prefix (``connections_active`` → ``nginx_connections_active``).
    """
    return rf"""
tags = object(.tags) ?? {{}}
endpoint = string(tags.endpoint) ?? ""
{ENDPOINT_NODE_VRL}
name = string!(.name)
namespace = string(.namespace) ?? ""
if namespace != "" && !starts_with(name, namespace + "_") {{ name = namespace + "_" + name }}
kind = "gauge"
value = .gauge.value
if value == null {{
  kind = "counter"
  value = .counter.value
}}
ts = timestamp(.timestamp) ?? parse_timestamp!(string!(.timestamp), "%+")
. = {{
  "type": "{table}",
  "host": node,
  "timestamp": format_timestamp!(ts, "{TIMESTAMP_FORMAT}", timezone: "UTC"),
  "name": name,
  "kind": kind,
  "endpoint": endpoint,
  "state": string(tags.state) ?? string(tags.type) ?? null,
  "value": float(value) ?? to_float(int!(value))
}}
"""


def metric_sample(namespace: str, name: str, kind: str, value: float, state: str = "", **tags: str) -> Sample:
    """A metric as metric_to_log emits it, and the row it becomes (remote endpoint web-1)."""
    endpoint = tags.pop("endpoint", "http://web-1/status")
    all_tags = {"endpoint": endpoint, "host": "web-1", **tags}
    if state:
        all_tags["state"] = state
    metric: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "tags": all_tags,
        "kind": "absolute",
        kind: {"value": value},
        "timestamp": "2026-11-26T12:00:15.5Z",
    }
    return Sample(
        input=metric,
        expected={
            "type": f"{namespace}_metrics",
            "host": "web-1",
            "timestamp": "2026-11-26T12:00:15.500000Z",
            "name": f"{namespace}_{name}",
            "kind": kind,
            "endpoint": endpoint,
            "state": state or all_tags.get("type"),
            "value": float(value),
        },
        note=f"{kind} {name}",
    )


def status_metric(namespace: str, name: str, kind: str, value: float, now: datetime, host: str,
                  path: str = "/status", **tags: str) -> dict[str, Any]:
    """A status-page metric of ``host`` as metric_to_log emits it (for the demo)."""
    return {
        "name": name,
        "namespace": namespace,
        "tags": {"endpoint": f"http://{host}{path}", "host": host, **tags},
        "kind": "absolute",
        kind: {"value": value},
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def metrics_parser(parser_id: str, table: str, samples: tuple[Sample, ...]) -> Parser:
    return Parser(id=parser_id, vrl=metrics_vrl(table), samples=samples, metrics=True)


ACCESS_FIELDS = ("method", "path", "protocol", "status", "bytes", "duration", "client_ip", "user_agent",
                 "referer", "vhost", "message")


def access_expected(table: str, timestamp: str, **fields: Any) -> dict[str, Any]:
    """The event an access sample must become; fields not given are null."""
    unknown = set(fields) - set(ACCESS_FIELDS)
    if unknown:
        raise TypeError(f"not an access field: {sorted(unknown)}")
    event: dict[str, Any] = {"type": table, "host": "web-1", "timestamp": timestamp}
    event.update({name: fields.get(name) for name in ACCESS_FIELDS})
    return event


def error_expected(table: str, timestamp: str, level: str, message: str, pid: int | None = None,
                   client_ip: str | None = None) -> dict[str, Any]:
    return {"type": table, "host": "web-1", "timestamp": timestamp, "level": level, "pid": pid,
            "client_ip": client_ip, "message": message}


def five_hundreds_example(access: str, title: str) -> Example:
    """The query page's example listing an access table's 5xx answers."""
    return Example(
        f"{title} 500s of the last 2 hours",
        "SELECT time, host, method, path, status, duration\n"
        f'FROM {{db}}."{access}"\nWHERE time > ago(2h) AND status >= 500\n'
        "ORDER BY time DESC",
        (access,),
    )


def slowest_paths_example(access: str) -> Example:
    """The query page's example ranking an access table's paths by their p95 duration."""
    return Example(
        f"Slowest paths ({access}, last hour)",
        "SELECT path, count(*) AS requests,\n"
        "       approx_percentile(duration, 0.95) AS p95_seconds\n"
        f'FROM {{db}}."{access}"\nWHERE time > ago(1h) AND duration IS NOT NULL\n'
        "GROUP BY path\nORDER BY p95_seconds DESC\nLIMIT 20",
        (access,),
    )


def requests_per_minute_example(access: str) -> Example:
    """The query page's example counting an access table's requests per minute."""
    return Example(
        f"Requests per minute ({access}, last hour)",
        f'SELECT bin(time, 1m) AS minute, count(*) AS requests\nFROM {{db}}."{access}"\n'
        "WHERE time > ago(1h)\nGROUP BY 1\nORDER BY 1",
        (access,),
    )


# -- demo traffic: what a small shop's web servers answer --------------------------------------

DEMO_PATHS = ("/", "/api/orders", "/api/cart", "/api/pay", "/login", "/static/app.js", "/healthz")
#: how much slower than the median request each path answers
DEMO_PATH_COST = {"/": 1.0, "/api/orders": 2.5, "/api/cart": 1.5, "/api/pay": 6.0, "/login": 3.0,
                  "/static/app.js": 0.2, "/healthz": 0.1}
DEMO_AGENTS = ("Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", "curl/8.5.0",
               "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15")
#: the share of requests a broken release fails on its node (the application answers 500, or the
#: proxy 502/503 while it restarts)
DEPLOY_ERRORS = 0.25
#: error-log records a second on a node: a warning now and then; during a broken deploy, one
#: record for about every tenth request
ERROR_LOG_RATE = 0.003


def demo_status(rng: random.Random, scene: Scene) -> int:
    """Mostly 200; 5xx for the node's share of failures (a quarter during a broken deploy); a few
    404/401/302/304."""
    failing = scene.errors + (DEPLOY_ERRORS if scene.during(DEPLOY) else 0.0)
    roll = rng.random()
    if roll < failing:
        return rng.choice((500, 502, 502, 503)) if scene.during(DEPLOY) else rng.choice((500, 502, 503, 504))
    if roll < failing + 0.05:
        return rng.choice((404, 404, 404, 401, 302, 304))
    return 200


def demo_duration(rng: random.Random, scene: Scene, path: str, status: int) -> float:
    """Seconds: a median about 25 ms times the path's cost and the node's latency, a little slower
    when the node is busy; a failing request of a broken deploy fails fast."""
    if status >= 500 and scene.during(DEPLOY):
        return rng.uniform(0.001, 0.02)
    busy = 0.8 + 0.2 * scene.load
    return rng.lognormvariate(-3.7, 0.6) * DEMO_PATH_COST.get(path, 1.0) * scene.latency * busy


def demo_request(rng: random.Random) -> tuple[str, str, str]:
    """(client address, method, path) of a demo request."""
    path = rng.choices(DEMO_PATHS, weights=(20, 25, 15, 4, 6, 25, 5))[0]
    method = "POST" if path in ("/api/pay", "/login") else "GET"
    return f"10.1.{rng.randint(0, 9)}.{rng.randint(1, 254)}", method, path


def demo_combined(rng: random.Random, now: datetime, scene: Scene) -> tuple[str, float]:
    """The combined-format start of a demo access line (through the user agent) and its duration."""
    ip, method, path = demo_request(rng)
    stamp = now.strftime("%d/%b/%Y:%H:%M:%S +0000")
    agent = rng.choice(DEMO_AGENTS)
    status = demo_status(rng, scene)
    size = 0 if status == 304 else rng.randint(200, 40_000)
    line = f'{ip} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} "-" "{agent}"'
    return line, demo_duration(rng, scene, path, status)


def error_log_rate(scene: Scene) -> float:
    """Error-log records a second on a node: rare warnings, a burst during a broken deploy."""
    burst = 0.3 * scene.load if scene.during(DEPLOY) else 0.0
    return ERROR_LOG_RATE * scene.load + burst
