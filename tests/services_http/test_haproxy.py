"""A real HAProxy (Debian's 2.6) serves known requests; the lines it wrote go through the catalog parser.

HAProxy logs each line twice (tests/servers/haproxy.py): raw on its standard output and as RFC 3164
datagrams. The access events must carry exactly the requests sent (method, path, status,
frontend/backend/server, termination state), the timers HAProxy measured, and the same fields from
both copies; HAProxy's own messages (the DOWN server, the backend without a server) must become
haproxy_error rows at the level HAProxy sends them. The exporter's output, shaped as Vector's
prometheus_scrape emits it, must hold every family the parser keeps.
"""

from __future__ import annotations

import re
import socket
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dendro.services import haproxy, runner
from dendro.store.schema import parse_time, to_row
from tests.servers.haproxy import HaproxyServer, haproxy_server
from tests.servers.slow_backend import DELAY
from tests.services_http.helpers import call, lines_of, wait_for_lines, wait_for_text

pytestmark = pytest.mark.real

__all__ = ["haproxy_server"]  # the session fixture, used by name

SERVICE = haproxy.SERVICE
PARSER = SERVICE.parser("haproxy_log")
TABLES = {t.name: t for t in SERVICE.tables}

# (method, path, status, backend, server, termination state)
Request = tuple[str, str, int, str, str, str]
REQUESTS: list[Request] = [
    ("GET", "/ok", 200, "app", "nginx1", "----"),
    ("POST", "/ok", 200, "app", "nginx1", "----"),
    ("HEAD", "/ok", 200, "app", "nginx1", "----"),
    ("GET", "/missing", 404, "app", "nginx1", "----"),
    ("GET", "/boom", 500, "app", "nginx1", "----"),
    ("GET", "/slow", 200, "app", "nginx1", "----"),
    ("GET", "/down/x", 503, "down", "<NOSRV>", "SC--"),
    ("GET", "/empty", 503, "empty", "<NOSRV>", "SC--"),
]


def _parse(lines: list[str]) -> list[dict[str, Any]]:
    events = [runner.run(PARSER, {"message": line, "host": "lb-1"}, source="haproxy_logs") for line in lines]
    for event in events:
        assert event["type"] in TABLES, event
        to_row(TABLES[event["type"]], event)
    return events


def _access(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "haproxy_access"]


def _recent(event: dict[str, Any]) -> bool:
    return abs(parse_time(event["timestamp"]) - datetime.now(UTC)) < timedelta(minutes=1)


def _serve(server: HaproxyServer, requests: list[Request]) -> tuple[list[str], list[str]]:
    """The new raw and syslog lines after sending ``requests`` (each copy ends with the last one)."""
    raw_before, syslog_before = len(lines_of(server.raw_log)), len(lines_of(server.syslog_log))
    for method, path, status, *_ in requests:
        answered, _ = call(server.url + path, method)
        assert answered == status, f"{method} {path}"
    last = f'"{requests[-1][0]} {requests[-1][1]} HTTP/1.1"'
    raw = wait_for_lines(server.raw_log, raw_before + len(requests))[raw_before:]
    wait_for_text(server.syslog_log, last)
    syslog = wait_for_lines(server.syslog_log, syslog_before + len(requests))[syslog_before:]
    return raw, syslog


def test_requests_parse_to_exactly_what_was_sent(haproxy_server: HaproxyServer) -> None:
    raw, _ = _serve(haproxy_server, REQUESTS)
    events = _access(_parse(raw))
    assert [(e["method"], e["path"], e["status"], e["backend"], e["server"], e["termination_state"])
            for e in events] == REQUESTS
    for line, event, (_, path, status, _, server, _) in zip(raw, events, REQUESTS, strict=True):
        assert (event["frontend"], event["client_ip"], event["protocol"], event["retries"]) == (
            "web", "127.0.0.1", "HTTP/1.1", 0)
        assert _recent(event) and event["host"] == "lb-1"
        assert event["bytes"] > 0  # %B counts the headers too
        assert event["message"] == (line if status >= 500 else None)
        assert isinstance(event["duration"], float)
        if server == "<NOSRV>":  # never queued nor connected: Tw/Tc/Tr logged -1
            assert (event["queue_time"], event["connect_time"], event["server_time"]) == (None, None, None)
            continue
        assert event["queue_time"] == 0.0 and 0.0 <= event["connect_time"] < DELAY
        if path == "/slow":
            assert DELAY <= event["server_time"] <= event["duration"] < DELAY + 2.0
        else:
            assert 0.0 <= event["server_time"] <= event["duration"] < DELAY


def test_the_syslog_copy_gives_the_same_events(haproxy_server: HaproxyServer) -> None:
    raw, syslog = _serve(haproxy_server, REQUESTS[:5])
    header = re.compile(r"<134>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} \S+ haproxy\[[0-9]+\]: ")
    assert all(header.match(line) for line in syslog)  # local0.info, RFC 3164
    from_raw, from_syslog = _access(_parse(raw)), _access(_parse(syslog))
    assert len(from_raw) == len(from_syslog) == 5
    for a, b, line in zip(from_raw, from_syslog, syslog, strict=True):
        assert {**a, "message": None} == {**b, "message": None}
        assert b["message"] == (line if b["status"] >= 500 else None)


