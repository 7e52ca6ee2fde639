"""What the Grafana tests share: the dashboards built for every service, their targets, known data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

from dendro.grafana.build import dashboard_files, dashboards, load
from dendro.grafana.selection import all_services
from dendro.grafana.timestream import TimestreamTarget
from dendro.services import catalog


@cache
def boards() -> dict[str, dict[str, Any]]:
    """Dashboard name → JSON, every built-in service on."""
    return dashboards(all_services())


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def timestream_targets() -> list[tuple[str, str, TimestreamTarget]]:
    """(dashboard, panel title, target) for every Timestream target, as built (not JSON)."""
    result = []
    for name, path in dashboard_files().items():
        board = load(path, all_services())
        if board is None:  # nothing to show for the built-in services (no service keeps metrics)
            continue
        for panel in board._iter_panels():
            for target in getattr(panel, "targets", []):
                if isinstance(target, TimestreamTarget):
                    result.append((name, panel.title, target))
    return result


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def access(table: str, at: datetime, host: str, status: int, path: str,
           duration: float | None) -> dict[str, Any]:
    return {"type": table, "host": host, "timestamp": stamp(at), "method": "GET", "path": path,
            "protocol": "HTTP/1.1", "status": status, "bytes": 100, "duration": duration,
            "client_ip": "192.0.2.1", "user_agent": "curl/8.5.0", "referer": None,
            "message": f'GET {path} {status}' if status >= 500 else None}


def known_events(at: datetime) -> list[dict[str, Any]]:
    """Events of every kind the dashboards read, all at ``at`` (give or take a second)."""
    events: list[dict[str, Any]] = []
    for table in ("nginx_access", "apache_access"):
        events += [access(table, at, "web-1", 200, "/", 0.012)] * 5
        events += [access(table, at, "web-1", 404, "/missing", 0.002)] * 2
        events += [access(table, at, "web-2", 502, "/api/pay", 1.5)] * 3
    db = {"host": "db-1", "timestamp": stamp(at)}
    events += [
        {"type": "postgres", **db, "level": "ERROR", "database": "app", "user": "app", "pid": 7,
         "duration": None, "statement": None, "message": 'relation "x" does not exist'},
        {"type": "postgres", **db, "level": "LOG", "database": "app", "user": "app", "pid": 7,
         "duration": 2.5, "statement": "SELECT pg_sleep(2.5)", "message": "duration: 2500 ms"},
        {"type": "mysql_error", **db, "level": "Error", "code": "MY-010119", "subsystem": "Server",
         "thread": 0, "message": "Aborting"},
        {"type": "mysql_slow", **db, "level": "slow", "database": "shop", "user": "shop",
         "client_ip": "10.0.0.1", "duration": 3.2, "lock_time": 0.0, "rows_sent": 1, "rows_examined": 1000,
         "statement": "SELECT SLEEP(3.2)", "message": "SELECT SLEEP(3.2)"},
        {"type": "parse_error", "host": "web-1", "timestamp": stamp(at), "source": "nginx_access_logs",
         "error": "function call error", "message": "garbage line"},
        {"type": "agent", "host": "web-1", "timestamp": stamp(at), "version": "0.41.0", "uptime": 10.0},
    ]
    return events


def sample_events(at: datetime) -> list[dict[str, Any]]:
    """The event of every sample of the catalog's parsers, at ``at`` on web-1: data of every
    table of every built-in service, whatever services the catalog holds."""
    events = []
    for service in catalog().values():
        for parser in service.parsers:
            for sample in parser.samples:
                if sample.expected is not None:
                    events.append({**sample.expected, "timestamp": stamp(at), "host": "web-1"})
    return events


def demo_events(at: datetime) -> list[dict[str, Any]]:
    """A minute of every catalog service's demo traffic up to ``at``, its incidents under way on every
    node (a broken deploy, a storm of slow statements, a full disk): every table, every kept metric
    and errors of every built-in service."""
    import random
    from datetime import timedelta

    from dendro.ingest.demo import DB_HOSTS, WEB_HOSTS, Incident, Story, span_events
    from dendro.services.scene import DEPLOY, DISK_FILLING, SLOW_QUERIES

    incidents = (*(Incident(DEPLOY, host, -300, 600) for host in WEB_HOSTS),
                 *(Incident(SLOW_QUERIES, host, -300, 600) for host in DB_HOSTS),
                 *(Incident(DISK_FILLING, host, -5900, 6000) for host in (*WEB_HOSTS, *DB_HOSTS)))
    story = Story(at, incidents)
    start = at - timedelta(seconds=60)
    return span_events(list(catalog().values()), story, random.Random(5), start, at, 15, 1.0)


def refused_events(at: datetime) -> list[dict[str, Any]]:
    """Events the store refuses (into its rejected table): a type no table has, a status that is
    no number."""
    return [{"type": "nginx_acess", "host": "web-1", "timestamp": stamp(at), "status": 200},
            {**access("nginx_access", at, "web-1", 200, "/", 0.01), "status": "two hundred"}]


def host_metrics(at: datetime, step: int) -> list[dict[str, Any]]:
    """A host_metrics sample of web-1; ``step`` moves the counters and fills the disk."""
    def metric(name: str, value: float, **tags: str) -> dict[str, Any]:
        kind = "counter" if name.endswith("_total") else "gauge"
        return {"type": "host", "host": "web-1", "timestamp": stamp(at), "name": name, "kind": kind,
                "value": value, **tags}

    return [
        metric("cpu_seconds_total", 100.0 + 10 * step, cpu="0", mode="idle"),
        metric("cpu_seconds_total", 50.0 + 5 * step, cpu="0", mode="user"),
        metric("memory_total_bytes", 8e9), metric("memory_available_bytes", 6e9 - step * 1e8),
        metric("filesystem_total_bytes", 1e11, mountpoint="/", device="sda1"),
        metric("filesystem_used_bytes", 5e10 + step * 1e9, mountpoint="/", device="sda1"),
        metric("filesystem_free_bytes", 5e10 - step * 1e9, mountpoint="/", device="sda1"),
        metric("load1", 0.5 + step), metric("load5", 0.4), metric("load15", 0.3),
        metric("network_receive_bytes_total", 1e6 * (step + 1), device="eth0"),
        metric("network_transmit_bytes_total", 2e6 * (step + 1), device="eth0"),
    ]
