"""Known data for the console's tests: events relative to ``now``, and what the pages must show.

Events sit well inside their windows (2 minutes ago for "last 5 minutes", 30 minutes ago for
"last hour"), so a slow test run cannot move one across a boundary. Expected numbers are
computed from the same list the store receives.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

HOSTILE_PATH = "/search?q=<script>alert('x')</script>"
HOSTILE_AGENT = "Mozilla/5.0 \"quoted\" 'single' <b>bold</b>"
FORMULAS = ('=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)")
DISK_TOTAL = 100 * 1024**3
DISK_GROWTH_PER_MIN = 16 * 1024**2  # bytes a minute: 60 GiB left fill in 64 hours


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _access(
    host: str,
    at: datetime,
    status: int,
    duration: float,
    path: str = "/api/orders",
    agent: str = "curl/8.5.0",
    referer: str = "-",
) -> dict[str, Any]:
    return {
        "type": "nginx_access",
        "host": host,
        "timestamp": stamp(at),
        "method": "GET",
        "protocol": "HTTP/1.1",
        "status": status,
        "path": path,
        "bytes": 512,
        "duration": duration,
        "client_ip": "10.0.0.1",
        "user_agent": agent,
        "referer": referer,
        "message": f'10.0.0.1 - - "GET {path} HTTP/1.1" {status} 512' if status >= 500 else None,
    }


def _metric(host: str, at: datetime, name: str, kind: str, value: float, **tags: str) -> dict[str, Any]:
    return {
        "type": "host",
        "host": host,
        "timestamp": stamp(at),
        "name": name,
        "kind": kind,
        "value": value,
        **tags,
    }


def events(now: datetime) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    recent = now - timedelta(minutes=2)
    half_hour = now - timedelta(minutes=30)
    # a steady request a minute on web-3 over the last hour: charts get a history to fit
    for minute in range(1, 61):
        result.append(
            _access("web-3", now - timedelta(minutes=minute, seconds=30), 200, 0.05 + 0.001 * (minute % 7))
        )
    for i, status in enumerate((200, 200, 200, 404, 500, 503)):
        result.append(_access("web-1", recent + timedelta(seconds=i), status, 0.1 * (i + 1)))
    for i in range(10):
        result.append(_access("web-1", half_hour + timedelta(seconds=i), 200, 0.02))
    result.append(_access("web-1", half_hour, 200, 0.03, path=HOSTILE_PATH, agent=HOSTILE_AGENT))
    for i, formula in enumerate(FORMULAS):
        result.append(
            _access("web-1", half_hour + timedelta(seconds=20 + i), 200, 0.04, agent=formula, referer=formula)
        )
    for i in range(4):
        result.append(_access("web-1", now - timedelta(hours=3, seconds=i), 200, 0.05))
    for i in range(3):
        result.append(_access("web-2", recent + timedelta(seconds=i), 200, 0.07))
    for i in range(2):  # a host that went silent two hours ago
        result.append(_access("web-old", now - timedelta(hours=2, seconds=i), 200, 0.05))
    pg_time = now - timedelta(minutes=3)
    for level, database, count in (("ERROR", "shop", 3), ("FATAL", "auth", 1), ("LOG", "shop", 5)):
        for i in range(count):
            result.append(
                {
                    "type": "postgres",
                    "host": "db-1",
                    "timestamp": stamp(pg_time + timedelta(seconds=i)),
                    "level": level,
                    "database": database,
                    "user": "app",
                    "duration": None,
                    "message": f"{level.lower()} number {i}",
                }
            )
    for minute in range(60, 0, -1):  # host metrics of web-1, a sample a minute for the last hour
        at = now - timedelta(minutes=minute) + timedelta(seconds=30)
        used = 40 * 1024**3 + (60 - minute) * DISK_GROWTH_PER_MIN
        tags = {"collector": "filesystem", "device": "sda1", "mountpoint": "/", "filesystem": "ext4"}
        result += [
            _metric("web-1", at, "filesystem_used_bytes", "gauge", float(used), **tags),
            _metric("web-1", at, "filesystem_total_bytes", "gauge", float(DISK_TOTAL), **tags),
            _metric("web-1", at, "memory_used_bytes", "gauge", 2.0 * 1024**3, collector="memory"),
            _metric("web-1", at, "memory_total_bytes", "gauge", 8.0 * 1024**3, collector="memory"),
            _metric("web-1", at, "load1", "gauge", 0.5 + (minute % 3) * 0.1, collector="load"),
            _metric(
                "web-1",
                at,
                "cpu_seconds_total",
                "counter",
                1000.0 + (60 - minute) * 45.0,
                collector="cpu",
                cpu="0",
                mode="idle",
            ),
            _metric(
                "web-1",
                at,
                "cpu_seconds_total",
                "counter",
                500.0 + (60 - minute) * 15.0,
                collector="cpu",
                cpu="0",
                mode="user",
            ),
        ]
    result.append(
        {
            "type": "agent",
            "host": "web-1",
            "timestamp": stamp(now - timedelta(minutes=1)),
            "version": "0.42.0",
            "uptime": 3600.0,
        }
    )
    result.append(
        {
            "type": "agent",
            "host": "web-old",
            "timestamp": stamp(now - timedelta(hours=2)),
            "version": "0.41.1",
            "uptime": 99.0,
        }
    )
    for i in range(2):
        result.append(
            {
                "type": "parse_error",
                "host": "web-1",
                "timestamp": stamp(now - timedelta(minutes=20 + i)),
                "source": "nginx_access_log",
                "error": "no match",
                "message": f"garbage <line> {i}",
            }
        )
    result.append({"type": "no_such_table", "host": "web-1", "timestamp": stamp(now), "value": 1})
    return result


def count(items: list[dict[str, Any]], now: datetime, table: str, within: timedelta, **match: Any) -> int:
    since = now - within
    return sum(
        1
        for e in items
        if e.get("type") == table
        and datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) >= since
        and all(e.get(k) == v for k, v in match.items())
    )