def test_haproxys_own_messages_become_error_rows(haproxy_server: HaproxyServer) -> None:
    # HAProxy 2.6.12 logs these at start, when the health check of down/gone fails (src/server.c:
    # LOG_ALERT for "is DOWN", src/backend.c: LOG_EMERG for "has no server available!")
    down = ("down", "gone", "alert")
    empty = ("down", None, "emerg")
    for path, pid in ((haproxy_server.raw_log, None), (haproxy_server.syslog_log, haproxy_server.pid)):
        lines = [line for line in lines_of(path) if "Server down/gone is DOWN" in line
                 or "backend down has no server available!" in line]
        events = _parse(lines[:2])
        assert [(e["type"], e["proxy"], e["server"], e["level"]) for e in events] == [
            ("haproxy_error", *down), ("haproxy_error", *empty)], path.name
        assert all(e["pid"] == pid and _recent(e) for e in events)
        assert events[1]["message"] == "backend down has no server available!"


def test_an_aborted_request_keeps_its_row(haproxy_server: HaproxyServer) -> None:
    before = len(lines_of(haproxy_server.raw_log))
    with socket.create_connection(("127.0.0.1", haproxy_server.port)) as sock:
        sock.sendall(b"GET /never-finished HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.2)
    lines = wait_for_lines(haproxy_server.raw_log, before + 1)[before:]
    (event,) = [e for e in _access(_parse(lines)) if e["termination_state"] == "CR--"]
    # HAProxy 2.6 answers 400 and logs the request as "<BADREQ>" with TR/Tw/Tc/Tr at -1
    assert (event["status"], event["method"], event["path"], event["server"]) == (400, None, None, "<NOSRV>")
    assert (event["queue_time"], event["connect_time"], event["server_time"]) == (None, None, None)
    assert 0.1 <= event["duration"] < 5.0


def test_a_request_line_cut_at_the_log_length_still_parses(haproxy_server: HaproxyServer) -> None:
    path = "/long-" + "a" * 2000
    raw, syslog = _serve(haproxy_server, [("GET", path, 404, "app", "nginx1", "----")])
    (cut,), (whole,) = _access(_parse(raw)), _access(_parse(syslog))
    assert len(raw[0]) == 1023  # the default log length, 1024 bytes with the newline
    assert (cut["method"], cut["status"], cut["protocol"]) == ("GET", 404, None)
    assert path.startswith(cut["path"]) and len(cut["path"]) > 800
    assert (whole["path"], whole["protocol"]) == (path, "HTTP/1.1")  # the syslog target has len 8192


def _scrape(url: str) -> list[dict[str, Any]]:
    """The exporter's samples as Vector's prometheus_scrape + metric_to_log give them.

    vectordotdev/vector src/sources/prometheus/parser.rs (v0.57.0) ``reparse_groups``: a counter
    family gives ``Metric::new(name, Absolute, Counter {value})``, gauge and untyped families a gauge,
    with the labels as tags and no namespace; src/sources/prometheus/scrape.rs adds the ``endpoint``
    tag when ``endpoint_tag`` is set.
    """
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    kinds: dict[str, str] = {}
    events = []
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            kinds[name] = "counter" if kind == "counter" else "gauge"
        elif line and not line.startswith("#"):
            match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
            assert match, line
            name, labels, value = match.groups()
            tags = dict(re.findall(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"', labels or ""))
            events.append({"name": name, "tags": {**tags, "endpoint": url}, "kind": "absolute",
                           kinds[name]: {"value": float(value)}, "timestamp": stamp})
    return events


def test_the_exporter_has_every_kept_family(haproxy_server: HaproxyServer) -> None:
    assert call(haproxy_server.url + "/boom")[0] == 500
    scraped = _scrape(haproxy_server.metrics_url)
    parser = SERVICE.parser("haproxy_metrics")
    events = [e for metric in scraped for e in runner.run_events(parser, metric, source="haproxy_metrics")]
    assert {e["name"] for e in events} == set(haproxy.KEPT_METRICS)  # all present in HAProxy 2.6
    assert len(events) < len(scraped) / 3  # the rest is dropped on purpose
    for event in events:
        to_row(haproxy.METRICS_TABLE, event)
        assert event["host"] == socket.gethostname() and event["endpoint"] == haproxy_server.metrics_url
    values = {(e["name"], e["proxy"], e["server"], e["state"]): e["value"] for e in events}
    assert values[("haproxy_server_status", "app", "nginx1", "UP")] == 1.0
    assert values[("haproxy_server_status", "down", "gone", "DOWN")] == 1.0
    assert values[("haproxy_backend_active_servers", "down", None, None)] == 0.0
    assert values[("haproxy_backend_http_responses_total", "app", None, "5xx")] >= 1.0
    assert values[("haproxy_frontend_http_responses_total", "web", None, "5xx")] >= 1.0
