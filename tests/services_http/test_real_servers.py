"""Real nginx and apache2 serve known requests; their real log lines go through the catalog parsers.

The access lines must give exactly the methods, paths and statuses requested, durations
within tolerance (the slow location waits at least slow_backend.DELAY seconds), and every
error-log record the servers wrote must parse.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dendro.services import apache, nginx
from dendro.services.base import Service
from dendro.store.schema import parse_time, to_row
from tests.servers.apache import ApacheServer
from tests.servers.nginx import NginxServer
from tests.servers.slow_backend import DELAY
from tests.services_http.helpers import (
    call,
    lines_of,
    parse_all,
    records,
    source_of,
    wait_for_lines,
    wait_for_text,
)

pytestmark = pytest.mark.real

NGINX_REQUESTS = [
    ("GET", "/ok", 200),
    ("POST", "/ok", 200),
    ("GET", "/missing", 404),
    ("GET", "/boom", 500),
    ("GET", "/slow", 200),
    ("GET", "/nginx_status", 200),
]
APACHE_REQUESTS = [
    ("GET", "/ok", 200),
    ("HEAD", "/ok", 200),
    ("GET", "/missing", 404),
    ("GET", "/boom", 500),
    ("GET", "/slow", 200),
    ("GET", "/server-status?auto", 200),
]


def _serve_and_parse(
    service: Service, server: NginxServer | ApacheServer, requests: list[tuple[str, str, int]]
) -> tuple[list[str], list[dict[str, Any]]]:
    before = len(lines_of(server.access_log)) if server.access_log.exists() else 0
    for method, path, status in requests:
        answered, _ = call(server.url + path, method)
        assert answered == status, f"{method} {path}"
    lines = wait_for_lines(server.access_log, before + len(requests))[before:]
    assert len(lines) == len(requests)
    return lines, parse_all(service, f"{service.name}_access", lines)


def _check_access(
    service: Service, lines: list[str], events: list[dict[str, Any]], requests: list[tuple[str, str, int]]
) -> None:
    assert [(e["type"], e["method"], e["path"], e["status"]) for e in events] == [
        (f"{service.name}_access", method, path, status) for method, path, status in requests
    ]
    now = datetime.now(UTC)
    table = service.table(f"{service.name}_access")
    for line, event, (_, path, status) in zip(lines, events, requests, strict=True):
        assert event["client_ip"] == "127.0.0.1" and event["protocol"] == "HTTP/1.1"
        assert abs(parse_time(event["timestamp"]) - now) < timedelta(minutes=1)
        assert isinstance(event["duration"], float)
        if path == "/slow":
            assert DELAY <= event["duration"] < DELAY + 2.0
        else:
            assert 0.0 <= event["duration"] < DELAY
        assert event["message"] == (line if status >= 500 else None)
        assert to_row(table, event)["status"] == status


def _check_error_log(service: Service, path_text: str, lines: list[str]) -> list[dict[str, Any]]:
    parser_id = f"{service.name}_error"
    messages = records(source_of(service, parser_id), lines)
    events = parse_all(service, parser_id, messages)
    failed = [(m, e["error"]) for m, e in zip(messages, events, strict=True) if e["type"] == "parse_error"]
    assert not failed
    table = service.table(parser_id)
    for event in events:
        to_row(table, event)
    missing = [e for e in events if path_text in e["message"]]
    assert missing, "the 404 left no error-log record"
    assert all(e["client_ip"] == "127.0.0.1" for e in missing)
    return events


def test_nginx_access_log(nginx_server: NginxServer) -> None:
    lines, events = _serve_and_parse(nginx.SERVICE, nginx_server, NGINX_REQUESTS)
    _check_access(nginx.SERVICE, lines, events, NGINX_REQUESTS)
    assert events[1]["bytes"] == 3  # "ok\n"


def test_nginx_error_log(nginx_server: NginxServer) -> None:
    status, _ = call(nginx_server.url + "/no-such-file-for-the-error-log")
    assert status == 404
    lines = wait_for_text(nginx_server.error_log, "no-such-file-for-the-error-log")
    events = _check_error_log(nginx.SERVICE, "no-such-file-for-the-error-log", lines)
    assert {e["level"] for e in events} >= {"notice", "error"}
    assert all(isinstance(e["pid"], int) for e in events)


def test_apache_access_log(apache_server: ApacheServer) -> None:
    lines, events = _serve_and_parse(apache.SERVICE, apache_server, APACHE_REQUESTS)
    _check_access(apache.SERVICE, lines, events, APACHE_REQUESTS)
    assert events[0]["bytes"] == 3 and events[1]["bytes"] == 0  # HEAD: headers only


def test_apache_error_log(apache_server: ApacheServer) -> None:
    status, _ = call(apache_server.url + "/no-such-file-for-the-error-log")
    assert status == 404
    lines = wait_for_text(apache_server.error_log, "no-such-file-for-the-error-log")
    events = _check_error_log(apache.SERVICE, "no-such-file-for-the-error-log", lines)
    assert "notice" in {e["level"] for e in events}


#: request lines a client may send in any case: nginx refuses a method that is not upper case (400,
#: "client sent invalid method") and apache one it does not implement (501), but both log the line as
#: received, and the method, target and protocol written there are what a person searches for
ODD_CASE = ("get /lower HTTP/1.1", "Get /mixed-case HTTP/1.1", "GET /lower-protocol http/1.1")


def _raw_requests(port: int, request_lines: tuple[str, ...]) -> None:
    """Send each request line as written (urllib would upper-case nothing, but it would add its own)."""
    for line in request_lines:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(f"{line}\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
            while sock.recv(4096):
                pass


def _odd_case_events(service: Service, server: NginxServer | ApacheServer) -> list[dict[str, Any]]:
    before = len(lines_of(server.access_log)) if server.access_log.exists() else 0
    _raw_requests(server.port, ODD_CASE)
    lines = wait_for_lines(server.access_log, before + len(ODD_CASE))[before:]
    assert len(lines) == len(ODD_CASE)
    return parse_all(service, f"{service.name}_access", lines)


def test_nginx_keeps_the_request_line_of_any_case(nginx_server: NginxServer) -> None:
    events = _odd_case_events(nginx.SERVICE, nginx_server)
    assert [(e["method"], e["path"], e["protocol"], e["status"]) for e in events] == [
        ("get", "/lower", "HTTP/1.1", 400),
        ("Get", "/mixed-case", "HTTP/1.1", 400),
        ("GET", "/lower-protocol", "http/1.1", 400),
    ]


def test_apache_keeps_the_request_line_of_any_case(apache_server: ApacheServer) -> None:
    events = _odd_case_events(apache.SERVICE, apache_server)
    got = [(e["method"], e["path"], e["protocol"]) for e in events]
    assert got == [("get", "/lower", "HTTP/1.1"), ("Get", "/mixed-case", "HTTP/1.1"),
                   ("GET", "/lower-protocol", "http/1.1")]
    assert all(isinstance(e["status"], int) and e["status"] >= 400 for e in events)
